"""Prediction: run loaded models over a clip, window by window.

Models are grouped by their ``input_key`` and each group's inputs are prepared
once (all feature models share one GTZAN-57 pass over the clip).  A model's
track-level probabilities are the mean of its window probabilities, a soft
vote over time; :func:`soft_vote` averages models that share a label list.

Examples
--------
>>> from genre_core.registry import default_registry           # doctest: +SKIP
>>> from genre_core.audio import load_audio                     # doctest: +SKIP
>>> model = default_registry().load("gtzan_svm")                # doctest: +SKIP
>>> predict_clip(load_audio("song.mp3"), [model])[0].top_k(3)   # doctest: +SKIP
[('disco', 0.61), ('pop', 0.2), ('hiphop', 0.1)]
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .audio import AudioClip
from .config import SAMPLE_RATE
from .errors import UsageError
from .models.base import Prediction, Predictor


def predict_samples(
    samples: np.ndarray, sample_rate: int, predictors: Sequence[Predictor]
) -> list[Prediction]:
    """Classify a signal with several models, preparing each input kind once.

    Long signals are analysed chunk by chunk (see :mod:`genre_core.stream`),
    so feature memory stays flat; the windows are those of one whole pass.

    Parameters
    ----------
    samples : np.ndarray
        Mono signal.
    sample_rate : int
    predictors : sequence of Predictor

    Returns
    -------
    list of Prediction
        In the order of ``predictors``.

    Raises
    ------
    PredictionError
        If a model returns probabilities of the wrong shape or with NaN (the
        first failing model's error is raised; use
        :func:`genre_core.stream.analyse_blocks` to keep the others' results).
    """
    from .stream import analyse_blocks

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise UsageError(f"expected a non-empty mono signal, got shape {samples.shape}")
    result = analyse_blocks([samples], sample_rate, predictors)
    if result.failures:
        raise next(iter(result.failures.values()))
    return result.predictions


def predict_clip(clip: AudioClip, predictors: Sequence[Predictor]) -> list[Prediction]:
    """:func:`predict_samples` on a loaded :class:`~genre_core.audio.AudioClip`."""
    return predict_samples(clip.samples, clip.sample_rate, predictors)


def soft_vote(predictions: Sequence[Prediction], name: str = "soft_vote") -> Prediction:
    """Average several models' predictions on one clip.

    Track probabilities are averaged; window probabilities too when all
    models used the same windows (otherwise the result has no windows).

    Raises
    ------
    ValueError
        If there are no predictions or their label lists differ.
    """
    if not predictions:
        raise UsageError("soft_vote needs at least one prediction")
    labels = tuple(predictions[0].labels)
    if any(p.multi_label for p in predictions):
        raise UsageError("soft_vote averages genre classifiers; taggers' independent tag probabilities "
                         "are compared through genre_core.tags.crosswalk instead")
    for p in predictions[1:]:
        if tuple(p.labels) != labels:
            raise UsageError(
                f"cannot average models with different label lists: {p.model!r} has {list(p.labels)}, "
                f"{predictions[0].model!r} has {list(labels)}"
            )
    same_windows = all(list(p.windows) == list(predictions[0].windows) for p in predictions)
    windows = list(predictions[0].windows) if same_windows else []
    window_probs = (np.mean([p.window_probabilities for p in predictions], axis=0)
                    if same_windows else np.zeros((0, len(labels))))
    return Prediction(
        model=name,
        labels=labels,
        probabilities=np.mean([p.probabilities for p in predictions], axis=0),
        windows=windows,
        window_probabilities=window_probs,
        seconds=float(sum(p.seconds for p in predictions)),
    )


def latency_ms_per_30s(predictor: Predictor, repeats: int = 3, seed: int = 0) -> float:
    """Median milliseconds to prepare and classify 30 s of audio (features included).

    One untimed call first, so one-off costs (imports, graph tracing) are left out.
    """
    rng = np.random.default_rng(seed)
    clip = (0.1 * rng.standard_normal(30 * SAMPLE_RATE)).astype(np.float32)
    predict_samples(clip, SAMPLE_RATE, [predictor])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict_samples(clip, SAMPLE_RATE, [predictor])
        times.append(1000.0 * (time.perf_counter() - started))
    return float(np.median(times))
