"""The ported taggers as predictors: input cutting, shapes, embeddings, cards, explanations."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from genre_core.config import MODELS_DIR
from genre_core.features import MUSICNN_PATCH_FRAMES, musicnn_logmel, musicnn_patch_starts
from genre_core.models.musicnn import CHECKPOINT_NAMES, build
from genre_core.models.tagger import tagger_inputs

TAGGERS = ("msd_musicnn", "msd_vgg", "mtt_musicnn", "mtt_vgg")


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


def _noise(seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


@pytest.mark.parametrize("architecture", ["musicnn", "vgg"])
def test_every_weighted_layer_has_a_checkpoint_scope(architecture):
    model = build(architecture)
    weighted = {layer.name for layer in model.layers if layer.weights}
    assert weighted == set(CHECKPOINT_NAMES[architecture])


def test_musicnn_backend_interleaves_max_and_mean():
    """The flattened pooling is (max0, mean0, max1, ...), as the TF1 original's flatten gives."""
    model = build("musicnn")
    probe = keras.Model(model.inputs, [model.get_layer("midend").output, model.get_layer("pooled").output])
    x = np.random.default_rng(1).random((1, MUSICNN_PATCH_FRAMES, 96)).astype(np.float32)
    features, pooled = (np.asarray(t)[0] for t in probe([x]))
    np.testing.assert_allclose(pooled[0::2], features.max(axis=0), rtol=1e-5)
    np.testing.assert_allclose(pooled[1::2], features.mean(axis=0), rtol=1e-4, atol=1e-6)


def test_patches_follow_musicnns_cutting():
    windows, patches = tagger_inputs(_noise(10.0), 22050)
    # 10 s at 16 kHz → 626 frames → 3 whole patches of 187 frames; the tail is not analysed.
    assert patches.shape == (3, MUSICNN_PATCH_FRAMES, 96)
    assert windows[1][0] == pytest.approx(187 * 256 / 16000)
    assert windows[-1][1] <= 10.0


def test_short_clip_is_padded_to_one_patch():
    windows, patches = tagger_inputs(_noise(1.0), 22050)
    assert patches.shape == (1, MUSICNN_PATCH_FRAMES, 96)
    assert windows == [(0.0, pytest.approx(2.992))]


def test_logmel_is_finite_on_loud_input():
    """A full-scale signal overflows the original's float16 arithmetic; ours stays finite."""
    t = np.arange(32000) / 16000
    loud = np.sign(np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    logmel = musicnn_logmel(loud)
    assert np.all(np.isfinite(logmel)) and logmel.max() > np.log10(65504)


def test_patch_starts_with_overlap():
    assert musicnn_patch_starts(187).tolist() == [0]
    assert musicnn_patch_starts(186).tolist() == []


@pytest.mark.parametrize("name", TAGGERS)
def test_tagger_loads_safely_and_predicts_independent_tags(registry, name):
    entry = registry.get(name)
    assert entry.kind == "tagger" and entry.is_real_data
    tagger = registry.load(name)
    windows, patches = tagger.prepare(_noise(7.0), 22050)
    probs = tagger.predict_inputs(patches)
    assert probs.shape == (len(windows), 50)
    assert np.all((probs >= 0) & (probs <= 1))
    assert not np.allclose(probs.sum(axis=1), 1.0)  # sigmoid tags, not a softmax
    for layer, size in tagger.embedding_sizes().items():
        assert tagger.embed(patches, layer).shape == (len(windows), size)


def test_only_msd_musicnn_is_shown_by_default(registry):
    shown = {e.name for e in registry.entries() if e.shown_by_default}
    assert "msd_musicnn" in shown
    assert not shown & {"msd_vgg", "mtt_musicnn", "mtt_vgg"}
    assert not any(name.startswith("synth_") for name in shown)


@pytest.mark.parametrize("name", TAGGERS)
def test_card_and_notice(name):
    card = json.loads((MODELS_DIR / name / "card.json").read_text())
    assert card["source"]["licence"] == "ISC"
    assert 0.5 < card["metrics"]["authors_test"]["roc_auc"] < 1.0
    assert card["input"]["sample_rate"] == 16000 and card["input"]["shape"] == [187, 96]
    notice = (MODELS_DIR / name / "NOTICE").read_text()
    assert "Universitat Pompeu Fabra" in notice and "Permission to use, copy, modify" in notice


@pytest.mark.parametrize("name", TAGGERS)
def test_stored_patterns_excite_their_filters(registry, name):
    """Patterns are precomputed beside the model and excite their own filter more than the ascent's start."""
    from genre_core.explain import PATTERNS_FILE, filter_activation, load_patterns

    stored = load_patterns(MODELS_DIR / name)
    assert stored is not None and len(stored) == 2
    model = registry.load(name).model
    with np.load(MODELS_DIR / name / PATTERNS_FILE) as data:
        for layer, (filters, patterns) in stored.items():
            assert len(filters) == len(patterns) > 0
            excited = filter_activation(model, layer, patterns, filters)
            # What the file says matches what the model does with the stored patterns (float16 aside).
            np.testing.assert_allclose(excited, data[f"{layer}/activation"], rtol=0.05, atol=0.05)
            start = data[f"{layer}/start_activation"]
            # Ascent never lowers an activation, and raises most of those it can: a ReLU filter
            # silent at the start has no gradient and stays where it began.
            assert np.all(excited >= start - 0.05 * (1 + np.abs(start))), layer
            responsive = start > 1e-3
            assert responsive.any(), layer
            assert np.mean(excited[responsive] > 1.05 * start[responsive]) >= 0.5, layer


def test_vgg_gradcam_uses_logits(registry):
    from genre_core.explain import grad_cam

    tagger = registry.load("msd_vgg")
    _, patches = tagger.prepare(_noise(4.0, seed=3), 22050)
    cam = grad_cam(tagger.model, patches[0], class_index=tagger.labels.index("rock"))
    assert cam.shape == (MUSICNN_PATCH_FRAMES, 96)
    assert 0.0 <= cam.min() and cam.max() <= 1.0
