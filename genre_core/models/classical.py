"""Classical models on the 57 GTZAN summary features.

Four scikit-learn pipelines (logistic regression, k-nearest neighbours,
Gaussian naive Bayes, RBF SVM) of the form ``transform → StandardScaler →
classifier``.  The transform (none, log of the ``*_var`` columns, or a
quantile map to a normal or uniform distribution) is a hyperparameter like any
other: :func:`tune` picks it, with the classifier's own, by stratified
cross-validated grid search on the training data it is given.  A soft-voting
ensemble combines the tuned pipelines with weights chosen on out-of-fold
probabilities of the same training data.

Saving and loading live in :mod:`genre_core.models.persistence`; the feature
predictor in :mod:`genre_core.models.feature_predictor`; fitting all six
models in :func:`genre_core.training.classic.fit_models`.  Saved skops files
name :func:`log_variances` by this module's path, so it stays here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, QuantileTransformer, StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from ..config import HOP_SECONDS, WINDOW_SECONDS
from ..features import FEATURE_NAMES_GTZAN57

INPUT_KIND: str = "gtzan57"
INPUT_KEY: tuple[str, float, float] = (INPUT_KIND, WINDOW_SECONDS, HOP_SECONDS)

#: The scikit-learn pipelines, then the two models built on them.
PIPELINE_NAMES: tuple[str, ...] = ("logreg", "knn", "gnb", "svm")
ENSEMBLE: str = "ensemble"
DENSE: str = "dense"
MODEL_NAMES: tuple[str, ...] = (*PIPELINE_NAMES, ENSEMBLE, DENSE)
DISPLAY_NAMES: dict[str, str] = {
    "logreg": "Logistic regression",
    "knn": "k-nearest neighbours",
    "gnb": "Gaussian naive Bayes",
    "svm": "SVM (RBF kernel)",
    ENSEMBLE: "Soft-voting ensemble",
    DENSE: "Dense net (Dense 100)",
}
SKOPS_FILE: str = "model.skops"
KERAS_FILE: str = "model.keras"

#: Columns holding per-frame variances: positive and spread over several decades.
VARIANCE_COLUMNS: tuple[int, ...] = tuple(
    i for i, name in enumerate(FEATURE_NAMES_GTZAN57) if name.endswith("_var")
)
#: Floor before the log: a silent stretch has zero variance.
VARIANCE_FLOOR: float = 1e-12
#: Quantiles of the quantile transforms; small, so that small training sets work too.
N_QUANTILES: int = 100
#: Weights tried for each ensemble member.
ENSEMBLE_WEIGHT_CHOICES: tuple[int, ...] = (0, 1, 2)


def log_variances(X: np.ndarray) -> np.ndarray:
    """Replace the ``*_var`` columns of GTZAN-57 features by their natural log.

    Variances such as ``rms_var`` span four decades and are heavy-tailed; on a
    log scale they are close to normal, which suits scaling, distances and RBF
    kernels.

    Parameters
    ----------
    X : array-like, shape (n, 57)

    Returns
    -------
    np.ndarray, shape (n, 57), float64
    """
    X = np.array(X, dtype=np.float64, copy=True)
    if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES_GTZAN57):
        raise ValueError(f"expected GTZAN-57 features of shape (n, {len(FEATURE_NAMES_GTZAN57)}), got {X.shape}")
    columns = list(VARIANCE_COLUMNS)
    X[:, columns] = np.log(np.maximum(X[:, columns], VARIANCE_FLOOR))
    return X


def feature_transforms(seed: int = 0) -> dict[str, Any]:
    """The candidate transforms placed before the scaler, by name."""
    return {
        "none": "passthrough",
        "log_var": FunctionTransformer(log_variances),
        "quantile_normal": QuantileTransformer(
            n_quantiles=N_QUANTILES, output_distribution="normal", random_state=seed
        ),
        "quantile_uniform": QuantileTransformer(n_quantiles=N_QUANTILES, random_state=seed),
    }


def transform_name(step: Any) -> str:
    """The :func:`feature_transforms` name of a fitted or unfitted transform step."""
    if isinstance(step, str):
        return "none"
    if isinstance(step, FunctionTransformer):
        return "log_var"
    if isinstance(step, QuantileTransformer):
        return f"quantile_{step.output_distribution}"
    return type(step).__name__


def make_pipeline(name: str) -> Pipeline:
    """An untuned ``transform → StandardScaler → classifier`` pipeline (no transform yet).

    Parameters
    ----------
    name : {'logreg', 'knn', 'gnb', 'svm'}
    """
    classifiers: dict[str, BaseEstimator] = {
        "logreg": LogisticRegression(C=0.3, max_iter=3000),
        "knn": KNeighborsClassifier(n_neighbors=9, weights="distance"),
        "gnb": GaussianNB(),
        # Probabilities come from a calibrator wrapped around the chosen SVC after the
        # search (see tune): the search scores accuracy and does not need them.
        "svm": SVC(C=10.0, gamma=0.01),
    }
    if name not in classifiers:
        raise ValueError(f"unknown classical model {name!r}; choose from {', '.join(PIPELINE_NAMES)}")
    return Pipeline([
        ("transform", "passthrough"),
        ("scale", StandardScaler()),
        ("model", classifiers[name]),
    ])


def search_space(name: str, quick: bool = False, seed: int = 0) -> dict[str, list[Any]]:
    """The hyperparameter grid of a pipeline (``quick``: one value each, log-var transform).

    Grids are modest on purpose: ten nested searches of all four models must
    run in minutes on two cores.
    """
    transforms = feature_transforms(seed)
    if quick:
        grids = {
            "logreg": {"model__C": [0.3]},
            "knn": {"model__n_neighbors": [9]},
            "gnb": {"model__var_smoothing": [1e-9]},
            "svm": {"model__C": [10.0], "model__gamma": [0.01]},
        }
        return {"transform": [transforms["log_var"]], **grids[name]}
    grids = {
        "logreg": {"model__C": [0.03, 0.1, 0.3, 1.0]},
        "knn": {"model__n_neighbors": [5, 9, 15], "model__weights": ["distance"]},
        "gnb": {"model__var_smoothing": [1e-9, 1e-3, 1e-1]},
        "svm": {"model__C": [3.0, 10.0, 30.0], "model__gamma": [0.01, 0.02]},
    }
    if name not in grids:
        raise ValueError(f"unknown classical model {name!r}; choose from {', '.join(PIPELINE_NAMES)}")
    return {"transform": list(transforms.values()), **grids[name]}


def check_training_labels(y: Sequence[Any]) -> np.ndarray:
    """``y`` as an array of str, after checking every class has two or more examples.

    Raises
    ------
    ValueError
        Naming the classes with a single example.
    """
    y = np.asarray(y, dtype=object).astype(str)
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise ValueError(f"training needs at least two classes, got {list(labels)}")
    lonely = labels[counts < 2].tolist()
    if lonely:
        raise ValueError(f"each class needs at least 2 training examples; only one for: {', '.join(lonely)}")
    return y


def inner_cv(y: Sequence[Any], n_splits: int = 5, seed: int = 0) -> StratifiedKFold:
    """Stratified folds for a search on ``y``: ``n_splits``, fewer when a class is small (at least 2)."""
    _, counts = np.unique(np.asarray(y, dtype=object).astype(str), return_counts=True)
    return StratifiedKFold(n_splits=max(2, min(n_splits, int(counts.min()))), shuffle=True, random_state=seed)


@dataclass
class TunedModel:
    """A fitted model with what its search chose.

    Attributes
    ----------
    estimator : fitted estimator with ``predict_proba`` and ``classes_``
    params : dict
        JSON-ready chosen hyperparameters.
    cv_accuracy : float or None
        Mean inner-CV accuracy of the chosen setting (None when not searched).
    seconds : float
        Wall time of search and final fit.
    """

    estimator: Any
    params: dict[str, Any] = field(default_factory=dict)
    cv_accuracy: float | None = None
    seconds: float = 0.0


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        key = key.removeprefix("model__")
        if key == "transform":
            out[key] = transform_name(value)
        elif isinstance(value, (np.integer, np.floating)):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def tune(
    name: str,
    X: np.ndarray,
    y: Sequence[str],
    *,
    quick: bool = False,
    seed: int = 0,
    n_jobs: int = 1,
) -> TunedModel:
    """Grid-search one pipeline by stratified CV on (X, y), then refit it on all of it.

    Parameters
    ----------
    name : {'logreg', 'knn', 'gnb', 'svm'}
    X : np.ndarray, shape (n, 57)
    y : sequence of str
    quick : bool
        One setting per model (for smoke tests).
    seed : int
    n_jobs : int
        Parallel fits of the search.

    Returns
    -------
    TunedModel
        The SVM's classifier step is then wrapped in a temperature-scaling
        :class:`~sklearn.calibration.CalibratedClassifierCV` (fitted on
        inner-CV decision values) so that it has probabilities to vote with.

    Raises
    ------
    ValueError
        If a class has fewer than two training examples.
    """
    started = time.perf_counter()
    X = np.asarray(X, dtype=np.float64)
    y = check_training_labels(y)
    pipeline = make_pipeline(name)
    grid = search_space(name, quick, seed)
    cv = inner_cv(y, seed=seed)
    n_settings = int(np.prod([len(v) for v in grid.values()]))
    cv_accuracy = None
    # Multi-threaded BLAS only slows these small problems down (oversubscription).
    with threadpool_limits(limits=1, user_api="blas"):
        if n_settings == 1:
            params = {k: v[0] for k, v in grid.items()}
        else:
            search = GridSearchCV(pipeline, grid, cv=cv, scoring="accuracy", n_jobs=n_jobs, refit=False)
            search.fit(X, y)
            params = search.best_params_
            cv_accuracy = float(search.best_score_)
        best = clone(pipeline).set_params(**params)
        if name == "svm":
            # Temperature scaling keeps the SVM's own decision (argmax) and gave a lower
            # log-loss than per-class sigmoids in 10-fold CV on GTZAN.
            best.set_params(model=CalibratedClassifierCV(best.named_steps["model"], method="temperature", cv=cv,
                                                         ensemble=False))
        best.fit(X, y)
    return TunedModel(best, _json_params(params), cv_accuracy, time.perf_counter() - started)


def _weight_candidates(n: int, choices: Sequence[int]) -> list[tuple[int, ...]]:
    return [w for w in itertools.product(choices, repeat=n) if any(w)]


def fit_ensemble(
    tuned: Mapping[str, TunedModel],
    X: np.ndarray,
    y: Sequence[str],
    *,
    seed: int = 0,
    weight_choices: Sequence[int] = ENSEMBLE_WEIGHT_CHOICES,
) -> TunedModel:
    """Soft-voting ensemble of tuned pipelines, weights chosen on (X, y) only.

    Each member's out-of-fold probabilities on (X, y) are computed once with
    its tuned hyperparameters; every weight vector in ``weight_choices``^k is
    scored by the accuracy of the weighted mean (ties: lower log-loss), and the
    best one is used.  Members with weight 0 are left out.

    Returns
    -------
    TunedModel
        Its estimator is a fitted :class:`~sklearn.ensemble.VotingClassifier`.
    """
    started = time.perf_counter()
    X = np.asarray(X, dtype=np.float64)
    y = check_training_labels(y)
    names = list(tuned)
    if not names:
        raise ValueError("an ensemble needs at least one tuned model")
    classes = np.unique(y)
    cv = inner_cv(y, seed=seed)
    if len(names) == 1:
        weights: tuple[int, ...] = (1,)
        score = None
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            oof = np.stack([
                cross_val_predict(clone(tuned[n].estimator), X, y, cv=cv, method="predict_proba") for n in names
            ])
        candidates = _weight_candidates(len(names), weight_choices)
        scored = []
        for w in candidates:
            probs = np.tensordot(np.asarray(w, dtype=float), oof, axes=1) / sum(w)
            accuracy = float(accuracy_score(y, classes[probs.argmax(axis=1)]))
            scored.append((accuracy, -log_loss(y, np.clip(probs, 1e-12, 1.0), labels=classes), w))
        score, _, weights = max(scored, key=lambda s: (s[0], s[1]))
    members = [(n, clone(tuned[n].estimator)) for n, w in zip(names, weights) if w]
    ensemble = VotingClassifier(members, voting="soft", weights=[w for w in weights if w])
    with threadpool_limits(limits=1, user_api="blas"):
        ensemble.fit(X, y)
    params = {"weights": {n: int(w) for n, w in zip(names, weights)},
              "members": {n: tuned[n].params for n in names}}
    return TunedModel(ensemble, params, score, time.perf_counter() - started)
