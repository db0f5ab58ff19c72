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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genre_core.training.deep import DeepTrainingConfig

# Literals rather than imports: building the parser (and --help) must not load TensorFlow.
DEFAULT_SEGMENT_SECONDS: float = 3.0
ARCHITECTURE_NAMES: tuple[str, ...] = ("cnn1d_raw", "mfcc_dense", "mobilenet_v2", "crnn", "parallel_cnn_rnn")
DATASETS: tuple[str, ...] = ("gtzan", "fma", "folder", "synthetic")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``python -m train deep`` to ``parser``."""
    data = parser.add_argument_group("data")
    data.add_argument("--model", required=True, choices=ARCHITECTURE_NAMES, help="architecture to train")
    data.add_argument("--dataset", required=True, choices=DATASETS,
                      help="gtzan (audio folder), fma, folder (one sub-folder per label) or synthetic")
    data.add_argument("--data-dir", help="dataset location (not needed for synthetic)")
    data.add_argument("--split-dir", help="folder with train.txt/valid.txt/test.txt track lists "
                      "(e.g. GTZAN's fault-filtered split); default: the dataset's own split, else stratified")
    data.add_argument("--metadata", help="FMA tracks.csv (then --data-dir is the audio folder)")
    data.add_argument("--tfrecords", help="TFRecord folder to reuse or write (default logs/<name>/tfrecords)")
    data.add_argument("--segment-seconds", type=_positive_float, default=DEFAULT_SEGMENT_SECONDS,
                      help="segment length in seconds; hop = segment (default %(default)s)")
    data.add_argument("--synthetic-per-style", type=_positive_int, default=40,
                      help="synthetic tracks per style (default %(default)s)")
    data.add_argument("--synthetic-duration", type=_positive_float, default=10.0,
                      help="seconds per synthetic track (default %(default)s)")
    data.add_argument("--shards", type=_positive_int, default=4, help="training TFRecord shards (default %(default)s)")

    fit = parser.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive_int, default=20, help="default %(default)s")
    fit.add_argument("--batch-size", type=_positive_int, default=32,
                     help="per replica; the global batch scales with replicas (default %(default)s)")
    fit.add_argument("--learning-rate", type=_positive_float, help="default: the architecture's")
    fit.add_argument("--patience", type=_positive_int, default=5,
                     help="early-stopping patience in epochs (default %(default)s)")
    fit.add_argument("--steps-per-epoch", type=_positive_int, help="limit each epoch (smoke tests)")
    fit.add_argument("--augment", action="store_true", help="SpecAugment masks on mel inputs")
    fit.add_argument("--resume", action="store_true", help="continue an interrupted run from its last epoch")
    fit.add_argument("--no-pretrained", dest="pretrained", action="store_false",
                     help="mobilenet_v2: random initialisation instead of ImageNet weights")
    fit.add_argument("--alpha", type=_positive_float, default=1.0, help="mobilenet_v2 width multiplier")
    fit.add_argument("--fine-tune-from", type=int, help="mobilenet_v2: train base layers from this index on")
    fit.add_argument("--seed", type=int, default=0, help="default %(default)s")

    hardware = parser.add_argument_group("hardware")
    hardware.add_argument("--tpu", help="TPU name or address ('local' on a TPU VM)")
    hardware.add_argument("--cpu-replicas", type=int, default=0,
                          help="without accelerators, split the CPU into N logical replicas "
                               "(shows data parallelism with MirroredStrategy)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", default="models", help="models folder (default %(default)s)")
    output.add_argument("--name", help="model name (default <dataset>_<model>)")
    output.add_argument("--logdir", default="logs", help="TensorBoard logs and backups (default %(default)s)")
    output.add_argument("--note", dest="notes", action="append", default=[], help="a line for the card's notes")
    output.add_argument("--verbose", type=int, choices=(0, 1, 2), help="Keras verbosity (default: bar on a tty)")


def config_from_args(args: argparse.Namespace) -> DeepTrainingConfig:
    """The :class:`~genre_core.training.deep.DeepTrainingConfig` of parsed arguments."""
    from genre_core.training.deep import DeepTrainingConfig

    return DeepTrainingConfig(
        model=args.model, dataset=args.dataset, data_dir=args.data_dir, tfrecords=args.tfrecords,
        epochs=args.epochs, batch_size=args.batch_size, segment_seconds=args.segment_seconds,
        resume=args.resume, pretrained=args.pretrained, fine_tune_from=args.fine_tune_from, alpha=args.alpha,
        augment=args.augment, out=args.out, name=args.name, synthetic_per_style=args.synthetic_per_style,
        synthetic_duration=args.synthetic_duration, seed=args.seed, logdir=args.logdir,
        learning_rate=args.learning_rate, patience=args.patience, steps_per_epoch=args.steps_per_epoch,
        split_dir=args.split_dir, metadata=args.metadata, shards=args.shards, cpu_replicas=args.cpu_replicas,
        tpu=args.tpu, notes=list(args.notes), verbose=args.verbose,
    )


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
