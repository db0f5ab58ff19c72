"""Run the app in a real server for the browser tests and the browser benchmark.

The app, started as ``make run`` starts it (the launcher, with ``.streamlit/config.toml`` and
nothing added but host and port), on a free loopback port, waited for until healthy, and stopped
by its PID however the block ends; and the Debian chromium that Playwright drives (never a
browser that Playwright would download).

Examples
--------
>>> port = free_port()
>>> 1024 <= port < 65536
True
>>> server_command(8501)[-4:]
['--server.address', '127.0.0.1', '--server.port', '8501']
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
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT

#: Thread limits the test process sets for itself (tests/conftest.py); a user's shell has none, so
#: the server under test must not inherit them.
_HARNESS_ONLY_ENV: tuple[str, ...] = ("TF_NUM_INTEROP_THREADS", "TF_NUM_INTRAOP_THREADS")

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
    """Poll a health endpoint until it answers 200; fail early if the server process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0] if process.args else 'the server'} exited with code "
                               f"{process.returncode} before {url} became healthy")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f} s")


def server_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The command that starts the app as ``make run`` does, on ``address:port``.

    Every other setting comes from ``.streamlit/config.toml``: host and port are the only options
    added, so what the tests and benchmarks measure is what users run.
    """
    return [sys.executable, "-m", "genre_core.app.launch", "--server.address", address, "--server.port", str(port)]


@dataclass(frozen=True)
class RunningApp:
    """A started app server: its URL and its PID."""

    url: str
    pid: int


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server by its PID: SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextmanager
def start_app(port: int, log_path: Path, address: str = "127.0.0.1") -> Iterator[subprocess.Popen]:
    """Start one app process as ``make run`` does (:func:`server_command`) and yield it, not yet healthy;
    stop it by its PID on exit.

    Its output goes to ``log_path``.  Its environment is the caller's, less the thread limits the
    test process sets for itself (:data:`_HARNESS_ONLY_ENV`).
    """
    env = {k: v for k, v in os.environ.items() if k not in _HARNESS_ONLY_ENV}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(server_command(port, address), cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, env=env)
    try:
        yield process
    finally:
        stop_process(process)


@contextmanager
def app_server(log_path: Path, timeout: float = 120.0) -> Iterator[RunningApp]:
    """Start the app as ``make run`` does on a free 127.0.0.1 port, wait until it is healthy, and
    yield it; stop it by its PID on exit (see :func:`start_app`)."""
    port = free_port()
    with start_app(port, log_path) as process:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/_stcore/health", process, timeout)
        yield RunningApp(url=url, pid=process.pid)
