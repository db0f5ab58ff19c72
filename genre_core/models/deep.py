"""The five deep architectures, built with the Keras 3 functional API.

Each architecture is described by an :class:`ArchitectureSpec`: the
:func:`genre_core.features.deep_input` kind it reads, a builder
``build(input_shape, n_classes, **kwargs)``, and its training defaults.  Every
model is named after its architecture and every layer the app shows has a
meaningful name (``conv1`` ..., ``lstm``, ``gru``, ``head``).

Only built-in layers are used (no custom layers, no ``Lambda``), so a saved
``.keras`` file loads with ``keras.saving.load_model(path, safe_mode=True)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, regularizers

from ..errors import WeightsUnavailableError

#: Smallest number of time frames the mel models accept (five halvings in ``parallel_cnn_rnn``).
MIN_FRAMES: int = 32
#: Input sizes for which Keras publishes MobileNetV2 ImageNet weights.
_MOBILENET_SIZES: tuple[int, ...] = (96, 128, 160, 192, 224)
_MOBILENET_ALPHAS: tuple[float, ...] = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


@dataclass(frozen=True)
class ArchitectureSpec:
    """A deep architecture and its training defaults.

    Attributes
    ----------
    name : str
        Registry key, also the Keras model name.
    input_kind : str
        The :func:`genre_core.features.deep_input` kind: ``raw``, ``mfcc``, ``mel`` or ``mel_image``.
    build : callable
        ``build(input_shape, n_classes, **kwargs) -> keras.Model``.
    learning_rate : float
    optimizer : str
        ``adam`` or ``rmsprop``.
    outputs_logits : bool
        True when the model outputs logits rather than probabilities.
    description : str
        One sentence for model cards and the UI.
    imagenet_base : bool
        Built on a Keras application whose ImageNet weights are optional:
        ``build`` then takes ``weights``, ``alpha`` and ``fine_tune_from``.
    """

    name: str
    input_kind: str
    build: Callable[..., keras.Model]
    learning_rate: float
    optimizer: str
    outputs_logits: bool
    description: str
    imagenet_base: bool = False


def _check_shape(name: str, input_shape: tuple[int, ...], rank: int, last: int | None = None) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != rank or any(d <= 0 for d in shape):
        raise ValueError(f"{name} expects an input shape of rank {rank}, got {input_shape!r}")
    if last is not None and shape[-1] != last:
        raise ValueError(f"{name} expects {last} values in the last axis, got input shape {input_shape!r}")
    return shape


def _check_classes(n_classes: int) -> int:
    if int(n_classes) < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got n_classes={n_classes}")
    return int(n_classes)


def _check_frames(name: str, shape: tuple[int, ...]) -> None:
    if shape[0] < MIN_FRAMES:
        raise ValueError(
            f"{name} needs at least {MIN_FRAMES} time frames (about 0.75 s at hop 512), got {shape[0]}"
        )


# --- 1. 1-D CNN on raw audio -----------------------------------------------------------


def build_cnn1d_raw(
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    pool_size: int = 8,
    dropout: float = 0.5,
) -> keras.Model:
    """1-D CNN on a raw waveform window, output logits.

    Conv1D(128, 3) → pool → Conv1D(64, 3) → pool → Dense(100) → Dense(20) → Dense(n).
    The pools are 8 wide rather than 2: with pairwise pooling the flattened
    10 000-sample window feeds 160 k values into Dense(100), 16 M weights
    (64 MB), beyond the size budget for shipped models.
    """
    shape = _check_shape("cnn1d_raw", input_shape, 2, last=1)
    n_classes = _check_classes(n_classes)
    inputs = keras.Input(shape=shape, name="waveform")
    x = layers.Conv1D(128, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling1D(pool_size, name="pool1")(x)
    x = layers.Conv1D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling1D(pool_size, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(100, activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="dropout1")(x)
    x = layers.Dense(20, activation="relu", name="fc2")(x)
    x = layers.Dropout(dropout, name="dropout2")(x)
    outputs = layers.Dense(n_classes, name="head")(x)
    return keras.Model(inputs, outputs, name="cnn1d_raw")


# --- 2. dense network on MFCC frames ---------------------------------------------------


def build_mfcc_dense(input_shape: tuple[int, ...], n_classes: int, *, units: int = 100) -> keras.Model:
    """Flattened (frames, 20) MFCCs in [-1, 1] → Dense(100, relu) → Dense(n, softmax)."""
    shape = _check_shape("mfcc_dense", input_shape, 2)
    n_classes = _check_classes(n_classes)
    inputs = keras.Input(shape=shape, name="mfcc")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(units, activation="relu", name="fc1")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="mfcc_dense")


# --- 3. MobileNetV2 transfer learning on mel images ------------------------------------


def keras_cache_dir() -> Path:
    """The folder where Keras looks for downloaded model weights (``$KERAS_HOME/models``).

    Read at call time, unlike Keras itself, so tests and users can point
    ``KERAS_HOME`` elsewhere after import.
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home).expanduser() / "models"


def mobilenet_v2_weights_file(alpha: float = 1.0, rows: int = 224) -> str:
    """File name of the Keras MobileNetV2 ImageNet weights without the top."""
    rows = rows if rows in _MOBILENET_SIZES else 224
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}_no_top.h5"


def _resolve_mobilenet_weights(weights: str | os.PathLike | None, alpha: float, rows: int) -> str | None:
    """An existing weights path, or None; never lets Keras reach for the network."""
    if weights is None:
        return None
    if str(weights) != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsUnavailableError(
                f"MobileNetV2 weights file {str(path)!r} does not exist; pass weights=None "
                "(--no-pretrained) to train from scratch"
            )
        return str(path)
    if float(alpha) not in _MOBILENET_ALPHAS:
        raise ValueError(f"ImageNet MobileNetV2 weights exist only for alpha in {_MOBILENET_ALPHAS}, got {alpha}")
    cache = keras_cache_dir()
    path = cache / mobilenet_v2_weights_file(alpha, rows)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"pretrained MobileNetV2 weights {path.name!r} are not in the Keras cache {str(cache)!r} "
            "and there is no internet to download them. Place the file there (or set KERAS_HOME to "
            f"a folder whose models/ subfolder holds it), pass weights='path/to/{path.name}', "
            "or pass weights=None (--no-pretrained) to train from scratch."
        )
    return str(path)


def build_mobilenet_v2(
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    weights: str | os.PathLike | None = "imagenet",
    alpha: float = 1.0,
    fine_tune_from: int | None = None,
    dropout: float = 0.2,
) -> keras.Model:
    """MobileNetV2 base (without top) on a (224, 224, 3) mel image in [0, 1], new softmax head.

    The base's layers are built directly on the rescaled input (one flat
    graph rather than a nested model), so every MobileNetV2 layer is reachable
    with ``model.get_layer`` for the explanations.

    Parameters
    ----------
    input_shape : tuple
        (rows, cols, 3).
    n_classes : int
    weights : {'imagenet', None} or path
        ``'imagenet'`` reads the Keras cache only (see :func:`keras_cache_dir`)
        and raises :class:`WeightsUnavailableError` when the file is missing.
    alpha : float
        Width multiplier (0.35 for the small demo).
    fine_tune_from : int, optional
        Freeze the base's layers below this index (counted as in
        ``keras.applications.MobileNetV2(...).layers``) and train the rest.  With
        pretrained weights and ``None`` the whole base is frozen.  Batch
        normalisation stays frozen (inference mode) whenever weights are
        pretrained, as the Keras transfer-learning guide recommends.
    dropout : float
    """
    shape = _check_shape("mobilenet_v2", input_shape, 3, last=3)
    n_classes = _check_classes(n_classes)
    if min(shape[:2]) < 32:
        raise ValueError(f"mobilenet_v2 needs images of at least 32x32 pixels, got {input_shape!r}")
    weights_path = _resolve_mobilenet_weights(weights, alpha, shape[0])
    inputs = keras.Input(shape=shape, name="mel_image")
    # The mel image is in [0, 1]; MobileNetV2 was trained on [-1, 1].
    scaled = layers.Rescaling(2.0, offset=-1.0, name="to_unit_range")(inputs)
    base = keras.applications.MobileNetV2(
        input_shape=shape, alpha=alpha, include_top=False, weights=weights_path, input_tensor=scaled
    )
    base_layers = [layer for layer in base.layers if layer.name not in {inputs.name, "to_unit_range"}
                   and not isinstance(layer, keras.layers.InputLayer)]
    pretrained = weights_path is not None
    if pretrained or fine_tune_from is not None:
        first_trainable = len(base_layers) + 1 if fine_tune_from is None else int(fine_tune_from)
        # Index as in keras.applications.MobileNetV2(...).layers, where 0 is the input layer.
        for index, layer in enumerate(base_layers, start=1):
            frozen_bn = pretrained and isinstance(layer, layers.BatchNormalization)
            layer.trainable = index >= first_trainable and not frozen_bn
    x = layers.GlobalAveragePooling2D(name="avg_pool")(base.output)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2")


# --- 4. convolutional-recurrent network on mel frames ----------------------------------


def build_crnn(
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    filters: tuple[int, int, int] = (64, 128, 128),
    lstm_units: int = 96,
    dropout: float = 0.4,
    l2: float = 1e-3,
) -> keras.Model:
    """Three Conv1D blocks over time, then LSTM(96) → Dense(64) → Dense(n, softmax).

    Input (frames, 128): the mel bands are the Conv1D channels, so the
    convolutions slide along time only.
    """
    shape = _check_shape("crnn", input_shape, 2)
    _check_frames("crnn", shape)
    n_classes = _check_classes(n_classes)
    inputs = keras.Input(shape=shape, name="mel")
    x = inputs
    for i, n_filters in enumerate(filters, start=1):
        x = layers.Conv1D(n_filters, 3, padding="same", kernel_regularizer=regularizers.l2(l2), name=f"conv{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.MaxPooling1D(2, name=f"pool{i}")(x)
    x = layers.LSTM(lstm_units, name="lstm")(x)
    x = layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(l2), name="fc1")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="crnn")


# --- 5. parallel CNN and RNN branches on the mel image ---------------------------------


def build_parallel_cnn_rnn(
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    filters: tuple[int, ...] = (16, 32, 64, 64, 64),
    pools: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 2), (4, 4), (4, 4)),
    gru_units: int = 64,
    dropout: float = 0.3,
) -> keras.Model:
    """A Conv2D branch (→ 256) and a bidirectional-GRU branch (→ 128) in parallel, concatenated.

    Input (frames, mels) is treated as a one-channel image.  The recurrent
    branch pools (4, 2) and reads the result as a sequence of frames.
    """
    shape = _check_shape("parallel_cnn_rnn", input_shape, 2)
    _check_frames("parallel_cnn_rnn", shape)
    if shape[1] < 2:
        raise ValueError(f"parallel_cnn_rnn needs at least 2 mel bands, got input shape {input_shape!r}")
    n_classes = _check_classes(n_classes)
    inputs = keras.Input(shape=shape, name="mel")
    # -1 rather than the frame count keeps the conv layers usable on other lengths (explanations).
    image = layers.Reshape((-1, shape[1], 1), name="as_image")(inputs)

    x = image
    for i, (n_filters, pool) in enumerate(zip(filters, pools), start=1):
        x = layers.Conv2D(n_filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        # 'same' pooling never shrinks an axis to zero, so short segments still work.
        x = layers.MaxPooling2D(pool, padding="same", name=f"pool{i}")(x)
    x = layers.Flatten(name="conv_flatten")(x)
    conv_branch = layers.Dense(256, activation="relu", name="conv_dense")(x)

    r = layers.MaxPooling2D((4, 2), name="rnn_pool")(image)
    r = layers.Reshape((-1, shape[1] // 2), name="rnn_sequence")(r)
    rnn_branch = layers.Bidirectional(layers.GRU(gru_units), name="gru")(r)

    x = layers.Concatenate(name="concat")([conv_branch, rnn_branch])
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="parallel_cnn_rnn")


ARCHITECTURES: dict[str, ArchitectureSpec] = {
    spec.name: spec
    for spec in (
        ArchitectureSpec(
            name="cnn1d_raw",
            input_kind="raw",
            build=build_cnn1d_raw,
            learning_rate=1e-3,
            optimizer="adam",
            outputs_logits=True,
            description=(
                "A 1-D CNN reading the first 10 000 raw samples of a segment, in the spirit of "
                "Dieleman & Schrauwen's end-to-end learning from raw audio (ICASSP 2014)."
            ),
        ),
        ArchitectureSpec(
            name="mfcc_dense",
            input_kind="mfcc",
            build=build_mfcc_dense,
            learning_rate=1e-3,
            optimizer="adam",
            outputs_logits=False,
            description=(
                "A one-hidden-layer dense network on normalised MFCC frames, the timbre features "
                "of Tzanetakis & Cook's GTZAN study (IEEE TSAP 2002)."
            ),
        ),
        ArchitectureSpec(
            name="mobilenet_v2",
            input_kind="mel_image",
            build=build_mobilenet_v2,
            learning_rate=1e-3,
            optimizer="adam",
            outputs_logits=False,
            description=(
                "MobileNetV2 (Sandler et al., CVPR 2018) pretrained on ImageNet and transferred to "
                "mel-spectrogram images, as in transfer-learning studies of spectrogram classification."
            ),
            imagenet_base=True,
        ),
        ArchitectureSpec(
            name="crnn",
            input_kind="mel",
            build=build_crnn,
            learning_rate=1e-3,
            optimizer="adam",
            outputs_logits=False,
            description=(
                "A convolutional-recurrent network, 1-D convolutions over mel frames followed by an "
                "LSTM, after Choi et al.'s CRNN for music classification (ICASSP 2017)."
            ),
        ),
        ArchitectureSpec(
            name="parallel_cnn_rnn",
            input_kind="mel",
            build=build_parallel_cnn_rnn,
            learning_rate=5e-4,
            optimizer="rmsprop",
            outputs_logits=False,
            description=(
                "Parallel CNN and bidirectional-GRU branches over the mel spectrogram, after Feng, "
                "Liu & Yao's paralleling recurrent convolutional network (2017)."
            ),
        ),
    )
}


def get_spec(name: str) -> ArchitectureSpec:
    """The :class:`ArchitectureSpec` called ``name``, with a clear error for unknown names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose from {sorted(ARCHITECTURES)}") from None


def build_model(name: str, input_shape: tuple[int, ...], n_classes: int, **kwargs) -> keras.Model:
    """Build the named architecture (uncompiled).

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    input_shape : tuple of int
        Shape of one input, without the batch axis (see
        :func:`genre_core.features.deep_input_shape`).
    n_classes : int
    **kwargs
        Architecture options, e.g. ``weights``, ``alpha`` and ``fine_tune_from`` for ``mobilenet_v2``.
    """
    return get_spec(name).build(tuple(input_shape), n_classes, **kwargs)


def compile_model(
    model: keras.Model, spec: ArchitectureSpec, learning_rate: float | None = None, **compile_kwargs
) -> keras.Model:
    """Compile with the spec's optimizer, sparse categorical cross-entropy and accuracy.

    ``compile_kwargs`` go to ``model.compile`` (e.g. ``jit_compile=False``,
    which on CPU saves tens of seconds of XLA compilation for MobileNetV2).
    """
    rate = spec.learning_rate if learning_rate is None else float(learning_rate)
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
    if spec.optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {spec.optimizer!r}; choose from {sorted(optimizers)}")
    model.compile(
        optimizer=optimizers[spec.optimizer](learning_rate=rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=spec.outputs_logits),
        metrics=["accuracy"],
        **compile_kwargs,
    )
    return model


def probabilities(model_output: np.ndarray, spec: ArchitectureSpec) -> np.ndarray:
    """Class probabilities from a model's output: softmax of logits, otherwise unchanged.

    Returns
    -------
    np.ndarray, float64, same shape; rows sum to 1.
    """
    out = np.asarray(model_output, dtype=np.float64)
    if not spec.outputs_logits:
        return out
    shifted = out - out.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


_CONV_TYPES = (layers.Conv1D, layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv1D, layers.SeparableConv2D)
#: At most this many layers are listed for deep image backbones (MobileNetV2 has 52 convolutions).
MAX_CONV_LAYERS: int = 12


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, descending into nested models."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
        else:
            found.append(layer)
    return found


def conv_layer_names(model: keras.Model, max_layers: int = MAX_CONV_LAYERS) -> list[str]:
    """Names of the model's convolution layers, input side first.

    Descends into nested models.  When there are more than ``max_layers``
    (MobileNetV2 has 52), only the convolutions that end a block are
    candidates (depthwise and 1x1 expansion convolutions are left out) and a
    set evenly spaced through the network is kept, always including the first
    and the last convolution.
    """
    convs = [layer for layer in _all_layers(model) if isinstance(layer, _CONV_TYPES)]
    if len(convs) <= max_layers:
        return [layer.name for layer in convs]
    block_ends = [
        layer for layer in convs
        if not isinstance(layer, layers.DepthwiseConv2D) and not layer.name.endswith("_expand")
    ]
    picks = np.unique(np.round(np.linspace(0, len(block_ends) - 1, max_layers)).astype(int))
    return [block_ends[i].name for i in picks]
