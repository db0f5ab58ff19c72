"""The model registry: every ``<dir>/<name>/card.json`` under the model folders.

Cards are read (and validated against the card schema) when the registry is
built; models are loaded on first use and kept.  A folder with a broken card
is skipped with a warning naming the folder and the reason, and a model that
fails to load is reported by :meth:`ModelRegistry.load_many` without stopping
the others, so one bad model never takes the app or the CLI down.

Examples
--------
>>> registry = ModelRegistry()                                  # doctest: +SKIP
>>> [e.name for e in registry.entries(kind="classical")]        # doctest: +SKIP
['gtzan_ensemble', 'gtzan_gnb', 'gtzan_knn', 'gtzan_logreg', 'gtzan_svm']
>>> registry.load("gtzan_svm").labels                           # doctest: +SKIP
('blues', 'classical', ...)
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cards import CARD_FILE, CardError, read_card
from .config import MODELS_DIR
from .errors import GenreLabError, ModelLoadError, ModelNotFoundError
from .models.base import Predictor

__all__ = ["ModelEntry", "ModelLoadError", "ModelNotFoundError", "ModelRegistry", "default_registry"]


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its name, folder and card (not the loaded model)."""

    name: str
    directory: Path
    card: dict[str, Any]

    @property
    def is_real_data(self) -> bool:
        """True when the model was trained on real recordings, not synthetic clips."""
        return (self.card.get("data") or {}).get("source") == "real"

    @property
    def label_set(self) -> str:
        """Name of the label list (``gtzan10``, ``synth7``, ...): the card's, required and checked by
        :func:`genre_core.cards.validate_card` (``card_template`` names a list with ``label_set_name``)."""
        return str(self.card["data"]["label_set"])

    @property
    def shown_by_default(self) -> bool:
        """True for the models Classify, Live and the CLI run unless asked otherwise.

        A card may say so (``"shown_by_default"``); otherwise every real-data
        genre classifier is, and taggers and synthetic demos are not.
        """
        flag = self.card.get("shown_by_default")
        if isinstance(flag, bool):
            return flag
        return self.is_real_data and self.kind not in ("tagger", "transfer")

    @property
    def kind(self) -> str:
        """``classical``, ``dense`` or ``deep``."""
        return str(self.card["kind"])


def _loader_for(card: dict[str, Any]) -> Any:
    """The ``load_predictor(directory, card)`` function for a card's kind."""
    if card["kind"] == "tagger":
        from .models.tagger import load_predictor as load_tagger

        return load_tagger
    if card["kind"] == "transfer":
        from .models.transfer import load_predictor as load_transfer

        return load_transfer
    if card["kind"] == "deep":
        try:
            module = importlib.import_module("genre_core.models.deep_predictor")
        except ImportError as exc:
            raise ModelLoadError(
                f"model {card['name']!r} is a deep model, but genre_core.models.deep_predictor "
                f"cannot be imported ({exc})"
            ) from exc
        return module.load_predictor
    from .models.feature_predictor import load_predictor

    return load_predictor


class ModelRegistry:
    """Models found under one or more folders.

    Parameters
    ----------
    dirs : sequence of path
        Folders whose sub-folders hold ``card.json`` and the model file.  A
        name found in several folders is taken from the first (with a warning).
    """

    def __init__(self, dirs: Sequence[str | os.PathLike] = (MODELS_DIR,)) -> None:
        if isinstance(dirs, (str, os.PathLike)):
            dirs = (dirs,)
        self.dirs = tuple(Path(d) for d in dirs)
        self._entries: dict[str, ModelEntry] = {}
        self._loaded: dict[str, Predictor] = {}
        self._failed: dict[str, GenreLabError] = {}
        # Loads are serialised: the app's warm-up thread and its sessions' threads share one
        # registry, and two threads must not load (and hold) the same model twice.
        self._load_lock = threading.RLock()
        for root in self.dirs:
            self._scan(root)

    def _scan(self, root: Path) -> None:
        if not root.is_dir():
            if root != MODELS_DIR:
                warnings.warn(f"model folder {root} does not exist", stacklevel=3)
            return
        try:
            card_paths = sorted(root.glob(f"*/{CARD_FILE}"))
        except OSError as exc:
            warnings.warn(f"cannot list model folder {root}: {exc}", stacklevel=3)
            return
        for card_path in card_paths:
            directory = card_path.parent
            try:
                card = read_card(directory)
            except CardError as exc:
                # The message names the card file and the reason.
                warnings.warn(f"skipping model folder {directory}: {exc}", stacklevel=3)
                continue
            name = str(card["name"])
            if name in self._entries:
                warnings.warn(
                    f"skipping {directory}: a model named {name!r} was already found in "
                    f"{self._entries[name].directory}",
                    stacklevel=3,
                )
                continue
            self._entries[name] = ModelEntry(name, directory, card)

    def entries(self, kind: str | None = None, real_only: bool = False) -> list[ModelEntry]:
        """Registered models, sorted by name; optionally of one kind and/or real-data only."""
        return [
            e for name, e in sorted(self._entries.items())
            if (kind is None or e.kind == kind) and (e.is_real_data or not real_only)
        ]

    def names(self) -> list[str]:
        """Names of all registered models, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> ModelEntry:
        """The entry of a model.

        Raises
        ------
        ModelNotFoundError
            Listing the known names.
        """
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ModelNotFoundError(f"no model named {name!r}; known models: {known}") from None

    def load(self, name: str) -> Predictor:
        """Load a model (once; later calls return the same object, or raise the same error).

        Raises
        ------
        ModelNotFoundError
            For an unknown name.
        ModelLoadError
            When the model file is missing, too large, untrusted
            (:class:`~genre_core.errors.UntrustedModelError`), unreadable or does
            not match its card; the message names the model folder.
        """
        if name in self._loaded:
            return self._loaded[name]
        with self._load_lock:
            return self._load_locked(name)

    def _load_locked(self, name: str) -> Predictor:
        if name in self._loaded:  # loaded by another thread while this one waited
            return self._loaded[name]
        if name in self._failed:
            raise self._failed[name]
        entry = self.get(name)
        try:
            predictor = _loader_for(entry.card)(entry.directory, entry.card)
        except GenreLabError as exc:
            self._failed[name] = exc
            raise
        except Exception as exc:
            # The loaders parse files from anywhere (a user's --models-dir): whatever
            # a third-party deserialiser raises on a bad file is that model's failure.
            error = ModelLoadError(f"{entry.directory}: cannot load model {name!r} "
                                   f"({type(exc).__name__}: {str(exc).strip()[:300]})")
            self._failed[name] = error
            raise error from exc
        self._loaded[name] = predictor
        return predictor

    def loaded_names(self) -> list[str]:
        """Names of the models loaded so far in this process, in load order."""
        return list(self._loaded)

    def load_many(self, names: Sequence[str]) -> tuple[list[Predictor], dict[str, str]]:
        """Load several models; one that fails does not stop the others.

        Parameters
        ----------
        names : sequence of str

        Returns
        -------
        predictors : list of Predictor
            The models that loaded, in the order of ``names``.
        failures : dict of str to str
            Name → reason (naming the model folder) for each that did not.
        """
        predictors: list[Predictor] = []
        failures: dict[str, str] = {}
        for name in names:
            try:
                predictors.append(self.load(name))
            except GenreLabError as exc:
                failures[name] = _reason(self, name, exc)
        return predictors, failures


def _reason(registry: ModelRegistry, name: str, exc: Exception) -> str:
    """The message of a load failure, naming the model's folder if it does not already."""
    text = str(exc)
    if name in registry:
        directory = str(registry.get(name).directory)
        if directory not in text:
            text = f"{directory}: {text}"
    return text


@functools.lru_cache(maxsize=1)
def default_registry() -> ModelRegistry:
    """The registry of the shipped ``models/`` folder, built once per process."""
    return ModelRegistry((MODELS_DIR,))
