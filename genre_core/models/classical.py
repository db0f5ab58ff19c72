"""Classical models on the 57 GTZAN summary features.

Four scikit-learn pipelines (logistic regression, k-nearest neighbours,
Gaussian naive Bayes, RBF SVM) of the form ``transform → StandardScaler →
classifier``.  The transform (none, log of the ``*_var`` columns, or a
quantile map to a normal or uniform distribution) is a hyperparameter like any
other: :func:`tune` picks it, with the classifier's own, by stratified
cross-validated grid search on the training data it is given.  A soft-voting
ensemble combines the tuned pipelines with weights chosen on out-of-fold
probabilities of the same training data.

Models are saved with :mod:`skops.io` and loaded only if every type in the
file is on :data:`ALLOWED_TYPES`, so a model folder from elsewhere cannot run
code on load.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, QuantileTransformer, StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from ..constants import SAMPLE_RATE
from ..errors import ArtifactMissingError, ModelLoadError, UntrustedModelError
from ..features import FEATURE_NAMES_GTZAN57
from .base import Windows

#: Analysis windows of the classical models: GTZAN's 30 s clips, hop 15 s.
WINDOW_SECONDS: float = 30.0
HOP_SECONDS: float = 15.0
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
            accuracy = float(np.mean(classes[probs.argmax(axis=1)] == y))
            scored.append((accuracy, -log_loss(y, np.clip(probs, 1e-12, 1.0), labels=classes), w))
        score, _, weights = max(scored, key=lambda s: (s[0], s[1]))
    members = [(n, clone(tuned[n].estimator)) for n, w in zip(names, weights) if w]
    ensemble = VotingClassifier(members, voting="soft", weights=[w for w in weights if w])
    with threadpool_limits(limits=1, user_api="blas"):
        ensemble.fit(X, y)
    params = {"weights": {n: int(w) for n, w in zip(names, weights)},
              "members": {n: tuned[n].params for n in names}}
    return TunedModel(ensemble, params, score, time.perf_counter() - started)


def fit_models(
    X: np.ndarray,
    y: Sequence[str],
    names: Sequence[str] = MODEL_NAMES,
    *,
    quick: bool = False,
    seed: int = 0,
    n_jobs: int = 1,
    dense_options: Mapping[str, Any] | None = None,
) -> dict[str, TunedModel]:
    """Tune and fit the named models on (X, y); the ensemble reuses the tuned pipelines.

    Parameters
    ----------
    names : sequence of str
        Subset of :data:`MODEL_NAMES`.  ``ensemble`` tunes all four pipelines
        even when they are not requested themselves.
    dense_options : mapping, optional
        Keyword arguments of :class:`~genre_core.models.dense.DenseNetClassifier`.

    Returns
    -------
    dict
        Name → :class:`TunedModel`, in the order of ``names``.
    """
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_NAMES)}")
    needed = PIPELINE_NAMES if ENSEMBLE in names else [n for n in PIPELINE_NAMES if n in names]
    tuned = {n: tune(n, X, y, quick=quick, seed=seed, n_jobs=n_jobs) for n in needed}
    out: dict[str, TunedModel] = {}
    for name in names:
        if name == ENSEMBLE:
            out[name] = fit_ensemble(tuned, X, y, seed=seed)
            # Its cost includes tuning the members it is built from.
            out[name].seconds += sum(model.seconds for model in tuned.values())
        elif name == DENSE:
            from .dense import fit_dense

            out[name] = fit_dense(X, y, seed=seed, quick=quick, **dict(dense_options or {}))
        else:
            out[name] = tuned[name]
    return out


# --- persistence ----------------------------------------------------------------------


#: Limits on a model artifact (skops and .keras files are zip archives), checked
#: before anything is decompressed: the shipped ones are under 5 MB.
MAX_ARTIFACT_BYTES: int = 512 * 1024 * 1024
MAX_UNPACKED_BYTES: int = 512 * 1024 * 1024
MAX_ARCHIVE_MEMBERS: int = 10_000
#: Top-level packages a .keras config may name as a layer's or object's module.
KERAS_MODULES: frozenset[str] = frozenset({"keras"})


def _npy_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Bytes a .npy member will allocate, from its header (0 if it has none)."""
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = reader(member)
    except Exception:  # not an array: the loader judges it
        return 0
    return int(np.prod(shape, dtype=np.float64)) * max(dtype.itemsize, 1)


def check_archive(path: str | os.PathLike, error: type[ModelLoadError] = ModelLoadError,
                  what: str = "model") -> None:
    """Refuse an artifact that is too large on disk or once unpacked (a decompression bomb).

    Sizes come from the zip directory and from each ``.npy`` member's header,
    so nothing is decompressed to find out.

    Raises
    ------
    ModelLoadError
        (or ``error``) naming the file and the limit it breaks.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise ModelLoadError(f"{path}: {size} bytes exceeds the {MAX_ARTIFACT_BYTES} byte limit for a model file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ARCHIVE_MEMBERS:
                raise ModelLoadError(f"{path}: {len(infos)} archive members is implausible for a {what} file")
            unpacked = sum(info.file_size for info in infos)
            arrays = sum(_npy_bytes(archive, info) for info in infos if info.filename.endswith(".npy"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise error(f"{path.name}: not a readable {what} file ({exc})") from None
    largest = max(unpacked, arrays)
    if largest > MAX_UNPACKED_BYTES:
        raise ModelLoadError(
            f"{path}: unpacks to {largest} bytes from {size} on disk, over the {MAX_UNPACKED_BYTES} byte limit "
            "(a decompression bomb?)"
        )


def check_keras_config(path: str | os.PathLike) -> None:
    """Refuse a ``.keras`` file whose config names a module outside Keras.

    ``safe_mode=True`` already refuses lambdas; this allow-list also keeps
    configs such as ``{"module": "os", "class_name": "system"}`` from reaching
    Keras' deserialiser at all.

    Raises
    ------
    UntrustedModelError
        Naming the module and class.
    ModelLoadError
        If the archive or its config cannot be read.
    """
    path = Path(path)
    check_archive(path, what="Keras")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except KeyError:
        raise ModelLoadError(f"{path}: not a .keras file (no config.json inside)") from None
    except RecursionError:
        raise ModelLoadError(f"{path}: config.json is nested too deeply") from None
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: config.json is not readable JSON ({exc})") from None
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            module = value.get("module")
            if module is not None and (not isinstance(module, str) or module.split(".")[0] not in KERAS_MODULES):
                raise UntrustedModelError(
                    f"{path}: refusing to load: its config names module {module!r} "
                    f"(class {value.get('class_name')!r}); only Keras modules are allowed"
                )
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def load_keras(path: str | os.PathLike) -> Any:
    """Load a ``.keras`` model with ``safe_mode=True`` after :func:`check_keras_config`.

    Raises
    ------
    ArtifactMissingError, UntrustedModelError, ModelLoadError
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"model file {path} not found")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path.name}: Keras models must be .keras files")
    check_keras_config(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras' deserialiser raises anything on a hostile file; none of it is our bug
        raise ModelLoadError(f"{path}: not a loadable Keras model ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


#: The types our saved models contain beyond those skops trusts by default
#: (numpy arrays, scikit-learn estimators).  A file needing anything else, such
#: as a FunctionTransformer around ``os.system``, is refused.
ALLOWED_TYPES: frozenset[str] = frozenset({
    "genre_core.models.classical.log_variances",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils._bunch.Bunch",
})


def save_sklearn(estimator: Any, path: str | os.PathLike) -> int:
    """Save a fitted scikit-learn estimator with skops; returns the file size in bytes.

    Raises
    ------
    UntrustedModelError
        If the estimator holds a type :func:`load_sklearn` would refuse, so a
        model is never saved that could not be loaded back.
    """
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(estimator, path)
    refused = sorted(set(sio.get_untrusted_types(file=path)) - ALLOWED_TYPES)
    if refused:
        path.unlink()
        raise UntrustedModelError(f"cannot save: type(s) {', '.join(refused)} are not on the load allow-list")
    return path.stat().st_size


def load_sklearn(path: str | os.PathLike) -> Any:
    """Load a skops file, trusting only :data:`ALLOWED_TYPES`.

    Raises
    ------
    ArtifactMissingError
        If the file is missing (a ``FileNotFoundError``).
    UntrustedModelError
        If the file contains any other type (nothing in it is executed).
    ModelLoadError
        If it is too large unpacked, malformed, or not a classifier.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"model file {path} not found")
    check_archive(path, error=UntrustedModelError, what="skops")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a zip that is not a skops file, or a corrupt one
        raise UntrustedModelError(f"{path.name}: not a readable skops file ({_first_line(exc)})") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise UntrustedModelError(
            f"{path}: refusing to load type(s) not on the allow-list: {', '.join(refused)}"
        )
    try:
        model = sio.load(path, trusted=list(untrusted))
    except Exception as exc:  # only allowed types are built, but a hostile file can still be malformed
        raise ModelLoadError(f"{path}: the skops file cannot be loaded ({type(exc).__name__}: {_first_line(exc)})") from None
    if not (callable(getattr(model, "predict_proba", None)) and hasattr(model, "classes_")):
        raise ModelLoadError(
            f"{path}: holds a {type(model).__name__}, not a fitted classifier (no predict_proba and classes_)"
        )
    return model


# --- prediction -----------------------------------------------------------------------


class FeaturePredictor:
    """A GTZAN-57 model (pipeline, ensemble or dense net) as a :class:`~genre_core.models.base.Predictor`.

    Attributes
    ----------
    name : str
    labels : tuple of str
    card : dict
    input_key : tuple
        ``("gtzan57", window_seconds, hop_seconds)``: all feature models share
        one feature pass per clip.
    estimator : object
        Has ``predict_proba`` and ``classes_``.
    """

    def __init__(self, estimator: Any, card: Mapping[str, Any], name: str | None = None) -> None:
        self.estimator = estimator
        self.card = dict(card)
        self.name = str(name or card.get("name"))
        self.labels = tuple(str(label) for label in card["labels"])
        inputs = card.get("input") or {}
        self.window_seconds = float(inputs.get("window_seconds", WINDOW_SECONDS))
        self.hop_seconds = float(inputs.get("hop_seconds", HOP_SECONDS))
        self.sample_rate = int(inputs.get("sample_rate", SAMPLE_RATE))
        self.input_key = (INPUT_KIND, self.window_seconds, self.hop_seconds)
        classes = [str(c) for c in estimator.classes_]
        missing = sorted(set(self.labels) - set(classes))
        if missing or len(classes) != len(self.labels):
            raise ModelLoadError(
                f"model {self.name!r} predicts classes {classes} but its card lists labels {list(self.labels)}"
            )
        self._order = np.array([classes.index(label) for label in self.labels])

    @property
    def window_hop(self) -> tuple[float, float]:
        """Window and hop in seconds, placed as :func:`genre_core.windows.frame_windows` places them.

        :mod:`genre_core.stream` uses it to analyse long audio chunk by chunk
        with exactly the windows one pass over the whole signal would have.
        """
        return self.window_seconds, self.hop_seconds

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[Windows, np.ndarray]:
        """GTZAN-57 features of each 30 s window (15 s hop); a shorter clip is one window."""
        from ..features import gtzan57_windows
        from ..windows import resample_to

        samples = resample_to(samples, sample_rate, self.sample_rate)
        return gtzan57_windows(samples, self.sample_rate, self.window_seconds, self.hop_seconds)

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities per window, columns in :attr:`labels` order; rows sum to 1."""
        probs = np.asarray(self.estimator.predict_proba(np.atleast_2d(np.asarray(inputs, dtype=np.float64))))
        probs = probs[:, self._order]
        return probs / probs.sum(axis=1, keepdims=True)


def load_predictor(directory: str | os.PathLike, card: Mapping[str, Any]) -> FeaturePredictor:
    """Load a classical or dense model folder as a :class:`FeaturePredictor`.

    ``framework`` "sklearn" loads ``artifact`` with :func:`load_sklearn`;
    "keras" loads a ``.keras`` dense net with ``safe_mode=True``.

    Raises
    ------
    ArtifactMissingError, UntrustedModelError, ModelLoadError
    """
    directory = Path(directory)
    path = directory / str(card["artifact"])
    framework = card.get("framework")
    if framework == "sklearn":
        if path.suffix != ".skops":
            raise ModelLoadError(f"{path.name}: scikit-learn models must be .skops files (never pickle)")
        estimator = load_sklearn(path)
    elif framework == "keras":
        from .dense import load_dense

        estimator = load_dense(path, card["labels"])
    else:
        raise ModelLoadError(f"{directory.name}: unknown framework {framework!r} for a feature model")
    return FeaturePredictor(estimator, card, str(card.get("name") or directory.name))
