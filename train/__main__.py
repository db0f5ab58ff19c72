"""``python -m train {classic,deep} ...``: the training entry points.

Each sub-command lives in its own module (``train/classic.py``,
``train/deep.py``) exposing ``add_arguments(parser)`` and ``run(args)``.
Only the chosen module is imported, so one sub-command works even when the
other's dependencies are broken.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from collections.abc import Sequence
from types import ModuleType

#: Sub-command → (module, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "classic": ("train.classic", "feature models (logreg, kNN, naive Bayes, SVM, ensemble, dense net)"),
    "deep": ("train.deep", "deep models on raw audio, MFCCs or mel spectrograms"),
    "import-musicnn": ("train.import_musicnn", "convert the pretrained musicnn / VGG taggers (MSD, MTT)"),
    "transfer": ("train.transfer", "a genre head on a pretrained tagger's embeddings"),
}


def _module(command: str) -> ModuleType:
    name = COMMANDS[command][0]
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SystemExit(f"error: 'python -m train {command}' is unavailable: cannot import {name} ({exc})") from None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s options are added (its module is imported)."""
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    for name, (_, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == command:
            module = _module(name)
            sub_parser.description = (module.__doc__ or help_text).strip()
            module.add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the sub-command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if a in COMMANDS), None)
    args = build_parser(command).parse_args(argv)
    # The exact command line, for model cards.
    args.command_line = shlex.join(["python", "-m", "train", *argv])
    return int(_module(args.subcommand).run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
