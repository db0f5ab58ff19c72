"""Run the app in a real server for the browser tests and the browser benchmark.

The app, started as ``make run`` starts it, on a free loopback port, waited for until healthy,
and stopped by its PID however the block ends; and the Debian chromium that
Playwright drives (never a browser that Playwright would download).

Examples
--------
>>> port = free_port()
>>> 1024 <= port < 65536
True
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import PROJECT_ROOT

CHROMIUM: Path = Path("/usr/bin/chromium")
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll Streamlit's health endpoint until it answers 200; fail early if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f} s")


@contextmanager
def app_server(log_path: Path, timeout: float = 120.0) -> Iterator[str]:
    """Start the app as ``make run`` does (:mod:`genre_core.app.launch`: models warmed, then
    ``streamlit run app.py``) on 127.0.0.1 and yield its URL; stop it by its PID on exit.

    The server's output goes to ``log_path``.  TensorFlow gets one inter-op and
    two intra-op threads, as on the 2-core machines the figures are measured on.
    """
    port = free_port()
    env = dict(os.environ, TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRAOP_THREADS="2", TF_CPP_MIN_LOG_LEVEL="2")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "genre_core.app.launch", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/_stcore/health", process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
