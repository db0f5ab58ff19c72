"""Server-side speed of the app: upload → predictions, a long song, page switches.

Run with::

    python -m benchmarks.bench_app [--repeats 3]

Three figures, each the median of ``--repeats`` warm runs (models loaded and
every code path exercised once first):

1. a 30 s clip from its uploaded bytes (decode, validate, resample) to every
   default model's prediction (the GTZAN models and the MSD musicnn tagger,
   ``ModelEntry.shown_by_default``) and the clip's GTZAN-57 features, by the
   app's one pass (:func:`genre_core.app.shared_inputs.analyse_clip`, input
   groups in parallel threads), without any cache: **the 30 s analysis**, the
   unit the other figures here and in ``bench_browser`` are divided by; and
   the share of each input group alone (GTZAN-57 features; the taggers' log-mel);
2. the same for a 5-minute song: 5-minute ÷ 30 s analysis (target ≤ 10, i.e.
   linear in the length or better);
3. switching pages with a clip loaded: one ``AppTest`` run of each page with
   the clip in session state, after a first run has filled the caches, ÷ the
   30 s analysis (target ≤ 1.0).  The run of a one-line script is printed too:
   it is AppTest's own overhead, included in every page figure.

Absolute seconds depend on the CPU (3x and more between machines), so the
targets are these ratios, measured in one run; the CPU model and core count
are printed with them.  This is a benchmark, not a test: it never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from genre_core.live import preload_webrtc  # noqa: E402

preload_webrtc()  # before TensorFlow: the Live page imports streamlit-webrtc

from genre_core.audio import write_wav_bytes  # noqa: E402
from genre_core.config import PROJECT_ROOT, SAMPLE_RATE, SHARED_DATA_DIR  # noqa: E402

from benchmarks.machine import machine_line, ratio_line  # noqa: E402

#: Targets as ratios to the 30 s analysis measured in the same run (at most).
RATIO_TARGETS = {"song_5min": 10.0, "page_switch": 1.0}
PAGES = {
    "Classify": "pages/classify.py",
    "Spectrogram lab": "pages/spectrogram_lab.py",
    "Inside the CNN": "pages/inside_cnn.py",
    "Compare models": "pages/compare_models.py",
    "Live": "pages/live.py",
}


def _median_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _song_bytes(seconds: float) -> tuple[str, bytes]:
    """Upload bytes: a real GTZAN clip (repeated to length) when present, else a synthesised song."""
    source = SHARED_DATA_DIR / "gtzan" / "audio" / "disco.00000.wav"
    if source.exists():
        from genre_core.audio import load_audio

        y = load_audio(source).samples
        name = source.name
    else:
        from genre_core.synth import synth_clip

        y = synth_clip("four-on-the-floor", seed=3, duration=30.0)
        name = "synth_song.wav"
    reps = int(np.ceil(seconds * SAMPLE_RATE / len(y)))
    return name, write_wav_bytes(np.tile(y, reps)[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE)


def _report(name: str, seconds: float, detail: str) -> None:
    print(f"{name:<28} {seconds:8.3f} s   {detail}")


def analysis_seconds(predictors: Sequence, name: str, data: bytes, repeats: int,
                     want_features: bool = True) -> float:
    """Median seconds from upload bytes (``name``, ``data``) to every predictor's output and
    (``want_features``) the GTZAN-57 features the training-track check reads, with no caches:
    the server-side analysis of one clip, the app's one pass (first run not timed: JIT, graphs)."""
    from genre_core.app.shared_inputs import analyse_clip
    from genre_core.session import clip_from_bytes

    def pipeline() -> None:
        current = clip_from_bytes(data, name)
        features, predictions = analyse_clip(current.samples, current.sample_rate, list(predictors),
                                             want_features=want_features)
        assert len(predictions) == len(predictors) and (features is not None or not want_features)

    pipeline()  # warm: numba/librosa JIT, TensorFlow graphs
    return _median_time(pipeline, repeats)


def server_predictors() -> list:
    """The default models (``ModelEntry.shown_by_default``), loaded as the app's server runs them:
    in a process whose BLAS has one thread (:func:`genre_core.app.runtime.one_blas_thread`)."""
    from genre_core.app.runtime import one_blas_thread
    from genre_core.registry import default_registry

    one_blas_thread()
    registry = default_registry()
    return [registry.load(e.name) for e in registry.entries() if e.shown_by_default]


def bench_upload_to_predictions(predictors: Sequence, seconds: float, repeats: int,
                                want_features: bool = True) -> float:
    """:func:`analysis_seconds` of a song of ``seconds`` seconds (a real clip repeated to length)."""
    name, data = _song_bytes(seconds)
    return analysis_seconds(predictors, name, data, repeats, want_features)


def _by_input(predictors: Sequence) -> dict[str, list]:
    """Predictors grouped by the input they share (one feature pass per group)."""
    groups: dict[str, list] = {}
    for predictor in predictors:
        groups.setdefault(str(predictor.input_key[0]), []).append(predictor)
    return groups


def bench_apptest_baseline(repeats: int) -> float:
    """Median seconds of an AppTest run of a one-line script: the harness's own cost."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("import streamlit as st\nst.write('ok')", default_timeout=60)
    at.run()
    return _median_time(at.run, repeats)


def bench_page_switch(repeats: int) -> dict[str, float]:
    """Median seconds of one warm AppTest run of each page with a clip loaded."""
    from streamlit.testing.v1 import AppTest

    from genre_core.session import clip_from_bytes

    name, data = _song_bytes(30.0)
    current = clip_from_bytes(data, name)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
    at.session_state["clip"] = current
    at.run()
    results = {}
    for title, path in PAGES.items():
        at.switch_page(path).run()  # first visit fills the caches
        if at.exception:
            raise RuntimeError(f"{title}: {[e.value for e in at.exception]}")

        def visit(path: str = path) -> None:
            at.switch_page(path).run()

        results[title] = _median_time(visit, repeats)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--skip-pages", action="store_true", help="skip the AppTest page-switch figures")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    predictors = server_predictors()
    if not predictors:
        print("No real-data models in models/: train them first (python -m train.classical).")
        return 1
    print(f"Loaded {len(predictors)} default models in {time.perf_counter() - start:.2f} s: "
          f"{', '.join(p.name for p in predictors)}")
    print(f"{machine_line()}; median of {args.repeats} warm runs\n")

    clip = bench_upload_to_predictions(predictors, 30.0, args.repeats)
    _report("clip_30s", clip, "30 s upload bytes → all default models (the 30 s analysis)")
    for label, group in _by_input(predictors).items():
        print(f"{'':<28} {bench_upload_to_predictions(group, 30.0, args.repeats, want_features=False):8.3f} s   of which: "
              f"decode + {label} ({', '.join(p.name for p in group)})")
    song = bench_upload_to_predictions(predictors, 300.0, args.repeats)
    _report("song_5min", song, "5 min upload bytes → all default models")
    ratios = [ratio_line("5-min song ÷ 30 s analysis", song / clip, RATIO_TARGETS["song_5min"])]
    if not args.skip_pages:
        baseline = bench_apptest_baseline(args.repeats)
        pages = bench_page_switch(args.repeats)
        for title, seconds in pages.items():
            _report("page_switch", seconds, f"AppTest run of {title} with a clip loaded "
                    f"(≈{max(0.0, seconds - baseline):.2f} s beyond the harness)")
        print(f"\n(AppTest harness alone, a one-line script: {baseline:.3f} s per run)")
        slowest = max(pages, key=pages.get)
        ratios.append(ratio_line(f"slowest page ({slowest}) ÷ 30 s analysis", pages[slowest] / clip,
                                 RATIO_TARGETS["page_switch"]))
    print("\nRatios (each measured in this run; the targets):")
    print("\n".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
