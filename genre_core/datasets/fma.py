"""FMA (Free Music Archive): track tables from ``fma_metadata/tracks.csv``.

``tracks.csv`` has a two-row column header (level 0: ``album``, ``artist``,
``set``, ``track``; level 1: field names) followed by a ``track_id`` row that
names the index.  Only a handful of its ~50 columns are needed, so the header is
read first and then only those columns are parsed.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd


#: FMA subsets, smallest first; each contains the ones before it.
FMA_SUBSETS: tuple[str, ...] = ("small", "medium", "large")
#: FMA-small tracks whose mp3 holds no usable audio (documented in the FMA repository).
FMA_BROKEN_TRACKS: frozenset[int] = frozenset({99134, 108925, 133297})
#: tracks.csv split names → track-table split names.
_SPLIT_NAMES: dict[str, str] = {"training": "train", "validation": "valid", "test": "test"}
_REQUIRED = {("track", "genre_top"): "label", ("set", "subset"): "subset", ("set", "split"): "split"}
_OPTIONAL = {("track", "title"): "title", ("artist", "name"): "artist", ("artist", "id"): "artist_id"}


def fma_audio_path(audio_dir: str | os.PathLike, track_id: int) -> Path:
    """Path of a track's mp3: ``audio_dir/NNN/NNNNNN.mp3`` (6 digits, folder = first 3)."""
    name = f"{int(track_id):06d}"
    return Path(audio_dir) / name[:3] / f"{name}.mp3"


def _tracks_csv(metadata: Path) -> Path:
    if metadata.is_file():
        return metadata
    for candidate in (metadata / "tracks.csv", metadata / "fma_metadata" / "tracks.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"FMA metadata not found: expected tracks.csv in {metadata} (from fma_metadata.zip)"
    )


def read_fma_tracks_csv(tracks_csv: str | os.PathLike) -> pd.DataFrame:
    """Read the columns of ``tracks.csv`` needed for genre classification.

    Parameters
    ----------
    tracks_csv : path
        FMA's ``tracks.csv`` in its original multi-row-header format.

    Returns
    -------
    pandas.DataFrame
        Indexed by integer track id, with columns ``label`` (genre_top),
        ``subset``, ``split`` and, where present, ``title``, ``artist``,
        ``artist_id``.

    Raises
    ------
    ValueError
        If the file does not have the (track, genre_top), (set, subset) and
        (set, split) columns.
    """
    tracks_csv = Path(tracks_csv)
    try:
        header = pd.read_csv(tracks_csv, header=[0, 1], index_col=0, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, IndexError) as exc:
        raise ValueError(
            f"{tracks_csv.name}: not an FMA tracks.csv with a two-row header ({exc})"
        ) from None
    columns = list(header.columns)
    missing = [f"({a}, {b})" for a, b in _REQUIRED if (a, b) not in columns]
    if missing:
        raise ValueError(
            f"{tracks_csv.name}: not an FMA tracks.csv, missing column(s) {', '.join(missing)}"
        )
    wanted = {**_REQUIRED, **{k: v for k, v in _OPTIONAL.items() if k in columns}}
    positions = [columns.index(key) + 1 for key in wanted]  # +1: the index column comes first
    # pandas cannot combine usecols with a multi-row header, so skip the header
    # lines (two, plus the 'track_id' index-name row when present) and name columns here.
    n_header_lines = 3 if header.index.name is not None else 2
    body = pd.read_csv(
        tracks_csv,
        header=None,
        skiprows=n_header_lines,
        usecols=[0, *positions],
        index_col=0,
        dtype={0: "int64", **{p: str for p in positions}},
    )
    body = body[positions]
    body.columns = list(wanted.values())
    body.index.name = "track_id"
    return body


def fma_tracks(
    metadata: str | os.PathLike,
    audio_dir: str | os.PathLike,
    subset: str = "small",
) -> pd.DataFrame:
    """Track table of an FMA subset, with FMA's official splits.

    Parameters
    ----------
    metadata : path
        ``tracks.csv`` itself, the ``fma_metadata`` folder, or its parent.
    audio_dir : path
        Folder of the subset's audio (``fma_small/`` etc.), laid out as
        ``NNN/NNNNNN.mp3``.
    subset : {"small", "medium", "large"}
        Subsets nest: "medium" includes the small tracks, "large" all tracks.

    Returns
    -------
    pandas.DataFrame
        Track table: ``track_id`` (six-digit string, ``"000002"``), ``path``,
        ``label`` (genre_top), ``split`` (train/valid/test), ``fma_id`` (int),
        ``subset`` and, where present, ``title``, ``artist``, ``artist_id``.
        Tracks without a top genre are dropped; known-broken tracks and tracks
        whose mp3 is missing are skipped with a warning.

    Raises
    ------
    FileNotFoundError
        If tracks.csv or ``audio_dir`` is missing.
    ValueError
        On an unknown subset, a malformed tracks.csv or an empty result.
    """
    if subset not in FMA_SUBSETS:
        raise ValueError(f"unknown FMA subset {subset!r}; choose one of {', '.join(FMA_SUBSETS)}")
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise FileNotFoundError(f"FMA audio folder not found: {audio_dir}")
    tracks_csv = _tracks_csv(Path(metadata))
    tracks = read_fma_tracks_csv(tracks_csv)

    allowed = FMA_SUBSETS[: FMA_SUBSETS.index(subset) + 1]
    tracks = tracks[tracks["subset"].isin(allowed) & tracks["label"].notna()]
    unknown_split = ~tracks["split"].isin(_SPLIT_NAMES.keys())
    if unknown_split.any():
        raise ValueError(
            f"{tracks_csv.name}: {int(unknown_split.sum())} track(s) have a (set, split) value other "
            f"than {', '.join(_SPLIT_NAMES)} (first: track {tracks.index[unknown_split][0]})"
        )

    broken = sorted(FMA_BROKEN_TRACKS & set(tracks.index))
    if broken:
        warnings.warn(
            f"Skipped {len(broken)} known-broken FMA track(s) without usable audio: "
            f"{', '.join(map(str, broken))}.",
            stacklevel=2,
        )
        tracks = tracks.drop(index=broken)

    paths = [fma_audio_path(audio_dir, fma_id) for fma_id in tracks.index]
    on_disk = pd.Series([p.is_file() for p in paths], index=tracks.index)
    absent = tracks.index[~on_disk.to_numpy()].tolist()
    n_checked = len(tracks)
    tracks = tracks[on_disk]
    table = pd.DataFrame({
        "track_id": [f"{fma_id:06d}" for fma_id in tracks.index],
        "path": [str(p.absolute()) for p, ok in zip(paths, on_disk) if ok],
        "label": tracks["label"].to_numpy(),
        "split": tracks["split"].map(_SPLIT_NAMES).to_numpy(),
        "fma_id": tracks.index.to_numpy(dtype="int64"),
        **{c: tracks[c].to_numpy() for c in tracks.columns if c not in ("label", "split")},
    })
    if absent:
        warnings.warn(
            f"Skipped {len(absent)} FMA track(s) whose mp3 is missing under {audio_dir} "
            f"(first: {', '.join(map(str, absent[:5]))}).",
            stacklevel=2,
        )
    if table.empty:
        raise ValueError(
            f"No FMA-{subset} track with audio found: checked {n_checked} track(s) from "
            f"{tracks_csv} against {audio_dir}"
        )
    return table
