"""A classroom (``genre-lab serve --workers K``): sticky routing, students kept apart, a dying worker.

One module-scoped classroom of 2 app processes behind Debian's nginx
(:func:`genre_core.app.serve.classroom_server`, started as ``make classroom`` starts it; stopped by
the PIDs it started).  Its startup is the cost of this module (each worker warms its models), so
every browser test shares it, and the test that kills a worker comes last.

* nginx keeps a browser on the worker its cookie (:data:`~genre_core.app.serve.STICKY_COOKIE`) hashes to,
  and gives a browser without one a cookie (plain HTTP requests, reading the worker header).
* Students (Playwright browser contexts, each with its own cookie jar): A and B on different
  workers, C beside A on the same worker, upload different clips at the same time; each keeps its
  own clip, on every page.
* A's worker is killed (SIGKILL): A's tab reconnects to the other worker and, once reloaded, says
  the clip was lost (:func:`pages._shared.lost_clip_banner`); B still has its clip.  C's first
  action after the kill is a page switch, which drops the URL's ``?clip=``: a known gap, marked
  xfail (strict, so fixing it makes that test fail until the mark goes).

The same lost-clip banner and the per-session clip are also checked without a browser, with
AppTest (fast, no server).

Skipped when nginx (``scripts/install_nginx.sh``), Chromium (``/usr/bin/chromium``) or Playwright
is missing.  No timing is asserted here: a classroom's speed is the benchmarks' business.
"""

from __future__ import annotations

import os
import re
import signal
import string
import time
import urllib.request
from itertools import product
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from genre_core.app.serve import NGINX, STICKY_COOKIE, WORKER_HEADER, classroom_server
from genre_core.app.server import CHROMIUM, CHROMIUM_ARGS
from genre_core.config import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
LAB = "pages/spectrogram_lab.py"
LOST = "Your clip is no longer on the server"
#: Each worker warms its models before it opens its port; two warm at once on a small machine.
CLASSROOM_START_TIMEOUT = 420.0
PAGE_TIMEOUT_MS = 240_000
#: How long a tab may take to notice its worker died, reconnect and rerun (Streamlit retries with back-off).
RECONNECT_TIMEOUT_MS = 180_000
#: Set by the classroom fixture: the worker logs and nginx's error log, printed when a test fails.
RUN_DIR: list[Path] = []


# --- AppTest: sessions keep their own clip, and a lost clip is announced (fast, no server) -----------------


def _app_test(query: dict[str, str] | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _warnings(at) -> list[str]:
    return [str(w.value) for w in at.get("warning")]


def _sidebar_success(at) -> str:
    return " ".join(str(e.value) for e in at.sidebar.get("success"))


def test_two_app_sessions_keep_their_own_clip_and_query_parameter():
    from genre_core.session import example_catalogue, example_clip

    first, second = "Example song: swing", "Example song: waltz"
    assert {first, second} <= set(example_catalogue())
    sessions = {}
    for label in (first, second):
        at = _app_test()
        at.switch_page(LAB).run()  # a cheap page: the clip is what is tested
        sessions[label] = at
    # interleaved: the second session picks its example after the first, then the first runs again
    for label, at in sessions.items():
        at.selectbox(key="example").select(label).run()
        assert not at.exception, [e.value for e in at.exception]
    sessions[first].run()
    for label, at in sessions.items():
        expected = example_clip(label)
        other = example_clip(second if label == first else first)
        assert at.session_state["clip"].digest == expected.digest, label
        assert at.query_params.get("clip") == expected.digest[:12], (label, at.query_params)
        assert f"{expected.name} (" in _sidebar_success(at) and f"{other.name} (" not in _sidebar_success(at)
        assert not any(LOST in w for w in _warnings(at)), label
    assert sessions[first].query_params["clip"] != sessions[second].query_params["clip"]


def test_a_clip_named_in_the_url_but_missing_from_the_session_is_announced():
    lost = _app_test({"clip": "deadbeef0000"})
    assert any(LOST in w for w in _warnings(lost)), _warnings(lost)
    assert "No clip yet" in " ".join(str(e.value) for e in lost.sidebar.info)
    fresh = _app_test()
    assert not any(LOST in w for w in _warnings(fresh)), _warnings(fresh)


# --- the classroom: nginx in front of 2 workers -------------------------------------------------------------

@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """2 app processes behind nginx on a free loopback port; stopped by their PIDs afterwards."""
    if not NGINX.exists():
        pytest.skip(f"{NGINX} is not installed (run `bash scripts/install_nginx.sh`, as make install-dev does)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium package)")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
    run_dir = tmp_path_factory.mktemp("classroom")
    RUN_DIR[:] = [run_dir]
    started = time.perf_counter()
    try:
        with classroom_server(2, run_dir, address="127.0.0.1", timeout=CLASSROOM_START_TIMEOUT) as room:
            print(f"classroom of 2 workers ready after {time.perf_counter() - started:.1f} s at {room.url}")
            yield room
    except (RuntimeError, TimeoutError):
        _print_logs()
        raise


def _print_logs() -> None:
    if not RUN_DIR:
        return
    for path in sorted(RUN_DIR[0].glob("worker-*.log")) + [RUN_DIR[0] / "nginx" / "error.log"]:
        if path.exists():
            print(f"--- {path} ---")
            print(path.read_text(errors="replace")[-3000:])


@pytest.fixture
def diagnose(tmp_path):
    """On failure, keep a screenshot of each registered page and print the classroom's logs."""
    pages = []
    yield pages.append
    for index, page in enumerate(pages):
        try:
            page.screenshot(path=str(tmp_path / f"at_teardown_{index}.png"))
        except Exception:  # the page may be gone; the logs below still help
            pass
    _print_logs()


def _worker_address(app_url: str) -> str:
    """``127.0.0.1:port`` of a worker's URL, as nginx names the upstream that answered."""
    return urlsplit(app_url).netloc


def _health(url: str, cookie: str | None = None) -> tuple[list[str], list[str]]:
    """GET /_stcore/health through the proxy: the answering worker(s) and the Set-Cookie headers."""
    request = urllib.request.Request(f"{url}/_stcore/health")
    if cookie is not None:
        request.add_header("Cookie", f"{STICKY_COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        # $upstream_addr: "a:1" or, after a failed try, "a:1, b:2" (the last one answered)
        tried = [a.strip() for a in (response.headers.get(WORKER_HEADER) or "").split(",") if a.strip()]
        return tried, response.headers.get_all("Set-Cookie") or []


def _cookie_values():
    for size in (1, 2):
        for letters in product(string.ascii_lowercase, repeat=size):
            yield "".join(letters)


@pytest.fixture(scope="module")
def sticky(classroom) -> dict[str, str]:
    """One cookie value per worker address: the first of "a", "b", "c"… that nginx sends there."""
    workers = {_worker_address(w.url) for w in classroom.workers}
    found: dict[str, str] = {}
    for value in _cookie_values():
        tried, _ = _health(classroom.url, value)
        assert len(tried) == 1 and tried[0] in workers, (value, tried, workers)
        found.setdefault(tried[0], value)
        if len(found) == len(workers):
            return found
    raise AssertionError(f"no cookie value among a…zz reached every worker: {found} of {workers}")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_sticky_routing_by_cookie(classroom, sticky):
    assert classroom.proxy_pid is not None and len(classroom.workers) == 2
    assert len({w.pid for w in classroom.workers}) == 2
    assert set(sticky) == {_worker_address(w.url) for w in classroom.workers}
    for address, value in sticky.items():
        for _ in range(8):
            tried, cookies = _health(classroom.url, value)
            assert tried == [address], (value, tried)
            # the cookie is kept as it is
            assert any(c.startswith(f"{STICKY_COOKIE}={value};") for c in cookies), cookies
    # without the cookie: nginx gives one (a new id), and that cookie then keeps its worker
    tried, cookies = _health(classroom.url)
    given = [c for c in cookies if c.startswith(f"{STICKY_COOKIE}=")]
    assert len(given) == 1, cookies
    value = given[0].split(";", 1)[0].split("=", 1)[1]
    assert value, given
    assert "Path=/" in given[0] and "HttpOnly" in given[0], given
    for _ in range(5):
        assert _health(classroom.url, value)[0] == tried, value


# --- two students in browsers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright(classroom):
    """One Playwright driver for the module (a second sync driver in one thread is refused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
    yield browser
    browser.close()


def _wav(path: Path, style: str, seed: int) -> Path:
    """A distinct 5 s synthesised song as a 16-bit WAV file."""
    import soundfile as sf

    from genre_core.synth import synth_clip

    sf.write(path, synth_clip(style, seed=seed, duration=5.0), 22050, subtype="PCM_16")
    return path


def _wait_idle(page) -> None:
    """Wait until the script has finished running (and stays so a moment later)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")
    page.wait_for_timeout(1500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")


def _sidebar(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def _tracebacks(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def _go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    _wait_idle(page)


class Student:
    """One browser context (its own cookie jar) on the classroom, with its clip."""

    def __init__(self, name: str, page, cookie: str, worker: str, clip: Path):
        from genre_core.session import content_hash

        self.name, self.page, self.cookie, self.worker, self.clip = name, page, cookie, worker, clip
        self.digest = content_hash(clip.read_bytes())[:12]
        #: WebSockets this tab opened since :func:`killed` started listening (its reconnections).
        self.sockets: list[str] = []

    def has_clip(self) -> bool:
        return f"Current clip: {self.clip.name} (" in _sidebar(self.page)

    def uploader_files(self) -> list[str]:
        """The file names the sidebar's uploader shows (none when it is empty)."""
        return self.page.locator('[data-testid="stFileUploaderFileName"]').all_inner_texts()


@pytest.fixture(scope="module")
def students(classroom, sticky, chromium, tmp_path_factory) -> tuple[Student, Student, Student]:
    """Students A and B, each on its own worker by its preset cookie, and C on A's worker (A's cookie
    value in another browser context: another session in the same process); the app open on Classify."""
    folder = tmp_path_factory.mktemp("clips")
    (worker_a, cookie_a), (worker_b, cookie_b) = sorted(sticky.items())
    plan = [("A", cookie_a, worker_a, _wav(folder / "student_a_swing.wav", "swing", 3)),
            ("B", cookie_b, worker_b, _wav(folder / "student_b_breakbeat.wav", "breakbeat", 4)),
            ("C", cookie_a, worker_a, _wav(folder / "student_c_waltz.wav", "waltz", 5))]
    assert len({clip.read_bytes() for *_, clip in plan}) == 3
    result = []
    for name, cookie, worker, clip in plan:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.add_cookies([{"name": STICKY_COOKIE, "value": cookie, "url": classroom.url}])
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(classroom.url)
        result.append(Student(name, page, cookie, worker, clip))
    for student in result:
        _wait_idle(student.page)
    yield tuple(result)
    for student in result:
        student.page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_students_at_once_keep_their_own_clips(classroom, students, diagnose):
    """A and B on different workers, C beside A on the same worker: three uploads at once, three clips."""
    a, b, c = students
    assert a.worker != b.worker and c.worker == a.worker
    for student in students:
        diagnose(student.page)
        assert student.page.locator('[data-testid="stFileUploaderDropzoneInput"]').count() == 1, student.name
    # every upload starts before any is waited for: the workers decode (and classify) at once
    for student in students:
        student.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(student.clip))
    for student in students:
        student.page.locator('[data-testid="stSidebar"]').get_by_text("Current clip:", exact=False).wait_for()
        _wait_idle(student.page)
    for page_title in (None, "Spectrogram lab", "Classify"):
        for student in students:
            page = student.page
            if page_title is not None:
                _go(page, page_title)
            where = f"student {student.name} on {page_title or 'the first page'}"
            sidebar = _sidebar(page)
            assert f"Current clip: {student.clip.name} (" in sidebar, (where, sidebar)
            for other in students:
                if other is not student:
                    assert other.clip.name not in sidebar, (where, sidebar)
            # the URL names this student's clip (what a lost session is recognised by)
            page.wait_for_url(re.compile(rf"[?&]clip={student.digest}(&|$)"), timeout=30_000)
            assert not _tracebacks(page), (where, _tracebacks(page))
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, (where, page.inner_text("body"))
            assert page.get_by_text(LOST, exact=False).count() == 0, where
    # each browser still talks to its own worker
    for student in students:
        assert _health(classroom.url, student.cookie)[0] == [student.worker]


@pytest.fixture(scope="module")
def killed(classroom, students):
    """Kill (SIGKILL) the worker of students A and C, once; wait until their tabs have reconnected.

    Streamlit's frontend notices the closed WebSocket and opens a new one within a second or so;
    nginx sends it to the surviving worker (the dead one refuses the connection:
    ``proxy_next_upstream``).  Used by the last tests of the module only.
    """
    a, b, c = students
    assert a.has_clip() and b.has_clip() and c.has_clip(), "the students lost their clips before the kill"
    for student in (a, c):
        student.page.on("websocket", lambda ws, s=student: s.sockets.append(ws.url))
    pids = {_worker_address(w.url): w.pid for w in classroom.workers}
    os.kill(pids[a.worker], signal.SIGKILL)
    for student in (a, c):
        waited = 0
        while not any(url.endswith("/_stcore/stream") for url in student.sockets):
            assert waited < RECONNECT_TIMEOUT_MS, f"student {student.name}'s tab never reconnected"
            student.page.wait_for_timeout(250)  # lets Playwright deliver the page's events
            waited += 250
    # A's cookie now reaches the surviving worker
    assert _health(classroom.url, a.cookie)[0][-1] == b.worker
    return a.worker


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_dying_worker_loses_only_its_own_sessions(classroom, students, killed, diagnose):
    """After the tests above: it needs the clips they loaded, and kills one of the classroom's workers."""
    a, b, _ = students
    for student in (a, b):
        diagnose(student.page)
    # Tried without a reload first: the tab reconnects on its own (to the surviving worker, a new
    # session there) but the frontend does not rerun the page, so it keeps showing the dead
    # session's page (A's clip, its results, its file in the uploader) and no warning, for as long
    # as the student does nothing (watched for 3 minutes).  The next rerun shows the warning:
    # changing a widget does (the uploader then still shows the dead session's file name), a
    # reload does, and a page switch does not (see the next test).  A student who sees a stale
    # page reloads it: that is what is tested here.
    a.page.reload()
    a.page.get_by_text(LOST, exact=False).first.wait_for(timeout=RECONNECT_TIMEOUT_MS)
    _wait_idle(a.page)
    assert not _tracebacks(a.page), _tracebacks(a.page)
    assert not a.has_clip() and a.clip.name not in _sidebar(a.page), _sidebar(a.page)
    assert "No clip yet" in _sidebar(a.page), _sidebar(a.page)
    assert a.uploader_files() == [], a.uploader_files()
    assert f"clip={a.digest}" in a.page.url, a.page.url
    # B never noticed: its clip is still there on another page, with no warning
    _go(b.page, "Spectrogram lab")
    assert b.has_clip(), _sidebar(b.page)
    assert b.page.get_by_text(LOST, exact=False).count() == 0
    assert not _tracebacks(b.page), _tracebacks(b.page)
    assert b.page.locator('[data-testid="stAlertContentError"]').count() == 0, b.page.inner_text("body")
    assert _health(classroom.url, b.cookie)[0] == [b.worker]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "pages/_shared.py: the lost clip is recognised by the URL's ?clip=, and a page switch in the "
    "sidebar's navigation drops the query string, so a tab whose first action after its worker died "
    "is a page switch starts a new session without the warning (the clip silently gone)"))
def test_a_page_switch_after_the_worker_died_reports_the_lost_clip(classroom, students, killed, diagnose):
    """C was on the killed worker; its first action after reconnecting is a click in the navigation."""
    _, _, c = students
    diagnose(c.page)
    _go(c.page, "Spectrogram lab")
    assert not _tracebacks(c.page), _tracebacks(c.page)
    assert "No clip yet" in _sidebar(c.page), _sidebar(c.page)  # the new session has no clip, as expected
    assert c.page.get_by_text(LOST, exact=False).count() == 1, (c.page.url, c.page.inner_text("body")[:600])
