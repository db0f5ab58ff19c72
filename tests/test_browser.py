"""End to end in a real browser: upload a clip, wait for predictions, visit every page.

A fixture starts the app as ``make run`` does (the launcher, ``.streamlit/config.toml``, host and
port only) on a free local port; Playwright
drives the system Chromium (``/usr/bin/chromium``; Playwright's own browser
download is never used).  Each page is screenshotted to the test's tmp folder;
with ``GENRE_LAB_SCREENSHOTS=1`` the screenshots also replace those in
``docs/screenshots`` (a plain run never rewrites tracked files).  Skipped when
Chromium or Playwright is absent.

The uploaded clip is a real FMA rock clip from ../shared/data when it is there
(else a real GTZAN clip, else a synthesised song), so Classify shows the
pretrained tagger's tags for real music.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from genre_core.app.server import CHROMIUM, CHROMIUM_ARGS, app_server
from genre_core.config import PROJECT_ROOT, SHARED_DATA_DIR

from ._streamlit_config import flag_options, options_beyond_config

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
#: Set to 1 to write the screenshots to docs/screenshots (tracked files).
SCREENSHOTS_ENV = "GENRE_LAB_SCREENSHOTS"
FMA_ROCK = SHARED_DATA_DIR / "fma_small" / "001" / "001040.mp3"


def _pages() -> list[tuple[str, str, str]]:
    """(navigation label, page title shown as h1, screenshot name) of every page the app lists."""
    from pages._shared import PAGE_FILES

    return [(title, title, Path(path).stem) for path, title, _ in PAGE_FILES]


PAGES = _pages()
SERVER_START_TIMEOUT = 90
#: Set by the server fixture, so a failing test can show what the server logged.
SERVER_LOG: list[Path] = []
PAGE_TIMEOUT_MS = 240_000

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app's server as users start it, on a free port; stopped by its PID afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium package)")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    SERVER_LOG[:] = [log_path]
    try:
        with app_server(log_path, SERVER_START_TIMEOUT) as app:
            yield app
    except (RuntimeError, TimeoutError):
        print(log_path.read_text(errors="replace")[-4000:])
        raise


@pytest.fixture(scope="module")
def playwright(server):
    """One Playwright driver for the module (a second sync driver in one thread is refused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser_page(server, playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(server.url)
    yield page
    context.close()
    browser.close()


@pytest.fixture(scope="module")
def upload_file(tmp_path_factory, real_song_path, song_wav_bytes) -> Path:
    """A real FMA clip (or GTZAN clip) when ../shared/data is there, else a synthesised song."""
    if FMA_ROCK.exists():
        return FMA_ROCK
    if real_song_path is not None:
        return real_song_path
    path = tmp_path_factory.mktemp("upload") / "synth_song.wav"
    path.write_bytes(song_wav_bytes)
    return path


def _wait_idle(page) -> None:
    """Wait until the script has finished running and the charts have drawn."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")
    page.wait_for_timeout(1500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")


def _shrink_png(path: Path) -> None:
    """Re-save as a 256-colour palette PNG: a third of the size, no visible loss for these pages."""
    from PIL import Image  # Pillow comes with Streamlit

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)


def _screenshot(page, name: str, tmp_dir: Path) -> Path:
    """Full-height screenshot: the main area scrolls internally, so grow the viewport to fit it."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1400, "height": int(min(max(height, 900), 5000))})
    page.wait_for_timeout(1200)  # plotly re-lays out charts to the new size
    target = tmp_dir / f"{name}.png"
    page.screenshot(path=str(target))
    _shrink_png(target)
    if os.environ.get(SCREENSHOTS_ENV) == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, SCREENSHOTS / target.name)
    page.set_viewport_size({"width": 1400, "height": 1000})
    return target


def _errors_on_page(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


@pytest.fixture
def diagnose(tmp_path):
    """On failure, keep a screenshot of the browser and print the server log's tail."""
    pages = []
    yield pages.append
    for index, page in enumerate(pages):
        try:
            page.screenshot(path=str(tmp_path / f"at_teardown_{index}.png"))
        except Exception:  # the page may be gone; the log below still helps
            pass
    if SERVER_LOG and SERVER_LOG[0].exists():
        print(f"--- streamlit log ({SERVER_LOG[0]}) ---")
        print(SERVER_LOG[0].read_text(errors="replace")[-3000:])


def test_server_under_test_runs_the_config_file_and_adds_only_host_and_port(server):
    """The running server's own command line (from /proc, not from what we meant to start)
    carries no --server.*/--runner.* option that .streamlit/config.toml does not set the same way."""
    argv = [a.decode() for a in Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0") if a]
    assert "genre_core.app.launch" in argv, argv
    assert options_beyond_config(argv) == {}, argv
    assert set(flag_options(argv)) == {"server.address", "server.port"}, argv


def test_direct_page_url_on_a_fresh_server_keeps_the_frame(server, playwright):
    """The first request of a fresh server is a page URL: Streamlit's legacy pages/
    mode runs that page file directly, and the page must still get the shared frame."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(f"{server.url}/spectrogram_lab")
        page.get_by_role("heading", name="Spectrogram lab", exact=True).wait_for()
        _wait_idle(page)
        assert page.locator('[data-testid="stFileUploaderDropzoneInput"]').count() == 1
        links = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        # no legacy "app" entry: exactly the app's pages, in order (texts carry icon names first)
        assert len(links) == len(PAGES)
        assert all(text.strip().endswith(label) for text, (label, _, _) in zip(links, PAGES))
        assert not _errors_on_page(page)
    finally:
        browser.close()


def _click_seeks(page, chart_key: str, player_key: str) -> float:
    """Click the middle of a chart; the player's time afterwards (s)."""
    chart = page.locator(f".st-key-{chart_key} .js-plotly-plot").first
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    return page.evaluate(f"() => document.querySelector('.st-key-{player_key} audio').currentTime")


def test_upload_predict_and_visit_every_page(browser_page, upload_file, tmp_path, diagnose):
    page = browser_page
    diagnose(page)
    _wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload_file))
    # Classify is the default page: wait for the models' answer (or, on a
    # checkout without trained models, for the page saying so).
    from genre_core.registry import default_registry

    registry = default_registry()
    has_models = bool(registry.entries())
    page.get_by_text("Time taken" if has_models else "No trained models").wait_for()
    _wait_idle(page)
    assert page.get_by_text(f"Current clip: {upload_file.name}", exact=False).count() >= 1
    # the app's CSS reached the page: stale elements dim at once instead of fading (no repaint per frame)
    assert page.evaluate("""() => getComputedStyle(document.querySelector(
        '[data-testid="stElementContainer"]')).transitionDuration""") == "0s"
    if has_models:
        assert page.locator(".js-plotly-plot").count() >= 1
    if "msd_musicnn" in registry:
        # the default tagger's tags, its other tags apart, and the mapping always labelled as one
        page.get_by_text("Top genre tags").first.wait_for()
        assert page.get_by_text("Other tags").count() >= 1
        assert page.get_by_text("hand-written crosswalk", exact=False).count() >= 1
        assert page.locator('.js-plotly-plot:has-text("Top 10 tags per 3 s patch")').count() == 1
        # click-to-seek on the tag timeline: mid-chart is mid-song (the clips are 30 s)
        seconds = _click_seeks(page, "tag_timeline_msd_musicnn", "classify_player")
        assert 8.0 < seconds < 22.0, seconds
    shots = []
    for label, title, name in PAGES:
        page.locator('[data-testid="stSidebarNavLink"]', has_text=label).first.click()
        page.get_by_role("heading", name=title, exact=True).wait_for()
        _wait_idle(page)
        assert not _errors_on_page(page), f"{title}: {_errors_on_page(page)}"
        assert not page.locator('[data-testid="stAlertContentError"]').count(), f"{title}: an error box"
        # the clip is shared: no page asks for it again
        assert page.get_by_text("Load a clip", exact=False).count() == 0, title
        if name == "inside_cnn" and "msd_vgg" in registry:
            # opens on the VGG tagger, with feature maps drawn over seconds and Hz
            model_box = page.locator('[data-testid="stSelectbox"]', has_text="CNN model")
            # the chosen option is drawn in the box (as text or as the combobox's value)
            assert registry.get("msd_vgg").card["display_name"] in model_box.first.inner_html()
            maps = page.locator('.js-plotly-plot:has-text("vary most on this excerpt")')
            assert maps.count() == 1
            assert "time (s)" in maps.inner_text() and "kHz" in maps.inner_text()
        if name == "spectrogram_lab":
            # click-to-seek: a click mid-STFT moves the player there, and the playhead line follows it
            seconds = _click_seeks(page, "lab_stft", "lab_player")
            assert 1.0 < seconds < 9.5, seconds  # the excerpt is 0-10 s
            for key in ("lab_waveform", "lab_stft", "lab_mel", "lab_mfcc"):
                page.wait_for_function(
                    f"() => {{ const el = document.querySelector('.st-key-{key} .genre-lab-playhead');"
                    " return el !== null && el.style.display === 'block'; }", timeout=10_000)
            # the line follows the player: after a seek, and while it plays (muted, so autoplay is allowed)
            line = "document.querySelector('.st-key-lab_stft .genre-lab-playhead').dataset.time"
            page.evaluate("() => { document.querySelector('.st-key-lab_player audio').currentTime = 2.5; }")
            page.wait_for_function(f"() => {line} === '2.50'", timeout=10_000)
            page.evaluate("() => { const a = document.querySelector('.st-key-lab_player audio');"
                          " a.muted = true; return a.play(); }")
            page.wait_for_function(f"() => parseFloat({line}) > 2.8", timeout=10_000)
            page.evaluate("() => document.querySelector('.st-key-lab_player audio').pause()")
        shots.append(_screenshot(page, name, tmp_path))
    assert all(p.stat().st_size > 10_000 for p in shots)


def test_live_page_streams_a_fake_microphone(server, playwright, tmp_path, diagnose):
    """Chromium's fake capture device (a beeping tone) streams over WebRTC on localhost."""
    from genre_core.registry import default_registry

    if not default_registry().entries(real_only=True):
        pytest.skip("no real-data models in models/: the Live page has nothing to classify with")

    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    )
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
        page = context.new_page()
        diagnose(page)
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(server.url)
        _wait_idle(page)
        page.locator('[data-testid="stSidebarNavLink"]', has_text="Live").first.click()
        page.get_by_role("heading", name="Live", exact=True).wait_for()
        _wait_idle(page)
        # The streamer is a component in an iframe; its START button opens the microphone.
        page.frame_locator("iframe").first.get_by_role("button", name="START").click()
        # Updates come every 2 s once 3 s of audio are buffered.
        page.get_by_text("Update 2:", exact=False).wait_for(timeout=120_000)
        assert page.locator(".js-plotly-plot").count() >= 2  # mel spectrogram + probability bars
        assert not _errors_on_page(page)
        _screenshot(page, "live_streaming", tmp_path)
        page.frame_locator("iframe").first.get_by_role("button", name="STOP").click()
    finally:
        browser.close()
