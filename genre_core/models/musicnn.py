"""Keras 3 ports of the pretrained musicnn and VGG music taggers (Pons & Serra, 2019).

The architectures follow ``musicnn/models.py`` layer for layer, with built-in
Keras layers only, so a converted model loads with ``safe_mode=True``.  The
input is one patch of :func:`genre_core.features.musicnn_logmel`, shape
(187, 96) = (time frames, mel bands); the output is 50 independent tag
probabilities (sigmoid).

Two details make the ports numerically equal to the TF1 originals:

- TF1 ``tf.layers`` batch normalisation uses epsilon 1e-3 and Keras' "same"
  padding is TensorFlow's (asymmetric for even kernels, as in the 128-, 64- and
  32-frame temporal filters), so both carry over unchanged.
- musicnn's back end concatenates max and mean pooling on a trailing axis and
  flattens, which interleaves them (max0, mean0, max1, mean1, ...).  We keep
  that order with Reshape + Concatenate + Flatten, so the checkpoint's BN and
  dense rows need no reordering.

Layer names say what each layer is, and :data:`CHECKPOINT_NAMES` maps them to
the variable scopes of the original checkpoints.

Examples
--------
>>> model = build_musicnn(n_labels=50)
>>> model.input_shape, model.output_shape
((None, 187, 96), (None, 50))
>>> build_vgg(n_labels=50).get_layer("pool5").output.shape
(None, 2, 1, 128)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from ..features import MUSICNN_N_MELS, MUSICNN_PATCH_FRAMES

#: The architectures this module builds, by the name used in model cards.
ARCHITECTURES: tuple[str, ...] = ("musicnn", "vgg")
#: BN epsilon of TF1's ``tf.compat.v1.layers.batch_normalization``.
BN_EPSILON: float = 1e-3

#: musicnn front end: (layer stem, filters, kernel (time, freq)); timbral filters span
#: 40 % and 70 % of the 96 bands, temporal filters are 1 band high.
TIMBRAL_FILTERS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    ("timbral_7x38", 204, (7, 38)),
    ("timbral_7x67", 204, (7, 67)),
)
TEMPORAL_FILTERS: tuple[tuple[str, int, tuple[int, int]], ...] = (
    ("temporal_128", 51, (128, 1)),
    ("temporal_64", 51, (64, 1)),
    ("temporal_32", 51, (32, 1)),
)
MIDEND_FILTERS: int = 64
BACKEND_UNITS: int = 200
VGG_FILTERS: int = 128
#: VGG max-pooling (pool size, strides) after each of the five conv blocks.
VGG_POOLS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)),
)


class FillChannels(layers.Layer):
    """Put the computed channels back among constant ones: (..., n_live) → (..., n_all).

    Used by a musicnn whose front end skips filters that can never fire
    (:mod:`genre_core.models.dead_filters`): their pooled output is a known
    constant, so it is filled in instead of computed.

    Parameters
    ----------
    live : sequence of int
        The channel index, among ``n_all``, of each computed channel.
    values : np.ndarray, shape (n_all,)
        What every channel not in ``live`` holds.

    Examples
    --------
    >>> fill = FillChannels([2, 0], np.array([9.0, 8.0, 7.0], np.float32))
    >>> ops.convert_to_numpy(fill(np.array([[1.0, 2.0]], np.float32))).tolist()
    [[2.0, 8.0, 1.0]]
    """

    def __init__(self, live: Sequence[int], values: np.ndarray, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.live = [int(i) for i in live]
        self.values = np.asarray(values, dtype=np.float32)
        fixed = [i for i in range(len(self.values)) if i not in set(self.live)]
        self._fixed_values = self.values[fixed]
        # Channel c of the output is column order[c] of [computed channels, fixed channels].
        self._order = np.argsort(np.array(self.live + fixed))

    def call(self, x: Any) -> Any:
        fixed = ops.zeros_like(x[..., :1]) + ops.convert_to_tensor(self._fixed_values)
        return ops.take(ops.concatenate([x, fixed], axis=-1), self._order, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], len(self.values))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "live": self.live, "values": self.values.tolist()}


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)


def build_musicnn(n_labels: int = 50, n_frames: int = MUSICNN_PATCH_FRAMES,
                  n_mels: int = MUSICNN_N_MELS,
                  fixed_filters: Mapping[str, tuple[Sequence[int], np.ndarray]] | None = None) -> keras.Model:
    """musicnn: musically motivated front end, dense residual mid end, pooled back end.

    Parameters
    ----------
    n_labels : int
        Output tags.
    n_frames, n_mels : int
        Input patch shape (time, frequency).
    fixed_filters : mapping, optional
        Front-end stem → (indices of the filters to compute, each filter's
        pooled value when it is not computed): the pruned model of
        :func:`genre_core.models.dead_filters.prune_dead_filters`.

    Returns
    -------
    keras.Model
        ``(batch, n_frames, n_mels)`` → ``(batch, n_labels)`` sigmoid
        probabilities.  Named layers worth probing: ``timbral_7x38`` ...
        ``temporal_32`` (front-end convolutions), ``timbral`` and ``temporal``
        (their pooled outputs), ``midend_1..3``, ``pooled`` (753 x 2, max and
        mean interleaved), ``penultimate`` (200), ``logits``.
    """
    inputs = keras.Input((n_frames, n_mels), name="logmel")
    # Reshapes keep the time axis free (-1), so probes of the front and mid end
    # (feature maps, activation maximisation) also run on shorter inputs.
    x = layers.Reshape((-1, n_mels, 1), name="add_channel")(inputs)
    x = _bn("input_bn")(x)
    # Timbral filters: 'same' in time only (pad 3 frames each side), 'valid' in
    # frequency, because the max over all bands follows.
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="pad_time")(x)
    fixed_filters = fixed_filters or {}
    front = []
    branches = ([(spec, padded, "valid") for spec in TIMBRAL_FILTERS]
                + [(spec, x, "same") for spec in TEMPORAL_FILTERS])
    for (stem, filters, kernel), source, padding in branches:
        computed = len(fixed_filters[stem][0]) if stem in fixed_filters else filters
        y = layers.Conv2D(computed, kernel, padding=padding, activation="relu", name=stem)(source)
        y = _bn(f"{stem}_bn")(y)
        y = layers.MaxPooling2D((1, int(y.shape[2])), name=f"{stem}_maxfreq")(y)
        y = layers.Reshape((-1, computed), name=f"{stem}_squeeze")(y)
        if stem in fixed_filters:
            y = FillChannels(*fixed_filters[stem], name=f"{stem}_fill")(y)
        front.append(y)
    # Probe-only concatenations (the two filter families, as musicnn's extractor reports them).
    layers.Concatenate(name="timbral")(front[:2])
    layers.Concatenate(name="temporal")(front[2:])
    frontend = layers.Concatenate(name="frontend")(front)

    # Mid end: three 7-frame convolutions over all front-end channels, residual adds.
    mid1 = _bn("midend_1_bn")(layers.Conv1D(MIDEND_FILTERS, 7, padding="same", activation="relu",
                                            name="midend_1_conv")(frontend))
    mid1 = layers.Identity(name="midend_1")(mid1)
    mid2 = _bn("midend_2_bn")(layers.Conv1D(MIDEND_FILTERS, 7, padding="same", activation="relu",
                                            name="midend_2_conv")(mid1))
    mid2 = layers.Add(name="midend_2")([mid2, mid1])
    mid3 = _bn("midend_3_bn")(layers.Conv1D(MIDEND_FILTERS, 7, padding="same", activation="relu",
                                            name="midend_3_conv")(mid2))
    mid3 = layers.Add(name="midend_3")([mid3, mid2])
    features = layers.Concatenate(name="midend")([frontend, mid1, mid2, mid3])
    channels = int(features.shape[-1])

    # Back end: max and mean over time, interleaved as in the original's flatten.
    max_pool = layers.Reshape((channels, 1), name="max_pool")(layers.GlobalMaxPooling1D(name="max_time")(features))
    mean_pool = layers.Reshape((channels, 1), name="mean_pool")(
        layers.GlobalAveragePooling1D(name="mean_time")(features))
    pooled = layers.Flatten(name="pooled")(layers.Concatenate(name="max_mean")([max_pool, mean_pool]))
    x = _bn("pooled_bn")(pooled)
    x = layers.Dropout(0.5, name="pooled_dropout")(x)
    x = layers.Dense(BACKEND_UNITS, activation="relu", name="dense")(x)
    penultimate = _bn("penultimate")(x)
    x = layers.Dropout(0.5, name="penultimate_dropout")(penultimate)
    logits = layers.Dense(n_labels, name="logits")(x)
    outputs = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, outputs, name="musicnn")


def build_vgg(n_labels: int = 50, n_frames: int = MUSICNN_PATCH_FRAMES,
              n_mels: int = MUSICNN_N_MELS) -> keras.Model:
    """The VGG-like baseline: input BN, five blocks of 3x3 conv (128), ReLU, BN, max pool.

    Returns
    -------
    keras.Model
        ``(batch, n_frames, n_mels)`` → ``(batch, n_labels)`` sigmoid
        probabilities.  Conv layers ``conv1..conv5``, pools ``pool1..pool5``
        (``pool5`` flattens to the 256-d embedding), ``logits``.
    """
    inputs = keras.Input((n_frames, n_mels), name="logmel")
    x = layers.Reshape((-1, n_mels, 1), name="add_channel")(inputs)
    x = _bn("input_bn")(x)
    for block, (pool, strides) in enumerate(VGG_POOLS, start=1):
        if block > 1:
            x = layers.Dropout(0.25, name=f"pool{block - 1}_dropout")(x)
        x = layers.Conv2D(VGG_FILTERS, (3, 3), padding="same", activation="relu", name=f"conv{block}")(x)
        x = _bn(f"conv{block}_bn")(x)
        x = layers.MaxPooling2D(pool, strides=strides, name=f"pool{block}")(x)
    x = layers.Flatten(name="pool5_flat")(x)
    x = layers.Dropout(0.5, name="pool5_dropout")(x)
    logits = layers.Dense(n_labels, name="logits")(x)
    outputs = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, outputs, name="vgg")


def build(architecture: str, n_labels: int = 50) -> keras.Model:
    """Build ``"musicnn"`` or ``"vgg"``."""
    builders = {"musicnn": build_musicnn, "vgg": build_vgg}
    if architecture not in builders:
        raise ValueError(f"unknown tagger architecture {architecture!r}; choose from {ARCHITECTURES}")
    return builders[architecture](n_labels)


#: Keras layer name → TF1 variable scope in the original checkpoints (creation order).
CHECKPOINT_NAMES: dict[str, dict[str, str]] = {
    "musicnn": dict([
        ("input_bn", "batch_normalization"),
        ("timbral_7x38", "conv2d"), ("timbral_7x38_bn", "batch_normalization_1"),
        ("timbral_7x67", "conv2d_1"), ("timbral_7x67_bn", "batch_normalization_2"),
        ("temporal_128", "conv2d_2"), ("temporal_128_bn", "batch_normalization_3"),
        ("temporal_64", "conv2d_3"), ("temporal_64_bn", "batch_normalization_4"),
        ("temporal_32", "conv2d_4"), ("temporal_32_bn", "batch_normalization_5"),
        ("midend_1_conv", "conv2d_5"), ("midend_1_bn", "batch_normalization_6"),
        ("midend_2_conv", "conv2d_6"), ("midend_2_bn", "batch_normalization_7"),
        ("midend_3_conv", "conv2d_7"), ("midend_3_bn", "batch_normalization_8"),
        ("pooled_bn", "batch_normalization_9"),
        ("dense", "dense"), ("penultimate", "batch_normalization_10"),
        ("logits", "dense_1"),
    ]),
    "vgg": dict([
        ("input_bn", "batch_normalization"),
        *[(f"conv{i}", f"{i}CNN") for i in range(1, 6)],
        *[(f"conv{i}_bn", f"batch_normalization_{i}") for i in range(1, 6)],
        ("logits", "dense"),
    ]),
}


def checkpoint_weights(layer: layers.Layer, scope: str, read: Any) -> list[Any]:
    """The TF1 checkpoint tensors for one Keras layer, in ``layer.get_weights()`` order.

    Parameters
    ----------
    layer : keras layer
        Conv2D, Conv1D, Dense or BatchNormalization.
    scope : str
        Its TF1 variable scope, e.g. ``"conv2d_5"``.
    read : callable
        ``read(variable_name) -> np.ndarray`` (a checkpoint reader's ``get_tensor``).
    """
    if isinstance(layer, layers.BatchNormalization):
        return [read(f"{scope}/{v}") for v in ("gamma", "beta", "moving_mean", "moving_variance")]
    kernel, bias = read(f"{scope}/kernel"), read(f"{scope}/bias")
    if isinstance(layer, layers.Conv1D):
        # The mid end was a Conv2D whose kernel spans every channel: [7, C, 1, F] → [7, C, F].
        kernel = kernel.reshape(kernel.shape[0], kernel.shape[1], kernel.shape[3])
    return [kernel, bias]
