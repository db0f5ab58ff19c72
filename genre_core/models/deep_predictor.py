"""A trained Keras model as a :class:`~genre_core.models.base.Predictor`.

The clip is cut into the segments the model was trained on (same length,
hop = segment length, the last segment aligned to the end, a short clip
zero-padded) by :func:`genre_core.features.segment_inputs`, the function that
featurised the training data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..config import SAMPLE_RATE, SEGMENT_SECONDS
from ..errors import ModelLoadError, UsageError
from ..features import deep_input_shape, segment_inputs
from ..windows import resample_to
from .base import Windows

#: Segments per forward pass; bounds memory for long clips and mel images.
PREDICT_BATCH: int = 32


class DeepPredictor:
    """A saved deep model ready to classify audio.

    Attributes
    ----------
    name : str
    labels : tuple of str
    card : dict
    input_key : tuple
        ``(input kind, segment seconds)``: deep models of equal key share one
        :meth:`prepare`.
    model : keras.Model
    spec : ArchitectureSpec
    input_kind : str
    segment_seconds : float
    sample_rate : int
    """

    def __init__(self, model: Any, spec: Any, card: dict[str, Any], name: str) -> None:
        self.model = model
        self.spec = spec
        self.card = card
        self.name = name
        self.labels = tuple(card["labels"])
        inputs = card.get("input", {})
        self.input_kind = str(inputs.get("kind", spec.input_kind))
        self.segment_seconds = float(inputs.get("window_seconds", SEGMENT_SECONDS))
        self.sample_rate = int(inputs.get("sample_rate", SAMPLE_RATE))
        self.input_key = (self.input_kind, self.segment_seconds)
        expected = tuple(deep_input_shape(self.input_kind, self.segment_seconds, self.sample_rate))
        actual = tuple(int(d) for d in model.input_shape[1:])
        if actual != expected:
            raise ModelLoadError(
                f"model {name!r} takes inputs of shape {actual}, but its card's "
                f"{self.input_kind!r} input of {self.segment_seconds:g} s gives {expected}"
            )
        n_outputs = int(model.output_shape[-1])
        if n_outputs != len(self.labels):
            raise ModelLoadError(f"model {name!r} has {n_outputs} outputs but its card lists {len(self.labels)} labels")

    @property
    def window_hop(self) -> tuple[float, float]:
        """Segment length and hop (equal) in seconds, placed as :func:`genre_core.windows.segment_bounds` does.

        :mod:`genre_core.stream` uses it to analyse long audio chunk by chunk.
        """
        return self.segment_seconds, self.segment_seconds

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[Windows, np.ndarray]:
        """Segments of the clip and the model input for each.

        Parameters
        ----------
        samples : np.ndarray
            Mono signal.
        sample_rate : int
            Its rate; resampled to the model's rate if different.

        Returns
        -------
        windows : list of (start_seconds, end_seconds)
        inputs : np.ndarray, shape (n_segments, *input_shape), float32
        """
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise UsageError(f"expected a non-empty mono signal, got shape {samples.shape}")
        samples = resample_to(samples, sample_rate, self.sample_rate)
        windows, inputs = segment_inputs(samples, self.sample_rate, self.segment_seconds, [self.input_kind])
        return windows, inputs[self.input_kind]

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities per segment, shape (n_segments, n_labels); rows sum to 1."""
        from .deep import probabilities

        inputs = np.asarray(inputs, dtype=np.float32)
        # Direct calls on small batches avoid model.predict's per-call dataset set-up.
        outputs = [np.asarray(self.model(inputs[i:i + PREDICT_BATCH], training=False))
                   for i in range(0, len(inputs), PREDICT_BATCH)]
        probs = probabilities(np.concatenate(outputs), self.spec)
        return probs / probs.sum(axis=1, keepdims=True)


def load_predictor(directory: str | os.PathLike, card: dict[str, Any]) -> DeepPredictor:
    """Load ``<directory>/<card['artifact']>`` (a ``.keras`` file) as a :class:`DeepPredictor`.

    The file is loaded with ``safe_mode=True``: no Python code inside it runs.

    Raises
    ------
    ArtifactMissingError
        If the model file is missing (a ``FileNotFoundError``).
    UntrustedModelError, ModelLoadError
        If the file is unsafe or unreadable, or the card names an unknown
        architecture or does not match the model.
    """
    from .persistence import load_keras
    from .deep import get_spec

    directory = Path(directory)
    path = directory / str(card.get("artifact", "model.keras"))
    try:
        spec = get_spec(card["architecture"])
    except (KeyError, ValueError) as exc:
        raise ModelLoadError(f"{directory}: {exc}") from None
    model = load_keras(path)
    return DeepPredictor(model, spec, card, str(card.get("name") or directory.name))
