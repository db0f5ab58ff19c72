"""``python -m train import-musicnn``: convert the pretrained musicnn / VGG taggers into ``models/``.

Needs the ``musicnn`` package installed without its dependencies (its metadata
pins numpy<1.17)::

    pip install --no-deps musicnn==0.1.0
    python -m train import-musicnn --out models
    python -m train import-musicnn --out models --only msd_vgg --musicnn-dir /path/to/site-packages/musicnn
"""

from __future__ import annotations

import argparse
import sys

TAGGER_NAMES: tuple[str, ...] = ("msd_musicnn", "msd_vgg", "mtt_musicnn", "mtt_vgg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-command's options."""
    parser.add_argument("--out", default="models", help="folder to write <name>/model.keras and card.json into")
    parser.add_argument("--only", nargs="+", choices=TAGGER_NAMES, help="convert only these taggers")
    parser.add_argument("--musicnn-dir", help="the musicnn package folder (default: the installed package)")


def run(args: argparse.Namespace) -> int:
    """Convert and report each model folder written."""
    from genre_core.errors import GenreLabError
    from genre_core.training.import_musicnn import import_all

    try:
        written = import_all(args.out, args.only, args.musicnn_dir, command=args.command_line)
    except GenreLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0
