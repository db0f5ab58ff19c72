"""What Inside the CNN shows for the pretrained taggers: axes in seconds and Hz, learned filters.

A tagger reads a 3 s patch of musicnn's log-mel spectrogram: 187 frames of
16 ms (hop 256 at 16 kHz) × 96 mel bands up to 8 kHz.  Its layers shrink that
grid (VGG pools by 2 after most blocks; musicnn's timbral filters span 38 or
67 bands with no padding in frequency), so the helpers here trace each layer's
cells back to the input, giving every feature map a time axis in seconds and a
frequency axis in Hz.

Nothing here imports Streamlit.

Examples
--------
>>> from genre_core.models.musicnn import build_vgg
>>> axes = layer_axes(build_vgg(), "conv2")
>>> len(axes.times_s), len(axes.bands), round(float(axes.times_s[1] - axes.times_s[0]), 3)
(92, 48, 0.032)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..features import MUSICNN_HOP_LENGTH, MUSICNN_N_MELS, MUSICNN_SAMPLE_RATE

#: Seconds per input frame of the taggers (16 ms).
FRAME_SECONDS: float = MUSICNN_HOP_LENGTH / MUSICNN_SAMPLE_RATE
#: Layers whose feature maps the page offers, per tagger architecture, input side first.
FEATURE_MAP_LAYERS: dict[str, tuple[str, ...]] = {
    "vgg": ("conv1", "conv2", "conv3", "conv4", "conv5"),
    "musicnn": ("timbral_7x38", "timbral_7x67", "temporal_128", "temporal_64", "temporal_32",
                "midend_1", "midend_2", "midend_3"),
}
#: Grad-CAM layers offered per architecture; the first is the default.  musicnn's
#: front-end convolutions are followed by a max over all frequencies, so their
#: Grad-CAM has no frequency axis to speak of: the mid end (time only) is used.
GRAD_CAM_LAYERS: dict[str, tuple[str, ...]] = {
    "vgg": ("conv5", "conv4", "conv3", "conv2", "conv1"),
    "musicnn": ("midend_3", "midend_2", "midend_1", "frontend"),
}
#: musicnn's learned filter banks: timbral (time × frequency) and temporal (time only).
TIMBRAL_LAYERS: tuple[str, ...] = ("timbral_7x38", "timbral_7x67")
TEMPORAL_LAYERS: tuple[str, ...] = ("temporal_128", "temporal_64", "temporal_32")


@lru_cache(maxsize=4)
def mel_band_hz(n_mels: int = MUSICNN_N_MELS, sample_rate: int = MUSICNN_SAMPLE_RATE) -> np.ndarray:
    """Centre frequency (Hz) of each mel band of the taggers' input.

    librosa's filterbank places ``n_mels + 2`` points evenly on the Slaney mel
    scale from 0 to ``sample_rate / 2`` (melspectrogram's default fmax); band
    ``i`` peaks at point ``i + 1``.
    """
    import librosa

    return librosa.mel_frequencies(n_mels=n_mels + 2, fmin=0.0, fmax=sample_rate / 2, htk=False)[1:-1]


def band_to_hz(band: np.ndarray | float) -> np.ndarray:
    """Fractional mel band index → Hz (linear between band centres, clamped to the ends)."""
    centres = mel_band_hz()
    return np.interp(np.asarray(band, dtype=float), np.arange(len(centres)), centres)


@dataclass(frozen=True)
class LayerAxes:
    """Where a layer's cells sit in the input patch.

    Attributes
    ----------
    times_s : np.ndarray
        Centre time (s, from the patch start plus ``offset_s``) of each step on axis 0.
    bands : np.ndarray or None
        Centre mel band (fractional index into the input's 96 bands) of each
        step on axis 1; None for time-only layers.
    """

    times_s: np.ndarray
    bands: np.ndarray | None

    @property
    def hz(self) -> np.ndarray | None:
        """Centre frequency of each step on axis 1, or None."""
        return None if self.bands is None else band_to_hz(self.bands)


def _input_layer_of(layer: Any) -> Any | None:
    """The layer that feeds ``layer`` (its first input), or None at the model input."""
    import keras

    if isinstance(layer, keras.layers.InputLayer):
        return None
    tensor = layer.input[0] if isinstance(layer.input, (list, tuple)) else layer.input
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history.operation


def _step_to_input(layer: Any, axis: int) -> tuple[float, float]:
    """(scale, shift) so that output step i of ``layer`` is centred on input step scale * i + shift."""
    import keras

    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        if layer.padding != "valid":
            return float(layer.strides[axis]), 0.0
        return float(layer.strides[axis]), (layer.pool_size[axis] - 1) / 2
    if isinstance(layer, keras.layers.Conv2D | keras.layers.Conv1D):
        if axis >= len(layer.kernel_size):
            return 1.0, 0.0
        stride = float(layer.strides[axis])
        return stride, (layer.kernel_size[axis] - 1) / 2 if layer.padding == "valid" else 0.0
    if isinstance(layer, keras.layers.ZeroPadding2D):
        return 1.0, -float(layer.padding[axis][0])
    return 1.0, 0.0  # reshape, normalisation, activation, concatenation, add: no change of grid


def layer_axes(model: Any, layer_name: str, offset_s: float = 0.0) -> LayerAxes:
    """Time (s) and mel-band centres of every cell of one layer's output.

    Walks from the layer back to the model's input through each layer's first
    input, composing the grid changes of pooling, strided or unpadded
    convolutions and zero padding.  Axis 0 is time; axis 1 (when the output
    has one besides channels) is frequency.

    Parameters
    ----------
    model : keras.Model
        A musicnn or VGG tagger.
    layer_name : str
    offset_s : float
        Start of the patch in the song, added to every time.
    """
    layer = model.get_layer(layer_name)
    shape = tuple(layer.output.shape[1:])
    two_d = len(shape) == 3
    scales = [1.0, 1.0]
    shifts = [0.0, 0.0]
    current = layer
    while current is not None:
        for axis in (0, 1) if two_d else (0,):
            scale, shift = _step_to_input(current, axis)
            scales[axis], shifts[axis] = scale * scales[axis], scale * shifts[axis] + shift
        current = _input_layer_of(current)
    times = offset_s + (scales[0] * np.arange(shape[0]) + shifts[0]) * FRAME_SECONDS
    bands = scales[1] * np.arange(shape[1]) + shifts[1] if two_d else None
    return LayerAxes(times_s=times, bands=bands)


def most_varied_filters(activation: np.ndarray, count: int) -> list[int]:
    """Indices of the ``count`` channels whose maps vary most over the excerpt, most first.

    Not the highest mean: a filter with a large bias and tiny weights is
    "active" everywhere alike, and its map is a flat colour that says nothing.
    """
    act = np.asarray(activation, dtype=float)
    spread = act.reshape(-1, act.shape[-1]).std(axis=0)
    return [int(i) for i in np.argsort(-spread, kind="stable")[:count]]


def timbral_filters(model: Any, layer_name: str, count: int = 12) -> tuple[list[int], np.ndarray]:
    """The ``count`` timbral kernels with the largest weights, as (time, band) images.

    Returns
    -------
    indices : list of int
    kernels : np.ndarray, shape (count, kernel frames, kernel bands)
    """
    kernel = np.asarray(model.get_layer(layer_name).get_weights()[0])  # (frames, bands, 1, filters)
    images = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    order = np.argsort(-np.abs(images).reshape(len(images), -1).sum(axis=1), kind="stable")[:count]
    return [int(i) for i in order], images[order]


def temporal_filters(model: Any, layer_name: str, count: int = 8) -> tuple[list[int], np.ndarray]:
    """The ``count`` temporal kernels with the largest weights, as curves over their frames.

    Returns
    -------
    indices : list of int
    kernels : np.ndarray, shape (count, kernel frames)
    """
    kernel = np.asarray(model.get_layer(layer_name).get_weights()[0])  # (frames, 1, 1, filters)
    curves = kernel[:, 0, 0, :].T
    order = np.argsort(-np.abs(curves).sum(axis=1), kind="stable")[:count]
    return [int(i) for i in order], curves[order]


def excerpt_label(window: tuple[float, float]) -> str:
    """``"12.0–15.0 s"`` for a patch's (start, end)."""
    return f"{window[0]:.1f}–{window[1]:.1f} s"


def stored_input_seconds(stored: dict[str, tuple[list[int], np.ndarray]]) -> float:
    """Length in seconds of the stored activation-maximisation inputs (patterns are (n, frames, bands)).

    Examples
    --------
    >>> stored_input_seconds({"conv1": ([0], np.zeros((1, 94, 96)))})
    1.504
    """
    patterns = next(iter(stored.values()))[1]
    return round(float(patterns.shape[1] * FRAME_SECONDS), 3)


def filter_count(model: Any, layer_name: str) -> int:
    """Number of filters (output channels) of a convolution layer."""
    return int(model.get_layer(layer_name).output.shape[-1])
