"""The last step of every training run: write the card, time the saved model, write it again.

One place for it, so classical, deep and transfer cards carry the latency
measured the same way: the model loaded back from disk, as the app loads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..cards import write_card
from ..models.base import Predictor
from ..predict import latency_ms_per_30s


def ship_card(
    model_dir: str | os.PathLike,
    card: dict[str, Any],
    load_predictor: Callable[[Path, Mapping[str, Any]], Predictor],
    measure_latency: bool = True,
) -> dict[str, Any]:
    """Write ``card`` into ``model_dir``; with ``measure_latency``, add ``latency_ms_per_30s`` and rewrite it.

    The card is written before the model is loaded, because the loaders read
    what it says (artifact, labels, input).

    Returns
    -------
    dict
        ``card``, with the latency when measured.
    """
    model_dir = Path(model_dir)
    write_card(model_dir, card)
    if measure_latency:
        card["latency_ms_per_30s"] = round(latency_ms_per_30s(load_predictor(model_dir, card)), 1)
        write_card(model_dir, card)
    return card
