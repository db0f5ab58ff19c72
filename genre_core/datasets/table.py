"""The track table: the one shape every dataset loader returns.

A track table is a :class:`pandas.DataFrame` with one row per track (or per
segment of a track, when a ``segment`` column is present) and at least the
columns ``track_id`` (str), ``path`` (str, or None for feature-only tables) and
``label`` (str).  An optional ``split`` column holds ``train``/``valid``/``test``.
Training code only ever sees this shape, so every dataset is handled alike.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

#: Columns every track table has, in this order.
TRACK_COLUMNS: tuple[str, ...] = ("track_id", "path", "label")
#: Allowed values of the ``split`` column.
SPLITS: tuple[str, ...] = ("train", "valid", "test")


def make_track_table(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Build a track table from row dictionaries, core columns first.

    Parameters
    ----------
    records : iterable of mappings
        Each has at least ``track_id``, ``path`` and ``label``.

    Returns
    -------
    pandas.DataFrame
    """
    table = pd.DataFrame.from_records(list(records))
    if table.empty:
        return pd.DataFrame(columns=list(TRACK_COLUMNS))
    extra = [c for c in table.columns if c not in TRACK_COLUMNS]
    table = table[[*TRACK_COLUMNS, *extra]]
    return table.reset_index(drop=True)


def validate_track_table(table: pd.DataFrame) -> None:
    """Check that ``table`` is a usable track table.

    Track ids must be unique, unless a ``segment`` column says a track has
    several rows; then each (track_id, segment) pair must be unique and all
    segments of a track must share its label.

    Raises
    ------
    ValueError
        Naming the first problem found.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"a track table must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in ("track_id", "label") if c not in table.columns]
    if missing:
        raise ValueError(f"track table is missing column(s): {', '.join(missing)}")
    if table.empty:
        raise ValueError("track table has no rows")
    for column in ("track_id", "label"):
        if table[column].isna().any():
            raise ValueError(f"track table has empty values in column {column!r}")
    key = ["track_id", "segment"] if "segment" in table.columns else ["track_id"]
    duplicated = table.duplicated(subset=key)
    if duplicated.any():
        first = table.loc[duplicated, "track_id"].iloc[0]
        raise ValueError(
            f"track table has {int(duplicated.sum())} duplicate row(s) for {'/'.join(key)} "
            f"(first: {first!r})"
        )
    labels_per_track = table.groupby("track_id", sort=False)["label"].nunique()
    conflicting = labels_per_track[labels_per_track > 1]
    if len(conflicting):
        raise ValueError(
            f"{len(conflicting)} track(s) have rows with different labels "
            f"(first: {conflicting.index[0]!r})"
        )
