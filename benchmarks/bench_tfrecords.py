"""Benchmark: training-epoch input from TFRecords vs decoding and featurising per example.

Run ``python -m benchmarks.bench_tfrecords``.  Writes a small synthetic
corpus of wav files (``synth.write_corpus``, default 7 styles × 6 clips ×
10 s), then measures examples/second of the training split's mel inputs
delivered two ways, over ``--epochs`` epochs:

* **naive**: the common first attempt, a Python generator that, for every
  example of every epoch, decodes its wav file with librosa and computes the
  segment's input with :func:`genre_core.features.deep_input`;
* **tfrecords**: featurise once with :func:`genre_core.training.tfrecords.write_tfrecords`
  (timed separately), then iterate :func:`genre_core.training.tfrecords.make_dataset`
  exactly as training does (parallel reads, shuffling, batching, in-memory
  cache): the first epoch reads the shards from disk, later epochs come from
  the cache.

Both pipelines yield the same batched (x, label) pairs.  Prints the naive
rate, the TFRecord rates of the first epoch and of the later (steady-state)
epochs, and the ratios (target ≥ 20× per training epoch in steady state).
On a corpus this small the first epoch is dominated by tf.data's fixed
start-up cost, so its ratio is much lower; it grows with the corpus.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

from benchmarks.machine import machine_line, ratio_line
from genre_core.config import SAMPLE_RATE


def _naive_examples(table: pd.DataFrame, segment_seconds: float, labels: list[str]):
    """(x, label) per segment: decode the file and featurise, for every single example."""
    from genre_core.features import deep_input
    from genre_core.windows import segment_bounds

    for row in table.itertuples(index=False):
        n_samples = int(round(librosa.get_duration(path=row.path) * SAMPLE_RATE))
        for start, end in segment_bounds(n_samples, SAMPLE_RATE, segment_seconds):
            y, _ = librosa.load(row.path, sr=SAMPLE_RATE, offset=start / SAMPLE_RATE,
                                duration=segment_seconds)
            y = np.pad(y, (0, max(0, int(round(segment_seconds * SAMPLE_RATE)) - len(y))))
            yield deep_input("mel", y, SAMPLE_RATE), labels.index(row.label)


def _epoch_rate(batches) -> tuple[int, float]:
    start = time.perf_counter()
    n = 0
    for _, label in batches:
        n += int(np.shape(label)[0])
    return n, n / (time.perf_counter() - start)


def _batched(examples, batch_size: int):
    xs, ys = [], []
    for x, y in examples:
        xs.append(x)
        ys.append(y)
        if len(xs) == batch_size:
            yield np.stack(xs), np.asarray(ys)
            xs, ys = [], []
    if xs:
        yield np.stack(xs), np.asarray(ys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_tfrecords",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-style", type=int, default=6, help="clips per style (default %(default)s)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per clip (default %(default)s)")
    parser.add_argument("--segment-seconds", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per pipeline, at least 2 (default %(default)s)")
    parser.add_argument("--workdir", help="where to write the corpus and TFRecords (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first TFRecord epoch fills the cache)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from genre_core.synth import STYLES, write_corpus
    from genre_core.training.tfrecords import make_dataset, write_tfrecords

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.workdir or tmp)
        table = write_corpus(root / "wav", args.per_style, duration=args.duration, seed=0)
        labels = list(STYLES)
        train = table[table["split"] == "train"]

        start = time.perf_counter()
        write_tfrecords(table, str(root / "tfrecords"), ["mel"], labels=labels,
                        segment_seconds=args.segment_seconds, progress=False)
        featurise_s = time.perf_counter() - start

        # Warm-up: librosa's numba kernels compile on first use; not part of the steady rate.
        next(_naive_examples(train, args.segment_seconds, labels))
        naive = [_epoch_rate(_batched(_naive_examples(train, args.segment_seconds, labels), args.batch_size))
                 for _ in range(args.epochs)]
        dataset, stats = make_dataset(str(root / "tfrecords"), "train", "mel", args.batch_size, training=True)
        fast = [_epoch_rate(dataset.as_numpy_iterator()) for _ in range(args.epochs)]

    if {n for n, _ in naive} != {n for n, _ in fast}:
        raise SystemExit(f"the pipelines disagree: {fast[0][0]} TFRecord examples vs {naive[0][0]} naive")
    naive_rate = float(np.median([r for _, r in naive]))
    first_rate = fast[0][1]
    steady_rate = float(np.median([r for _, r in fast[1:]]))
    print(machine_line())
    print(f"corpus: {len(table)} clips of {args.duration:g} s ({len(train)} train), "
          f"{fast[0][0]} mel examples of {args.segment_seconds:g} s per epoch, {args.epochs} epochs")
    print(f"featurising once into TFRecords: {featurise_s:.1f} s (all splits)")
    print(f"naive per-example decode + featurise (median epoch): {naive_rate:10.1f} examples/s")
    print(f"TFRecords, first epoch (from disk):                  {first_rate:10.1f} examples/s"
          f"  ({first_rate / naive_rate:.1f}x)")
    print(f"TFRecords, later epochs (median, cached):            {steady_rate:10.1f} examples/s"
          f"  ({steady_rate / naive_rate:.1f}x)")
    print(ratio_line("steady-state epoch: TFRecords ÷ naive rate", steady_rate / naive_rate, 20.0, at_most=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
