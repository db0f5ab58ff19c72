"""``python -m train classic``: the GTZAN-57 feature models, evaluated and shipped.

Trains logistic regression, kNN, Gaussian naive Bayes, an RBF SVM, their
soft-voting ensemble and a small dense net, scores them by nested 10-fold CV
and (with --split-dir) on a held-out split, and writes <out>/<prefix>_<model>/.

examples:
  python -m train classic --data ../shared/data/gtzan/features_30_sec.csv \\
      --split-dir ../shared/data/gtzan/splits/fault_filtered --out models
  python -m train classic --audio-dir ~/music --dataset folder --prefix mymusic
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any


def _defaults() -> dict[str, Any]:
    """The defaults of :class:`genre_core.training.classic.ClassicConfig`, declared there only."""
    from genre_core.training.classic import ClassicConfig

    return {f.name: f.default for f in fields(ClassicConfig)}


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
    from genre_core.models.classical import MODEL_NAMES
    from genre_core.training.classic import DATASETS

    default = _defaults()
    data = parser.add_argument_group("data (one of --data or --audio-dir)")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="GTZAN features_30_sec.csv (filename, length, 57 features, label)")
    source.add_argument("--audio-dir", type=Path, help="audio corpus to featurise with gtzan57 (see --dataset)")
    data.add_argument("--dataset", choices=DATASETS, default=default["dataset"],
                      help="layout of --audio-dir: gtzan, fma (with --metadata) or folder "
                           "(one sub-folder per label; default %(default)s)")
    data.add_argument("--metadata", type=Path, help="FMA tracks.csv or fma_metadata folder")
    data.add_argument("--split-dir", type=Path,
                      help="train.txt/valid.txt/test.txt track lists, e.g. GTZAN's fault-filtered split")
    data.add_argument("--source", choices=("real", "synthetic"), default=default["source"],
                      help="what the audio is, recorded in the cards (default %(default)s)")
    data.add_argument("--clip-seconds", type=float, default=default["clip_seconds"],
                      help="seconds of each audio file to featurise, like GTZAN's clips (default %(default)s)")

    fit = parser.add_argument_group("training")
    fit.add_argument("--models", type=_model_list, default=default["models"],
                     help=f"comma-separated subset of {','.join(MODEL_NAMES)} (default all)")
    fit.add_argument("--quick", action="store_true",
                     help="one hyperparameter setting per model and 5 dense epochs (smoke test)")
    fit.add_argument("--folds", type=_positive_int, default=default["folds"],
                     help="cross-validation folds (default %(default)s; fewer if a label has fewer tracks)")
    fit.add_argument("--no-cv", dest="cv", action="store_false", help="skip the cross-validation protocol")
    fit.add_argument("--seed", type=int, default=default["seed"], help="default %(default)s")
    fit.add_argument("--n-jobs", type=_positive_int, default=default["n_jobs"],
                     help="parallel fits in the searches (default %(default)s)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", type=Path, default=default["out"], help="models folder (default: the repo's models/)")
    output.add_argument("--prefix", help="model folder prefix (default: gtzan, fma or folder)")


def run(args: argparse.Namespace) -> int:
    """Train, evaluate and ship as ``args`` say; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from genre_core.training.classic import ClassicConfig, summary_table, train_classic

    values = {f.name: getattr(args, f.name) for f in fields(ClassicConfig) if f.name != "command"}
    started = time.perf_counter()
    try:
        cards = train_classic(ClassicConfig(**values, command=getattr(args, "command_line", None)))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary_table(cards))
    print(f"\nwrote {len(cards)} model(s) to {Path(args.out).resolve()} in {time.perf_counter() - started:.0f} s")
    return 0
