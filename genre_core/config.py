"""Project-wide constants shared by every stage of the pipeline."""

from __future__ import annotations

from pathlib import Path

#: Sample rate every clip is resampled to; GTZAN's native rate and librosa's default.
SAMPLE_RATE: int = 22050

#: The ten GTZAN genres, in the order used for label indices.
GTZAN_GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)

#: The eight FMA-small top-level genres.
FMA_SMALL_GENRES: tuple[str, ...] = (
    "Electronic", "Experimental", "Folk", "Hip-Hop",
    "Instrumental", "International", "Pop", "Rock",
)

#: Repository root and the folder of shipped models.
PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
MODELS_DIR: Path = PROJECT_ROOT / "models"

#: Where the shared real data lives, beside the checkout (absent on a fresh clone).
SHARED_DATA_DIR: Path = PROJECT_ROOT.parent / "shared" / "data"
