"""What the models say about the real clips in ``../shared/data``: top tags and genres per clip.

Run with::

    python -m benchmarks.real_clips [--models msd_musicnn msd_vgg gtzan_logreg ...]

For each clip: its known genre (FMA-small's label, or the GTZAN file name),
each tagger's top genre tags and top other tags, the tagger's genre mapped to
FMA's and GTZAN's names through :mod:`genre_core.tags` (a hand-written
crosswalk), and each genre classifier's answer.  The GTZAN clips are training
clips of the shipped GTZAN models, so their answers there prove nothing; the
FMA clips are outside every model's training data here.  Six clips are an
anecdote, not an evaluation: the script prints, it does not score.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from genre_core.config import SHARED_DATA_DIR  # noqa: E402

#: FMA-small top-level genres of the shared clips (public FMA metadata).
FMA_GENRES: dict[str, str] = {
    "000002": "Hip-Hop", "000010": "Pop", "000140": "Folk", "001040": "Rock",
    "001066": "Experimental", "001082": "International",
}
DEFAULT_MODELS: tuple[str, ...] = ("msd_musicnn", "msd_vgg", "mtt_musicnn", "gtzan_logreg", "gtzan_svm")


def clips() -> list[tuple[str, str, object]]:
    """(name, known genre, path) of every shared real clip, FMA first."""
    found = []
    for path in sorted((SHARED_DATA_DIR / "fma_small").glob("*/*.mp3")):
        found.append((path.stem, f"FMA {FMA_GENRES.get(path.stem, '?')}", path))
    for path in sorted((SHARED_DATA_DIR / "gtzan" / "audio").glob("*.wav")):
        found.append((path.stem, f"GTZAN {path.stem.split('.')[0]} (training clip)", path))
    return found


def describe(prediction: object) -> str:
    """One line: top tags by kind for a tagger, top-2 genres for a classifier."""
    from genre_core.tags import GENRE_SETS, map_to_genres, split_by_category, tag_set_name

    labels, probs = prediction.labels, prediction.probabilities
    if not prediction.multi_label or tag_set_name(labels) is None:
        order = np.argsort(-probs)[:2]
        return ", ".join(f"{labels[i]} {probs[i]:.2f}" for i in order)
    grouped = split_by_category(labels, probs, top=3)
    parts = [f"{kind}: " + ", ".join(f"{t} {p:.2f}" for t, p in items) for kind, items in grouped.items()]
    mapped = []
    for genre_set in ("fma8", "gtzan10"):
        scores = map_to_genres(labels, probs, genre_set)
        mapped.append(f"{genre_set}→{GENRE_SETS[genre_set][int(np.argmax(scores))]}")
    return " | ".join(parts[:2]) + " | mapped: " + ", ".join(mapped)


def main(argv: Sequence[str] | None = None) -> int:
    """Print every model's answer on every shared clip."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv)
    found = clips()
    if not found:
        print(f"no real clips under {SHARED_DATA_DIR}")
        return 1
    from genre_core.audio import load_audio
    from genre_core.predict import predict_clip
    from genre_core.registry import default_registry

    registry = default_registry()
    predictors = [registry.load(name) for name in args.models]
    for name, genre, path in found:
        print(f"\n{name}  ({genre})")
        for prediction in predict_clip(load_audio(path), predictors):
            print(f"  {prediction.model:<12} {describe(prediction)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
