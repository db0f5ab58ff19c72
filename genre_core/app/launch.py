"""Start the app with its models warm: ``python -m genre_core.app.launch [streamlit options]``.

``make run`` uses this instead of a bare ``streamlit run app.py``.  It loads
and runs the default models once, and loads the others (:mod:`genre_core.app.warm`),
*before* the Streamlit server opens its port, then runs ``streamlit run app.py`` in the same
process, so the first upload after a start waits for no model loading.  Every
argument is passed to ``streamlit run`` unchanged (e.g. ``--server.port 8501``).
"""

from __future__ import annotations

import sys
import time

from genre_core.live import preload_webrtc


def main(argv: list[str] | None = None) -> None:
    """Warm the default models, then hand over to ``streamlit run app.py`` with ``argv``."""
    # Before anything imports TensorFlow (see preload_webrtc).
    preload_webrtc()
    from genre_core.app.runtime import one_blas_thread
    from genre_core.app.warm import start_warm_up
    from genre_core.config import PROJECT_ROOT
    from genre_core.registry import default_registry

    one_blas_thread()
    started = time.perf_counter()
    print("Genre lab: loading and warming the models before the server opens…", flush=True)
    warm_up = start_warm_up(default_registry())
    # The other models and pages too: loading them while a user waited for an upload slowed it by a second.
    warm_up.done.wait()
    print(f"Genre lab: models warm after {time.perf_counter() - started:.1f} s; starting Streamlit.", flush=True)

    from streamlit.web.cli import main as streamlit_main

    streamlit_main(args=["run", str(PROJECT_ROOT / "app.py"), *(sys.argv[1:] if argv is None else argv)],
                   prog_name="streamlit")


if __name__ == "__main__":
    main()
