"""Training-set fingerprints: which tracks a feature model was trained on, in feature space.

A shipped GTZAN model is trained on every track of the GTZAN table, so a GTZAN
clip uploaded to the app gets a near-perfect answer that says nothing about new
music.  To flag such a clip, each model folder stores the 57-d feature vectors
of its training tracks (``training_fingerprint.npz``) and the app matches the
clip's own GTZAN-57 vector against them.  The vectors are model-side data
derived from the training set, like the kNN model (which stores the same 1000
vectors); no audio and no table row is copied.

Matching is done in *standardised* units (each feature divided by its
training-set standard deviation), because the parity test
(``tests/test_features.py``) bounds our features' distance from the published
table in exactly those units: every feature within 2.5 % of its column's std
(worst seen: 1.7 %).  :data:`MATCH_TOLERANCE` is twice that bound; the nearest
*different* training track is typically 1.4 std away in its worst feature.

The same file also tells how unusual a clip is for the training music
(:meth:`TrainingFingerprint.novelty`): how far it is from its nearest training
track, and how many of its features fall outside the range of the training
set, each compared with what the training tracks themselves show.

Write the fingerprint of the shipped GTZAN models with::

    python -m genre_core.training.fingerprints --data ../shared/data/gtzan/features_30_sec.csv --models models
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: File name of a model's training fingerprint, beside its ``card.json``.
FINGERPRINT_FILE: str = "training_fingerprint.npz"
#: Two features match when they differ by at most this many training stds:
#: twice the parity test's 2.5 % bound.
MATCH_TOLERANCE: float = 0.05
#: Share of the features that must match: a few may be off after lossy
#: re-encoding (tempo can jump to a neighbouring estimate), so 54 of 57 suffice.
MATCH_QUANTILE: float = 0.95
#: Percentiles of the training features that bound "inside the training range".
RANGE_PERCENTILES: tuple[float, float] = (0.5, 99.5)
#: The training tracks' own figure a clip is compared with (99th percentile).
NOVELTY_PERCENTILE: float = 99.0


@dataclass(frozen=True)
class TrainingMatch:
    """A training track whose features equal the clip's (within the tolerance).

    Attributes
    ----------
    track_id : str
        The training track, e.g. ``blues.00000``.
    label : str
        Its training label.
    distance : float
        The :data:`MATCH_QUANTILE` quantile of the per-feature differences, in training stds.
    window : int
        Index of the clip's analysis window that matched.
    """

    track_id: str
    label: str
    distance: float
    window: int


@dataclass(frozen=True)
class Novelty:
    """How unlike the training music a clip is.

    Attributes
    ----------
    nearest_distance : float
        RMS distance (training stds) from the clip's most typical window to its nearest training track.
    distance_limit : float
        The 99th percentile of the same distance among the training tracks (each to its nearest other).
    outside_range : int
        Features of that window outside the training set's 0.5–99.5 percentile range.
    outside_limit : int
        Twice the 99th percentile of that count among the training tracks.
    """

    nearest_distance: float
    distance_limit: float
    outside_range: int
    outside_limit: int

    @property
    def unlike_training(self) -> bool:
        """Both far from every training track and with many features out of range.

        Either figure alone flags some real songs (one FMA clip in six is
        beyond the distance limit); both together flag the teaching sounds,
        not the real clips.
        """
        return self.nearest_distance > self.distance_limit and self.outside_range > self.outside_limit


@dataclass(frozen=True)
class TrainingFingerprint:
    """The training tracks of a feature model, as standardised feature vectors.

    Attributes
    ----------
    vectors : np.ndarray, (n_tracks, n_features) float32
        ``(x - mean) / std`` of each training track.
    mean, std : np.ndarray, (n_features,)
    track_ids, labels : tuple of str
    feature_names : tuple of str
    source : str
        Where the vectors came from, in words.
    """

    vectors: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    track_ids: tuple[str, ...]
    labels: tuple[str, ...]
    feature_names: tuple[str, ...]
    source: str = ""

    def standardise(self, features: np.ndarray) -> np.ndarray:
        """Raw feature rows (n, n_features) in training-std units."""
        rows = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if rows.shape[1] != self.vectors.shape[1]:
            raise ValueError(f"expected {self.vectors.shape[1]} features, got {rows.shape[1]}")
        return (rows - self.mean) / self.std

    def _differences(self, z: np.ndarray) -> np.ndarray:
        """(n_tracks,) the MATCH_QUANTILE quantile of |z - track| over features, for one row."""
        return np.quantile(np.abs(self.vectors - z.astype(np.float32)), MATCH_QUANTILE, axis=1)

    def matches(self, features: np.ndarray, tolerance: float = MATCH_TOLERANCE) -> list[TrainingMatch]:
        """Training tracks equal to any window of a clip, closest first (one entry per track).

        Parameters
        ----------
        features : np.ndarray, (n_windows, n_features) or (n_features,)
            The clip's raw feature vectors, e.g. ``features.gtzan57_windows(...)[1]``.
        tolerance : float
            Largest allowed difference (training stds) for :data:`MATCH_QUANTILE` of the features.
        """
        best: dict[int, TrainingMatch] = {}
        for window, z in enumerate(self.standardise(features)):
            if not np.all(np.isfinite(z)):
                continue
            differences = self._differences(z)
            for index in np.flatnonzero(differences <= tolerance):
                match = TrainingMatch(self.track_ids[index], self.labels[index], float(differences[index]), window)
                if index not in best or match.distance < best[index].distance:
                    best[int(index)] = match
        return sorted(best.values(), key=lambda m: m.distance)

    def _range(self) -> tuple[np.ndarray, np.ndarray]:
        low, high = np.percentile(self.vectors, RANGE_PERCENTILES, axis=0)
        return low, high

    def novelty(self, features: np.ndarray) -> Novelty:
        """How unlike the training tracks the clip's most typical window is (see :class:`Novelty`)."""
        z = self.standardise(features)
        z = z[np.all(np.isfinite(z), axis=1)]
        if not len(z):
            raise ValueError("no finite feature vector to compare")
        n_features = self.vectors.shape[1]
        distances = np.sqrt(_squared_distances(z, self.vectors) / n_features).min(axis=1)
        typical = int(np.argmin(distances))  # a song's most training-like window speaks for it
        low, high = self._range()
        outside = int(np.sum((z[typical] < low) | (z[typical] > high)))
        own = _squared_distances(self.vectors, self.vectors)
        np.fill_diagonal(own, np.inf)
        own_nearest = np.sqrt(own.min(axis=1) / n_features)
        own_outside = np.sum((self.vectors < low) | (self.vectors > high), axis=1)
        return Novelty(
            nearest_distance=float(distances[typical]),
            distance_limit=float(np.percentile(own_nearest, NOVELTY_PERCENTILE)),
            outside_range=outside,
            outside_limit=int(np.ceil(2 * np.percentile(own_outside, NOVELTY_PERCENTILE))),
        )


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)


def make_fingerprint(features: np.ndarray, track_ids: Sequence[str], labels: Sequence[str],
                     feature_names: Sequence[str], source: str = "") -> TrainingFingerprint:
    """Standardise a training feature matrix into a :class:`TrainingFingerprint`.

    Raises
    ------
    ValueError
        When the rows, ids and labels disagree in number, or a feature is constant or not finite.
    """
    X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != len(track_ids) or X.shape[0] != len(labels) or X.shape[1] != len(feature_names):
        raise ValueError(f"features {X.shape} do not match {len(track_ids)} ids, {len(labels)} labels and "
                         f"{len(feature_names)} feature names")
    if not np.all(np.isfinite(X)):
        raise ValueError("training features contain NaN or inf")
    mean, std = X.mean(axis=0), X.std(axis=0)
    if np.any(std == 0):
        raise ValueError("a training feature is constant; it cannot be standardised")
    return TrainingFingerprint(((X - mean) / std).astype(np.float32), mean, std, tuple(map(str, track_ids)),
                               tuple(map(str, labels)), tuple(map(str, feature_names)), source)


def write_fingerprint(model_dir: str | Path, fingerprint: TrainingFingerprint) -> Path:
    """Write ``training_fingerprint.npz`` into a model folder; returns its path."""
    path = Path(model_dir) / FINGERPRINT_FILE
    np.savez_compressed(
        path, vectors=fingerprint.vectors, mean=fingerprint.mean, std=fingerprint.std,
        track_ids=np.array(fingerprint.track_ids), labels=np.array(fingerprint.labels),
        feature_names=np.array(fingerprint.feature_names), source=np.array(fingerprint.source),
    )
    return path


def read_fingerprint(model_dir: str | Path) -> TrainingFingerprint | None:
    """The fingerprint stored in a model folder, or ``None`` when it has none.

    Raises
    ------
    ValueError
        When the file exists but is damaged.
    """
    path = Path(model_dir) / FINGERPRINT_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return TrainingFingerprint(
                vectors=stored["vectors"].astype(np.float32), mean=stored["mean"], std=stored["std"],
                track_ids=tuple(map(str, stored["track_ids"])), labels=tuple(map(str, stored["labels"])),
                feature_names=tuple(map(str, stored["feature_names"])), source=str(stored["source"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path} is damaged: {exc}") from exc


def fingerprint_from_gtzan_table(csv_path: str | Path) -> TrainingFingerprint:
    """The fingerprint of every track of a GTZAN features table, as ``train classic`` loads it."""
    from ..datasets import gtzan_feature_table

    X, table = gtzan_feature_table(csv_path)
    return make_fingerprint(np.asarray(X, dtype=np.float64), table["track_id"], table["label"], list(X.columns),
                            source=f"{Path(csv_path).name}: {len(table)} tracks")


def trained_on_table(card: dict) -> bool:
    """Whether a card describes a GTZAN-57 model trained on the whole GTZAN features table."""
    data = card.get("data") or {}
    from ..models.classical import INPUT_KIND

    return (card.get("input") or {}).get("kind") == INPUT_KIND and data.get("dataset") == "GTZAN" \
        and "all" in str(data.get("trained_on", ""))


def main(argv: Sequence[str] | None = None) -> int:
    """Write the fingerprint into every model folder trained on the whole GTZAN table."""
    parser = argparse.ArgumentParser(prog="python -m genre_core.training.fingerprints", description=main.__doc__)
    parser.add_argument("--data", required=True, help="GTZAN features_30_sec.csv the models were trained on")
    parser.add_argument("--models", default="models", help="folder of model folders (default: models)")
    args = parser.parse_args(argv)
    from ..cards import read_card

    fingerprint = fingerprint_from_gtzan_table(args.data)
    written = 0
    for card_path in sorted(Path(args.models).glob("*/card.json")):
        card = read_card(card_path.parent)
        if trained_on_table(card) and list(card["input"].get("feature_names") or fingerprint.feature_names) \
                == list(fingerprint.feature_names):
            print(write_fingerprint(card_path.parent, fingerprint))
            written += 1
    if not written:
        print(f"no GTZAN-57 model trained on the whole table under {args.models}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
