"""musicnn without the front-end filters that can never fire: the same outputs, a fraction of the work.

Most of musicnn's front-end filters in the pretrained taggers are dead: their
weights decayed to about 1e-30 during training and their bias is negative, so
their ReLU is 0 for every patch.  After batch norm and the max over frequency
such a filter's channel is a constant, and the mid and back end only ever see
that constant.  Of the MSD tagger's 408 timbral filters 347 are dead (152 of
MTT's), and the timbral convolutions are most of the network's arithmetic.

"Dead" here is proved, not observed.  The input of the taggers is
:func:`genre_core.features.musicnn_logmel`, ``log10(10000 x + 1)`` of a mel
power rounded to float16, so every finite patch value lies in
``[0, LOGMEL_MAX]``.  The input batch norm maps that interval to another, and
an interval bound on each filter's pre-activation (every weight times the
worse end of the interval, or 0 where the time padding puts a zero, plus the
bias) shows which filters stay at or below 0 for *every* such patch.

:func:`prune_dead_filters` builds the same network without those filters,
filling their channels with the constant (:class:`~genre_core.models.musicnn.FillChannels`),
and copies the weights.  Its outputs equal the full model's to float rounding
on any patch in range; :func:`in_proven_range` tells whether a batch is, and the
tagger falls back to the full model when it is not (a NaN or inf patch).

Examples
--------
>>> from genre_core.registry import default_registry
>>> model = default_registry().load("msd_musicnn").model
>>> {stem: len(found) for stem, found in dead_filters(model).items()}
{'timbral_7x38': 164, 'timbral_7x67': 183, 'temporal_128': 26, 'temporal_64': 15, 'temporal_32': 10}
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .musicnn import TEMPORAL_FILTERS, TIMBRAL_FILTERS

#: The largest finite value of :func:`genre_core.features.musicnn_logmel`: the mel power is
#: rounded to float16 (largest finite 65504) before ``log10(10000 x + 1)``.
LOGMEL_MAX: float = float(np.log10(10000.0 * float(np.finfo(np.float16).max) + 1.0))
#: The front-end convolutions that can be pruned, in build order.
FRONT_END_STEMS: tuple[str, ...] = tuple(stem for stem, _, _ in TIMBRAL_FILTERS + TEMPORAL_FILTERS)


def _batch_norm_affine(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an inference-mode batch norm: ``y = scale * x + shift``."""
    gamma, beta, mean, variance = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    scale = gamma / np.sqrt(variance + layer.epsilon)
    return scale, beta - mean * scale


def dead_filters(model: Any, input_max: float = LOGMEL_MAX) -> dict[str, np.ndarray]:
    """Each front-end convolution's filters whose ReLU output is 0 for every patch in ``[0, input_max]``.

    Parameters
    ----------
    model : keras.Model
        A musicnn built by :func:`genre_core.models.musicnn.build_musicnn`.
    input_max : float
        The largest patch value to prove it for.

    Returns
    -------
    dict
        Stem (``timbral_7x38`` ... ``temporal_32``) → sorted filter indices.
    """
    scale, shift = _batch_norm_affine(model.get_layer("input_bn"))
    # The input batch norm has one channel: every normalised value lies in [low, high].
    ends = np.array([shift[0], scale[0] * input_max + shift[0]])
    low, high = ends.min(), ends.max()
    found = {}
    for stem in FRONT_END_STEMS:
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.get_layer(stem).get_weights())
        kernel = kernel.reshape(-1, kernel.shape[-1])  # (taps, filters): one input channel
        # Each tap adds at most max(w * low, w * high), or 0 where it reads the zero padding.
        largest = bias + np.maximum(0.0, np.maximum(kernel * low, kernel * high)).sum(axis=0)
        found[stem] = np.flatnonzero(largest <= 0.0)
    return found


@functools.lru_cache(maxsize=4)
def _musicnn_layer_names(n_labels: int, n_frames: int, n_mels: int) -> frozenset[str]:
    from .musicnn import build_musicnn

    return frozenset(layer.name for layer in build_musicnn(n_labels, n_frames, n_mels).layers)


def is_plain_musicnn(model: Any) -> bool:
    """Whether ``model`` has exactly the layers :func:`~genre_core.models.musicnn.build_musicnn` builds
    (a tagger, not e.g. a transfer model with its own head), so it can be rebuilt without its dead filters.

    Examples
    --------
    >>> from genre_core.models.musicnn import build_musicnn, build_vgg
    >>> is_plain_musicnn(build_musicnn(50)), is_plain_musicnn(build_vgg(50))
    (True, False)
    """
    n_frames, n_mels = (int(d) for d in model.input_shape[1:])
    return {layer.name for layer in model.layers} == _musicnn_layer_names(int(model.output_shape[-1]), n_frames, n_mels)


def in_proven_range(patches: np.ndarray, input_max: float = LOGMEL_MAX) -> bool:
    """Whether every value of ``patches`` lies in ``[0, input_max]`` (so a pruned model is exact on them).

    Examples
    --------
    >>> in_proven_range(np.zeros((1, 187, 96))), in_proven_range(np.full((1, 2), np.inf))
    (True, False)
    """
    patches = np.asarray(patches)
    # min/max of an array with NaN are NaN, and every comparison with NaN is False.
    return bool(patches.size == 0 or (patches.min() >= 0.0 and patches.max() <= input_max))


def prune_dead_filters(model: Any, input_max: float = LOGMEL_MAX) -> Any:
    """``model`` without its dead front-end filters; equal outputs on patches in ``[0, input_max]``.

    Parameters
    ----------
    model : keras.Model
        A musicnn built by :func:`genre_core.models.musicnn.build_musicnn`.
    input_max : float

    Returns
    -------
    keras.Model
        Same input, output and layer names (plus one ``<stem>_fill`` per
        pruned convolution); a pruned convolution and its batch norm keep only
        their live filters.

    Raises
    ------
    ValueError
        If ``model`` is not a plain musicnn (:func:`is_plain_musicnn`).
    """
    from .musicnn import build_musicnn

    if not is_plain_musicnn(model):
        raise ValueError(f"model {model.name!r} is not a plain musicnn tagger (its layers differ from "
                         "build_musicnn's), so it cannot be rebuilt without its dead filters")
    fixed_filters = {}
    for stem, dead in dead_filters(model, input_max).items():
        n_filters = int(model.get_layer(stem).filters)
        # Keep at least one filter, so no convolution is empty (it is exact either way).
        live = np.setdiff1d(np.arange(n_filters), dead) if len(dead) < n_filters else np.arange(1)
        if len(live) == n_filters:
            continue
        # A dead filter's ReLU gives 0: its channel after batch norm is the norm of 0,
        # computed by the layer itself so the constant is the full model's own value.
        zeros = np.zeros((1, 1, 1, n_filters), np.float32)
        values = np.asarray(model.get_layer(f"{stem}_bn")(zeros, training=False)).reshape(-1)
        fixed_filters[stem] = (live, values)
    pruned = build_musicnn(int(model.output_shape[-1]), *model.input_shape[1:], fixed_filters=fixed_filters)
    for layer in pruned.layers:
        if not layer.weights:
            continue
        weights = model.get_layer(layer.name).get_weights()
        stem = layer.name.removesuffix("_bn")
        if stem in fixed_filters:
            live = fixed_filters[stem][0]
            weights = [w[..., live] for w in weights]
        layer.set_weights(weights)
    return pruned
