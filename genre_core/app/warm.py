"""Warm the app's server process before (or while) the first user arrives.

The first prediction in a process pays for importing TensorFlow, loading the
Keras and skops files, tracing the models' graphs, librosa's JIT compilation
and plotly's first figure; on 2 cores that is several seconds.  Done once per
process, in a background thread, a user's first upload pays none of it.

:func:`start_warm_up` is idempotent: the launcher (:mod:`genre_core.app.launch`)
starts it before the Streamlit server opens its port, and the app calls it
again on its first page view (a no-op then, and the start when the app was
started with plain ``streamlit run app.py``).

Examples
--------
>>> from genre_core.registry import ModelRegistry
>>> empty = ModelRegistry(())  # nothing to load
>>> warm_up = start_warm_up(empty)
>>> warm_up.ready.wait(60), warm_up.done.wait(60)
(True, True)
>>> start_warm_up(empty) is warm_up  # once per registry
True
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class WarmUp:
    """One registry's warm-up.

    Attributes
    ----------
    registry : ModelRegistry
    ready : threading.Event
        Set once the default models are loaded and have run once.
    done : threading.Event
        Set once every other model is loaded too and the other pages' first-use costs are paid.
    seconds : float or None
        How long the default models took to become warm (None until they are, or if that failed).
    """

    registry: Any
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    seconds: float | None = None


_LOCK = threading.Lock()
#: Warm-ups started in this process, by ``id`` of their registry (which each one keeps alive).
_STARTED: dict[int, WarmUp] = {}
#: Noise the models are run on: as long as a typical upload (a GTZAN-length clip), so the first
#: real one meets no code path, array size or JIT specialisation the warm-up has not run.
NOISE_SECONDS = 30.0


def _warm_figures(names: list[str], labels: list[str]) -> None:
    """Build and serialise one of each Classify figure: plotly loads its validators lazily."""
    import plotly.io as pio

    from genre_core import plots

    probabilities = np.full((len(names), len(labels)), 1.0 / len(labels))
    figures = [
        plots.probability_matrix_figure(names, labels, probabilities),
        plots.probability_bars(labels, probabilities[0]),
        plots.timeline_heatmap([(0.0, 3.0), (1.5, 4.5)], probabilities[:1].repeat(2, axis=0), labels),
    ]
    for figure in figures:
        pio.to_json(figure, validate=False)


def _warm_pages(others: list[Any]) -> None:
    """The first visit of the other pages: each measured 0.15–0.8 s once per process, cold.

    - the Spectrogram lab's views (librosa's filters and DCT compile on first use: 0.83 s);
    - one patch through every other tagger (each traces its graph: 0.15 s) and the default
      CNN's feature-map probe (Inside the CNN);
    - the WebRTC libraries under the Live page's component (aiortc, av), when they are safe to
      load (:func:`genre_core.live.webrtc_blocker`).  Not ``streamlit_webrtc`` itself: imported
      outside a script run, its component would never be registered with the server.
    """
    from genre_core import plots
    from genre_core.app.cnn_views import FEATURE_MAP_LAYERS
    from genre_core.config import MUSICNN_N_MELS, MUSICNN_PATCH_FRAMES, SAMPLE_RATE
    from genre_core.explain import feature_maps
    from genre_core.live import webrtc_blocker
    from genre_core.session import spectral_views

    noise = 0.1 * np.random.default_rng(1).standard_normal(10 * SAMPLE_RATE).astype(np.float32)
    views = spectral_views(noise, SAMPLE_RATE)
    plots.spectrogram_figure(views.stft_db, SAMPLE_RATE, views.hop_length, y_values=views.fft_frequencies)
    plots.filterbank_figure(views.filterbank, views.fft_frequencies)
    plots.mfcc_figure(views.mfcc, SAMPLE_RATE, views.hop_length)
    plots.waveform_figure(noise, SAMPLE_RATE)
    patch = np.zeros((1, MUSICNN_PATCH_FRAMES, MUSICNN_N_MELS), np.float32)
    for predictor in others:
        if getattr(predictor, "multi_label", False) and hasattr(predictor, "architecture"):
            predictor.predict_inputs(patch)
            feature_maps(predictor.model, patch[0], list(FEATURE_MAP_LAYERS.get(predictor.architecture, ())))
    if webrtc_blocker() is None:
        for name in ("av", "aiortc"):
            importlib.import_module(name)


def _warm(warm_up: WarmUp) -> None:
    """Load the models Classify runs by default, run them once on noise, then load the rest.

    ``warm_up.ready`` is set once the default models are warm; the optional ones
    (Inside the CNN's and Compare's) load after it.  Failures are only logged:
    the pages report them when they run.
    """
    registry = warm_up.registry
    log = logging.getLogger(__name__)
    started = time.perf_counter()
    names: list[str] = []
    try:
        from genre_core.app.honesty import load_fingerprints, training_overlap
        from genre_core.app.shared_inputs import analyse_clip
        from genre_core.config import GTZAN_GENRES, SAMPLE_RATE

        from genre_core.evaluation import default_model_names, read_evidence_dirs

        # What Classify and the CLI run by default: the models shown by default and the headline's.
        names = default_model_names(registry.entries(), "gtzan10", read_evidence_dirs(registry.dirs))
        predictors, _ = registry.load_many(names)
        noise = 0.1 * np.random.default_rng(0).standard_normal(int(NOISE_SECONDS * SAMPLE_RATE)).astype(np.float32)
        # the app's one pass: the models and the GTZAN-57 features the training-track check reads
        found, _ = analyse_clip(noise, SAMPLE_RATE, predictors, want_features=True)
        fingerprints = load_fingerprints(registry.entries(real_only=True))
        if fingerprints and found is not None:
            training_overlap(found.features, fingerprints, found.windows)
        _warm_figures(names or ["model"], list(GTZAN_GENRES))
        warm_up.seconds = time.perf_counter() - started
    except Exception:  # noqa: BLE001 (a warm-up must never take the server down)
        log.warning("model warm-up failed", exc_info=True)
    finally:
        warm_up.ready.set()
    try:
        others, _ = registry.load_many([e.name for e in registry.entries() if e.name not in names])
        _warm_pages(others)
    except Exception:  # noqa: BLE001
        log.warning("loading or warming the other models failed", exc_info=True)
    finally:
        warm_up.done.set()


def start_warm_up(registry: Any) -> WarmUp:
    """Start, once per registry, a background thread warming its models.

    Parameters
    ----------
    registry : genre_core.registry.ModelRegistry
        The process's registry (the app's ``default_registry()``): the models
        it loads stay loaded in it.

    Returns
    -------
    WarmUp
        The same object on every call with this registry.
    """
    with _LOCK:
        warm_up = _STARTED.get(id(registry))
        if warm_up is None:
            warm_up = _STARTED[id(registry)] = WarmUp(registry)
            threading.Thread(target=_warm, args=(warm_up,), name="genre-lab-warm-up", daemon=True).start()
        return warm_up
