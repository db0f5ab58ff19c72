"""The evaluation policy: labelled clips, scores with honest intervals, evidence and the headline rule.

Mostly small synthetic inputs (predictions as ``SimpleNamespace``, clip folders of
placeholder files that are never decoded); one test decodes a few short WAVs to
run :func:`genre_core.scoring.analyse_labelled` end to end.  The shipped evidence
file and the real clips beside the checkout are checked when present.
"""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import binomtest, norm
from sklearn.metrics import f1_score

from genre_core.config import FMA_SMALL_GENRES, GTZAN_GENRES
from genre_core.errors import GenreLabError, UsageError
from genre_core.evaluation import (
    EVIDENCE_FILE,
    HEADLINE_RULE,
    NO_EVIDENCE_RULE,
    VOCABULARY_TITLES,
    Evidence,
    EvidenceError,
    choose_headline,
    default_model_names,
    evidence_from_scores,
    evidence_sets,
    how_sure,
    leave_one_out,
    rank_by_evidence,
    read_evidence,
    read_evidence_dirs,
    stored_scores,
    write_evidence,
)
from genre_core.labelled import (
    LabelledClip,
    LabelledSet,
    LabelsError,
    normalise_label,
    own_vocabulary,
    read_labelled,
    right_answers,
    vocabulary_labels,
)
from genre_core.scoring import (
    FAILED,
    NO_ANSWER,
    TRAINING,
    ClipAnswer,
    ClipResult,
    Score,
    analyse_labelled,
    answer,
    answer_scores,
    bootstrap_interval,
    score_results,
    vocabularies_of,
    wilson_interval,
)
from genre_core.tags import MSD_TAGS, map_to_genres
from tests._shared_data import FMA_SMALL, GTZAN_AUDIO, REAL_SONGS, require

GTZAN_CARD = {"data": {"dataset": "GTZAN", "source": "real"}}
MSD_CARD = {"data": {"dataset": "msd", "source": "real"}, "kind": "tagger"}


def _classifier(model: str, genre: str, labels: tuple[str, ...] = GTZAN_GENRES, top: float = 0.7) -> SimpleNamespace:
    """A genre classifier's prediction whose top answer is ``genre``."""
    p = np.full(len(labels), (1 - top) / (len(labels) - 1))
    p[labels.index(genre)] = top
    return SimpleNamespace(model=model, labels=labels, probabilities=p, multi_label=False)


def _tagger(model: str, **tags: float) -> SimpleNamespace:
    """An MSD tagger's prediction: the given tag probabilities (spaces as underscores), 0.01 elsewhere."""
    p = np.full(len(MSD_TAGS), 0.01)
    for tag, value in tags.items():
        p[MSD_TAGS.index(tag.replace("_", " "))] = value
    return SimpleNamespace(model=model, labels=MSD_TAGS, probabilities=p, multi_label=True)


def _touch(path, data: bytes = b"placeholder, never decoded"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- labels ----------------------------------------------------------------------------------------


def test_normalise_label_ignores_case_spaces_and_punctuation():
    assert normalise_label("Hip-Hop") == normalise_label("hiphop") == normalise_label(" hip hop ") == "hiphop"
    assert normalise_label("R&B") == "rb" and normalise_label("Rock") != normalise_label("Pop")


def test_right_answers_through_names_and_the_crosswalk():
    assert right_answers("Hip-Hop", "gtzan10") == {"hiphop"}
    assert right_answers("hip hop", "fma8") == {"Hip-Hop"}
    # a tag name, mapped by the hand-written crosswalk
    assert right_answers("heavy metal", "gtzan10") == {"metal"}
    assert right_answers("heavy metal", "fma8") == {"Rock"}
    assert right_answers("Heavy-Metal", "msd50") == {"heavy metal", "metal", "hard rock"}
    # no counterpart: empty, so the clip is left out of GTZAN's scores
    assert right_answers("Electronic", "gtzan10") == frozenset()
    assert right_answers("Electronic", "fma8") == {"Electronic"}
    assert right_answers("gospel", "gtzan10") == right_answers("gospel", "fma8") == frozenset()


def test_given_columns_override_the_mapping():
    given = {"gtzan10": frozenset({"rock", "metal"})}
    assert right_answers("punk", "gtzan10") == {"rock"}  # the crosswalk alone
    assert right_answers("punk", "gtzan10", given) == {"rock", "metal"}
    assert right_answers("heavy metal", "gtzan10", {"gtzan10": frozenset({"rock"})}) == {"rock"}
    # stated empty: nothing fits, whatever the label's name maps to
    assert right_answers("disco", "gtzan10", {"gtzan10": frozenset()}) == frozenset()
    # the set not stated keeps the mapping; the tags follow the stated genres
    assert right_answers("bossa nova", "fma8", {"gtzan10": frozenset({"jazz"})}) == frozenset()
    assert right_answers("bossa nova", "msd50", {"gtzan10": frozenset({"jazz"})}) == {"jazz"}
    clip = LabelledClip(b"", "x", "heavy metal", {"fma8": frozenset({"Experimental"})})
    assert clip.right_answers("fma8") == {"Experimental"} and clip.right_answers("gtzan10") == {"metal"}


def test_own_vocabulary_matches_labels_by_normalised_name():
    vocabulary = own_vocabulary(["hiphop", "Rock", "synth-pop"])
    assert vocabulary_labels(vocabulary) == ("hiphop", "Rock", "synth-pop")
    assert right_answers("Hip-Hop", vocabulary) == {"hiphop"}
    assert right_answers("rock", vocabulary) == {"Rock"}
    assert right_answers("Synth Pop", vocabulary) == {"synth-pop"}
    assert right_answers("metal", vocabulary) == frozenset()  # no crosswalk into a user's own labels
    assert vocabularies_of(["hiphop", "Rock", "synth-pop"]) == (vocabulary,)
    assert vocabularies_of(GTZAN_GENRES) == ("gtzan10",) and vocabularies_of(FMA_SMALL_GENRES) == ("fma8",)
    assert vocabularies_of(MSD_TAGS) == ("msd50", "gtzan10", "fma8")
    with pytest.raises(UsageError, match="unknown vocabulary"):
        vocabulary_labels("nope")


# --- layouts ---------------------------------------------------------------------------------------


def test_read_a_csv_with_labels_and_per_set_answers(tmp_path):
    _touch(tmp_path / "a.wav")
    _touch(tmp_path / "sub" / "b.mp3")
    csv = tmp_path / "clips.csv"
    csv.write_text("file,named_genre,gtzan,fma\na.wav,punk,rock|metal,Rock\nsub/b.mp3,gospel,,\n")
    found = read_labelled(csv)
    assert (found.name, found.layout, found.dataset) == ("clips", "csv", None)
    a, b = found.clips
    assert (a.name, a.label, a.source) == ("a.wav", "punk", tmp_path / "a.wav")
    assert a.right_answers("gtzan10") == {"rock", "metal"} and a.right_answers("fma8") == {"Rock"}
    assert b.source == tmp_path / "sub" / "b.mp3" and b.right_answers("gtzan10") == frozenset()


def test_read_a_folder_with_labels_csv_and_an_overriding_labels_file(tmp_path):
    folder = tmp_path / "mine"
    _touch(folder / "x.wav")
    _touch(folder / "y.ogg")
    (folder / "labels.csv").write_text("file,label\nx.wav,Hip-Hop\ny.ogg,jazz\n")
    found = read_labelled(folder)
    assert (found.name, found.layout) == ("mine", "csv")
    assert [(c.name, c.label) for c in found.clips] == [("x.wav", "Hip-Hop"), ("y.ogg", "jazz")]
    assert found.clips[0].source == folder / "x.wav"
    other = tmp_path / "other.csv"
    other.write_text("file,genre\nx.wav,blues\n")  # paths relative to the folder, not to the CSV
    assert [c.label for c in read_labelled(folder, labels=other).clips] == ["blues"]


def test_gtzan_names_give_the_label_and_the_dataset(tmp_path):
    for name in ("blues.00000.wav", "hiphop.00012.wav", "rock.00099.au"):
        _touch(tmp_path / "g" / name)
    found = read_labelled(tmp_path / "g")
    assert (found.layout, found.dataset) == ("gtzan names", "gtzan")
    assert [c.label for c in found.clips] == ["blues", "hiphop", "rock"]
    assert read_labelled(tmp_path / "g", dataset="mine").dataset == "mine"


def test_folder_per_label(tmp_path):
    root = tmp_path / "music"
    _touch(root / "Hip-Hop" / "one.mp3")
    _touch(root / "rock" / "album" / "two.flac")
    _touch(root / "rock" / ".hidden.wav")
    _touch(root / "rock" / "notes.txt")
    found = read_labelled(root)
    assert (found.name, found.layout, found.dataset) == ("music", "folder per label", None)
    assert [(c.name, c.label) for c in found.clips] == [("Hip-Hop/one.mp3", "Hip-Hop"), ("rock/album/two.flac", "rock")]
    assert found.clips[0].right_answers("gtzan10") == {"hiphop"}


def test_fma_layout_needs_labels(tmp_path):
    root = tmp_path / "fma"
    _touch(root / "000" / "000002.mp3")
    _touch(root / "001" / "001040.mp3")
    with pytest.raises(LabelsError, match=r"FMA track id.*--labels"):
        read_labelled(root)
    labels = tmp_path / "fma_labels.csv"
    labels.write_text("file,label\n000/000002.mp3,Hip-Hop\n001/001040.mp3,Rock\n")
    found = read_labelled(root, labels=labels)
    assert found.dataset == "fma" and [c.right_answers("fma8") for c in found.clips] == [{"Hip-Hop"}, {"Rock"}]


def test_clear_errors_for_unusable_labels(tmp_path):
    assert issubclass(LabelsError, GenreLabError)
    _touch(tmp_path / "here.wav")
    missing = tmp_path / "missing.csv"
    missing.write_text("file,label\nhere.wav,rock\ngone.mp3,jazz\n")
    with pytest.raises(LabelsError, match=r"1 listed file\(s\) not found.*gone\.mp3"):
        read_labelled(missing)
    no_file_column = tmp_path / "no_file.csv"
    no_file_column.write_text("path,label\nhere.wav,rock\n")
    with pytest.raises(LabelsError, match="needs a 'file' column"):
        read_labelled(no_file_column)
    outside = tmp_path / "outside.csv"
    outside.write_text("file,label,gtzan\nhere.wav,techno,Electronic\n")  # an FMA genre in GTZAN's column
    with pytest.raises(LabelsError, match=r"line 2.*'Electronic' not among the 10 gtzan10 genres"):
        read_labelled(outside)
    respelt = tmp_path / "respelt.csv"
    respelt.write_text("file,label,gtzan,fma\nhere.wav,rock,ROCK,rock\n")  # stated genres are normalised too
    (clip,) = read_labelled(respelt).clips
    assert clip.right_answers("gtzan10") == {"rock"} and clip.right_answers("fma8") == {"Rock"}
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("file,label\n")
    with pytest.raises(LabelsError, match="lists no clips"):
        read_labelled(header_only)
    no_label = tmp_path / "no_label.csv"
    no_label.write_text("file,label\nhere.wav,\n")
    with pytest.raises(LabelsError, match="here.wav has no label"):
        read_labelled(no_label)
    loose = tmp_path / "tree"
    _touch(loose / "rock" / "a.wav")
    _touch(loose / "stray.mp3")
    with pytest.raises(LabelsError, match=r"sit directly in it \(first: stray\.mp3\)"):
        read_labelled(loose)
    with pytest.raises(LabelsError, match="no such file or folder"):
        read_labelled(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabelsError, match="no audio files"):
        read_labelled(tmp_path / "empty")


def test_the_shared_real_songs_read_as_labelled():
    found = read_labelled(require(REAL_SONGS))
    assert found.layout == "csv" and len(found.clips) >= 12
    by_name = {c.name: c for c in found.clips}
    assert by_name["punk.mp3"].right_answers("gtzan10") == {"rock", "metal"}
    assert by_name["afrobeat.mp3"].right_answers("gtzan10") == frozenset()
    assert by_name["heavy_metal.mp3"].right_answers("fma8") == {"Rock"}


def test_evidence_sets_name_each_collection_by_its_path(tmp_path):
    require(REAL_SONGS)
    require(FMA_SMALL)
    require(GTZAN_AUDIO)
    sets = {s.name: s for s in evidence_sets(REAL_SONGS.parent)}
    assert set(sets) == {"real_songs", "fma_small", "gtzan/audio"}
    assert sets["fma_small"].dataset == "fma" and sets["gtzan/audio"].dataset == "gtzan"
    assert sets["real_songs"].dataset is None
    assert evidence_sets(tmp_path) == []


# --- answers in each vocabulary ------------------------------------------------------------------------


def test_a_tagger_answers_in_genres_through_the_crosswalk():
    tagger = _tagger("t", punk=0.8, pop=0.3)
    labels, scores = answer_scores(tagger, "gtzan10")
    assert labels == GTZAN_GENRES
    np.testing.assert_allclose(scores, map_to_genres(MSD_TAGS, tagger.probabilities))
    assert answer(tagger, "gtzan10") == "rock" and answer(tagger, "fma8") == "Rock"
    assert answer(tagger, "msd50") == "punk"
    assert "80s" not in answer_scores(tagger, "msd50")[0]  # genre tags only
    classifier = _classifier("c", "jazz")
    assert answer(classifier, "gtzan10") == "jazz"
    assert answer_scores(classifier, "fma8") is None and answer(classifier, "msd50") is None


# --- scores ------------------------------------------------------------------------------------------


def _result(name: str, label: str, predictions=(), *, given=None, collection: str = "mine",
            dataset: str | None = None, error: str | None = None) -> ClipResult:
    clip = LabelledClip(b"", name, label, given or {})
    return ClipResult(clip, collection, dataset, tuple(predictions), error)


def test_a_multi_answer_clip_is_right_for_either():
    punk = {"gtzan10": frozenset({"rock", "metal"})}
    results = [_result("punk.mp3", "punk", [_classifier("says_metal", "metal"), _classifier("says_rock", "rock"),
                                            _classifier("says_pop", "pop")], given=punk)]
    cards = {"says_metal": {}, "says_rock": {}, "says_pop": {}}
    scores = {s.model: s for s in score_results(results, cards)}
    assert (scores["says_metal"].k, scores["says_rock"].k, scores["says_pop"].k) == (1, 1, 0)
    assert scores["says_metal"].answers[0].right_answers == ("metal", "rock")  # in vocabulary order
    # the truth rule: the answer when right, else the first right answer
    assert scores["says_rock"].answers[0].truth == "rock"
    assert scores["says_pop"].answers[0].truth == "metal"


def test_left_out_clips_are_counted_with_their_reason():
    predictions = [_classifier("gtzan_svm", "rock"), _tagger("msd_musicnn", rock=0.9)]
    results = [
        _result("rock.mp3", "rock", predictions),
        _result("techno.mp3", "techno", predictions),  # no GTZAN genre fits; FMA's Electronic does
        _result("blues.00000.wav", "blues", predictions, collection="gtzan/audio", dataset="gtzan"),
        _result("broken.mp3", "jazz", error="not a readable audio file"),
    ]
    scores = {(s.model, s.vocabulary): s for s in score_results(results, {"gtzan_svm": GTZAN_CARD,
                                                                         "msd_musicnn": MSD_CARD})}
    assert set(scores) == {("gtzan_svm", "gtzan10"), ("msd_musicnn", "msd50"), ("msd_musicnn", "gtzan10"),
                           ("msd_musicnn", "fma8")}
    svm = scores["gtzan_svm", "gtzan10"]
    # card dataset "GTZAN", clips' dataset "gtzan": the same training set, so the GTZAN clip does not count
    assert [a.clip for a in svm.answers] == ["rock.mp3"]
    assert svm.left_out == {NO_ANSWER: 1, TRAINING: 1, FAILED: 1}
    tagger = scores["msd_musicnn", "gtzan10"]
    assert [a.clip for a in tagger.answers] == ["rock.mp3", "blues.00000.wav"]  # not trained on GTZAN
    assert tagger.left_out == {NO_ANSWER: 1, FAILED: 1}
    fma = scores["msd_musicnn", "fma8"]  # techno counts in FMA's genres; blues and jazz have none
    assert [a.clip for a in fma.answers] == ["rock.mp3", "techno.mp3"] and fma.left_out == {NO_ANSWER: 2}
    only = score_results(results, {"msd_musicnn": MSD_CARD}, vocabularies=["fma8"])
    assert [(s.model, s.vocabulary) for s in only] == [("msd_musicnn", "fma8")]


def test_the_training_set_rule_ignores_how_the_dataset_is_spelt():
    results = [_result("blues.00000.wav", "blues", [_classifier("gtzan_svm", "blues")], dataset="GTZAN")]
    (score,) = score_results(results, {"gtzan_svm": GTZAN_CARD})
    assert score.n == 0 and score.left_out == {TRAINING: 1}


def _hand_made_score() -> Score:
    """Six clips, the truth and the answers written out by hand below."""
    rows = [  # clip, label, right answers (vocabulary order), answer
        ("c1", "rock", ("rock",), "rock"),
        ("c2", "punk", ("metal", "rock"), "metal"),
        ("c3", "punk", ("metal", "rock"), "pop"),
        ("c4", "jazz", ("jazz",), "jazz"),
        ("c5", "jazz", ("jazz",), "blues"),
        ("c6", "blues", ("blues",), "blues"),
    ]
    return Score("m", "gtzan10", tuple(ClipAnswer(c, "mine", label, right, a) for c, label, right, a in rows))


def test_confusion_matrix_rows_are_the_truth_in_vocabulary_order():
    score = _hand_made_score()
    labels, matrix = score.confusion()
    assert labels == ["blues", "jazz", "metal", "pop", "rock"]  # only those that occur, GTZAN's order
    # rows true (c3's truth is its first right answer, metal), columns answered
    assert matrix.tolist() == [
        [1, 0, 0, 0, 0],  # blues: c6
        [1, 1, 0, 0, 0],  # jazz: c5 → blues, c4
        [0, 0, 1, 1, 0],  # metal: c2, c3 → pop
        [0, 0, 0, 0, 0],  # pop: never true
        [0, 0, 0, 0, 1],  # rock: c1
    ]
    assert [a.clip for a in score.wrong] == ["c3", "c5"]
    assert (score.k, score.n, score.accuracy) == (4, 6, pytest.approx(4 / 6))


def test_macro_f1_equals_sklearn_on_the_truth_written_by_hand():
    score = _hand_made_score()
    y_true = ["rock", "metal", "metal", "jazz", "jazz", "blues"]
    y_pred = ["rock", "metal", "pop", "jazz", "blues", "blues"]
    expected = f1_score(y_true, y_pred, average="macro", zero_division=0)
    # by hand: blues, jazz, metal 2/3 each, pop 0, rock 1 → 3/5
    assert expected == pytest.approx(0.6)
    assert score.macro_f1 == pytest.approx(expected)


def test_macro_f1_bootstrap_contains_the_estimate_and_is_reproducible():
    score = _hand_made_score()
    low, high = score.macro_f1_interval(n_resamples=300)
    assert low <= score.macro_f1 <= high and low < high
    assert score.macro_f1_interval(n_resamples=300) == (low, high)
    values = np.array([0.2, 0.9, 0.4, 0.4, 0.7, 0.1, 0.8, 0.5])
    mean = lambda idx: float(values[idx].mean())  # noqa: E731
    first = bootstrap_interval(mean, len(values), n_resamples=400, seed=3)
    assert first == bootstrap_interval(mean, len(values), n_resamples=400, seed=3)
    assert first[0] <= values.mean() <= first[1]
    assert bootstrap_interval(mean, 1) == (0.2, 0.2)


@pytest.mark.parametrize(("k", "n"), [(7, 13), (12, 14), (0, 5), (9, 10)])
def test_wilson_interval_equals_scipy_binomtest_and_the_formula(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    z, p = norm.ppf(0.975), k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_interval(k, n) == pytest.approx((max(0.0, centre - half), min(1.0, centre + half)), abs=1e-9)


def test_wilson_interval_without_clips_and_score_dict():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    data = _hand_made_score().to_dict(n_resamples=100)
    json.dumps(data)
    assert (data["k"], data["n"]) == (4, 6)
    assert data["accuracy_interval_95"] == pytest.approx(list(wilson_interval(4, 6)))
    assert data["confusion_matrix"]["labels"] == ["blues", "jazz", "metal", "pop", "rock"]
    assert [c["correct"] for c in data["clips"]] == [True, True, False, True, False, True]


def test_a_score_without_clips_is_still_reported():
    data = Score("m", "gtzan10", (), {NO_ANSWER: 3}).to_dict(n_resamples=10)
    assert data["n"] == 0 and data["accuracy"] is None and data["left_out"] == {NO_ANSWER: 3}


class _Loudness:
    """A stand-in model: ``loud`` when the clip's RMS is over 0.05, else ``quiet``."""

    labels = ("loud", "quiet")
    card: dict = {}
    input_key = "rms"

    def __init__(self, name: str = "loudness", broken: bool = False):
        self.name, self.broken = name, broken

    def prepare(self, samples, sample_rate):
        return [(0.0, len(samples) / sample_rate)], np.array([np.sqrt(np.mean(np.square(samples)))])

    def predict_inputs(self, inputs):
        if self.broken:
            raise RuntimeError("this model always fails")
        loud = (np.asarray(inputs) > 0.05).astype(float)
        return np.stack([loud, 1 - loud], axis=1)


def test_analyse_labelled_decodes_each_clip_once_and_records_failures(tmp_path):
    from genre_core.audio import write_wav_bytes

    t = np.arange(int(3.5 * 22050)) / 22050
    tone = np.sin(2 * np.pi * 220 * t).astype(np.float32)
    _touch(tmp_path / "set" / "Loud" / "a.wav", write_wav_bytes(0.5 * tone))
    _touch(tmp_path / "set" / "quiet" / "b.wav", write_wav_bytes(0.002 * tone))
    _touch(tmp_path / "set" / "quiet" / "c.wav", b"RIFF\x00\x00\x00\x00WAVEjunk")
    labelled = read_labelled(tmp_path / "set")
    seen = []
    results = analyse_labelled([labelled], [_Loudness(), _Loudness("broken", broken=True)],
                               progress=lambda jobs: seen.extend(jobs) or jobs)
    assert len(seen) == 3
    assert [r.error is None for r in results] == [True, True, False]
    assert set(results[0].failures) == {"broken"} and "always fails" in results[0].failures["broken"]
    cards = {"loudness": {"labels": ["loud", "quiet"]}, "broken": {"labels": ["loud", "quiet"]}}
    scores = {s.model: s for s in score_results(results, cards)}
    good = scores["loudness"]
    assert good.vocabulary == own_vocabulary(["loud", "quiet"])
    assert (good.k, good.n, good.left_out) == (2, 2, {FAILED: 1})
    assert scores["broken"].n == 0 and scores["broken"].left_out == {FAILED: 3}


# --- evidence and the headline ----------------------------------------------------------------------------


def test_rank_by_evidence_uses_the_lower_bound_and_drops_models_without_evidence():
    evidence = {("two_of_two", "gtzan10"): Evidence("two_of_two", "gtzan10", 2, 2),
                ("nine_of_ten", "gtzan10"): Evidence("nine_of_ten", "gtzan10", 9, 10),
                ("empty", "gtzan10"): Evidence("empty", "gtzan10", 0, 0),
                ("elsewhere", "fma8"): Evidence("elsewhere", "fma8", 10, 10)}
    # 2/2 = 100 % > 90 %, but its lower bound (34 %) is under 9/10's (60 %)
    assert evidence["two_of_two", "gtzan10"].interval[0] < evidence["nine_of_ten", "gtzan10"].interval[0]
    names = ["two_of_two", "none", "empty", "elsewhere", "nine_of_ten"]
    assert rank_by_evidence(names, "gtzan10", evidence) == ["nine_of_ten", "two_of_two"]
    assert rank_by_evidence(names, "fma8", evidence) == ["elsewhere"]
    assert rank_by_evidence(["none"], "gtzan10", evidence) == []


def test_choose_headline_picks_the_tagger_with_the_best_evidence():
    predictions = [_classifier("gtzan_svm", "blues"), _classifier("gtzan_knn", "metal"),
                   _tagger("msd_musicnn", heavy_metal=0.9, rock=0.4)]
    evidence = {("gtzan_svm", "gtzan10"): Evidence("gtzan_svm", "gtzan10", 3, 10),
                ("gtzan_knn", "gtzan10"): Evidence("gtzan_knn", "gtzan10", 4, 10),
                ("msd_musicnn", "gtzan10"): Evidence("msd_musicnn", "gtzan10", 9, 10)}
    cards = {"gtzan_svm": GTZAN_CARD, "gtzan_knn": GTZAN_CARD, "msd_musicnn": MSD_CARD}
    headline = choose_headline(predictions, "gtzan10", evidence, cards)
    assert (headline.genre, headline.model, headline.label_set) == ("metal", "msd_musicnn", "gtzan10")
    assert headline.rule == HEADLINE_RULE.format(vocabulary=VOCABULARY_TITLES["gtzan10"])
    assert "crosswalk" in headline.scores_are
    assert headline.labels == GTZAN_GENRES
    np.testing.assert_allclose(headline.probabilities, map_to_genres(MSD_TAGS, predictions[2].probabilities))
    assert dict(zip(headline.labels, headline.probabilities))["metal"] == pytest.approx(0.9)
    assert headline.evidence == evidence["msd_musicnn", "gtzan10"]
    assert headline.agreeing == ("gtzan_knn", "msd_musicnn") and len(headline.voters) == 3
    data = headline.to_dict()
    json.dumps(data)
    assert {"genre", "label_set", "model", "rule", "probabilities", "evidence", "how_sure"} <= set(data)
    assert data["evidence"]["k"] == 9 and data["how_sure"] == headline.sure
    # the tagger's own tags: real probabilities, not mapped ones
    tags = choose_headline(predictions, "msd50", {("msd_musicnn", "msd50"): Evidence("msd_musicnn", "msd50", 5, 9)},
                           cards)
    assert tags.genre == "heavy metal" and "crosswalk" not in tags.scores_are
    assert tags.voters == ("msd_musicnn",)
    # a classifier as headline shows its probabilities
    classifier = choose_headline(predictions[:2], "gtzan10", evidence, cards)
    assert classifier.model == "gtzan_knn" and classifier.scores_are == "probabilities"


def test_no_evidence_means_no_headline():
    predictions = [_classifier("a", "rock"), _classifier("b", "jazz")]
    headline = choose_headline(predictions, "gtzan10", {("a", "fma8"): Evidence("a", "fma8", 9, 9)}, {})
    assert headline.genre is None and headline.model is None
    assert headline.rule == NO_EVIDENCE_RULE.format(vocabulary=VOCABULARY_TITLES["gtzan10"])
    assert headline.sure == "no evidence" and headline.voters == ("a", "b")
    assert choose_headline(predictions, "fma8", {}, {}).genre is None  # nothing answers in FMA's genres


def test_agreement_leaves_out_the_ensemble():
    predictions = [_classifier("g_logreg", "rock"), _classifier("g_svm", "jazz"), _classifier("g_knn", "blues"),
                   _classifier("g_ensemble", "rock")]
    cards = {"g_logreg": {"name": "g_logreg"}, "g_svm": {"name": "g_svm"}, "g_knn": {"name": "g_knn"},
             "g_ensemble": {"name": "g_ensemble"}}
    evidence = {("g_logreg", "gtzan10"): Evidence("g_logreg", "gtzan10", 8, 10),
                ("g_ensemble", "gtzan10"): Evidence("g_ensemble", "gtzan10", 7, 10)}
    headline = choose_headline(predictions, "gtzan10", evidence, cards)
    assert headline.model == "g_logreg" and headline.genre == "rock"
    assert headline.voters == ("g_logreg", "g_svm", "g_knn")
    assert headline.agreeing == ("g_logreg",)  # the ensemble's echo of its members is not a second vote
    assert headline.sure == "unsure"  # 1 of 3 agree


class _Bound:
    """Evidence with a stated lower bound (how_sure reads only ``n`` and ``interval``)."""

    def __init__(self, low: float):
        self.n, self.interval = 10, (low, 0.99)


@pytest.mark.parametrize(("low", "agreeing", "voters", "expected"), [
    (0.5, 2, 3, "fairly sure"),      # both at their boundary: bound 50 %, two thirds agree
    (0.4999, 2, 3, "somewhat sure"),  # bound just under 50 %
    (0.5, 3, 5, "somewhat sure"),    # 60 % agree: under two thirds
    (0.3, 3, 3, "somewhat sure"),    # bound at 30 %: not unsure
    (0.2999, 3, 3, "unsure"),        # bound just under 30 %
    (0.9, 2, 4, "unsure"),           # half of four agree
    (0.9, 3, 4, "fairly sure"),
    (0.9, 1, 2, "somewhat sure"),    # two voters: a split is not "unsure", but not two thirds either
    (0.9, 1, 1, "fairly sure"),
])
def test_how_sure_at_its_boundaries(low, agreeing, voters, expected):
    assert how_sure(_Bound(low), agreeing, voters) == expected


def test_how_sure_with_real_evidence_and_unlike_inputs():
    assert how_sure(None, 3, 3) == "no evidence"
    assert how_sure(Evidence("m", "gtzan10", 0, 0), 3, 3) == "no evidence"
    assert how_sure(Evidence("m", "gtzan10", 12, 13), 5, 6) == "fairly sure"  # bound 67 %
    assert how_sure(Evidence("m", "gtzan10", 12, 13), 5, 6, unlike_training=True) == "unsure"
    assert how_sure(Evidence("m", "gtzan10", 7, 13), 6, 6) == "unsure"  # bound 29 %


def _scores(table: dict[str, dict[str, bool]]) -> list[Score]:
    """Scores from {model: {clip: correct}}; a right answer is ``rock``, a wrong one ``pop``."""
    return [Score(model, "gtzan10", tuple(ClipAnswer(clip, "mine", "rock", ("rock",), "rock" if ok else "pop")
                                          for clip, ok in clips.items())) for model, clips in table.items()]


def test_leave_one_out_by_hand():
    # A: c1 right, c2 right, c3 wrong;  B: c1 wrong, c2 right, c3 right.
    # Lower 95 % Wilson bounds: 2/2 → 34 %, 1/2 → 9 %, 1/1 → 21 %.
    # held c1: A 1/2 (9 %), B 2/2 (34 %) → B, wrong on c1          → 0
    # held c2: A 1/2, B 1/2 → a tie, by name A; A right on c2      → 1
    # held c3: A 2/2 (34 %), B 1/2 (9 %) → A, wrong on c3          → 0
    # so the rule is right on 1 of 3 held-out clips (A alone, best overall, would be right on 2).
    table = {"A": {"c1": True, "c2": True, "c3": False}, "B": {"c1": False, "c2": True, "c3": True}}
    assert leave_one_out(_scores(table)) == (1, 3)
    # C was scored on c1 only (the others were in its training set), right.
    # held c1: C has 0/0, no evidence → B (2/2), wrong                        → 0 of 1
    # held c2: C 1/1 (21 %) beats A and B (1/2, 9 %) → C, not scored on c2   → not counted
    # held c3: A 2/2 (34 %) beats C (21 %) → A, wrong                          → 0 of 2
    table["C"] = {"c1": True}
    assert leave_one_out(_scores(table)) == (0, 2)
    assert leave_one_out([]) == (0, 0)


def test_evidence_round_trip_and_stored_scores(tmp_path):
    scores = _scores({"A": {"c1": True, "c2": True, "c3": False}, "B": {"c1": False}})
    sets = [LabelledSet("mine", (), "folder per label")]
    path = tmp_path / "evidence" / "out_of_domain.json"
    data = write_evidence(path, scores, sets, "genre-lab evidence --data here")
    read = read_evidence(path)
    assert read == evidence_from_scores(scores)
    assert read["A", "gtzan10"] == Evidence("A", "gtzan10", 2, 3, ("mine",))
    assert data["rule_leave_one_out"] == {"gtzan10": {"k": 2, "n": 3}}
    assert [s["model"] for s in stored_scores(path)] == ["A", "B"]
    assert read_evidence(tmp_path / "absent.json") == {} and stored_scores(tmp_path / "absent.json") == []
    # model folders: the first folder's evidence wins
    other = tmp_path / "other"
    write_evidence(other / "evidence" / "out_of_domain.json", _scores({"A": {"c9": False}}), sets, "x")
    merged = read_evidence_dirs([other, tmp_path])
    assert merged["A", "gtzan10"].k == 0 and merged["B", "gtzan10"].n == 1


@pytest.mark.parametrize("text", [
    "{not json", "[]", '{"schema": 99, "evidence": []}',
    '{"schema": 1, "evidence": [{"model": "m", "vocabulary": "gtzan10", "k": 5, "n": 3}]}',  # k > n
    '{"schema": 1, "evidence": [{"model": "m"}]}',
])
def test_a_corrupt_evidence_file_is_a_clear_error(tmp_path, text):
    path = tmp_path / "out_of_domain.json"
    path.write_text(text)
    with pytest.raises(EvidenceError, match="out_of_domain.json: not a usable evidence file") as info:
        read_evidence(path)
    assert isinstance(info.value, GenreLabError)


def test_corrupt_stored_scores_are_a_clear_error(tmp_path):
    path = tmp_path / "out_of_domain.json"
    path.write_text("{oops")
    with pytest.raises(EvidenceError):
        stored_scores(path)


def test_default_model_names_add_the_headline_model():
    entries = [SimpleNamespace(name="gtzan_svm", shown_by_default=True),
               SimpleNamespace(name="gtzan_knn", shown_by_default=True),
               SimpleNamespace(name="msd_vgg", shown_by_default=False),
               SimpleNamespace(name="mtt_vgg", shown_by_default=False)]
    evidence = {("msd_vgg", "gtzan10"): Evidence("msd_vgg", "gtzan10", 9, 10),
                ("mtt_vgg", "gtzan10"): Evidence("mtt_vgg", "gtzan10", 5, 10),
                ("gtzan_svm", "gtzan10"): Evidence("gtzan_svm", "gtzan10", 6, 10),
                ("mtt_vgg", "fma8"): Evidence("mtt_vgg", "fma8", 9, 10)}
    assert default_model_names(entries, "gtzan10", evidence) == ["gtzan_svm", "gtzan_knn", "msd_vgg"]
    assert default_model_names(entries, "fma8", evidence) == ["gtzan_svm", "gtzan_knn", "mtt_vgg"]
    assert default_model_names(entries, "gtzan10", {}) == ["gtzan_svm", "gtzan_knn"]
    evidence["gtzan_knn", "gtzan10"] = Evidence("gtzan_knn", "gtzan10", 10, 10)  # a shown model is best
    assert default_model_names(entries, "gtzan10", evidence) == ["gtzan_svm", "gtzan_knn"]


# --- the shipped evidence ---------------------------------------------------------------------------------

_GTZAN_FILE_NAME = re.compile(r"^[a-z]+\.\d{5}\.\w+$")


def test_shipped_evidence_names_shipped_models_and_never_their_training_clips():
    if not EVIDENCE_FILE.exists():
        pytest.skip(f"{EVIDENCE_FILE} is absent: build it with `python -m genre_core evidence`")
    from genre_core.registry import default_registry
    from genre_core.scoring import trained_on

    cards = {e.name: e.card for e in default_registry().entries()}
    evidence = read_evidence(EVIDENCE_FILE)
    assert evidence
    unknown = sorted({model for model, _ in evidence} - set(cards))
    assert not unknown, f"evidence for models not in the registry: {unknown}"
    data = json.loads(EVIDENCE_FILE.read_text())
    gtzan_collections = {c["name"] for c in data["collections"] if c["dataset"] == "gtzan"} | {"audio", "gtzan/audio"}
    records = {(s["model"], s["vocabulary"]): s for s in data["scores"]}
    gtzan_models = [name for name, card in cards.items() if trained_on(card) == "gtzan" and
                    (name, "gtzan10") in evidence]
    for model in gtzan_models:
        clips = records[model, "gtzan10"]["clips"]
        seen = [c["clip"] for c in clips if c["collection"] in gtzan_collections or _GTZAN_FILE_NAME.match(c["clip"])]
        assert not seen, f"{model} is scored on GTZAN clips it was trained on: {seen}"
        assert not set(evidence[model, "gtzan10"].collections) & gtzan_collections
    # each evidence figure is what its stored clips say
    for (model, vocabulary), item in evidence.items():
        clips = records[model, vocabulary]["clips"]
        assert (item.k, item.n) == (sum(c["correct"] for c in clips), len(clips)), (model, vocabulary)
