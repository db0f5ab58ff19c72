"""Scoring models on labelled clips: every model, every vocabulary it answers in, the same clips.

Each clip is decoded and analysed once for all models (the one-pass analysis of
:func:`genre_core.stream.predict_file`); each model's answer is then read in
each vocabulary it can answer in (:func:`answer_scores`): its own labels, and
for a tagger GTZAN's and FMA's genres through the crosswalk.  A clip counts
for a model when the clip has a right answer in the vocabulary and does not
come from the model's training set; the others are left out, and counted.

Per model and vocabulary, :class:`Score` gives the accuracy with a 95 %
Wilson interval (the binomial interval that stays honest for a handful of
clips, where a bootstrap of 12 right out of 12 would claim certainty), the
macro-F1 with a 95 % percentile-bootstrap interval over clips, the confusion
matrix and the clips it got wrong.  A clip with several right answers (punk:
GTZAN rock or metal) counts its answer as right when it is any of them; in
the confusion matrix its true row is the answer when right, else its first
right answer.

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> from genre_core.tags import MSD_TAGS
>>> p = np.zeros(50); p[MSD_TAGS.index("heavy metal")] = 0.9
>>> tagger = SimpleNamespace(labels=MSD_TAGS, probabilities=p, multi_label=True)
>>> vocabularies_of(MSD_TAGS)
('msd50', 'gtzan10', 'fma8')
>>> labels, scores = answer_scores(tagger, "gtzan10")
>>> labels[int(np.argmax(scores))]
'metal'
>>> [round(x, 3) for x in wilson_interval(12, 14)]
[0.601, 0.96]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audio import MAX_DURATION
from .errors import GenreLabError
from .labelled import LabelledClip, LabelledSet, normalise_label, own_vocabulary, vocabulary_labels
from .tags import GENRE_SETS, TAG_SETS, map_to_genres, tag_set_name

#: Bootstrap resamples behind each macro-F1 interval.
N_RESAMPLES: int = 1000
#: Reasons a clip is left out of a model's score in a vocabulary.
NO_ANSWER = "no right answer in this vocabulary"
TRAINING = "from the model's training set"
FAILED = "could not be analysed"


# --- what a model answers in a vocabulary -----------------------------------------------------------


def vocabularies_of(labels: Sequence[str]) -> tuple[str, ...]:
    """The vocabularies a model with these labels answers in, its own first.

    A genre classifier answers in its genre set (or its own label list); a
    tagger in its own tags and, through the crosswalk, in GTZAN's and FMA's genres.
    """
    labels = tuple(labels)
    own = next((name for name, genres in GENRE_SETS.items() if genres == labels), None)
    if own is not None:
        return (own,)
    tag_set = tag_set_name(labels)
    return (tag_set, *GENRE_SETS) if tag_set is not None else (own_vocabulary(labels),)


def answer_scores(prediction: Any, vocabulary: str) -> tuple[tuple[str, ...], np.ndarray] | None:
    """A prediction's scores over a vocabulary's answers, or None when it cannot answer in it.

    Parameters
    ----------
    prediction : Prediction
        Anything with ``labels`` and ``probabilities``.
    vocabulary : str

    Returns
    -------
    labels : tuple of str
        The vocabulary's answers (a tag set's genre tags only).
    scores : np.ndarray, shape (len(labels),)
        A classifier's probabilities; a tagger's tag probabilities, or its
        crosswalk-mapped genre scores (which do not sum to 1).
    """
    labels = tuple(prediction.labels)
    if vocabulary not in vocabularies_of(labels):
        return None
    probabilities = np.asarray(prediction.probabilities, dtype=np.float64)
    if vocabulary in TAG_SETS:
        answers = vocabulary_labels(vocabulary)
        return answers, probabilities[[labels.index(tag) for tag in answers]]
    if vocabulary not in GENRE_SETS or labels == GENRE_SETS[vocabulary]:
        return labels, probabilities
    return GENRE_SETS[vocabulary], map_to_genres(labels, probabilities, vocabulary)


def answer(prediction: Any, vocabulary: str) -> str | None:
    """The top answer of :func:`answer_scores`, or None."""
    scored = answer_scores(prediction, vocabulary)
    if scored is None:
        return None
    labels, scores = scored
    return labels[int(np.argmax(scores))]


# --- intervals --------------------------------------------------------------------------------------


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``k`` right out of ``n`` (scipy's ``binomtest``); (0, 1) for n = 0."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_interval(statistic: Callable[[np.ndarray], float], n: int, *, confidence: float = 0.95,
                       n_resamples: int = N_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``statistic(indices)`` over ``n`` clips (scipy's ``bootstrap``)."""
    if n < 2:
        value = statistic(np.arange(n))
        return value, value
    from scipy.stats import bootstrap

    result = bootstrap((np.arange(n),), lambda idx: statistic(np.asarray(idx, dtype=int)), vectorized=False,
                       n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                       random_state=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


# --- scores -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipAnswer:
    """One model's answer on one clip in one vocabulary.

    Attributes
    ----------
    clip : str
        The clip's name in its collection.
    collection : str
    label : str
        The clip's label as given.
    right_answers : tuple of str
    answer : str
    """

    clip: str
    collection: str
    label: str
    right_answers: tuple[str, ...]
    answer: str

    @property
    def correct(self) -> bool:
        """Whether the answer is one of the right answers."""
        return self.answer in self.right_answers

    @property
    def truth(self) -> str:
        """The true row in a confusion matrix: the answer when right, else the first right answer."""
        return self.answer if self.correct else self.right_answers[0]


@dataclass(frozen=True)
class Score:
    """One model scored in one vocabulary on labelled clips.

    Attributes
    ----------
    model : str
    vocabulary : str
    answers : tuple of ClipAnswer
        The clips that count, in collection order.
    left_out : dict of reason → count
        Clips that do not count, and why.
    """

    model: str
    vocabulary: str
    answers: tuple[ClipAnswer, ...]
    left_out: Mapping[str, int] = field(default_factory=dict)
    #: Bootstrap intervals already computed, by resample count (the costly part: computed once).
    _intervals: dict[int, tuple[float, float]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        """Clips that count."""
        return len(self.answers)

    @property
    def k(self) -> int:
        """Clips answered right."""
        return sum(a.correct for a in self.answers)

    @property
    def accuracy(self) -> float | None:
        """k / n, or None without clips."""
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        """95 % Wilson interval of the accuracy."""
        return wilson_interval(self.k, self.n)

    def _f1(self, indices: np.ndarray) -> float:
        from sklearn.metrics import f1_score

        truth = [self.answers[i].truth for i in indices]
        guess = [self.answers[i].answer for i in indices]
        return float(f1_score(truth, guess, average="macro", zero_division=0))

    @property
    def macro_f1(self) -> float | None:
        """Macro-F1 over the answers that occur (as truth or answer), or None without clips."""
        return self._f1(np.arange(self.n)) if self.n else None

    def macro_f1_interval(self, n_resamples: int = N_RESAMPLES) -> tuple[float, float] | None:
        """95 % percentile-bootstrap interval of the macro-F1 (clips resampled), or None without clips."""
        if not self.n:
            return None
        if n_resamples not in self._intervals:
            self._intervals[n_resamples] = bootstrap_interval(self._f1, self.n, n_resamples=n_resamples)
        return self._intervals[n_resamples]

    def confusion(self) -> tuple[list[str], np.ndarray]:
        """(labels, counts): rows true, columns answered, over the answers that occur, in vocabulary order."""
        from sklearn.metrics import confusion_matrix

        present = {a.truth for a in self.answers} | {a.answer for a in self.answers}
        order = [label for label in vocabulary_labels(self.vocabulary) if label in present]
        if not self.answers:  # every clip left out: nothing to count (sklearn refuses empty input)
            return order, np.zeros((0, 0), dtype=int)
        matrix = confusion_matrix([a.truth for a in self.answers], [a.answer for a in self.answers], labels=order)
        return order, matrix

    @property
    def wrong(self) -> list[ClipAnswer]:
        """The clips answered wrong."""
        return [a for a in self.answers if not a.correct]

    def to_dict(self, n_resamples: int = N_RESAMPLES) -> dict[str, Any]:
        """JSON-ready: counts, accuracy and its interval, macro-F1 and its interval, confusion, clips."""
        labels, matrix = self.confusion()
        f1_interval = self.macro_f1_interval(n_resamples)
        return {
            "model": self.model, "vocabulary": self.vocabulary, "k": self.k, "n": self.n,
            "accuracy": self.accuracy, "accuracy_interval_95": list(self.interval),
            "interval_method": "Wilson score (accuracy); percentile bootstrap over clips (macro-F1)",
            "macro_f1": self.macro_f1, "macro_f1_interval_95": list(f1_interval) if f1_interval else None,
            "left_out": dict(self.left_out),
            "confusion_matrix": {"labels": labels, "counts": matrix.tolist()},
            "clips": [{"clip": a.clip, "collection": a.collection, "label": a.label,
                       "right_answers": list(a.right_answers), "answer": a.answer, "correct": a.correct}
                      for a in self.answers],
        }


# --- analysing and scoring labelled clips -------------------------------------------------------------


@dataclass(frozen=True)
class ClipResult:
    """Every model's prediction on one labelled clip (one pass), or why there is none.

    Attributes
    ----------
    clip : LabelledClip
    collection : str
    dataset : str or None
        The training set the clip comes from, if any.
    predictions : tuple of Prediction
    error : str or None
        Why the clip could not be analysed (the others still are).
    failures : dict of model → reason
    """

    clip: LabelledClip
    collection: str
    dataset: str | None
    predictions: tuple[Any, ...] = ()
    error: str | None = None
    failures: Mapping[str, str] = field(default_factory=dict)


def analyse_labelled(sets: Iterable[LabelledSet], predictors: Sequence[Any], *,
                     max_duration: float | None = MAX_DURATION,
                     progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> list[ClipResult]:
    """Analyse each clip once with all models; a clip that fails is recorded, not raised.

    Parameters
    ----------
    sets : iterable of LabelledSet
    predictors : sequence of Predictor
    max_duration : float or None
        Seconds of each clip analysed (the CLI's and app's default).
    progress : callable, optional
        Wraps the clip iterator (e.g. ``tqdm``).
    """
    from .stream import predict_file

    jobs = [(s, clip) for s in sets for clip in s.clips]
    results = []
    for labelled_set, clip in (progress(jobs) if progress else jobs):
        try:
            found = predict_file(clip.source, predictors, name=clip.name, max_duration=max_duration)
        except GenreLabError as exc:
            results.append(ClipResult(clip, labelled_set.name, labelled_set.dataset, error=str(exc)))
            continue
        results.append(ClipResult(clip, labelled_set.name, labelled_set.dataset, tuple(found.predictions),
                                  failures={m: str(e) for m, e in found.failures.items()}))
    return results


def trained_on(card: Mapping[str, Any]) -> str:
    """A card's training set, normalised (``GTZAN`` → ``gtzan``), to match a clip collection's dataset."""
    return normalise_label((card.get("data") or {}).get("dataset") or "")


def score_results(results: Sequence[ClipResult], models: Mapping[str, Mapping[str, Any]],
                  vocabularies: Sequence[str] | None = None) -> list[Score]:
    """Score each model in each vocabulary it answers in, on the same clips.

    Parameters
    ----------
    results : sequence of ClipResult
    models : mapping of model name → card
        The models to score, in order; the card says what each was trained on.
    vocabularies : sequence of str, optional
        Only these (default: every vocabulary each model answers in).

    Returns
    -------
    list of Score
        By model, then vocabulary (the model's own first).
    """
    labels_of: dict[str, tuple[str, ...]] = {}
    for result in results:
        for p in result.predictions:
            labels_of.setdefault(p.model, tuple(p.labels))
    scores = []
    for name, card in models.items():
        labels = labels_of.get(name) or tuple(card.get("labels") or ())
        for vocabulary in vocabularies_of(labels):
            if vocabularies is not None and vocabulary not in vocabularies:
                continue
            answers, left_out = [], Counter()
            for result in results:
                right = result.clip.right_answers(vocabulary)
                prediction = next((p for p in result.predictions if p.model == name), None)
                if not right:
                    left_out[NO_ANSWER] += 1
                elif result.dataset and normalise_label(result.dataset) == trained_on(card):
                    left_out[TRAINING] += 1
                elif prediction is None:
                    left_out[FAILED] += 1
                else:
                    order = vocabulary_labels(vocabulary)
                    answers.append(ClipAnswer(result.clip.name, result.collection, result.clip.label,
                                              tuple(sorted(right, key=order.index)), answer(prediction, vocabulary)))
            scores.append(Score(name, vocabulary, tuple(answers), dict(left_out)))
    return scores
