"""genre_core: audio → features → models → predictions for music genre classification."""

from __future__ import annotations

__version__ = "0.1.0"
