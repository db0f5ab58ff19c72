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
from pathlib import Path


def _model_list(text: str) -> list[str]:
    """``--models logreg,svm``: known names, in order, without repeats."""
    from genre_core.models.classical import MODEL_NAMES

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; choose from {','.join(MODEL_NAMES)}"
        )
    return list(dict.fromkeys(names))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`genre_core.training.classic.ClassicConfig` field."""
    from genre_core.training.classic import ClassicConfig
    from genre_core.training.configs import cli_fields

    from ._flags import add_config_arguments

    add_config_arguments(parser, cli_fields(ClassicConfig), parsers={"models": _model_list})


def run(args: argparse.Namespace) -> int:
    """Train, evaluate and ship as ``args`` say; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from genre_core.training.classic import ClassicConfig, summary_table, train_classic
    from genre_core.training.configs import cli_fields

    from ._flags import config_values

    values = config_values(args, cli_fields(ClassicConfig))
    started = time.perf_counter()
    try:
        cards = train_classic(ClassicConfig(**values, command=getattr(args, "command_line", None)))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary_table(cards))
    print(f"\nwrote {len(cards)} model(s) to {Path(args.out).resolve()} in {time.perf_counter() - started:.0f} s")
    return 0
