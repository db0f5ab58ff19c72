"""Benchmark: peak memory of ``python -m genre_core predict`` against the length of the song.

Run ``python -m benchmarks.bench_memory``.  Writes 5-minute, 30-minute and
2-hour WAVs (22050 Hz mono 16-bit, a synthetic song repeated with varying gain
and noise) into a temporary folder, classifies each with the default model and
``--max-duration off`` in its own subprocess, and prints each run's peak RSS
(from ``wait4``, so every figure is that child's own) and the 2 h / 5 min ratio.

Target: the 2-hour figure within 20 % of the 5-minute one, and under 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.machine import machine_line
from genre_core.config import PROJECT_ROOT, SAMPLE_RATE

#: Song lengths measured, in minutes.
LENGTHS_MIN: tuple[float, ...] = (5.0, 30.0, 120.0)


def write_song(path: Path, minutes: float, seed: int = 0) -> None:
    """A WAV of ``minutes`` minutes, written block by block (never held whole)."""
    from genre_core.synth import STYLES, synth_clip

    rng = np.random.default_rng(seed)
    pieces = [synth_clip(style, seed=i, duration=20.0) for i, style in enumerate(STYLES)]
    total = int(minutes * 60 * SAMPLE_RATE)
    written = 0
    with sf.SoundFile(path, "w", samplerate=SAMPLE_RATE, channels=1, subtype="PCM_16") as out:
        while written < total:
            piece = pieces[int(rng.integers(len(pieces)))]
            block = piece * rng.uniform(0.3, 0.9) + rng.normal(0, 0.01, piece.size)
            block = np.clip(block[: total - written], -1, 1).astype(np.float32)
            out.write(block)
            written += block.size


def peak_rss(command: list[str]) -> tuple[int, float, int]:
    """Run ``command``; its peak resident set size in bytes, its wall time and its exit status."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the maximum over all children so far.
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    # ru_maxrss is in kilobytes on Linux.
    return usage.ru_maxrss * 1024, time.perf_counter() - started, process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model to run (default: the CLI's default model)")
    parser.add_argument("--keep", type=Path, default=None, help="write the WAVs here and keep them")
    args = parser.parse_args(argv)
    print(machine_line(), flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results: dict[float, int] = {}
        for minutes in LENGTHS_MIN:
            path = folder / f"song_{minutes:g}min.wav"
            if not path.exists():
                write_song(path, minutes)
            command = [sys.executable, "-m", "genre_core", "predict", str(path), "--json", "--max-duration", "off"]
            if args.model:
                command += ["--model", args.model]
            rss, seconds, code = peak_rss(command)
            if code != 0:
                print(f"{minutes:g} min: predict exited with {code}")
                return 1
            results[minutes] = rss
            print(f"{minutes:>5g} min song: peak RSS {rss / 2**20:7.0f} MiB   ({seconds:.0f} s)", flush=True)
    short, long = results[LENGTHS_MIN[0]], results[LENGTHS_MIN[-1]]
    ratio = long / short
    print(f"2 h / 5 min peak RSS: {ratio:.2f}   (target <= 1.20, and 2 h under 1.5 GB: "
          f"{'met' if ratio <= 1.2 and long < 1.5e9 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
