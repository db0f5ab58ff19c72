"""Per-clip analysis results shared by every session of a server process, bounded by bytes.

A class uploads many clips at once.  The app keeps each clip's results (every
model's :class:`~genre_core.models.base.Prediction` and the GTZAN-57 window
features) once per clip *content* (its SHA-256), for all sessions: two
students with the same example pay for one analysis, and a student coming
back to Classify after thirty others uploaded finds their clip still there.

* **Bounded by bytes, not entries.**  The oldest-used clips go first once the
  results' arrays pass :attr:`ResultStore.max_bytes`; a clip's results are
  small (kilobytes), so a class never evicts each other into re-analysis.
* **One analysis per clip at a time.**  :meth:`ResultStore.clip_lock` is held
  while a clip is analysed: a second session asking for the same clip waits,
  then finds the results instead of computing them again.  Different clips
  are analysed at once.
* **Immutable.**  Stored arrays are made read-only: a page cannot change
  what another session will read.

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> store = ResultStore(max_bytes=10_000)
>>> store.put("clip-a", {"m": SimpleNamespace(probabilities=np.zeros(10))})
>>> store.get("clip-a", ["m", "other"]).keys(), store.nbytes
(dict_keys(['m']), 80)
>>> store.get("clip-a", ["m"])["m"].probabilities.flags.writeable
False
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

#: Bytes of results a server process keeps (about 64 MB: thousands of clips).
DEFAULT_MAX_BYTES: int = 64 * 1024 * 1024


def _arrays(value: Any) -> list[np.ndarray]:
    """The numpy arrays a result holds (its attributes, one level deep)."""
    if isinstance(value, np.ndarray):
        return [value]
    fields = vars(value) if hasattr(value, "__dict__") else (
        {f.name: getattr(value, f.name) for f in dataclasses.fields(value)} if dataclasses.is_dataclass(value) else {})
    return [v for v in fields.values() if isinstance(v, np.ndarray)]


def result_nbytes(value: Any) -> int:
    """Bytes of the arrays a stored result holds (what grows with a clip's length)."""
    return int(sum(a.nbytes for a in _arrays(value)))


class ResultStore:
    """Results by (clip digest, key), LRU by clip, bounded by :attr:`max_bytes`; thread-safe.

    Parameters
    ----------
    max_bytes : int
        Bytes of arrays kept; the least recently used clips are dropped beyond it
        (the newest clip is always kept, whatever its size).
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._clips: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._clip_locks: dict[str, threading.Lock] = {}

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return sum(self._sizes.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._clips)

    def clip_lock(self, digest: str) -> threading.Lock:
        """The lock to hold while analysing clip ``digest`` (one analysis per clip at a time)."""
        with self._lock:
            return self._clip_locks.setdefault(digest, threading.Lock())

    def get(self, digest: str, keys: Iterable[str]) -> dict[str, Any]:
        """The stored results of ``keys`` for a clip (those there are); marks the clip as used."""
        with self._lock:
            results = self._clips.get(digest)
            if results is None:
                return {}
            self._clips.move_to_end(digest)
            return {k: results[k] for k in keys if k in results}

    def put(self, digest: str, results: Mapping[str, Any]) -> None:
        """Add results of a clip (their arrays made read-only), then drop the least recently used clips
        beyond :attr:`max_bytes`."""
        for value in results.values():
            for array in _arrays(value):
                array.setflags(write=False)
        with self._lock:
            stored = self._clips.setdefault(digest, {})
            stored.update(results)
            self._clips.move_to_end(digest)
            self._sizes[digest] = sum(result_nbytes(v) for v in stored.values())
            while len(self._clips) > 1 and sum(self._sizes.values()) > self.max_bytes:
                old, _ = self._clips.popitem(last=False)
                del self._sizes[old]
                lock = self._clip_locks.get(old)
                if lock is not None and not lock.locked():
                    del self._clip_locks[old]
