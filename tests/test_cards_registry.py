"""Model cards (format, validation) and the model registry (scan, skip, lazy cached load)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genre_core import cards
from genre_core.config import GTZAN_GENRES
from genre_core.models import classical as C
from genre_core.models import persistence as P
from genre_core.registry import ModelEntry, ModelNotFoundError, ModelRegistry, default_registry

LABELS = ["a", "b"]


def _card(name: str = "tiny", **overrides) -> dict:
    card = cards.card_template(
        name=name,
        display_name="Tiny",
        kind="classical",
        architecture="log_var → StandardScaler → LogisticRegression",
        framework="sklearn",
        artifact=C.SKOPS_FILE,
        data={"dataset": "noise", "source": "synthetic", "description": "random vectors", "n_tracks": 40,
              "label_set": LABELS},
        input={"kind": "gtzan57", "window_seconds": 30.0, "hop_seconds": 15.0, "sample_rate": 22050,
               "shape": [57]},
        labels=LABELS,
        metrics={"cv10": {"accuracy": 0.5, "macro_f1": 0.5}},
    )
    card.update(overrides)
    return card


def _tiny_model_dir(root, name: str = "tiny", **overrides):
    """A real, loadable 2-class pipeline on random 57-d vectors, with its card."""
    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(40, 57))) + np.repeat([[0.1], [2.0]], 20, axis=0)
    y = np.repeat(LABELS, 20)
    model = C.make_pipeline("logreg").set_params(transform=C.feature_transforms()["log_var"]).fit(X, y)
    directory = root / name
    P.save_sklearn(model, directory / C.SKOPS_FILE)
    cards.write_card(directory, _card(name, **overrides))
    return directory


def test_card_round_trip(tmp_path):
    card = _card()
    path = cards.write_card(tmp_path / "m", card)
    assert path == tmp_path / "m" / "card.json"
    assert cards.read_card(tmp_path / "m") == json.loads(json.dumps(card))


def test_card_template_fills_defaults_and_names_label_sets():
    card = _card()
    assert card["data"]["label_set"] == "custom2"
    versions = card["library_versions"]
    assert versions["python"].count(".") == 2 and "numpy" in versions and "scikit-learn" in versions
    for key in ("hyperparameters", "training_time_s", "command", "created", "notes", "size_bytes",
                "latency_ms_per_30s"):
        assert key in card
    assert cards.label_set_name(GTZAN_GENRES) == "gtzan10"
    from genre_core.synth import STYLES

    assert cards.label_set_name(STYLES) == "synth7"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("metrics"), "lacks required key.*metrics"),
        (lambda c: c["data"].pop("source"), "'data' lacks required key.*source"),
        (lambda c: c["input"].pop("shape"), "'input' lacks required key.*shape"),
        (lambda c: c.update(kind="quantum"), "kind is 'quantum'"),
        (lambda c: c.update(framework="torch"), "framework"),
        (lambda c: c["data"].update(source="maybe"), "data.source"),
        (lambda c: c.update(labels=["only"]), "at least two"),
        (lambda c: c.update(artifact="../../etc/passwd"), "plain file name"),
    ],
)
def test_invalid_cards_are_rejected_with_a_reason(tmp_path, change, message):
    card = _card()
    change(card)
    with pytest.raises(cards.CardError, match=message):
        cards.write_card(tmp_path / "m", card)
    assert not (tmp_path / "m" / "card.json").exists()


def test_read_card_reports_bad_json_and_missing_file(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(cards.CardError, match="no model card"):
        cards.read_card(tmp_path / "m")
    (tmp_path / "m" / "card.json").write_text("{not json")
    with pytest.raises(cards.CardError, match="not valid JSON"):
        cards.read_card(tmp_path / "m")


def test_registry_skips_a_broken_card_with_a_warning(tmp_path):
    _tiny_model_dir(tmp_path, "good")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "card.json").write_text(json.dumps({"name": "broken"}))
    with pytest.warns(UserWarning, match="skipping model folder .*broken"):
        registry = ModelRegistry([tmp_path])
    assert registry.names() == ["good"]
    entry = registry.get("good")
    assert isinstance(entry, ModelEntry) and entry.directory == tmp_path / "good"
    assert entry.kind == "classical" and entry.label_set == "custom2" and not entry.is_real_data


def test_registry_filters_and_reports_unknown_names(tmp_path):
    _tiny_model_dir(tmp_path, "synthetic_one")
    _tiny_model_dir(tmp_path, "real_one", data={"dataset": "x", "source": "real", "description": "",
                                                 "n_tracks": 40, "label_set": "custom2"})
    registry = ModelRegistry([tmp_path])
    assert [e.name for e in registry.entries(real_only=True)] == ["real_one"]
    assert [e.name for e in registry.entries(kind="classical")] == ["real_one", "synthetic_one"]
    assert registry.entries(kind="deep") == []
    with pytest.raises(ModelNotFoundError, match="no model named 'nope'; known models: real_one, synthetic_one"):
        registry.get("nope")


def test_load_is_lazy_and_cached(tmp_path):
    _tiny_model_dir(tmp_path, "tiny")
    registry = ModelRegistry([tmp_path])
    first = registry.load("tiny")
    assert registry.load("tiny") is first
    assert first.labels == tuple(LABELS) and first.name == "tiny"
    probs = first.predict_inputs(np.ones((3, 57)))
    assert probs.shape == (3, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_first_folder_wins_a_name_clash(tmp_path):
    _tiny_model_dir(tmp_path / "mine", "same")
    _tiny_model_dir(tmp_path / "shipped", "same")
    with pytest.warns(UserWarning, match="already found"):
        registry = ModelRegistry([tmp_path / "mine", tmp_path / "shipped"])
    assert registry.get("same").directory == tmp_path / "mine" / "same"


def test_deep_cards_load_through_the_deep_predictor(tmp_path, monkeypatch):
    import genre_core.models.deep_predictor as deep_predictor

    directory = _tiny_model_dir(tmp_path, "deepish")
    card = json.loads((directory / "card.json").read_text())
    card.update(kind="deep", framework="keras", artifact="model.keras")
    (directory / "card.json").write_text(json.dumps(card))
    calls = []
    monkeypatch.setattr(deep_predictor, "load_predictor", lambda d, c: calls.append((d, c["name"])) or "loaded")
    registry = ModelRegistry([tmp_path])
    assert registry.load("deepish") == "loaded"
    assert calls == [(directory, "deepish")]


def test_refuses_an_untrusted_model_file_from_a_user_folder(tmp_path):
    import os

    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    directory = _tiny_model_dir(tmp_path, "evil")
    sio.dump(Pipeline([("run", FunctionTransformer(os.system))]), directory / C.SKOPS_FILE)
    with pytest.raises(P.UntrustedModelError, match="allow-list"):
        ModelRegistry([tmp_path]).load("evil")


def test_default_registry_is_built_once():
    assert default_registry() is default_registry()
