"""Compare's "On labelled clips": the stored out-of-domain evaluation, the user's own labelled clips,
the headline on the current clip, and the table-building behind them (genre_core.app.labelled_views).

The stored tab reads models/evidence/out_of_domain.json (written by ``genre-lab evidence`` from
../shared/data); its test skips when the file is absent.  The "Your clips" tab is driven end to end:
AppTest uploads several files at once, seeds the label editor's edits through session state (the way
AppTest edits an ``st.data_editor``) and presses Evaluate.
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from genre_core.app import labelled_views as lv
from genre_core.config import PROJECT_ROOT
from genre_core.evaluation import EVIDENCE_FILE, EvidenceError, wilson_interval
from genre_core.scoring import FAILED, NO_ANSWER, TRAINING, ClipAnswer, Score
from genre_core.session import display_name
from tests._figures import figures_by_key as _figures
from tests._figures import plotly_array as _array

APP = str(PROJECT_ROOT / "app.py")
COMPARE = "pages/compare_models.py"
TIMEOUT = 600
STORED, YOURS = "Real songs (measured)", "Your clips"


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


def _compare(clip=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if clip is not None:
        at.session_state["clip"] = clip
    at.switch_page(COMPARE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _tab(at: AppTest, label: str):
    tabs = [t for t in at.tabs if t.label == label]
    assert len(tabs) == 1, [t.label for t in at.tabs]
    return tabs[0]


def _texts(block, *kinds: str) -> str:
    return " ".join(str(e.value) for kind in kinds for e in block.get(kind))


def _score_tables(block) -> list[pd.DataFrame]:
    """The score tables of a tab (not its label editor or wrong-clips table), in page order."""
    return [d.value for d in block.dataframe if "right" in d.value.columns]


def _stored_json() -> dict:
    if not EVIDENCE_FILE.is_file():
        pytest.skip(f"{EVIDENCE_FILE} is absent: it is written by `genre-lab evidence` (python -m genre_core "
                    "evidence) from ../shared/data, which a fresh clone does not have")
    return json.loads(EVIDENCE_FILE.read_text(encoding="utf-8"))


# --- the stored evaluation ----------------------------------------------------------------------------


def test_stored_tab_shows_every_model_with_the_stored_counts(registry):
    data = _stored_json()
    gtzan = [s for s in data["scores"] if s["vocabulary"] == "gtzan10"]
    assert gtzan, "the evidence file has no GTZAN scores"
    cards = {e.name: e.card for e in registry.entries()}
    expected = {display_name(cards.get(s["model"], {}), s["model"]): f"{s['k']} of {s['n']}" for s in gtzan}
    assert len(expected) == len(gtzan), "two models share a display name: the table would be ambiguous"

    tab = _tab(_compare(), STORED)
    titles = [s.value for s in tab.subheader]
    vocabularies = list(dict.fromkeys(s["vocabulary"] for s in data["scores"]))
    assert titles[0] == "GTZAN's 10 genres"
    assert titles == [lv.vocabulary_title(v)[:1].upper() + lv.vocabulary_title(v)[1:]
                      for v in lv.by_vocabulary([{"vocabulary": v} for v in vocabularies])]
    table = _score_tables(tab)[0]
    assert len(table) == len(gtzan)  # one row per model
    assert dict(zip(table["model"], table["right"])) == expected
    # every interval is the Wilson interval of the stored k / n, and rows follow its lower bound
    by_name = {display_name(cards.get(s["model"], {}), s["model"]): s for s in gtzan}
    lows = []
    for name, text in zip(table["model"], table["accuracy 95 % interval"]):
        low, high = wilson_interval(by_name[name]["k"], by_name[name]["n"])
        assert text == f"{low * 100:.0f}–{high * 100:.0f} %", name
        lows.append(low)
    assert lows == sorted(lows, reverse=True)
    # the card's figure sits apart, after the measured columns; taggers have none
    assert list(table.columns[-2:]) == list(lv.CARD_COLUMNS)
    for name, figure in zip(table["model"], table["card: accuracy"]):
        card = cards.get(by_name[name]["model"], {})
        assert np.isnan(figure) == (card.get("kind") == "tagger"), name
    caption = _texts(tab, "caption")
    total = sum(c["clips"] for c in data["collections"])
    assert f"{total} labelled clips" in caption and "genre-lab evidence" in caption
    assert "GTZAN-trained models" in caption


def test_stored_tab_picker_shows_confusion_matrix_and_wrong_clips(registry):
    data = _stored_json()
    record = next(s for s in data["scores"] if s["vocabulary"] == "gtzan10" and s["k"] < s["n"])
    at = _compare()
    at.selectbox(key="stored_model").set_value(record["model"]).run()
    if f"stored_vocabulary_{record['model']}" in at.session_state:
        at.session_state[f"stored_vocabulary_{record['model']}"] = "gtzan10"
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    spec = _figures(at)["stored_confusion"]
    assert spec["data"][0]["y"] == record["confusion_matrix"]["labels"]
    assert _array(spec["data"][0]["text"]).astype(int).tolist() == record["confusion_matrix"]["counts"]
    wrong = _tab(at, STORED).dataframe[-1].value
    assert list(wrong["clip"]) == [c["clip"] for c in record["clips"] if not c["correct"]]


def test_stored_tab_without_a_file_says_how_to_make_it(monkeypatch):
    from genre_core import evaluation

    monkeypatch.setattr(evaluation, "stored_scores", lambda *a, **k: [])
    tab = _tab(_compare(), STORED)
    assert "genre-lab evidence" in _texts(tab, "info")
    assert not tab.dataframe


def test_stored_tab_with_a_damaged_file_says_so(monkeypatch):
    from genre_core import evaluation

    def damaged(*args, **kwargs):
        raise EvidenceError("out_of_domain.json: not a usable evidence file (Expecting value)")

    monkeypatch.setattr(evaluation, "stored_scores", damaged)
    tab = _tab(_compare(), STORED)
    assert "not a usable evidence file" in _texts(tab, "error")


# --- the user's clips, end to end -----------------------------------------------------------------------


def _wav(style: str, seed: int, seconds: float = 6.0) -> bytes:
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip

    return write_wav_bytes(synth_clip(style, seed=seed, duration=seconds), 22050)


def test_your_clips_scores_every_real_model_and_lists_bad_files(registry, monkeypatch):
    real = [e.name for e in registry.entries(real_only=True)]
    if not real:
        pytest.skip("no real-data models in models/")
    monkeypatch.setattr(lv, "UPLOAD_RESAMPLES", 20)  # the bootstrap's cost, not what is tested here
    calls = []
    evaluate = lv.evaluate_uploads
    monkeypatch.setattr(lv, "evaluate_uploads", lambda *a, **k: calls.append(1) or evaluate(*a, **k))
    mystery = f"mystery-{uuid.uuid4().hex[:8]}.wav"  # a fresh name: nothing cached answers for it
    files = [("disco.00001.wav", _wav("four-on-the-floor", 1), "audio/wav"), (mystery, _wav("swing", 2), "audio/wav"),
             ("broken.wav", b"this is not audio", "audio/wav")]

    at = _compare()
    uploader = next(w for w in at.get("file_uploader") if w.key == "labelled_uploads")
    assert uploader.accept_multiple_files
    uploader.set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    tab = _tab(at, YOURS)
    editor = tab.data_editor[0]
    assert list(editor.value["label"]) == ["disco", "", ""]  # GTZAN's names give the label
    assert "2 of 3 clips have no label" in _texts(tab, "info")  # a message, not an error
    assert not tab.get("error") and not calls

    at.session_state[editor.key] = {"edited_rows": {1: {"label": "jazz"}, 2: {"label": "rock"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert "no label" not in _texts(_tab(at, YOURS), "info")
    at.button(key="labelled_evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert calls == [1]
    tab = _tab(at, YOURS)
    warnings = _texts(tab, "warning")
    assert "broken.wav" in warnings and "not a readable audio file" in warnings  # listed with the reason
    assert "2 of your clips" in _texts(tab, "caption")  # the others still scored
    assert tab.subheader[0].value == "GTZAN's 10 genres"
    table = _score_tables(tab)[0]
    answering = [e for e in registry.entries(real_only=True)]  # every real model answers in GTZAN's genres
    assert len(table) == len(answering)
    assert set(table["model"]) == {display_name(e.card, e.name) for e in answering}
    assert set(table["right"]) <= {"0 of 2", "1 of 2", "2 of 2"}
    assert all("1: could not be analysed" in text for text in table["left out"])

    at.run()  # a rerun (any widget) shows the same result from the cache
    assert calls == [1] and _score_tables(_tab(at, YOURS))[0].equals(table)
    at.session_state[_tab(at, YOURS).data_editor[0].key] = {"edited_rows": {1: {"label": "blues"}},
                                                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert "press **Evaluate** again" in _texts(_tab(at, YOURS), "caption")
    assert calls == [1]


def test_your_clips_without_labels_cannot_be_evaluated():
    at = _compare()
    uploader = next(w for w in at.get("file_uploader") if w.key == "labelled_uploads")
    uploader.set_value([("first take.wav", _wav("swing", 5, 4.0), "audio/wav")]).run()
    assert not at.exception, [e.value for e in at.exception]
    tab = _tab(at, YOURS)
    assert "1 of 1 clips have no label" in _texts(tab, "info")
    assert at.button(key="labelled_evaluate").proto.disabled
    assert not tab.get("error")


# --- the headline on the current clip, and Live's defaults ------------------------------------------------


def test_compare_shows_the_same_headline_as_classify():
    _stored_json()  # without evidence no model is the headline: nothing to compare
    from genre_core.session import example_clip

    clip = example_clip("Example song: swing")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["clip"] = clip
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    on_classify = [(m.value, m.help) for m in at.get("metric") if m.label == "Headline answer"]
    at.switch_page(COMPARE).run()
    assert not at.exception, [e.value for e in at.exception]
    on_compare = [(m.value, m.help) for m in at.get("metric") if m.label == "Headline answer"]
    assert len(on_classify) == 1 and on_compare == on_classify
    text = _texts(at, "markdown")
    assert "labelled clips outside its training data" in text and "How sure:" in text


def test_live_preselects_by_the_evidence(registry):
    from genre_core.app.honesty import live_defaults
    from genre_core.evaluation import read_evidence_dirs

    evidence = read_evidence_dirs(registry.dirs)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/live.py").run()
    assert not at.exception, [e.value for e in at.exception]
    expected = live_defaults(registry.entries(real_only=True), 10, evidence=evidence)
    assert at.multiselect(key="live_models").value == expected


# --- labelled_views, unit by unit -----------------------------------------------------------------------


def _record(model: str, vocabulary: str, k: int, n: int, **extra) -> dict:
    low, high = wilson_interval(k, n)
    return {"model": model, "vocabulary": vocabulary, "k": k, "n": n, "accuracy": k / n if n else None,
            "accuracy_interval_95": [low, high], "macro_f1": 0.5 if n else None,
            "macro_f1_interval_95": [0.2, 0.8] if n else None, "left_out": {}, **extra}


CARDS = {
    "gtzan_a": {"display_name": "A · GTZAN", "kind": "classical",
                "metrics": {"cv10": {"accuracy": 0.9}, "fault_filtered_test": {"accuracy": 0.6}}},
    "msd_musicnn": {"display_name": "musicnn · MSD tagger", "kind": "tagger", "metrics": {"authors_test": {}}},
    "mtt_musicnn": {"display_name": "musicnn · MTT tagger", "kind": "tagger", "metrics": {"authors_test": {}}},
}


def test_score_table_orders_by_lower_bound_and_sets_the_card_apart():
    records = [_record("mtt_musicnn", "gtzan10", 0, 0, left_out={NO_ANSWER: 4}),
               _record("gtzan_a", "gtzan10", 4, 8, left_out={TRAINING: 5, NO_ANSWER: 10}),
               _record("msd_musicnn", "gtzan10", 7, 13)]
    table = lv.score_table(records, CARDS)
    assert list(table.columns) == ["model key", *lv.MEASURED_COLUMNS, *lv.CARD_COLUMNS]
    assert list(table["model key"]) == ["msd_musicnn", "gtzan_a", "mtt_musicnn"]  # 7/13 > 4/8 > nothing
    assert list(table["model"]) == ["musicnn · MSD tagger", "A · GTZAN", "musicnn · MTT tagger"]  # no clash
    assert list(table["right"]) == ["7 of 13", "4 of 8", "0 of 0"]
    assert table["accuracy 95 % interval"].iloc[2] == "—" and np.isnan(table["accuracy"].iloc[2])
    assert table["left out"].iloc[1] == "10: no right answer in this vocabulary; 5: from the model's training set"
    assert table["card: accuracy"].iloc[1] == 0.6  # the honest protocol, not random-fold CV
    assert "artist-filtered" in table["card: measured on"].iloc[1]
    assert np.isnan(table["card: accuracy"].iloc[0]) and "tagger" in table["card: measured on"].iloc[0]
    assert pd.api.types.is_float_dtype(table["accuracy"]) and pd.api.types.is_float_dtype(table["card: accuracy"])


def test_vocabularies_come_gtzan_then_fma_then_tags():
    records = [_record("m", v, 1, 2) for v in ("mtt50", "labels:a|b", "fma8", "msd50", "gtzan10")]
    assert list(lv.by_vocabulary(records)) == ["gtzan10", "fma8", "msd50", "mtt50", "labels:a|b"]
    assert lv.model_vocabularies(records) == {"m": ["gtzan10", "fma8", "msd50", "mtt50", "labels:a|b"]}
    assert lv.vocabulary_title("mtt50") == "the MagnaTagATune taggers' genre tags"


def test_tables_of_a_score_and_of_an_empty_one():
    answers = (ClipAnswer("a.wav", "c", "punk", ("metal", "rock"), "rock"),
               ClipAnswer("b.wav", "c", "jazz", ("jazz",), "blues"),
               ClipAnswer("c.wav", "c", "jazz", ("jazz",), "jazz"))
    record = Score("m", "gtzan10", answers, {FAILED: 1}).to_dict(n_resamples=20)
    assert (record["k"], record["n"]) == (2, 3)
    labels, counts = lv.confusion(record)
    assert labels == ["blues", "jazz", "rock"] and counts.sum() == 3 and counts[1, 0] == 1
    wrong = lv.wrong_clips_table(record)
    assert wrong.to_dict("records") == [{"clip": "b.wav", "collection": "c", "label": "jazz",
                                         "right answers": "jazz", "answer": "blues"}]
    empty = Score("m", "fma8", (), {NO_ANSWER: 3}).to_dict()
    assert empty["n"] == 0 and lv.confusion(empty)[0] == [] and lv.wrong_clips_table(empty).empty
    assert lv.score_table([empty], {})["left out"].iloc[0] == "3: no right answer in this vocabulary"


def test_upload_helpers():
    rows = lv.label_rows(["rock.00003.wav", "song.mp3", "song.mp3"])
    assert rows.to_dict("list") == {"file": ["rock.00003.wav", "song.mp3", "song.mp3 (2)"],
                                    "label": ["rock", "", ""]}
    files = [("a.wav", b"1"), ("b.wav", b"2")]
    assert lv.uploads_key(files, ["rock", ""]) != lv.uploads_key(files, ["rock", "jazz"])
    assert lv.uploads_key(files, ["rock", ""]) != lv.uploads_key([("a.wav", b"1"), ("b.wav", b"3")], ["rock", ""])
    assert lv.files_key(files) == lv.files_key(list(files)) != lv.files_key(files[:1])
    assert lv.unlabelled(["a", "b", "c"], ["rock", None, "  "]) == ["b", "c"]
    assert lv.unmatched_labels(["Hip-Hop", "heavy metal", "zydeco polka"], ["gtzan10", "fma8"]) == ["zydeco polka"]
    assert lv.collections_text([{"name": "real_songs", "clips": 12}, {"name": "fma_small", "clips": 6,
                                                                       "dataset": "fma"}]) \
        == "18 labelled clips: real_songs (12), fma_small (6 FMA clips)"


def test_evaluate_uploads_refuses_large_and_unlabelled_files_before_decoding():
    result = lv.evaluate_uploads([("big.wav", b"x" * (1024 * 1024 + 1)), ("quiet.wav", b"y")], ["rock", " "],
                                 predictors=[], cards={}, limit_mb=1)
    assert [name for name, _ in result.failed] == ["big.wav"]
    assert "upload limit is 1 MB" in result.failed[0][1]
    assert result.unlabelled == ["quiet.wav"] and result.records == [] and result.n_scored == 0


def test_stored_summary_reads_collections_and_refuses_a_damaged_file(tmp_path):
    assert lv.stored_summary(tmp_path / "missing.json") == {}
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"command": "genre-lab evidence", "collections": [{"name": "x", "clips": 2}]}))
    assert lv.stored_summary(good)["collections"] == [{"name": "x", "clips": 2}]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EvidenceError, match="genre-lab evidence"):
        lv.stored_summary(bad)
