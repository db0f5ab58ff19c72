"""Train/valid/test splits and cross-validation folds, always at track level.

Segment tables (several rows per ``track_id``) are split by track, never by
row: segments of one song in both train and test would inflate test accuracy
by letting the model recognise the recording rather than the genre.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from .table import SPLITS, validate_track_table

#: List files of a split directory, in split order.
SPLIT_FILES: dict[str, str] = {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"}


def _track_labels(table: pd.DataFrame) -> pd.Series:
    """One label per track, indexed by track id, in order of first appearance."""
    validate_track_table(table)
    return table.drop_duplicates("track_id").set_index("track_id")["label"]


def _with_split(table: pd.DataFrame, split_of_track: pd.Series) -> pd.DataFrame:
    out = table.copy()
    out["split"] = out["track_id"].map(split_of_track)
    return out


def stratified_split(
    table: pd.DataFrame,
    fractions: tuple[float, float, float] = (0.64, 0.16, 0.20),
    seed: int = 0,
) -> pd.DataFrame:
    """Random train/valid/test split of tracks, stratified by label.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table; several rows may share a ``track_id`` (segments).
    fractions : (train, valid, test)
        Fractions of tracks, summing to 1; ``valid`` may be 0.
    seed : int
        Random seed; the same seed gives the same split.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with a ``split`` column (train/valid/test).

    Raises
    ------
    ValueError
        On bad fractions, or when a label has too few tracks to stratify.
    """
    train_f, valid_f, test_f = (float(f) for f in fractions)
    if min(train_f, valid_f, test_f) < 0 or train_f <= 0 or test_f <= 0 or not np.isclose(
        train_f + valid_f + test_f, 1.0
    ):
        raise ValueError(
            f"fractions must be (train > 0, valid >= 0, test > 0) summing to 1, got {tuple(fractions)}"
        )
    labels = _track_labels(table)
    tracks = labels.index.to_numpy()
    try:
        rest, test = train_test_split(
            tracks, test_size=test_f, stratify=labels.to_numpy(), random_state=seed
        )
        split_of_track = pd.Series("test", index=test)
        if valid_f > 0:
            train, valid = train_test_split(
                rest,
                test_size=valid_f / (train_f + valid_f),
                stratify=labels.loc[rest].to_numpy(),
                random_state=seed,
            )
            split_of_track = pd.concat([split_of_track, pd.Series("valid", index=valid)])
        else:
            train = rest
    except ValueError as exc:
        counts = labels.value_counts()
        raise ValueError(
            f"cannot make a stratified {train_f:g}/{valid_f:g}/{test_f:g} split of {len(tracks)} "
            f"tracks (fewest tracks: {counts.min()} for label {counts.idxmin()!r}): {exc}"
        ) from None
    split_of_track = pd.concat([split_of_track, pd.Series("train", index=train)])
    return _with_split(table, split_of_track)


def kfold_splits(
    table: pd.DataFrame, n_splits: int = 10, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold cross-validation folds grouped by track.

    Tracks (not rows) are dealt into folds with
    :class:`sklearn.model_selection.StratifiedKFold`; every row of a track
    follows it, so segments of one track are never on both sides of a fold.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table, possibly with several rows per ``track_id``.
    n_splits : int
        Number of folds.
    seed : int
        Shuffling seed; the same seed gives the same folds.

    Returns
    -------
    list of (train_idx, test_idx)
        Sorted integer row positions into ``table`` (use with ``.iloc``).
    """
    labels = _track_labels(table)
    counts = labels.value_counts()
    if n_splits < 2 or counts.min() < n_splits:
        raise ValueError(
            f"cannot make {n_splits} stratified folds: need n_splits >= 2 and at least n_splits "
            f"tracks per label (fewest: {counts.min()} for label {counts.idxmin()!r})"
        )
    folder = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    row_track = table["track_id"].to_numpy()
    tracks = labels.index.to_numpy()
    folds = []
    for _, test_tracks in folder.split(tracks, labels.to_numpy()):
        in_test = np.isin(row_track, tracks[test_tracks])
        folds.append((np.flatnonzero(~in_test), np.flatnonzero(in_test)))
    return folds


def _read_split_list(path: Path) -> list[str]:
    """Track ids from a list file of lines like ``blues/blues.00012.wav``."""
    ids = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ids.append(Path(line.replace("\\", "/")).name.rsplit(".", 1)[0])
    return ids


def fault_filtered_split(table: pd.DataFrame, split_dir: str | os.PathLike) -> pd.DataFrame:
    """Assign splits from ``train.txt``/``valid.txt``/``test.txt`` list files.

    This is how the artist-filtered "fault-filtered" GTZAN split (Kereliuk et
    al., 2015; 443/197/290 tracks) is distributed.

    Parameters
    ----------
    table : pandas.DataFrame
        GTZAN track table (track ids like ``blues.00012``).
    split_dir : path
        Folder with the three list files (lines like ``blues/blues.00012.wav``).

    Returns
    -------
    pandas.DataFrame
        The rows of ``table`` whose track is in a list, with a ``split``
        column; tracks in no list (70 of GTZAN's 1000) are dropped.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the list files is missing.
    ValueError
        If a track is in two lists, or no track of ``table`` is listed.
    """
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise FileNotFoundError(f"split folder not found: {split_dir}")
    missing = [name for name in SPLIT_FILES.values() if not (split_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"split folder {split_dir} lacks {', '.join(missing)}")
    validate_track_table(table)
    split_of_track: dict[str, str] = {}
    for split, name in SPLIT_FILES.items():
        for track_id in _read_split_list(split_dir / name):
            previous = split_of_track.setdefault(track_id, split)
            if previous != split:
                raise ValueError(f"{split_dir}: track {track_id} is listed in both {previous} and {split}")
    out = _with_split(table, pd.Series(split_of_track, dtype=object))
    out = out[out["split"].notna()].reset_index(drop=True)
    if out.empty:
        raise ValueError(f"none of the table's tracks appears in the lists in {split_dir}")
    return out


def official_split(table: pd.DataFrame) -> pd.DataFrame:
    """Keep a dataset's own split (FMA's ``split`` column), after checking it.

    Raises
    ------
    ValueError
        If there is no ``split`` column, a value is not train/valid/test, or a
        track appears in two splits.
    """
    if "split" not in table.columns:
        raise ValueError(
            "this table has no 'split' column: official_split needs a dataset that ships "
            "its own split (e.g. FMA); use stratified_split otherwise"
        )
    bad = ~table["split"].isin(SPLITS)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} row(s) have a split other than {', '.join(SPLITS)} "
            f"(first: {table.loc[bad, 'split'].iloc[0]!r})"
        )
    check_no_leakage(table)
    return table.copy()


def check_no_leakage(table: pd.DataFrame) -> None:
    """Raise if any track has rows in more than one split.

    Raises
    ------
    ValueError
        Naming the leaking tracks.
    """
    if "split" not in table.columns:
        raise ValueError("the table has no 'split' column to check")
    splits_per_track = table.groupby("track_id", sort=False)["split"].nunique()
    leaking = splits_per_track[splits_per_track > 1].index.tolist()
    if leaking:
        raise ValueError(
            f"{len(leaking)} track(s) appear in more than one split "
            f"(first: {', '.join(map(str, leaking[:5]))})"
        )
