"""Evaluation: metrics, the 10-fold and hold-out protocols, and track voting.

Every figure a model card reports comes from :func:`evaluate`, which only
wraps :mod:`sklearn.metrics`, so classical and deep models are scored alike.

Examples
--------
>>> m = evaluate(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])
>>> round(m["accuracy"], 3), m["confusion_matrix"]
(0.667, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

#: ``fit(X_train, y_train)`` returning one fitted estimator, or a dict of them by name.
FitFunction = Callable[[np.ndarray, np.ndarray], Any]


def evaluate(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class scores and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : sequences of labels
        True and predicted class names, one per example.
    labels : sequence of str
        Every class, in the order of the confusion matrix rows and columns.
        Classes absent from both ``y_true`` and ``y_pred`` still get a row.

    Returns
    -------
    dict
        JSON-serialisable: ``accuracy``, ``macro_f1``, ``n``, ``labels``,
        ``per_class`` {label: {precision, recall, f1, support}} and
        ``confusion_matrix`` (rows: true label, columns: predicted label).

    Raises
    ------
    ValueError
        On length mismatch, no examples, or a label outside ``labels``.
    """
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    labels = [str(label) for label in labels]
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("cannot evaluate zero examples")
    unknown = sorted({str(v) for v in np.concatenate([y_true, y_pred])} - set(labels))
    if unknown:
        raise ValueError(f"label(s) {', '.join(map(repr, unknown))} are not in labels {labels}")
    y_true = y_true.astype(str)
    y_pred = y_pred.astype(str)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "n": int(y_true.size),
        "labels": labels,
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def predict_labels(model: Any, X: np.ndarray) -> np.ndarray:
    """Predicted class names: the top ``predict_proba`` class when there is one.

    This is what the app and CLI report, so the metrics describe the same
    decision (for a calibrated SVM it can differ from ``predict``).
    """
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        probs = np.asarray(model.predict_proba(X))
        return np.asarray(model.classes_, dtype=object)[probs.argmax(axis=1)]
    return np.asarray(model.predict(X), dtype=object)


def _as_dict(fitted: Any) -> dict[str, Any]:
    return dict(fitted) if isinstance(fitted, Mapping) else {"model": fitted}


def cross_validate_models(
    fit: FitFunction,
    X: np.ndarray,
    y: Sequence[str],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    labels: Sequence[str],
    progress: bool = False,
) -> dict[str, dict[str, Any]]:
    """k-fold protocol for one or several models trained together per fold.

    ``fit`` sees only the fold's training rows, so any hyperparameter search
    inside it is nested in the outer folds.  The returned metrics are over the
    pooled out-of-fold predictions (each example is predicted exactly once),
    plus ``fold_accuracy`` and ``accuracy_std`` across folds.

    Parameters
    ----------
    fit : callable
        ``fit(X_train, y_train)`` returns a fitted estimator or a dict of them
        by name (each with ``predict``; see :func:`predict_labels`).
    X : np.ndarray, shape (n, n_features)
    y : sequence of str
    folds : sequence of (train_idx, test_idx)
        E.g. from :func:`genre_core.datasets.kfold_splits`.
    labels : sequence of str
    progress : bool
        Show a tqdm bar over folds.

    Returns
    -------
    dict
        Model name → :func:`evaluate` dict with the extra fold keys.
    """
    from tqdm.auto import tqdm

    X = np.asarray(X)
    y = np.asarray(y, dtype=object).astype(str)
    predictions: dict[str, np.ndarray] = {}
    fold_accuracy: dict[str, list[float]] = {}
    for train_idx, test_idx in tqdm(folds, desc="cross-validation folds", disable=not progress):
        fitted = _as_dict(fit(X[train_idx], y[train_idx]))
        for name, model in fitted.items():
            pred = predictions.setdefault(name, np.empty(len(y), dtype=object))
            pred[test_idx] = predict_labels(model, X[test_idx])
            fold_accuracy.setdefault(name, []).append(float(accuracy_score(y[test_idx], pred[test_idx].astype(str))))
    tested = np.unique(np.concatenate([np.asarray(test_idx) for _, test_idx in folds]))
    results = {}
    for name, pred in predictions.items():
        metrics = evaluate(y[tested], pred[tested], labels)
        metrics["protocol"] = f"stratified {len(folds)}-fold cross-validation (pooled out-of-fold predictions)"
        metrics["fold_accuracy"] = fold_accuracy[name]
        metrics["accuracy_std"] = float(np.std(fold_accuracy[name]))
        results[name] = metrics
    return results


def holdout_evaluate_models(
    fit: FitFunction,
    X_train: np.ndarray,
    y_train: Sequence[str],
    X_test: np.ndarray,
    y_test: Sequence[str],
    labels: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Train on one split and score on another (e.g. the fault-filtered test set).

    Returns
    -------
    dict
        Model name → :func:`evaluate` dict.
    """
    fitted = _as_dict(fit(np.asarray(X_train), np.asarray(y_train, dtype=object).astype(str)))
    y_test = np.asarray(y_test, dtype=object).astype(str)
    X_test = np.asarray(X_test)
    return {name: evaluate(y_test, predict_labels(model, X_test), labels) for name, model in fitted.items()}


def vote_tracks(track_ids: Sequence[Any], segment_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-track probabilities: the mean of each track's segment probabilities.

    Parameters
    ----------
    track_ids : sequence
        Track of each segment (row of ``segment_probs``).
    segment_probs : np.ndarray, shape (n_segments, n_labels)

    Returns
    -------
    track_ids : np.ndarray
        Unique track ids, in order of first appearance.
    probabilities : np.ndarray, shape (n_tracks, n_labels)
        Rows sum to 1 when the segment rows do.
    """
    ids = np.asarray(track_ids, dtype=object)
    probs = np.asarray(segment_probs, dtype=np.float64)
    if probs.ndim != 2 or ids.ndim != 1 or len(ids) != len(probs):
        raise ValueError(
            f"need one track id per row of a 2-D probability array, got {ids.shape} ids and {probs.shape} probabilities"
        )
    unique, first, inverse = np.unique(ids.astype(str), return_index=True, return_inverse=True)
    sums = np.zeros((len(unique), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    means = sums / np.bincount(inverse, minlength=len(unique))[:, None]
    order = np.argsort(first)
    return ids[first[order]], means[order]


def evaluate_segments_and_tracks(
    probs: np.ndarray, y: np.ndarray, track_ids: np.ndarray, labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Metrics per segment and per track (mean-probability vote over a track's segments)."""
    labels = list(labels)
    names = np.asarray(labels, dtype=object)
    segment = evaluate(names[y], names[probs.argmax(axis=1)], labels)
    voted_ids, track_probs = vote_tracks(track_ids, probs)
    label_of_track = dict(zip(track_ids, names[y]))
    track_true = np.array([label_of_track[t] for t in voted_ids], dtype=object)
    track = evaluate(track_true, names[np.asarray(track_probs).argmax(axis=1)], labels)
    return {"test_segment": segment, "test_track": track}
