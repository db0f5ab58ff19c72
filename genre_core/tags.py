"""The taggers' vocabularies: MSD and MTT tags, what kind of tag each is, and a genre crosswalk.

The pretrained taggers (musicnn, VGG) predict 50 tags each.  Some are genres
("rock", "Hip-Hop"), others are decades, moods, instruments or vocals.  This
module says which is which, so views can show genre tags apart from the rest,
and maps genre tags onto GTZAN's and FMA's genre names so the taggers can be
compared with the genre classifiers.

The crosswalk is a **mapping written by hand**, not something a model learnt:
a tag maps to a genre when the tag is that genre or a sub-genre of it (e.g.
"indie rock" → rock, "House" → disco for GTZAN but Electronic for FMA).  Tags
with no counterpart map to nothing.  A mapped genre score is the largest
probability among the tags that map to it (a tag is evidence for its genre; the
taggers' probabilities are independent, so they are not summed).

Examples
--------
>>> tag_category("80s"), tag_category("Hip-Hop"), tag_category("male vocalists")
('decade', 'genre', 'vocals')
>>> sorted(tags_for_genre("msd50", "gtzan10", "metal"))
['hard rock', 'heavy metal', 'metal']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .config import FMA_SMALL_GENRES, GTZAN_GENRES

#: musicnn's MSD vocabulary, in output order (``musicnn.configuration.MSD_LABELS``).
MSD_TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock",
    "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental",
    "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist",
    "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy", "funk",
    "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
)
#: musicnn's MagnaTagATune vocabulary, in output order (``musicnn.configuration.MTT_LABELS``).
MTT_TAGS: tuple[str, ...] = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
    "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal",
    "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance",
    "male voice", "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal",
    "female voice", "choral",
)
TAG_SETS: dict[str, tuple[str, ...]] = {"msd50": MSD_TAGS, "mtt50": MTT_TAGS}
GENRE_SETS: dict[str, tuple[str, ...]] = {"gtzan10": GTZAN_GENRES, "fma8": FMA_SMALL_GENRES}

#: Every tag that is not a genre, by category; anything unlisted is a genre tag.
_NON_GENRE: dict[str, frozenset[str]] = {
    "decade": frozenset({"00s", "90s", "80s", "70s", "60s", "oldies"}),
    "mood": frozenset({"beautiful", "Mellow", "chill", "chillout", "sexy", "catchy", "sad", "happy",
                       "party", "easy listening", "slow", "fast", "loud", "quiet", "soft", "weird"}),
    "vocals": frozenset({"female vocalists", "male vocalists", "female vocalist", "vocal", "female",
                         "male", "singing", "vocals", "no vocals", "woman", "male vocal", "no vocal",
                         "man", "voice", "male voice", "female vocal", "no voice", "female voice",
                         "choir", "choral", "opera", "instrumental"}),
    "instrument": frozenset({"guitar", "acoustic", "strings", "drums", "piano", "beat", "beats",
                             "violin", "synth", "harpsichord", "flute", "sitar", "solo", "harp",
                             "cello"}),
}
TAG_CATEGORIES: tuple[str, ...] = ("genre", *_NON_GENRE)

#: Tag → genre, per (tag set, genre set).  Written by hand; see the module docstring.
CROSSWALK: dict[tuple[str, str], dict[str, str]] = {
    ("msd50", "gtzan10"): {
        "rock": "rock", "alternative": "rock", "indie": "rock", "alternative rock": "rock",
        "classic rock": "rock", "indie rock": "rock", "punk": "rock", "Progressive rock": "rock",
        "pop": "pop", "indie pop": "pop",
        "dance": "disco", "House": "disco", "funk": "disco",
        "jazz": "jazz", "metal": "metal", "hard rock": "metal", "heavy metal": "metal",
        "soul": "blues", "blues": "blues", "rnb": "hiphop", "Hip-Hop": "hiphop",
        "country": "country", "folk": "country",
    },
    ("msd50", "fma8"): {
        "rock": "Rock", "alternative": "Rock", "indie": "Rock", "alternative rock": "Rock",
        "classic rock": "Rock", "indie rock": "Rock", "punk": "Rock", "Progressive rock": "Rock",
        "hard rock": "Rock", "metal": "Rock", "heavy metal": "Rock",
        "pop": "Pop", "indie pop": "Pop",
        "electronic": "Electronic", "electronica": "Electronic", "electro": "Electronic",
        "dance": "Electronic", "House": "Electronic", "ambient": "Electronic",
        "experimental": "Experimental", "folk": "Folk", "acoustic": "Folk",
        "Hip-Hop": "Hip-Hop", "rnb": "Hip-Hop", "instrumental": "Instrumental",
    },
    ("mtt50", "gtzan10"): {
        "classical": "classical", "classic": "classical", "opera": "classical",
        "harpsichord": "classical", "choral": "classical",
        "rock": "rock", "pop": "pop", "dance": "disco", "metal": "metal", "country": "country",
    },
    ("mtt50", "fma8"): {
        "rock": "Rock", "metal": "Rock", "pop": "Pop", "electronic": "Electronic", "techno": "Electronic",
        "dance": "Electronic", "ambient": "Electronic", "indian": "International", "sitar": "International",
        "weird": "Experimental", "country": "Folk", "no vocals": "Instrumental", "no vocal": "Instrumental",
        "no voice": "Instrumental",
    },
}


def tag_category(tag: str) -> str:
    """``genre``, ``decade``, ``mood``, ``vocals`` or ``instrument``."""
    for category, tags in _NON_GENRE.items():
        if tag in tags:
            return category
    return "genre"


def genre_tags(tags: Sequence[str]) -> list[str]:
    """The tags of ``tags`` that are genres, in their order."""
    return [tag for tag in tags if tag_category(tag) == "genre"]


def tag_set_name(tags: Sequence[str]) -> str | None:
    """``msd50`` or ``mtt50`` for a known vocabulary, else None."""
    tags = tuple(tags)
    return next((name for name, known in TAG_SETS.items() if known == tags), None)


def tags_for_genre(tag_set: str, genre_set: str, genre: str) -> list[str]:
    """The tags that the crosswalk maps to ``genre``."""
    return [tag for tag, mapped in CROSSWALK[(tag_set, genre_set)].items() if mapped == genre]


def map_to_genres(tags: Sequence[str], probabilities: np.ndarray, genre_set: str = "gtzan10") -> np.ndarray:
    """Genre scores from tag probabilities through the crosswalk.

    Parameters
    ----------
    tags : sequence of str
        A known vocabulary (MSD or MTT), in output order.
    probabilities : np.ndarray, shape (..., n_tags)
        Independent tag probabilities (one clip, or one row per window).
    genre_set : {'gtzan10', 'fma8'}

    Returns
    -------
    np.ndarray, shape (..., n_genres)
        For each genre the largest probability of a tag mapped to it; 0 where no
        tag maps to the genre.  Not a distribution: rows need not sum to 1.

    Examples
    --------
    >>> p = np.zeros(50); p[MSD_TAGS.index("heavy metal")] = 0.7
    >>> dict(zip(GTZAN_GENRES, map_to_genres(MSD_TAGS, p).round(2)))["metal"]
    np.float64(0.7)
    """
    tag_set = tag_set_name(tags)
    if tag_set is None or genre_set not in GENRE_SETS:
        raise ValueError(f"no crosswalk from these {len(tuple(tags))} tags to {genre_set!r}")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    genres = GENRE_SETS[genre_set]
    out = np.zeros(probabilities.shape[:-1] + (len(genres),))
    for tag, genre in CROSSWALK[(tag_set, genre_set)].items():
        g = genres.index(genre)
        out[..., g] = np.maximum(out[..., g], probabilities[..., tags.index(tag)])
    return out


def split_by_category(tags: Sequence[str], probabilities: np.ndarray, top: int = 5
                      ) -> Mapping[str, list[tuple[str, float]]]:
    """The ``top`` most probable tags of each category, most probable first.

    Examples
    --------
    >>> p = np.zeros(50); p[MSD_TAGS.index("80s")] = 0.75; p[MSD_TAGS.index("rock")] = 0.5
    >>> split_by_category(MSD_TAGS, p, top=1)
    {'genre': [('rock', 0.5)], 'decade': [('80s', 0.75)], 'mood': [('beautiful', 0.0)], 'vocals': [('female vocalists', 0.0)], 'instrument': [('acoustic', 0.0)]}
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(-probabilities, kind="stable")
    grouped: dict[str, list[tuple[str, float]]] = {category: [] for category in TAG_CATEGORIES}
    for i in order:
        bucket = grouped[tag_category(tags[i])]
        if len(bucket) < top:
            bucket.append((tags[i], float(probabilities[i])))
    return {category: items for category, items in grouped.items() if items}
