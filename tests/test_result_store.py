"""The per-clip result store every session of a server shares: bounded by bytes, one analysis per clip."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from genre_core.app.result_store import ResultStore, result_nbytes


def _result(n: int) -> SimpleNamespace:
    return SimpleNamespace(probabilities=np.zeros(n), window_probabilities=np.zeros((2, n)), seconds=0.1)


def test_bounded_by_bytes_least_recently_used_clip_first():
    one = result_nbytes(_result(100))
    assert one == 3 * 100 * 8
    store = ResultStore(max_bytes=3 * one)
    for digest in ("a", "b", "c"):
        store.put(digest, {"m": _result(100)})
    assert len(store) == 3 and store.nbytes == 3 * one
    store.get("a", ["m"])  # a is now the most recently used
    store.put("d", {"m": _result(100)})
    assert store.get("b", ["m"]) == {}  # b was the least recently used
    assert set(store.get("a", ["m"])) == {"m"} and set(store.get("d", ["m"])) == {"m"}
    assert store.nbytes <= 3 * one


def test_a_clip_larger_than_the_budget_is_still_kept_alone():
    store = ResultStore(max_bytes=10)
    store.put("big", {"m": _result(1000)})
    assert set(store.get("big", ["m"])) == {"m"} and len(store) == 1
    store.put("next", {"m": _result(1000)})
    assert store.get("big", ["m"]) == {} and len(store) == 1


def test_stored_results_are_read_only():
    store = ResultStore()
    store.put("a", {"m": _result(4)})
    stored = store.get("a", ["m"])["m"]
    with pytest.raises(ValueError):
        stored.probabilities[0] = 1.0


def test_one_analysis_per_clip_when_sessions_ask_at_once():
    """Four sessions ask for the same clip at once (the pages' pattern): one computes, the others read."""
    store, computed = ResultStore(), []

    def session() -> None:
        if store.get("same", ["m"]):
            return
        with store.clip_lock("same"):
            if store.get("same", ["m"]):
                return
            computed.append(1)
            time.sleep(0.2)  # the analysis
            store.put("same", {"m": _result(10)})

    threads = [threading.Thread(target=session) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert computed == [1]
    assert store.clip_lock("other") is not store.clip_lock("same")  # other clips are not held up
