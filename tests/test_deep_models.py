"""The deep architectures: shapes, a few training steps, safe-mode round trips, offline weights, SpecAugment."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from genre_core.training.augment import spec_augment, with_spec_augment  # noqa: E402
from genre_core.features import deep_input_shape  # noqa: E402
from genre_core.errors import WeightsUnavailableError  # noqa: E402
from genre_core.models import deep  # noqa: E402
from genre_core.models.persistence import save_keras  # noqa: E402

N_CLASSES = 3
#: Small options that keep the tests fast; the defaults are exercised by the shape checks.
TEST_OPTIONS = {"mobilenet_v2": {"weights": None, "alpha": 0.35}}
#: Dropout off for the few-step training check, where its noise would hide the trend.
NO_DROPOUT = {"cnn1d_raw", "mobilenet_v2", "crnn", "parallel_cnn_rnn"}


def _build(name: str, n_classes: int = N_CLASSES, **kwargs) -> tuple[keras.Model, tuple[int, ...]]:
    spec = deep.ARCHITECTURES[name]
    shape = deep_input_shape(spec.input_kind, 3.0)
    return deep.build_model(name, shape, n_classes, **{**TEST_OPTIONS.get(name, {}), **kwargs}), shape


def _toy_batch(kind: str, shape: tuple[int, ...], n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A learnable toy problem: the class sets the level (or, for raw audio, the frequency)."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % N_CLASSES
    if kind == "raw":
        t = np.arange(shape[0]) / 22050.0
        x = np.stack([0.5 * np.sin(2 * np.pi * 220.0 * (k + 1) * t) for k in labels])[..., None]
        x += 0.01 * rng.standard_normal(x.shape)
    else:
        low = -1.0 if kind == "mfcc" else 0.0
        levels = low + (labels + 1) / (N_CLASSES + 1) * (1.0 - low)
        x = levels.reshape(-1, *[1] * len(shape)) + 0.05 * rng.standard_normal((n, *shape))
    return x.astype(np.float32), labels.astype(np.int32)


@pytest.mark.parametrize("name", sorted(deep.ARCHITECTURES))
def test_builds_for_default_segment_input(name):
    keras.utils.set_random_seed(0)
    model, shape = _build(name, n_classes=7)
    assert model.name == name
    assert tuple(model.inputs[0].shape[1:]) == shape
    assert tuple(model.outputs[0].shape) == (None, 7)
    assert model.get_layer("head").units == 7
    probs = deep.probabilities(model.predict(np.zeros((2, *shape), np.float32), verbose=0), deep.ARCHITECTURES[name])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize("name", sorted(deep.ARCHITECTURES))
def test_trains_and_round_trips_in_safe_mode(name, tmp_path):
    keras.utils.set_random_seed(0)
    spec = deep.ARCHITECTURES[name]
    model, shape = _build(name, **({"dropout": 0.0} if name in NO_DROPOUT else {}))
    deep.compile_model(model, spec, jit_compile=False)
    x, y = _toy_batch(spec.input_kind, shape)
    losses = [float(model.train_on_batch(x, y)[0]) for _ in range(10)]
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    reference = model.predict(x, verbose=0)
    # exact: same ops, same order, same device -- the same graph from its config, the same weights, the
    # same batch, and the saved compile config (jit_compile=False) gives the same predict function.
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), reference)

    slim_path = tmp_path / f"{name}_inference.keras"
    save_keras(model, slim_path)
    slim = keras.saving.load_model(slim_path, safe_mode=True)
    # The slim file is saved uncompiled, so its predict runs with jit_compile="auto" (XLA wherever an
    # accelerator is visible), not the original's jit_compile=False: equal to float32 rounding only.
    # 1e-6 on probabilities (~16 ulps near 1); a weight lost in the export moves them by far more.
    np.testing.assert_allclose(deep.probabilities(slim.predict(x, verbose=0), spec),
                               deep.probabilities(reference, spec), rtol=0, atol=1e-6)
    assert slim_path.stat().st_size < path.stat().st_size


@pytest.mark.parametrize(("name", "frames"), [("crnn", 32), ("parallel_cnn_rnn", 32), ("parallel_cnn_rnn", 431)])
def test_mel_models_accept_any_segment_length(name, frames):
    model = deep.build_model(name, (frames, 128), N_CLASSES)
    out = model.predict(np.zeros((1, frames, 128), np.float32), verbose=0)
    assert out.shape == (1, N_CLASSES)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown architecture"):
        deep.build_model("resnet", (130, 128), 10)
    with pytest.raises(ValueError, match="at least 32 time frames"):
        deep.build_model("crnn", (16, 128), 10)
    with pytest.raises(ValueError, match="at least 2 classes"):
        deep.build_model("mfcc_dense", (130, 20), 1)
    with pytest.raises(ValueError, match="rank 2"):
        deep.build_model("cnn1d_raw", (10000,), 10)


def test_probabilities_softmax_only_for_logits():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    probs = deep.probabilities(logits, deep.ARCHITECTURES["cnn1d_raw"])
    np.testing.assert_allclose(probs[1], [1 / 3] * 3)
    np.testing.assert_allclose(probs[0], np.exp(logits[0]) / np.exp(logits[0]).sum())
    already = np.array([[0.2, 0.3, 0.5]])
    # exact: probabilities are passed through untouched for a softmax head
    np.testing.assert_array_equal(deep.probabilities(already, deep.ARCHITECTURES["crnn"]), already)


def test_conv_layer_names_are_named_and_bounded():
    assert deep.conv_layer_names(_build("cnn1d_raw")[0]) == ["conv1", "conv2"]
    assert deep.conv_layer_names(_build("crnn")[0]) == ["conv1", "conv2", "conv3"]
    assert deep.conv_layer_names(_build("parallel_cnn_rnn")[0]) == [f"conv{i}" for i in range(1, 6)]
    assert deep.conv_layer_names(_build("mfcc_dense")[0]) == []
    mobile = deep.conv_layer_names(_build("mobilenet_v2")[0])
    assert len(mobile) <= deep.MAX_CONV_LAYERS
    assert mobile[0] == "Conv1" and mobile[-1] == "Conv_1"


# --- MobileNetV2 weights are never downloaded ------------------------------------------


def test_mobilenet_pretrained_missing_raises_with_file_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailableError) as info:
        deep.build_model("mobilenet_v2", (224, 224, 3), N_CLASSES)
    message = str(info.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in message
    assert str(tmp_path / "models") in message
    assert "weights=None" in message and "--no-pretrained" in message
    assert isinstance(info.value, RuntimeError)


def test_mobilenet_missing_weights_path_raises(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        deep.build_model("mobilenet_v2", (96, 96, 3), N_CLASSES, weights=tmp_path / "absent.h5", alpha=0.35)


def _write_fake_imagenet_file(cache: os.PathLike, alpha: float, rows: int) -> keras.Model:
    """A randomly initialised base saved in the legacy .h5 layout Keras publishes its weights in."""
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(1)
    base = keras.applications.MobileNetV2(
        input_shape=(rows, rows, 3), alpha=alpha, include_top=False, weights=None
    )
    path = os.path.join(cache, "models", deep.mobilenet_v2_weights_file(alpha, rows))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    return base


def test_mobilenet_loads_cached_weights_offline_and_freezes_base(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    reference = _write_fake_imagenet_file(tmp_path, alpha=0.35, rows=96)
    model = deep.build_model("mobilenet_v2", (96, 96, 3), N_CLASSES, alpha=0.35)
    # exact: the weights are copied from the .h5 file, no arithmetic
    np.testing.assert_array_equal(
        model.get_layer("block_5_project").kernel.numpy(), reference.get_layer("block_5_project").kernel.numpy()
    )
    assert {w.name for w in model.trainable_weights} == {"kernel", "bias"}  # the head only
    assert len(model.trainable_weights) == 2

    tuned = deep.build_model("mobilenet_v2", (96, 96, 3), N_CLASSES, alpha=0.35, fine_tune_from=140)
    assert tuned.get_layer("Conv_1").trainable and not tuned.get_layer("Conv1").trainable
    assert not tuned.get_layer("Conv_1_bn").trainable  # batch norm stays in inference mode


# --- SpecAugment -----------------------------------------------------------------------


def _masked_rows_and_cols(out: np.ndarray, value: float) -> tuple[int, int]:
    hit = out == value
    return int(hit.all(axis=1).sum()), int(hit.all(axis=0).sum())


def test_spec_augment_masks_requested_widths():
    mel = np.random.default_rng(0).uniform(0.2, 1.0, (130, 128)).astype(np.float32)
    out = spec_augment(mel, seed=3, time_masks=1, time_width=20, freq_masks=1, freq_width=12,
                       mask_value=0.0, exact_widths=True)
    assert isinstance(out, np.ndarray) and out.dtype == mel.dtype and out.shape == mel.shape
    assert _masked_rows_and_cols(out, 0.0) == (20, 12)
    unmasked = out != 0.0
    np.testing.assert_array_equal(out[unmasked], mel[unmasked])  # exact: tf.where copies unmasked cells

    for seed in range(5):
        out = spec_augment(mel, seed=seed, time_masks=2, time_width=20, freq_masks=2, freq_width=12, mask_value=0.0)
        rows, cols = _masked_rows_and_cols(out, 0.0)
        assert rows <= 40 and cols <= 24


def test_spec_augment_default_fills_with_the_mean_and_keeps_type():
    mel = tf.random.stateless_uniform((64, 40), seed=(1, 2))
    out = spec_augment(mel, seed=1, time_masks=1, freq_masks=0, exact_widths=True)
    assert tf.is_tensor(out)
    rows = np.flatnonzero(np.any(out.numpy() != mel.numpy(), axis=1))
    assert len(rows) == 20
    np.testing.assert_allclose(out.numpy()[rows], float(tf.reduce_mean(mel)), rtol=1e-6)


def test_spec_augment_is_deterministic_by_seed():
    mel = np.random.default_rng(1).uniform(0.2, 1.0, (130, 128)).astype(np.float32)
    first = spec_augment(mel, seed=7)
    # exact: the same call on the same input (stateless RNG, tf.where select, one reduce_mean of one shape)
    np.testing.assert_array_equal(first, spec_augment(mel, seed=7))
    np.testing.assert_array_equal(first, spec_augment(mel, seed=(7, 0)))
    assert not np.array_equal(first, spec_augment(mel, seed=8))


def test_spec_augment_inside_dataset_map():
    mel = np.random.default_rng(2).uniform(0.2, 1.0, (4, 130, 128)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((mel, np.arange(4)))
    mapped = ds.map(lambda x, y: (spec_augment(x, seed=tf.stack([y, 1]), mask_value=0.0), y))
    for x, y in mapped:
        # exact: graph vs eager, but with mask_value=0.0 the output is a tf.where select: no arithmetic
        np.testing.assert_array_equal(x.numpy(), spec_augment(mel[int(y)], seed=(int(y), 1), mask_value=0.0))

    def run() -> list[np.ndarray]:
        return [x.numpy() for x, _ in with_spec_augment(ds, seed=5, mask_value=0.0, exact_widths=True)]

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)  # exact: the same pipeline twice, a select with mask_value=0.0
        rows, cols = _masked_rows_and_cols(a, 0.0)
        assert 20 <= rows <= 40 and 12 <= cols <= 24
    assert not all(np.array_equal(first[0], other) for other in first[1:])  # masks differ per example


def test_spec_augment_rejects_a_vector():
    with pytest.raises(ValueError, match="frames, mels"):
        spec_augment(np.zeros(100, np.float32))
