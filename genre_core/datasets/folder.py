"""A user's own music: one sub-folder per label (``root/<label>/**/<file>``)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..audio import SUPPORTED_EXTENSIONS
from .table import make_track_table


def audio_files(folder: Path, extensions: frozenset[str]) -> list[Path]:
    """Audio files under ``folder`` (any depth, hidden files and folders skipped), sorted."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in extensions
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def folder_tracks(
    root: str | os.PathLike,
    extensions: Iterable[str] = SUPPORTED_EXTENSIONS,
) -> pd.DataFrame:
    """Track table of a folder-per-label music collection.

    Parameters
    ----------
    root : path
        Folder whose sub-folders are labels (``root/rock/song.mp3``); files may
        sit deeper, e.g. ``root/rock/album/song.mp3``.  Hidden files and folders
        are ignored.
    extensions : iterable of str
        File extensions counted as audio (case-insensitive, with the dot).

    Returns
    -------
    pandas.DataFrame
        Track table with ``track_id`` (the path relative to ``root``, e.g.
        ``rock/album/song.mp3``), ``path``, ``label``, sorted by track id.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If there is no audio, or fewer than two labels have audio.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"music folder not found: {root}")
    wanted = frozenset(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    loose = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in wanted]
    if loose:
        warnings.warn(
            f"Ignored {len(loose)} audio file(s) directly in {root}: put each file in a "
            f"sub-folder named after its label (first: {', '.join(sorted(loose)[:3])}).",
            stacklevel=2,
        )
    records = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in audio_files(label_dir, wanted):
            records.append({
                # The extension stays in the id: song.mp3 and song.wav are two tracks.
                "track_id": path.relative_to(root).as_posix(),
                "path": str(path.absolute()),
                "label": label_dir.name,
            })
    table = make_track_table(records)
    if table.empty:
        raise ValueError(
            f"No audio files ({', '.join(sorted(wanted))}) found in the sub-folders of {root}; "
            "expected one sub-folder per label, e.g. rock/song.mp3."
        )
    labels = sorted(table["label"].unique())
    if len(labels) < 2:
        raise ValueError(
            f"{root} has audio for only {len(labels)} label ({', '.join(labels)}); "
            "a classifier needs at least 2 label sub-folders."
        )
    return table
