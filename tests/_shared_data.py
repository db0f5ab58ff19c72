"""Locate the real data beside the checkout; tests skip cleanly without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from genre_core.config import SHARED_DATA_DIR

GTZAN_DIR = SHARED_DATA_DIR / "gtzan"
GTZAN_CSV = GTZAN_DIR / "features_30_sec.csv"
GTZAN_AUDIO = GTZAN_DIR / "audio"
GTZAN_SPLITS = GTZAN_DIR / "splits" / "fault_filtered"
FMA_SMALL = SHARED_DATA_DIR / "fma_small"
REAL_SONGS = SHARED_DATA_DIR / "real_songs"
GTZAN_CLIPS = ("blues", "classical", "country", "disco", "hiphop")


def require(path: Path) -> Path:
    """Return ``path`` or skip the test, naming what is missing and why."""
    if not path.exists():
        pytest.skip(f"{path} is absent: real data lives in ../shared/data, which a fresh clone does not have")
    return path
