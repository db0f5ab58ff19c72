"""Benchmark: fast GTZAN-57 extraction against one-librosa-call-per-feature.

Run ``python -m benchmarks.bench_features``.  Uses a real GTZAN clip from
../shared/data when present, otherwise a 30 s synthetic clip.  Prints both
timings (best of ``--repeat``), their ratio, the largest relative difference,
and the cost of the windowed analysis of a 5-minute track.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from benchmarks.machine import machine_line, ratio_line
from genre_core import features
from genre_core.audio import load_audio
from genre_core.config import SAMPLE_RATE, SHARED_DATA_DIR


def _clip() -> tuple[str, np.ndarray]:
    path = SHARED_DATA_DIR / "gtzan" / "audio" / "disco.00000.wav"
    if path.exists():
        return path.name, load_audio(path).samples
    from genre_core.synth import synth_clip

    return "synthetic four-on-the-floor (30 s)", synth_clip("four-on-the-floor", seed=0, duration=30.0)


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: numba JIT and FFT plans
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    name, y = _clip()
    fast = features.gtzan57(y)
    naive = features.gtzan57_naive(y)
    rel = np.abs(fast - naive) / np.maximum(np.abs(naive), 1e-12)
    t_naive = _best_of(lambda: features.gtzan57_naive(y), args.repeat)
    t_fast = _best_of(lambda: features.gtzan57(y), args.repeat)
    print(machine_line())
    print(f"clip: {name}, {len(y) / SAMPLE_RATE:.1f} s")
    print(f"naive (one librosa call per feature): {t_naive * 1000:8.1f} ms")
    print(f"fast  (one STFT, shared intermediates): {t_fast * 1000:8.1f} ms")
    print(ratio_line("speed-up: naive ÷ fast", t_naive / t_fast, 8.0, at_most=False))
    tempo = features.FEATURE_NAMES_GTZAN57.index("tempo")
    print(f"max relative difference: {rel.max():.2e}; tempo identical: {fast[tempo] == naive[tempo]}")

    song = np.tile(y, int(np.ceil(300 * SAMPLE_RATE / len(y))))[: 300 * SAMPLE_RATE]
    t_song = _best_of(lambda: features.gtzan57_windows(song), max(1, args.repeat // 2))
    n_windows = len(features.gtzan57_windows(song)[0])
    t_per_window = t_fast * n_windows
    print(f"5-minute track, {n_windows} windows of 30 s (15 s hop): {t_song * 1000:.0f} ms")
    print(ratio_line("each window alone ÷ the windowed pass", t_per_window / t_song))


if __name__ == "__main__":
    main()
