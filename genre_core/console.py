"""The ``genre-lab`` console command: ``genre-lab predict|features|models|train ...``.

``genre-lab train ...`` is ``python -m train ...``; every other sub-command is
``python -m genre_core ...``.  Installed by ``pip install -e .`` (``make run``
and ``make test`` do it).

Examples
--------
>>> main(["models", "--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the training CLI (``train``) or the library CLI (everything else)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from train.__main__ import main as train_main

        return train_main(argv[1:])
    from .cli import main as library_main

    return library_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
