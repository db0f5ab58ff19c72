"""Genre Lab: the Streamlit app.

Run with ``streamlit run app.py``.  This entry point sets up the navigation
and the sidebar shared by every page (the current clip); the pages live in
``pages/`` and only lay out widgets around calls into ``genre_core``.
"""

from __future__ import annotations

from genre_core.live import preload_webrtc

# Must precede anything that imports TensorFlow (see preload_webrtc).
preload_webrtc()

from pages._shared import run_app  # noqa: E402  (after preload_webrtc)

run_app()
