"""Labelled clips: what a folder or a CSV says each clip is, in every vocabulary a model answers in.

A user's label is free text (``Hip-Hop``, ``hip hop``, ``heavy metal``).  It is
normalised (case, spaces and punctuation dropped) and then, for each
vocabulary, turned into the set of answers that count as right:

* a genre set (GTZAN's 10, FMA-small's 8): the genre of that name, else the
  genres the hand-written crosswalk (:mod:`genre_core.tags`) maps a tag of that
  name to (``heavy metal`` → GTZAN ``metal``, FMA ``Rock``);
* a tagger's own tags (MSD, MTT): the genre tags that name the label, and
  those the crosswalk maps to a GTZAN genre right for the clip (to an FMA
  genre when no GTZAN genre fits).

A clip whose label has no counterpart in a vocabulary is left out of that
vocabulary's scores, and counted.  A CSV may also give the right answers per
vocabulary itself (columns ``gtzan`` and ``fma``, several separated by ``|``,
empty where none fits), which then replace the mapping.

Layouts :func:`read_labelled` understands:

* a CSV file with ``file`` and ``label`` columns (paths relative to the CSV);
* a folder holding such a ``labels.csv``;
* GTZAN file names (``blues.00000.wav``): the label is the name's first part;
* one sub-folder per label (``rock/song.mp3``).

Examples
--------
>>> normalise_label(" Hip-Hop ")
'hiphop'
>>> sorted(right_answers("heavy metal", "gtzan10")), sorted(right_answers("heavy metal", "fma8"))
(['metal'], ['Rock'])
>>> right_answers("Electronic", "gtzan10")
frozenset()
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .audio import SUPPORTED_EXTENSIONS
from .errors import UsageError
from .tags import CROSSWALK, GENRE_SETS, TAG_SETS, genre_tags

#: Every vocabulary a model can answer in: the two genre sets and the taggers' own (genre) tags.
VOCABULARIES: tuple[str, ...] = ("gtzan10", "fma8", "msd50", "mtt50")
#: CSV columns that give the right answers of one vocabulary directly.
TRUTH_COLUMNS: dict[str, str] = {"gtzan": "gtzan10", "gtzan10": "gtzan10", "fma": "fma8", "fma8": "fma8"}
#: CSV columns that may hold the free-text label, first found wins.
LABEL_COLUMNS: tuple[str, ...] = ("label", "genre", "named_genre")
#: The file a labelled folder may hold.
LABELS_FILE: str = "labels.csv"
#: GTZAN's file names: ``<genre>.<5 digits>.<ext>``.
_GTZAN_NAME = re.compile(r"^([a-z]+)\.\d{5}$")
#: FMA's layout: ``NNN/NNNNNN.mp3``, named by track id, not by genre.
_FMA_NAME = re.compile(r"^\d{6}$")


class LabelsError(UsageError):
    """A labels file or folder cannot be read as labelled clips; the message says where and why."""


def normalise_label(text: str) -> str:
    """Case-folded, with everything but letters and digits removed (``Hip-Hop`` → ``hiphop``)."""
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


#: Prefix of a vocabulary that is a model's own label list (a model trained on a user's folders).
OWN_LABELS: str = "labels:"


def own_vocabulary(labels: Sequence[str]) -> str:
    """The vocabulary of a label list that is no known set (``labels:jazz|rock``).

    Examples
    --------
    >>> v = own_vocabulary(["jazz", "rock"]); v, vocabulary_labels(v), sorted(right_answers("Rock", v))
    ('labels:jazz|rock', ('jazz', 'rock'), ['rock'])
    """
    return OWN_LABELS + "|".join(labels)


def vocabulary_labels(vocabulary: str) -> tuple[str, ...]:
    """The answers a vocabulary has: a genre set's genres, a tag set's genre tags, a model's own labels.

    Examples
    --------
    >>> vocabulary_labels("gtzan10")[:3]
    ('blues', 'classical', 'country')
    >>> "80s" in vocabulary_labels("msd50"), "rock" in vocabulary_labels("msd50")
    (False, True)
    """
    if vocabulary in GENRE_SETS:
        return GENRE_SETS[vocabulary]
    if vocabulary in TAG_SETS:
        return tuple(genre_tags(TAG_SETS[vocabulary]))
    if vocabulary.startswith(OWN_LABELS):
        return tuple(vocabulary[len(OWN_LABELS):].split("|"))
    raise UsageError(f"unknown vocabulary {vocabulary!r}; known: {', '.join(VOCABULARIES)}")


def _named(label: str, names: Sequence[str]) -> set[str]:
    key = normalise_label(label)
    return {name for name in names if normalise_label(name) == key}


def right_answers(label: str, vocabulary: str, given: Mapping[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The answers in ``vocabulary`` that are right for a clip labelled ``label``.

    Parameters
    ----------
    label : str
        Free text; see :func:`normalise_label`.
    vocabulary : str
        One of :data:`VOCABULARIES`.
    given : mapping of vocabulary → set of str, optional
        Right answers stated per genre set (a CSV's ``gtzan``/``fma`` columns);
        they replace the mapping of the label for that set, and feed the tags.

    Returns
    -------
    frozenset of str
        Empty when nothing in the vocabulary fits the label.
    """
    given = given or {}
    if vocabulary.startswith(OWN_LABELS):
        return frozenset(_named(label, vocabulary_labels(vocabulary)))
    if vocabulary in GENRE_SETS:
        if vocabulary in given:
            return given[vocabulary]
        genres = _named(label, GENRE_SETS[vocabulary])
        if not genres:
            for tag_set, tags in TAG_SETS.items():
                crosswalk = CROSSWALK[(tag_set, vocabulary)]
                genres |= {crosswalk[tag] for tag in _named(label, tags) if tag in crosswalk}
        return frozenset(genres)
    tags = vocabulary_labels(vocabulary)
    right = _named(label, tags)
    # Through GTZAN's genres, the narrower set, where the clip has one; FMA's only otherwise
    # (FMA's Electronic would make "ambient" right for a disco song).
    for genre_set in ("gtzan10", "fma8"):
        genres = right_answers(label, genre_set, given)
        if genres:
            crosswalk = CROSSWALK[(vocabulary, genre_set)]
            right |= {tag for tag in tags if crosswalk.get(tag) in genres}
            break
    return frozenset(right)


@dataclass(frozen=True)
class LabelledClip:
    """One clip and what it is.

    Attributes
    ----------
    source : Path or bytes
        The audio file, or its bytes (an upload).
    name : str
        How tables name it (the path relative to the collection).
    label : str
        The label as given (free text).
    given : dict of vocabulary → frozenset of str
        Right answers stated per genre set, replacing the mapping there.
    """

    source: Path | bytes
    name: str
    label: str
    given: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def right_answers(self, vocabulary: str) -> frozenset[str]:
        """See :func:`right_answers`."""
        return right_answers(self.label, vocabulary, self.given)


@dataclass(frozen=True)
class LabelledSet:
    """Labelled clips from one folder or CSV.

    Attributes
    ----------
    name : str
        The collection's name (its folder's).
    clips : tuple of LabelledClip
    layout : str
        ``csv``, ``gtzan names`` or ``folder per label``.
    dataset : str or None
        The training set these clips come from (``gtzan``, ``fma``), if any:
        models trained on it are not scored on them.
    """

    name: str
    clips: tuple[LabelledClip, ...]
    layout: str
    dataset: str | None = None


def _audio(folder: Path) -> list[Path]:
    from .datasets.folder import audio_files

    return audio_files(folder, frozenset(SUPPORTED_EXTENSIONS))


def _split(cell: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (cell or "").split("|") if part.strip())


def _checked_given(given: dict[str, frozenset[str]], where: str) -> dict[str, frozenset[str]]:
    """Stated genres spelt as their set spells them (``rock`` → FMA's ``Rock``), or an error naming them."""
    checked = {}
    for vocabulary, answers in given.items():
        known = {normalise_label(g): g for g in GENRE_SETS[vocabulary]}
        unknown = sorted(a for a in answers if normalise_label(a) not in known)
        if unknown:
            raise LabelsError(f"{where}: {', '.join(map(repr, unknown))} not among the "
                              f"{len(GENRE_SETS[vocabulary])} {vocabulary} genres {list(GENRE_SETS[vocabulary])}")
        checked[vocabulary] = frozenset(known[normalise_label(a)] for a in answers)
    return checked


def read_labels_csv(csv_path: str | os.PathLike, root: str | os.PathLike | None = None) -> list[LabelledClip]:
    """Clips listed in a CSV: ``file`` and a label column, optionally ``gtzan``/``fma`` answers.

    Parameters
    ----------
    csv_path : path
    root : path, optional
        Folder the ``file`` paths are relative to (default: the CSV's folder).

    Raises
    ------
    LabelsError
        A missing column, a listed file that does not exist, a row with no label
        at all, or a stated genre outside its set; the message names the row.
    """
    csv_path = Path(csv_path)
    root = Path(root) if root is not None else csv_path.parent
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelsError(f"{csv_path}: cannot read it as CSV ({exc})") from None
    if not rows:
        raise LabelsError(f"{csv_path}: lists no clips (a header and no rows, or an empty file)")
    columns = set(rows[0])
    if "file" not in columns:
        raise LabelsError(f"{csv_path}: needs a 'file' column and a label column "
                          f"({' or '.join(LABEL_COLUMNS)}); found {sorted(columns)}")
    label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
    truth_columns = {c: v for c, v in TRUTH_COLUMNS.items() if c in columns}
    if label_column is None and not truth_columns:
        raise LabelsError(f"{csv_path}: no label column ({', '.join(LABEL_COLUMNS)}, gtzan or fma)")
    clips, missing = [], []
    for number, row in enumerate(rows, start=2):
        where = f"{csv_path} line {number}"
        name = (row.get("file") or "").strip()
        path = root / name
        if not name or not path.is_file():
            missing.append(name or f"(empty, line {number})")
            continue
        given = _checked_given({v: _split(row.get(c)) for c, v in truth_columns.items()}, where)
        label = (row.get(label_column) or "").strip() if label_column else ""
        # With only per-set columns, the first stated answer names the clip in tables.
        label = label or next((sorted(a)[0] for a in given.values() if a), "")
        if not label:
            raise LabelsError(f"{where}: {name} has no label")
        clips.append(LabelledClip(path, name, label, given))
    if missing:
        raise LabelsError(f"{csv_path}: {len(missing)} listed file(s) not found under {root} "
                          f"(first: {', '.join(missing[:3])})")
    if not clips:
        raise LabelsError(f"{csv_path}: lists no clips")
    return clips


def read_labelled(path: str | os.PathLike, *, labels: str | os.PathLike | None = None,
                  dataset: str | None = None) -> LabelledSet:
    """Labelled clips from a CSV, a folder with ``labels.csv``, GTZAN file names, or a folder per label.

    Parameters
    ----------
    path : path
        A CSV file or a folder.
    labels : path, optional
        A CSV naming the folder's files (overrides any ``labels.csv`` in it).
    dataset : str, optional
        The training set the clips come from; guessed for GTZAN names and the
        FMA layout (``gtzan``, ``fma``).

    Raises
    ------
    LabelsError
        When ``path`` does not exist, holds no audio, or is laid out by track
        id (FMA) with no labels file; the message says what to give instead.
    """
    path = Path(path)
    if path.is_file():
        return LabelledSet(path.stem, tuple(read_labels_csv(path)), "csv", dataset)
    if not path.is_dir():
        raise LabelsError(f"{path}: no such file or folder")
    table = Path(labels) if labels is not None else path / LABELS_FILE
    files = _audio(path)
    fma_layout = bool(files) and all(_FMA_NAME.match(f.stem) and f.parent.name == f.stem[:3] for f in files)
    if labels is not None or table.is_file():
        clips = read_labels_csv(table, root=path)
        return LabelledSet(path.name, tuple(clips), "csv", dataset or ("fma" if fma_layout else None))
    if not files:
        raise LabelsError(f"{path}: no audio files ({', '.join(SUPPORTED_EXTENSIONS)}) in it or below it")
    if fma_layout:
        raise LabelsError(f"{path} is laid out by FMA track id (NNN/NNNNNN.mp3), which says nothing of the "
                          f"genre: give --labels with a CSV of file,label (e.g. from FMA's tracks.csv genre_top)")
    gtzan = [_GTZAN_NAME.match(f.stem) for f in files]
    if all(m is not None and f.parent == path for m, f in zip(gtzan, files)):
        clips = tuple(LabelledClip(f, f.name, m.group(1)) for m, f in zip(gtzan, files))
        return LabelledSet(path.name, clips, "gtzan names", dataset or "gtzan")
    loose = [f.name for f in files if f.parent == path]
    if loose:
        raise LabelsError(f"{path}: {len(loose)} audio file(s) sit directly in it (first: {', '.join(loose[:3])}); "
                          f"put each in a sub-folder named after its label, or list them in {LABELS_FILE}")
    clips = tuple(LabelledClip(f, f.relative_to(path).as_posix(), f.relative_to(path).parts[0]) for f in files)
    return LabelledSet(path.name, clips, "folder per label", dataset)
