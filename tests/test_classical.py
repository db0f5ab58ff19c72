"""Classical pipelines, the ensemble, the dense net and safe persistence."""

from __future__ import annotations

import os

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from genre_core.features import FEATURE_NAMES_GTZAN57
from genre_core.models import classical as C
from genre_core.models import persistence as P
from genre_core.models.feature_predictor import FeaturePredictor
from tests._shared_data import GTZAN_CSV, require

CHANCE = 0.1


@pytest.fixture(scope="module")
def gtzan_subset():
    """A stratified 400-track sample of the real GTZAN table: 300 to train, 100 to test."""
    from genre_core.datasets import gtzan_feature_table, stratified_split

    features, table = gtzan_feature_table(require(GTZAN_CSV))
    table = stratified_split(table, fractions=(0.3, 0.0, 0.7), seed=1)  # "train" = a 30 % sample
    sample = table.index[table["split"] == "train"].to_numpy()
    X = features.to_numpy()[sample]
    y = table["label"].to_numpy()[sample].astype(str)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, test = order[:200], order[200:]
    return X[train], y[train], X[test], y[test]


@pytest.fixture(scope="module")
def tuned(gtzan_subset):
    X, y, _, _ = gtzan_subset
    return {name: C.tune(name, X, y, quick=True) for name in C.PIPELINE_NAMES}


def _accuracy(model, X, y):
    from genre_core.training.evaluate import predict_labels

    return float(np.mean(predict_labels(model, X) == y))


@pytest.mark.parametrize("name", C.PIPELINE_NAMES)
def test_pipelines_beat_chance_by_a_margin(tuned, gtzan_subset, name):
    _, _, X_test, y_test = gtzan_subset
    # Ten balanced genres: chance is 10 %; even naive Bayes on 200 tracks does far better.
    assert _accuracy(tuned[name].estimator, X_test, y_test) > 3 * CHANCE


def test_search_picks_from_the_grid_on_training_data(gtzan_subset):
    X, y, _, _ = gtzan_subset
    result = C.tune("gnb", X, y)
    assert result.params["transform"] in C.feature_transforms()
    assert result.params["var_smoothing"] in C.search_space("gnb")["model__var_smoothing"]
    assert 0.0 < result.cv_accuracy <= 1.0


def test_svm_has_calibrated_probabilities(tuned, gtzan_subset):
    _, _, X_test, _ = gtzan_subset
    probs = tuned["svm"].estimator.predict_proba(X_test)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert probs.max(axis=1).min() < 1.0  # soft, not one-hot


def test_ensemble_votes_softly_with_chosen_weights(tuned, gtzan_subset):
    X, y, X_test, y_test = gtzan_subset
    ensemble = C.fit_ensemble(tuned, X, y)
    weights = ensemble.params["weights"]
    assert set(weights) == set(C.PIPELINE_NAMES)
    assert all(w in C.ENSEMBLE_WEIGHT_CHOICES for w in weights.values()) and any(weights.values())
    assert ensemble.estimator.voting == "soft"
    assert [n for n, _ in ensemble.estimator.estimators] == [n for n, w in weights.items() if w]
    assert _accuracy(ensemble.estimator, X_test, y_test) > 3 * CHANCE


def test_log_variances_logs_only_the_variance_columns():
    X = np.abs(np.random.default_rng(0).normal(size=(3, 57))) + 0.5
    out = C.log_variances(X)
    var = [i for i, n in enumerate(FEATURE_NAMES_GTZAN57) if n.endswith("_var")]
    other = [i for i in range(57) if i not in var]
    np.testing.assert_allclose(out[:, var], np.log(X[:, var]))
    np.testing.assert_array_equal(out[:, other], X[:, other])
    with pytest.raises(ValueError, match="57"):
        C.log_variances(X[:, :10])


def test_training_needs_two_examples_per_class():
    X = np.random.default_rng(0).normal(size=(5, 57))
    with pytest.raises(ValueError, match="at least 2 training examples.*lonely"):
        C.tune("gnb", X, ["a", "a", "b", "b", "lonely"], quick=True)


@pytest.mark.parametrize("name", [*C.PIPELINE_NAMES, "ensemble"])
def test_skops_round_trip_gives_identical_probabilities(tuned, gtzan_subset, tmp_path, name):
    X, y, X_test, _ = gtzan_subset
    model = C.fit_ensemble(tuned, X, y).estimator if name == "ensemble" else tuned[name].estimator
    path = tmp_path / "model.skops"
    assert P.save_sklearn(model, path) == path.stat().st_size
    loaded = P.load_sklearn(path)
    # exact: skops restores the same arrays; same estimator code, same input, same process
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_skops_loader_refuses_a_dangerous_type(tmp_path):
    evil = Pipeline([("run", FunctionTransformer(os.system)), ("model", LogisticRegression())])
    path = tmp_path / "model.skops"
    sio.dump(evil, path)  # written by someone else, bypassing save_sklearn
    assert any("system" in t for t in sio.get_untrusted_types(file=path))
    with pytest.raises(P.UntrustedModelError, match="system"):
        P.load_sklearn(path)
    with pytest.raises(P.UntrustedModelError, match="system"):
        P.save_sklearn(evil, tmp_path / "again.skops")
    assert not (tmp_path / "again.skops").exists()


def test_skops_loader_rejects_a_file_that_is_not_skops(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(b"\x80\x04not a zip")
    with pytest.raises(P.UntrustedModelError, match="not a readable skops file"):
        P.load_sklearn(path)
    with pytest.raises(FileNotFoundError):
        P.load_sklearn(tmp_path / "absent.skops")


@pytest.mark.slow  # trains a model
def test_dense_net_learns_and_round_trips(gtzan_subset, tmp_path):
    from genre_core.models.dense import DenseNetClassifier, load_dense

    X, y, X_test, y_test = gtzan_subset
    net = DenseNetClassifier(epochs=40, batch_size=64, seed=0).fit(X, y)
    assert _accuracy(net, X_test, y_test) > 3 * CHANCE
    assert len(net.history["loss"]) == 40 and net.history["loss"][-1] < net.history["loss"][0]
    path = tmp_path / "model.keras"
    net.save(path)
    loaded = load_dense(path, list(net.classes_))
    np.testing.assert_allclose(loaded.predict_proba(X_test), net.predict_proba(X_test), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="outputs"):
        load_dense(path, ["a", "b"])


@pytest.mark.slow  # trains a model
def test_dense_net_is_deterministic(gtzan_subset):
    from genre_core.models.dense import DenseNetClassifier

    X, y, X_test, _ = gtzan_subset
    first = DenseNetClassifier(epochs=3, seed=5).fit(X, y).predict_proba(X_test)
    second = DenseNetClassifier(epochs=3, seed=5).fit(X, y).predict_proba(X_test)
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)


def test_feature_predictor_orders_columns_by_card_labels(tuned, gtzan_subset):
    _, _, X_test, _ = gtzan_subset
    model = tuned["logreg"].estimator
    labels = list(model.classes_)[::-1]
    predictor = FeaturePredictor(model, {"name": "m", "labels": labels, "input": {}})
    probs = predictor.predict_inputs(X_test[:4])
    np.testing.assert_allclose(probs, model.predict_proba(X_test[:4])[:, ::-1])
    assert predictor.input_key == C.INPUT_KEY
    with pytest.raises(ValueError, match="card lists labels"):
        FeaturePredictor(model, {"name": "m", "labels": ["x", "y"], "input": {}})
