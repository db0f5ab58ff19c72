"""Model cards: the ``card.json`` beside every trained model.

A card says what a model is, what it was trained on (real or synthetic data),
how it scored under which protocol, and how to reproduce it.  Classical and
deep models share the format; the registry, the app's leaderboard and the CLI
read nothing else.

Required keys (see :data:`REQUIRED_KEYS`)::

    name, display_name, kind ("classical" | "dense" | "deep" | "tagger"), architecture,
    framework ("sklearn" | "keras"), artifact (file name in the model folder),
    data {dataset, source ("real" | "synthetic"), description, n_tracks, label_set},
    input {kind, window_seconds, hop_seconds, sample_rate, shape},
    labels [...], metrics {protocol: evaluate() dict}

and, filled in by :func:`card_template` when not given: ``hyperparameters``,
``training_time_s``, ``library_versions``, ``command``, ``created``,
``notes``, ``size_bytes``, ``latency_ms_per_30s``.  Extra keys are kept.
"""

from __future__ import annotations

import functools
import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .config import FMA_SMALL_GENRES, GTZAN_GENRES
from .errors import CardError

__all__ = ["CARD_FILE", "CARD_SCHEMA", "CardError", "card_template", "read_card", "validate_card", "write_card"]

CARD_FILE: str = "card.json"
KINDS: tuple[str, ...] = ("classical", "dense", "deep", "tagger", "transfer")
FRAMEWORKS: tuple[str, ...] = ("sklearn", "keras")
SOURCES: tuple[str, ...] = ("real", "synthetic")
REQUIRED_KEYS: tuple[str, ...] = (
    "name", "display_name", "kind", "architecture", "framework", "artifact",
    "data", "input", "labels", "metrics",
)
REQUIRED_DATA_KEYS: tuple[str, ...] = ("dataset", "source", "description", "n_tracks", "label_set")
REQUIRED_INPUT_KEYS: tuple[str, ...] = ("kind", "window_seconds", "hop_seconds", "sample_rate", "shape")
#: A card is a few kB to a few hundred kB (curves, confusion matrices); a larger
#: file is not a card, and is never read whole.
MAX_CARD_BYTES: int = 4 * 1024 * 1024
#: Cards nest a handful of levels; deeper JSON is refused before anything
#: recursive (validation, json.dumps in the app) can hit Python's recursion limit.
MAX_CARD_DEPTH: int = 32
#: Sample rates a model's input may declare.
MIN_CARD_SAMPLE_RATE: int = 8000
MAX_CARD_SAMPLE_RATE: int = 192000

_SCORE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_OPTIONAL_SECONDS = {"type": ["number", "null"], "minimum": 0}
#: Types and ranges of the fields the library reads (JSON Schema, draft 2020-12).
#: Windows of at least 1 s and hops of at least 0.5 s bound the work per second
#: of audio; required keys and allowed values are checked first, with their own messages.
CARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^/\\\\\\x00-\\x1f]+$"},
        "display_name": {"type": "string", "maxLength": 256},
        "architecture": {"type": "string", "maxLength": 2000},
        "artifact": {"type": "string", "minLength": 1, "maxLength": 255},
        "data": {
            "type": "object",
            "properties": {
                "dataset": {"type": ["string", "null"], "maxLength": 500},
                "description": {"type": ["string", "null"], "maxLength": 20000},
                "n_tracks": {"type": ["integer", "null"], "minimum": 0},
                "label_set": {"type": "string", "minLength": 1, "maxLength": 100},
            },
        },
        "input": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "minLength": 1, "maxLength": 100},
                "window_seconds": {"type": "number", "minimum": 1.0, "maximum": 600.0},
                "hop_seconds": {"type": "number", "minimum": 0.5, "maximum": 600.0},
                "sample_rate": {"type": "integer", "minimum": MIN_CARD_SAMPLE_RATE, "maximum": MAX_CARD_SAMPLE_RATE},
                "shape": {"type": "array", "minItems": 1, "maxItems": 4,
                          "items": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
            },
        },
        "labels": {"type": "array", "maxItems": 10000,
                   "items": {"type": "string", "minLength": 1, "maxLength": 200}},
        "metrics": {
            "type": "object",
            # Only objects carry scores; anything else under a protocol is kept but not read.
            "additionalProperties": {"properties": {"accuracy": _SCORE, "macro_f1": _SCORE}},
        },
        "notes": {"type": ["array", "string", "null"], "items": {"type": "string"}},
        "training_time_s": _OPTIONAL_SECONDS,
        "latency_ms_per_30s": _OPTIONAL_SECONDS,
        "size_bytes": {"type": ["integer", "null"], "minimum": 0},
        "command": {"type": ["string", "null"]},
    },
}

#: Distributions whose versions a card records (the import name may differ).
_LIBRARIES: tuple[str, ...] = (
    "numpy", "scipy", "scikit-learn", "skops", "tensorflow", "keras", "librosa", "soundfile", "soxr", "pandas",
)


def label_set_name(labels: Sequence[str]) -> str:
    """A short name for a label list: ``gtzan10``, ``fma8``, ``synth7`` or ``custom<n>``."""
    labels = tuple(str(label) for label in labels)
    if labels == GTZAN_GENRES:
        return "gtzan10"
    if labels == FMA_SMALL_GENRES:
        return "fma8"
    from .synth import STYLES

    if labels == tuple(STYLES):
        return "synth7"
    return f"custom{len(labels)}"


def library_versions() -> dict[str, str]:
    """Versions of Python and of the installed libraries that train and load models."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def card_template(**fields: Any) -> dict[str, Any]:
    """A card with every optional key present; ``fields`` override the defaults.

    A ``data["label_set"]`` given as a list of labels is replaced by its
    :func:`label_set_name`.

    Returns
    -------
    dict
        Not yet validated: call :func:`validate_card` (``write_card`` does).
    """
    card: dict[str, Any] = {
        "hyperparameters": {},
        "training_time_s": None,
        "library_versions": library_versions(),
        "command": None,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "notes": [],
        "size_bytes": None,
        "latency_ms_per_30s": None,
    }
    card.update(fields)
    data = card.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("label_set"), (list, tuple)):
        card["data"] = {**data, "label_set": label_set_name(data["label_set"])}
    return card


def _require(mapping: Any, keys: Sequence[str], where: str) -> None:
    if not isinstance(mapping, Mapping):
        raise CardError(f"{where} must be a JSON object, got {type(mapping).__name__}")
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise CardError(f"{where} lacks required key(s): {', '.join(missing)}")


def validate_card(card: Any, where: str = "model card") -> None:
    """Check the required keys and their allowed values.

    Raises
    ------
    CardError
        Naming the first problem found.
    """
    _require(card, REQUIRED_KEYS, where)
    _require(card["data"], REQUIRED_DATA_KEYS, f"{where} 'data'")
    _require(card["input"], REQUIRED_INPUT_KEYS, f"{where} 'input'")
    for key, allowed in (("kind", KINDS), ("framework", FRAMEWORKS)):
        if card[key] not in allowed:
            raise CardError(f"{where}: {key} is {card[key]!r}; expected one of {', '.join(allowed)}")
    if card["data"]["source"] not in SOURCES:
        raise CardError(f"{where}: data.source is {card['data']['source']!r}; expected one of {', '.join(SOURCES)}")
    labels = card["labels"]
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise CardError(f"{where}: labels must be a list of at least two strings")
    if len(set(labels)) != len(labels):
        raise CardError(f"{where}: labels contain duplicates")
    if not isinstance(card["metrics"], Mapping):
        raise CardError(f"{where}: metrics must be a JSON object of protocol → scores")
    artifact = card["artifact"]
    if not isinstance(artifact, str) or not artifact or Path(artifact).name != artifact or artifact in (".", ".."):
        # The artifact must sit inside the model folder: no paths, no '..'.
        raise CardError(f"{where}: artifact must be a plain file name, got {artifact!r}")
    _check_depth(card, where)
    _check_schema(card, where)


def _check_depth(card: Any, where: str) -> None:
    # Iterative, so a deep card cannot hit the recursion limit here either.
    stack = [(card, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CARD_DEPTH:
            raise CardError(f"{where}: nested more than {MAX_CARD_DEPTH} levels deep; not a model card")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)


@functools.lru_cache(maxsize=1)
def _schema_validator() -> Any:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(CARD_SCHEMA)
    return jsonschema.Draft202012Validator(CARD_SCHEMA)


def _check_schema(card: Mapping[str, Any], where: str) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(card))
    if error is not None:
        field = ".".join(str(part) for part in error.absolute_path) or "card"
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        raise CardError(f"{where}: {field}: {message}")


def write_card(model_dir: str | os.PathLike, card: Mapping[str, Any]) -> Path:
    """Validate ``card`` and write it as ``<model_dir>/card.json``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    CardError
        If the card is invalid (nothing is written then).
    """
    model_dir = Path(model_dir)
    validate_card(card, f"card for {model_dir.name}")
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / CARD_FILE
    text = json.dumps(card, indent=2, allow_nan=False, ensure_ascii=False)
    # Write then rename, so a reader never sees half a card.
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_card(model_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and validate ``<model_dir>/card.json``.

    Raises
    ------
    CardError
        If the file is missing, not JSON, or fails :func:`validate_card`.
    """
    path = Path(model_dir) / CARD_FILE
    try:
        if not path.is_file():
            raise CardError(f"{path}: no model card")
        size = path.stat().st_size
        if size > MAX_CARD_BYTES:
            raise CardError(f"{path}: {size} bytes is too large for a model card (limit {MAX_CARD_BYTES} bytes)")
        with path.open("rb") as handle:
            # Read at most one byte past the cap: the file may grow after stat().
            raw = handle.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise CardError(f"{path}: cannot read the model card ({exc.strerror or exc})") from None
    if len(raw) > MAX_CARD_BYTES:
        raise CardError(f"{path}: too large for a model card (limit {MAX_CARD_BYTES} bytes)")
    try:
        card = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise CardError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise CardError(f"{path}: nested too deeply to be a model card") from None
    validate_card(card, str(path))
    return card


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and NaN passes every range check.
    raise ValueError(f"{name} is not a valid JSON number")
