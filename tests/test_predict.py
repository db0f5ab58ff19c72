"""Evaluation metrics, track voting, prediction over windows, and the shipped models on real clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from genre_core.training.evaluate import (
    cross_validate_models,
    evaluate,
    holdout_evaluate_models,
    vote_tracks,
)
from genre_core.predict import Prediction, predict_samples, soft_vote
from tests._shared_data import GTZAN_AUDIO, GTZAN_CLIPS, require

# --- evaluate ------------------------------------------------------------------------------


def test_evaluate_matches_hand_computed_scores():
    y_true = ["a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "a"]
    m = evaluate(y_true, y_pred, ["a", "b", "c", "d"])
    assert m["accuracy"] == pytest.approx(3 / 5)
    # a: 1 TP, 1 FP (the c), 1 FN → P=R=F1=1/2; b: 2 TP, 1 FP → P=2/3, R=1, F1=4/5; c, d: 0.
    assert m["per_class"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["recall"] == 1.0 and m["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["per_class"]["d"]["support"] == 0
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 0 + 0) / 4)
    assert m["confusion_matrix"] == [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert m["labels"] == ["a", "b", "c", "d"] and m["n"] == 5
    json.dumps(m)  # serialisable as is


def test_evaluate_rejects_bad_input():
    with pytest.raises(ValueError, match="'z' are not in labels"):
        evaluate(["a", "z"], ["a", "a"], ["a", "b"])
    with pytest.raises(ValueError, match="equal length"):
        evaluate(["a"], ["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="zero examples"):
        evaluate([], [], ["a", "b"])


def test_vote_tracks_averages_segments_per_track_in_first_seen_order():
    ids = ["t2", "t1", "t2", "t1", "t3"]
    probs = np.array([[1.0, 0.0], [0.2, 0.8], [0.5, 0.5], [0.4, 0.6], [0.3, 0.7]])
    tracks, voted = vote_tracks(ids, probs)
    assert list(tracks) == ["t2", "t1", "t3"]
    np.testing.assert_allclose(voted, [[0.75, 0.25], [0.3, 0.7], [0.3, 0.7]])
    with pytest.raises(ValueError, match="one track id per row"):
        vote_tracks(ids[:2], probs)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [3, 0], [0, 3]])
    y = np.repeat(["x", "y", "z"], 30)
    X = centres[np.repeat([0, 1, 2], 30)] + rng.normal(scale=1.2, size=(90, 2))
    return X, y


def test_cross_validation_pools_out_of_fold_predictions(blobs):
    from sklearn.model_selection import StratifiedKFold

    X, y = blobs
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    results = cross_validate_models(
        lambda Xt, yt: {"lr": LogisticRegression().fit(Xt, yt), "weak": LogisticRegression(C=1e-4).fit(Xt, yt)},
        X, y, folds, ["x", "y", "z"],
    )
    expected = cross_val_predict(LogisticRegression(), X, y, cv=folds)
    assert results["lr"]["accuracy"] == pytest.approx(np.mean(expected == y))
    assert len(results["lr"]["fold_accuracy"]) == 5
    assert results["lr"]["accuracy"] == pytest.approx(np.mean(results["lr"]["fold_accuracy"]))
    assert sum(map(sum, results["lr"]["confusion_matrix"])) == 90
    # A bare estimator (not a dict) is reported under the name "model".
    single = cross_validate_models(lambda Xt, yt: LogisticRegression().fit(Xt, yt), X, y, folds, ["x", "y", "z"])
    assert single["model"]["accuracy"] == results["lr"]["accuracy"]


def test_holdout_evaluate_scores_only_the_test_rows(blobs):
    X, y = blobs
    train, test = np.arange(0, 90, 2), np.arange(1, 90, 2)
    result = holdout_evaluate_models(lambda Xt, yt: LogisticRegression().fit(Xt, yt), X[train], y[train],
                                     X[test], y[test], ["x", "y", "z"])["model"]
    model = LogisticRegression().fit(X[train], y[train])
    assert result["accuracy"] == pytest.approx(np.mean(model.predict(X[test]) == y[test]))
    assert result["n"] == 45


# --- Prediction, predict_samples, soft_vote ---------------------------------------------


def test_prediction_top_k_and_json():
    p = Prediction("m", ("a", "b", "c"), np.array([0.2, 0.5, 0.3]), [(0.0, 30.0)],
                   np.array([[0.2, 0.5, 0.3]]), 0.1)
    assert p.genre == "b"
    assert p.top_k(2) == [("b", 0.5), ("c", 0.3)]
    d = json.loads(json.dumps(p.to_dict()))
    assert d == {"model": "m", "genre": "b", "probabilities": {"a": 0.2, "b": 0.5, "c": 0.3},
                 "segments": [{"start": 0.0, "end": 30.0, "probabilities": {"a": 0.2, "b": 0.5, "c": 0.3}}]}


class _CountingPredictor:
    """A fake model: windows of 10 s, fixed probabilities, counts prepare calls."""

    prepared = 0

    def __init__(self, name, key, probs, labels=("a", "b")):
        self.name, self.input_key, self.labels, self.card = name, key, labels, {}
        self._probs = np.asarray(probs, dtype=float)

    def prepare(self, samples, sample_rate):
        type(self).prepared += 1
        n = max(1, len(samples) // (10 * sample_rate))
        return [(10.0 * i, 10.0 * (i + 1)) for i in range(n)], np.zeros((n, 1))

    def predict_inputs(self, inputs):
        return np.tile(self._probs, (len(inputs), 1))


def test_predict_samples_prepares_once_per_input_kind():
    _CountingPredictor.prepared = 0
    sr = 100
    models = [_CountingPredictor("one", "k1", [0.9, 0.1]), _CountingPredictor("two", "k1", [0.2, 0.8]),
              _CountingPredictor("three", "k2", [0.5, 0.5])]
    predictions = predict_samples(np.ones(35 * sr, np.float32), sr, models)
    assert _CountingPredictor.prepared == 2
    assert [p.model for p in predictions] == ["one", "two", "three"]
    assert predictions[0].window_probabilities.shape == (3, 2)
    np.testing.assert_allclose(predictions[1].probabilities, [0.2, 0.8])
    voted = soft_vote(predictions[:2])
    np.testing.assert_allclose(voted.probabilities, [0.55, 0.45])
    assert voted.windows == predictions[0].windows


def test_analyse_groups_equals_analyse_blocks_in_model_order_with_failures_kept_apart():
    """Groups in threads of their own: same predictions, in the given order; one group's failure stays its own."""
    from genre_core.stream import analyse_blocks, analyse_groups

    sr = 100
    y = np.ones(35 * sr, np.float32)
    models = [_CountingPredictor("one", "k1", [0.9, 0.1]), _CountingPredictor("three", "k2", [0.5, 0.5]),
              _CountingPredictor("two", "k1", [0.2, 0.8]), _CountingPredictor("bad", "k3", [0.5, 0.3, 0.2])]
    grouped, serial = analyse_groups(y, sr, models), analyse_blocks([y], sr, models)
    assert [p.model for p in grouped.predictions] == [p.model for p in serial.predictions] == ["one", "three", "two"]
    for a, b in zip(grouped.predictions, serial.predictions):
        # exact: the fake models tile fixed probabilities, no arithmetic
        np.testing.assert_array_equal(a.window_probabilities, b.window_probabilities)
        assert a.windows == b.windows
    assert set(grouped.failures) == set(serial.failures) == {"bad"}
    assert analyse_groups(y, sr, []).predictions == []


def test_predict_samples_rejects_bad_probability_shapes():
    bad = _CountingPredictor("bad", "k", [0.5, 0.3, 0.2])
    with pytest.raises(ValueError, match="'bad' returned probabilities of shape"):
        predict_samples(np.ones(2000, np.float32), 100, [bad])


def test_soft_vote_refuses_different_label_lists():
    a = Prediction("a", ("x", "y"), np.array([0.5, 0.5]))
    b = Prediction("b", ("x", "z"), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="different label lists"):
        soft_vote([a, b])
    with pytest.raises(ValueError, match="at least one"):
        soft_vote([])


# --- the shipped models on real clips ---------------------------------------------------


@pytest.fixture(scope="module")
def feature_models():
    from genre_core.registry import default_registry

    registry = default_registry()
    names = [e.name for e in registry.entries(real_only=True) if e.kind in ("classical", "dense")]
    if not names:
        pytest.skip("no shipped feature models in models/ (train them with python -m train classic)")
    return registry, names


@pytest.fixture(scope="module")
def real_clips():
    from genre_core.audio import load_audio

    return {genre: load_audio(require(GTZAN_AUDIO / f"{genre}.00000.wav")) for genre in GTZAN_CLIPS}


@pytest.fixture(scope="module")
def clip_predictions(feature_models, real_clips):
    from genre_core.predict import predict_clip

    registry, names = feature_models
    predictors = [registry.load(n) for n in names]
    return {genre: predict_clip(clip, predictors) for genre, clip in real_clips.items()}


def test_shipped_models_classify_real_gtzan_clips(feature_models, clip_predictions):
    from genre_core.evaluation import default_model_names, rank_by_card, rank_by_evidence, read_evidence_dirs

    registry, names = feature_models
    correct = {name: 0 for name in names}
    for genre, predictions in clip_predictions.items():
        for p in predictions:
            assert p.labels == registry.load(p.model).labels
            np.testing.assert_allclose(p.probabilities.sum(), 1.0, atol=1e-6)
            correct[p.model] += p.genre == genre
    # What the CLI and Classify run by default: every model shown by default, plus the headline's.
    entries = registry.entries()
    evidence = read_evidence_dirs(registry.dirs)
    defaults = default_model_names(entries, "gtzan10", evidence)
    shown = [e.name for e in entries if e.shown_by_default]
    assert defaults[:len(shown)] == shown and len(defaults) <= len(shown) + 1
    headline_model = rank_by_evidence([e.name for e in entries], "gtzan10", evidence)[:1]
    assert set(headline_model) <= set(defaults)
    # The best of the default feature models, by the policy (evidence first, then the card), on clips it knows.
    feature_defaults = [n for n in defaults if n in names]
    assert feature_defaults, f"no feature model among the defaults {defaults}"
    ranked = rank_by_evidence(feature_defaults, "gtzan10", evidence)
    best = (ranked + rank_by_card({n: registry.get(n).card for n in feature_defaults}))[0]
    assert correct[best] >= 3, f"best model {best} got {correct[best]}/5 real clips right: {correct}"


def test_feature_models_share_one_feature_pass(feature_models, real_clips, monkeypatch):
    import genre_core.models.feature_predictor as feature_predictor

    registry, names = feature_models
    calls = []
    original = feature_predictor.gtzan57_windows
    monkeypatch.setattr(feature_predictor, "gtzan57_windows", lambda *a, **k: calls.append(1) or original(*a, **k))
    predict_samples(real_clips["disco"].samples, 22050, [registry.load(n) for n in names])
    assert len(calls) == 1


def test_window_timeline_of_a_70_second_signal(feature_models, real_clips):
    registry, names = feature_models
    y = np.tile(real_clips["classical"].samples, 3)[: 70 * 22050]
    prediction = predict_samples(y, 22050, [registry.load(names[0])])[0]
    # 30 s windows every 15 s, the last aligned to the end: 0, 15, 30, 40.
    assert [start for start, _ in prediction.windows] == [0.0, 15.0, 30.0, 40.0]
    assert prediction.window_probabilities.shape == (4, 10)
    np.testing.assert_allclose(prediction.window_probabilities.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(prediction.probabilities, prediction.window_probabilities.mean(axis=0))


def test_analyse_clip_reuses_known_features_and_computes_the_rest():
    from genre_core.app.shared_inputs import ClipFeatures, Gtzan57Capture, analyse_clip

    sr = 100
    key = Gtzan57Capture().input_key
    on_features = _CountingPredictor("gtzan-like", key, [0.3, 0.7])
    other = _CountingPredictor("tagger-like", "k2", [0.6, 0.4])
    known = ClipFeatures(key, [(0.0, 30.0), (15.0, 45.0)], np.zeros((2, 57)), 0.5)
    _CountingPredictor.prepared = 0
    features, predictions = analyse_clip(np.ones(50 * sr, np.float32), sr, [on_features, other], features=known)
    assert features is known
    assert _CountingPredictor.prepared == 1  # only the model without features prepared its input
    assert [p.model for p in predictions] == ["gtzan-like", "tagger-like"]
    assert predictions[0].windows == known.windows  # the known features' windows
    np.testing.assert_allclose(predictions[1].probabilities, [0.6, 0.4])
