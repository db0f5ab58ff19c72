"""The taggers' vocabularies, tag categories and the genre crosswalk."""

from __future__ import annotations

import numpy as np
import pytest

from genre_core import tags
from genre_core.config import FMA_SMALL_GENRES, GTZAN_GENRES


def test_vocabularies_are_musicnns():
    musicnn_config = pytest.importorskip(
        "musicnn.configuration", reason="musicnn is a test tool: pip install --no-deps -r requirements-reference.txt")
    assert tags.MSD_TAGS == tuple(musicnn_config.MSD_LABELS)
    assert tags.MTT_TAGS == tuple(musicnn_config.MTT_LABELS)


@pytest.mark.parametrize("vocabulary", [tags.MSD_TAGS, tags.MTT_TAGS])
def test_fifty_distinct_tags(vocabulary):
    assert len(vocabulary) == 50 and len(set(vocabulary)) == 50


@pytest.mark.parametrize("key", sorted(tags.CROSSWALK))
def test_crosswalk_maps_known_tags_to_known_genres(key):
    tag_set, genre_set = key
    vocabulary, genres = tags.TAG_SETS[tag_set], tags.GENRE_SETS[genre_set]
    for tag, genre in tags.CROSSWALK[key].items():
        assert tag in vocabulary, tag
        assert genre in genres, genre


def test_non_genre_tags_are_never_genre_category():
    for tag in ("00s", "80s", "sad", "female vocalists", "guitar", "no vocals", "instrumental"):
        assert tags.tag_category(tag) != "genre", tag
    for tag in ("rock", "Hip-Hop", "jazz", "House", "techno", "classical"):
        assert tags.tag_category(tag) == "genre", tag


def test_genre_tags_keep_order_and_drop_others():
    genre_only = tags.genre_tags(tags.MSD_TAGS)
    assert genre_only[:3] == ["rock", "pop", "alternative"]
    assert "00s" not in genre_only and "female vocalists" not in genre_only


def test_map_to_genres_takes_the_strongest_tag():
    p = np.zeros(50)
    p[tags.MSD_TAGS.index("indie rock")] = 0.3
    p[tags.MSD_TAGS.index("punk")] = 0.6
    p[tags.MSD_TAGS.index("jazz")] = 0.2
    mapped = tags.map_to_genres(tags.MSD_TAGS, p, "gtzan10")
    assert mapped[GTZAN_GENRES.index("rock")] == pytest.approx(0.6)
    assert mapped[GTZAN_GENRES.index("jazz")] == pytest.approx(0.2)
    assert mapped[GTZAN_GENRES.index("reggae")] == 0.0  # nothing maps to reggae


def test_map_to_genres_works_per_window():
    rng = np.random.default_rng(0)
    p = rng.random((7, 50))
    mapped = tags.map_to_genres(tags.MTT_TAGS, p, "fma8")
    assert mapped.shape == (7, len(FMA_SMALL_GENRES))
    np.testing.assert_allclose(mapped[3], tags.map_to_genres(tags.MTT_TAGS, p[3], "fma8"))


def test_map_to_genres_refuses_unknown_vocabulary():
    with pytest.raises(ValueError, match="no crosswalk"):
        tags.map_to_genres(GTZAN_GENRES, np.zeros(10), "gtzan10")


def test_split_by_category_groups_and_ranks():
    p = np.zeros(50)
    p[tags.MSD_TAGS.index("80s")] = 0.9
    p[tags.MSD_TAGS.index("rock")] = 0.5
    p[tags.MSD_TAGS.index("Hip-Hop")] = 0.7
    grouped = tags.split_by_category(tags.MSD_TAGS, p, top=2)
    assert grouped["genre"] == [("Hip-Hop", 0.7), ("rock", 0.5)]
    assert grouped["decade"][0] == ("80s", 0.9)
