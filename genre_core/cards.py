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

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .constants import FMA_SMALL_GENRES, GTZAN_GENRES

CARD_FILE: str = "card.json"
KINDS: tuple[str, ...] = ("classical", "dense", "deep", "tagger")
FRAMEWORKS: tuple[str, ...] = ("sklearn", "keras")
SOURCES: tuple[str, ...] = ("real", "synthetic")
REQUIRED_KEYS: tuple[str, ...] = (
    "name", "display_name", "kind", "architecture", "framework", "artifact",
    "data", "input", "labels", "metrics",
)
REQUIRED_DATA_KEYS: tuple[str, ...] = ("dataset", "source", "description", "n_tracks", "label_set")
REQUIRED_INPUT_KEYS: tuple[str, ...] = ("kind", "window_seconds", "hop_seconds", "sample_rate", "shape")
#: Distributions whose versions a card records (the import name may differ).
_LIBRARIES: tuple[str, ...] = (
    "numpy", "scipy", "scikit-learn", "skops", "tensorflow", "keras", "librosa", "soundfile", "soxr", "pandas",
)


class CardError(ValueError):
    """A model card is missing, unreadable or lacks required fields."""


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
    if not isinstance(artifact, str) or not artifact or Path(artifact).name != artifact:
        # The artifact must sit inside the model folder: no paths, no '..'.
        raise CardError(f"{where}: artifact must be a plain file name, got {artifact!r}")


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
    if not path.is_file():
        raise CardError(f"{path}: no model card")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: not valid JSON ({exc})") from None
    validate_card(card, str(path))
    return card
