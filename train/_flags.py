"""Command-line options derived from a training config dataclass: one flag per field.

The flag is the field's name (``data_dir`` → ``--data-dir``) unless its
metadata names another; the default, type, choices and help come from the
field (see :func:`genre_core.training.configs.option`).  A boolean becomes a
``--x/--no-x`` pair, a tuple ``nargs="+"``, a list a repeatable flag.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field
from typing import Any

from genre_core.training.configs import field_default, flag_name


def _positive(convert: type) -> Callable[[str], Any]:
    """An argparse type that converts with ``convert`` and rejects values below 1 (int) or at most 0 (float)."""
    def parse(text: str) -> Any:
        value = convert(text)
        if (value < 1) if convert is int else not value > 0:
            noun = "a positive integer" if convert is int else "a positive number"
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text}")
        return value
    parse.__name__ = convert.__name__  # argparse names the type in its "invalid ... value" message
    return parse


def argument(option: Field, parse: Callable[[str], Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The flag and ``add_argument`` keywords of one config field.

    Parameters
    ----------
    option : dataclasses.Field
        A field whose metadata holds at least ``help`` (see
        :func:`genre_core.training.configs.option` for the other keys, and
        ``exclusive``: the name of a required mutually exclusive group).
    parse : callable, optional
        The argparse ``type`` to use instead of the one the field implies.
    """
    meta = option.metadata
    flag = flag_name(option)
    kwargs: dict[str, Any] = {"help": meta["help"], "dest": option.name}
    if "choices" in meta:
        kwargs["choices"] = meta["choices"]
    default = field_default(option)
    if default is MISSING or meta.get("required", False):
        kwargs["required"] = True
    if default is not MISSING and not kwargs.get("required"):
        kwargs["default"] = default
    value_type = meta.get("type", str if default in (MISSING, None) else type(default))
    if isinstance(default, bool):
        kwargs["action"] = argparse.BooleanOptionalAction
        return flag, kwargs
    if isinstance(default, list):
        kwargs.update(action="append", metavar=option.name.upper().removesuffix("S"))
        return flag, kwargs
    if isinstance(default, tuple):
        kwargs.update(nargs="+", metavar=option.name.upper().removesuffix("_GRID"))
        value_type = type(default[0])
    if parse is not None:
        value_type = parse
    elif meta.get("positive"):
        value_type = _positive(value_type)
    kwargs["type"] = value_type
    if default not in (MISSING, None) and not kwargs.get("required"):
        kwargs["help"] += " (default: %(default)s)"
    return flag, kwargs


def add_config_arguments(parser: argparse.ArgumentParser, options: Iterable[Field],
                         parsers: Mapping[str, Callable[[str], Any]] | None = None) -> None:
    """Add one option per field to ``parser``, in argparse groups named by the fields' ``group``.

    ``parsers`` maps a field name to its argparse ``type`` where the field's own
    type is not enough (a comma-separated list, say).
    """
    groups: dict[str | None, Any] = {None: parser}
    exclusive: dict[str, Any] = {}
    for option in options:
        title = option.metadata.get("group")
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        target = groups[title]
        if "exclusive" in option.metadata:  # exactly one of the fields sharing this name must be given
            name = option.metadata["exclusive"]
            if name not in exclusive:
                exclusive[name] = target.add_mutually_exclusive_group(required=True)
            target = exclusive[name]
        flag, kwargs = argument(option, (parsers or {}).get(option.name))
        target.add_argument(flag, **kwargs)


def config_values(args: argparse.Namespace, options: Iterable[Field]) -> dict[str, Any]:
    """The parsed value of every field, ready for the config's constructor (tuples stay tuples)."""
    values = {}
    for option in options:
        value = getattr(args, option.name)
        if isinstance(field_default(option), tuple) and value is not None:
            value = tuple(value)
        values[option.name] = value
    return values

