"""Datasets as track tables, and track-level splits.

Every loader returns a track table (see :mod:`genre_core.datasets.table`): a
DataFrame with ``track_id``, ``path`` and ``label`` columns, so training code
treats GTZAN, FMA and a user's own folder alike.

Examples
--------
>>> from genre_core.datasets import load_dataset, stratified_split
>>> table = load_dataset("folder", "my_music")          # doctest: +SKIP
>>> table = stratified_split(table, seed=0)              # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .fma import FMA_BROKEN_TRACKS, FMA_SUBSETS, fma_audio_path, fma_tracks, read_fma_tracks_csv
from .folder import folder_tracks
from .gtzan import GTZAN_BROKEN_TRACKS, gtzan_audio_tracks, gtzan_feature_table
from .splits import (
    check_no_leakage,
    fault_filtered_split,
    kfold_splits,
    official_split,
    stratified_split,
)
from .table import SPLITS, TRACK_COLUMNS, make_track_table, validate_track_table

#: Names accepted by :func:`load_dataset`.
DATASET_NAMES: tuple[str, ...] = ("gtzan", "gtzan-features", "fma", "folder")

__all__ = [
    "DATASET_NAMES", "FMA_BROKEN_TRACKS", "FMA_SUBSETS", "GTZAN_BROKEN_TRACKS", "SPLITS",
    "TRACK_COLUMNS", "check_no_leakage", "fault_filtered_split", "fma_audio_path", "fma_tracks",
    "folder_tracks", "gtzan_audio_tracks", "gtzan_feature_table", "kfold_splits", "load_dataset",
    "make_track_table", "official_split", "read_fma_tracks_csv", "stratified_split",
    "validate_track_table",
]


def _fma(data_dir: Path, audio_dir: str | os.PathLike | None = None, subset: str = "small",
         metadata: str | os.PathLike | None = None) -> pd.DataFrame:
    # The FMA archives unzip side by side: <data_dir>/fma_metadata and <data_dir>/fma_<subset>.
    if audio_dir is None:
        audio_dir = data_dir / f"fma_{subset}"
    return fma_tracks(metadata if metadata is not None else data_dir, audio_dir, subset=subset)


def _gtzan_features(data_dir: Path, csv_name: str = "features_30_sec.csv"):
    csv_path = data_dir if data_dir.is_file() else data_dir / csv_name
    return gtzan_feature_table(csv_path)


def load_dataset(name: str, data_dir: str | os.PathLike, **kwargs: Any) -> Any:
    """Load a dataset by name.

    Parameters
    ----------
    name : {"gtzan", "gtzan-features", "fma", "folder"}
        * ``"gtzan"``: :func:`gtzan_audio_tracks` on ``data_dir``.
        * ``"gtzan-features"``: :func:`gtzan_feature_table`; ``data_dir`` is the
          CSV or its folder (``csv_name="features_30_sec.csv"`` picks the file).
        * ``"fma"``: :func:`fma_tracks`; ``data_dir`` holds ``fma_metadata/``
          and ``fma_<subset>/`` unless ``metadata=`` / ``audio_dir=`` say
          otherwise; ``subset="small"``.
        * ``"folder"``: :func:`folder_tracks` (``extensions=`` optional).
    data_dir : path
        Where the dataset lives.
    **kwargs
        Passed on as described above.

    Returns
    -------
    pandas.DataFrame or (X, table)
        A track table; ``"gtzan-features"`` returns ``(X, table)``.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    loaders = {
        "gtzan": gtzan_audio_tracks,
        "gtzan-features": _gtzan_features,
        "fma": _fma,
        "folder": folder_tracks,
    }
    key = name.strip().lower()
    if key not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    return loaders[key](Path(data_dir), **kwargs)
