"""Tests for genre_core.datasets: loaders return track tables, splits never leak tracks."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genre_core.config import GTZAN_GENRES, SHARED_DATA_DIR
from genre_core.datasets import (
    check_no_leakage,
    fault_filtered_split,
    fma_audio_path,
    fma_tracks,
    folder_tracks,
    gtzan_audio_tracks,
    gtzan_feature_table,
    kfold_splits,
    load_dataset,
    official_split,
    read_fma_tracks_csv,
    stratified_split,
    validate_track_table,
)

GTZAN_DIR = SHARED_DATA_DIR / "gtzan"
GTZAN_CSV = GTZAN_DIR / "features_30_sec.csv"
GTZAN_CLIPS = GTZAN_DIR / "audio"
FAULT_FILTERED = GTZAN_DIR / "splits" / "fault_filtered"
FMA_AUDIO = SHARED_DATA_DIR / "fma_small"

#: The six real FMA-small clips in ../shared/data and their genre_top.
FMA_REAL = {
    2: "Hip-Hop", 10: "Pop", 140: "Folk",
    1040: "Rock", 1066: "Electronic", 1082: "International",
}

needs_shared = pytest.mark.skipif(
    not SHARED_DATA_DIR.is_dir(), reason="../shared/data absent (fresh clone)"
)


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name}: ../shared/data absent (fresh clone)")
    return path


# --------------------------------------------------------------------------- GTZAN features CSV

@pytest.fixture(scope="module")
def gtzan_csv():
    return gtzan_feature_table(_require(GTZAN_CSV))


def test_gtzan_csv_loads_1000_by_57_balanced(gtzan_csv):
    from genre_core.features import FEATURE_NAMES_GTZAN57

    X, table = gtzan_csv
    assert X.shape == (1000, 57)
    assert list(X.columns) == list(FEATURE_NAMES_GTZAN57)
    # The CSV's own column order (filename, length, 57 features, label) is the canonical order.
    header = pd.read_csv(GTZAN_CSV, nrows=0).columns.tolist()
    assert header[2:-1] == list(X.columns)
    assert X.dtypes.eq(np.float64).all() and np.isfinite(X.to_numpy()).all()
    assert len(table) == 1000 and table.index.equals(X.index)
    assert table["track_id"].is_unique
    assert table["label"].value_counts().to_dict() == {g: 100 for g in GTZAN_GENRES}
    assert table.loc[0, "track_id"] == "blues.00000" and table.loc[0, "filename"] == "blues.00000.au"
    assert table["path"].isna().all()
    assert (table["track_id"].str.split(".").str[0] == table["label"]).all()
    validate_track_table(table)


def test_gtzan_csv_3_second_variant_keeps_track_ids(tmp_path, gtzan_csv):
    X, table = gtzan_csv
    rows = pd.read_csv(GTZAN_CSV).head(3)
    segments = pd.concat([rows.assign(filename=rows["filename"].str.replace(".au", f".{k}.wav"))
                          for k in range(3)], ignore_index=True)
    segments.to_csv(tmp_path / "features_3_sec.csv", index=False)
    X3, table3 = gtzan_feature_table(tmp_path / "features_3_sec.csv")
    assert X3.shape == (9, 57)
    assert sorted(table3["segment"].unique()) == [0, 1, 2]
    assert set(table3["track_id"]) == set(table["track_id"].head(3))
    assert (table3.groupby("track_id").size() == 3).all()
    validate_track_table(table3)


def test_gtzan_csv_missing_columns_are_named(tmp_path):
    frame = pd.read_csv(_require(GTZAN_CSV)).drop(columns=["tempo", "mfcc20_var"])
    frame.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="tempo, mfcc20_var"):
        gtzan_feature_table(tmp_path / "bad.csv")


def test_gtzan_csv_nan_is_reported(tmp_path):
    frame = pd.read_csv(_require(GTZAN_CSV))
    frame.loc[7, "rms_mean"] = np.nan
    frame.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(ValueError, match=r"NaN.*blues\.00007\.au.*rms_mean"):
        gtzan_feature_table(tmp_path / "nan.csv")


def test_gtzan_csv_missing_file():
    with pytest.raises(FileNotFoundError, match="not found"):
        gtzan_feature_table("/nonexistent/features_30_sec.csv")


# --------------------------------------------------------------------------- splits on real GTZAN

def test_fault_filtered_split_counts(gtzan_csv):
    _, table = gtzan_csv
    split = fault_filtered_split(table, _require(FAULT_FILTERED))
    assert split["split"].value_counts().to_dict() == {"train": 443, "valid": 197, "test": 290}
    assert len(table) - len(split) == 70
    assert split["track_id"].is_unique
    check_no_leakage(split)
    assert split.set_index("track_id").loc["blues.00000", "split"] == "valid"


def test_fault_filtered_split_errors(tmp_path, gtzan_csv):
    _, table = gtzan_csv
    with pytest.raises(FileNotFoundError, match="split folder not found"):
        fault_filtered_split(table, tmp_path / "nowhere")
    (tmp_path / "train.txt").write_text("blues/blues.00000.wav\n")
    (tmp_path / "valid.txt").write_text("blues/blues.00001.wav\n")
    with pytest.raises(FileNotFoundError, match="test.txt"):
        fault_filtered_split(table, tmp_path)
    (tmp_path / "test.txt").write_text("blues/blues.00000.wav\n")
    with pytest.raises(ValueError, match="both train and test"):
        fault_filtered_split(table, tmp_path)


def test_stratified_split_proportions_and_determinism(gtzan_csv):
    _, table = gtzan_csv
    split = stratified_split(table, seed=0)
    check_no_leakage(split)
    assert len(split) == len(table) and split["split"].notna().all()
    per_class = split.groupby(["label", "split"]).size().unstack()
    for name, fraction in (("train", 0.64), ("valid", 0.16), ("test", 0.20)):
        assert (per_class[name] - fraction * 100).abs().max() <= 1, per_class
    again = stratified_split(table, seed=0)
    other = stratified_split(table, seed=1)
    assert again["split"].equals(split["split"])
    assert not other["split"].equals(split["split"])
    assert "split" not in table.columns  # the input table is not modified


def test_kfold_folds_are_disjoint_and_cover_everything(gtzan_csv):
    _, table = gtzan_csv
    folds = kfold_splits(table, n_splits=10, seed=0)
    assert len(folds) == 10
    all_test = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(all_test), np.arange(len(table)))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == len(table)
        assert (table["label"].iloc[test].value_counts() == 10).all()
    again = kfold_splits(table, n_splits=10, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))


# --------------------------------------------------------------------------- segment tables

@pytest.fixture()
def segment_table():
    """Fabricated 3-s rows: 6 labels × 15 tracks × 10 segments, shuffled."""
    rows = [
        {"track_id": f"{label}.{n:05d}", "path": None, "label": label, "segment": s}
        for label in GTZAN_GENRES[:6] for n in range(15) for s in range(10)
    ]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_segment_split_never_leaks(segment_table):
    split = stratified_split(segment_table, fractions=(0.6, 0.2, 0.2), seed=4)
    check_no_leakage(split)
    assert split.groupby("track_id")["split"].nunique().max() == 1
    assert (split.groupby("track_id").size() == 10).all()
    tracks_per_split = split.drop_duplicates("track_id")["split"].value_counts()
    assert tracks_per_split.to_dict() == {"train": 54, "valid": 18, "test": 18}


def test_segment_kfold_never_leaks(segment_table):
    folds = kfold_splits(segment_table, n_splits=5, seed=2)
    ids = segment_table["track_id"].to_numpy()
    seen = []
    for train, test in folds:
        assert not set(ids[train]) & set(ids[test])
        assert test.size == 18 * 10  # 18 whole tracks of 10 segments each
        seen.append(test)
    assert np.array_equal(np.sort(np.concatenate(seen)), np.arange(len(segment_table)))


def test_check_no_leakage_raises_on_leak(segment_table):
    leaky = segment_table.assign(split="train")
    leaky.loc[leaky["track_id"] == "blues.00003", "split"] = ["train", "test"] * 5
    with pytest.raises(ValueError, match="blues.00003"):
        check_no_leakage(leaky)


def test_split_argument_errors(segment_table):
    with pytest.raises(ValueError, match="summing to 1"):
        stratified_split(segment_table, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="at least n_splits tracks per label"):
        kfold_splits(segment_table, n_splits=20)
    with pytest.raises(ValueError, match="no 'split' column"):
        official_split(segment_table)
    with pytest.raises(ValueError, match="split other than"):
        official_split(segment_table.assign(split="training"))


# --------------------------------------------------------------------------- FMA

TRACKS_CSV_HEADER = (
    ",album,album,artist,artist,set,set,track,track,track\n"
    ",comments,title,id,name,split,subset,genre_top,genres,title\n"
    "track_id,,,,,,,,,\n"
)


def _fma_row(tid, genre, split, subset, title="t"):
    return f'{tid},0,"Album, with comma",{tid + 100},Artist {tid},{split},{subset},{genre},[1],"{title}"\n'


def _write_tracks_csv(folder: Path) -> Path:
    """A tracks.csv in FMA's real header layout.

    The genres are the real genre_top of the six clips; their splits here are
    illustrative, chosen to exercise all three split names.
    """
    splits = ["training", "training", "validation", "test", "training", "training"]
    rows = [_fma_row(tid, genre, split, "small") for (tid, genre), split in zip(FMA_REAL.items(), splits)]
    rows[0] = _fma_row(2, "Hip-Hop", "training", "small", title="Food\nwith a line break")
    rows += [
        _fma_row(99134, "Experimental", "training", "small"),   # known broken
        _fma_row(5, "Hip-Hop", "training", "small"),            # mp3 missing on disk
        _fma_row(3, "Hip-Hop", "training", "medium"),           # not in small
        _fma_row(20, "", "training", "small"),                  # no genre_top
    ]
    metadata = folder / "fma_metadata"
    metadata.mkdir()
    (metadata / "tracks.csv").write_text(TRACKS_CSV_HEADER + "".join(rows))
    return metadata


def _fake_fma_audio(folder: Path, ids) -> Path:
    audio = folder / "fma_small"
    for tid in ids:
        path = fma_audio_path(audio, tid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ID3")
    return audio


def test_fma_audio_path_layout():
    assert fma_audio_path("/x", 2) == Path("/x/000/000002.mp3")
    assert fma_audio_path("/x", 133297) == Path("/x/133/133297.mp3")


def test_fma_tracks_small_filters_and_warns(tmp_path):
    metadata = _write_tracks_csv(tmp_path)
    audio = _fake_fma_audio(tmp_path, [*FMA_REAL, 99134, 3])
    with pytest.warns(UserWarning) as record:
        table = fma_tracks(metadata, audio, subset="small")
    messages = " | ".join(str(w.message) for w in record)
    assert "known-broken" in messages and "99134" in messages
    assert "mp3 is missing" in messages and "1 FMA track" in messages and "5" in messages
    assert table["fma_id"].tolist() == sorted(FMA_REAL)
    assert dict(zip(table["fma_id"], table["label"])) == FMA_REAL
    assert table["track_id"].tolist() == [f"{t:06d}" for t in sorted(FMA_REAL)]
    assert table["split"].tolist() == ["train", "train", "valid", "test", "train", "train"]
    assert all(Path(p).is_file() for p in table["path"])
    assert table.loc[0, "title"] == "Food\nwith a line break"
    assert table.loc[0, "artist"] == "Artist 2"
    validate_track_table(table)
    check_no_leakage(official_split(table))


def test_fma_column_read_matches_full_multiheader_read(tmp_path):
    tracks_csv = _write_tracks_csv(tmp_path) / "tracks.csv"
    reference = pd.read_csv(tracks_csv, header=[0, 1], index_col=0)
    ours = read_fma_tracks_csv(tracks_csv)
    assert ours.index.equals(reference.index)
    for column, name in [(("track", "genre_top"), "label"), (("set", "split"), "split"),
                         (("set", "subset"), "subset"), (("track", "title"), "title")]:
        assert ours[name].fillna("").tolist() == reference[column].fillna("").tolist()


def test_fma_medium_includes_small(tmp_path):
    metadata = _write_tracks_csv(tmp_path)
    audio = _fake_fma_audio(tmp_path, [*FMA_REAL, 3, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = fma_tracks(metadata / "tracks.csv", audio, subset="medium")
    assert sorted(table["fma_id"]) == sorted([*FMA_REAL, 3, 5])
    assert set(table["subset"]) == {"small", "medium"}


def test_fma_load_dataset_default_layout(tmp_path):
    _write_tracks_csv(tmp_path)
    _fake_fma_audio(tmp_path, FMA_REAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = load_dataset("fma", tmp_path)
    assert sorted(table["fma_id"]) == sorted(FMA_REAL)


def test_fma_errors(tmp_path):
    audio = _fake_fma_audio(tmp_path, FMA_REAL)
    with pytest.raises(FileNotFoundError, match="tracks.csv"):
        fma_tracks(tmp_path / "nothing", audio)
    with pytest.raises(ValueError, match="unknown FMA subset"):
        fma_tracks(tmp_path, audio, subset="tiny")
    bad = tmp_path / "tracks.csv"
    bad.write_text(",track\n,title\ntrack_id,\n2,x\n")
    with pytest.raises(ValueError, match=r"\(track, genre_top\)"):
        fma_tracks(bad, audio)


@needs_shared
def test_fma_real_clips_decode(tmp_path):
    from genre_core.audio import load_audio

    metadata = _write_tracks_csv(tmp_path)
    with pytest.warns(UserWarning):
        table = fma_tracks(metadata, _require(FMA_AUDIO), subset="small")
    assert dict(zip(table["fma_id"], table["label"])) == FMA_REAL
    clip = load_audio(table["path"].iloc[0], max_duration=5.0)
    assert clip.sample_rate == 22050 and clip.source_sample_rate == 44100
    assert clip.duration == pytest.approx(5.0, abs=0.05)


# --------------------------------------------------------------------------- GTZAN audio folder

def _gtzan_tree(tmp_path: Path) -> Path:
    clips = sorted(_require(GTZAN_CLIPS).glob("*.wav"))
    assert clips, "no GTZAN clips in ../shared/data/gtzan/audio"
    genres = tmp_path / "gtzan" / "genres"
    for clip in clips:
        genre = clip.name.split(".")[0]
        (genres / genre).mkdir(parents=True)
        os.symlink(clip, genres / genre / clip.name)
    (genres / "jazz").mkdir()
    os.symlink(clips[0], genres / "jazz" / "jazz.00054.wav")  # stands in for the unreadable track
    (genres / "blues" / "notes.txt").write_text("not audio")
    return tmp_path / "gtzan"


def test_gtzan_audio_tree(tmp_path):
    root = _gtzan_tree(tmp_path)
    expected = sorted(p.stem for p in GTZAN_CLIPS.glob("*.wav"))
    for where in (root, root / "genres"):
        with pytest.warns(UserWarning, match="jazz.00054"):
            table = gtzan_audio_tracks(where)
        assert table["track_id"].tolist() == expected
        assert (table["label"] == table["track_id"].str.split(".").str[0]).all()
        assert all(Path(p).is_file() for p in table["path"])
        validate_track_table(table)


@needs_shared
def test_gtzan_flat_shared_folder_and_split():
    from genre_core.audio import load_audio

    table = load_dataset("gtzan", _require(GTZAN_CLIPS))
    assert table["track_id"].tolist() == sorted(p.stem for p in GTZAN_CLIPS.glob("*.wav"))
    assert set(table["label"]) <= set(GTZAN_GENRES)
    clip = load_audio(table["path"].iloc[0], max_duration=4.0)
    assert clip.duration == pytest.approx(4.0, abs=0.01)
    split = fault_filtered_split(table, _require(FAULT_FILTERED))
    assert split.set_index("track_id").loc["blues.00000", "split"] == "valid"


def test_gtzan_audio_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        gtzan_audio_tracks(tmp_path / "missing")
    sf.write(tmp_path / "song.wav", np.zeros(100, dtype=np.float32), 22050)
    with pytest.warns(UserWarning, match="not named"), pytest.raises(ValueError, match="No GTZAN audio"):
        gtzan_audio_tracks(tmp_path)


# --------------------------------------------------------------------------- folder per label

def _tone(path: Path, freq: float, sr: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(sr // 4) / sr
    sf.write(path, (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


def test_folder_tracks(tmp_path):
    _tone(tmp_path / "rock" / "a.wav", 220)
    _tone(tmp_path / "rock" / "album" / "b.WAV", 330)
    _tone(tmp_path / "jazz" / "c.flac", 440)
    _tone(tmp_path / "jazz" / ".hidden.wav", 440)
    (tmp_path / "jazz" / "cover.jpg").write_bytes(b"\xff\xd8")
    table = load_dataset("folder", tmp_path)
    assert table["track_id"].tolist() == ["jazz/c.flac", "rock/a.wav", "rock/album/b.WAV"]
    assert table["label"].tolist() == ["jazz", "rock", "rock"]
    assert all(Path(p).is_file() for p in table["path"])
    (tmp_path / "jazz" / "d.mp3.txt").write_text("not audio")
    assert len(folder_tracks(tmp_path, extensions=("wav", ".FLAC"))) == 3
    with pytest.raises(ValueError, match="only 1 label"):
        folder_tracks(tmp_path, extensions=(".wav",))  # jazz has no wav, so one label is left


def test_folder_single_label_and_empty(tmp_path):
    _tone(tmp_path / "rock" / "a.wav", 220)
    _tone(tmp_path / "rock" / "b.wav", 330)
    with pytest.raises(ValueError, match="at least 2 label"):
        folder_tracks(tmp_path)
    empty = tmp_path / "empty"
    (empty / "pop").mkdir(parents=True)
    with pytest.raises(ValueError, match="No audio files"):
        folder_tracks(empty)
    with pytest.raises(FileNotFoundError):
        folder_tracks(tmp_path / "nope")


def test_load_dataset_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="gtzan-features"):
        load_dataset("mnist", tmp_path)


@needs_shared
def test_load_dataset_gtzan_features_folder():
    X, table = load_dataset("gtzan-features", GTZAN_DIR)
    assert X.shape == (1000, 57) and len(table) == 1000
