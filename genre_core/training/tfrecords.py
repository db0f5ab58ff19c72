"""Featurise a track table once into sharded TFRecords, and read them back fast.

Decoding audio and computing spectrograms for every example of every epoch
starves a training loop; writing the model inputs once to TFRecords turns an
epoch into sequential reads that ``tf.data`` parses in parallel.

Layout of a TFRecord folder::

    manifest.json
    train-00000-of-00004-n0123.tfrecord     # split, shard, shard count, records
    ...
    valid-00000-of-00001-n0040.tfrecord
    test-00000-of-00001-n0052.tfrecord

Each record is one segment of one track: a ``tf.train.Example`` with
``label`` (int64 index into the manifest's ``labels``), ``track_id`` (bytes),
``segment_index`` (int64) and, for each featurised kind, ``<kind>``: the
float32 array of :func:`genre_core.features.deep_input` as little-endian bytes.
The record count in each file name lets a reader know how many records a
damaged shard lost.  All file access goes through ``tf.io.gfile``, so the
folder may be a ``gs://`` path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.auto import tqdm

from ..audio import AudioError, load_audio
from ..config import SAMPLE_RATE, SEGMENT_SECONDS
from ..datasets import official_split, stratified_split
from ..datasets.table import SPLITS
from ..errors import UsageError
from ..features import DEEP_INPUT_KINDS, deep_input_shape, segment_inputs

logger = logging.getLogger(__name__)

MANIFEST_NAME: str = "manifest.json"
FORMAT_VERSION: int = 1
#: Shards per split; a few files let ``num_parallel_reads`` interleave reads.
DEFAULT_SHARDS: dict[str, int] = {"train": 4, "valid": 1, "test": 1}
_SHARD_NAME = re.compile(
    r"^(?P<split>[a-z]+)-(?P<index>\d{5})-of-(?P<total>\d{5})-n(?P<count>\d+)\.tfrecord$"
)
# Bytes, not float_list: decode_raw is a memcpy while float_list parsing is per value.
_ARRAY_DTYPE = np.dtype("<f4")


# --- writing --------------------------------------------------------------------------


def shard_file_name(split: str, index: int, total: int, count: int) -> str:
    """``<split>-<index>-of-<total>-n<count>.tfrecord``."""
    return f"{split}-{index:05d}-of-{total:05d}-n{count:04d}.tfrecord"


def parse_shard_name(name: str) -> dict[str, Any] | None:
    """Split, index, total and record count from a shard's file name (None if not one)."""
    match = _SHARD_NAME.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    return {"split": match["split"], "index": int(match["index"]),
            "total": int(match["total"]), "count": int(match["count"])}


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def serialize_example(arrays: dict[str, np.ndarray], label: int, track_id: str, segment_index: int) -> bytes:
    """One segment as a serialised ``tf.train.Example``."""
    features = {
        "label": _int_feature(label),
        "track_id": _bytes_feature(str(track_id).encode("utf-8")),
        "segment_index": _int_feature(segment_index),
    }
    for kind, array in arrays.items():
        features[kind] = _bytes_feature(np.ascontiguousarray(array, dtype=_ARRAY_DTYPE).tobytes())
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def assign_splits(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The table with a track-level ``split`` column (``stratified_split`` if it has none).

    Raises
    ------
    ValueError
        If a track id appears in two splits or a split value is unknown.
    """
    if "split" not in table.columns or table["split"].isna().all():
        return stratified_split(table.drop(columns=["split"], errors="ignore"), seed=seed)
    return official_split(table)


def table_fingerprint(
    table: pd.DataFrame, labels: Sequence[str], segment_seconds: float,
    sample_rate: int = SAMPLE_RATE, synthetic_duration: float | None = None,
) -> str:
    """A hash of what featurisation depends on: tracks, labels, splits and segmenting.

    Two tables with the same fingerprint give the same records, so a TFRecord
    folder can be reused when its manifest's fingerprint matches.  Paths are
    left out (the same dataset may sit elsewhere on another machine); synthetic
    tracks count their seeds and rendered duration.
    """
    columns = [c for c in ("track_id", "label", "split", "seed") if c in table.columns]
    rows = table[columns].astype(str).sort_values("track_id").to_numpy().tolist()
    synthetic = "path" not in table.columns or table["path"].isna().any()
    payload = {
        "rows": rows, "columns": columns, "labels": [str(label) for label in labels],
        "segment_seconds": float(segment_seconds), "sample_rate": int(sample_rate),
        "synthetic_duration": float(synthetic_duration) if synthetic and synthetic_duration else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def default_audio_loader(duration: float = 10.0, sample_rate: int = SAMPLE_RATE) -> Callable[[Any], np.ndarray]:
    """Audio of a table row: decoded from ``path``, or rendered by ``synth`` when path is None.

    ``duration`` applies to synthetic rows only.
    """

    def load(row: Any) -> np.ndarray:
        path = row.get("path") if hasattr(row, "get") else None
        if path is None or (isinstance(path, float) and np.isnan(path)):
            from ..synth import render_track

            return render_track(row, duration, sample_rate)
        return load_audio(path, sample_rate=sample_rate).samples

    return load


@dataclass
class ShardWriter:
    """Writes one split's shards under temporary names, renamed with counts on close."""

    directory: str
    split: str
    n_shards: int
    counts: list[int] = field(default_factory=list)
    writers: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counts = [0] * self.n_shards
        self.writers = [tf.io.TFRecordWriter(self._tmp(i)) for i in range(self.n_shards)]

    def _tmp(self, index: int) -> str:
        return _join(self.directory, f".{self.split}-{index:05d}.tfrecord.tmp")

    def write(self, shard: int, record: bytes) -> None:
        self.writers[shard].write(record)
        self.counts[shard] += 1

    def close(self) -> list[str]:
        names = []
        for i, writer in enumerate(self.writers):
            writer.close()
            name = shard_file_name(self.split, i, self.n_shards, self.counts[i])
            tf.io.gfile.rename(self._tmp(i), _join(self.directory, name), overwrite=True)
            names.append(name)
        return names


def write_tfrecords(
    table: pd.DataFrame,
    out_dir: str,
    kinds: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    segment_seconds: float = SEGMENT_SECONDS,
    sample_rate: int = SAMPLE_RATE,
    shards: dict[str, int] | int | None = None,
    audio_loader: Callable[[Any], np.ndarray] | None = None,
    synthetic_duration: float = 10.0,
    seed: int = 0,
    dataset_info: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Featurise every track of a table into sharded TFRecords plus a manifest.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table (``track_id``, ``path``, ``label``, optional ``split``;
        synthetic tables have ``path`` None and a ``seed`` column).
    out_dir : str
        Folder to write (local or ``gs://``); created if needed.
    kinds : sequence of str
        Deep-input kinds to store (``raw``, ``mfcc``, ``mel``, ``mel_image``).
    labels : sequence of str, optional
        Label order (class indices); default: sorted labels of the table.
    segment_seconds : float
        Segment length; hop = segment length.
    sample_rate : int
    shards : int or dict split -> int, optional
        Shards per split (default :data:`DEFAULT_SHARDS`), capped at the
        split's number of tracks.
    audio_loader : callable, optional
        ``row -> samples``; default :func:`default_audio_loader`.
    synthetic_duration : float
        Seconds rendered per synthetic track.
    seed : int
        Seed of the stratified split when the table has none.
    dataset_info : dict, optional
        Stored as the manifest's ``dataset`` entry (name, source, description).
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    dict
        The manifest (also written to ``out_dir/manifest.json``).

    Raises
    ------
    ValueError
        On an unknown kind, a label outside ``labels``, track leakage across
        splits, or when no track could be decoded.
    """
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in DEEP_INPUT_KINDS]
    if not kinds or unknown:
        raise ValueError(f"unknown deep input kind(s) {unknown or kinds}; choose from {DEEP_INPUT_KINDS}")
    if segment_seconds <= 0:
        raise ValueError(f"segment_seconds must be positive, got {segment_seconds}")
    table = assign_splits(table, seed=seed).reset_index(drop=True)
    labels = list(labels) if labels is not None else sorted(table["label"].astype(str).unique())
    label_index = {label: i for i, label in enumerate(labels)}
    missing = sorted(set(table["label"].astype(str)) - label_index.keys())
    if missing:
        raise ValueError(f"label(s) {missing} are not in the label list {labels}")
    loader = audio_loader or default_audio_loader(synthetic_duration, sample_rate)
    if isinstance(shards, int) or shards is None:
        shards = {s: (shards if isinstance(shards, int) else DEFAULT_SHARDS[s]) for s in SPLITS}

    shapes = {kind: list(deep_input_shape(kind, segment_seconds, sample_rate)) for kind in kinds}

    def encode(row: dict[str, Any]) -> list[dict[str, np.ndarray]]:
        _, inputs = segment_inputs(loader(row), sample_rate, segment_seconds, kinds)
        return [{kind: inputs[kind][i] for kind in kinds} for i in range(len(inputs[kinds[0]]))]

    files, counts, track_ids, skipped = write_split_shards(
        table, out_dir, shards, encode, label_index, description=f"featurising {'+'.join(kinds)}",
        progress=progress)
    manifest = {
        "format_version": FORMAT_VERSION,
        "kinds": kinds,
        "shapes": shapes,
        "dtype": "float32",
        "labels": labels,
        "segment_seconds": float(segment_seconds),
        "hop_seconds": float(segment_seconds),
        "sample_rate": int(sample_rate),
        "counts": counts,
        "files": files,
        "track_ids": track_ids,
        "skipped_tracks": skipped,
        "n_skipped_tracks": len(skipped),
        "fingerprint": table_fingerprint(table, labels, segment_seconds, sample_rate, synthetic_duration),
        "dataset": dict(dataset_info or {}),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_manifest(out_dir, manifest)
    if skipped:
        logger.warning("skipped %d unreadable track(s) of %d", len(skipped), len(table))
    return manifest


def write_split_shards(
    table: pd.DataFrame, out_dir: str, shards: dict[str, int],
    encode: Callable[[dict[str, Any]], Sequence[dict[str, np.ndarray]]], label_index: dict[str, int],
    *, description: str, progress: bool = True,
) -> tuple[dict[str, list[str]], dict[str, dict[str, int]], dict[str, list[str]], list[dict[str, str]]]:
    """Write every track's records into its split's shards; the one writing loop of deep inputs and embeddings.

    Stale ``*.tfrecord`` files in ``out_dir`` are removed first (they would be
    read alongside the new ones).  A track whose ``encode`` raises
    :class:`~genre_core.errors.AudioError` or ``ValueError`` is skipped with a
    warning and recorded.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table with ``track_id``, ``label`` and ``split``.
    out_dir : str
    shards : dict split -> int
        Shards per split, capped at the split's number of tracks.
    encode : callable
        ``row -> [{kind: array}, ...]``, one dict per segment (or patch) of the track.
    label_index : dict
        Label → class index stored in the records.
    description : str
        Label of the progress bar.
    progress : bool

    Returns
    -------
    files, counts, track_ids, skipped
        The manifest's entries of those names.

    Raises
    ------
    ValueError
        When no track could be encoded, or a track is in two splits.
    """
    tf.io.gfile.makedirs(out_dir)
    for old in tf.io.gfile.glob(_join(out_dir, "*.tfrecord")):
        tf.io.gfile.remove(old)
    files: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    track_ids: dict[str, list[str]] = {}
    skipped: list[dict[str, str]] = []
    bar = tqdm(total=len(table), desc=description, unit="track", disable=not progress)
    for split in SPLITS:
        rows = table[table["split"] == split]
        if rows.empty:
            continue
        writer = ShardWriter(out_dir, split, max(1, min(int(shards.get(split, 1)), len(rows))))
        written_tracks, n_segments = [], 0
        for k, row in enumerate(rows.to_dict("records")):
            bar.update(1)
            try:
                segments = encode(row)
            except (AudioError, ValueError) as exc:
                warnings.warn(f"skipped track {row['track_id']}: {exc}", stacklevel=3)
                skipped.append({"track_id": str(row["track_id"]), "split": split, "reason": str(exc)})
                continue
            for i, arrays in enumerate(segments):
                writer.write(k % writer.n_shards,
                             serialize_example(arrays, label_index[str(row["label"])], row["track_id"], i))
                n_segments += 1
            written_tracks.append(str(row["track_id"]))
        files[split] = writer.close()
        counts[split] = {"tracks": len(written_tracks), "segments": n_segments, "shards": writer.n_shards}
        track_ids[split] = written_tracks
    bar.close()
    if not any(c["segments"] for c in counts.values()):
        raise ValueError(f"no track of {len(table)} could be read (first problem: "
                         f"{skipped[0]['reason'] if skipped else 'empty table'})")
    assert_disjoint(track_ids)
    return files, counts, track_ids, skipped


def write_manifest(out_dir: str, manifest: dict[str, Any]) -> None:
    """Write ``out_dir/manifest.json`` (local or ``gs://``)."""
    with tf.io.gfile.GFile(_join(out_dir, MANIFEST_NAME), "w") as f:
        f.write(json.dumps(manifest, indent=1))


def assert_disjoint(track_ids: dict[str, Iterable[str]]) -> None:
    """Raise ``ValueError`` when a track id is in two splits (segments of one track must not leak)."""
    seen: dict[str, str] = {}
    for split, ids in track_ids.items():
        for track_id in ids:
            if seen.setdefault(track_id, split) != split:
                raise ValueError(f"track {track_id} is in both the {seen[track_id]} and {split} splits")


def read_manifest(tfrecord_dir: str) -> dict[str, Any]:
    """The manifest of a TFRecord folder.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``manifest.json``.
    """
    path = _join(tfrecord_dir, MANIFEST_NAME)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"no {MANIFEST_NAME} in {tfrecord_dir}: featurise the dataset first")
    with tf.io.gfile.GFile(path, "r") as f:
        return json.loads(f.read())


# --- reading --------------------------------------------------------------------------


def reusable_manifest(directory: str, why_not: Callable[[dict[str, Any]], str | None],
                      explicit: bool) -> dict[str, Any] | None:
    """The manifest of ``directory`` when its records serve this run, else None (write them anew).

    Parameters
    ----------
    directory : str
        The TFRecord folder; it may not exist yet.
    why_not : callable
        ``manifest -> reason`` the records cannot serve this run, or None when they can.
    explicit : bool
        The user named the folder (``--tfrecords``): it may be shared, so a
        mismatch is an error instead of an overwrite.

    Raises
    ------
    UsageError
        When an explicitly named folder holds other records.
    """
    try:
        manifest = read_manifest(directory)
    except FileNotFoundError:
        return None
    problem = why_not(manifest)
    if problem is None:
        logger.info("reusing the TFRecords in %s", directory)
        return manifest
    if explicit:
        raise UsageError(f"cannot use the TFRecords in {directory}: {problem}; write into another folder")
    logger.info("rewriting %s: %s", directory, problem)
    return None


@dataclass
class ReadStats:
    """What a validation pass over a split's shards found.

    Attributes
    ----------
    split, kind : str
    files : list of str
    n_expected : int
        Records the shard names promise.
    n_ok : int
        Records that pass the CRC and parse with the manifest's shape.
    n_corrupt : int
        Records lost to corruption: unparseable ones, plus those a damaged
        shard can no longer deliver (TFRecord readers stop at the first bad
        record of a file).
    corrupt_files : list of str
    """

    split: str
    kind: str
    files: list[str]
    n_expected: int
    n_ok: int
    n_corrupt: int
    corrupt_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def shard_files(tfrecord_dir: str, split: str) -> list[str]:
    """The split's shard files, sorted."""
    return sorted(tf.io.gfile.glob(_join(tfrecord_dir, f"{split}-*.tfrecord")))


def _record_ok(raw: bytes, kind: str | None, n_bytes: int | None) -> bool:
    try:
        example = tf.train.Example.FromString(raw)
    except Exception:  # noqa: BLE001 - protobuf raises its own DecodeError
        return False
    feature = example.features.feature
    if not {"label", "track_id"} <= set(feature.keys()):
        return False
    if len(feature["label"].int64_list.value) != 1 or len(feature["track_id"].bytes_list.value) != 1:
        return False
    if kind is None:
        return True
    values = feature[kind].bytes_list.value if kind in feature else []
    return len(values) == 1 and (n_bytes is None or len(values[0]) == n_bytes)


def scan_records(
    files: Sequence[str], kind: str | None = None, shape: Sequence[int] | None = None
) -> tuple[int, int]:
    """Count good and corrupt records of TFRecord files.

    Each file is read record by record; a CRC failure or truncation
    (``DataLossError``) ends that file, and the records its name promised but
    it could not deliver count as corrupt.  Records that pass the CRC but do not
    parse (or lack ``kind`` with ``shape``) count as corrupt too.

    Parameters
    ----------
    files : sequence of str
    kind : str, optional
        Feature that must be present.
    shape : sequence of int, optional
        Its array shape (checked by byte length).

    Returns
    -------
    n_ok, n_corrupt : int
    """
    n_ok, n_corrupt, _ = _scan(files, kind, shape)
    return n_ok, n_corrupt


def _scan(files: Sequence[str], kind: str | None, shape: Sequence[int] | None) -> tuple[int, int, list[str]]:
    n_bytes = int(np.prod(shape)) * _ARRAY_DTYPE.itemsize if shape is not None else None
    n_ok = n_corrupt = 0
    damaged = []
    for path in files:
        good = bad = 0
        failed = False
        try:
            for raw in tf.data.TFRecordDataset(path).as_numpy_iterator():
                if _record_ok(raw, kind, n_bytes):
                    good += 1
                else:
                    bad += 1
        except tf.errors.DataLossError:
            failed = True
        info = parse_shard_name(path)
        expected = info["count"] if info else good + bad
        # A DataLossError loses at least the record it hit.
        lost = max(expected - good - bad, 1 if failed else 0)
        if bad or lost:
            damaged.append(path)
            logger.warning("%s: %d corrupt record(s), %d good", path, bad + lost, good)
        n_ok += good
        n_corrupt += bad + lost
    return n_ok, n_corrupt, damaged


def _parser(kind: str, shape: Sequence[int], with_track_id: bool) -> Callable:
    spec = {
        kind: tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
        "track_id": tf.io.FixedLenFeature([], tf.string),
    }
    shape = [int(d) for d in shape]

    def parse(raw: tf.Tensor):
        example = tf.io.parse_single_example(raw, spec)
        x = tf.reshape(tf.io.decode_raw(example[kind], tf.float32, little_endian=True), shape)
        label = tf.cast(example["label"], tf.int32)
        if with_track_id:
            return x, label, example["track_id"]
        return x, label

    return parse


def _augment(ds: tf.data.Dataset, kind: str, seed: int) -> tf.data.Dataset:
    from .augment import with_spec_augment

    # Inputs are peak-relative dB in [0, 1]: 0 masks with silence.  A mel image
    # is (mels, time, 3), so its two mask widths are made equal.
    widths = {"time_width": 24, "freq_width": 24} if kind == "mel_image" else {}
    return with_spec_augment(ds, seed=seed, mask_value=0.0, **widths)


def make_dataset(
    tfrecord_dir: str,
    split: str,
    kind: str,
    batch_size: int,
    training: bool,
    cache: bool | str = True,
    augment: bool = False,
    seed: int = 0,
    with_track_id: bool = False,
    drop_remainder: bool = False,
    shuffle_buffer: int = 2048,
) -> tuple[tf.data.Dataset, ReadStats]:
    """A batched ``tf.data`` pipeline over one split's TFRecords.

    Parameters
    ----------
    tfrecord_dir : str
        Folder written by :func:`write_tfrecords`.
    split : {"train", "valid", "test"}
    kind : str
        The input kind to decode (must be in the manifest).
    batch_size : int
        Global batch size.
    training : bool
        Shuffle, allow non-deterministic order, and augment if asked.
    cache : bool or str
        Cache parsed examples in memory (True) or in this file (str).
    augment : bool
        SpecAugment time/frequency masks on ``mel``/``mel_image`` inputs (training only).
    seed : int
        Shuffle and augmentation seed.
    with_track_id : bool
        Yield ``(x, label, track_id)`` instead of ``(x, label)`` (for evaluation).
    drop_remainder : bool
        Drop the last partial batch (needed on TPUs).
    shuffle_buffer : int

    Returns
    -------
    dataset : tf.data.Dataset
    stats : ReadStats
        From a validation pass: corrupt records are skipped and counted here.

    Raises
    ------
    FileNotFoundError
        If the split has no shard files.
    ValueError
        If ``kind`` was not featurised.
    """
    manifest = read_manifest(tfrecord_dir)
    if kind not in manifest["kinds"]:
        raise ValueError(f"{tfrecord_dir} holds {manifest['kinds']} inputs, not {kind!r}; featurise it again")
    files = shard_files(tfrecord_dir, split)
    if not files:
        raise FileNotFoundError(f"no {split} shards in {tfrecord_dir}")
    shape = manifest["shapes"][kind]
    n_ok, n_corrupt, damaged = _scan(files, kind, shape)
    expected = sum((parse_shard_name(f) or {"count": 0})["count"] for f in files)
    stats = ReadStats(split, kind, files, expected, n_ok, n_corrupt, damaged)
    if n_corrupt:
        logger.warning("%s/%s: skipping %d corrupt record(s); %d good", tfrecord_dir, split, n_corrupt, n_ok)

    ds = tf.data.TFRecordDataset(files, num_parallel_reads=tf.data.AUTOTUNE if training else None)
    # Known-corrupt records were counted above; here they are just stepped over.
    ds = ds.ignore_errors()
    ds = ds.map(_parser(kind, shape, with_track_id), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=not training)
    ds = ds.ignore_errors()
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if training:
        ds = ds.shuffle(max(1, min(shuffle_buffer, n_ok)), seed=seed, reshuffle_each_iteration=True)
        if augment and kind in ("mel", "mel_image"):
            ds = _augment(ds, kind, seed)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    # The validation pass knows how many records will come through, so Keras can
    # show a full progress bar from the first epoch.
    n_batches = n_ok // batch_size if drop_remainder else -(-n_ok // batch_size)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    ds = ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = not training
    ds = ds.with_options(options)
    return ds, stats
