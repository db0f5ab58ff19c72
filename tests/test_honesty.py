"""Issue 9: training-track flag, honest accuracy, not-music/disagreement warnings, headline rule,
one comparable view, Compare's honest defaults and human names, Live defaults and history."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from genre_core import plots
from genre_core.app import honesty
from genre_core.config import GTZAN_GENRES, PROJECT_ROOT
from genre_core.live import PredictionHistory
from genre_core.training import fingerprints as fp
from tests._figures import figures_by_key as _figures
from tests._shared_data import FMA_SMALL, GTZAN_AUDIO, GTZAN_CLIPS, GTZAN_CSV, require

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 300
INTERNAL_KEYS = ("gtzan10", "synth7", "msd50", "mtt50", "'protocols'", "fault_filtered_test", "cv10")


def _prediction(model: str, labels: tuple[str, ...], probabilities, windows=((0.0, 30.0),)) -> SimpleNamespace:
    probs = np.asarray(probabilities, dtype=float)
    return SimpleNamespace(model=model, labels=labels, probabilities=probs, windows=list(windows),
                           window_probabilities=probs[None, :], seconds=0.5, multi_label=False,
                           genre=labels[int(np.argmax(probs))])


def _card(accuracy_ff: float | None = None, cv: float | None = None, **extra) -> dict:
    metrics = {}
    if cv is not None:
        metrics["cv10"] = {"accuracy": cv, "macro_f1": cv}
    if accuracy_ff is not None:
        metrics["fault_filtered_test"] = {"accuracy": accuracy_ff, "macro_f1": accuracy_ff}
    return {"metrics": metrics, "data": {"dataset": "GTZAN", "label_set": "gtzan10"}, **extra}


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


@pytest.fixture(scope="module")
def gtzan_fingerprints(registry):
    found = honesty.load_fingerprints(registry.entries(real_only=True))
    if not found:
        pytest.skip("no training_fingerprint.npz in models/gtzan_* (python -m genre_core.training.fingerprints)")
    return found


# --- fingerprints ----------------------------------------------------------------------------------


def _toy_fingerprint(n: int = 200, d: int = 57, seed: int = 0) -> tuple[np.ndarray, fp.TrainingFingerprint]:
    rng = np.random.default_rng(seed)
    X = rng.normal(5.0, 2.0, size=(n, d))
    made = fp.make_fingerprint(X, [f"t.{i:05d}" for i in range(n)], ["a"] * n, [f"f{j}" for j in range(d)])
    return X, made


def test_fingerprint_round_trip_and_match_tolerance(tmp_path):
    X, made = _toy_fingerprint()
    fp.write_fingerprint(tmp_path, made)
    loaded = fp.read_fingerprint(tmp_path)
    np.testing.assert_allclose(loaded.vectors, made.vectors)
    assert loaded.track_ids == made.track_ids
    std = X.std(axis=0)
    near = X[17] + 0.4 * fp.MATCH_TOLERANCE * std  # inside the tolerance on every feature
    far = X[17] + 3 * fp.MATCH_TOLERANCE * std
    assert [m.track_id for m in loaded.matches(near)] == ["t.00017"]
    assert loaded.matches(far) == []
    assert fp.read_fingerprint(tmp_path / "missing") is None


def test_novelty_flags_far_vectors_only():
    X, made = _toy_fingerprint()
    assert not made.novelty(X[3] + 0.01).unlike_training
    assert made.novelty(X[3] + 50 * X.std(axis=0)).unlike_training


def test_shipped_fingerprint_equals_the_training_table(registry):
    shipped = fp.read_fingerprint(registry.entry("gtzan_logreg").directory) if hasattr(registry, "entry") else \
        fp.read_fingerprint(next(e for e in registry.entries() if e.name == "gtzan_logreg").directory)
    if shipped is None:
        pytest.skip("models/gtzan_logreg has no fingerprint")
    fresh = fp.fingerprint_from_gtzan_table(require(GTZAN_CSV))
    assert shipped.track_ids == fresh.track_ids
    np.testing.assert_allclose(shipped.vectors, fresh.vectors, atol=1e-5)


def _clip_windows(samples, sample_rate):
    """The app's GTZAN-57 pass over a clip: (windows, features)."""
    from genre_core.app.shared_inputs import analyse_clip

    found, _ = analyse_clip(samples, sample_rate, [], want_features=True)
    return found.windows, found.features


@pytest.mark.parametrize("genre", GTZAN_CLIPS)
def test_gtzan_training_clips_are_flagged(gtzan_fingerprints, genre):
    from genre_core.audio import load_audio

    clip = load_audio(require(GTZAN_AUDIO / f"{genre}.00000.wav"))
    windows, features = _clip_windows(clip.samples, clip.sample_rate)
    report = honesty.training_overlap(features, gtzan_fingerprints, windows)
    assert report.seen_in_training
    assert report.matches[0].track_id == f"{genre}.00000"
    assert set(report.models) == set(gtzan_fingerprints)
    assert not report.novelty.unlike_training


def _fma_clips() -> list:
    return sorted(require(FMA_SMALL).glob("*/*.mp3"))


def test_fma_clips_are_not_flagged_and_sound_like_music(gtzan_fingerprints):
    from genre_core.audio import load_audio

    clips = _fma_clips()
    assert clips
    for path in clips:
        clip = load_audio(path)
        windows, features = _clip_windows(clip.samples, clip.sample_rate)
        report = honesty.training_overlap(features, gtzan_fingerprints, windows)
        assert not report.seen_in_training, path.name
        assert not report.novelty.unlike_training, (path.name, report.novelty)


@pytest.mark.parametrize("sound", ["kick drum", "whistle", "sine sweep", "chord", "white noise",
                                   "kick vs whistle"])
def test_teaching_sounds_are_unlike_training_music(gtzan_fingerprints, sound):
    from genre_core.session import render_teaching_sound

    windows, features = _clip_windows(render_teaching_sound(sound), 22050)
    report = honesty.training_overlap(features, gtzan_fingerprints, windows)
    assert not report.seen_in_training
    assert report.novelty.unlike_training, report.novelty
    assert "probably not music" in " ".join(honesty.reliability_warnings(None, report.novelty, {}))


def test_clip_windows_chunked_equal_one_pass(gtzan_fingerprints):
    from genre_core.features import gtzan57_windows

    rng = np.random.default_rng(1)
    y = (0.1 * rng.normal(size=int(150 * 22050))).astype(np.float32)
    chunked_windows, chunked = _clip_windows(y, 22050)
    windows, whole = gtzan57_windows(y, 22050, 30.0, 15.0)
    assert [round(s, 2) for s, _ in chunked_windows] == [round(s, 2) for s, _ in windows]
    # chunk edges change only STFT padding, HPSS edges and the per-recording chroma tuning: within the
    # match tolerance (training stds) for the share of features the match uses
    fingerprint = next(iter(gtzan_fingerprints.values()))
    differences = np.abs(fingerprint.standardise(chunked) - fingerprint.standardise(whole))
    assert np.all(np.quantile(differences, fp.MATCH_QUANTILE, axis=1) <= fp.MATCH_TOLERANCE)


# --- protocols, names, headline ---------------------------------------------------------------------


def test_honest_protocol_prefers_artist_filtered_then_held_out():
    assert honesty.honest_protocol(_card(0.5, 0.8)) == "fault_filtered_test"
    assert honesty.honest_protocol({"metrics": {"test_segment": {"accuracy": 0.7},
                                                "test_track": {"accuracy": 0.8}}}) == "test_track"
    assert honesty.honest_protocol(_card(None, 0.8)) == "cv10"
    assert honesty.honest_protocol({"metrics": {}}) is None
    assert honesty.honest_caption(_card(0.576, 0.74)).startswith("58% accuracy on the artist-filtered")


def test_readable_names_and_notes_hide_internal_keys():
    assert honesty.label_set_title("gtzan10") == "10 GTZAN genres"
    assert honesty.label_set_title("mine", 4) == "4 labels"
    card = _card(0.5, 0.7, notes=["metrics come from the protocols listed in 'protocols', where it never saw"])
    text = " ".join(honesty.readable_notes(card))
    assert "'protocols'" not in text and "artist-filtered" in text


def test_headline_uses_best_evidence_and_leaves_out_ensembles(registry):
    from genre_core.evaluation import Evidence, choose_headline

    labels = GTZAN_GENRES
    cards = {
        "g_logreg": _card(0.58, 0.74), "g_svm": _card(0.53, 0.77), "g_knn": _card(0.42, 0.72),
        "g_gnb": _card(0.44, 0.59),
        "g_ensemble": _card(0.9, 0.9, architecture="soft-voting ensemble",
                            hyperparameters={"chosen": {"weights": {"logreg": 2, "knn": 1, "gnb": 0, "svm": 2}}}),
    }
    # out-of-domain evidence: the ensemble has none, whatever its card says
    evidence = {(name, "gtzan10"): Evidence(name, "gtzan10", k, 10)
                for name, k in (("g_logreg", 7), ("g_svm", 5), ("g_knn", 4), ("g_gnb", 2))}

    def says(genre: str) -> list[float]:
        return [0.9 if label == genre else 0.1 / (len(labels) - 1) for label in labels]

    predictions = [_prediction("g_logreg", labels, says("rock")), _prediction("g_svm", labels, says("blues")),
                   _prediction("g_knn", labels, says("jazz")), _prediction("g_gnb", labels, says("rock")),
                   _prediction("g_ensemble", labels, says("rock"))]
    headline = choose_headline(predictions, "gtzan10", evidence, cards)
    # the ensemble's better-looking card figure must not make it the headline, and neither it nor GNB votes
    assert headline.model == "g_logreg" and headline.genre == "rock"
    assert sorted(headline.voters) == ["g_knn", "g_logreg", "g_svm"]
    assert headline.agreeing == ("g_logreg",)
    assert headline.sure == "unsure"  # 1 of 3 distinct models agree
    warning = " ".join(honesty.reliability_warnings(headline, None, cards))
    assert "disagree" in warning and "1 of 3 distinct models" in warning and "**rock**" in warning
    unanimous = choose_headline([_prediction(n, labels, says("rock")) for n in cards], "gtzan10", evidence, cards)
    assert unanimous.agreeing == unanimous.voters and len(unanimous.voters) == 3
    assert honesty.reliability_warnings(unanimous, None, cards) == []
    # no evidence at all: no headline, so no disagreement to warn about
    nothing = choose_headline(predictions, "gtzan10", {}, cards)
    assert nothing.genre is None and honesty.reliability_warnings(nothing, None, cards) == []
    # the shipped cards: the ensemble and the zero-weight member are not distinct voters
    shipped = {e.name: e.card for e in registry.entries(real_only=True)}
    if "gtzan_ensemble" in shipped:
        voters = honesty.distinct_models(sorted(shipped), shipped)
        assert "gtzan_ensemble" not in voters and "gtzan_gnb" not in voters and "gtzan_logreg" in voters


def test_family_metrics_do_not_mix_families():
    labels = ("a", "b")
    real = [_prediction("r1", labels, [0.5, 0.5]), _prediction("r2", labels, [0.4, 0.6])]
    synth_windows = [(i * 3.0, i * 3.0 + 3.0) for i in range(10)]
    synth = [_prediction("s1", labels, [0.5, 0.5], windows=synth_windows)]
    cards = {"r1": {"input": {"window_seconds": 30.0}}, "r2": {"input": {"window_seconds": 30.0}},
             "s1": {"input": {"window_seconds": 3.0}}}
    figures = honesty.family_metrics("real", real, cards)
    assert (figures.n_models, figures.n_windows, figures.window_seconds) == (2, 1, 30.0)
    assert figures.seconds == pytest.approx(1.0)
    assert honesty.family_metrics("synthetic", synth, cards).n_windows == 10


# --- plots: one comparable view -----------------------------------------------------------------------


def test_bars_keep_label_order_rank_ties_alike_and_readable():
    labels = ["blues", "jazz", "rock", "pop", "metal"]
    fig = plots.probability_bars(labels, [0.1, 0.3, 0.3, 0.25, 0.05], sort=False)
    (bar,) = fig.data
    assert list(bar.y) == labels  # the given order, whatever the probabilities
    assert fig.layout.yaxis.autorange == "reversed"  # first label at the top
    colours = list(bar.marker.color)
    assert colours[1] == colours[2] == plots.TOP_COLOUR  # the tie shares its colour
    assert bar.text[1].startswith("#1=") and bar.text[2].startswith("#1=") and bar.text[3].startswith("#3")
    assert bar.textfont.size >= 12 and bar.textfont.color == plots.RANK_TEXT_COLOUR
    np.testing.assert_array_equal(plots.ranks_with_ties([0.2, 0.5, 0.2, 0.1]), [2, 1, 2, 4])


def test_matrix_stars_every_tied_top_and_shows_percentages():
    fig = plots.probability_matrix_figure(["m1", "m2"], ["a", "b", "c"], np.array([[0.4, 0.4, 0.2], [0.1, 0.2, 0.7]]))
    text = fig.data[0].text
    assert text[0][0].startswith("★") and text[0][1].startswith("★") and not text[0][2].startswith("★")
    assert text[1][2] == "★ 70%"


def test_training_curves_name_validation_and_confusion_labels_have_room():
    fig = plots.training_curves_figure({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.7],
                                        "val_accuracy": [0.4, 0.6], "lr": [0.1, 0.1]})
    names = {t.name for t in fig.data}
    assert names == {"training loss", "validation loss", "training accuracy", "validation accuracy"}
    assert plots.has_validation({"val_loss": [1.0]}) and not plots.has_validation({"loss": [1.0]})
    cm = plots.confusion_matrix_figure(np.eye(10) * 10, [f"genre{i}" for i in range(10)])
    assert cm.layout.xaxis.automargin and cm.layout.yaxis.automargin
    assert cm.layout.yaxis.scaleanchor == "x"


# --- live -----------------------------------------------------------------------------------------------


def test_live_defaults_pick_taggers_and_best_honest_genre_model(registry):
    entries = registry.entries(real_only=True)
    if not any(e.name == "gtzan_logreg" for e in entries):
        pytest.skip("no GTZAN models")
    chosen = honesty.live_defaults(entries, 10.0)
    genre = [n for n in chosen if n.startswith("gtzan_")]
    best = max((e for e in entries if e.name.startswith("gtzan_") and "ensemble" not in e.name),
               key=lambda e: honesty.honest_metric(e.card)[1])
    assert genre == [best.name]
    assert "gtzan_knn" not in chosen and "gtzan_dense" not in chosen
    taggers = [e.name for e in entries if e.card.get("kind") == "tagger" and e.card.get("shown_by_default")]
    assert all(t in chosen for t in taggers)
    note = honesty.window_note(10, 2, [e.card for e in entries if e.name in chosen])
    assert "last 10 s" in note and ("30 s" in note or not genre)


def test_live_defaults_follow_the_evidence_before_the_card(registry):
    from genre_core.evaluation import Evidence

    entries = registry.entries(real_only=True)
    if not {"gtzan_knn", "gtzan_ensemble"} <= {e.name for e in entries}:
        pytest.skip("no GTZAN models")
    # kNN has the weakest card figure; with the best evidence it is the one Live preselects
    evidence = {("gtzan_knn", "gtzan10"): Evidence("gtzan_knn", "gtzan10", 9, 10),
                ("gtzan_ensemble", "gtzan10"): Evidence("gtzan_ensemble", "gtzan10", 10, 10)}
    chosen = honesty.live_defaults(entries, 10.0, evidence=evidence)
    assert [n for n in chosen if n.startswith("gtzan_")] == ["gtzan_knn"]  # never the ensemble
    two = honesty.live_defaults(entries, 10.0, n_genre=2, evidence=evidence)
    genre = [n for n in two if n.startswith("gtzan_")]
    assert genre[0] == "gtzan_knn" and genre[1] == honesty.live_defaults(entries, 10.0)[-1]


def test_prediction_history_scrolls():
    history = PredictionHistory(max_updates=3)
    labels = ("a", "b")
    for step in range(5):
        history.add(2.0 * step, [_prediction("m", labels, [0.2, 0.8] if step % 2 else [0.9, 0.1])])
    assert len(history) == 3
    table = history.table({"m": "Model M"})
    assert list(table["time (s)"]) == [8.0, 6.0, 4.0]  # newest first
    assert list(table["Model M"]) == ["a 90%", "b 80%", "a 90%"]
    history.clear()
    assert len(history) == 0


# --- the pages --------------------------------------------------------------------------------------------


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(at: AppTest, path) -> AppTest:
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), "audio/wav")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest, *kinds: str) -> str:
    return " ".join(str(e.value) for kind in kinds for e in at.get(kind))


def test_pages_flag_a_training_clip(gtzan_fingerprints):
    at = _upload(_app(), require(GTZAN_AUDIO / "blues.00000.wav"))
    for page in ("pages/classify.py", "pages/spectrogram_lab.py", "pages/compare_models.py"):
        if page != "pages/classify.py":
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
        warnings = _texts(at, "warning")
        assert "training track" in warnings and "blues.00000" in warnings, page
        assert "artist-filtered" in warnings, page


def test_without_fingerprints_the_pages_say_the_check_is_off(monkeypatch, tmp_path):
    """Fingerprints are derived from the corpus and never shipped: a fresh clone says the check is off."""
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip

    from genre_core.training import fingerprints

    monkeypatch.setattr(fingerprints, "FINGERPRINT_FILE", "no_such_fingerprint.npz")  # as on a fresh clone
    song = tmp_path / "unseen_song.wav"  # a clip no other test uses, so no cached check answers for it
    song.write_bytes(write_wav_bytes(synth_clip("swing", seed=4321, duration=12.0), 22050))
    at = _upload(_app(), song)
    assert "Training-track check off" in _texts(at, "caption")
    assert "training track" not in _texts(at, "warning")


def test_classify_fma_clip_headline_and_honest_names(gtzan_fingerprints, registry):
    at = _app()
    at.session_state["bars_open_real0"] = True  # each model's bars, opened
    at = _upload(at, _fma_clips()[0])
    text = _texts(at, "warning", "markdown", "caption")
    assert "training track" not in text and "probably not music" not in text
    headlines = [m for m in at.get("metric") if m.label == "Headline answer"]
    assert len(headlines) == 1  # one headline for the GTZAN label set, no second ensemble
    # the evaluation policy's rule, in words, under the headline
    assert "Rule:" in text and "best evidence on real music outside its training data" in text.split("Rule:")[1]
    assert "Soft-vote" not in text
    matrix = next(v for k, v in _figures(at).items() if k.startswith("matrix_real"))
    names = matrix["data"][0]["y"]
    assert all(name.rstrip().endswith("%") for name in names)  # honest accuracy beside each name
    real = [e for e in registry.entries(real_only=True) if e.card.get("kind") != "tagger"]
    bars = [v for k, v in _figures(at).items() if k.startswith("bars_gtzan")]
    assert len(bars) == len(real)
    assert all(b["data"][0]["y"] == list(real[0].card["labels"]) for b in bars)  # one label order


def test_classify_warns_on_kick_drum(gtzan_fingerprints):
    at = _app()
    at.selectbox(key="example").set_value("Teaching sound: kick drum").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "probably not music" in _texts(at, "warning")


def test_classify_metrics_per_family_with_synthetic_models(registry):
    if all(e.is_real_data for e in registry.entries()):
        pytest.skip("no synthetic demo models")
    at = _app()
    at.selectbox(key="example").set_value("Example song: swing").run()
    at.toggle(key="show_synthetic").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    windows = [m.value for m in at.get("metric") if m.label == "Analysis windows"]
    assert len(windows) == 2  # one per family, not one mixed figure
    assert int(windows[0]) <= 2 and int(windows[1]) >= 9  # 30 s clip: 30 s windows vs 3 s segments


def test_compare_defaults_to_honest_protocol_with_human_names(registry):
    at = _app()
    at.switch_page("pages/compare_models.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at, "markdown", "caption", "subheader", "header", "info", "warning")
    for key in INTERNAL_KEYS:
        assert key not in text, key
    table = at.dataframe[0].value
    assert "architecture" not in table.columns and len(table.columns) <= 6  # fits at 1400 px
    accuracy = table["accuracy"].to_numpy(dtype=float)
    assert np.all(np.diff(accuracy) <= 0)  # sorted by the honest figure
    gtzan = {e.name: e.card for e in registry.entries(real_only=True) if e.name.startswith("gtzan_")}
    if gtzan:
        best = max(gtzan.values(), key=lambda c: c["metrics"]["fault_filtered_test"]["accuracy"])
        assert table["model"].iloc[0] == best["display_name"].split(" · ")[0]
    # the detail view opens on the honest protocol
    detail = at.get("button_group")[0]
    assert detail.value == "fault_filtered_test" or detail.value == honesty.honest_protocol(
        registry.entries()[0].card)


def test_compare_shows_validation_curves_or_says_why_not(registry):
    deep = [e for e in registry.entries() if "val_accuracy" in (e.card.get("history") or {})]
    dense = [e for e in registry.entries() if (e.card.get("history") or {}) and e not in deep]
    at = _app()
    at.switch_page("pages/compare_models.py").run()
    for entry in deep[:1] + dense[:1]:
        at.selectbox(key="compare_model").set_value(entry.name).run()
        assert not at.exception, [e.value for e in at.exception]
        assert "compare_history" not in _figures(at)  # drawn only when its tab is chosen
        at.session_state[f"compare_diagnostic_{entry.name}"] = "Training curves"
        at.run()
        names = {t.get("name") for t in _figures(at)["compare_history"]["data"]}
        if entry in deep:
            assert "validation accuracy" in names
        else:
            assert "no validation set" in _texts(at, "caption")


def test_live_preselects_best_models_and_states_window(registry):
    at = _app()
    at.switch_page("pages/live.py").run()
    assert not at.exception, [e.value for e in at.exception]
    chosen = at.multiselect(key="live_models").value
    # the evaluation policy's pick: the stored out-of-domain evidence first, the card's figure after; no ensemble
    from genre_core.evaluation import read_evidence_dirs

    evidence = read_evidence_dirs(registry.dirs)
    assert chosen == honesty.live_defaults(registry.entries(real_only=True), 10, evidence=evidence)
    assert "gtzan_ensemble" not in chosen and len([n for n in chosen if n.startswith("gtzan_")]) <= 1
    assert "last 10 s" in _texts(at, "caption")


# --- one GTZAN-57 pass shared by the models and the training-set check -------------------------------


def test_shared_features_give_the_same_predictions_as_predict_samples():
    """Models fed the shared feature pass predict exactly what predict_samples gives them (150 s: chunked)."""
    from genre_core.app.shared_inputs import Gtzan57Capture, analyse_clip, predictions_from_features
    from genre_core.predict import predict_samples
    from genre_core.registry import default_registry

    registry = default_registry()
    capture_key = Gtzan57Capture().input_key
    models, _ = registry.load_many([e.name for e in registry.entries(real_only=True)])
    models = [m for m in models if m.input_key == capture_key]
    if not models:
        pytest.skip("no GTZAN-57 model in models/")
    rng = np.random.default_rng(3)
    y = (0.1 * rng.normal(size=int(150 * 22050))).astype(np.float32)
    expected = predict_samples(y, 22050, models)
    shared, _ = analyse_clip(y, 22050, [], want_features=True)
    got = predictions_from_features(models, shared)
    assert shared.features.shape == (len(shared.windows), 57)
    for e, g in zip(expected, got):
        assert g.model == e.model and g.labels == e.labels
        np.testing.assert_allclose(np.asarray(g.windows), np.asarray(e.windows))
        np.testing.assert_allclose(g.window_probabilities, e.window_probabilities, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(g.probabilities, e.probabilities, rtol=1e-6, atol=1e-9)


def test_shared_features_refuse_a_model_with_another_input():
    from genre_core.app.shared_inputs import ClipFeatures, predictions_from_features
    from genre_core.errors import UsageError

    other = SimpleNamespace(name="cnn", input_key=("mel", 3.0), labels=("a", "b"),
                            predict_inputs=lambda x: np.full((len(x), 2), 0.5))
    features = ClipFeatures(("gtzan57", 30.0, 15.0), [(0.0, 30.0)], np.zeros((1, 57)), 0.1)
    with pytest.raises(UsageError):
        predictions_from_features([other], features)
