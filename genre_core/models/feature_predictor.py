"""The GTZAN-57 feature models (pipelines, ensemble, dense net) as predictors.

:func:`load_predictor` reads a model folder through
:mod:`genre_core.models.persistence`; :class:`FeaturePredictor` computes the
57 features per 30 s window (15 s hop) and applies the estimator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..config import HOP_SECONDS, SAMPLE_RATE, WINDOW_SECONDS
from ..errors import ModelLoadError
from ..features import gtzan57_windows
from ..windows import resample_to
from .base import Windows
from .classical import INPUT_KIND
from .dense import load_dense
from .persistence import load_sklearn


class FeaturePredictor:
    """A GTZAN-57 model (pipeline, ensemble or dense net) as a :class:`~genre_core.models.base.Predictor`.

    Attributes
    ----------
    name : str
    labels : tuple of str
    card : dict
    input_key : tuple
        ``("gtzan57", window_seconds, hop_seconds)``: all feature models share
        one feature pass per clip.
    estimator : object
        Has ``predict_proba`` and ``classes_``.
    """

    def __init__(self, estimator: Any, card: Mapping[str, Any], name: str | None = None) -> None:
        self.estimator = estimator
        self.card = dict(card)
        self.name = str(name or card.get("name"))
        self.labels = tuple(str(label) for label in card["labels"])
        inputs = card.get("input") or {}
        self.window_seconds = float(inputs.get("window_seconds", WINDOW_SECONDS))
        self.hop_seconds = float(inputs.get("hop_seconds", HOP_SECONDS))
        self.sample_rate = int(inputs.get("sample_rate", SAMPLE_RATE))
        self.input_key = (INPUT_KIND, self.window_seconds, self.hop_seconds)
        classes = [str(c) for c in estimator.classes_]
        missing = sorted(set(self.labels) - set(classes))
        if missing or len(classes) != len(self.labels):
            raise ModelLoadError(
                f"model {self.name!r} predicts classes {classes} but its card lists labels {list(self.labels)}"
            )
        self._order = np.array([classes.index(label) for label in self.labels])

    @property
    def window_hop(self) -> tuple[float, float]:
        """Window and hop in seconds, placed as :func:`genre_core.windows.frame_windows` places them.

        :mod:`genre_core.stream` uses it to analyse long audio chunk by chunk
        with exactly the windows one pass over the whole signal would have.
        """
        return self.window_seconds, self.hop_seconds

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[Windows, np.ndarray]:
        """GTZAN-57 features of each 30 s window (15 s hop); a shorter clip is one window."""
        samples = resample_to(samples, sample_rate, self.sample_rate)
        return gtzan57_windows(samples, self.sample_rate, self.window_seconds, self.hop_seconds)

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities per window, columns in :attr:`labels` order; rows sum to 1."""
        probs = np.asarray(self.estimator.predict_proba(np.atleast_2d(np.asarray(inputs, dtype=np.float64))))
        probs = probs[:, self._order]
        return probs / probs.sum(axis=1, keepdims=True)


def load_predictor(directory: str | os.PathLike, card: Mapping[str, Any]) -> FeaturePredictor:
    """Load a classical or dense model folder as a :class:`FeaturePredictor`.

    ``framework`` "sklearn" loads ``artifact`` with :func:`load_sklearn`;
    "keras" loads a ``.keras`` dense net with ``safe_mode=True``.

    Raises
    ------
    ArtifactMissingError, UntrustedModelError, ModelLoadError
    """
    directory = Path(directory)
    path = directory / str(card["artifact"])
    framework = card.get("framework")
    if framework == "sklearn":
        if path.suffix != ".skops":
            raise ModelLoadError(f"{path.name}: scikit-learn models must be .skops files (never pickle)")
        estimator = load_sklearn(path)
    elif framework == "keras":
        estimator = load_dense(path, card["labels"])
    else:
        raise ModelLoadError(f"{directory.name}: unknown framework {framework!r} for a feature model")
    return FeaturePredictor(estimator, card, str(card.get("name") or directory.name))
