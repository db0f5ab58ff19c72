"""The pretrained taggers in the app: Classify, Inside the CNN, Compare and Live (AppTest), and their helpers.

The page tests need the imported taggers in ``models/`` (``python -m train
import-musicnn --out models``) and skip without them; they use a real FMA clip
from ../shared/data when it is there, else the synthetic swing example.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from genre_core.config import GTZAN_GENRES, PROJECT_ROOT, SHARED_DATA_DIR
from genre_core.tags import MSD_TAGS, MTT_TAGS
from tests._figures import figures_by_key as _figures
from tests._figures import plotly_array as _values

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 300
FMA_ROCK = SHARED_DATA_DIR / "fma_small" / "001" / "001040.mp3"


# --- AppTest plumbing -------------------------------------------------------------------------------


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(page: str, clip) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    _run(at)
    at.session_state["clip"] = clip
    at.switch_page(page)
    return _run(at)


def _texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


@pytest.fixture(scope="module")
def taggers(registry):
    names = [e.name for e in registry.entries(kind="tagger")]
    for needed in ("msd_musicnn", "msd_vgg"):
        if needed not in names:
            pytest.skip(f"{needed} is not in models/ (import it with python -m train import-musicnn --out models)")
    return names


@pytest.fixture(scope="module")
def clip():
    """A real FMA rock clip when ../shared/data is there, else a synthetic example song."""
    from genre_core.session import clip_from_bytes, example_clip

    if FMA_ROCK.exists():
        return clip_from_bytes(FMA_ROCK.read_bytes(), FMA_ROCK.name)
    return example_clip("Example song: swing")


# --- Classify -------------------------------------------------------------------------------------


def test_classify_shows_default_tagger_tags_apart_from_genre_models(registry, taggers, clip):
    from genre_core.app.tagger_views import MAPPING_NOTE, split_entries

    at = _page("pages/classify.py", clip)
    genre_models, tagger_entries, _ = split_entries(registry.entries())
    defaults = [e.name for e in tagger_entries if e.card.get("shown_by_default")]
    assert defaults == ["msd_musicnn"]
    assert at.multiselect(key="classify_taggers").value == defaults
    # the figures are per model family: taggers are not counted with the genre models
    models = [m.value for m in at.get("metric") if m.label == "Models"]
    assert models == [str(len(genre_models))]
    charts = _figures(at)
    # the default tagger's genre tags are drawn, and only genre tags
    tags = charts["tags_msd_musicnn"]["data"][0]["y"]
    from genre_core.tags import tag_category

    assert tags and all(tag_category(t) == "genre" for t in tags)
    assert "tags_msd_vgg" not in charts
    # other tags (decades, moods, vocals, instruments) are listed apart
    markdown = " ".join(_texts(at, "markdown"))
    assert "Other tags" in markdown and any(f"*{c}:*" in markdown for c in ("Decade", "Mood", "Vocals",
                                                                          "Instruments"))
    # a timeline of the top tags per 3 s patch (a 30 s clip has several patches)
    timeline = charts["tag_timeline_msd_musicnn"]["data"][0]
    assert len(timeline["y"]) == 10
    # the genre view and the agreement are labelled as a mapping
    captions = _texts(at, "caption")
    assert sum(MAPPING_NOTE in c for c in captions) >= 1
    # the genre view is drawn once its expander is opened, and labelled as a mapping there too
    assert not any(k.startswith("mapped_") for k in charts)
    at.session_state["mapped_open_msd_musicnn"] = True
    _run(at)
    assert {"mapped_gtzan10_msd_musicnn", "mapped_fma8_msd_musicnn"} <= set(_figures(at))
    assert sum(MAPPING_NOTE in c for c in _texts(at, "caption")) >= 2
    agreement = next(df.value for df in at.dataframe if "how" in df.value.columns)
    assert "tagger, mapped through the crosswalk" in set(agreement["how"])
    assert len(agreement) == sum(1 for e in genre_models if tuple(e.card["labels"]) == GTZAN_GENRES) + 1
    # taggers never vote: the models x genres view is over GTZAN's 10 genres and the genre models only
    assert sorted(charts["matrix_real0"]["data"][0]["x"]) == sorted(GTZAN_GENRES)
    assert len(charts["matrix_real0"]["data"][0]["y"]) == len(genre_models)
    # the timelines follow the player, and a click on one seeks it (the lab's playhead component)
    (component,) = [e for e in at.main if getattr(e, "type", "") == "bidi_component"] or [None]
    assert component is not None, "Classify mounts no playhead"
    groups = json.loads(component.proto.json)["groups"]
    timelines = [k for k in charts if k.startswith(("timeline_fig_", "tag_timeline_"))]
    assert "tag_timeline_msd_musicnn" in timelines
    assert groups == [{"player": "classify_player", "charts": timelines}]


def test_classify_user_adds_another_tagger(taggers, clip):
    at = _page("pages/classify.py", clip)
    at.multiselect(key="classify_taggers").set_value(["msd_musicnn", "msd_vgg"])
    _run(at)
    charts = _figures(at)
    assert {"tags_msd_musicnn", "tags_msd_vgg"} <= set(charts)
    at.multiselect(key="classify_taggers").set_value([])
    _run(at)
    assert not any(k.startswith("tags_") for k in _figures(at))


# --- Inside the CNN ----------------------------------------------------------------------------------


def _axis_ticktext(spec: dict) -> list[str]:
    return [t for key, axis in spec["layout"].items() if key.startswith("yaxis") for t in axis.get("ticktext", [])]


def test_inside_cnn_defaults_to_msd_vgg_with_seconds_and_hz(taggers, clip):
    at = _page("pages/inside_cnn.py", clip)
    assert at.selectbox(key="cnn_model").value == "msd_vgg"
    options = at.selectbox(key="cnn_model").options
    tagger_count = len(taggers)
    assert all("synthetic" not in o for o in options[:tagger_count])
    assert all("synthetic" in o for o in options[tagger_count:])
    charts = _figures(at)
    assert "kHz" in " ".join(_axis_ticktext(charts["cnn_input"]))
    conv1 = charts["cnn_maps_conv1"]
    x_titles = {axis.get("title", {}).get("text") for key, axis in conv1["layout"].items() if key.startswith("xaxis")}
    assert "time (s)" in x_titles
    assert any("kHz" in t for t in _axis_ticktext(conv1))
    # a deeper layer: pooled twice in time, so its steps are 4 frames (64 ms) apart
    at.selectbox(key="cnn_tagger_layer_msd_vgg").set_value("conv3")
    _run(at)
    x = _values(_figures(at)["cnn_maps_conv3"]["data"][0]["x"])
    assert len(x) == 46
    np.testing.assert_allclose(np.diff(x), 0.064, atol=1e-4)


def test_inside_cnn_later_excerpt_moves_the_time_axis(taggers, clip):
    at = _page("pages/inside_cnn.py", clip)
    slider = next(s for s in at.get("select_slider") if s.key.startswith("cnn_patch_"))
    slider.set_value(len(slider.options) - 1)  # options are the formatted spans; the values are patch indices
    _run(at)
    x = _values(_figures(at)["cnn_input"]["data"][0]["x"])
    assert x[0] >= 2.9  # not the first patch any more


def test_inside_cnn_patterns_come_from_the_stored_file(taggers, clip, monkeypatch):
    import genre_core.explain as explain

    def refuse(*args, **kwargs):
        raise AssertionError("activation maximisation must not run on page view for a tagger")

    monkeypatch.setattr(explain, "activation_maximization", refuse)
    at = _page("pages/inside_cnn.py", clip)
    at.get("button_group")[0].set_value("What the filters look for")
    _run(at)
    charts = _figures(at)
    assert {"cnn_patterns_first", "cnn_patterns_last", "cnn_pattern_detail"} <= set(charts)


def test_inside_cnn_vgg_grad_cam_is_time_by_frequency(taggers, clip):
    at = _page("pages/inside_cnn.py", clip)
    at.get("button_group")[0].set_value("Grad-CAM")
    _run(at)
    spec = _figures(at)["cnn_gradcam"]
    assert [t["type"] for t in spec["data"]] == ["heatmap", "heatmap"]
    assert any("kHz" in t for t in _axis_ticktext(spec))


def test_inside_cnn_musicnn_filters_and_time_only_saliency(registry, taggers, clip):
    at = _page("pages/inside_cnn.py", clip)
    at.selectbox(key="cnn_model").set_value("msd_musicnn")
    _run(at)
    at.get("button_group")[0].set_value("Learned filters")
    _run(at)
    charts = _figures(at)
    for layer in ("timbral_7x38", "timbral_7x67", "temporal_128", "temporal_64", "temporal_32"):
        assert f"cnn_kernels_{layer}" in charts
    assert len(_values(charts["cnn_kernels_temporal_128"]["data"][0]["y"])) == 128
    # the proved-dead filters the tagger skips, counted from this model's weights
    from genre_core.models.dead_filters import dead_filters

    never = dead_filters(registry.load("msd_musicnn").model)
    caption = next(c for c in _texts(at, "caption") if "Proved never to fire" in c)
    assert f"timbral_7x38 {len(never['timbral_7x38'])}" in caption and len(never["timbral_7x38"]) > 0
    at.get("button_group")[0].set_value("Grad-CAM")
    _run(at)
    spec = _figures(at)["cnn_gradcam"]
    assert [t["type"] for t in spec["data"]] == ["heatmap", "scatter"]  # spectrogram + a curve over time
    assert "empty" in " ".join(_texts(at, "markdown"))
    assert at.selectbox(key="cnn_cam_layer_msd_musicnn").value == "midend_3"


# --- Compare and Live -----------------------------------------------------------------------------------


def test_compare_lists_taggers_with_authors_figures(registry, taggers, clip):
    at = _page("pages/compare_models.py", clip)
    table = next(df.value for df in at.dataframe if "authors' ROC-AUC" in df.value.columns)
    assert len(table) == len(taggers)
    for entry in registry.entries(kind="tagger"):
        row = table[table["name"] == entry.card["display_name"]]
        assert len(row) == 1
        assert row["authors' ROC-AUC"].iloc[0] == pytest.approx(entry.card["metrics"]["authors_test"]["roc_auc"])
    assert any("authors' figures" in c for c in _texts(at, "caption"))
    # the clip: the taggers' genres appear as a mapping next to the genre models
    charts = _figures(at)
    mapped = charts["compare_mapped_gtzan10"]["data"][0]
    assert all(name.endswith("(mapped)") for name in mapped["y"])
    assert list(mapped["x"]) == list(GTZAN_GENRES)



def test_compare_clip_section_runs_classifys_taggers_and_offers_the_others(registry, taggers, clip):
    """On the clip, Compare shows the taggers Classify shows (their predictions are shared); the
    other taggers are one choice away, and choosing one adds its mapped row."""
    at = _page("pages/compare_models.py", clip)
    widget = at.multiselect(key="compare_clip_taggers")
    defaults = [e.name for e in registry.entries(kind="tagger") if e.shown_by_default]
    assert sorted(widget.value) == sorted(defaults)
    assert len(widget.options) == len(taggers)  # options are shown by display name
    rows = _figures(at)["compare_mapped_gtzan10"]["data"][0]["y"]
    widget.set_value(sorted(set(defaults) | {"msd_vgg"}))
    _run(at)
    assert len(_figures(at)["compare_mapped_gtzan10"]["data"][0]["y"]) == len(rows) + 1

def test_live_offers_msd_musicnn_by_default(taggers):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    _run(at)
    at.switch_page("pages/live.py")
    _run(at)
    widget = at.multiselect(key="live_models")
    assert "msd_musicnn" in widget.value
    assert len(widget.options) > len(widget.value)  # the other models and taggers can be added


# --- Streamlit-free helpers ----------------------------------------------------------------------------


def _tagger_prediction(probs: dict[str, float], tags=MSD_TAGS, windows=((0.0, 3.0),), model="msd_musicnn"):
    p = np.zeros(len(tags))
    for tag, value in probs.items():
        p[tags.index(tag)] = value
    return SimpleNamespace(model=model, labels=tags, probabilities=p, multi_label=True, windows=list(windows),
                           window_probabilities=np.tile(p, (len(windows), 1)))


def _genre_prediction(genre: str, model: str):
    p = np.full(len(GTZAN_GENRES), 0.02)
    p[GTZAN_GENRES.index(genre)] = 0.82
    return SimpleNamespace(model=model, labels=GTZAN_GENRES, probabilities=p, multi_label=False)


def test_tag_groups_put_genres_apart():
    from genre_core.app.tagger_views import tag_groups

    prediction = _tagger_prediction({"rock": 0.9, "80s": 0.8, "male vocalists": 0.7, "guitar": 0.6, "pop": 0.3})
    groups = tag_groups(prediction.labels, prediction.probabilities, top_genre=2)
    assert groups.genre == [("rock", 0.9), ("pop", 0.3)]
    assert groups.other["Decade"][0] == ("80s", 0.8)
    assert groups.other["Vocals"][0] == ("male vocalists", 0.7)
    assert groups.other["Instruments"][0] == ("guitar", 0.6)


def test_top_tags_over_time_ranks_by_mean():
    from genre_core.app.tagger_views import top_tags_over_time

    probs = np.zeros((3, len(MSD_TAGS)))
    probs[:, MSD_TAGS.index("jazz")] = [0.9, 0.8, 0.7]
    probs[:, MSD_TAGS.index("rock")] = [0.0, 0.0, 0.95]
    tags, matrix = top_tags_over_time(MSD_TAGS, probs, top=2)
    assert tags == ["jazz", "rock"]
    np.testing.assert_allclose(matrix[:, 1], [0.0, 0.0, 0.95])
    with pytest.raises(ValueError):
        top_tags_over_time(MSD_TAGS, probs[:, :10])


def test_agreement_rows_map_taggers_and_skip_other_label_sets():
    from genre_core.app.tagger_views import agreement_rows, agreement_sentence, mapped_top_genre

    tagger = _tagger_prediction({"heavy metal": 0.7, "rock": 0.4})
    mtt = _tagger_prediction({"classical": 0.6}, tags=MTT_TAGS, model="mtt_vgg")
    genre = [_genre_prediction("metal", "svm"), _genre_prediction("rock", "knn"),
             SimpleNamespace(model="synth", labels=("waltz", "swing"), probabilities=np.array([0.5, 0.5]))]
    rows = agreement_rows(genre, [tagger, mtt], "gtzan10", names={"svm": "SVM"})
    assert list(rows["model"]) == ["SVM", "knn", "msd_musicnn", "mtt_vgg"]
    assert list(rows["genre"]) == ["metal", "rock", "metal", "classical"]
    assert rows.loc[2, "score"] == pytest.approx(0.7)
    assert agreement_sentence(rows) == "2 of 4 models pick **metal**."
    assert mapped_top_genre(_tagger_prediction({"80s": 0.9}), "gtzan10") == (None, 0.0)
    assert agreement_sentence(rows.iloc[:2]).startswith("The models are split")


def test_split_entries_and_defaults():
    from genre_core.app.tagger_views import default_taggers, split_entries

    def entry(name, kind, source, default=False):
        card = {"kind": kind, "data": {"source": source}, "shown_by_default": default}
        return SimpleNamespace(name=name, card=card, is_real_data=source == "real")

    genre, taggers, synthetic = split_entries([entry("msd_vgg", "tagger", "real"),
                                               entry("gtzan_svm", "classical", "real"),
                                               entry("msd_musicnn", "tagger", "real", True),
                                               entry("synth_crnn", "deep", "synthetic")])
    assert [e.name for e in genre] == ["gtzan_svm"]
    assert [e.name for e in taggers] == ["msd_musicnn", "msd_vgg"]
    assert [e.name for e in synthetic] == ["synth_crnn"]
    assert default_taggers(taggers) == ["msd_musicnn"]


def test_tagger_table_and_leaderboard_without_accuracy():
    from genre_core.app.honesty import leaderboard_view
    from genre_core.app.tagger_views import tagger_table

    def card(name, dataset, roc):
        return {"name": name, "display_name": f"{name} · tagger", "kind": "tagger", "architecture": "vgg",
                "multi_label": True, "data": {"dataset": dataset, "source": "real", "label_set": f"{dataset}50"},
                "metrics": {"authors_test": {"roc_auc": roc, "pr_auc": roc / 3, "source": "x"}},
                "source": {"licence": "ISC"}}

    cards = {"a": card("a", "msd", 0.87), "b": card("b", "msd", 0.88), "c": card("c", "mtt", 0.90),
             "g": {"kind": "classical", "data": {"dataset": "gtzan", "source": "real", "label_set": "gtzan10"},
                   "metrics": {"cv10": {"accuracy": 0.7, "macro_f1": 0.6}}}}
    table = tagger_table(cards)
    assert list(table["model"]) == ["b", "a", "c"]  # by training set, best first
    assert list(table["trained on"]) == ["Million Song Dataset", "Million Song Dataset", "MagnaTagATune"]
    assert table["authors' ROC-AUC"].tolist() == [0.88, 0.87, 0.90]
    # the genre leaderboard still builds with tagger cards in it (they have no accuracy)
    views = leaderboard_view(cards)
    assert [heading.split(" · ")[0] for heading, _, _ in views] == ["gtzan", "msd", "mtt"]
    assert views[0][2]["accuracy"].tolist() == [0.7]
    assert all("accuracy" not in table for _, _, table in views[1:])


def test_layer_axes_trace_pooling_back_to_seconds_and_bands():
    from genre_core.app.cnn_views import FRAME_SECONDS, layer_axes
    from genre_core.models.musicnn import build_musicnn, build_vgg

    vgg = build_vgg()
    conv1 = layer_axes(vgg, "conv1", offset_s=6.0)
    np.testing.assert_allclose(conv1.times_s[:2], [6.0, 6.0 + FRAME_SECONDS])
    np.testing.assert_array_equal(conv1.bands, np.arange(96))
    # conv2 follows pool1: (4, 1) pooling with stride 2 in time and frequency
    conv2 = layer_axes(vgg, "conv2")
    assert len(conv2.times_s) == 92 and len(conv2.bands) == 48
    np.testing.assert_allclose(conv2.times_s[:2] / FRAME_SECONDS, [1.5, 3.5])
    np.testing.assert_array_equal(conv2.bands[:3], [0, 2, 4])
    conv5 = layer_axes(vgg, "conv5")
    assert len(conv5.times_s) == 11 and len(conv5.bands) == 6
    np.testing.assert_allclose(np.diff(conv5.bands), 16.0)
    musicnn = build_musicnn()
    timbral = layer_axes(musicnn, "timbral_7x38")
    assert timbral.bands[0] == pytest.approx(18.5)  # the first 38-band kernel position is centred there
    assert layer_axes(musicnn, "midend_3").bands is None
    np.testing.assert_allclose(layer_axes(musicnn, "midend_3").times_s[:2], [0.0, FRAME_SECONDS])


def test_mel_band_centres_follow_librosas_filterbank():
    import librosa

    from genre_core.app.cnn_views import band_to_hz, mel_band_hz

    centres = mel_band_hz()
    filters = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)
    peaks = librosa.fft_frequencies(sr=16000, n_fft=512)[filters.argmax(axis=1)]
    assert len(centres) == 96 and np.all(np.diff(centres) > 0) and centres[-1] < 8000
    np.testing.assert_allclose(centres, peaks, atol=16000 / 512)  # within one FFT bin of each filter's peak
    assert band_to_hz(0.5) == pytest.approx((centres[0] + centres[1]) / 2)


def test_learned_filters_are_the_kernels():
    from genre_core.app.cnn_views import most_varied_filters, temporal_filters, timbral_filters
    from genre_core.models.musicnn import build_musicnn

    model = build_musicnn()
    indices, kernels = timbral_filters(model, "timbral_7x67", count=5)
    weights = model.get_layer("timbral_7x67").get_weights()[0]
    assert kernels.shape == (5, 7, 67)
    # exact: the filters are slices of the weights, no arithmetic
    np.testing.assert_array_equal(kernels[0], weights[:, :, 0, indices[0]])
    indices, curves = temporal_filters(model, "temporal_32", count=3)
    assert curves.shape == (3, 32)
    np.testing.assert_array_equal(curves[1], model.get_layer("temporal_32").get_weights()[0][:, 0, 0, indices[1]])
    act = np.zeros((4, 5, 3))
    act[..., 2] = 9.0  # strongest, but flat: its map would show nothing
    act[::2, :, 0] = 1.0
    act[0, 0, 1] = 1.0
    assert most_varied_filters(act, 2) == [0, 1]
