"""Pruning musicnn's dead front-end filters: proved dead, equal outputs, full model where not proved."""

from __future__ import annotations

import numpy as np
import pytest

from genre_core.features import musicnn_logmel
from genre_core.models.dead_filters import LOGMEL_MAX, dead_filters, in_proven_range, prune_dead_filters

from ._shared_data import GTZAN_AUDIO, require

MUSICNN_TAGGERS = ("msd_musicnn", "mtt_musicnn")


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


def _probe(model, stems):
    import keras

    return keras.Model(model.inputs, [model.get_layer(stem).output for stem in stems])


def test_logmel_max_is_the_float16_ceiling():
    """Every finite musicnn log-mel value is at most LOGMEL_MAX; a mel power beyond float16 gives inf, which
    the proved range excludes (so such a patch runs through the full model)."""
    t = np.arange(32000) / 16000
    loud = np.sign(np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    assert musicnn_logmel(loud).max() <= LOGMEL_MAX
    too_loud = musicnn_logmel(30.0 * loud)  # power x 900: the loudest bands overflow float16, the rest stay finite
    assert np.isinf(too_loud).any() and np.isfinite(too_loud).any()
    assert np.nanmax(too_loud[np.isfinite(too_loud)]) <= LOGMEL_MAX
    assert not in_proven_range(too_loud)
    # the ceiling itself: the largest float16 power, through the same formula
    assert np.log10(10000.0 * np.float32(np.float16(65504.0)) + 1.0) == pytest.approx(LOGMEL_MAX)


@pytest.mark.parametrize("name", MUSICNN_TAGGERS)
def test_proved_dead_filters_never_fire(registry, name):
    """Patches at the corners of the input range (all 0, all max, random mixes) never wake a dead filter,
    and the proof leaves alive every filter that does fire."""
    model = registry.load(name).model
    dead = dead_filters(model)
    assert sum(len(d) for d in dead.values()) > 0
    rng = np.random.default_rng(0)
    patches = np.concatenate([
        np.zeros((1, 187, 96)), np.full((1, 187, 96), LOGMEL_MAX),
        rng.choice([0.0, LOGMEL_MAX], size=(3, 187, 96)), rng.uniform(0, LOGMEL_MAX, (3, 187, 96)),
    ]).astype(np.float32)
    stems = list(dead)
    outputs = _probe(model, stems).predict(patches, verbose=0)
    for stem, out in zip(stems, outputs):
        peak = out.reshape(-1, out.shape[-1]).max(axis=0)
        # exact: a ReLU of a negative pre-activation is 0.0; the dead filters' kernels are ~1e-30 and
        # their biases below -5e-5, so no summation order can bring the pre-activation up to 0
        assert np.all(peak[dead[stem]] == 0), stem
        assert np.any(peak > 0), stem


def test_a_wider_input_range_proves_no_more():
    """The bound is monotone: proving for a larger range can only lose filters."""
    from genre_core.registry import default_registry

    model = default_registry().load("msd_musicnn").model
    narrow, wide = dead_filters(model, 1.0), dead_filters(model, 1e6)
    assert all(set(wide[s]) <= set(narrow[s]) for s in narrow)


@pytest.mark.parametrize("name", MUSICNN_TAGGERS)
def test_pruned_model_equals_the_full_one(registry, name):
    """On a real clip (patch edges included) and on random in-range patches."""
    from genre_core.audio import load_audio

    tagger = registry.load(name)
    pruned = prune_dead_filters(tagger.model)
    assert pruned.count_params() < tagger.model.count_params()
    clip = load_audio(require(GTZAN_AUDIO / "disco.00000.wav"))
    _, patches = tagger.prepare(clip.samples, clip.sample_rate)
    random = np.random.default_rng(1).uniform(0, LOGMEL_MAX, (4, 187, 96)).astype(np.float32)
    for batch in (patches, random):
        full = tagger.model.predict(batch, verbose=0)
        fast = pruned.predict(batch, verbose=0)
        np.testing.assert_allclose(fast, full, atol=1e-5)
    # Embeddings through the pruned network equal the full model's too.
    for layer in tagger.embedding_sizes():
        np.testing.assert_allclose(tagger.embed(patches, layer), _probe(tagger.model, [layer]).predict(
            patches, verbose=0).reshape(len(patches), -1), atol=1e-4)


def test_tagger_uses_the_pruned_network_only_in_range(registry):
    tagger = registry.load("msd_musicnn")
    inside = np.zeros((2, 187, 96), np.float32)
    outside = inside.copy()
    outside[0, 0, 0] = np.inf
    assert tagger.network_for(inside) is not tagger.model
    assert tagger.network_for(outside) is tagger.model
    assert registry.load("msd_vgg").network_for(inside) is registry.load("msd_vgg").model


def test_in_proven_range():
    assert in_proven_range(np.array([0.0, LOGMEL_MAX]))
    assert not in_proven_range(np.array([-1e-3, 1.0]))
    assert not in_proven_range(np.array([np.nan, 1.0]))
    assert not in_proven_range(np.array([LOGMEL_MAX * 1.001]))


def test_only_a_plain_musicnn_is_rebuilt(registry):
    """A model with another head (as a transfer model has) is refused, not silently rebuilt with the tagger's."""
    import keras

    from genre_core.models.transfer import TransferPredictor

    tagger = registry.load("msd_musicnn")
    base = tagger.model
    head = keras.layers.Dense(10, activation="softmax", name="genre_head")(base.get_layer("penultimate").output)
    other = keras.Model(base.inputs, head)
    with pytest.raises(ValueError, match="not a plain musicnn"):
        prune_dead_filters(other)
    # a transfer model on that backbone runs whole, in range or not
    card = {"labels": [f"g{i}" for i in range(10)], "architecture": "musicnn", "input": {"shape": [187, 96]},
            "backbone": {"architecture": "musicnn"}}
    transfer = TransferPredictor(other, card, "transfer", tagger.directory)
    assert transfer.network_for(np.zeros((1, 187, 96), np.float32)) is other
    assert tagger.network_for(np.zeros((1, 187, 96), np.float32)) is not tagger.model
