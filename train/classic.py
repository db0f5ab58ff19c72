"""``python -m train classic``: the GTZAN-57 feature models, evaluated and shipped.

Trains logistic regression, kNN, Gaussian naive Bayes, an RBF SVM, their
soft-voting ensemble and a small dense net on the 57 GTZAN summary features,
either from GTZAN's ``features_30_sec.csv`` or by featurising an audio corpus.

Each model is scored under two protocols, with hyperparameters tuned inside
every training set only:

* ``cv10``: stratified 10-fold cross-validation over all tracks (the search
  runs again inside each fold: nested CV);
* ``fault_filtered_test`` (with ``--split-dir``): trained on train+valid of the
  artist-filtered split, scored on its test tracks.

The shipped model is then tuned and trained on all tracks and written to
``<out>/<prefix>_<model>/`` with its ``card.json``.

Examples
--------
The shipped defaults::

    python -m train classic --data ../shared/data/gtzan/features_30_sec.csv \\
        --split-dir ../shared/data/gtzan/splits/fault_filtered --out models

Your own music, one sub-folder per label::

    python -m train classic --audio-dir ~/music --dataset folder --prefix mymusic
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genre_core.constants import MODELS_DIR, SAMPLE_RATE

logger = logging.getLogger("train.classic")

DATASETS: tuple[str, ...] = ("gtzan", "fma", "folder")
DEFAULT_FOLDS: int = 10
FAULT_FILTERED: str = "fault_filtered"


def _model_list(text: str) -> list[str]:
    from genre_core.models.classical import MODEL_NAMES

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; choose from {','.join(MODEL_NAMES)}"
        )
    return list(dict.fromkeys(names))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m train classic`` to ``parser``."""
    data = parser.add_argument_group("data (one of --data or --audio-dir)")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="GTZAN features_30_sec.csv (filename, length, 57 features, label)")
    source.add_argument("--audio-dir", type=Path,
                        help="audio corpus to featurise with gtzan57 (see --dataset)")
    data.add_argument("--dataset", choices=DATASETS, default="folder",
                      help="layout of --audio-dir: gtzan, fma (with --metadata) or folder "
                           "(one sub-folder per label; default)")
    data.add_argument("--metadata", type=Path, help="FMA tracks.csv or fma_metadata folder")
    data.add_argument("--split-dir", type=Path,
                      help="train.txt/valid.txt/test.txt track lists, e.g. GTZAN's fault-filtered split")
    data.add_argument("--source", choices=("real", "synthetic"), default="real",
                      help="what the audio is, recorded in the cards (default real)")
    data.add_argument("--clip-seconds", type=float, default=30.0,
                      help="seconds of each audio file to featurise, like GTZAN's 30 s clips (default 30)")

    fit = parser.add_argument_group("training")
    fit.add_argument("--models", type=_model_list, default=None,
                     help="comma-separated subset of logreg,knn,gnb,svm,ensemble,dense (default all)")
    fit.add_argument("--quick", action="store_true",
                     help="one hyperparameter setting per model and 5 dense epochs (smoke test)")
    fit.add_argument("--folds", type=_positive_int, default=DEFAULT_FOLDS,
                     help="cross-validation folds (default 10; fewer if a label has fewer tracks)")
    fit.add_argument("--no-cv", dest="cv", action="store_false", help="skip the cross-validation protocol")
    fit.add_argument("--seed", type=int, default=0, help="default 0")
    fit.add_argument("--n-jobs", type=_positive_int, default=1, help="parallel fits in the searches (default 1)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", type=Path, default=MODELS_DIR, help="models folder (default: the repo's models/)")
    output.add_argument("--prefix", help="model folder prefix (default: gtzan, fma or folder)")


# --- data -----------------------------------------------------------------------------


def featurise_tracks(
    table: pd.DataFrame, clip_seconds: float = 30.0, progress: bool = True
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

    from genre_core.audio import AudioError, load_audio
    from genre_core.features import gtzan57

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


def _audio_table(args: argparse.Namespace) -> pd.DataFrame:
    from genre_core.datasets import load_dataset

    kwargs: dict[str, Any] = {}
    if args.dataset == "fma":
        if args.metadata is None:
            raise ValueError("--dataset fma needs --metadata (tracks.csv or the fma_metadata folder)")
        kwargs = {"metadata": args.metadata, "audio_dir": args.audio_dir}
    return load_dataset(args.dataset, args.audio_dir, **kwargs)


def load_training_data(args: argparse.Namespace) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any], list[str]]:
    """Features, track table, data description and notes for the cards."""
    from genre_core.datasets import gtzan_feature_table

    notes: list[str] = []
    if args.data is not None:
        features, table = gtzan_feature_table(args.data)
        if "segment" in table.columns:
            raise ValueError(
                f"{args.data.name} has one row per 3 s segment; the classical models use 30 s windows: "
                "pass features_30_sec.csv"
            )
        X = features.to_numpy(dtype=np.float64)
        info = {"dataset": "GTZAN", "source": "real",
                "description": f"GTZAN {args.data.name}: {len(table)} tracks × 57 pre-computed features "
                               "(librosa, whole 30 s clips)"}
    else:
        table = _audio_table(args)
        X, table, failures = featurise_tracks(table, args.clip_seconds)
        for message in failures:
            warnings.warn(f"skipped: {message}", stacklevel=2)
        if failures:
            notes.append(f"{len(failures)} track(s) could not be read and were left out.")
        name = {"gtzan": "GTZAN", "fma": "FMA", "folder": args.audio_dir.name}[args.dataset]
        info = {"dataset": name, "source": args.source,
                "description": f"{len(table)} audio tracks from {args.audio_dir.name}, GTZAN-57 features of "
                               f"the first {args.clip_seconds:g} s of each"}
    return X, table, info, notes


# --- protocols ------------------------------------------------------------------------


def _fitter(names: Sequence[str], args: argparse.Namespace):
    from genre_core.models.classical import fit_models

    def fit(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        tuned = fit_models(X, y, names, quick=args.quick, seed=args.seed, n_jobs=args.n_jobs)
        return {name: model.estimator for name, model in tuned.items()}

    return fit


def _split_protocol(table: pd.DataFrame, args: argparse.Namespace) -> tuple[str, pd.DataFrame] | None:
    from genre_core.datasets import fault_filtered_split, official_split

    if args.split_dir is not None:
        name = args.split_dir.name
        key = f"{FAULT_FILTERED}_test" if name == FAULT_FILTERED else f"{name}_test"
        return key, fault_filtered_split(table, args.split_dir)
    if args.audio_dir is not None and args.dataset == "fma":
        return "official_test", official_split(table)
    return None


def run_protocols(
    X: np.ndarray, table: pd.DataFrame, labels: list[str], names: Sequence[str], args: argparse.Namespace
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every model's metrics under each protocol that applies, and a description of each protocol."""
    from genre_core.datasets import kfold_splits
    from genre_core.evaluate import cross_validate_models, holdout_evaluate_models

    y = table["label"].to_numpy(dtype=object).astype(str)
    metrics: dict[str, dict[str, Any]] = {name: {} for name in names}
    protocols: dict[str, str] = {}
    fit = _fitter(names, args)
    if args.cv:
        k = min(args.folds, int(table["label"].value_counts().min()))
        if k >= 2:
            key = f"cv{k}"
            logger.info("protocol %s: stratified %d-fold cross-validation, tuning inside each fold", key, k)
            started = time.perf_counter()
            results = cross_validate_models(fit, X, y, kfold_splits(table, k, args.seed), labels, progress=True)
            for name, result in results.items():
                metrics[name][key] = result
            protocols[key] = (f"stratified {k}-fold CV over all {len(y)} tracks (seed {args.seed}); "
                              f"hyperparameters re-tuned on each fold's training part "
                              f"({time.perf_counter() - started:.0f} s)")
        else:
            logger.warning("skipping cross-validation: a label has fewer than 2 tracks")
    split = _split_protocol(table, args)
    if split is not None:
        key, split_table = split
        position = pd.Series(np.arange(len(table)), index=table["track_id"].to_numpy())
        train = position[split_table.loc[split_table["split"] != "test", "track_id"]].to_numpy()
        test = position[split_table.loc[split_table["split"] == "test", "track_id"]].to_numpy()
        if len(test) == 0 or len(train) == 0:
            raise ValueError(f"the split in {args.split_dir} leaves no training or no test track")
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
    from genre_core.models.classical import ENSEMBLE

    if name == "dense":
        return (f"log_var → Normalization → Dense({params['units']}, relu) → Dropout({params['dropout']:g}) "
                "→ Dense(n, softmax)")
    if name == ENSEMBLE:
        used = [f"{member}×{w}" for member, w in params["weights"].items() if w]
        return f"soft-voting ensemble of {', '.join(used)}"
    step = {"logreg": "LogisticRegression", "knn": "KNeighborsClassifier", "gnb": "GaussianNB",
            "svm": "SVC(rbf) + temperature scaling"}[name]
    return f"{params.get('transform', 'none')} → StandardScaler → {step}"


def _hyperparameters(name: str, tuned: Any, args: argparse.Namespace) -> dict[str, Any]:
    from genre_core.models.classical import ENSEMBLE, search_space, transform_name

    out: dict[str, Any] = {"chosen": tuned.params, "seed": args.seed, "quick": args.quick}
    if tuned.cv_accuracy is not None:
        out["inner_cv_accuracy"] = round(tuned.cv_accuracy, 4)
    if name in ("logreg", "knn", "gnb", "svm"):
        grid = search_space(name, args.quick, args.seed)
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
    info: dict[str, Any], n_tracks: int, notes: list[str], protocols: dict[str, str], args: argparse.Namespace,
) -> dict[str, Any]:
    """Save one trained model and its card; returns the card."""
    from genre_core.cards import card_template, label_set_name, write_card
    from genre_core.features import FEATURE_NAMES_GTZAN57
    from genre_core.models.classical import (DENSE, DISPLAY_NAMES, HOP_SECONDS, INPUT_KIND, KERAS_FILE,
                                             SKOPS_FILE, WINDOW_SECONDS, load_predictor, save_sklearn)
    from genre_core.predict import latency_ms_per_30s

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
        data={**info, "n_tracks": int(n_tracks), "label_set": label_set_name(labels),
              "trained_on": f"all {n_tracks} tracks (the shipped model); the metrics come from the protocols"},
        input={"kind": INPUT_KIND, "window_seconds": WINDOW_SECONDS, "hop_seconds": HOP_SECONDS,
               "sample_rate": SAMPLE_RATE, "shape": [len(FEATURE_NAMES_GTZAN57)],
               "feature_names": list(FEATURE_NAMES_GTZAN57)},
        labels=labels,
        metrics=metrics,
        protocols=protocols,
        hyperparameters=_hyperparameters(name, tuned, args),
        training_time_s=round(tuned.seconds, 2),
        command=getattr(args, "command_line", None) or "python -m train classic",
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
    write_card(model_dir, card)
    # Latency of the model as the app uses it: loaded from disk, features included.
    card["latency_ms_per_30s"] = round(latency_ms_per_30s(load_predictor(model_dir, card)), 1)
    write_card(model_dir, card)
    return card


def _default_prefix(args: argparse.Namespace) -> str:
    if args.prefix:
        return args.prefix
    return "gtzan" if args.data is not None else args.dataset


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


def run(args: argparse.Namespace) -> int:
    """Train, evaluate and ship as ``args`` say; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from genre_core.models.classical import MODEL_NAMES, fit_models

    names = args.models or list(MODEL_NAMES)
    started = time.perf_counter()
    try:
        X, table, info, notes = load_training_data(args)
        labels = sorted(table["label"].astype(str).unique())
        logger.info("%d tracks, %d labels: %s", len(table), len(labels), ", ".join(labels))
        metrics, protocols = run_protocols(X, table, labels, names, args)
        logger.info("training the shipped models on all %d tracks", len(table))
        y = table["label"].to_numpy(dtype=object).astype(str)
        final = fit_models(X, y, names, quick=args.quick, seed=args.seed, n_jobs=args.n_jobs)
        prefix = _default_prefix(args)
        cards = [ship_model(name, final[name], Path(args.out), prefix, labels, metrics[name], info, len(table),
                            notes, protocols, args) for name in names]
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary_table(cards))
    print(f"\nwrote {len(cards)} model(s) to {Path(args.out).resolve()} in {time.perf_counter() - started:.0f} s")
    return 0
