"""The app's one Streamlit configuration, and the check that a command line adds nothing to it.

Users (``make run``, ``streamlit run app.py``), the browser tests and the benchmarks all start
the app with ``.streamlit/config.toml``; a command line may add host and port and nothing else.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from genre_core.config import PROJECT_ROOT

CONFIG_FILE: Path = PROJECT_ROOT / ".streamlit" / "config.toml"
#: The only options a command line may add: where the server listens.
HOST_AND_PORT: frozenset[str] = frozenset({"server.address", "server.port"})
#: The sections whose options change what the server does (the issue's rule).
GUARDED_SECTIONS: tuple[str, ...] = ("server", "runner")


def config_options(path: Path = CONFIG_FILE) -> dict[str, object]:
    """``{"section.key": value}`` for every option the config file sets."""
    table = tomllib.loads(path.read_text())
    return {f"{section}.{key}": value for section, options in table.items() for key, value in options.items()}


def flag_options(argv: list[str]) -> dict[str, str]:
    """``{"section.key": value}`` for every ``--section.key value`` (or ``=value``) in ``argv``."""
    options: dict[str, str] = {}
    for i, arg in enumerate(argv):
        if not arg.startswith("--") or "." not in arg:
            continue
        name, _, value = arg[2:].partition("=")
        options[name] = value if "=" in arg else argv[i + 1]
    return options


def _same(flag_value: str, config_value: object) -> bool:
    """Whether a flag's text sets what the config file's typed value sets (``true`` is True)."""
    if isinstance(config_value, bool):
        return flag_value.lower() == str(config_value).lower()
    return flag_value == str(config_value)


def options_beyond_config(argv: list[str], config: dict[str, object] | None = None) -> dict[str, str]:
    """The ``--server.*``/``--runner.*`` options of ``argv`` that the config file does not set the
    same way, host and port excepted: empty when the command runs the app as configured.

    Examples
    --------
    >>> options_beyond_config(["--server.port", "1", "--server.fileWatcherType", "auto"],
    ...                       {"server.fileWatcherType": "none"})
    {'server.fileWatcherType': 'auto'}
    >>> options_beyond_config(["--server.headless=true"], {"server.headless": True})
    {}
    """
    config = config_options() if config is None else config
    return {name: value for name, value in flag_options(argv).items()
            if name.split(".")[0] in GUARDED_SECTIONS and name not in HOST_AND_PORT
            and not (name in config and _same(value, config[name]))}
