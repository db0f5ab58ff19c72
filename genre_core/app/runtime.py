"""Streamlit's housekeeping between script runs, fitted to an app whose models live as long as
the server process.

After every script run (every click, page switch or slider step) Streamlit 1.67
calls ``keras.backend.clear_session()`` whenever Keras is imported, a guard from
the TF1 era when a cached model broke once the session graph was reset.  In
Keras 3 that call runs a full garbage collection and clears TensorFlow's eager
kernel cache; on 2 cores it cost about 0.25 s of GIL time per run (measured with
py-spy on a page switch), and every prediction after it rebuilt its kernels.
The app's models are loaded once per process (``genre_core.registry``) and never
depend on Keras' global state, so :func:`keep_keras_state` leaves it alone.
The full collection Streamlit runs after each run is switched off in
``.streamlit/config.toml`` (``runner.postScriptGC = false``) for the same
reason: memory stays flat by design (see ``benchmarks/bench_memory.py``).
"""

from __future__ import annotations

import sys


def _clean_problem_modules_except_keras() -> None:
    """Streamlit's own clean-up without the Keras reset: close matplotlib's open figures."""
    if "matplotlib.pyplot" in sys.modules:
        try:
            sys.modules["matplotlib.pyplot"].close("all")
        except Exception:  # noqa: BLE001 (as Streamlit's: never fail a run over a clean-up)
            pass


def keep_keras_state() -> bool:
    """Stop Streamlit from resetting Keras after every script run (idempotent).

    Returns
    -------
    bool
        True when Streamlit's clean-up step is (now) the one without the Keras
        reset; False when this Streamlit has no such step (nothing to change).

    Examples
    --------
    >>> keep_keras_state()
    True
    >>> from streamlit.runtime.scriptrunner import script_runner
    >>> script_runner._clean_problem_modules is _clean_problem_modules_except_keras
    True
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _clean_problem_modules_except_keras
    return True


#: The server's BLAS thread limit, once set (threadpoolctl keeps it for the process).
_blas_limit: list = []


def one_blas_thread() -> None:
    """Limit BLAS (OpenBLAS under numpy and scipy) to one thread in the app's process (idempotent).

    The app already runs a clip's input groups, and HPSS's two median filters,
    in threads of their own; BLAS threads on top oversubscribe a 2-core machine
    and spin while they wait.  On a 5-minute song the analysis pass took 2.83 s
    (5.46 CPU-seconds) with BLAS's default threads and 2.43 s (4.57) with one
    (ad hoc, ``OPENBLAS_NUM_THREADS=1``).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> one_blas_thread()
    >>> sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
    [1]
    """
    if not _blas_limit:
        # threadpoolctl limits only the libraries already loaded: load numpy's and scipy's OpenBLAS first.
        import numpy  # noqa: F401
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_limits

        _blas_limit.append(threadpool_limits(limits=1, user_api="blas"))


#: Page CSS: stale elements (the previous run's output while a script runs) dim at once instead
#: of fading.  Streamlit animates the fade on every element container and expander; in a browser
#: drawing in software (no GPU, as on the 2-core test machine) those transitions kept repainting
#: the page's charts through a whole analysis: during a 5-minute song's upload they cost about
#: 0.4 CPU-seconds of Chromium's renderer and GPU process, which the server then lacked (ad hoc,
#: /proc CPU times, two uploads each way).
STALE_WITHOUT_FADE_CSS: str = """<style>
[data-testid="stElementContainer"], [data-testid="stExpander"] details, [data-testid="stExpander"] summary {
  transition: none !important;
}
</style>"""
