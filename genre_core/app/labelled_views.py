"""What Compare shows of models scored on labelled clips: tables per vocabulary, wrong clips, uploads.

Scores come either from the stored out-of-domain evidence
(:func:`genre_core.evaluation.stored_scores`: the records ``genre-lab evidence``
wrote) or from clips a user uploads and labels (:func:`evaluate_uploads`, which
runs :func:`genre_core.scoring.analyse_labelled` and
:func:`~genre_core.scoring.score_results`).  Both are handled here as the same
records (:meth:`genre_core.scoring.Score.to_dict`), so both views show the
same table: per vocabulary (GTZAN's 10 genres first, then FMA's 8, then the
taggers' own tags), every model's right answers out of the clips that counted,
the accuracy with its 95 % Wilson interval, the macro-F1 with its bootstrap
interval, the clips left out and why, and apart from those, the figure on the
model's own card (measured on its own test set, so not comparable across
families).

Nothing here imports Streamlit.

Examples
--------
>>> record = {"model": "m", "vocabulary": "gtzan10", "k": 7, "n": 13, "accuracy": 7 / 13,
...           "accuracy_interval_95": [0.29, 0.77], "macro_f1": 0.5, "macro_f1_interval_95": [0.3, 0.7],
...           "left_out": {"no right answer in this vocabulary": 10}}
>>> table = score_table([record], {"m": {"display_name": "My model · GTZAN", "metrics": {}}})
>>> table.loc[0, ["model", "right", "accuracy 95 % interval", "left out"]].tolist()
['My model · GTZAN', '7 of 13', '29–77 %', '10: no right answer in this vocabulary']
>>> vocabulary_title("fma8")
"FMA's 8 genres"
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..audio import AudioError
from ..evaluation import EVIDENCE_FILE, VOCABULARY_TITLES, EvidenceError, honest_metric, protocol_phrase
from ..labelled import OWN_LABELS, LabelledClip, LabelledSet, vocabulary_labels
from ..scoring import N_RESAMPLES, analyse_labelled, score_results, vocabularies_of
from ..session import MAX_UPLOAD_MB, check_upload_size, content_hash, display_name

#: The order vocabularies are shown in: GTZAN's genres, FMA's, then the taggers' own tags (own label lists last).
VOCABULARY_ORDER: tuple[str, ...] = ("gtzan10", "fma8", "msd50", "mtt50")
#: The measured columns of :func:`score_table`, then the card's, which are set apart.
MEASURED_COLUMNS: tuple[str, ...] = ("model", "right", "accuracy", "accuracy 95 % interval", "macro-F1",
                                     "macro-F1 95 % interval", "left out")
CARD_COLUMNS: tuple[str, ...] = ("card: accuracy", "card: measured on")
#: Bootstrap resamples of each macro-F1 interval on uploaded clips (the stored evidence's number).
UPLOAD_RESAMPLES: int = N_RESAMPLES
#: The collection name uploaded clips are scored under.
UPLOADS: str = "your clips"
#: GTZAN's file names (``blues.00000.wav``): the label an upload's row starts with.
_GTZAN_NAME = re.compile(r"^([a-z]+)\.\d{5}$")


# --- vocabularies ---------------------------------------------------------------------------------


def vocabulary_title(vocabulary: str) -> str:
    """A vocabulary in words (``gtzan10`` → ``GTZAN's 10 genres``; a model's own list by its labels).

    Examples
    --------
    >>> vocabulary_title("msd50")
    "the MSD taggers' genre tags"
    >>> vocabulary_title("labels:jazz|rock")
    'its own labels (jazz, rock)'
    """
    if vocabulary in VOCABULARY_TITLES:
        return VOCABULARY_TITLES[vocabulary]
    if vocabulary.startswith(OWN_LABELS):
        return f"its own labels ({', '.join(vocabulary_labels(vocabulary))})"
    return vocabulary


def by_vocabulary(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Score records grouped by vocabulary, in :data:`VOCABULARY_ORDER` (others after, first seen first).

    Examples
    --------
    >>> list(by_vocabulary([{"vocabulary": "msd50"}, {"vocabulary": "labels:a|b"}, {"vocabulary": "gtzan10"},
    ...                     {"vocabulary": "fma8"}]))
    ['gtzan10', 'fma8', 'msd50', 'labels:a|b']
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(str(record["vocabulary"]), []).append(record)
    rank = {v: i for i, v in enumerate(VOCABULARY_ORDER)}
    order = sorted(groups, key=lambda v: (rank.get(v, len(rank)), list(groups).index(v)))
    return {v: groups[v] for v in order}


# --- records ----------------------------------------------------------------------------------------


def interval_text(interval: Sequence[float] | None) -> str:
    """A 95 % interval in percent (``29–77 %``), or ``—`` without one.

    Examples
    --------
    >>> interval_text([0.2857, 0.7659]), interval_text(None)
    ('29–77 %', '—')
    """
    if not interval:
        return "—"
    low, high = interval
    return f"{low * 100:.0f}–{high * 100:.0f} %"


def left_out_text(left_out: Mapping[str, int]) -> str:
    """The clips left out and why (``10: no right answer in this vocabulary; 5: …``), or ``none``.

    Examples
    --------
    >>> left_out_text({"from the model's training set": 5, "no right answer in this vocabulary": 10})
    "10: no right answer in this vocabulary; 5: from the model's training set"
    >>> left_out_text({})
    'none'
    """
    items = sorted(((int(n), reason) for reason, n in left_out.items() if n), key=lambda item: (-item[0], item[1]))
    return "; ".join(f"{n}: {reason}" for n, reason in items) or "none"


def _ranked(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One vocabulary's records in the headline rule's order (:func:`genre_core.evaluation.rank_by_evidence`),
    those with no clip last."""
    from ..evaluation import Evidence, rank_by_evidence

    names = [str(r["model"]) for r in records]
    evidence = {(str(r["model"]), "one"): Evidence(str(r["model"]), "one", int(r.get("k") or 0), int(r.get("n") or 0))
                for r in records}
    ranked = rank_by_evidence(names, "one", evidence)
    return sorted(records, key=lambda r: (ranked.index(str(r["model"])) if str(r["model"]) in ranked else len(ranked),
                                          str(r["model"])))


def score_table(records: Sequence[Mapping[str, Any]], cards: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One vocabulary's scores as a table, with human column names; the card's figure set apart.

    Parameters
    ----------
    records : sequence of dict
        :meth:`~genre_core.scoring.Score.to_dict` records of one vocabulary.
    cards : mapping of model → card
        For display names and the card's own figure (a model without a card is named by its key).

    Returns
    -------
    pandas.DataFrame, shape (len(records), 10)
        ``model key`` (registry name, for pickers; hide it), then :data:`MEASURED_COLUMNS`
        (``right`` as ``k of n``; accuracy and macro-F1 as fractions; intervals as text),
        then :data:`CARD_COLUMNS`.  Rows in the headline rule's order: highest lower 95 %
        bound of the accuracy first; models on which no clip counted last.
    """
    rows = []
    for record in _ranked(records):
        name = str(record["model"])
        card = cards.get(name, {})
        n = int(record.get("n") or 0)
        metric = honest_metric(card) if card else None
        tagger = card.get("kind") == "tagger" or bool(card.get("multi_label"))
        rows.append({
            "model key": name,
            "model": display_name(card, name),  # in full: the short names of MSD's and MTT's musicnn are equal
            "right": f"{int(record.get('k') or 0)} of {n}",
            "accuracy": record.get("accuracy") if n else None,
            "accuracy 95 % interval": interval_text(record.get("accuracy_interval_95")) if n else "—",
            "macro-F1": record.get("macro_f1") if n else None,
            "macro-F1 95 % interval": interval_text(record.get("macro_f1_interval_95")) if n else "—",
            "left out": left_out_text(record.get("left_out") or {}),
            "card: accuracy": metric[1] if metric else None,
            "card: measured on": (protocol_phrase(metric[0]) if metric
                                  else "none (a tagger: its card has tag AUCs only)" if tagger else "none"),
        })
    columns = ["model key", *MEASURED_COLUMNS, *CARD_COLUMNS]
    table = pd.DataFrame(rows, columns=columns)
    for column in ("accuracy", "macro-F1", "card: accuracy"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    return table


def confusion(record: Mapping[str, Any]) -> tuple[list[str], np.ndarray]:
    """A record's confusion matrix: (labels, counts of shape (n_labels, n_labels)), rows true.

    Examples
    --------
    >>> confusion({"confusion_matrix": {"labels": ["a", "b"], "counts": [[1, 0], [2, 3]]}})[1].shape
    (2, 2)
    """
    matrix = record.get("confusion_matrix") or {}
    labels = [str(label) for label in matrix.get("labels") or []]
    counts = np.asarray(matrix.get("counts") or [], dtype=int).reshape(len(labels), len(labels))
    return labels, counts


def wrong_clips_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """The clips a model answered wrong in one vocabulary.

    Returns
    -------
    pandas.DataFrame, shape (n_wrong, 5)
        ``clip``, ``collection``, ``label`` (as given), ``right answers`` (``a or b``), ``answer``.

    Examples
    --------
    >>> wrong_clips_table({"clips": [{"clip": "x.wav", "collection": "c", "label": "punk",
    ...     "right_answers": ["metal", "rock"], "answer": "pop", "correct": False},
    ...     {"clip": "y.wav", "collection": "c", "label": "jazz", "right_answers": ["jazz"], "answer": "jazz",
    ...      "correct": True}]}).iloc[0].tolist()
    ['x.wav', 'c', 'punk', 'metal or rock', 'pop']
    """
    rows = [{"clip": c["clip"], "collection": c["collection"], "label": c["label"],
             "right answers": " or ".join(c["right_answers"]), "answer": c["answer"]}
            for c in record.get("clips") or [] if not c.get("correct")]
    return pd.DataFrame(rows, columns=["clip", "collection", "label", "right answers", "answer"])


def model_vocabularies(records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each model's vocabularies among the records (in :data:`VOCABULARY_ORDER`), models in record order."""
    found: dict[str, list[str]] = {}
    for vocabulary, group in by_vocabulary(records).items():
        for record in group:
            found.setdefault(str(record["model"]), []).append(vocabulary)
    order = list(dict.fromkeys(str(r["model"]) for r in records))
    return {m: found[m] for m in order}


# --- the stored evidence ---------------------------------------------------------------------------------


def stored_summary(path: str | os.PathLike = EVIDENCE_FILE) -> dict[str, Any]:
    """What the stored evidence was measured on: ``collections`` (name, layout, dataset, clips) and ``command``.

    Empty when the file does not exist.

    Raises
    ------
    EvidenceError
        When the file is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"collections": list(data.get("collections") or []), "command": str(data.get("command") or ""),
                "rule_leave_one_out": dict(data.get("rule_leave_one_out") or {})}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise EvidenceError(f"{path}: not a usable evidence file ({exc}); rebuild it with `genre-lab evidence`") \
            from None


_DATASET_NAMES: dict[str, str] = {"gtzan": "GTZAN", "fma": "FMA"}


def collections_text(collections: Sequence[Mapping[str, Any]]) -> str:
    """The clip collections in words: ``17 labelled clips: real_songs (12), audio (5 GTZAN clips)``.

    Examples
    --------
    >>> collections_text([{"name": "real_songs", "clips": 12, "dataset": None},
    ...                   {"name": "audio", "clips": 5, "dataset": "gtzan", "layout": "gtzan names"}])
    '17 labelled clips: real_songs (12), audio (5 GTZAN clips)'
    """
    parts = []
    for item in collections:
        dataset = item.get("dataset")
        n = int(item.get("clips") or 0)
        count = f"{n} {_DATASET_NAMES.get(str(dataset), str(dataset))} clips" if dataset else f"{n}"
        parts.append(f"{item.get('name', '?')} ({count})")
    total = sum(int(item.get("clips") or 0) for item in collections)
    return f"{total} labelled clips: " + ", ".join(parts)


# --- the user's clips ----------------------------------------------------------------------------------


def label_guess(file_name: str) -> str:
    """The label a file's name gives, for GTZAN's names (``blues.00000.wav`` → ``blues``); else empty.

    Examples
    --------
    >>> label_guess("blues.00000.wav"), label_guess("my song.mp3")
    ('blues', '')
    """
    found = _GTZAN_NAME.match(Path(file_name).stem)
    return found.group(1) if found else ""


def unique_names(names: Sequence[str]) -> list[str]:
    """File names made unique for tables (a repeated name gets `` (2)``, `` (3)``…).

    Examples
    --------
    >>> unique_names(["a.wav", "b.wav", "a.wav"])
    ['a.wav', 'b.wav', 'a.wav (2)']
    """
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def label_rows(names: Sequence[str]) -> pd.DataFrame:
    """The editable table of uploaded files: ``file`` and a ``label`` guessed from GTZAN-style names.

    Returns
    -------
    pandas.DataFrame, shape (len(names), 2)
    """
    unique = unique_names(names)
    return pd.DataFrame({"file": unique, "label": [label_guess(n) for n in names]}, columns=["file", "label"])


def uploads_key(files: Sequence[tuple[str, bytes]], labels: Sequence[str]) -> str:
    """A content hash of the uploaded files (names and bytes) and their labels: the cache key of a scoring run.

    Examples
    --------
    >>> uploads_key([("a.wav", b"1")], ["rock"]) == uploads_key([("a.wav", b"1")], ["rock"])
    True
    >>> uploads_key([("a.wav", b"1")], ["rock"]) == uploads_key([("a.wav", b"1")], ["jazz"])
    False
    """
    parts = [f"{name}\0{content_hash(data)}\0{label}" for (name, data), label in zip(files, labels, strict=True)]
    return content_hash("\n".join(parts).encode("utf-8"))


def files_key(files: Sequence[tuple[str, bytes]]) -> str:
    """A content hash of the uploaded files alone (their names and bytes): the label table's identity."""
    return content_hash("\n".join(f"{name}\0{content_hash(data)}" for name, data in files).encode("utf-8"))


def unlabelled(names: Sequence[str], labels: Sequence[Any]) -> list[str]:
    """The names whose label is empty (or missing).

    Examples
    --------
    >>> unlabelled(["a", "b", "c"], ["rock", " ", None])
    ['b', 'c']
    """
    return [n for n, label in zip(names, labels, strict=True) if not str(label or "").strip()]


def unmatched_labels(labels: Sequence[str], vocabularies: Sequence[str]) -> list[str]:
    """The labels with no right answer in any of ``vocabularies`` (their clips count nowhere).

    Examples
    --------
    >>> unmatched_labels(["rock", "Gregorian chant"], ["gtzan10", "fma8"])
    ['Gregorian chant']
    """
    from ..labelled import right_answers

    return [label for label in dict.fromkeys(labels)
            if not any(right_answers(label, v) for v in vocabularies)]


@dataclass(frozen=True)
class UploadEvaluation:
    """Every model scored on the user's labelled clips.

    Attributes
    ----------
    records : list of dict
        :meth:`~genre_core.scoring.Score.to_dict` per model and vocabulary.
    failed : list of (name, reason)
        Clips refused (too large) or that could not be decoded; the others are scored.
    unlabelled : list of str
        Clips with no label, left out.
    unmatched : list of str
        Labels no vocabulary of these models has a right answer for.
    n_scored : int
        Clips analysed and scored.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    n_scored: int = 0


def evaluate_uploads(files: Sequence[tuple[str, bytes]], labels: Sequence[Any], predictors: Sequence[Any],
                     cards: Mapping[str, Mapping[str, Any]], *, limit_mb: int = MAX_UPLOAD_MB,
                     n_resamples: int = N_RESAMPLES) -> UploadEvaluation:
    """Score every model on uploaded clips labelled by the user (one decode and analysis per clip).

    Parameters
    ----------
    files : sequence of (name, bytes)
        The uploads, in the order of the label table.
    labels : sequence of str
        Free-text labels, one per file; an empty one leaves its clip out.
    predictors : sequence of Predictor
    cards : mapping of model → card
        The models to score (in order) and what each was trained on.
    limit_mb : int
        Files over this size are refused (:func:`genre_core.session.check_upload_size`).
    n_resamples : int
        Bootstrap resamples of each macro-F1 interval.

    Returns
    -------
    UploadEvaluation
    """
    names = unique_names([name for name, _ in files])
    labels = [str(label or "").strip() for label in labels]
    failed: list[tuple[str, str]] = []
    clips = []
    for name, (_, data), label in zip(names, files, labels, strict=True):
        if not label:
            continue
        try:
            check_upload_size(len(data), name, limit_mb)
        except AudioError as exc:
            failed.append((name, str(exc)))
            continue
        clips.append(LabelledClip(bytes(data), name, label))
    missing = unlabelled(names, labels)
    if not clips:
        return UploadEvaluation(failed=failed, unlabelled=missing)
    results = analyse_labelled([LabelledSet(UPLOADS, tuple(clips), "uploaded")], predictors)
    failed += [(r.clip.name, r.error) for r in results if r.error]
    models = {p.name: cards.get(p.name, {}) for p in predictors}
    scores = score_results(results, models)  # a clip that failed counts as left out ("could not be analysed")
    vocabularies = list(dict.fromkeys(v for p in predictors for v in vocabularies_of(p.labels)))
    return UploadEvaluation(
        records=[s.to_dict(n_resamples) for s in scores], failed=failed, unlabelled=missing,
        unmatched=unmatched_labels([c.label for c in clips], vocabularies),
        n_scored=sum(1 for r in results if not r.error))


__all__ = [
    "CARD_COLUMNS", "MEASURED_COLUMNS", "UPLOADS", "UPLOAD_RESAMPLES", "UploadEvaluation", "VOCABULARY_ORDER",
    "by_vocabulary", "collections_text", "confusion", "evaluate_uploads", "files_key", "interval_text", "label_guess",
    "label_rows", "left_out_text", "model_vocabularies", "score_table", "stored_summary",
    "unique_names", "unlabelled", "unmatched_labels", "uploads_key", "vocabulary_title", "wrong_clips_table",
]
