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
from dataclasses import MISSING, Field
from typing import Any


def _argument(option: Field) -> tuple[str, dict[str, Any]]:
    """The flag and ``add_argument`` keywords of one config field (its default, type and help)."""
    flag = "--" + option.name.replace("_", "-")
    kwargs: dict[str, Any] = {"help": option.metadata["help"]}
    if "choices" in option.metadata:
        kwargs["choices"] = option.metadata["choices"]
    if option.default is MISSING:
        kwargs["required"] = True
        kwargs["type"] = option.metadata.get("type", str)
        return flag, kwargs
    default = option.default
    kwargs["default"] = default
    if isinstance(default, bool):
        kwargs["action"] = argparse.BooleanOptionalAction
    elif isinstance(default, tuple):
        kwargs.update(nargs="+", type=type(default[0]), metavar=option.name.upper().removesuffix("_GRID"))
    else:
        kwargs["type"] = option.metadata.get("type", type(default))
    if "action" not in kwargs:
        kwargs["help"] += " (default: %(default)s)"
    return flag, kwargs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`genre_core.training.transfer.TransferConfig` field."""
    from genre_core.training.transfer import config_fields

    for option in config_fields():
        flag, kwargs = _argument(option)
        parser.add_argument(flag, **kwargs)


def run(args: argparse.Namespace) -> int:
    """Train and save; print a summary, or one ``error: ...`` line on a bad option or dataset."""
    from genre_core.errors import GenreLabError
    from genre_core.training.transfer import TransferConfig, config_fields, train_transfer

    values = {f.name: getattr(args, f.name) for f in config_fields()}
    values["c_grid"] = tuple(values["c_grid"])
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
