"""GTZAN: the audio folder and the pre-computed 57-feature CSVs.

Audio layouts accepted by :func:`gtzan_audio_tracks`:

* ``<root>/genres/<genre>/<genre>.NNNNN.au`` (the original Marsyas archive),
* ``<root>/genres_original/<genre>/<genre>.NNNNN.wav`` (the Kaggle copy),
* either of those with ``root`` pointing at the ``genres*`` folder itself,
* a flat folder of ``<genre>.NNNNN.wav`` files.

The feature CSVs (Kaggle's ``features_30_sec.csv`` and ``features_3_sec.csv``)
have columns ``filename, length, <57 features>, label``.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import GTZAN_GENRES
from .table import make_track_table

#: Tracks of the real corpus that cannot be decoded.
GTZAN_BROKEN_TRACKS: frozenset[str] = frozenset({"jazz.00054"})
#: Folder names that hold one sub-folder per genre.
_GENRE_PARENTS: tuple[str, ...] = ("genres", "genres_original")
_AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".au")
_TRACK_NAME = re.compile(r"^(?P<genre>[a-z]+)\.(?P<number>\d{5})$")
# 30-s CSV: blues.00000.au / .wav; 3-s CSV: blues.00000.3.wav (segment index before the extension).
_CSV_FILENAME = re.compile(
    r"^(?P<track>[a-z]+\.\d{5})(?:\.(?P<segment>\d+))?\.(?:au|wav)$"
)


def _genre_root(root: Path) -> Path:
    for name in _GENRE_PARENTS:
        if (root / name).is_dir():
            return root / name
    return root


def _candidate_files(folder: Path) -> list[Path]:
    """Audio files directly in ``folder`` and one level below (one folder per genre)."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.extend(
                p for p in sorted(entry.iterdir())
                if p.is_file() and p.suffix.lower() in _AUDIO_EXTENSIONS
            )
        elif entry.is_file() and entry.suffix.lower() in _AUDIO_EXTENSIONS:
            found.append(entry)
    return found


def gtzan_audio_tracks(root: str | os.PathLike) -> pd.DataFrame:
    """List the tracks of a GTZAN audio folder.

    Parameters
    ----------
    root : path
        The folder that contains ``genres/`` (or ``genres_original/``), that
        folder itself, or a flat folder of ``<genre>.NNNNN.wav`` files.

    Returns
    -------
    pandas.DataFrame
        Track table with ``track_id`` (``blues.00000``), ``path``, ``label``,
        sorted by track id.  ``jazz.00054`` is skipped with a warning because
        it is unreadable in the real corpus.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        If no GTZAN-named audio file is found.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"GTZAN audio folder not found: {root}")
    folder = _genre_root(root)
    records: dict[str, dict[str, object]] = {}
    unnamed: list[str] = []
    misplaced: list[str] = []
    for path in _candidate_files(folder):
        match = _TRACK_NAME.match(path.stem)
        if match is None or match["genre"] not in GTZAN_GENRES:
            unnamed.append(path.name)
            continue
        if path.parent != folder and path.parent.name != match["genre"]:
            misplaced.append(f"{path.parent.name}/{path.name}")
            continue
        track_id = path.stem
        # The original archive is .au and converted copies are .wav; keep one per track.
        if track_id in records and path.suffix.lower() != ".wav":
            continue
        records[track_id] = {"track_id": track_id, "path": str(path.absolute()), "label": match["genre"]}
    if unnamed:
        warnings.warn(
            f"Ignored {len(unnamed)} audio file(s) not named <genre>.NNNNN with a GTZAN genre "
            f"in {folder} (first: {', '.join(unnamed[:3])}).",
            stacklevel=2,
        )
    if misplaced:
        warnings.warn(
            f"Ignored {len(misplaced)} file(s) whose folder does not match their genre "
            f"(first: {', '.join(misplaced[:3])}).",
            stacklevel=2,
        )
    broken = sorted(GTZAN_BROKEN_TRACKS & records.keys())
    if broken:
        warnings.warn(
            f"Skipped known-unreadable GTZAN track(s): {', '.join(broken)}.", stacklevel=2
        )
        for track_id in broken:
            del records[track_id]
    if not records:
        raise ValueError(
            f"No GTZAN audio found in {root}: expected genres/<genre>/<genre>.NNNNN.wav (or .au) "
            "or a flat folder of <genre>.NNNNN.wav files."
        )
    return make_track_table(records[k] for k in sorted(records))


def _feature_names() -> tuple[str, ...]:
    # Imported here so that listing datasets does not pull in librosa.
    from ..features import FEATURE_NAMES_GTZAN57

    return FEATURE_NAMES_GTZAN57


def gtzan_feature_table(csv_path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load a GTZAN feature CSV (30-second or 3-second variant).

    Parameters
    ----------
    csv_path : path
        ``features_30_sec.csv`` or ``features_3_sec.csv`` (columns
        ``filename, length, <57 features>, label``).

    Returns
    -------
    X : pandas.DataFrame
        The 57 feature columns, float64, in
        :data:`genre_core.features.FEATURE_NAMES_GTZAN57` order (the CSV order).
    table : pandas.DataFrame
        Track table aligned row-for-row with ``X``: ``track_id`` (``blues.00000``),
        ``path`` (None), ``label``, ``filename``, ``length`` when present, and
        ``segment`` (int) for the 3-second variant, whose rows share their
        track's id so that splits stay at track level.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        On missing columns, non-numeric or missing (NaN) feature values,
        unparseable file names or duplicate rows.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"GTZAN feature CSV not found: {csv_path}")
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{csv_path.name}: not a readable CSV file ({exc})") from None
    feature_names = list(_feature_names())
    missing = [c for c in ("filename", *feature_names, "label") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{csv_path.name}: missing {len(missing)} expected column(s): {', '.join(missing)}"
        )
    if frame.empty:
        raise ValueError(f"{csv_path.name}: the CSV has no rows")

    features = frame[feature_names].apply(pd.to_numeric, errors="coerce")
    bad = features.isna() & frame[feature_names].notna()
    if bad.any().any():
        column = bad.any()[lambda s: s].index[0]
        raise ValueError(f"{csv_path.name}: column {column!r} has non-numeric values")
    _raise_on_missing_values(csv_path.name, features, frame["filename"])
    if frame["label"].isna().any():
        raise ValueError(f"{csv_path.name}: {int(frame['label'].isna().sum())} row(s) have no label")

    parsed = frame["filename"].astype(str).str.extract(_CSV_FILENAME)
    unparsed = parsed["track"].isna()
    if unparsed.any():
        raise ValueError(
            f"{csv_path.name}: {int(unparsed.sum())} file name(s) are not like "
            f"'blues.00000.au' or 'blues.00000.0.wav' (first: {frame['filename'][unparsed].iloc[0]!r})"
        )
    table = pd.DataFrame({
        "track_id": parsed["track"].astype(str),
        "path": None,
        "label": frame["label"].astype(str),
        "filename": frame["filename"].astype(str),
    })
    if "length" in frame.columns:
        table["length"] = frame["length"]
    if parsed["segment"].notna().any():
        if parsed["segment"].isna().any():
            raise ValueError(f"{csv_path.name}: mixes whole-track and per-segment file names")
        table["segment"] = parsed["segment"].astype(int)
    key = ["track_id", "segment"] if "segment" in table.columns else ["track_id"]
    duplicated = table.duplicated(subset=key)
    if duplicated.any():
        raise ValueError(
            f"{csv_path.name}: {int(duplicated.sum())} duplicate row(s) "
            f"(first: {table.loc[duplicated, 'filename'].iloc[0]!r})"
        )
    return features.astype(np.float64), table


def _raise_on_missing_values(name: str, features: pd.DataFrame, filenames: pd.Series) -> None:
    values = features.to_numpy(dtype=np.float64)
    bad_rows = ~np.isfinite(values).all(axis=1)
    if bad_rows.any():
        row = int(np.flatnonzero(bad_rows)[0])
        columns = features.columns[~np.isfinite(values[row])].tolist()
        raise ValueError(
            f"{name}: {int(bad_rows.sum())} row(s) have missing (NaN) or infinite feature values "
            f"(first: {filenames.iloc[row]!r} in {', '.join(columns)})"
        )
