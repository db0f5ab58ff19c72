"""Regression: Classify's "probably not music" warning is decided per label-set group.

``pages/classify.py`` ``_section`` once set ``novelty = None`` for a group with no training
fingerprint and never restored it, so every later group of the page lost its warning.  Here
two real-data models with different label sets stand in a models folder of their own: the
group shown first has no fingerprint, the one shown second has one, and the clip (noise) is
unlike its training music.  The second group must warn, the first must not.
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from genre_core import cards
from genre_core.config import PROJECT_ROOT
from genre_core.models import classical as C
from genre_core.models import persistence as P
from genre_core.registry import ModelRegistry
from genre_core.training import fingerprints as fp

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 300
NOT_MUSIC = "probably not music"


def _model(root, name: str, labels: list[str]):
    """A loadable real-data GTZAN-57 model (logistic regression on random vectors) and its card."""
    rng = np.random.default_rng(len(labels))
    X = rng.normal(size=(20 * len(labels), 57)) + np.repeat(np.arange(len(labels)), 20)[:, None]
    model = C.make_pipeline("logreg").fit(X, np.repeat(labels, 20))
    directory = root / name
    P.save_sklearn(model, directory / C.SKOPS_FILE)
    cards.write_card(directory, cards.card_template(
        name=name, display_name=f"{name} · toy", kind="classical", framework="sklearn", artifact=C.SKOPS_FILE,
        architecture="StandardScaler → LogisticRegression",
        data={"dataset": f"toy {name}", "source": "real", "description": "random vectors", "n_tracks": len(X),
              "label_set": labels},
        input={"kind": "gtzan57", "window_seconds": 30.0, "hop_seconds": 15.0, "sample_rate": 22050, "shape": [57]},
        labels=labels, metrics={"test_track": {"accuracy": 0.5, "macro_f1": 0.5}},
    ))
    return directory


@pytest.fixture
def two_groups(tmp_path, monkeypatch):
    """The app's registry replaced by two models: ``a_plain`` (no fingerprint), then ``b_checked`` (one)."""
    from genre_core import registry as registry_module
    from pages import _shared

    _model(tmp_path, "a_plain", ["calm", "loud"])
    checked = _model(tmp_path, "b_checked", ["x", "y", "z"])
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(57)]
    fp.write_fingerprint(checked, fp.make_fingerprint(rng.normal(size=(200, 57)), [f"t.{i:05d}" for i in range(200)],
                                                      ["x"] * 200, names))
    registry = ModelRegistry([tmp_path])
    assert [e.name for e in registry.entries(real_only=True)] == ["a_plain", "b_checked"]
    monkeypatch.setattr(registry_module, "default_registry", lambda: registry)
    _shared.get_registry.clear()  # the app's process-wide registry: rebuilt from the patched function
    yield registry
    _shared.get_registry.clear()  # the next test gets the shipped models again


def test_a_group_without_fingerprint_does_not_silence_the_next(two_groups):
    from genre_core.session import clip_from_samples

    noise = (0.3 * np.random.default_rng(7).standard_normal(22050 * 8)).astype(np.float32)
    clip = clip_from_samples(noise, 22050, "noise for the novelty regression test")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["clip"] = clip
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    # the page shows the first group (no fingerprint) before the second (fingerprint)
    headings = [s.value for s in at.subheader if s.value.startswith("Real-data models")]
    assert len(headings) == 2 and "toy a_plain" in headings[0] and "toy b_checked" in headings[1], headings
    # the clip really is unlike the fingerprinted model's training data
    from genre_core.app.honesty import load_fingerprints, training_overlap
    from genre_core.app.shared_inputs import analyse_clip

    features, _ = analyse_clip(clip.samples, clip.sample_rate, [], want_features=True)
    report = training_overlap(features.features, load_fingerprints(two_groups.entries()), features.windows)
    assert report.checked == ["b_checked"] and report.novelty.unlike_training

    warnings = [str(w.value) for w in at.warning]
    assert sum(NOT_MUSIC in w for w in warnings) == 1, warnings  # the second group's, and only it
    # the warning sits in the second group's section: after its heading in page order
    texts = [str(node.value) for node in at.main if getattr(node, "type", None) in ("subheader", "warning")]
    second = texts.index(headings[1])
    assert any(NOT_MUSIC in v for v in texts[second:]) and not any(NOT_MUSIC in v for v in texts[:second])
