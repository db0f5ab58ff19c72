"""The evaluation policy: which figure to trust, which model to rank first, what the headline says.

One module, so the CLI, Classify, Compare and Live cannot disagree:

* **Card figures.**  :func:`honest_metric` is a card's accuracy under the
  protocol to trust (GTZAN's artist-filtered split, the deep models' held-out
  tracks), never random-fold CV when a better one exists.  Cards measure each
  model on its own test set, so they rank models of one family only.
* **Out-of-domain evidence.**  Every model scored on real music outside its
  training set, in each vocabulary it can answer in (:mod:`genre_core.scoring`),
  computed by ``genre-lab evidence`` and stored in :data:`EVIDENCE_FILE`.
* **The headline rule** (:data:`HEADLINE_RULE`): in the chosen vocabulary
  (GTZAN's 10 genres by default), the answer of the model whose evidence has
  the highest lower 95 % bound; a model with no evidence is shown, never the
  headline.  :func:`choose_headline` returns the one :class:`Headline` record
  that every view prints.
* **How sure**, in words (:func:`how_sure`): from that evidence and the
  agreement of the distinct models, never from a bare softmax probability.

Examples
--------
>>> evidence = {("a", "gtzan10"): Evidence("a", "gtzan10", 7, 13, ("real_songs",)),
...             ("b", "gtzan10"): Evidence("b", "gtzan10", 4, 8, ("real_songs",))}
>>> rank_by_evidence(["b", "a", "c"], "gtzan10", evidence)
['a', 'b']
>>> evidence["a", "gtzan10"].sentence()
'right on 7 of 13 labelled clips outside its training data (95 % interval 29–77 %)'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import MODELS_DIR
from .errors import GenreLabError
from .scoring import Score, answer, answer_scores, wilson_interval

# --- card figures -----------------------------------------------------------------------------------

#: Protocols in the order they are trusted: the first one a card reports is its honest figure.
#: Random-fold CV comes last: it puts songs by one artist in both training and test folds.
HONEST_PROTOCOLS: tuple[str, ...] = ("fault_filtered_test", "test_track", "test_segment")
#: Human names of the protocols, as a sentence fragment.
PROTOCOL_PHRASES: dict[str, str] = {
    "fault_filtered_test": "the artist-filtered (fault-filtered) test split",
    "test_track": "held-out test tracks",
    "test_segment": "held-out test segments",
}


def honest_protocol(card: Mapping[str, Any]) -> str | None:
    """The most trustworthy protocol a card reports an accuracy for, else any CV, else ``None``."""
    metrics = card.get("metrics") or {}
    scored = [k for k, v in metrics.items() if isinstance(v, Mapping) and v.get("accuracy") is not None]
    for key in HONEST_PROTOCOLS:
        if key in scored:
            return key
    return next((k for k in scored if k.startswith("cv")), scored[0] if scored else None)


def honest_metric(card: Mapping[str, Any]) -> tuple[str, float] | None:
    """``(protocol, accuracy)`` of :func:`honest_protocol`, or ``None`` when the card has no accuracy."""
    protocol = honest_protocol(card)
    if protocol is None:
        return None
    return protocol, float(card["metrics"][protocol]["accuracy"])


def protocol_phrase(key: str) -> str:
    """A protocol in words (``cv10`` → ``10-fold cross-validation``)."""
    if key in PROTOCOL_PHRASES:
        return PROTOCOL_PHRASES[key]
    if key.startswith("cv") and key[2:].isdigit():
        return f"{key[2:]}-fold cross-validation (random folds, optimistic)"
    return key.replace("_", " ")


def rank_by_card(cards: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Model names, best honest card accuracy first (trusted protocols before CV; none last)."""
    def key(name: str) -> tuple[int, float, str]:
        metric = honest_metric(cards[name])
        if metric is None:
            return (len(HONEST_PROTOCOLS) + 1, 0.0, name)
        rank = HONEST_PROTOCOLS.index(metric[0]) if metric[0] in HONEST_PROTOCOLS else len(HONEST_PROTOCOLS)
        return (rank, -metric[1], name)

    return sorted(cards, key=key)


# --- distinct models -----------------------------------------------------------------------------------


def is_ensemble(card: Mapping[str, Any]) -> bool:
    """Whether a card describes an ensemble of other models (it would vote twice in a vote)."""
    text = f"{card.get('name', '')} {card.get('architecture', '')}".lower()
    return "ensemble" in text


def zero_weight_members(cards: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Models an ensemble of the same family weights 0 (its tuning found they do not help)."""
    excluded: set[str] = set()
    for name, card in cards.items():
        if not is_ensemble(card):
            continue
        weights = ((card.get("hyperparameters") or {}).get("chosen") or {}).get("weights") or {}
        prefix = name.rsplit("_", 1)[0]
        excluded.update(f"{prefix}_{member}" for member, weight in weights.items() if not weight)
    return excluded


def distinct_models(names: Sequence[str], cards: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The models that vote: no ensemble (its members vote themselves), no zero-weight member."""
    dropped = zero_weight_members({n: cards[n] for n in names if n in cards})
    return [n for n in names if not is_ensemble(cards.get(n, {})) and n not in dropped]


# --- out-of-domain evidence ------------------------------------------------------------------------------

#: Where ``genre-lab evidence`` stores the out-of-domain evidence of the shipped models.
EVIDENCE_FILE: Path = MODELS_DIR / "evidence" / "out_of_domain.json"
#: Version of the evidence file's layout.
EVIDENCE_SCHEMA: int = 1


class EvidenceError(GenreLabError):
    """The evidence file exists but cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Evidence:
    """How often a model was right on labelled clips outside its training data, in one vocabulary.

    Attributes
    ----------
    model, vocabulary : str
    k, n : int
        Right answers, clips that counted.
    collections : tuple of str
        The clip collections they came from.
    """

    model: str
    vocabulary: str
    k: int
    n: int
    collections: tuple[str, ...] = ()

    @property
    def interval(self) -> tuple[float, float]:
        """95 % Wilson interval of k / n."""
        return wilson_interval(self.k, self.n)

    def sentence(self) -> str:
        """``right on 7 of 13 labelled clips outside its training data (95 % interval 29–77 %)``."""
        low, high = self.interval
        return (f"right on {self.k} of {self.n} labelled clips outside its training data "
                f"(95 % interval {low * 100:.0f}–{high * 100:.0f} %)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, the interval included."""
        low, high = self.interval
        return {"model": self.model, "vocabulary": self.vocabulary, "k": self.k, "n": self.n,
                "interval_95": [round(low, 4), round(high, 4)], "interval_method": "Wilson score",
                "collections": list(self.collections)}


#: Evidence by (model, vocabulary).
EvidenceTable = Mapping[tuple[str, str], Evidence]


def evidence_from_scores(scores: Sequence[Score]) -> dict[tuple[str, str], Evidence]:
    """The evidence each score gives (scores with no clips give none)."""
    table = {}
    for score in scores:
        if score.n:
            collections = tuple(dict.fromkeys(a.collection for a in score.answers))
            table[(score.model, score.vocabulary)] = Evidence(score.model, score.vocabulary, score.k, score.n,
                                                              collections)
    return table


def read_evidence(path: str | os.PathLike = EVIDENCE_FILE) -> dict[tuple[str, str], Evidence]:
    """The stored evidence; empty when the file does not exist.

    Raises
    ------
    EvidenceError
        When the file is not JSON or not in this layout.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != EVIDENCE_SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {EVIDENCE_SCHEMA}")
        table = {}
        for row in data["evidence"]:
            item = Evidence(str(row["model"]), str(row["vocabulary"]), int(row["k"]), int(row["n"]),
                            tuple(row.get("collections") or ()))
            if not 0 <= item.k <= item.n:
                raise ValueError(f"k={item.k} and n={item.n} for {item.model}")
            table[(item.model, item.vocabulary)] = item
        return table
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvidenceError(f"{path}: not a usable evidence file ({exc}); rebuild it with `genre-lab evidence`") \
            from None


def read_evidence_dirs(dirs: Sequence[str | os.PathLike]) -> dict[tuple[str, str], Evidence]:
    """The evidence stored in each model folder (``<dir>/evidence/out_of_domain.json``), earlier folders first."""
    table: dict[tuple[str, str], Evidence] = {}
    for directory in reversed(list(dirs)):
        table.update(read_evidence(Path(directory) / EVIDENCE_FILE.relative_to(MODELS_DIR)))
    return table


def rank_by_evidence(names: Sequence[str], vocabulary: str, evidence: EvidenceTable) -> list[str]:
    """The models with evidence in ``vocabulary``, highest lower 95 % bound first (then k / n, then name)."""
    found = [n for n in names if (n, vocabulary) in evidence and evidence[(n, vocabulary)].n]

    def key(name: str) -> tuple[float, float, str]:
        item = evidence[(name, vocabulary)]
        return (-item.interval[0], -item.k / item.n, name)

    return sorted(found, key=key)


def leave_one_out(scores: Sequence[Score]) -> tuple[int, int]:
    """How the headline rule does on clips it did not choose by: (right, clips).

    For each clip, the rule picks the model from the evidence of the other
    clips (:func:`rank_by_evidence`), and that model's answer on the held-out
    clip is checked.  All scores must be of one vocabulary; a clip counts when
    the picked model was scored on it.
    """
    by_model = {s.model: s for s in scores}
    clips = list(dict.fromkeys((a.collection, a.clip) for s in scores for a in s.answers))
    right = counted = 0
    for held in clips:
        rest = {}
        for name, score in by_model.items():
            kept = [a for a in score.answers if (a.collection, a.clip) != held]
            rest[(name, score.vocabulary)] = Evidence(name, score.vocabulary, sum(a.correct for a in kept), len(kept))
        vocabulary = scores[0].vocabulary
        ranked = rank_by_evidence(list(by_model), vocabulary, rest)
        if not ranked:
            continue
        pick = by_model[ranked[0]]
        found = next((a for a in pick.answers if (a.collection, a.clip) == held), None)
        if found is not None:
            counted += 1
            right += found.correct
    return right, counted


#: The labelled clips the evidence is measured on, under the shared data folder: (folder, labels CSV
#: or None for the folder's own layout).  FMA's folders are named by track id; their genres (FMA's
#: genre_top, public metadata) ship in ``models/evidence``.
EVIDENCE_COLLECTIONS: tuple[tuple[str, Path | None], ...] = (
    ("real_songs", None),
    ("fma_small", EVIDENCE_FILE.parent / "fma_small_labels.csv"),
    ("gtzan/audio", None),
)


def evidence_sets(data_dir: str | os.PathLike) -> list[Any]:
    """The :class:`~genre_core.labelled.LabelledSet` of each :data:`EVIDENCE_COLLECTIONS` entry present."""
    from dataclasses import replace

    from .labelled import read_labelled

    found = []
    for folder, labels in EVIDENCE_COLLECTIONS:
        path = Path(data_dir) / folder
        if path.is_dir():
            # Named by the folder's path under the data folder ("gtzan/audio", not "audio").
            found.append(replace(read_labelled(path, labels=labels), name=folder))
    return found


def write_evidence(path: str | os.PathLike, scores: Sequence[Score], sets: Sequence[Any], command: str) -> dict:
    """Store the evidence of ``scores`` (with every clip's answer, and the rule's leave-one-out figure)."""
    by_vocabulary: dict[str, list[Score]] = {}
    for score in scores:
        by_vocabulary.setdefault(score.vocabulary, []).append(score)
    data = {
        "schema": EVIDENCE_SCHEMA,
        "what": "Each shipped model scored on labelled real clips outside its training data (genre-lab evidence).",
        "command": command,
        "collections": [{"name": s.name, "layout": s.layout, "dataset": s.dataset, "clips": len(s.clips)}
                        for s in sets],
        "evidence": [item.to_dict() for item in evidence_from_scores(scores).values()],
        "rule_leave_one_out": {v: dict(zip(("k", "n"), leave_one_out(group))) for v, group in by_vocabulary.items()},
        "scores": [score.to_dict() for score in scores],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def stored_scores(path: str | os.PathLike = EVIDENCE_FILE) -> list[dict[str, Any]]:
    """The per-model score records stored with the evidence (for views), or [] without a file."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("scores") or [])
    except (OSError, ValueError, AttributeError) as exc:
        raise EvidenceError(f"{path}: not a usable evidence file ({exc})") from None


# --- the headline ----------------------------------------------------------------------------------------

#: The headline rule, in words (shown under every headline).
HEADLINE_RULE: str = (
    "The headline is the answer of the model with the best evidence on real music outside its training data: "
    "of the models that can answer in {vocabulary}, the one whose accuracy on those clips has the highest lower "
    "95 % bound. Taggers answer through the hand-written crosswalk. A model with no such evidence is shown, "
    "never the headline.")
#: When no model has evidence in the vocabulary.
NO_EVIDENCE_RULE: str = ("No model here has been checked on labelled music outside its training data in {vocabulary}, "
                         "so none is the headline; each model's answer is shown below.")
#: Vocabulary names in words.
VOCABULARY_TITLES: dict[str, str] = {
    "gtzan10": "GTZAN's 10 genres", "fma8": "FMA's 8 genres", "msd50": "the MSD taggers' genre tags",
    "mtt50": "the MagnaTagATune taggers' genre tags",
}


@dataclass(frozen=True)
class Headline:
    """The one headline answer for a clip, as every view shows it.

    Attributes
    ----------
    genre : str or None
        None when no model here has evidence (see ``rule``).
    label_set : str
        The vocabulary answered in.
    model : str or None
        The model whose answer it is.
    rule : str
        How that model was chosen, in words.
    labels : tuple of str
    probabilities : tuple of float
        The model's scores over every answer of the label set: probabilities,
        or for a tagger its crosswalk-mapped tag scores (``scores_are`` says).
    scores_are : str
    evidence : Evidence or None
    agreeing, voters : tuple of str
        Distinct models answering in the label set that give the same answer, and all of them.
    sure : str
        ``fairly sure``, ``somewhat sure``, ``unsure`` or ``no evidence``.
    sure_because : str
        Why, in a sentence.
    """

    genre: str | None
    label_set: str
    model: str | None
    rule: str
    labels: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    scores_are: str = "probabilities"
    evidence: Evidence | None = None
    agreeing: tuple[str, ...] = ()
    voters: tuple[str, ...] = ()
    sure: str = "no evidence"
    sure_because: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``headline`` object of ``predict --json``)."""
        return {
            "genre": self.genre, "label_set": self.label_set, "model": self.model, "rule": self.rule,
            "probabilities": {label: round(float(p), 6) for label, p in zip(self.labels, self.probabilities)},
            "scores_are": self.scores_are,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "agreeing": list(self.agreeing), "voters": list(self.voters),
            "how_sure": self.sure, "how_sure_because": self.sure_because,
        }


def how_sure(evidence: Evidence | None, n_agreeing: int, n_voters: int, *, unlike_training: bool = False
             ) -> str:
    """How sure the headline is, in words, by a stated rule.

    ``unsure`` when the input is unlike the training music, the evidence's lower
    95 % bound is under 30 %, or (with three voters or more) at most half of
    the distinct models agree; ``fairly sure`` when that bound is at least 50 %
    and at least two thirds agree; else ``somewhat sure``.

    Examples
    --------
    >>> how_sure(Evidence("m", "gtzan10", 12, 13), 5, 6)
    'fairly sure'
    >>> how_sure(Evidence("m", "gtzan10", 7, 13), 5, 6)
    'unsure'
    >>> how_sure(None, 6, 6)
    'no evidence'
    """
    if evidence is None or not evidence.n:
        return "no evidence"
    low = evidence.interval[0]
    share = n_agreeing / n_voters if n_voters else 0.0
    if unlike_training or low < 0.3 or (n_voters > 2 and 2 * n_agreeing <= n_voters):
        return "unsure"
    if low >= 0.5 and share >= 2 / 3:
        return "fairly sure"
    return "somewhat sure"


def _because(headline_model: str, evidence: Evidence, n_agreeing: int, n_voters: int, genre: str,
             unlike_training: bool, names: Mapping[str, str]) -> str:
    parts = [f"{names.get(headline_model, headline_model)} was {evidence.sentence()}",
             f"{n_agreeing} of {n_voters} distinct models answer {genre}"]
    if unlike_training:
        parts.append("and the input is unlike any training music")
    return "; ".join(parts) + "."


def choose_headline(predictions: Sequence[Any], vocabulary: str, evidence: EvidenceTable,
                    cards: Mapping[str, Mapping[str, Any]], *, unlike_training: bool = False,
                    names: Mapping[str, str] | None = None) -> Headline:
    """The headline for one clip: :data:`HEADLINE_RULE` applied to these predictions.

    Parameters
    ----------
    predictions : sequence of Prediction
        Every model run on the clip (any label sets; those that cannot answer
        in ``vocabulary`` are ignored).
    vocabulary : str
        ``gtzan10`` (the default view), ``fma8``, ``msd50`` or ``mtt50``.
    evidence : mapping of (model, vocabulary) → Evidence
    cards : mapping of model → card
        To leave ensembles and zero-weight members out of the agreement count.
    unlike_training : bool
        The input looks unlike any training music (see :mod:`genre_core.training.fingerprints`).
    names : mapping of model → display name, optional
        For the sentence saying how sure.
    """
    title = VOCABULARY_TITLES.get(vocabulary, vocabulary)
    answering = [p for p in predictions if answer_scores(p, vocabulary) is not None]
    by_name = {p.model: p for p in answering}
    voters = distinct_models(list(by_name), cards) or list(by_name)
    ranked = rank_by_evidence(list(by_name), vocabulary, evidence)
    if not ranked:
        return Headline(None, vocabulary, None, NO_EVIDENCE_RULE.format(vocabulary=title),
                        voters=tuple(voters), sure_because="No model here has out-of-domain evidence.")
    best = ranked[0]
    labels, scores = answer_scores(by_name[best], vocabulary)
    genre = labels[int(np.argmax(scores))]
    agreeing = tuple(n for n in voters if answer(by_name[n], vocabulary) == genre)
    item = evidence[(best, vocabulary)]
    multi = bool(getattr(by_name[best], "multi_label", False))
    return Headline(
        genre=genre, label_set=vocabulary, model=best, rule=HEADLINE_RULE.format(vocabulary=title),
        labels=tuple(labels), probabilities=tuple(float(s) for s in scores),
        scores_are=("tag probabilities (independent, they do not sum to 1)" if vocabulary in ("msd50", "mtt50")
                    else "crosswalk-mapped tag scores (they do not sum to 1)" if multi else "probabilities"),
        evidence=item, agreeing=agreeing, voters=tuple(voters),
        sure=how_sure(item, len(agreeing), len(voters), unlike_training=unlike_training),
        sure_because=_because(best, item, len(agreeing), len(voters), genre, unlike_training, names or {}),
    )


def headline_vocabularies(entries: Sequence[Any], evidence: EvidenceTable) -> list[str]:
    """The vocabularies the installed models can give a headline in (some model has evidence there), GTZAN first."""
    from .labelled import VOCABULARIES

    names = {e.name for e in entries}
    return [v for v in VOCABULARIES if any(m in names and item.n for (m, voc), item in evidence.items() if voc == v)]


def default_model_names(entries: Sequence[Any], vocabulary: str, evidence: EvidenceTable) -> list[str]:
    """What the CLI and Classify run unless told otherwise: the models shown by default, plus the headline's.

    ``entries`` are registry entries; the headline's model is the best-ranked of
    all of them by :func:`rank_by_evidence`, so it is run even when it is a
    tagger not shown by default.
    """
    shown = [e.name for e in entries if e.shown_by_default]
    ranked = rank_by_evidence([e.name for e in entries], vocabulary, evidence)
    return shown + [n for n in ranked[:1] if n not in shown]


__all__ = [
    "EVIDENCE_FILE", "Evidence", "EvidenceError", "HEADLINE_RULE", "HONEST_PROTOCOLS", "Headline",
    "choose_headline", "default_model_names", "distinct_models", "evidence_from_scores", "honest_metric",
    "honest_protocol", "how_sure", "leave_one_out", "protocol_phrase", "rank_by_card", "rank_by_evidence",
    "read_evidence", "read_evidence_dirs",
]
