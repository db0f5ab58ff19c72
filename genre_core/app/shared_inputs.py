"""One GTZAN-57 pass per clip, shared by the GTZAN models and the training-set check.

The GTZAN-57 features of a clip's 30 s windows are the costliest thing the app
computes (about 70 % of an upload's time), and two consumers need them: the
GTZAN feature models and the honesty check (:mod:`genre_core.app.honesty`,
training-track match and novelty).  Computing them twice doubled the upload
time of a 5-minute song, so the app computes them once, through the same
chunked path the models' predictions take (:func:`genre_core.stream.analyse_blocks`),
and runs both consumers on the result.

:class:`Gtzan57Capture` is a pseudo-model whose "probabilities" are its
inputs: run through ``analyse_blocks`` it returns exactly the windows and the
feature rows the GTZAN models would have been given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import HOP_SECONDS, WINDOW_SECONDS


class Gtzan57Capture:
    """A predictor-shaped object that returns the GTZAN-57 features of each window unchanged.

    Parameters
    ----------
    window_seconds, hop_seconds : float
        The window scheme, as in a GTZAN feature model's card.
    """

    multi_label = False

    def __init__(self, window_seconds: float = WINDOW_SECONDS, hop_seconds: float = HOP_SECONDS) -> None:
        from ..models.classical import INPUT_KIND

        self.name = "gtzan57 features"
        self.window_seconds = float(window_seconds)
        self.hop_seconds = float(hop_seconds)
        # Equal to a FeaturePredictor's key with the same scheme: analysed in the same chunks.
        self.input_key = (INPUT_KIND, self.window_seconds, self.hop_seconds)
        self.labels = tuple(f"feature_{i}" for i in range(57))

    @property
    def window_hop(self) -> tuple[float, float]:
        """Window and hop in seconds (chunked analysis, as for the feature models)."""
        return self.window_seconds, self.hop_seconds

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[list[tuple[float, float]], np.ndarray]:
        """The GTZAN-57 vectors of each window, exactly as :class:`FeaturePredictor` prepares them."""
        from ..config import SAMPLE_RATE
        from ..features import gtzan57_windows
        from ..windows import resample_to

        samples = resample_to(samples, sample_rate, SAMPLE_RATE)
        return gtzan57_windows(samples, SAMPLE_RATE, self.window_seconds, self.hop_seconds)

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """The inputs themselves: the "prediction" is the feature matrix."""
        return np.atleast_2d(np.asarray(inputs, dtype=np.float64))


@dataclass(frozen=True)
class ClipFeatures:
    """A clip's GTZAN-57 window features.

    Attributes
    ----------
    input_key : tuple
        The input key of the models these features serve.
    windows : list of (start, end)
    features : np.ndarray, (n_windows, 57)
    seconds : float
        Time the pass took.
    """

    input_key: Any
    windows: list[tuple[float, float]]
    features: np.ndarray
    seconds: float


def predictions_from_features(predictors: Sequence[Any], clip_features: ClipFeatures) -> list[Any]:
    """Each feature model's :class:`~genre_core.models.base.Prediction` from precomputed window features.

    The result equals :func:`genre_core.predict.predict_samples` on the same
    clip (same windows, same feature rows; the models classify each row
    independently).  The feature pass's time is shared equally, as
    ``analyse_blocks`` charges it.

    Raises
    ------
    UsageError
        If a predictor does not take these features (another ``input_key``).
    PredictionError
        If a model returns probabilities of the wrong shape or with NaN.
    """
    from ..errors import UsageError
    from ..models.base import Prediction
    from ..stream import check_probabilities

    share = clip_features.seconds / max(1, len(predictors))
    out = []
    for predictor in predictors:
        if predictor.input_key != clip_features.input_key:
            raise UsageError(f"model {predictor.name!r} takes {predictor.input_key}, not {clip_features.input_key}")
        started = time.perf_counter()
        probs = check_probabilities(predictor.name, predictor.predict_inputs(clip_features.features),
                                    len(clip_features.windows), len(predictor.labels))
        out.append(Prediction.of_windows(predictor, clip_features.windows, probs,
                                         share + time.perf_counter() - started))
    return out


def analyse_clip(samples: np.ndarray, sample_rate: int, predictors: Sequence[Any], *,
                 features: ClipFeatures | None = None, want_features: bool = False
                 ) -> tuple[ClipFeatures | None, list[Any]]:
    """Every predictor's prediction, and the GTZAN-57 window features, in one pass over a clip.

    The feature models take ``features`` when given (nothing is extracted
    again); otherwise the features are captured in the same pass as their
    predictions.  Each group of models that share an input runs in a thread of
    its own (:func:`genre_core.stream.analyse_groups`).

    Parameters
    ----------
    samples : np.ndarray
    sample_rate : int
    predictors : sequence of Predictor
    features : ClipFeatures, optional
        The clip's GTZAN-57 features, if already known.
    want_features : bool
        Compute the features even when no predictor needs them (the training-set check does).

    Returns
    -------
    features : ClipFeatures or None
        ``features``, or the ones this pass found (None if nothing needed them).
    predictions : list of Prediction
        In the order of ``predictors``.

    Raises
    ------
    GenreLabError, ValueError
        The first model's failure, as :func:`genre_core.predict.predict_samples` raises it.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(22050 * 4).astype(np.float32) * 0.1
    >>> found, predictions = analyse_clip(y, 22050, [], want_features=True)
    >>> found.features.shape[1], predictions
    (57, [])
    """
    from ..stream import analyse_groups

    capture = Gtzan57Capture()
    on_features = [p for p in predictors if features is not None and p.input_key == features.input_key]
    rest = [p for p in predictors if not any(p is q for q in on_features)]
    capturing = features is None and (want_features or any(p.input_key == capture.input_key for p in rest))
    found: dict[str, Any] = {}
    if rest or capturing:
        result = analyse_groups(samples, sample_rate, ([capture] if capturing else []) + rest)
        if result.failures:
            raise next(iter(result.failures.values()))
        for prediction in result.predictions:
            if capturing and prediction.model == capture.name:
                features = ClipFeatures(capture.input_key, list(prediction.windows),
                                        np.asarray(prediction.window_probabilities), prediction.seconds)
            else:
                found[prediction.model] = prediction
        if capturing and features is None:
            raise ValueError("the clip gave no analysis window")
    if on_features:
        found.update((p.model, p) for p in predictions_from_features(on_features, features))
    return features, [found[p.name] for p in predictors]
