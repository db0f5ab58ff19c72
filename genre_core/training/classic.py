"""Classical training: the GTZAN-57 feature models, evaluated and shipped.

Trains logistic regression, kNN, Gaussian naive Bayes, an RBF SVM, their
soft-voting ensemble and a small dense net on the 57 GTZAN summary features,
either from GTZAN's ``features_30_sec.csv`` or by featurising an audio corpus.

Each model is scored under two protocols, with hyperparameters tuned inside
every training set only:

* ``cv10``: stratified 10-fold cross-validation over all tracks (the search
  runs again inside each fold: nested CV);
* ``fault_filtered_test`` (with ``split_dir``): trained on train+valid of the
  artist-filtered split, scored on its test tracks.

The shipped model is then tuned and trained on all tracks and written to
``<out>/<prefix>_<model>/`` with its ``card.json``.  Every setting and its
default is a field of :class:`ClassicConfig`; ``python -m train classic``
(``train/classic.py``) only parses the flags into one.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import MODELS_DIR, REAL_DATASETS, SAMPLE_RATE
from ..errors import UsageError
from .configs import option
from .fingerprints import make_fingerprint, write_fingerprint
from ..models.classical import (DENSE, DISPLAY_NAMES, ENSEMBLE, HOP_SECONDS, INPUT_KIND, KERAS_FILE, MODEL_NAMES,
                                PIPELINE_NAMES, SKOPS_FILE, WINDOW_SECONDS, TunedModel, fit_ensemble, search_space,
                                transform_name, tune)

logger = logging.getLogger(__name__)

DEFAULT_FOLDS: int = 10
FAULT_FILTERED: str = "fault_filtered"


@dataclass
class ClassicConfig:
    """Everything that defines a classical training run; the defaults are declared here only.

    Exactly one of ``data`` (GTZAN's features CSV) and ``audio_dir`` (a corpus
    laid out as ``dataset`` says) is set.

    Examples
    --------
    >>> ClassicConfig(data=Path("features_30_sec.csv")).model_names[:2]
    ['logreg', 'knn']
    """

    data: Path | None = option(None, "GTZAN features_30_sec.csv (filename, length, 57 features, label)",
                               type=Path, exclusive="source", group="data (one of --data or --audio-dir)")
    audio_dir: Path | None = option(None, "audio corpus to featurise with gtzan57 (see --dataset)", type=Path,
                                    exclusive="source", group="data (one of --data or --audio-dir)")
    dataset: str = option("folder", "layout of --audio-dir: gtzan, fma (tracks.csv from --metadata, or --audio-dir holding fma_metadata/ and fma_small/) or folder "
                          "(one sub-folder per label)", choices=REAL_DATASETS,
                          group="data (one of --data or --audio-dir)")
    metadata: Path | None = option(None, "FMA tracks.csv or fma_metadata folder", type=Path,
                                   group="data (one of --data or --audio-dir)")
    split_dir: Path | None = option(None, "train.txt/valid.txt/test.txt track lists, e.g. GTZAN's "
                                    "fault-filtered split", type=Path, group="data (one of --data or --audio-dir)")
    source: str = option("real", "what the audio is, recorded in the cards", choices=("real", "synthetic"),
                         group="data (one of --data or --audio-dir)")
    clip_seconds: float = option(WINDOW_SECONDS, "seconds of each audio file to featurise, like GTZAN's clips",
                                 group="data (one of --data or --audio-dir)")
    models: Sequence[str] | None = option(None, f"comma-separated subset of {','.join(MODEL_NAMES)} (default all)",
                                          group="training")
    quick: bool = option(False, "one hyperparameter setting per model and 5 dense epochs (smoke test)",
                         group="training")
    folds: int = option(DEFAULT_FOLDS, "cross-validation folds (fewer if a label has fewer tracks)", positive=True,
                        group="training")
    cv: bool = option(True, "the cross-validation protocol (--no-cv skips it)", group="training")
    seed: int = option(0, "seed of the folds and the searches", group="training")
    n_jobs: int = option(1, "parallel fits in the searches", positive=True, group="training")
    out: Path = option(MODELS_DIR, "models folder", group="output")
    prefix: str | None = option(None, "model folder prefix (default: gtzan, fma or folder)", type=str,
                                group="output")
    command: str | None = field(default=None, metadata={"cli": False})

    def __post_init__(self) -> None:
        if (self.data is None) == (self.audio_dir is None):
            raise UsageError("give exactly one of data (a features CSV) and audio_dir (an audio corpus)")
        if self.dataset not in REAL_DATASETS:
            raise UsageError(f"unknown dataset {self.dataset!r}; choose from {', '.join(REAL_DATASETS)}")
        unknown = [n for n in self.models or () if n not in MODEL_NAMES]
        if unknown:
            raise UsageError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_NAMES)}")

    @property
    def model_names(self) -> list[str]:
        """The models to train, in order (all of :data:`MODEL_NAMES` by default)."""
        return list(dict.fromkeys(self.models)) if self.models else list(MODEL_NAMES)

    @property
    def model_prefix(self) -> str:
        """Folder prefix of the shipped models: ``prefix``, else ``gtzan`` for the CSV or the dataset."""
        if self.prefix:
            return self.prefix
        return "gtzan" if self.data is not None else self.dataset


# --- data -----------------------------------------------------------------------------


def featurise_tracks(
    table: pd.DataFrame, clip_seconds: float = WINDOW_SECONDS, progress: bool = True
) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """GTZAN-57 features of the first ``clip_seconds`` of every track's audio.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table with a ``path`` column.
    clip_seconds : float
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    X : np.ndarray, shape (n_ok, 57)
    table : pandas.DataFrame
        The rows that could be featurised.
    failures : list of str
        One message per unreadable track.
    """
    from tqdm.auto import tqdm

    from ..audio import AudioError, load_audio
    from ..features import gtzan57

    rows, keep, failures = [], [], []
    for position, path in enumerate(tqdm(table["path"].tolist(), desc="featurising", unit="track",
                                         disable=not progress)):
        try:
            clip = load_audio(path, max_duration=clip_seconds)
            rows.append(gtzan57(clip.samples, clip.sample_rate))
            keep.append(position)
        except (AudioError, ValueError) as exc:
            failures.append(str(exc))
    if not rows:
        raise ValueError(f"none of the {len(table)} tracks could be featurised (first error: {failures[:1]})")
    return np.vstack(rows), table.iloc[keep].reset_index(drop=True), failures


def _audio_table(config: ClassicConfig) -> pd.DataFrame:
    from .tracks import dataset_table

    return dataset_table(config.dataset, config.audio_dir, config.metadata)


def load_training_data(config: ClassicConfig) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any], list[str]]:
    """Features, track table, data description and notes for the cards."""
    from ..datasets import gtzan_feature_table

    notes: list[str] = []
    if config.data is not None:
        features, table = gtzan_feature_table(config.data)
        if "segment" in table.columns:
            raise ValueError(
                f"{config.data.name} has one row per 3 s segment; the classical models use 30 s windows: "
                "pass features_30_sec.csv"
            )
        X = features.to_numpy(dtype=np.float64)
        info = {"dataset": "GTZAN", "source": "real",
                "description": f"GTZAN {config.data.name}: {len(table)} tracks × 57 pre-computed features "
                               "(librosa, whole 30 s clips)"}
    else:
        table = _audio_table(config)
        X, table, failures = featurise_tracks(table, config.clip_seconds)
        for message in failures:
            warnings.warn(f"skipped: {message}", stacklevel=2)
        if failures:
            notes.append(f"{len(failures)} track(s) could not be read and were left out.")
        name = {"gtzan": "GTZAN", "fma": "FMA", "folder": config.audio_dir.name}[config.dataset]
        info = {"dataset": name, "source": config.source,
                "description": f"{len(table)} audio tracks from {config.audio_dir.name}, GTZAN-57 features of "
                               f"the first {config.clip_seconds:g} s of each"}
    return X, table, info, notes


# --- fitting --------------------------------------------------------------------------


def fit_models(
    X: np.ndarray,
    y: Sequence[str],
    names: Sequence[str] = MODEL_NAMES,
    *,
    quick: bool = False,
    seed: int = 0,
    n_jobs: int = 1,
) -> dict[str, TunedModel]:
    """Tune and fit the named models on (X, y); the ensemble reuses the tuned pipelines.

    Parameters
    ----------
    names : sequence of str
        Subset of :data:`MODEL_NAMES`.  ``ensemble`` tunes all four pipelines
        even when they are not requested themselves.

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
            from ..models.dense import fit_dense

            out[name] = fit_dense(X, y, seed=seed, quick=quick)
        else:
            out[name] = tuned[name]
    return out


# --- protocols ------------------------------------------------------------------------


def _fitter(names: Sequence[str], config: ClassicConfig):
    def fit(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        tuned = fit_models(X, y, names, quick=config.quick, seed=config.seed, n_jobs=config.n_jobs)
        return {name: model.estimator for name, model in tuned.items()}

    return fit


def _split_protocol(table: pd.DataFrame, config: ClassicConfig) -> tuple[str, pd.DataFrame] | None:
    from ..datasets import fault_filtered_split, official_split

    if config.split_dir is not None:
        name = config.split_dir.name
        key = f"{FAULT_FILTERED}_test" if name == FAULT_FILTERED else f"{name}_test"
        return key, fault_filtered_split(table, config.split_dir)
    if config.audio_dir is not None and config.dataset == "fma":
        return "official_test", official_split(table)
    return None


def run_protocols(
    X: np.ndarray, table: pd.DataFrame, labels: list[str], names: Sequence[str], config: ClassicConfig
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every model's metrics under each protocol that applies, and a description of each protocol."""
    from ..datasets import kfold_splits
    from ..training.evaluate import cross_validate_models, holdout_evaluate_models

    y = table["label"].to_numpy(dtype=object).astype(str)
    metrics: dict[str, dict[str, Any]] = {name: {} for name in names}
    protocols: dict[str, str] = {}
    fit = _fitter(names, config)
    if config.cv:
        k = min(config.folds, int(table["label"].value_counts().min()))
        if k >= 2:
            key = f"cv{k}"
            logger.info("protocol %s: stratified %d-fold cross-validation, tuning inside each fold", key, k)
            started = time.perf_counter()
            results = cross_validate_models(fit, X, y, kfold_splits(table, k, config.seed), labels, progress=True)
            for name, result in results.items():
                metrics[name][key] = result
            protocols[key] = (f"stratified {k}-fold CV over all {len(y)} tracks (seed {config.seed}); "
                              f"hyperparameters re-tuned on each fold's training part "
                              f"({time.perf_counter() - started:.0f} s)")
        else:
            logger.warning("skipping cross-validation: a label has fewer than 2 tracks")
    split = _split_protocol(table, config)
    if split is not None:
        key, split_table = split
        position = pd.Series(np.arange(len(table)), index=table["track_id"].to_numpy())
        train = position[split_table.loc[split_table["split"] != "test", "track_id"]].to_numpy()
        test = position[split_table.loc[split_table["split"] == "test", "track_id"]].to_numpy()
        if len(test) == 0 or len(train) == 0:
            raise ValueError(f"the split in {config.split_dir} leaves no training or no test track")
        logger.info("protocol %s: train on %d train+valid tracks, test on %d", key, len(train), len(test))
        started = time.perf_counter()
        results = holdout_evaluate_models(fit, X[train], y[train], X[test], y[test], labels)
        for name, result in results.items():
            result["protocol"] = f"trained on train+valid ({len(train)} tracks), tested on test ({len(test)} tracks)"
            metrics[name][key] = result
        protocols[key] = (f"{key.removesuffix('_test')} split: trained on train+valid ({len(train)} tracks), "
                          f"tested on test ({len(test)} tracks) ({time.perf_counter() - started:.0f} s)")
    return metrics, protocols


# --- shipping -------------------------------------------------------------------------


def _architecture(name: str, params: dict[str, Any]) -> str:
    if name == "dense":
        return (f"log_var → Normalization → Dense({params['units']}, relu) → Dropout({params['dropout']:g}) "
                "→ Dense(n, softmax)")
    if name == ENSEMBLE:
        used = [f"{member}×{w}" for member, w in params["weights"].items() if w]
        return f"soft-voting ensemble of {', '.join(used)}"
    step = {"logreg": "LogisticRegression", "knn": "KNeighborsClassifier", "gnb": "GaussianNB",
            "svm": "SVC(rbf) + temperature scaling"}[name]
    return f"{params.get('transform', 'none')} → StandardScaler → {step}"


def _hyperparameters(name: str, tuned: Any, config: ClassicConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"chosen": tuned.params, "seed": config.seed, "quick": config.quick}
    if tuned.cv_accuracy is not None:
        out["inner_cv_accuracy"] = round(tuned.cv_accuracy, 4)
    if name in ("logreg", "knn", "gnb", "svm"):
        grid = search_space(name, config.quick, config.seed)
        out["search"] = {
            "method": "GridSearchCV, stratified 5-fold, accuracy, on the training data only",
            "grid": {k.removeprefix("model__"): [transform_name(v) if k == "transform" else v for v in values]
                     for k, values in grid.items()},
        }
    elif name == ENSEMBLE:
        out["search"] = {"method": "weights in {0,1,2} per member scored on stratified 5-fold out-of-fold "
                                   "probabilities of the training data (ties: lower log-loss)"}
    return out


def ship_model(
    name: str, tuned: Any, out_dir: Path, prefix: str, labels: list[str], metrics: dict[str, Any],
    info: dict[str, Any], n_tracks: int, notes: list[str], protocols: dict[str, str], config: ClassicConfig,
) -> dict[str, Any]:
    """Save one trained model and its card; returns the card."""
    from ..cards import card_template
    from ..features import FEATURE_NAMES_GTZAN57
    from ..models.feature_predictor import load_predictor
    from ..models.persistence import save_sklearn
    from .shipping import ship_card

    model_dir = out_dir / f"{prefix}_{name}"
    model_dir.mkdir(parents=True, exist_ok=True)
    if name == DENSE:
        artifact = KERAS_FILE
        size = tuned.estimator.save(model_dir / artifact)
    else:
        artifact = SKOPS_FILE
        size = save_sklearn(tuned.estimator, model_dir / artifact)
    card = card_template(
        name=f"{prefix}_{name}",
        display_name=f"{DISPLAY_NAMES[name]} · {info['dataset']}",
        kind="dense" if name == DENSE else "classical",
        architecture=_architecture(name, tuned.params),
        framework="keras" if name == DENSE else "sklearn",
        artifact=artifact,
        data={**info, "n_tracks": int(n_tracks), "label_set": list(labels),
              "trained_on": f"all {n_tracks} tracks (the shipped model); the metrics come from the protocols"},
        input={"kind": INPUT_KIND, "window_seconds": WINDOW_SECONDS, "hop_seconds": HOP_SECONDS,
               "sample_rate": SAMPLE_RATE, "shape": [len(FEATURE_NAMES_GTZAN57)],
               "feature_names": list(FEATURE_NAMES_GTZAN57)},
        labels=labels,
        metrics=metrics,
        protocols=protocols,
        hyperparameters=_hyperparameters(name, tuned, config),
        training_time_s=round(tuned.seconds, 2),
        command=config.command or "python -m train classic",
        notes=[
            f"The shipped model is trained on all {n_tracks} tracks; its metrics come from the protocols "
            "listed in 'protocols', where it never saw the test tracks and hyperparameters were tuned on "
            "training data only.",
            *(["Random CV folds put songs by one artist on both sides; the fault-filtered split does not, "
               "so its figure is the more honest one."] if any(k.startswith(FAULT_FILTERED) for k in metrics)
              else []),
            *notes,
        ],
        size_bytes=int(size),
    )
    if name == DENSE:
        card["history"] = tuned.estimator.history
    # Latency of the model as the app uses it: loaded from disk, features included.
    return ship_card(model_dir, card, load_predictor)


def summary_table(cards: Sequence[dict[str, Any]]) -> str:
    """A markdown table of each model's metrics under every protocol."""
    keys = list(dict.fromkeys(k for card in cards for k in card["metrics"]))
    head = ["model", *[f"{k} {m}" for k in keys for m in ("accuracy", "macro-F1")], "train s", "ms/30 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for card in cards:
        cells = [card["name"]]
        for key in keys:
            result = card["metrics"].get(key) or {}
            cells += [f"{result['accuracy']:.3f}" if result else "–", f"{result['macro_f1']:.3f}" if result else "–"]
        cells += [f"{card['training_time_s']:.1f}", f"{card['latency_ms_per_30s']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def train_classic(config: ClassicConfig) -> list[dict[str, Any]]:
    """Train, evaluate and ship as ``config`` says; returns the cards written.

    Raises
    ------
    ValueError, FileNotFoundError
        On data that cannot be read or a split that leaves no training or test track.
    """
    names = config.model_names
    X, table, info, notes = load_training_data(config)
    labels = sorted(table["label"].astype(str).unique())
    logger.info("%d tracks, %d labels: %s", len(table), len(labels), ", ".join(labels))
    metrics, protocols = run_protocols(X, table, labels, names, config)
    logger.info("training the shipped models on all %d tracks", len(table))
    y = table["label"].to_numpy(dtype=object).astype(str)
    final = fit_models(X, y, names, quick=config.quick, seed=config.seed, n_jobs=config.n_jobs)
    cards = [ship_model(name, final[name], Path(config.out), config.model_prefix, labels, metrics[name], info,
                        len(table), notes, protocols, config) for name in names]
    # The app's training-track check: the training set's standardised features beside each
    # shipped model (derived from the corpus, so .gitignore keeps it out of the repository).
    from ..features import FEATURE_NAMES_GTZAN57

    fingerprint = make_fingerprint(X, table["track_id"], y, FEATURE_NAMES_GTZAN57,
                                   source=f"{len(table)} training tracks")
    for card in cards:
        write_fingerprint(Path(config.out) / card["name"], fingerprint)
    return cards
