"""What a prediction is worth: training-set overlap, honest accuracy, warnings, the headline verdict.

Streamlit-free helpers behind the app's honesty features:

* :func:`training_overlap`: does the clip's audio match a track the GTZAN
  models were trained on?  (GTZAN-57 vector against each model's stored
  training fingerprint, see :mod:`genre_core.training.fingerprints`.)
* :func:`reliability_warnings`: the input is unlike any training music, or
  the distinct models disagree, and what the prediction is worth then.
* card figures in words (:func:`honest_caption`, :func:`name_with_accuracy`).

Which figure to trust, how models rank and what the headline says are the
evaluation policy's (:mod:`genre_core.evaluation`); this module only words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..evaluation import (
    HONEST_PROTOCOLS,
    Headline,
    distinct_models,
    honest_metric,
    honest_protocol,
    protocol_phrase,
    rank_by_card,
    rank_by_evidence,
)
from ..session import card_dataset, card_notes, display_name
from ..training.fingerprints import Novelty, TrainingFingerprint, TrainingMatch, read_fingerprint

#: Human names of label sets (never show the internal keys).
LABEL_SET_TITLES: dict[str, str] = {
    "gtzan10": "10 GTZAN genres",
    "fma8": "8 FMA-small genres",
    "synth7": "7 synthetic styles",
    "msd50": "50 Million Song Dataset tags",
    "mtt50": "50 MagnaTagATune tags",
}


# --- protocols and names ---------------------------------------------------------------------------


def label_set_title(key: str, n_labels: int | None = None) -> str:
    """A label set's human name (``gtzan10`` → ``10 GTZAN genres``); unknown keys by their size."""
    if key in LABEL_SET_TITLES:
        return LABEL_SET_TITLES[key]
    return f"{n_labels} labels" if n_labels else "own labels"


def name_with_accuracy(card: Mapping[str, Any], name: str, otherwise: str = "") -> str:
    """A model's short name and honest accuracy (``"Logistic regression · 58%"``), for labels and pickers.

    Without a measured accuracy: the short name, then `` · otherwise`` when given.  A card with
    only a random-fold CV figure (no held-out test) says so: that figure is optimistic.

    Examples
    --------
    >>> name_with_accuracy({"display_name": "SVM · GTZAN", "metrics": {}}, "gtzan_svm", otherwise="no test")
    'SVM · no test'
    >>> name_with_accuracy({"display_name": "SVM · GTZAN", "metrics": {"cv10": {"accuracy": 0.74}}}, "gtzan_svm")
    'SVM · 74% random-fold CV'
    """
    metric = honest_metric(card)
    short = display_name(card, name, short=True)
    if metric and metric[0] in HONEST_PROTOCOLS:
        return f"{short} · {metric[1]:.0%}"
    if metric:
        return f"{short} · {metric[1]:.0%} random-fold CV"
    return f"{short} · {otherwise}" if otherwise else short


def honest_caption(card: Mapping[str, Any]) -> str:
    """``"58 % accuracy on the artist-filtered (fault-filtered) test split"``, or a note that none is known."""
    metric = honest_metric(card)
    if metric is None:
        return "no measured accuracy"
    protocol, accuracy = metric
    return f"{accuracy:.0%} accuracy on {protocol_phrase(protocol)}"


def readable_notes(card: Mapping[str, Any]) -> list[str]:
    """A card's notes with internal keys replaced by words (``'protocols'`` → the protocols' names)."""
    notes = card_notes(card)
    names = [protocol_phrase(k) for k in (card.get("metrics") or {}) if isinstance(card["metrics"][k], Mapping)
             and card["metrics"][k].get("accuracy") is not None]
    listed = " and ".join(names) if names else "the evaluation protocols"
    return [n.replace("the protocols listed in 'protocols'", listed).replace("'protocols'", listed) for n in notes]


# --- training-set overlap ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlapReport:
    """Which models were trained on audio matching the clip.

    Attributes
    ----------
    matches : list of TrainingMatch
        Matching training tracks, closest first.
    models : list of str
        Registry names of the models whose training set holds a match.
    checked : list of str
        Models that have a fingerprint (the others cannot be checked).
    novelty : Novelty or None
        How unlike the training music the clip is (from the first fingerprint).
    windows : list of (start, end)
        The clip's analysis windows, indexed by ``TrainingMatch.window``.
    """

    matches: list[TrainingMatch] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    novelty: Novelty | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seen_in_training(self) -> bool:
        """True when at least one model was trained on this audio."""
        return bool(self.models)


def fingerprint_stamp(entries: Iterable[Any]) -> tuple[tuple[str, int, int], ...]:
    """(model name, size, modification time) of each stored fingerprint file.

    Cheap (one ``stat`` per model): it changes when a fingerprint is written or
    removed, so a cache of :func:`load_fingerprints` keyed by it stays current.
    """
    from pathlib import Path

    from ..training import fingerprints

    stamp = []
    for entry in entries:
        try:
            info = (Path(entry.directory) / fingerprints.FINGERPRINT_FILE).stat()
        except OSError:
            continue
        stamp.append((entry.name, int(info.st_size), int(info.st_mtime_ns)))
    return tuple(stamp)


def load_fingerprints(entries: Iterable[Any]) -> dict[str, TrainingFingerprint]:
    """Fingerprints of the registry entries that store one, by model name (damaged files are skipped)."""
    found: dict[str, TrainingFingerprint] = {}
    for entry in entries:
        try:
            fingerprint = read_fingerprint(entry.directory)
        except ValueError:
            continue
        if fingerprint is not None:
            found[entry.name] = fingerprint
    return found


def training_overlap(features: np.ndarray, fingerprints: Mapping[str, TrainingFingerprint],
                     windows: Sequence[tuple[float, float]] = ()) -> OverlapReport:
    """Match a clip's GTZAN-57 window vectors against each model's training fingerprint.

    Parameters
    ----------
    features : np.ndarray, (n_windows, 57)
    fingerprints : mapping of model name → TrainingFingerprint
    windows : sequence of (start, end), optional
    """
    matches: dict[str, TrainingMatch] = {}
    models: list[str] = []
    novelty = None
    cache: dict[int, list[TrainingMatch]] = {}  # the GTZAN models share one training set
    for name, fingerprint in fingerprints.items():
        key = id(fingerprint) if fingerprint.source == "" else hash((fingerprint.source, fingerprint.vectors.shape))
        found = cache.get(key)
        if found is None:
            found = cache[key] = fingerprint.matches(features)
        if novelty is None:
            novelty = fingerprint.novelty(features)
        if found:
            models.append(name)
            for match in found:
                if match.track_id not in matches or match.distance < matches[match.track_id].distance:
                    matches[match.track_id] = match
    return OverlapReport(sorted(matches.values(), key=lambda m: m.distance), models, list(fingerprints), novelty,
                         list(windows))


def overlap_message(report: OverlapReport, cards: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The warning to show when the clip is a training track, naming the figure to trust; else ``None``."""
    if not report.seen_in_training:
        return None
    match = report.matches[0]
    where = ""
    if report.windows and match.window < len(report.windows):
        start, end = report.windows[match.window]
        where = f" (window {start:.0f}–{end:.0f} s)"
    others = [m.track_id for m in report.matches[1:4]]
    also = f" (also equal to {', '.join(others)}: GTZAN repeats some tracks)" if others else ""
    figures = []
    for name in report.models:
        metric = honest_metric(cards.get(name, {}))
        if metric is not None:
            figures.append(f"{display_name(cards.get(name, {}), name, short=True)} {metric[1]:.0%}")
    trust = (f" The figure to trust is the accuracy on {protocol_phrase('fault_filtered_test')}, measured on "
             "artists the models never heard: " + ", ".join(figures) + "." if figures else "")
    return (f"**This clip is a training track.** Its audio{where} matches GTZAN track **{match.track_id}** "
            f"(labelled {match.label}){also}, which the {len(report.models)} GTZAN models were trained on, so "
            f"their answers here are memory, not a test." + trust)


# --- distinct models, agreement, warnings ---------------------------------------------------------------


def reliability_warnings(headline: Headline | None, novelty: Novelty | None,
                         cards: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Warnings about the input and the models' agreement, each saying what the prediction is worth."""
    warnings: list[str] = []
    if novelty is not None and novelty.unlike_training:
        warnings.append(
            f"**This input is probably not music, or nothing like the training music.** Its features are "
            f"{novelty.nearest_distance:.1f} standard deviations (RMS) from the nearest training track, further "
            f"than 99 % of training tracks are from theirs ({novelty.distance_limit:.1f}), and "
            f"{novelty.outside_range} of 57 features lie outside the training range (training tracks: at most "
            f"{novelty.outside_limit // 2} for 99 % of them). The genre models must still pick one of their "
            f"genres, so their confident-looking answers here are worth nothing.")
    voters, agreeing = (headline.voters, headline.agreeing) if headline is not None else ((), ())
    if headline is not None and headline.genre and len(voters) > 2 and 2 * len(agreeing) <= len(voters):
        names = {n: display_name(cards.get(n, {}), n, short=True) for n in voters}
        warnings.append(
            f"**The models disagree:** only {len(agreeing)} of {len(voters)} distinct models pick "
            f"**{headline.genre}** ({', '.join(names[n] for n in agreeing)}). Treat the headline as a "
            f"guess: its model's evidence is an average over clips, and on a clip where the models split it is "
            f"likely lower.")
    return warnings


# --- per-family metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyMetrics:
    """Figures of one model family (same input and label set) on the clip."""

    title: str
    n_models: int
    n_windows: int
    window_seconds: float | None
    seconds: float


def family_metrics(title: str, predictions: Sequence[Any], cards: Mapping[str, Mapping[str, Any]]) -> FamilyMetrics:
    """Model count, analysis windows, window length and time taken of one family's predictions."""
    lengths = [(cards.get(p.model, {}).get("input") or {}).get("window_seconds") for p in predictions]
    known = [float(v) for v in lengths if v]
    return FamilyMetrics(
        title=title,
        n_models=len(predictions),
        n_windows=max((len(p.windows) for p in predictions), default=0),
        window_seconds=max(known) if known else None,
        seconds=float(sum(p.seconds for p in predictions)),
    )


# --- live ---------------------------------------------------------------------------------------------


def live_defaults(entries: Sequence[Any], window_seconds: float, n_genre: int = 1,
                  evidence: Mapping[tuple[str, str], Any] | None = None) -> list[str]:
    """The models Live preselects for a window of ``window_seconds``.

    Taggers read 3 s patches, so any live window suits them: the default taggers
    come first.  Of the genre models, those whose training window fits in the
    live window, else the ``n_genre`` best by the evaluation policy (out-of-domain
    evidence, then the card's honest accuracy; no ensemble).
    """
    from .tagger_views import default_taggers, split_entries

    genre, taggers, _ = split_entries(entries)
    cards = {e.name: e.card for e in genre}
    candidates = distinct_models([e.name for e in genre], cards)
    fitting = [n for n in candidates
               if ((cards[n].get("input") or {}).get("window_seconds") or 0) <= window_seconds] or candidates
    # The evaluation policy's order: out-of-domain evidence first, the card's honest figure after.
    by_evidence = rank_by_evidence(fitting, "gtzan10", evidence or {})
    ranked = by_evidence + [n for n in rank_by_card({n: cards[n] for n in fitting}) if n not in by_evidence]
    return default_taggers(taggers) + ranked[:n_genre]


# --- Compare: the leaderboard by the honest protocol ------------------------------------------------------


def leaderboard_view(cards: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, Any]]:
    """Leaderboard tables per (data set, label set), sorted by the honest protocol, with human names only.

    Returns
    -------
    list of (heading, honest protocol phrase, DataFrame)
        Columns: ``model`` (display name), ``model key`` (registry name, hidden by
        the page), ``accuracy``/``macro-F1`` under the honest protocol, the
        optimistic random-fold CV accuracy when the card has one, ``latency ms/30 s``
        and ``size MB``.  Rows: best honest accuracy first.
    """
    import pandas as pd

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    phrases: dict[tuple[str, str], set[str]] = {}
    for name, card in cards.items():
        data = card.get("data") or {}
        key = (card_dataset(card), label_set_title(str(data.get("label_set", "")),
                                                                    len(card.get("labels") or ())))
        protocol = honest_protocol(card)
        metrics = card.get("metrics") or {}
        honest = metrics.get(protocol) or {} if protocol else {}
        cv = next((v for k, v in metrics.items() if k.startswith("cv") and isinstance(v, Mapping)), None)
        size = card.get("size_bytes")
        groups.setdefault(key, []).append({
            "model": display_name(card, name, short=True),
            "model key": name,
            "accuracy": honest.get("accuracy"),
            "macro-F1": honest.get("macro_f1"),
            "random-fold CV accuracy": None if cv is None or protocol and protocol.startswith("cv")
            else cv.get("accuracy"),
            "latency ms/30 s": card.get("latency_ms_per_30s"),
            "size MB": None if size is None else size / 1e6,
        })
        if protocol:
            phrases.setdefault(key, set()).add(protocol_phrase(protocol))
    views = []
    for (dataset, labels), rows in sorted(groups.items()):
        table = pd.DataFrame(rows).sort_values("accuracy", ascending=False, na_position="last")
        table = table.dropna(axis=1, how="all").reset_index(drop=True)
        views.append((f"{dataset} · {labels}", " / ".join(sorted(phrases.get((dataset, labels), {"no test"}))), table))
    return views


def chartable_latency(table: Any) -> Any:
    """The ``latency ms/30 s`` column of a :func:`leaderboard_view` table when an accuracy-against-latency
    chart can be drawn (two models or more, every latency known), else None."""
    latency = table.get("latency ms/30 s")
    if len(table) < 2 or "accuracy" not in table or latency is None or not latency.notna().all():
        return None
    return latency


def protocol_options(card: Mapping[str, Any], available: Sequence[str]) -> list[str]:
    """Protocol keys for the detail view, the honest one first (so it is the default)."""
    honest = honest_protocol(card)
    return sorted(available, key=lambda k: (k != honest, k))


def curves_note(card: Mapping[str, Any], history: Mapping[str, Sequence[float]]) -> str:
    """What the training curves show: with a validation set, or why there is none."""
    from ..plots import has_validation  # plotly loads only when curves are shown

    if has_validation(history):
        return "Solid: training; dashed: validation (tracks held out from training, used for early stopping)."
    trained_on = (card.get("data") or {}).get("trained_on") or "all its tracks"
    return (f"Training curves only: the shipped model was trained on {trained_on.split(' (')[0]} with no "
            "validation set. How well it generalises is the held-out figure above, not these curves.")


def window_note(window_seconds: float, interval: float, cards: Sequence[Mapping[str, Any]]) -> str:
    """What the Live page analyses, and how that compares with each chosen model's training window."""
    note = f"Each update analyses the **last {window_seconds:g} s** of audio, every {interval:g} s."
    longer = sorted({float((c.get("input") or {}).get("window_seconds") or 0) for c in cards
                     if (c.get("input") or {}).get("window_seconds") and
                     float(c["input"]["window_seconds"]) > window_seconds})
    if any(c.get("kind") == "tagger" for c in cards):
        note += " Taggers read it as 3 s patches, as they were trained."
    if longer:
        note += (f" The GTZAN models were trained on {longer[-1]:g} s clips: on a {window_seconds:g} s window their "
                 f"features are summaries of less music than in training, so expect less than their stated "
                 f"accuracy (a {longer[-1]:g} s window matches their training).")
    return note
