"""SpecAugment-style time and frequency masking for (frames, mels) inputs.

After Park et al., "SpecAugment" (Interspeech 2019): a few bands of
consecutive frames and of consecutive mel bins are replaced by a constant.
Written with TensorFlow ops and stateless random numbers, so it runs inside
``tf.data.Dataset.map`` and the same seed always gives the same masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import tensorflow as tf

Array = TypeVar("Array", np.ndarray, tf.Tensor)
Seed = int | Sequence[int] | np.ndarray | tf.Tensor | tf.random.Generator | np.random.Generator


def _seed_pair(seed: Seed) -> tf.Tensor:
    """A shape-(2,) int64 seed for the ``tf.random.stateless_*`` ops."""
    if isinstance(seed, tf.random.Generator):
        return tf.cast(seed.make_seeds(1)[:, 0], tf.int64)
    if isinstance(seed, np.random.Generator):
        return tf.constant(seed.integers(0, 2**31 - 1, size=2), dtype=tf.int64)
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), 0], dtype=tf.int64)
    pair = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if pair.shape.rank != 1 or (pair.shape[0] is not None and pair.shape[0] != 2):
        raise ValueError(f"seed must be an int, a pair of ints or a random generator, got shape {pair.shape}")
    return tf.reshape(pair, [2])


def _band_mask(length: tf.Tensor, n_masks: int, max_width: int, seeds: tf.Tensor, exact: bool) -> tf.Tensor:
    """Boolean (length,) mask, the union of ``n_masks`` bands of consecutive indices."""
    positions = tf.range(length)
    mask = tf.zeros([length], dtype=tf.bool)
    widest = tf.minimum(tf.constant(max_width, tf.int32), length)
    for i in range(n_masks):
        if exact:
            width = widest
        else:
            width = tf.random.stateless_uniform([], seeds[2 * i], minval=0, maxval=widest + 1, dtype=tf.int32)
        start = tf.random.stateless_uniform([], seeds[2 * i + 1], minval=0, maxval=length - width + 1, dtype=tf.int32)
        mask = mask | ((positions >= start) & (positions < start + width))
    return mask


def spec_augment(
    mel: Array,
    seed: Seed = 0,
    time_masks: int = 2,
    time_width: int = 20,
    freq_masks: int = 2,
    freq_width: int = 12,
    mask_value: float | None = None,
    exact_widths: bool = False,
) -> Array:
    """Mask random bands of frames and of mel bins.

    Parameters
    ----------
    mel : np.ndarray or tf.Tensor, shape (frames, mels[, ...])
        One example (not a batch: a batch would share its masks).  Axis 0 is
        time, axis 1 frequency; any further axes (channels) are masked alike.
    seed : int, pair of ints, shape-(2,) tensor, tf.random.Generator or np.random.Generator
        The same int / pair always gives the same masks.  A generator gives a
        fresh seed per call.  In ``tf.data`` pass a per-element seed pair, as
        :func:`with_spec_augment` does.
    time_masks, freq_masks : int
        Number of bands along each axis (overlapping bands merge).
    time_width, freq_width : int
        Largest band width; each band's width is drawn uniformly from
        ``0 .. width`` as in SpecAugment, or is exactly ``width`` with
        ``exact_widths`` (clipped to the axis length).
    mask_value : float, optional
        Value written into masked cells.  Default: the input's mean, which for
        mean-normalised spectrograms is SpecAugment's 0.  For this project's
        unit-dB ``mel`` inputs (0 = 80 dB below the peak) ``mask_value=0.0``
        masks with silence instead.
    exact_widths : bool

    Returns
    -------
    Same type, shape and dtype as ``mel``.
    """
    as_numpy = not tf.is_tensor(mel)
    x = tf.convert_to_tensor(mel)
    if x.shape.rank is not None and x.shape.rank < 2:
        raise ValueError(f"spec_augment expects a (frames, mels) array, got shape {tuple(x.shape)}")
    for name, value in (("time_masks", time_masks), ("freq_masks", freq_masks),
                        ("time_width", time_width), ("freq_width", freq_width)):
        if int(value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    n_seeds = max(2 * (time_masks + freq_masks), 1)
    seeds = tf.random.experimental.stateless_split(_seed_pair(seed), num=n_seeds)
    shape = tf.shape(x)
    time_mask = _band_mask(shape[0], time_masks, time_width, seeds[: 2 * time_masks], exact_widths)
    freq_mask = _band_mask(shape[1], freq_masks, freq_width, seeds[2 * time_masks:], exact_widths)
    mask = time_mask[:, None] | freq_mask[None, :]
    mask = tf.reshape(mask, tf.concat([shape[:2], tf.ones_like(shape[2:])], axis=0))
    fill = tf.reduce_mean(x) if mask_value is None else tf.constant(mask_value, dtype=x.dtype)
    out = tf.where(mask, tf.cast(fill, x.dtype), x)
    return out.numpy() if as_numpy else out


def with_spec_augment(dataset: tf.data.Dataset, seed: int = 0, **kwargs) -> tf.data.Dataset:
    """Apply :func:`spec_augment` to the first component of every element of an unbatched dataset.

    Each element gets its own stateless seed from ``tf.data.Dataset.random``
    (fresh in each epoch, reproducible from ``seed``), so masks differ between
    examples and epochs but a run can be repeated exactly.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Elements ``x`` or tuples ``(x, y, ...)`` with ``x`` of shape (frames, mels[, ...]).
    seed : int
    **kwargs
        Passed to :func:`spec_augment`.
    """
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2, drop_remainder=True)

    def augment(element, pair):
        if isinstance(element, tuple):
            return (spec_augment(element[0], pair, **kwargs), *element[1:])
        return spec_augment(element, pair, **kwargs)

    return tf.data.Dataset.zip((dataset, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
