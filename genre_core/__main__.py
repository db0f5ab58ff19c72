"""``python -m genre_core``: see :mod:`genre_core.cli`."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
