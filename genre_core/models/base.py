"""The interface every loaded model offers to prediction, the app and the CLI."""

from __future__ import annotations

from collections.abc import Hashable
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
