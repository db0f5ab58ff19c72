"""Looking inside a trained CNN: feature maps, activation maximisation and Grad-CAM.

Pure functions of a Keras model and numpy inputs, returning numpy arrays; the
app does the plotting.  They work on the flat models of
:mod:`genre_core.models.deep` and also when the convolutions live inside a
nested base model (e.g. a ``keras.applications`` model called as one layer).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .models.deep import ARCHITECTURES, conv_layer_names

#: Valid value range of each deep input kind (raw audio and MFCCs are scaled to [-1, 1]).
INPUT_RANGES: dict[str, tuple[float, float]] = {
    "raw": (-1.0, 1.0),
    "mfcc": (-1.0, 1.0),
    "mel": (0.0, 1.0),
    "mel_image": (0.0, 1.0),
    # log10(10000 * mel + 1): 0 is silence; loud music peaks near 5.
    "musicnn_logmel": (0.0, 5.0),
}
#: Model names (``keras.Model.name``) of the pretrained taggers, which take musicnn's log-mel.
TAGGER_MODEL_NAMES: tuple[str, ...] = ("musicnn", "vgg")
#: File beside a model holding its precomputed activation-maximisation patterns.
PATTERNS_FILE: str = "patterns.npz"
#: How many filters of the last convolution :func:`first_and_last_block_filters` shows.
LAST_LAYER_FILTERS: int = 24

# Probe sub-models and compiled ascent functions, per model: building them
# costs far more than running them (a second for MobileNetV2), and the app asks
# repeatedly about the same model.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(model: keras.Model, key: tuple, make: Callable[[], Any]) -> Any:
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = make()
    return per_model[key]


def _locate(model: keras.Model, name: str) -> keras.Model:
    """The model (``model`` itself or one of its nested models) whose graph holds layer ``name``."""
    if any(layer.name == name for layer in model.layers):
        return model
    for layer in model.layers:
        if isinstance(layer, keras.Model) and any(inner.name == name for inner in layer.layers):
            return layer
    raise ValueError(
        f"model {model.name!r} has no layer {name!r} (models nested two or more deep are not searched)"
    )


def _score_tensor(model: keras.Model) -> Any:
    """The tensor whose gradient Grad-CAM follows: the logits before a final sigmoid layer, else the output."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Activation) and getattr(last.activation, "__name__", "") == "sigmoid":
        return last.input
    return model.outputs[0]


def _softmax_head(model: keras.Model) -> keras.layers.Dense | None:
    """The final Dense layer when it applies a softmax (its logits are then computed by hand)."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense) and getattr(last.activation, "__name__", "") == "softmax":
        return last
    return None


class _Probe:
    """One forward pass from the model's input to chosen layer activations and, optionally, class scores.

    Class scores are pre-softmax logits (Grad-CAM's y^c): a saturated softmax
    would give vanishing gradients for confident predictions.
    """

    def __init__(
        self,
        model: keras.Model,
        layer_names: Sequence[str],
        with_scores: bool = False,
        input_shape: tuple[int, ...] | None = None,
    ):
        if len(model.inputs) != 1:
            raise ValueError("explanations support single-input models only")
        self.with_scores = with_scores
        self.head = _softmax_head(model) if with_scores else None
        score_tensor = (self.head.input if self.head is not None else _score_tensor(model)) if with_scores else None
        owners = {_locate(model, name) for name in layer_names}
        if len(owners) > 1:
            raise ValueError("the requested layers must all lie in the same (possibly nested) model")
        owner = owners.pop() if owners else model
        resized = input_shape is not None and tuple(input_shape) != tuple(model.inputs[0].shape[1:])
        if resized and (with_scores or owner is not model):
            raise ValueError("a different input_shape works only for activations of a flat model")
        if owner is model:
            acts = [model.get_layer(name).output for name in layer_names]
            self.pre = self.post = None
            self.inner = keras.Model(model.inputs, acts + ([score_tensor] if with_scores else []))
            if resized:
                self.inner = _on_new_input(self.inner, tuple(input_shape))
            return
        # Nested model: outer input → nested model's input; the nested model
        # itself (to the activations and its own output); its output → scores.
        # Keras 3 has no public accessor for the tensors around a nested model's call.
        nodes = owner._inbound_nodes
        if len(nodes) != 1:
            raise ValueError(f"nested model {owner.name!r} is called {len(nodes)} times; expected once")
        node = nodes[0]
        self.pre = keras.Model(model.inputs, node.input_tensors)
        acts = [owner.get_layer(name).output for name in layer_names]
        self.inner = keras.Model(owner.inputs, acts + (list(owner.outputs) if with_scores else []))
        self.post = keras.Model(node.output_tensors, score_tensor) if with_scores else None

    def __call__(self, x: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor | None]:
        """Activations (each with a batch axis) and class scores (None without ``with_scores``)."""
        h = self.pre(x, training=False) if self.pre is not None else x
        out = self.inner(h, training=False)
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        if not self.with_scores:
            return out, None
        *acts, scores = out
        if self.post is not None:
            scores = self.post(scores, training=False)
        if self.head is not None:
            scores = tf.matmul(scores, self.head.kernel)
            if self.head.use_bias:
                scores = scores + self.head.bias
        return acts, scores


def _on_new_input(probe: keras.Model, input_shape: tuple[int, ...]) -> keras.Model:
    """The same layers (shared weights) re-applied to an input of another shape."""
    try:
        return keras.models.clone_model(
            probe, input_tensors=[keras.Input(input_shape)], clone_function=lambda layer: layer
        )
    except ValueError as error:
        raise ValueError(
            f"the layers before {probe.outputs[0].name!r} need the model's own input shape "
            f"{tuple(probe.inputs[0].shape[1:])}, not {input_shape}: {error}"
        ) from None


def _probe(
    model: keras.Model,
    layer_names: Sequence[str],
    with_scores: bool = False,
    input_shape: tuple[int, ...] | None = None,
) -> _Probe:
    key = ("probe", tuple(layer_names), with_scores, None if input_shape is None else tuple(input_shape))
    return _cached(model, key, lambda: _Probe(model, layer_names, with_scores, input_shape))


def _batched_input(model: keras.Model, x: np.ndarray) -> tf.Tensor:
    """``x`` (one example) with a batch axis, checked against the model's input shape."""
    x = np.asarray(x, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim != len(expected) or any(e is not None and e != d for e, d in zip(expected, x.shape)):
        raise ValueError(f"model {model.name!r} takes one input of shape {expected}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("input contains NaN or infinite values")
    return tf.convert_to_tensor(x[None])


def input_value_range(model: keras.Model) -> tuple[float, float]:
    """The valid range of the model's input values, from its architecture's input kind.

    Models that are not one of :data:`~genre_core.models.deep.ARCHITECTURES`
    are assumed to take unit-range spectrograms, (0, 1).
    """
    if model.name in TAGGER_MODEL_NAMES:
        return INPUT_RANGES["musicnn_logmel"]
    spec = ARCHITECTURES.get(model.name)
    return INPUT_RANGES[spec.input_kind] if spec is not None else (0.0, 1.0)


def feature_maps(
    model: keras.Model, x: np.ndarray, layer_names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Activations of convolution layers for one input.

    Parameters
    ----------
    model : keras.Model
    x : np.ndarray
        One input, without the batch axis.
    layer_names : sequence of str, optional
        Default :func:`~genre_core.models.deep.conv_layer_names` (empty for a
        model without convolutions).

    Returns
    -------
    dict of name → np.ndarray
        Without the batch axis: (T, C) for Conv1D, (H, W, C) for Conv2D.
    """
    names = list(conv_layer_names(model) if layer_names is None else layer_names)
    batch = _batched_input(model, x)
    if not names:
        return {}
    acts, _ = _probe(model, names)(batch)
    return {name: np.asarray(a)[0] for name, a in zip(names, acts)}


def _channel_count(model: keras.Model, layer_name: str) -> int:
    return int(_locate(model, layer_name).get_layer(layer_name).output.shape[-1])


def activation_maximization(
    model: keras.Model,
    layer_name: str,
    filter_indices: Sequence[int],
    steps: int = 30,
    step_size: float = 0.05,
    seed: int = 0,
    input_shape: tuple | None = None,
    value_range: tuple[float, float] | None = None,
    start_spread: float = 0.05,
) -> np.ndarray:
    """Inputs that excite chosen filters, by gradient ascent on the input.

    Starts from small noise around the middle of the valid range and takes
    ``steps`` steps of ``step_size`` × range along the RMS-normalised gradient
    of each filter's mean activation, clipping to the valid range after each
    step; a step that would lower the activation is halved instead, so the
    result never excites its filter less than the start.  All filters are
    optimised together as one batch in one ``tf.function``.

    Parameters
    ----------
    model : keras.Model
    layer_name : str
    filter_indices : sequence of int
        Output channels of ``layer_name``.
    steps : int
    step_size : float
        Fraction of the input range per step.
    seed : int
    input_shape : tuple, optional
        Default: the model's input shape (without batch axis).  A smaller
        shape is much faster where the layers up to ``layer_name`` accept it
        (e.g. ``(2000, 1)`` for ``cnn1d_raw``, fewer frames for the mel models).
    value_range : (low, high), optional
        Default :func:`input_value_range`.
    start_spread : float
        Standard deviation of the starting noise, as a fraction of the range.
        ReLU filters that are silent on a near-constant start get no gradient;
        a wider start (e.g. 0.5) wakes them.

    Returns
    -------
    np.ndarray, shape (n_filters, *input_shape)
    """
    filters = [int(i) for i in filter_indices]
    n_channels = _channel_count(model, layer_name)
    if not filters:
        raise ValueError("filter_indices is empty")
    if any(not 0 <= i < n_channels for i in filters):
        raise ValueError(f"layer {layer_name!r} has {n_channels} filters; got indices {filters}")
    shape = tuple(model.inputs[0].shape[1:]) if input_shape is None else tuple(int(d) for d in input_shape)
    if any(d is None for d in shape):
        raise ValueError(f"model input shape {shape} has free axes; pass input_shape")
    low, high = input_value_range(model) if value_range is None else value_range
    span = float(high - low)
    rng = np.random.default_rng(seed)
    start = np.clip((low + high) / 2 + start_spread * span * rng.standard_normal((len(filters), *shape)), low, high)
    ascend = _cached(
        model, ("ascent", layer_name, shape),
        lambda: _ascent_function(_probe(model, [layer_name], input_shape=shape)),
    )
    result = ascend(
        tf.constant(start, tf.float32),
        tf.constant(filters, tf.int32),
        tf.constant(int(steps), tf.int32),
        tf.constant(step_size * span, tf.float32),
        tf.constant(low, tf.float32),
        tf.constant(high, tf.float32),
    )
    return result.numpy()


def _ascent_function(probe: _Probe) -> Callable[..., tf.Tensor]:
    """Compiled gradient ascent of each example's own filter, shared across calls.

    A step that does not raise an example's objective is rejected and that
    example's step size halved: with ReLU filters the gradient is often
    sparse, its RMS-normalised step large where it is non-zero, and a full
    step can silence the filter for good.
    """

    def objective(x: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
        (act,), _ = probe(x)
        chosen = tf.gather(act, filters, axis=act.shape.rank - 1, batch_dims=1)
        return tf.reduce_mean(tf.reshape(chosen, [tf.shape(x)[0], -1]), axis=1)

    @tf.function(reduce_retracing=True)
    def ascend(x, filters, steps, step, low, high):
        per_example = [-1] + [1] * (x.shape.rank - 1)
        steps_now = tf.fill(tf.shape(x)[:1], step)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = objective(x, filters)
                total = tf.reduce_sum(value)
            grad = tape.gradient(total, x)
            rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=list(range(1, x.shape.rank)), keepdims=True))
            candidate = tf.clip_by_value(x + tf.reshape(steps_now, per_example) * grad / (rms + 1e-8), low, high)
            better = objective(candidate, filters) > value
            x = tf.where(tf.reshape(better, per_example), candidate, x)
            steps_now = tf.where(better, steps_now, steps_now / 2)
        return x

    return ascend


def filter_activation(
    model: keras.Model, layer_name: str, inputs: np.ndarray, filter_indices: Sequence[int]
) -> np.ndarray:
    """Mean activation of filter ``filter_indices[i]`` on ``inputs[i]`` (a batch), shape (n,)."""
    inputs = np.asarray(inputs, dtype=np.float32)
    (act,), _ = _probe(model, [layer_name], input_shape=inputs.shape[1:])(tf.convert_to_tensor(inputs))
    act = np.asarray(act)
    return np.array([act[i, ..., f].mean() for i, f in enumerate(filter_indices)])


def first_and_last_block_filters(model: keras.Model) -> tuple[str, list[int], str, list[int]]:
    """What the app visualises: the first convolution with all its filters, the last with its first 24.

    Returns
    -------
    first_layer, first_filters, last_layer, last_filters
    """
    names = conv_layer_names(model)
    if not names:
        raise ValueError(f"model {model.name!r} has no convolution layers")
    first, last = names[0], names[-1]
    return (
        first,
        list(range(_channel_count(model, first))),
        last,
        list(range(min(LAST_LAYER_FILTERS, _channel_count(model, last)))),
    )


def _resize_1d(values: np.ndarray, length: int) -> np.ndarray:
    # Cell-centre alignment, as tf.image.resize's half-pixel centres.
    source = (np.arange(length) + 0.5) * len(values) / length - 0.5
    return np.interp(source, np.arange(len(values)), values)


def grad_cam(model: keras.Model, x: np.ndarray, class_index: int, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heatmap (Selvaraju et al., 2017) of one class for one input.

    Channels of the convolution output are weighted by the spatially averaged
    gradient of the class's pre-softmax score, summed, passed through a ReLU,
    scaled to [0, 1] and resized to the input's grid so it overlays it.

    Parameters
    ----------
    model : keras.Model
    x : np.ndarray
        One input, without the batch axis.
    class_index : int
    layer_name : str, optional
        Default: the last convolution layer.

    Returns
    -------
    np.ndarray, float32
        Shape ``x.shape[:k]`` for a k-D convolution: (frames,) for Conv1D
        models, (frames, mels) or (rows, cols) for Conv2D ones.  All zeros when
        no position supports the class.
    """
    if layer_name is None:
        names = conv_layer_names(model)
        if not names:
            raise ValueError(f"model {model.name!r} has no convolution layers for Grad-CAM")
        layer_name = names[-1]
    batch = _batched_input(model, x)
    probe = _probe(model, [layer_name], with_scores=True)
    n_classes = int(model.outputs[0].shape[-1])
    if not 0 <= int(class_index) < n_classes:
        raise ValueError(f"class_index must be in 0..{n_classes - 1}, got {class_index}")
    with tf.GradientTape() as tape:
        (act,), scores = probe(batch)
        score = scores[:, int(class_index)]
    grads = tape.gradient(score, act)
    act, grads = np.asarray(act)[0], np.asarray(grads)[0]
    spatial_axes = tuple(range(act.ndim - 1))
    weights = grads.mean(axis=spatial_axes)
    cam = np.maximum((act * weights).sum(axis=-1), 0.0)
    if cam.ndim == 1:
        cam = _resize_1d(cam, batch.shape[1])
    else:
        cam = tf.image.resize(cam[..., None], batch.shape[1:3], method="bilinear").numpy()[..., 0]
    peak = float(cam.max())
    return (cam / peak if peak > 0 else np.zeros_like(cam)).astype(np.float32)


def store_patterns(model: keras.Model, model_dir: Any, *, steps: int = 30, seed: int = 0,
                   input_shape: tuple[int, ...] | None = None, max_first_filters: int | None = None,
                   chunk: int = 16, start_spread: float = 0.05) -> Any:
    """Compute the activation-maximisation patterns the app shows and save them beside the model.

    They depend only on the weights, so they are computed once (at training or
    import time) instead of on every page view.  The layers and filters are
    those of :func:`first_and_last_block_filters`, optimised ``chunk`` filters
    at a time so memory stays bounded.

    Parameters
    ----------
    input_shape : tuple, optional
        A shorter input than the model's own, for fully convolutional front
        ends (the taggers': ``(94, 96)``, 1.5 s); see :func:`activation_maximization`.
    max_first_filters : int, optional
        Keep only this many filters of the first layer (musicnn has 204).

    Returns
    -------
    pathlib.Path
        ``<model_dir>/patterns.npz`` with, per layer ``L``: ``L/filters`` (int
        indices), ``L/patterns`` (n_filters, *input_shape) and ``L/activation``
        (each pattern's mean activation of its filter), ``L/start_activation``
        (the same for the ascent's starting point, zero steps); plus ``steps``,
        ``seed`` and ``start_spread``.
    """
    from pathlib import Path

    first, first_filters, last, last_filters = first_and_last_block_filters(model)
    # Trained nets leave many filters with (near-)zero weights (weight decay):
    # MSD musicnn uses 23 of its 204 7x38 timbral filters.  Such a filter has no
    # pattern at all, so the strongest filters are the ones worth showing.
    first_filters = strongest_filters(model, first, max_first_filters or len(first_filters))
    last_filters = strongest_filters(model, last, len(last_filters))
    arrays: dict[str, np.ndarray] = {"steps": np.array(steps), "seed": np.array(seed),
                                     "start_spread": np.array(start_spread), "layers": np.array([first, last])}

    def activations(inputs: np.ndarray, filters: list[int]) -> np.ndarray:
        return np.concatenate([filter_activation(model, layer, inputs[i:i + chunk], filters[i:i + chunk])
                               for i in range(0, len(filters), chunk)]).astype(np.float32)

    for layer, filters in ((first, first_filters), (last, last_filters)):
        def ascend(n_steps: int, layer: str = layer, filters: list[int] = filters) -> np.ndarray:
            return np.concatenate([
                activation_maximization(model, layer, filters[i:i + chunk], steps=n_steps, seed=seed + i,
                                        input_shape=input_shape, start_spread=start_spread)
                for i in range(0, len(filters), chunk)])

        patterns = ascend(steps)
        arrays[f"{layer}/filters"] = np.array(filters, dtype=np.int32)
        arrays[f"{layer}/patterns"] = patterns.astype(np.float16)
        arrays[f"{layer}/activation"] = activations(patterns, filters)
        arrays[f"{layer}/start_activation"] = activations(ascend(0), filters)
    path = Path(model_dir) / PATTERNS_FILE
    np.savez_compressed(path, **arrays)
    return path


def filter_norms(model: keras.Model, layer_name: str) -> np.ndarray:
    """L2 norm of each filter's kernel, shape (n_filters,).

    A norm near zero marks a filter the training switched off.

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((8, 1)), keras.layers.Conv1D(3, 2, name="c")])
    >>> m.get_layer("c").set_weights([np.stack([np.ones((2, 1)), np.zeros((2, 1)), np.ones((2, 1))], -1), np.zeros(3)])
    >>> filter_norms(m, "c").round(3).tolist()
    [1.414, 0.0, 1.414]
    """
    kernel = np.asarray(_locate(model, layer_name).get_layer(layer_name).get_weights()[0])
    return np.sqrt((kernel.astype(np.float64).reshape(-1, kernel.shape[-1]) ** 2).sum(axis=0))


def alive_filters(model: keras.Model, layer_name: str, relative: float = 1e-3) -> list[int]:
    """Filters whose kernel norm is above ``relative`` x the layer's largest: the ones in use."""
    norms = filter_norms(model, layer_name)
    return [int(i) for i in np.flatnonzero(norms > relative * norms.max())]


def strongest_filters(model: keras.Model, layer_name: str, n: int) -> list[int]:
    """The ``n`` filters with the largest kernel norms, in index order."""
    norms = filter_norms(model, layer_name)
    return sorted(int(i) for i in np.argsort(-norms, kind="stable")[:n])


def load_patterns(model_dir: Any) -> dict[str, tuple[list[int], np.ndarray]] | None:
    """Precomputed patterns from :func:`store_patterns`: layer → (filter indices, patterns), or None.

    Read with ``allow_pickle=False``: the file holds plain arrays only.
    """
    from pathlib import Path

    path = Path(model_dir) / PATTERNS_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {str(layer): ([int(i) for i in data[f"{layer}/filters"]],
                             data[f"{layer}/patterns"].astype(np.float32))
                for layer in data["layers"]}
