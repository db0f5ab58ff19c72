"""Genre Lab: the Streamlit app.

Run with ``streamlit run app.py``.  This script sets up the navigation and the
sidebar shared by every page (the current clip); the pages live in
``app_pages/``.  The folder is deliberately not called ``pages/``: Streamlit
treats a ``pages/`` folder beside the entry point as a classic multipage app
until ``st.navigation`` first runs, and AppTest re-checks it on every run, so
reruns would execute a page without this script and lose the shared sidebar.
"""

from __future__ import annotations

import streamlit as st

from genre_core.live import preload_webrtc

# Must precede anything that imports TensorFlow (see preload_webrtc).
preload_webrtc()

st.set_page_config(page_title="Genre Lab", page_icon=":material/graphic_eq:", layout="wide")

from app_pages._shared import clip_sidebar, error_banner  # noqa: E402  (after set_page_config)

PAGES = [
    st.Page("app_pages/classify.py", title="Classify", icon=":material/graphic_eq:", default=True),
    st.Page("app_pages/spectrogram_lab.py", title="Spectrogram lab", icon=":material/science:"),
    st.Page("app_pages/inside_cnn.py", title="Inside the CNN", icon=":material/neurology:"),
    st.Page("app_pages/compare_models.py", title="Compare models", icon=":material/leaderboard:"),
    st.Page("app_pages/live.py", title="Live", icon=":material/mic:"),
]

navigation = st.navigation(PAGES)
clip_sidebar()
error_banner()
navigation.run()
