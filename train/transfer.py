"""A genre head on a pretrained tagger's embeddings (transfer learning).

Embeds every track once (3 s patches through the tagger, cached as TFRecords
and reused), fits a logistic regression (C tuned by CV grouped by track, on
training data only) or a small dense net, scores it per patch and per track
under the dataset's protocol, and writes models/<name>/model.keras + card.json.

examples:
  python -m train transfer --dataset gtzan --data-dir /data/gtzan \\
      --split-dir /data/gtzan/splits/fault_filtered --backbone msd_musicnn
  python -m train transfer --dataset fma --data-dir /data/fma --backbone msd_vgg --head dense
  python -m train transfer --dataset folder --data-dir ~/my_music --layer pooled
"""

from __future__ import annotations

import argparse
import sys

from genre_core.training.configs import TransferConfig, cli_fields

from ._flags import add_config_arguments, config_values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`genre_core.training.configs.TransferConfig` field."""
    add_config_arguments(parser, cli_fields(TransferConfig))


def run(args: argparse.Namespace) -> int:
    """Train and save; print a summary, or one ``error: ...`` line on a bad option or dataset."""
    from genre_core.errors import GenreLabError
    from genre_core.training.transfer import train_transfer

    values = config_values(args, cli_fields(TransferConfig))
    config = TransferConfig(**values, command=getattr(args, "command_line", None))
    try:
        card = train_transfer(config)
    except GenreLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {config.out}/{card['name']} ({card['size_bytes'] / 1e6:.1f} MB)")
    for key, scores in card["metrics"].items():
        print(f"  {key:<30} accuracy {scores['accuracy']:.3f}  macro-F1 {scores['macro_f1']:.3f}  (n={scores['n']})")
    return 0
