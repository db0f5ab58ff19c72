"""A small Keras dense net on the 57 GTZAN features.

The classic "MFCC → Dense(100) → softmax" study, adapted to the summary
feature vector: ``log_variances → Normalization → Dense(100, relu) → Dropout
→ Dense(n, softmax)``.  The log of the variance columns is applied in numpy
before the network (a Lambda layer would not load under ``safe_mode``); the
Normalization layer stores the training mean and variance in the ``.keras``
file, so the saved model needs nothing else.

:class:`DenseNetClassifier` has the scikit-learn methods the evaluation code
uses (``fit``, ``predict``, ``predict_proba``, ``classes_``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelLoadError
from .classical import TunedModel, log_variances
from .persistence import load_keras, save_keras

#: Defaults of the shipped net.
UNITS: int = 100
DROPOUT: float = 0.5
L2: float = 1e-3
EPOCHS: int = 100
BATCH_SIZE: int = 128
LEARNING_RATE: float = 3e-3


def build_dense_net(
    train_features: np.ndarray,
    n_classes: int,
    units: int = UNITS,
    dropout: float = DROPOUT,
    l2: float = L2,
    learning_rate: float = LEARNING_RATE,
) -> Any:
    """A compiled ``Normalization → Dense(units, relu) → Dropout → Dense(n, softmax)`` model.

    Parameters
    ----------
    train_features : np.ndarray, shape (n, n_features)
        Already log-variance transformed; the Normalization layer adapts to it.
    n_classes : int
    units, dropout, l2, learning_rate : model and optimiser settings

    Returns
    -------
    keras.Model
    """
    import keras

    normalization = keras.layers.Normalization(name="normalization")
    normalization.adapt(np.asarray(train_features, dtype=np.float32))
    model = keras.Sequential(
        [
            keras.Input((train_features.shape[1],), name="gtzan57"),
            normalization,
            keras.layers.Dense(units, activation="relu", kernel_regularizer=keras.regularizers.L2(l2), name="dense"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(n_classes, activation="softmax", name="softmax"),
        ],
        name="gtzan57_dense",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class DenseNetClassifier:
    """The dense net with a scikit-learn-like interface.

    Parameters
    ----------
    units, dropout, l2, learning_rate : network settings
    epochs, batch_size : training length
    seed : int
        ``keras.utils.set_random_seed`` before building: runs are repeatable.
    """

    def __init__(self, units: int = UNITS, dropout: float = DROPOUT, l2: float = L2, epochs: int = EPOCHS,
                 batch_size: int = BATCH_SIZE, learning_rate: float = LEARNING_RATE, seed: int = 0) -> None:
        self.units = units
        self.dropout = dropout
        self.l2 = l2
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.model: Any = None
        self.classes_: np.ndarray = np.array([], dtype=object)
        self.history: dict[str, list[float]] = {}

    def get_params(self) -> dict[str, Any]:
        """The constructor settings (JSON-ready)."""
        return {"units": self.units, "dropout": self.dropout, "l2": self.l2, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate, "seed": self.seed}

    def fit(self, X: np.ndarray, y: Sequence[str]) -> DenseNetClassifier:
        """Train on GTZAN-57 features ``X`` and class names ``y``."""
        import keras

        y = np.asarray(y, dtype=object).astype(str)
        self.classes_ = np.unique(y)
        targets = np.searchsorted(self.classes_, y)
        inputs = log_variances(X).astype(np.float32)
        keras.utils.set_random_seed(self.seed)
        self.model = build_dense_net(inputs, len(self.classes_), self.units, self.dropout, self.l2,
                                     self.learning_rate)
        fit = self.model.fit(inputs, targets, epochs=self.epochs, batch_size=self.batch_size, shuffle=True,
                             verbose=0)
        self.history = {k: [float(v) for v in values] for k, values in fit.history.items()}
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes_` order."""
        if self.model is None:
            raise RuntimeError("the dense net is not trained yet")
        inputs = log_variances(np.atleast_2d(X)).astype(np.float32)
        # A direct call avoids model.predict's per-call dataset set-up (one clip = a few rows).
        return np.asarray(self.model(inputs, training=False), dtype=np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class name per row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def save(self, path: str | os.PathLike) -> int:
        """Save the network as ``.keras`` (no optimizer state); returns the size in bytes."""
        return save_keras(self.model, path)


def load_dense(path: str | os.PathLike, labels: Sequence[str]) -> DenseNetClassifier:
    """Load a saved dense net (``safe_mode=True``: no code in the file runs).

    Parameters
    ----------
    path : path to the ``.keras`` file
    labels : sequence of str
        Class names in output order (the card's ``labels``).

    Raises
    ------
    ArtifactMissingError
        If the file is missing (a ``FileNotFoundError``).
    UntrustedModelError, ModelLoadError
        If it is not a safe ``.keras`` file or its output size differs from ``labels``.
    """
    path = Path(path)
    model = load_keras(path)
    if int(model.output_shape[-1]) != len(labels):
        raise ModelLoadError(f"{path.name} has {model.output_shape[-1]} outputs but {len(labels)} labels were given")
    classifier = DenseNetClassifier()
    classifier.model = model
    classifier.classes_ = np.asarray([str(label) for label in labels], dtype=object)
    return classifier


def fit_dense(
    X: np.ndarray, y: Sequence[str], *, seed: int = 0, quick: bool = False, **options: Any
) -> TunedModel:
    """Train a :class:`DenseNetClassifier` (``quick``: 5 epochs) and time it."""
    started = time.perf_counter()
    if quick:
        options.setdefault("epochs", 5)
    net = DenseNetClassifier(seed=seed, **options).fit(X, y)
    return TunedModel(net, net.get_params(), None, time.perf_counter() - started)
