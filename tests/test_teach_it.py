"""Teach it: the Streamlit-free helpers (genre_core.app.teach) and the page, driven by AppTest."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from genre_core.app.teach import (
    ClipEmbeddings,
    clean_class_names,
    embedding_map,
    embedding_map_figure,
    predict_embeddings,
    prediction_figure,
    train_head,
    validate_examples,
)
from genre_core.config import PROJECT_ROOT
from genre_core.errors import UsageError

APP = str(PROJECT_ROOT / "app.py")
PAGE = "pages/teach_it.py"
TIMEOUT = 240


def _clip(name: str, centre: np.ndarray, n: int, rng: np.random.Generator) -> ClipEmbeddings:
    vectors = (centre + rng.normal(0, 0.5, (n, len(centre)))).astype(np.float32)
    return ClipEmbeddings(name, [(3.0 * i, 3.0 * i + 2.992) for i in range(n)], vectors)


@pytest.fixture
def examples() -> dict[str, list[ClipEmbeddings]]:
    """Two classes of synthetic 'embeddings' in distinct clusters: 2 clips of 4 patches, and 1 clip of 3."""
    rng = np.random.default_rng(0)
    calm, loud = np.zeros(8), np.full(8, 3.0)
    return {"calm": [_clip("calm 1", calm, 4, rng), _clip("calm 2", calm, 4, rng)],
            "loud": [_clip("loud 1", loud, 3, rng)]}


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("names, message", [
    (["only"], "at least 2 classes"),
    (["a", "  "], "needs a name"),
    (["Rock", "Rock "], "used twice"),
    (["a", "x" * 61], "longer than"),
])
def test_class_names_are_checked(names, message):
    with pytest.raises(UsageError, match=message):
        clean_class_names(names)


def test_class_names_are_stripped():
    assert clean_class_names([" Rock", "Jazz "]) == ["Rock", "Jazz"]


def test_every_class_needs_a_clip(examples):
    with pytest.raises(UsageError, match="'empty'"):
        validate_examples({**examples, "empty": []})


def test_clips_from_different_layers_are_refused(examples):
    rng = np.random.default_rng(1)
    odd = _clip("odd", np.zeros(5), 2, rng)
    with pytest.raises(UsageError, match="different layers"):
        validate_examples({"calm": examples["calm"], "loud": [odd]})


def test_head_learns_the_classes_and_predicts_a_new_clip(examples):
    model = train_head(examples)
    assert model.labels == ["calm", "loud"]
    assert model.n_clips == {"calm": 2, "loud": 1} and model.n_patches == {"calm": 8, "loud": 3}
    rng = np.random.default_rng(5)
    for centre, expected in ((np.full(8, 3.0), "loud"), (np.zeros(8), "calm")):
        prediction = predict_embeddings(model, _clip("new", centre, 5, rng))
        assert prediction.top_label == expected
        assert prediction.patch_probabilities.shape == (5, 2)
        np.testing.assert_allclose(prediction.track_probabilities, prediction.patch_probabilities.mean(axis=0))
    figure = prediction_figure(prediction)
    assert list(figure.data[0].y) == ["calm", "loud"]


def test_prediction_refuses_another_embedding_size(examples):
    model = train_head(examples)
    with pytest.raises(UsageError, match="expects 8"):
        predict_embeddings(model, _clip("wrong", np.zeros(4), 2, np.random.default_rng(0)))


def test_pca_map_projects_the_current_clip_without_moving_the_examples(examples):
    alone = embedding_map(examples)
    current = _clip("current", np.full(8, 1.5), 2, np.random.default_rng(3))
    with_current = embedding_map(examples, current)
    assert len(alone) == 11 and len(with_current) == 13
    assert list(with_current["role"]).count("current") == 2
    # The same fitted PCA projects 13 rows instead of 11 (BLAS may block them differently): float64
    # coordinates of about unit size, equal up to rounding; atol keeps a coordinate near 0 from failing.
    np.testing.assert_allclose(with_current.loc[:10, ["x", "y"]].to_numpy(), alone[["x", "y"]].to_numpy(),
                               rtol=1e-7, atol=1e-12)
    # The classes are separate clusters: the first component splits them.
    xs = alone.groupby("label")["x"]
    assert xs.max().min() < xs.min().max()
    figure = embedding_map_figure(with_current)
    assert {trace.name for trace in figure.data} == {"calm", "loud", "current clip"}
    assert "PC1" in figure.layout.xaxis.title.text


def test_tsne_map_needs_enough_points(examples):
    tsne = embedding_map(examples, method="tsne")
    assert tsne.attrs["method"] == "tsne" and np.isfinite(tsne[["x", "y"]].to_numpy()).all()
    few = {"a": [examples["calm"][0]], "b": []}
    with pytest.raises(UsageError, match="t-SNE needs"):
        embedding_map({"a": [_clip("a", np.zeros(8), 2, np.random.default_rng(0))],
                       "b": [_clip("b", np.ones(8), 1, np.random.default_rng(0))]}, method="tsne")
    with pytest.raises(UsageError, match="unknown map method"):
        embedding_map(few, method="umap")


# --- with a real tagger ------------------------------------------------------------------------


def _tagger():
    from genre_core.registry import default_registry

    taggers = default_registry().entries(kind="tagger")
    if not taggers:
        pytest.skip("no pretrained tagger in models/ (python -m train import-musicnn --out models)")
    names = [e.name for e in taggers]
    return default_registry().load("msd_musicnn" if "msd_musicnn" in names else names[0])


@pytest.mark.slow
def test_real_tagger_tells_a_kick_drum_from_a_whistle():
    from genre_core.app.teach import embed_clip
    from genre_core.config import SAMPLE_RATE
    from genre_core.teaching_sounds import teaching_sound

    tagger = _tagger()
    examples = {name: [embed_clip(tagger, teaching_sound(name, duration=4.0), SAMPLE_RATE, name=name)]
                for name in ("kick drum", "whistle")}
    model = train_head(examples)
    longer = embed_clip(tagger, teaching_sound("whistle", duration=9.0), SAMPLE_RATE, name="long whistle")
    assert len(longer.vectors) >= 2
    assert predict_embeddings(model, longer).top_label == "whistle"


# --- the page -----------------------------------------------------------------------------------


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _add_example(at: AppTest, class_index: int, example: str) -> None:
    at.selectbox(key=f"teach_example_{class_index}").set_value(example).run()
    at.button(key=f"teach_add_example_{class_index}").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_page_without_clips_explains_what_to_do():
    _tagger()
    at = _page()
    assert [t.value for t in at.get("text_input")][:2] == ["Class 1", "Class 2"]
    assert any("press **Train**" in str(i.value) for i in at.info)
    at.button(key="teach_train").click().run()
    assert not at.exception
    assert any("Cannot train yet" in str(e.value) and "'Class 1'" in str(e.value) for e in at.error)


@pytest.mark.slow
def test_page_trains_on_examples_and_shows_a_prediction_and_the_map():
    _tagger()
    at = _page()
    at.text_input(key="teach_name_0").set_value("Kick").run()
    at.text_input(key="teach_name_1").set_value("Whistle").run()
    _add_example(at, 0, "Teaching sound: kick drum")
    _add_example(at, 1, "Teaching sound: whistle")
    at.selectbox(key="example").set_value("Teaching sound: kick vs whistle").run()  # the current clip
    at.button(key="teach_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("Kick: 1 clip(s)" in str(s.value) for s in at.success)
    metric = at.metric[0]
    assert metric.value in ("Kick", "Whistle")
    charts = {c.proto.id.split("-", 2)[-1] for c in at.get("plotly_chart")}
    assert {"teach_probabilities", "teach_timeline", "teach_map"} <= charts

    # Renaming a class after training marks the model stale instead of silently mislabelling.
    at.text_input(key="teach_name_1").set_value("Flute").run()
    assert any("Train** again" in str(w.value) for w in at.warning)
