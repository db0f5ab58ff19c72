"""A classroom in Chromium: N students on one server at once, against a lone student on the same server.

Run with::

    .venv/bin/python -m benchmarks.bench_classroom [--students 8] [--workers 1] [--compare-workers 2 ...]

It prints :func:`~benchmarks.machine.machine_line` first, then, in this
process and before any server starts, the server-side analysis of the lone
student's clip: wall seconds and **CPU-seconds** (``time.process_time``, every
thread of this process) around one pass of the app's analysis, as
:func:`benchmarks.bench_app.analysis_seconds` runs it (``clip_from_bytes`` then
``analyse_clip`` with every default model and the GTZAN-57 features, no cache,
one warm pass first; median of ``--repeats``).

Then, for each worker count (``--workers`` and each ``--compare-workers``), a
fresh server, started as ``genre-lab serve --workers K`` starts it
(:func:`genre_core.app.serve.classroom_server`: K app processes, Debian's nginx
in front when K > 1), and on it:

1. an untimed warm-up tour per worker (each browser sent to its worker by the
   sticky cookie), so the timed tours find the pages' first-use costs paid
   (``--no-warm-up`` skips it);
2. a lone student's tour; then
3. N students' tours, all starting together on a barrier.

Each student is its own Chromium (``/usr/bin/chromium`` with ``CHROMIUM_ARGS``,
never a downloaded browser), driven by its own Playwright in its own thread,
with every thread of its processes at ``nice`` 10 (the thread that starts its
driver is niced and drops CAP_SYS_NICE; the driver, Chromium and every renderer
inherit both, so Chromium cannot raise its own threads again), and its own real
30 s clip (``real_songs/*.mp3``, ``fma_small/*/*.mp3``, ``gtzan/audio/*.wav``
from ../shared/data; synthesised songs, with a note, where those run out or are
absent), so no student finds another's results in the server's cache.  A tour:
open the app, upload the clip (until Classify's predictions are visible), visit
every page of the navigation, back to Classify.  Steps are timed as
``benchmarks.bench_browser`` times them (its ``_timed``/``_upload``/``_switch``:
until the script run has finished, the texts are shown and two frames drawn);
opening is timed from ``goto`` until the first page's title is drawn.

Printed, for each worker count side by side:

* per step (open, upload, each page switch): the lone student's seconds and the
  class's p50, p95 and max over students; the WebSocket bytes received per step
  (``page.on("websocket")`` → ``framereceived`` payload lengths, attributed to
  the step being shown);
* server CPU-seconds per tour (utime+stime, children included, of the workers'
  and nginx's process trees from ``/proc``, after − before the tours, ÷ N);
  server RSS per session ((peak VmRSS sum during the tours − before) ÷ N,
  sampled every 0.25 s); browser CPU-seconds per tour (each Chromium process
  tree, p50 over students); students per worker;
* errors (exception boxes, error boxes, "Traceback" or the lost-clip banner on
  a page) and lost clips (the sidebar's "Current clip: <name>" not the
  student's own at the end);
* the ratios with their targets (:func:`~benchmarks.machine.ratio_line`):
  slowest upload at N ÷ lone upload (≤ 5), server CPU per tour at N ÷ the lone
  tour's (≤ 1), the lone tour's server CPU ÷ its clip's analysis CPU (≤ 2.5).

Bounded: each step gives up after ``--step-timeout`` s (default 300) and the
whole run after ``--time-limit`` s (default 3600), after which a watchdog stops
every process it started, by PID.  This is a benchmark, not a test: it never
fails on speed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from benchmarks import bench_browser
from benchmarks.bench_browser import OBSERVER_JS, TWO_FRAMES_JS, Unfinished, _switch, _upload
from benchmarks.machine import machine_line, ratio_line
from genre_core.app.serve import STICKY_COOKIE, WORKER_HEADER, classroom_server
from genre_core.app.server import CHROMIUM, CHROMIUM_ARGS
from genre_core.config import SAMPLE_RATE, SHARED_DATA_DIR

#: Targets (at most), each a ratio of two figures measured in the same run.
RATIO_TARGETS = {"slowest upload": 5.0, "server CPU per tour": 1.0, "tour CPU ÷ analysis CPU": 2.5}
#: Every browser process (driver, Chromium, renderers) runs at this nice value.
BROWSER_NICE = 10
#: The banner of a session whose clip was lost (pages._shared.lost_clip_banner).
LOST_TEXT = "Your clip is no longer on the server"
CLASSROOM_START_TIMEOUT = 420.0
RSS_SAMPLE_S = 0.25
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") / 1024

#: What a page shows that counts as an error: exception boxes, error boxes, tracebacks, the lost-clip banner.
CHECK_JS = """(lost) => {
  const text = document.body.innerText;
  const side = document.querySelector('[data-testid="stSidebar"]');
  const texts = (sel) => [...document.querySelectorAll(sel)].map(e => e.innerText.trim().slice(0, 200));
  return {exceptions: texts('[data-testid="stException"]'), errors: texts('[data-testid="stAlertContentError"]'),
          traceback: text.includes('Traceback'), lost: text.includes(lost), sidebar: side ? side.innerText : ''};
}"""


# --- processes from /proc --------------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid → (parent pid, CPU ticks: utime+stime+cutime+cstime, nice) of every process now."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                text = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()  # after the command name, which may hold spaces
        # fields[0] is field 3 of proc(5): ppid 4, utime 14, stime 15, cutime 16, cstime 17, nice 19
        table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]), int(fields[16]))
    return table


def _descendants(roots: set[int], table: dict[int, tuple[int, int, int]]) -> set[int]:
    """``roots`` (those alive) and every process below them.

    >>> _descendants({1, 2}, {1: (0, 0, 0), 2: (1, 0, 0), 3: (2, 0, 0), 4: (0, 0, 0)}) == {1, 2, 3}
    True
    >>> tree_cpu_seconds({os.getpid()}) > 0 and tree_rss_mib({os.getpid()}) > 10
    True
    """
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [p for p in roots if p in table]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def tree_cpu_seconds(roots: set[int], *, without_roots: bool = False) -> float:
    """CPU-seconds of the process trees under ``roots`` (reaped children included through cutime/cstime)."""
    table = _proc_table()
    pids = _descendants(roots, table) - (roots if without_roots else set())
    return sum(table[p][1] for p in pids) / CLK_TCK


def tree_rss_mib(roots: set[int], *, tree: bool = True) -> float:
    """Resident memory (VmRSS summed) of the process trees under ``roots`` (of ``roots`` alone unless
    ``tree``), MiB."""
    total_kb = 0
    for pid in _descendants(roots, _proc_table()) if tree else roots:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total_kb += int(handle.read().split()[1]) * PAGE_SIZE_KB  # the same figure as VmRSS
        except (OSError, IndexError, ValueError):
            continue
    return total_kb / 1024


def _children(pid: int) -> set[int]:
    return {p for p, (ppid, _, _) in _proc_table().items() if ppid == pid}


# --- clips and the analysis of the lone student's clip -----------------------------------------------------


def classroom_clips(count: int, folder: Path) -> tuple[list[Path], str]:
    """``count`` different 30 s songs: the shared real clips first, then synthesised ones; and where from."""
    real = sorted((SHARED_DATA_DIR / "real_songs").glob("*.mp3")) + \
        sorted((SHARED_DATA_DIR / "fma_small").glob("*/*.mp3")) + sorted((SHARED_DATA_DIR / "gtzan" / "audio").glob("*.wav"))
    clips = real[:count]
    source = f"{len(clips)} real 30 s clips from {SHARED_DATA_DIR}"
    if len(clips) < count:
        from genre_core.audio import write_wav_bytes
        from genre_core.synth import STYLES, synth_clip

        for i in range(count - len(clips)):
            path = folder / f"synth_{i:02d}_{STYLES[i % len(STYLES)]}.wav"
            path.write_bytes(write_wav_bytes(synth_clip(STYLES[i % len(STYLES)], seed=100 + i, duration=30.0),
                                             SAMPLE_RATE))
            clips.append(path)
        source += f" and {count - len(real[:count])} synthesised 30 s songs (NOTE: not enough real clips" + \
            (")" if real else "; no ../shared/data)")
    return clips, source


def analysis_cpu(path: Path, repeats: int) -> tuple[float, float]:
    """(wall s, CPU s) of the server-side analysis of one clip, in this process, median of ``repeats``.

    The pass of :func:`benchmarks.bench_app.analysis_seconds` (upload bytes → ``clip_from_bytes`` →
    ``analyse_clip`` with the default models as the server loads them and the GTZAN-57 features, no
    cache; one warm pass first), timed with ``time.perf_counter`` and ``time.process_time`` (every
    thread of this process: the pass runs its input groups in threads)."""
    from benchmarks.bench_app import server_predictors
    from genre_core.app.shared_inputs import analyse_clip
    from genre_core.session import clip_from_bytes

    predictors, data = server_predictors(), path.read_bytes()

    def once() -> None:
        current = clip_from_bytes(data, path.name)
        analyse_clip(current.samples, current.sample_rate, predictors, want_features=True)

    once()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        once()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


# --- one student ----------------------------------------------------------------------------------------


class _ThreadSplits(list):
    """bench_browser.SPLITS for many threads: each thread's last split is kept apart."""

    local = threading.local()

    def append(self, item) -> None:  # noqa: ANN001
        super().append(item)
        _ThreadSplits.local.last = item


bench_browser.SPLITS = _ThreadSplits()  # _timed appends to the module's SPLITS at call time
_LAUNCH_LOCK = threading.Lock()


@dataclass
class Tour:
    """One student's tour: what it timed and saw."""

    name: str
    clip: Path
    cookie: str | None = None
    worker: str = "?"
    seconds: dict[str, float] = field(default_factory=dict)
    script_run: dict[str, float] = field(default_factory=dict)
    ws_bytes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lost: bool | None = None
    browser_cpu: float | None = None
    niced: str = ""
    failure: str | None = None
    pids: set[int] = field(default_factory=set)  # its Playwright driver(s); Chromium runs below them


@dataclass
class Phase:
    """A group of students touring at once, and what the server spent on them."""

    tours: list[Tour]
    server_cpu: float = float("nan")
    rss_before: float = float("nan")
    rss_peak: float = float("nan")
    wall: float = float("nan")


def _steps(labels: list[str]) -> list[str]:
    return ["open", "upload"] + [f"→ {label}" for label in labels[1:] + labels[:1]]


def _check(page, tour: Tour, step: str) -> None:  # noqa: ANN001
    seen = page.evaluate(CHECK_JS, LOST_TEXT)
    for kind in ("exceptions", "errors"):
        tour.errors += [f"{step}: {kind[:-1]}: {' '.join(text.split())[:160]}" for text in seen[kind]]
    if seen["traceback"] and not seen["exceptions"]:
        tour.errors.append(f"{step}: 'Traceback' on the page")
    if seen["lost"]:
        tour.errors.append(f"{step}: the lost-clip banner")
    if step != "open" and f"Current clip: {tour.clip.name} (" not in seen["sidebar"]:
        tour.errors.append(f"{step}: the sidebar does not show this student's clip "
                           f"({' '.join(seen['sidebar'].split())[:120]!r})")


def _lower_this_thread() -> None:
    """Nice this thread to :data:`BROWSER_NICE`, for good: what it starts can never run higher.

    Linux nice values are per thread and inherited at fork, so the driver this thread starts, the
    Chromium it starts and every renderer begin at BROWSER_NICE.  Chromium, run as root, would then
    raise some of its own threads (the browser process's main thread to nice -8): this thread also
    drops CAP_SYS_NICE from its capability bounding set (inherited too), so no process below it can
    lower a nice value again.  Capabilities are per thread: the rest of this process keeps them."""
    import ctypes

    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BROWSER_NICE)
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_capbset_drop, pr_cap_ambient, pr_cap_ambient_clear_all, cap_sys_nice = 24, 47, 4, 23
        libc.prctl(pr_cap_ambient, pr_cap_ambient_clear_all, 0, 0, 0)
        libc.prctl(pr_capbset_drop, cap_sys_nice, 0, 0, 0)


def _niced(roots: set[int]) -> str:
    """How many threads of the Chromium processes under ``roots`` run at BROWSER_NICE or lower priority."""
    pids = _descendants(roots, _proc_table()) - roots
    low = total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as handle:
                    text = handle.read().decode(errors="replace")
            except OSError:
                continue
            total += 1
            low += int(text[text.rfind(")") + 2:].split()[16]) >= BROWSER_NICE
    return f"{low} of {total} threads of {len(pids)} Chromium processes at nice ≥ {BROWSER_NICE}"


def _tour(tour: Tour, url: str, labels: list[str], start: threading.Barrier, end: threading.Barrier,
          deadline: float, step_timeout: float, live: set[int]) -> None:
    """One student, in its own thread: its own Playwright and Chromium (niced), its tour, timed."""
    from playwright.sync_api import sync_playwright

    _lower_this_thread()
    driver = browser = None
    step = "launch"
    try:
        try:
            with _LAUNCH_LOCK:  # the one new child of this process is this thread's driver
                before = _children(os.getpid())
                driver = sync_playwright().start()
                tour.pids = _children(os.getpid()) - before
                live.update(tour.pids)
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            if tour.cookie is not None:
                context.add_cookies([{"name": STICKY_COOKIE, "value": tour.cookie, "url": url}])
            page = context.new_page()
            page.set_default_timeout(step_timeout * 1000)
            current = {"step": "open"}

            def on_socket(ws) -> None:  # noqa: ANN001
                def on_frame(payload) -> None:  # noqa: ANN001
                    size = len(payload.encode() if isinstance(payload, str) else payload)
                    tour.ws_bytes[current["step"]] = tour.ws_bytes.get(current["step"], 0) + size

                ws.on("framereceived", on_frame)

            page.on("websocket", on_socket)
        except Exception as exc:  # still meet the others at the barrier, so they start
            tour.failure = f"launch: {type(exc).__name__}: {exc}"
        start.wait()
        if tour.failure:
            return
        cpu_before = tree_cpu_seconds(tour.pids, without_roots=True)
        for step in _steps(labels):
            if time.monotonic() > deadline:
                tour.failure = f"{step}: not started, the run's time limit was reached"
                break
            current["step"] = step
            _ThreadSplits.local.last = None
            try:
                if step == "open":
                    opened = time.perf_counter()
                    response = page.goto(url)
                    if response is not None:
                        tour.worker = (response.headers.get(WORKER_HEADER.lower()) or urlsplit(url).netloc).split(",")[-1].strip()
                    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                           state="attached")
                    page.get_by_role("heading", name=labels[0], exact=True).wait_for()
                    page.evaluate(TWO_FRAMES_JS)
                    tour.seconds[step] = time.perf_counter() - opened
                    try:  # as a user choosing a file: the charts' code loads meanwhile (untimed)
                        page.wait_for_load_state("networkidle", timeout=min(30.0, step_timeout) * 1000)
                    except Exception:
                        pass
                    page.evaluate(OBSERVER_JS)
                elif step == "upload":
                    tour.seconds[step] = _upload(page, tour.clip)
                else:
                    tour.seconds[step] = _switch(page, step[2:])
                if _ThreadSplits.local.last is not None:
                    tour.script_run[step] = _ThreadSplits.local.last[1]
            except Unfinished as exc:
                tour.errors.append(f"{step}: {exc}")
            _check(page, tour, step)
            print(f"  … {tour.name} ({tour.clip.name}, worker {tour.worker}): {step} "
                  f"{tour.seconds.get(step, float('nan')):.2f} s", file=sys.stderr, flush=True)
        if tour.failure is None:
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            tour.lost = f"Current clip: {tour.clip.name} (" not in sidebar
        tour.browser_cpu = tree_cpu_seconds(tour.pids, without_roots=True) - cpu_before
        tour.niced = _niced(tour.pids)
    except Exception as exc:
        tour.failure = tour.failure or f"{step}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    finally:
        try:
            end.wait()  # every session stays open until the last tour has ended (memory is sampled)
        except threading.BrokenBarrierError:
            pass
        for closer in (browser, driver):
            try:
                if closer is not None:
                    (closer.close if closer is browser else closer.stop)()
            except Exception:
                pass
        live.difference_update(tour.pids)


def run_phase(url: str, server_pids: set[int], tours: list[Tour], labels: list[str], deadline: float,
              step_timeout: float, live: set[int]) -> Phase:
    """Every tour at once (started on a barrier); the server's CPU and peak memory over them."""
    phase = Phase(tours)
    marks: dict[str, float] = {}
    sampled: set[int] = set()

    def started() -> None:
        marks["cpu"] = tree_cpu_seconds(server_pids)
        marks["t"] = time.perf_counter()
        sampled.update(_descendants(server_pids, _proc_table()))  # the servers' processes, found once
        phase.rss_before = phase.rss_peak = tree_rss_mib(sampled, tree=False)

    def ended() -> None:
        phase.server_cpu = tree_cpu_seconds(server_pids) - marks.get("cpu", float("nan"))
        phase.wall = time.perf_counter() - marks.get("t", float("nan"))
        marks["done"] = 1.0

    start = threading.Barrier(len(tours), action=started, timeout=max(60.0, deadline - time.monotonic()))
    end = threading.Barrier(len(tours), action=ended, timeout=max(60.0, deadline - time.monotonic() + step_timeout))
    threads = [threading.Thread(target=_tour, args=(t, url, labels, start, end, deadline, step_timeout, live),
                                name=t.name, daemon=True) for t in tours]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + step_timeout + 60:
        if "t" in marks and "done" not in marks:
            phase.rss_peak = max(phase.rss_peak, tree_rss_mib(sampled, tree=False))
        time.sleep(RSS_SAMPLE_S)
    for thread in threads:
        thread.join(timeout=30)
    if any(t.is_alive() for t in threads):  # past every bound: stop their browsers by PID
        _kill_trees(set().union(*(t.pids for t in tours)))
        for thread in threads:
            thread.join(timeout=30)
    return phase


def _kill_trees(roots: set[int]) -> None:
    """SIGKILL the process trees under ``roots`` (processes this benchmark started)."""
    for pid in sorted(_descendants(roots, _proc_table()), reverse=True):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def cookie_per_worker(room) -> list[str | None]:  # noqa: ANN001
    """A sticky-cookie value that nginx sends to each worker (by the worker header); [None] with one worker."""
    if room.proxy_pid is None:
        return [None]
    want = {urlsplit(w.url).netloc for w in room.workers}
    found: dict[str, str] = {}
    for i in range(26 * 27):
        value = chr(97 + i % 26) + (chr(97 + i // 26 - 1) if i >= 26 else "")
        request = urllib.request.Request(f"{room.url}/_stcore/health", headers={"Cookie": f"{STICKY_COOKIE}={value}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            worker = (response.headers.get(WORKER_HEADER) or "").split(",")[-1].strip()
        found.setdefault(worker, value)
        if want <= set(found):
            break
    return [found[w] for w in sorted(want) if w in found]


# --- the report -----------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Result:
    workers: int
    lone: Phase
    group: Phase
    analysis_cpu: float
    started_s: float
    worker_addresses: tuple[str, ...] = ()


def _fmt(value: float | None, width: int = 6, digits: int = 2) -> str:
    return f"{'–':>{width}}" if value is None or value != value else f"{value:{width}.{digits}f}"


def report(results: list[Result], steps: list[str], students: int) -> None:
    heads = [f"{r.workers} worker{'s' if r.workers > 1 else ''}" for r in results]
    print(f"\nPer step, seconds: a lone student, then {students} students at once (p50 / p95 / max over students)")
    print(f"{'step':<20}" + "".join(f" | {h:^27}" for h in heads))
    print(f"{'':<20}" + " | {:>6} {:>6} {:>6} {:>6}".format("lone", "p50", "p95", "max") * len(results))
    for step in steps:
        line = f"{step:<20}"
        for r in results:
            lone = r.lone.tours[0].seconds.get(step)
            got = [t.seconds[step] for t in r.group.tours if step in t.seconds]
            line += f" | {_fmt(lone)} {_fmt(_pct(got, 50))} {_fmt(_pct(got, 95))} {_fmt(max(got) if got else None)}"
            if len(got) < len(r.group.tours):
                line += f" ({len(r.group.tours) - len(got)} unfinished)"
        print(line)
    print("\nWebSocket KB received per step (lone; p50 over students), and the server's script run in it (p50 s)")
    print(f"{'step':<20}" + "".join(f" | {h:^27}" for h in heads))
    print(f"{'':<20}" + " | {:>8} {:>8} {:>9}".format("lone KB", "p50 KB", "p50 run s") * len(results))
    for step in steps:
        line = f"{step:<20}"
        for r in results:
            lone = r.lone.tours[0].ws_bytes.get(step, 0) / 1024
            group = [t.ws_bytes.get(step, 0) / 1024 for t in r.group.tours if t.failure is None]
            runs = [t.script_run[step] for t in r.group.tours if step in t.script_run]
            line += f" | {lone:8.1f} {_fmt(_pct(group, 50), 8, 1)} {_fmt(_pct(runs, 50), 9)}"
        print(line)
    print("\nResources (lone tour; per student of the class):")
    for r in results:
        lone, group = r.lone, r.group
        n = len(group.tours)
        lone_cpu, group_cpu = lone.server_cpu, group.server_cpu / n
        browser = [t.browser_cpu for t in group.tours if t.browser_cpu is not None]
        per_worker: dict[str, int] = dict.fromkeys(r.worker_addresses, 0)
        for t in group.tours:
            per_worker[t.worker] = per_worker.get(t.worker, 0) + 1
        print(f"  {r.workers} worker(s) (server ready after {r.started_s:.0f} s): server CPU per tour "
              f"{lone_cpu:.2f} s; {group_cpu:.2f} s ({group.server_cpu:.1f} s for {n} tours, "
              f"{group.wall:.0f} s wall)")
        print(f"      server RSS per session {lone.rss_peak - lone.rss_before:.0f} MiB; "
              f"{(group.rss_peak - group.rss_before) / n:.0f} MiB (RSS {group.rss_before:.0f} → peak "
              f"{group.rss_peak:.0f} MiB); browser CPU per tour {_fmt(lone.tours[0].browser_cpu, 0)} s; "
              f"p50 {_fmt(_pct(browser, 50), 0)} s")
        print(f"      students per worker: {', '.join(f'{w}: {c}' for w, c in sorted(per_worker.items()))}; "
              f"{group.tours[0].niced or lone.tours[0].niced}")
        tours = [lone.tours[0], *group.tours]
        errors = [f"{t.name}: {e}" for t in tours for e in t.errors]
        failures = [f"{t.name}: {t.failure}" for t in tours if t.failure]
        lost = [t.name for t in tours if t.lost]
        print(f"      errors: {len(errors)}; lost clips: {len(lost)}{' (' + ', '.join(lost) + ')' if lost else ''}; "
              f"tours not finished: {len(failures)}")
        for line in errors[:20] + failures:
            print(f"        {line}")
        if len(errors) > 20:
            print(f"        … and {len(errors) - 20} more")
    print("\nRatios (each measured in this run; the targets):")
    for r in results:
        n = len(r.group.tours)
        unfinished = [t for t in (r.lone.tours[0], *r.group.tours) if t.failure or "upload" not in t.seconds]
        if unfinished:
            print(f"  [{r.workers}w] no ratios: {len(unfinished)} of {n + 1} tours did not finish or upload "
                  f"({', '.join(t.name for t in unfinished)}), so the figures do not compare")
            continue
        lone_upload = r.lone.tours[0].seconds["upload"]
        slowest = max(t.seconds["upload"] for t in r.group.tours)
        tag = f"[{r.workers}w, {n} students]"
        print(ratio_line(f"{tag} slowest upload ÷ lone upload", slowest / lone_upload,
                         RATIO_TARGETS["slowest upload"]) + f"   ({slowest:.2f} s ÷ {lone_upload:.2f} s)")
        print(ratio_line(f"{tag} server CPU per tour ÷ lone tour's", r.group.server_cpu / n / r.lone.server_cpu,
                         RATIO_TARGETS["server CPU per tour"])
              + f"   ({r.group.server_cpu / n:.2f} s ÷ {r.lone.server_cpu:.2f} s)")
        print(ratio_line(f"[{r.workers}w] lone tour's server CPU ÷ its analysis CPU", r.lone.server_cpu / r.analysis_cpu,
                         RATIO_TARGETS["tour CPU ÷ analysis CPU"])
              + f"   ({r.lone.server_cpu:.2f} s ÷ {r.analysis_cpu:.2f} s)")


# --- the run --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=8, help="students touring at once (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="app processes (nginx in front when > 1)")
    parser.add_argument("--compare-workers", type=int, nargs="*", default=[],
                        help="more worker counts, each on a fresh server with its own lone baseline")
    parser.add_argument("--repeats", type=int, default=3, help="timed analysis passes of the lone clip (median)")
    parser.add_argument("--step-timeout", type=float, default=300.0, help="seconds one step may take")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="seconds the whole run may take")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed warm-up tour per worker")
    args = parser.parse_args(argv)
    if args.students < 1 or args.workers < 1 or any(k < 1 for k in args.compare_workers):
        parser.error("--students and worker counts must be at least 1")
    counts = list(dict.fromkeys([args.workers, *args.compare_workers]))
    began = time.monotonic()
    deadline = began + args.time_limit
    bench_browser.WAIT_LIMIT_MS = int(args.step_timeout * 1000)

    live: set[int] = set()  # driver PIDs of browsers now open (their trees are ours to stop)
    servers: set[int] = set()

    def watchdog() -> None:  # the last resort: everything this run started, by PID, then exit
        print(f"\nbench_classroom: time limit of {args.time_limit:.0f} s passed; stopping what it started.",
              file=sys.stderr, flush=True)
        _kill_trees(set(live))
        for pid in servers:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        time.sleep(10)
        _kill_trees(set(servers))
        os._exit(3)

    timer = threading.Timer(args.time_limit + args.step_timeout + 180, watchdog)
    timer.daemon = True
    timer.start()

    from pages._shared import PAGE_FILES

    labels = [title for _, title, _ in PAGE_FILES]
    steps = _steps(labels)
    print(machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_classroom_") as tmp:
        folder = Path(tmp)
        warm = 0 if args.no_warm_up else max(counts)
        clips, source = classroom_clips(1 + args.students + warm, folder)
        lone_clip, class_clips, warm_clips = clips[0], clips[1:1 + args.students], clips[1 + args.students:]
        print(f"genre lab classroom in Chromium ({CHROMIUM}, nice {BROWSER_NICE}, one browser per student): "
              f"{args.students} students and a lone one, worker counts {counts}; {source}", flush=True)
        wall, cpu = analysis_cpu(lone_clip, args.repeats)
        print(f"lone student's clip {lone_clip.name}: server-side analysis in this process (median of "
              f"{args.repeats}, after a warm pass) {wall:.2f} s wall, {cpu:.2f} CPU-s (time.process_time)", flush=True)
        results = []
        for k in counts:
            if time.monotonic() > deadline:
                print(f"time limit reached: {k} worker(s) not run")
                break
            started = time.perf_counter()
            run_dir = folder / f"workers_{k}"
            try:
                with classroom_server(k, run_dir, timeout=min(CLASSROOM_START_TIMEOUT, deadline - time.monotonic())) as room:
                    ready = time.perf_counter() - started
                    server_pids = {w.pid for w in room.workers} | ({room.proxy_pid} if room.proxy_pid else set())
                    servers.update(server_pids)
                    print(f"\n{k} worker(s) ready after {ready:.0f} s at {room.url}", flush=True)
                    if warm:
                        cookies = cookie_per_worker(room)
                        tours = [Tour(f"warm-up {i + 1}", clip, cookie) for i, (clip, cookie)
                                 in enumerate(zip(warm_clips, cookies))]
                        phase = run_phase(room.url, server_pids, tours, labels, deadline, args.step_timeout, live)
                        print(f"warm-up tours (untimed in the figures): {phase.wall:.0f} s, "
                              f"{phase.server_cpu:.1f} server CPU-s", flush=True)
                    lone = run_phase(room.url, server_pids, [Tour("lone", lone_clip)], labels, deadline,
                                     args.step_timeout, live)
                    print(f"lone tour: {lone.wall:.0f} s, {lone.server_cpu:.2f} server CPU-s", flush=True)
                    group = run_phase(room.url, server_pids,
                                      [Tour(f"student {i + 1}", clip) for i, clip in enumerate(class_clips)],
                                      labels, deadline, args.step_timeout, live)
                    print(f"{args.students} students: {group.wall:.0f} s, {group.server_cpu:.1f} server CPU-s",
                          flush=True)
                    results.append(Result(k, lone, group, cpu, ready,
                                          tuple(urlsplit(w.url).netloc for w in room.workers)))
            except (RuntimeError, TimeoutError) as exc:
                print(f"{k} worker(s): the server failed: {exc}")
                for log in sorted(run_dir.glob("worker-*.log")) + [run_dir / "nginx" / "error.log"]:
                    if log.exists():
                        print(f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}")
            servers.clear()
        if results:
            report(results, steps, args.students)
    timer.cancel()
    print(f"\nwhole run: {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
