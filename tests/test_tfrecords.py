"""TFRecord featurisation and reading: exact round trip, shard names, corruption, splits."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from genre_core.config import FMA_SMALL_GENRES, SAMPLE_RATE
from genre_core.features import deep_input, deep_input_shape
from genre_core.synth import STYLES, render_track, synth_tracks
from genre_core.training.tfrecords import (
    make_dataset,
    parse_shard_name,
    read_manifest,
    scan_records,
    shard_files,
    write_tfrecords,
)
from genre_core.windows import segment_signal
from tests._shared_data import FMA_SMALL, require

KINDS = ["raw", "mfcc", "mel"]
DURATION = 4.0  # two 3-s segments per track: [0, 3] and the tail-aligned [1, 4]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return synth_tracks(3, seed=5)


@pytest.fixture(scope="module")
def records(tmp_path_factory, table) -> str:
    out = str(tmp_path_factory.mktemp("tfr"))
    write_tfrecords(table, out, KINDS, labels=STYLES, synthetic_duration=DURATION,
                    shards={"train": 3, "valid": 2, "test": 1}, progress=False)
    return out


def _read_all(directory: str, split: str, kind: str):
    dataset, stats = make_dataset(directory, split, kind, batch_size=5, training=False, with_track_id=True)
    xs, ys, ids = [], [], []
    for x, y, t in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
        ids.extend(v.decode() for v in t)
    return np.concatenate(xs), np.concatenate(ys), ids, stats


def test_segment_signal_pads_short_clips_and_covers_the_tail():
    sr = SAMPLE_RATE
    windows, segments = segment_signal(np.ones(sr, dtype=np.float32), sr, 3.0)
    assert windows == [(0.0, 1.0)]
    assert len(segments[0]) == 3 * sr and segments[0][sr:].max() == 0.0 and segments[0][:sr].min() == 1.0

    # Slightly longer than one segment: two full-length segments, never one long one.
    windows, segments = segment_signal(np.ones(int(3.2 * sr), dtype=np.float32), sr, 3.0)
    assert [len(s) for s in segments] == [3 * sr, 3 * sr] and windows[1][1] == pytest.approx(3.2)

    y = np.arange(int(7.5 * sr), dtype=np.float32)
    windows, segments = segment_signal(y, sr, 3.0)
    assert [w[0] for w in windows] == [0.0, 3.0, 4.5]
    assert windows[-1][1] == pytest.approx(7.5)
    np.testing.assert_array_equal(segments[-1], y[-3 * sr:])


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_is_exact(records, table, kind):
    x, y, ids, stats = _read_all(records, "test", kind)
    test_rows = table[table["split"] == "test"]
    assert stats.n_corrupt == 0 and stats.n_ok == len(x) == 2 * len(test_rows)
    assert x.shape[1:] == deep_input_shape(kind, 3.0)
    for row in test_rows.to_dict("records"):
        _, segments = segment_signal(render_track(row, DURATION, SAMPLE_RATE), SAMPLE_RATE, 3.0)
        expected = np.stack([deep_input(kind, s, SAMPLE_RATE) for s in segments])
        mine = np.array([t == row["track_id"] for t in ids])
        # exact: the writer ran the same deep_input calls on the same segments in this process, and
        # float32 bytes round-trip exactly
        np.testing.assert_array_equal(x[mine], expected)
        assert set(y[mine]) == {STYLES.index(row["label"])}


def test_shard_names_carry_record_counts(records):
    manifest = read_manifest(records)
    for split, n_shards in (("train", 3), ("valid", 2), ("test", 1)):
        files = shard_files(records, split)
        assert len(files) == n_shards
        total = 0
        for path in files:
            info = parse_shard_name(path)
            assert info["split"] == split and info["total"] == n_shards
            n_ok, n_corrupt = scan_records([path], "mel", manifest["shapes"]["mel"])
            assert (n_ok, n_corrupt) == (info["count"], 0)
            total += info["count"]
        assert total == manifest["counts"][split]["segments"]


def test_manifest_describes_the_records(records, table):
    manifest = read_manifest(records)
    assert manifest["kinds"] == KINDS
    assert manifest["labels"] == list(STYLES)
    assert manifest["segment_seconds"] == 3.0
    assert manifest["shapes"]["mel"] == list(deep_input_shape("mel", 3.0))
    for split in ("train", "valid", "test"):
        assert sorted(manifest["track_ids"][split]) == sorted(table.loc[table["split"] == split, "track_id"])


def test_no_track_is_in_two_splits(records):
    seen = {}
    for split in ("train", "valid", "test"):
        _, _, ids, _ = _read_all(records, split, "mfcc")
        seen[split] = set(ids)
    assert not (seen["train"] & seen["valid"]) and not (seen["train"] & seen["test"])
    assert not (seen["valid"] & seen["test"])


def test_leaking_split_is_refused(tmp_path, table):
    leaky = pd.concat([table.iloc[:3], table.iloc[:1].assign(split="test", seed=99)])
    leaky = leaky.assign(split=["train", "train", "valid", "test"])
    with pytest.raises(ValueError, match="more than one split"):
        write_tfrecords(leaky, str(tmp_path), ["mfcc"], synthetic_duration=DURATION, progress=False)


def test_missing_split_column_gets_a_stratified_split(tmp_path):
    table = synth_tracks(5, seed=1, styles=STYLES[:2]).drop(columns=["split"])
    manifest = write_tfrecords(table, str(tmp_path), ["raw"], synthetic_duration=3.0, progress=False)
    ids = manifest["track_ids"]
    assert sum(len(v) for v in ids.values()) == 10 and all(ids[s] for s in ("train", "valid", "test"))


def _copy(records: str, tmp_path) -> str:
    target = tmp_path / "copy"
    shutil.copytree(records, target)
    return str(target)


def test_corrupted_bytes_are_counted_and_good_records_still_load(records, tmp_path):
    directory = _copy(records, tmp_path)
    path = shard_files(directory, "valid")[0]
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF  # inside a record's payload: its CRC no longer matches
    open(path, "wb").write(bytes(data))

    x, _, _, stats = _read_all(directory, "valid", "mel")
    expected = sum(parse_shard_name(f)["count"] for f in shard_files(directory, "valid"))
    assert stats.n_corrupt > 0
    assert stats.corrupt_files == [path]
    assert len(x) == stats.n_ok == expected - stats.n_corrupt
    assert len(x) >= parse_shard_name(shard_files(directory, "valid")[1])["count"]  # the intact shard


def test_truncated_shard_is_counted_in_training_mode(records, tmp_path):
    directory = _copy(records, tmp_path)
    path = shard_files(directory, "train")[0]
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) - 100])

    dataset, stats = make_dataset(directory, "train", "mfcc", batch_size=4, training=True)
    n_loaded = sum(len(y) for _, y in dataset.as_numpy_iterator())
    assert stats.n_corrupt == 1
    assert n_loaded == stats.n_ok == stats.n_expected - 1


def test_unknown_kind_and_missing_folder_fail_clearly(records, tmp_path):
    with pytest.raises(ValueError, match="mel_image"):
        make_dataset(records, "train", "mel_image", 4, training=False)
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        make_dataset(str(tmp_path), "train", "mel", 4, training=False)


def test_augmented_training_pipeline_keeps_shapes(records):
    dataset, _ = make_dataset(records, "train", "mel", batch_size=4, training=True, augment=True, seed=3)
    x, y = next(iter(dataset))
    assert tuple(x.shape[1:]) == deep_input_shape("mel", 3.0)
    assert float(np.mean(np.asarray(x) == 0.0)) > 0.0  # masked cells are silence (0)


def test_unreadable_audio_is_skipped_and_counted(tmp_path):
    import soundfile as sf

    rows = []
    for label in ("a", "b"):
        for i in range(3):
            path = tmp_path / "audio" / label / f"{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, 0.1 * np.random.default_rng(i).standard_normal(3 * SAMPLE_RATE), SAMPLE_RATE)
            rows.append({"track_id": f"{label}/{i}", "path": str(path), "label": label,
                         "split": ["train", "valid", "test"][i]})
    (tmp_path / "audio" / "a" / "1.wav").write_bytes(b"RIFF0000WAVEjunk")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = write_tfrecords(pd.DataFrame(rows), str(tmp_path / "tfr"), ["mfcc"], progress=False)
    assert manifest["n_skipped_tracks"] == 1 and manifest["skipped_tracks"][0]["track_id"] == "a/1"
    assert any("a/1" in str(w.message) for w in caught)
    assert manifest["counts"]["valid"]["tracks"] == 1


def _write_fma_tracks_csv(path, audio_ids):
    """A small tracks.csv in FMA's real format: two header rows plus the track_id row."""
    genres = {2: "Hip-Hop", 10: "Pop", 140: "Folk", 1040: "Rock", 1066: "Electronic", 1082: "International"}
    splits = {2: "training", 10: "training", 140: "training", 1040: "validation", 1066: "test", 1082: "training"}
    columns = pd.MultiIndex.from_tuples([("set", "split"), ("set", "subset"), ("track", "genre_top"),
                                         ("track", "title")])
    frame = pd.DataFrame([[splits[i], "small", genres[i], f"title {i}"] for i in audio_ids],
                         index=pd.Index(audio_ids, name="track_id"), columns=columns)
    frame.to_csv(path)


def test_real_fma_mp3s_featurise_through_tracks_csv(tmp_path):
    from genre_core.datasets import fma_tracks

    audio_dir = require(FMA_SMALL)
    csv_path = tmp_path / "tracks.csv"
    _write_fma_tracks_csv(csv_path, [2, 10, 140, 1040, 1066, 1082])
    assert open(csv_path).read().splitlines()[2].startswith("track_id")
    table = fma_tracks(csv_path, audio_dir)
    manifest = write_tfrecords(table, str(tmp_path / "tfr"), ["mel"], labels=FMA_SMALL_GENRES, progress=False)
    assert manifest["n_skipped_tracks"] == 0
    assert {s: c["tracks"] for s, c in manifest["counts"].items()} == {"train": 4, "valid": 1, "test": 1}
    x, y, ids, stats = _read_all(str(tmp_path / "tfr"), "test", "mel")
    assert set(ids) == {"001066"} and set(y) == {FMA_SMALL_GENRES.index("Electronic")}
    assert stats.n_corrupt == 0 and x.shape == (manifest["counts"]["test"]["segments"], *deep_input_shape("mel", 3.0))
    assert np.all(np.isfinite(x)) and x.max() <= 1.0 and x.min() >= 0.0
    assert json.loads((tmp_path / "tfr" / "manifest.json").read_text())["labels"] == list(FMA_SMALL_GENRES)
