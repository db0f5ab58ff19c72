"""Speed as a user sees it: Chromium, through Playwright, against the app as ``make run`` starts it.

Run with::

    .venv/bin/python -m benchmarks.bench_browser [--repeats 3]

First, in this process, it times the server-side analysis of every clip it
will upload (:func:`benchmarks.bench_app.analysis_seconds`, the app's one pass,
median of ``--repeats``).  Then it starts a fresh server (the same way as
``tests/test_browser.py``: the launcher, ``.streamlit/config.toml``, host and
port only), opens the app in the system Chromium (``/usr/bin/chromium``, never
a downloaded browser) and prints, each in seconds and as a ratio to the
server-side analysis measured in the same run (what the browser and Streamlit
add), with the ratio's target:

1. the first upload after the server start: a real 30 s GTZAN clip uploaded as
   soon as the first page has drawn (its chart code loaded: no request for
   0.5 s), until Classify's predictions are visible;
2. for a 30 s clip (other GTZAN clips) and a 5-minute song (ten real GTZAN
   clips joined, each song starting with another clip), each the median of
   ``--repeats`` different uploads: upload → predictions visible; then, with
   the last one loaded, each page switch (click in the navigation → that
   page's script finished and drawn) and one slider step on the Spectrogram
   lab (one arrow-key press on n_mels).

A figure runs from the user's action until Streamlit reports the script run
finished (``data-test-script-state`` back to ``notRunning``) and the browser
has drawn two more frames.  Uploads are divided by the analysis of the same
clip; page switches and slider steps by the median 30 s analysis.  Targets
(at most): first upload 2x, 30 s upload 1.5x, 5-minute song 1.25x, slowest
page switch 1.0x, slider step 0.5x.  This is a benchmark, not a test: it never
fails on speed.  Without ../shared/data it uses synthesised songs and says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_line, ratio_line
from genre_core.app.server import CHROMIUM, CHROMIUM_ARGS, app_server
from genre_core.config import SAMPLE_RATE, SHARED_DATA_DIR

#: Targets: the browser's wait ÷ the server-side analysis (at most), measured in the same run.
RATIO_TARGETS = {"first upload": 2.0, "upload 30 s clip": 1.5, "upload 5-min song": 1.25, "page switch": 1.0,
                 "slider step": 0.5}
GTZAN = SHARED_DATA_DIR / "gtzan" / "audio"

#: Collects the script-state transitions of the app (installed once per page load).
OBSERVER_JS = """() => {
  if (window.__benchRuns) return;
  window.__benchRuns = [];
  window.__benchLongTasks = [];
  // main-thread tasks over 50 ms: the browser's own share of a wait (parsing, plotly drawing)
  new PerformanceObserver((list) => list.getEntries().forEach(
    (e) => window.__benchLongTasks.push([e.startTime, e.duration]))).observe({type: "longtask"});
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__benchRuns.push([app.getAttribute('data-test-script-state'),
                                                       performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def _songs(folder: Path, n_long: int = 1) -> tuple[list[Path], list[Path], str]:
    """(30 s clips, ``n_long`` different 5-minute songs, where they come from)."""
    from genre_core.audio import load_audio, write_wav_bytes

    clips = sorted(GTZAN.glob("*.wav"))
    if len(clips) >= 2:
        source = f"real GTZAN clips from {GTZAN}"
        parts = [load_audio(p).samples for p in clips]
    else:
        from genre_core.synth import synth_clip

        source = "synthesised songs (no ../shared/data)"
        parts = [synth_clip(s, seed=i, duration=30.0) for i, s in enumerate(("four-on-the-floor", "swing", "waltz"))]
        clips = []
        for i, y in enumerate(parts):
            path = folder / f"synth_{i}.wav"
            path.write_bytes(write_wav_bytes(y, SAMPLE_RATE))
            clips.append(path)
    long_paths = []
    for k in range(n_long):
        # Each song starts with another clip, so no upload finds another's results in a cache.
        song = np.concatenate([parts[(i + k) % len(parts)] for i in range(10)])[: 300 * SAMPLE_RATE]
        long_paths.append(folder / f"five_minute_song_{k + 1}.wav")
        long_paths[-1].write_bytes(write_wav_bytes(song, SAMPLE_RATE))
    return clips, long_paths, source


#: True once the app is idle again after a run that started after ``since`` and shows every one
#: of ``texts``.  A very short run (a page switch to Live) can start and finish within one React
#: render, so the "running" state never reaches the DOM: for a page switch the page's own title
#: (``heading``) proves the run instead.  Polled every 20 ms: the page's text (which forces a
#: layout) is read only once the app is idle, so the polling does not load the browser while the
#: server works.
SHOWS_JS = """([since, texts, heading]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const title = document.querySelector('[data-testid="stMain"] h1');
  const ran = window.__benchRuns.some(r => r[1] >= since && r[0] === 'running')
    || (heading !== null && title !== null && title.innerText.trim() === heading);
  if (!ran) return false;
  const text = document.body.innerText;
  return texts.every(t => text.includes(t));
}"""


#: Where a wait went: [first run start, last run end, long-task ms] between ``since`` and ``end``.
SPLIT_JS = """([since, end]) => {
  const runs = window.__benchRuns.filter(r => r[1] >= since && r[1] <= end);
  const start = runs.find(r => r[0] === 'running');
  const stop = runs.filter(r => r[0] === 'notRunning').pop();
  const busy = window.__benchLongTasks.filter(t => t[0] >= since && t[0] <= end)
    .reduce((sum, t) => sum + t[1], 0);
  return [start ? start[1] : since, stop ? stop[1] : end, busy];
}"""
#: What the page was doing when a wait gave up: its script state and the runs seen since the action.
STATE_JS = """(since) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const runs = window.__benchRuns.filter(r => r[1] >= since).map(r => r[0]);
  return `script state ${app ? app.getAttribute('data-test-script-state') : 'no app'}, runs since: ${runs.join(' → ') || 'none'}`;
}"""
#: Where each timed wait went (filled by :func:`_timed`): (before the run, script run, after it,
#: browser main-thread long tasks), seconds.
SPLITS: list[tuple[float, float, float, float]] = []


#: Longest wait for one figure before it is reported as unfinished.
WAIT_LIMIT_MS: int = 120_000


class Unfinished(RuntimeError):
    """A timed wait did not end within :data:`WAIT_LIMIT_MS`; the message says what the page showed."""


def _timed(page, action, texts: tuple[str, ...] = (), heading: str | None = None) -> float:
    """Seconds from ``action()`` until a script run has finished, ``texts`` are shown and two
    frames are drawn.  The split of the wait is appended to :data:`SPLITS`.

    Raises
    ------
    Unfinished
        If that does not happen within :data:`WAIT_LIMIT_MS` (a screenshot is saved beside the
        server log).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    since = page.evaluate("() => performance.now()")
    action()
    try:
        page.wait_for_function(SHOWS_JS, arg=[since, list(texts), heading], polling=20, timeout=WAIT_LIMIT_MS)
    except PlaywrightTimeout:
        state = page.evaluate(STATE_JS, since)
        shot = Path(tempfile.gettempdir()) / f"bench_browser_unfinished_{int(time.time())}.png"
        page.screenshot(path=str(shot))
        raise Unfinished(f"not finished after {WAIT_LIMIT_MS / 1000:.0f} s ({state}; screenshot {shot})") from None
    end = page.evaluate(TWO_FRAMES_JS)
    start, stop, busy = page.evaluate(SPLIT_JS, [since, end])
    SPLITS.append(((start - since) / 1000, (stop - start) / 1000, (end - stop) / 1000, busy / 1000))
    return (end - since) / 1000.0


def _upload(page, path: Path) -> float:
    def act() -> None:
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))

    return _timed(page, act, (f"Current clip: {path.name}", "Time taken"))


def _switch(page, label: str) -> float:
    return _timed(page, lambda: page.locator('[data-testid="stSidebarNavLink"]', has_text=label).first.click(),
                  (label,), heading=label)


def _slider_step(page) -> float:
    thumb = page.locator('.st-key-lab_n_mels input[type="range"]').first
    thumb.focus(timeout=30_000)
    return _timed(page, lambda: thumb.press("ArrowRight"))


def _line(name: str, seconds: float, ratio: float, target: float, extra: str = "") -> str:
    """A figure: its seconds, its ratio to the server-side analysis, the ratio's target."""
    before, run, after, busy = SPLITS[-1]
    print(f"  … {name}: {seconds:.2f} s (last wait: {before:.2f} s to the run, run {run:.2f} s, "
          f"{after:.2f} s after it; browser long tasks {busy:.2f} s)", file=sys.stderr, flush=True)
    return f"{ratio_line(name, ratio, target)}   ({seconds:.2f} s){extra}"


def server_side_seconds(paths: list[Path], repeats: int) -> dict[Path, float]:
    """The server-side analysis of each file (median of ``repeats``), in this process, as the
    server runs it: the default models, one BLAS thread.  Run before the server starts, so the
    two never share the cores."""
    from benchmarks.bench_app import analysis_seconds, server_predictors

    predictors = server_predictors()
    return {path: analysis_seconds(predictors, path.name, path.read_bytes(), repeats) for path in paths}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="uploads of different 30 s clips, and of different 5-minute songs (median)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from pages._shared import PAGE_FILES

    labels = [title for _, title, _ in PAGE_FILES]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips, long_songs, source = _songs(folder, max(1, args.repeats))
        short_clips = clips[1:1 + args.repeats] or clips[:1]
        print(f"genre lab in Chromium ({CHROMIUM}); {machine_line()}; {source}", flush=True)
        analysis = server_side_seconds([clips[0], *short_clips, *long_songs], args.repeats)
        unit = statistics.median(analysis[p] for p in [clips[0], *short_clips])
        print("server-side analysis (median of "
              f"{args.repeats}): 30 s clips {', '.join(f'{analysis[p]:.2f}' for p in [clips[0], *short_clips])} s; "
              f"5-min songs {', '.join(f'{analysis[p]:.2f}' for p in long_songs)} s", flush=True)
        started = time.perf_counter()
        with app_server(folder / "server.log", 120) as app:
            url = app.url
            print(f"server healthy after {time.perf_counter() - started:.1f} s")
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(300_000)
                opened = time.perf_counter()
                page.goto(url)
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")
                page.get_by_role("heading", name=labels[0], exact=True).wait_for()
                # The landing page loads the chart and table code while a user picks a file: wait until
                # it has (no request for 0.5 s) and drawn, as a user's first upload would.
                page.wait_for_load_state("networkidle")
                page.evaluate(TWO_FRAMES_JS)
                print(f"first page drawn {time.perf_counter() - opened:.1f} s after opening the URL "
                      "(its charts' code loaded)")
                page.evaluate(OBSERVER_JS)
                results: list[str] = [f"Ratios to the server-side analysis in this run (30 s analysis: {unit:.2f} s):"]
                first = _upload(page, clips[0])
                results.append(_line("first upload after start ÷ its analysis", first, first / analysis[clips[0]],
                                     RATIO_TARGETS["first upload"], f"   ({clips[0].name})"))
                for name, songs in (("30 s clip", short_clips), ("5-min song", long_songs)):
                    uploads = {song: _upload(page, song) for song in songs}
                    key = "upload 30 s clip" if name == "30 s clip" else "upload 5-min song"
                    spread = f"   (median of {len(uploads)}: {', '.join(f'{u:.2f}' for u in uploads.values())} s)" \
                        if len(uploads) > 1 else ""
                    results.append(_line(f"{name}: upload ÷ its analysis", statistics.median(uploads.values()),
                                         statistics.median(u / analysis[song] for song, u in uploads.items()),
                                         RATIO_TARGETS[key], spread))
                    for label in labels[1:] + labels[:1]:
                        try:
                            seconds = _switch(page, label)
                            results.append(_line(f"{name}: to {label} ÷ 30 s analysis", seconds, seconds / unit,
                                                 RATIO_TARGETS["page switch"]))
                        except Unfinished as exc:  # report it and go on: the other figures still count
                            results.append(f"  {name}: switch to {label}: {exc}")
                            print(results[-1], file=sys.stderr, flush=True)
                    _switch(page, "Spectrogram lab")
                    steps = [_slider_step(page) for _ in range(3)]
                    step = statistics.median(steps)
                    results.append(_line(f"{name}: lab slider ÷ 30 s analysis", step, step / unit,
                                         RATIO_TARGETS["slider step"],
                                         f"   (median of 3: {', '.join(f'{s:.2f}' for s in steps)} s)"))
                    _switch(page, labels[0])  # uploads start on Classify, where predictions show
                browser.close()
            print("\n".join(results))


if __name__ == "__main__":
    main()
