"""What the pages show for the pretrained taggers: tag groups, tag timelines, mapped genres, agreement.

A tagger (musicnn or VGG, trained by Pons & Serra on MSD or MagnaTagATune)
predicts 50 independent tag probabilities, not a genre distribution.  The
helpers here turn its :class:`~genre_core.predict.Prediction` into the views
the app shows, and compare it with the genre classifiers only through
:func:`genre_core.tags.map_to_genres`, a crosswalk written by hand.  Every view
of mapped genres is therefore labelled with :data:`MAPPING_NOTE`.

Nothing here imports Streamlit.

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> from genre_core.tags import MSD_TAGS
>>> p = np.zeros(50); p[MSD_TAGS.index("heavy metal")] = 0.9
>>> tagger = SimpleNamespace(model="msd_musicnn", labels=MSD_TAGS, probabilities=p, multi_label=True)
>>> mapped_top_genre(tagger, "gtzan10")
('metal', 0.9)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..tags import GENRE_SETS, map_to_genres, split_by_category, tag_set_name

#: Card key: taggers shown on Classify without the user adding them.
SHOWN_BY_DEFAULT: str = "shown_by_default"
#: The sentence every mapped-genre view carries.
MAPPING_NOTE: str = ("Mapped through a hand-written crosswalk (genre_core.tags), not trained: a genre's score "
                     "is the highest probability among the tags that map to it, so scores do not sum to 1.")
#: What a tagger's probabilities are (shown under its tag bars).
INDEPENDENT_NOTE: str = ("Tag probabilities are independent (one sigmoid per tag): several tags can be likely "
                         "at once and they do not sum to 1.")
#: Display names of the genre sets a tagger can be mapped to.
GENRE_SET_TITLES: dict[str, str] = {"gtzan10": "GTZAN (10 genres)", "fma8": "FMA-small (8 genres)"}
#: Display names of the taggers' training sets.
TAG_DATASETS: dict[str, str] = {"msd": "Million Song Dataset", "mtt": "MagnaTagATune"}
#: Order and titles of the non-genre tag categories.
OTHER_CATEGORIES: dict[str, str] = {"decade": "Decade", "mood": "Mood", "vocals": "Vocals",
                                    "instrument": "Instruments"}


def card_of(entry_or_card: Any) -> Mapping[str, Any]:
    """The card of a registry entry, a predictor, or a card itself."""
    card = getattr(entry_or_card, "card", entry_or_card)
    return card if isinstance(card, Mapping) else {}


def is_tagger(entry_or_card: Any) -> bool:
    """Whether a registry entry (or card) is a pretrained multi-label tagger."""
    card = card_of(entry_or_card)
    return card.get("kind") == "tagger" or bool(card.get("multi_label"))


def shown_by_default(entry_or_card: Any) -> bool:
    """Whether a tagger's card asks to be shown without the user adding it."""
    return bool(card_of(entry_or_card).get(SHOWN_BY_DEFAULT))


def split_entries(entries: Iterable[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """Registry entries as (real-data genre classifiers, taggers, synthetic demos), each by name."""
    genre, taggers, synthetic = [], [], []
    for entry in sorted(entries, key=lambda e: e.name):
        if is_tagger(entry):
            taggers.append(entry)
        elif entry.is_real_data:
            genre.append(entry)
        else:
            synthetic.append(entry)
    return genre, taggers, synthetic


def default_taggers(taggers: Sequence[Any]) -> list[str]:
    """Names of the taggers shown by default (their cards say ``shown_by_default``)."""
    return [e.name for e in taggers if shown_by_default(e)]


def tagger_title(card: Mapping[str, Any], fallback: str) -> str:
    """A human name: ``musicnn · MSD tagger`` from the card, else the registry name."""
    return str(card.get("display_name") or card.get("name") or fallback)


def trained_on(card: Mapping[str, Any]) -> str:
    """The tagger's training set in words (``Million Song Dataset``)."""
    dataset = str((card.get("data") or {}).get("dataset", ""))
    return TAG_DATASETS.get(dataset, dataset or "unknown")


# --- one tagger's prediction -----------------------------------------------------------------------


@dataclass(frozen=True)
class TagGroups:
    """A tagger's tags split for display: genre tags, and the rest by category.

    Attributes
    ----------
    genre : list of (tag, probability)
        Most probable first.
    other : dict of category title → list of (tag, probability)
        Decades, moods, vocals, instruments (only categories with tags).
    """

    genre: list[tuple[str, float]]
    other: dict[str, list[tuple[str, float]]]


def tag_groups(labels: Sequence[str], probabilities: np.ndarray, *, top_genre: int = 8,
               top_other: int = 3) -> TagGroups:
    """The ``top_genre`` genre tags and the ``top_other`` tags of each other category."""
    genre = list(split_by_category(labels, probabilities, top=top_genre).get("genre", []))
    others = split_by_category(labels, probabilities, top=top_other)
    other = {title: list(others[category]) for category, title in OTHER_CATEGORIES.items() if category in others}
    return TagGroups(genre=genre, other=other)


def tags_text(items: Sequence[tuple[str, float]]) -> str:
    """``"80s 41% · 90s 12%"``."""
    return " · ".join(f"{tag} {p:.0%}" for tag, p in items)


def top_tags_over_time(labels: Sequence[str], window_probabilities: np.ndarray, top: int = 10
                       ) -> tuple[list[str], np.ndarray]:
    """The ``top`` tags by mean probability over the windows, and their columns.

    Returns
    -------
    tags : list of str
        Most probable (on average) first.
    matrix : np.ndarray, shape (n_windows, len(tags))
    """
    probs = np.asarray(window_probabilities, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != len(labels):
        raise ValueError(f"expected (n_windows, {len(labels)}) probabilities, got shape {probs.shape}")
    order = np.argsort(-probs.mean(axis=0), kind="stable")[:top] if len(probs) else np.arange(0)
    return [labels[i] for i in order], probs[:, order]


def can_map(prediction: Any) -> bool:
    """Whether a prediction's labels are a tag vocabulary the crosswalk knows."""
    return tag_set_name(prediction.labels) is not None


def mapped_genres(prediction: Any, genre_set: str = "gtzan10") -> tuple[tuple[str, ...], np.ndarray]:
    """A tagger's track-level tags mapped to ``genre_set``: (genres, scores), not a distribution."""
    return GENRE_SETS[genre_set], map_to_genres(prediction.labels, prediction.probabilities, genre_set)


def mapped_top_genre(prediction: Any, genre_set: str = "gtzan10") -> tuple[str | None, float]:
    """The mapped genre with the highest score, or (None, 0) when no mapped tag has any probability."""
    genres, scores = mapped_genres(prediction, genre_set)
    if not len(scores) or float(np.max(scores)) <= 0.0:
        return None, 0.0
    best = int(np.argmax(scores))
    return genres[best], float(scores[best])


# --- agreement of genre classifiers and (mapped) taggers ----------------------------------------------


def agreement_rows(genre_predictions: Sequence[Any], tagger_predictions: Sequence[Any], genre_set: str,
                   names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per model: its top genre in ``genre_set`` and how it got there.

    Genre classifiers count only when their labels are exactly ``genre_set``;
    taggers are mapped through the crosswalk.

    Returns
    -------
    pd.DataFrame
        Columns ``model``, ``how`` (``trained genre classifier`` or ``tagger, mapped
        through the crosswalk``), ``genre``, ``score``.
    """
    names = names or {}
    genres = GENRE_SETS[genre_set]
    rows = []
    for p in genre_predictions:
        if tuple(p.labels) != tuple(genres):
            continue
        best = int(np.argmax(p.probabilities))
        rows.append({"model": names.get(p.model, p.model), "how": "trained genre classifier",
                     "genre": p.labels[best], "score": float(p.probabilities[best])})
    for p in tagger_predictions:
        if not can_map(p):
            continue
        genre, score = mapped_top_genre(p, genre_set)
        rows.append({"model": names.get(p.model, p.model), "how": "tagger, mapped through the crosswalk",
                     "genre": genre or "(no genre tag maps here)", "score": score})
    return pd.DataFrame(rows, columns=["model", "how", "genre", "score"])


def agreement_sentence(rows: pd.DataFrame) -> str:
    """One sentence: how many of the models pick the most common genre."""
    picks = rows.loc[~rows["genre"].str.startswith("("), "genre"] if len(rows) else pd.Series(dtype=str)
    if picks.empty:
        return "No model gives a genre here."
    counts = picks.value_counts()
    lead, n = str(counts.index[0]), int(counts.iloc[0])
    if len(counts) > 1 and int(counts.iloc[1]) == n:
        tied = ", ".join(f"**{g}**" for g, c in counts.items() if int(c) == n)
        return f"The models are split between {tied} ({n} each, of {len(rows)})."
    if n == len(rows):
        return f"All {len(rows)} models pick **{lead}**."
    return f"{n} of {len(rows)} models pick **{lead}**."


def mapped_matrix(tagger_predictions: Sequence[Any], genre_set: str) -> tuple[list[str], list[str], np.ndarray]:
    """Taggers × genres matrix of mapped scores (only taggers with a known vocabulary)."""
    usable = [p for p in tagger_predictions if can_map(p)]
    genres = list(GENRE_SETS[genre_set])
    if not usable:
        return [], genres, np.zeros((0, len(genres)))
    return [p.model for p in usable], genres, np.vstack([mapped_genres(p, genre_set)[1] for p in usable])


# --- Compare: the authors' figures ----------------------------------------------------------------


def tagger_table(cards: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The taggers' published figures, one row per tagger card.

    Returns
    -------
    pd.DataFrame
        Columns ``model`` (registry name), ``name`` (human name), ``architecture``,
        ``trained on``, ``authors' ROC-AUC``, ``authors' PR-AUC``, ``licence``;
        MSD taggers first, the best ROC-AUC first within each training set.
    """
    rows = []
    for name, card in cards.items():
        if not is_tagger(card):
            continue
        authors = (card.get("metrics") or {}).get("authors_test") or {}
        rows.append({
            "model": name,
            "name": tagger_title(card, name),
            "architecture": str(card.get("architecture", "")),
            "trained on": trained_on(card),
            "authors' ROC-AUC": authors.get("roc_auc"),
            "authors' PR-AUC": authors.get("pr_auc"),
            "licence": str((card.get("source") or {}).get("licence", "")),
        })
    columns = ["model", "name", "architecture", "trained on", "authors' ROC-AUC", "authors' PR-AUC", "licence"]
    # MSD before MTT (the dataset codes' order), the best ROC-AUC first within each.
    codes = {name: str((card.get("data") or {}).get("dataset", "")) for name, card in cards.items()}
    rows.sort(key=lambda row: (codes[row["model"]], -(row["authors' ROC-AUC"] or 0.0)))
    return pd.DataFrame(rows, columns=columns)


def live_bars(prediction: Any, top: int = 5) -> tuple[list[str], list[float], str]:
    """What the Live page draws for one prediction: (labels, probabilities, caption).

    A tagger shows its ``top`` genre tags (50 bars would not read at a glance);
    a genre classifier shows all its labels.
    """
    if getattr(prediction, "multi_label", False):
        groups = tag_groups(prediction.labels, prediction.probabilities, top_genre=top, top_other=1)
        labels = [tag for tag, _ in groups.genre]
        probs = [p for _, p in groups.genre]
        return labels, probs, "Top genre tags (independent probabilities): " + tags_text(groups.genre[:3])
    probs = np.asarray(prediction.probabilities, dtype=float)
    order = np.argsort(-probs, kind="stable")[:3]
    caption = " · ".join(f"{r}. {prediction.labels[i]} {probs[i]:.0%}" for r, i in enumerate(order, start=1))
    return list(prediction.labels), [float(p) for p in probs], caption
