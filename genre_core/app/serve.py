"""A classroom on one server: K app processes behind Debian's nginx, each browser tab kept on one of them.

One Streamlit process runs every session's scripts in threads of one Python
process, so a class shares one GIL.  ``genre-lab serve --workers K`` starts K
app processes exactly as ``make run`` starts one (:func:`~genre_core.app.server.server_command`:
the launcher, ``.streamlit/config.toml``, host and port only, models warm
before each opens its port) on loopback ports, and Debian's nginx in front of
them on the public port:

* **Sticky sessions.**  A Streamlit session lives in one process: its
  WebSocket, and the HTTP uploads that belong to it, must reach the same
  worker.  nginx gives each browser a cookie (:data:`STICKY_COOKIE`, from its
  first request's id) and hashes it to a worker (``hash ... consistent``).
* **WebSocket upgrade** passed through, without buffering, with a day's read timeout.
* **A worker that dies** loses only its own sessions.  Their tabs reconnect at
  once and nginx moves them to the next worker, where they start a new session
  on the student's next action (or a reload): the page then says the clip was
  lost and asks for it again (:func:`pages._shared.lost_clip_banner`), except
  when that action is a page switch, whose link drops the URL's clip parameter
  (the page then just has no clip).  The other workers' sessions never notice.

nginx runs as this user, with its own prefix folder and configuration; the
Debian service is not used.  ``scripts/install_nginx.sh`` installs the package
(``make install-dev`` and ``make classroom`` run it).

Examples
--------
>>> text = nginx_config("127.0.0.1", 8080, [8601, 8602], Path("/tmp/gl"), max_body_mb=50)
>>> "hash $genre_lab_sticky consistent;" in text, text.count("server 127.0.0.1:86")
(True, 2)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .server import RunningApp, free_port, start_app, stop_process, wait_healthy

#: Debian's nginx binary (``scripts/install_nginx.sh``).
NGINX: Path = Path("/usr/sbin/nginx")
#: The cookie that keeps a browser on its worker.
STICKY_COOKIE: str = "genre_lab_worker"
#: Response header naming the worker that answered (for tests and benchmarks; loopback addresses only).
WORKER_HEADER: str = "X-Genre-Lab-Worker"


def max_upload_mb() -> int:
    """``server.maxUploadSize`` from ``.streamlit/config.toml``: nginx must let such an upload through."""
    import tomllib

    from ..config import PROJECT_ROOT

    with open(PROJECT_ROOT / ".streamlit" / "config.toml", "rb") as handle:
        return int(tomllib.load(handle)["server"]["maxUploadSize"])


def nginx_config(address: str, port: int, worker_ports: Sequence[int], prefix: Path, *, max_body_mb: int) -> str:
    """The nginx configuration of a classroom: ``address:port`` in front of the workers on 127.0.0.1.

    Parameters
    ----------
    address, port : str, int
        Where students connect.
    worker_ports : sequence of int
        The app processes' loopback ports.
    prefix : Path
        nginx's own folder (pid, logs, temporary files).
    max_body_mb : int
        The app's upload limit; nginx allows a little more (multipart framing).
    """
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in worker_ports)
    temp = "\n".join(f"  {kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    return f"""# Written by genre_core.app.serve for this classroom; regenerated on every start.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  client_max_body_size {max_body_mb + 5}m;
  # A browser's worker: its cookie, or for its first request a new id that becomes its cookie.
  map $cookie_{STICKY_COOKIE} $genre_lab_sticky {{
    "" $request_id;
    default $cookie_{STICKY_COOKIE};
  }}
  map $http_upgrade $connection_upgrade {{
    default upgrade;
    "" close;
  }}
  upstream genre_lab {{
    hash $genre_lab_sticky consistent;
{servers}
  }}
  server {{
    listen {address}:{port};
    location / {{
      proxy_pass http://genre_lab;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1d;
      proxy_send_timeout 1d;
      # A dead worker: its tabs move on to the next one (where they start new sessions).
      proxy_next_upstream error timeout http_502 http_503;
      add_header Set-Cookie "{STICKY_COOKIE}=$genre_lab_sticky; Path=/; HttpOnly; SameSite=Lax" always;
      add_header {WORKER_HEADER} $upstream_addr always;
    }}
  }}
}}
"""


@dataclass(frozen=True)
class Classroom:
    """A running classroom server.

    Attributes
    ----------
    url : str
        Where students connect (the proxy, or the only worker when there is one).
    workers : tuple of RunningApp
        Each app process: its own loopback URL and PID.
    proxy_pid : int or None
        nginx's PID (None with one worker: no proxy).
    """

    url: str
    workers: tuple[RunningApp, ...]
    proxy_pid: int | None


def _start_nginx(config: str, prefix: Path) -> subprocess.Popen:
    if not NGINX.exists():
        raise UsageError(f"{NGINX} is missing: install Debian's nginx with `bash scripts/install_nginx.sh` "
                         "(make install-dev does), or serve with --workers 1")
    prefix.mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    with open(prefix / "nginx.out", "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([str(NGINX), "-p", str(prefix), "-c", str(path)], stdout=log,
                                stderr=subprocess.STDOUT)


@contextmanager
def classroom_server(workers: int, run_dir: Path, *, port: int | None = None, address: str = "127.0.0.1",
                     timeout: float = 300.0) -> Iterator[Classroom]:
    """Start ``workers`` app processes (and nginx in front when there are several); stop them all on exit.

    Parameters
    ----------
    workers : int
        App processes; 1 serves without a proxy, exactly as ``make run``.
    run_dir : Path
        Logs of each process and nginx's folder.
    port : int, optional
        The public port (default: a free one).
    address : str
        The public address (``0.0.0.0`` for a real classroom; tests use loopback).
    timeout : float
        Seconds each process may take to become healthy (the models warm first).

    Raises
    ------
    UsageError
        For fewer than one worker, or several without nginx installed.
    """
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    with ExitStack() as stack:
        if workers == 1:
            process = stack.enter_context(start_app(port, run_dir / "worker-1.log", address=address))
            url = f"http://{'127.0.0.1' if address in ('0.0.0.0', '') else address}:{port}"
            wait_healthy(f"{url}/_stcore/health", process, timeout)
            yield Classroom(url, (RunningApp(url, process.pid),), None)
            return
        ports = [free_port() for _ in range(workers)]
        processes = [stack.enter_context(start_app(p, run_dir / f"worker-{i}.log"))
                     for i, p in enumerate(ports, start=1)]
        apps = []
        for p, process in zip(ports, processes):  # they warm at once; wait for each
            wait_healthy(f"http://127.0.0.1:{p}/_stcore/health", process, timeout)
            apps.append(RunningApp(f"http://127.0.0.1:{p}", process.pid))
        config = nginx_config(address, port, ports, run_dir / "nginx", max_body_mb=max_upload_mb())
        proxy = _start_nginx(config, run_dir / "nginx")
        stack.callback(stop_process, proxy)
        url = f"http://{'127.0.0.1' if address in ('0.0.0.0', '') else address}:{port}"
        wait_healthy(f"{url}/_stcore/health", proxy, 30.0)
        yield Classroom(url, tuple(apps), proxy.pid)


def serve(workers: int, port: int, address: str, run_dir: Path) -> int:
    """``genre-lab serve``: run a classroom until interrupted (Ctrl-C or SIGTERM); returns the exit status."""
    stop = {"now": False}

    def _stop(signum, frame):  # noqa: ANN001
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    with classroom_server(workers, run_dir, port=port, address=address) as room:
        print(f"Genre lab: {workers} app process(es) ready; students open {room.url} "
              f"(logs in {run_dir}). Ctrl-C stops all.", flush=True)
        try:
            while not stop["now"]:
                dead = [w for w in room.workers if not _alive(w.pid)]
                if dead and len(dead) == len(room.workers):
                    print("Genre lab: every app process has stopped; see the logs.", flush=True)
                    return 1
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie child still answers kill(0): look at its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
