"""One Streamlit configuration for users, tests and benchmarks.

``.streamlit/config.toml`` holds every setting the app needs; each way of starting the app
(``make run``, the launcher the browser tests and benchmarks use) adds host and port only,
and Streamlit resolves the file the same way wherever it is started from.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

from genre_core.app.server import server_command
from genre_core.config import PROJECT_ROOT

from ._streamlit_config import config_options, flag_options, options_beyond_config


def test_config_file_sets_what_the_app_needs() -> None:
    """The watcher is off (with TensorFlow loaded it multiplied the server's CPU per tour by ~5),
    and nothing reruns on save or garbage-collects after every run."""
    config = config_options()
    assert config["server.fileWatcherType"] == "none"
    assert config["server.runOnSave"] is False
    assert config["server.headless"] is True
    assert config["runner.postScriptGC"] is False
    assert config["browser.gatherUsageStats"] is False


def test_test_and_benchmark_server_adds_only_host_and_port() -> None:
    """tests/test_browser.py and benchmarks/bench_browser.py start the app with this command."""
    argv = server_command(8599)
    assert argv[1:3] == ["-m", "genre_core.app.launch"]
    assert options_beyond_config(argv) == {}
    assert set(flag_options(argv)) == {"server.address", "server.port"}


def test_make_run_adds_only_the_port() -> None:
    """The command ``make run`` executes (read from make's dry run, so the Makefile is the source)."""
    dry = subprocess.run(["make", "-n", "run", "PORT=8599"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True).stdout
    launches = [shlex.split(line) for line in dry.splitlines() if "genre_core.app.launch" in line]
    assert len(launches) == 1, dry
    assert flag_options(launches[0]) == {"server.port": "8599"}
    assert options_beyond_config(launches[0]) == {}


def test_an_overriding_option_is_caught() -> None:
    """The check can fail: the options the servers used to add by hand count as overrides
    whenever the file does not set them the same way."""
    old = ["--server.headless", "true", "--server.fileWatcherType", "none", "--runner.postScriptGC", "true"]
    assert options_beyond_config(old, {"server.headless": True}) == {
        "server.fileWatcherType": "none", "runner.postScriptGC": "true"}


#: Streamlit's own resolution of its options, as ``streamlit run`` does it (config files found
#: from the main script's folder, the working directory and HOME, then the flags on top).
_EFFECTIVE = """
import json, sys
from streamlit import config
config._main_script_path = sys.argv[1]
flags = json.loads(sys.argv[2])
config.get_config_options(force_reparse=True, options_from_flags=flags)
print(json.dumps({name: config.get_option(name) for name in json.loads(sys.argv[3])}))
"""


def test_streamlit_applies_the_file_from_any_working_directory(tmp_path) -> None:
    """Started from an unrelated folder with an empty HOME, Streamlit still reads the project's
    file (it sits beside app.py) and the server's flags change only host and port."""
    argv = server_command(8599)
    flags = flag_options(argv)
    expected = config_options()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", _EFFECTIVE, str(PROJECT_ROOT / "app.py"), json.dumps(flags),
                           json.dumps(sorted(expected) + sorted(flags))],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    effective = json.loads(done.stdout.strip().splitlines()[-1])
    for name, value in expected.items():
        assert effective[name] == value, name
    assert str(effective["server.port"]) == "8599" and effective["server.address"] == "127.0.0.1"

