"""Fixtures shared by the app tests (AppTest and browser)."""

from __future__ import annotations

import os

import pytest

# TensorFlow would otherwise start one thread per core per op pool; the test
# machine is shared.  Must be set before TensorFlow is first imported.
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# aiortc's SRTP library crashes the interpreter if loaded after TensorFlow; the
# app tests open the Live page (streamlit-webrtc) after other tests loaded
# TensorFlow, so load it first, for the whole session.
from genre_core.live import preload_webrtc  # noqa: E402

preload_webrtc()


@pytest.fixture(scope="session")
def song_wav_bytes() -> bytes:
    """A 30 s synthesised song as 16-bit WAV bytes (what a user would upload)."""
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip

    return write_wav_bytes(synth_clip("four-on-the-floor", seed=11, duration=30.0), 22050)


@pytest.fixture(scope="session")
def real_song_path():
    """A real 30 s GTZAN clip from ../shared/data, or None on a fresh clone."""
    from genre_core.config import SHARED_DATA_DIR

    path = SHARED_DATA_DIR / "gtzan" / "audio" / "disco.00000.wav"
    return path if path.exists() else None



@pytest.fixture(scope="session", autouse=True)
def gtzan_training_fingerprints():
    """Write the GTZAN models' training fingerprints from ../shared/data when the table is there.

    The fingerprint is the standardised GTZAN-57 table itself, so it is derived from the corpus
    and never committed (.gitignore); the app's training-track check needs it.  Without the table
    the tests that need it skip, naming it.
    """
    from genre_core.config import MODELS_DIR, SHARED_DATA_DIR
    from genre_core.training import fingerprints

    table = SHARED_DATA_DIR / "gtzan" / "features_30_sec.csv"
    if table.exists() and not list(MODELS_DIR.glob("gtzan_*/training_fingerprint.npz")):
        fingerprints.main(["--data", str(table), "--models", str(MODELS_DIR)])
