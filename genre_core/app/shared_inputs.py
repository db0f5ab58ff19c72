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


def clip_gtzan57(samples: np.ndarray, sample_rate: int, window_seconds: float = WINDOW_SECONDS,
                 hop_seconds: float = HOP_SECONDS) -> ClipFeatures:
    """GTZAN-57 features of every window of a clip, by the models' own chunked path.

    Raises
    ------
    GenreLabError, ValueError
        As the prediction would (e.g. a clip that yields no window).
    """
    from ..stream import analyse_blocks

    capture = Gtzan57Capture(window_seconds, hop_seconds)
    started = time.perf_counter()
    result = analyse_blocks([np.asarray(samples, dtype=np.float32)], sample_rate, [capture])
    if result.failures:
        raise next(iter(result.failures.values()))
    if not result.predictions:
        raise ValueError("the clip gave no analysis window")
    found = result.predictions[0]
    return ClipFeatures(capture.input_key, list(found.windows), np.asarray(found.window_probabilities),
                        time.perf_counter() - started)


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
