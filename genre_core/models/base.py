"""The interface every loaded model offers (:class:`Predictor`) and what prediction returns (:class:`Prediction`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

Windows = list[tuple[float, float]]


@runtime_checkable
class Predictor(Protocol):
    """A trained model ready to classify audio.

    Prediction is split in two so that models sharing an input representation
    share its computation: :meth:`prepare` turns samples into inputs (features
    for classical models, segments for deep ones) and models whose
    ``input_key`` is equal can reuse one ``prepare`` result.

    Attributes
    ----------
    name : str
        Registry name (the folder name under ``models/``).
    labels : tuple of str
        Class names, in output order.
    card : dict
        The model card (``card.json``).
    input_key : Hashable
        Equal keys mean :meth:`prepare` returns interchangeable inputs.
    """

    name: str
    labels: tuple[str, ...]
    card: dict[str, Any]
    input_key: Hashable

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[Windows, Any]:
        """Analysis windows (start, end seconds) and the model inputs for them."""
        ...

    def predict_inputs(self, inputs: Any) -> np.ndarray:
        """Class probabilities per window, shape (n_windows, n_labels), rows sum to 1."""
        ...


@dataclass
class Prediction:
    """One model's verdict on one clip.

    Attributes
    ----------
    model : str
        Registry name of the model.
    labels : tuple of str
    probabilities : np.ndarray, shape (n_labels,)
        Mean of the window probabilities.
    windows : list of (start_s, end_s)
    window_probabilities : np.ndarray, shape (n_windows, n_labels)
    seconds : float
        Time taken, including this model's share of input preparation.
    multi_label : bool
        True for taggers: each label's probability is independent (sigmoid),
        so rows need not sum to 1 and several tags can be likely at once.
    """

    model: str
    labels: tuple[str, ...]
    probabilities: np.ndarray
    windows: Windows = field(default_factory=list)
    window_probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    seconds: float = 0.0
    multi_label: bool = False

    @classmethod
    def of_windows(cls, predictor: Any, windows: Windows, window_probabilities: np.ndarray,
                   seconds: float) -> Prediction:
        """A model's prediction from its per-window probabilities: the track's is their mean.

        ``multi_label`` comes from the predictor (taggers set it; other models need not).
        """
        probs = np.asarray(window_probabilities, dtype=np.float64)
        return cls(model=predictor.name, labels=tuple(predictor.labels), probabilities=probs.mean(axis=0),
                   windows=list(windows), window_probabilities=probs, seconds=float(seconds),
                   multi_label=bool(getattr(predictor, "multi_label", False)))

    @property
    def genre(self) -> str:
        """The most probable label."""
        return self.labels[int(np.argmax(self.probabilities))]

    def top_k(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable labels with their probabilities, most probable first."""
        order = np.argsort(-np.asarray(self.probabilities), kind="stable")[:k]
        return [(self.labels[i], float(self.probabilities[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``model``, ``genre``, ``probabilities`` and per-window ``segments``."""
        return {
            "model": self.model,
            "genre": self.genre,
            "probabilities": _by_label(self.labels, self.probabilities),
            "segments": [
                {"start": round(float(start), 3), "end": round(float(end), 3),
                 "probabilities": _by_label(self.labels, row)}
                for (start, end), row in zip(self.windows, self.window_probabilities)
            ],
        }


def _by_label(labels: Sequence[str], probabilities: np.ndarray) -> dict[str, float]:
    return {label: round(float(p), 6) for label, p in zip(labels, probabilities)}
