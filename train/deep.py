"""``python -m train deep``: train a deep architecture and write its model card.

Examples
--------
Synthetic styles, no data needed::

    python -m train deep --model crnn --dataset synthetic --epochs 10

GTZAN audio with the fault-filtered split::

    python -m train deep --model crnn --dataset gtzan --data-dir data/gtzan \\
        --split-dir data/gtzan/splits/fault_filtered

Kill it and continue where it stopped::

    python -m train deep --model crnn --dataset synthetic --epochs 10 --resume
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from genre_core.training.configs import DeepTrainingConfig, cli_fields

from ._flags import add_config_arguments, config_values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`~genre_core.training.configs.DeepTrainingConfig` field (no TensorFlow import)."""
    add_config_arguments(parser, cli_fields(DeepTrainingConfig))


def config_from_args(args: argparse.Namespace) -> DeepTrainingConfig:
    """The :class:`~genre_core.training.configs.DeepTrainingConfig` of parsed arguments."""
    return DeepTrainingConfig(**config_values(args, cli_fields(DeepTrainingConfig)))


def _print_summary(card: dict) -> None:
    print(f"\nsaved {card['name']} ({card['size_bytes'] / 1e6:.1f} MB) with {card['training']['strategy']} "
          f"on {card['training']['replicas']} replica(s), {card['training']['samples_per_s']} samples/s")
    for level in ("test_segment", "test_track"):
        result = card.get("metrics", {}).get(level)
        if result:
            print(f"  {level:<13} accuracy {result['accuracy']:.3f}  macro-F1 {result['macro_f1']:.3f}")
    if card["training"]["corrupt_records"]:
        print(f"  skipped {card['training']['corrupt_records']} corrupt TFRecord record(s)")


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    from genre_core.training.deep import train_deep
    from genre_core.errors import WeightsUnavailableError

    config = config_from_args(args)
    try:
        card = train_deep(config)
    except (ValueError, FileNotFoundError, WeightsUnavailableError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_summary(card)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m train.deep``)."""
    parser = argparse.ArgumentParser(prog="python -m train deep", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
