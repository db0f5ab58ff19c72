"""A deterministic, seedable corpus of labelled synthetic music clips.

No real audio corpus ships with the project, so the deep models are trained,
tested and benchmarked on clips synthesised here from real musical
ingredients: a synthesised drum kit playing style-specific step patterns, a
bass line and chords following a chord progression, a melody, and per-clip
randomness (tempo, key, mix, effects, noise, timing humanisation).

Styles are named for what they are (``"four-on-the-floor"``, ``"swing"``,
...), never after the GTZAN/FMA genres.  Their tempo ranges, timbres and drum
patterns overlap, and every clip borrows some of its ingredients from a
neighbouring style with a small probability, so a good classifier lands below
100 % on held-out clips.

Everything is numpy/scipy and vectorised per note or per drum hit; a 10 s clip
renders in a few tens of milliseconds.

Examples
--------
>>> y = synth_clip("swing", seed=3, duration=5.0)
>>> y.dtype, y.shape
(dtype('float32'), (110250,))
>>> table = synth_tracks(n_per_style=10, seed=0)
>>> sorted(table["split"].unique())
['test', 'train', 'valid']
"""

from __future__ import annotations

import argparse
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import soundfile as sf
from scipy import signal

from .config import SAMPLE_RATE

#: Ordered label list; the index of a style is its class index.
STYLES: tuple[str, ...] = (
    "four-on-the-floor",
    "breakbeat",
    "swing",
    "waltz",
    "half-time",
    "power-chords",
    "ambient-drone",
)

#: One line per style, for people choosing or reading about them.
STYLE_DESCRIPTIONS: dict[str, str] = {
    "four-on-the-floor": "kick on every beat, open hats on the off-beats, 118-132 BPM, pads and plucks",
    "breakbeat": "syncopated kick and snare, busy hats, 130-175 BPM, pads and sub or saw bass",
    "swing": "triplet-feel ride cymbal, walking bass, comping organ or piano-like chords, 100-180 BPM",
    "waltz": "3/4 time, oom-pah-pah bass and chords on organ or pad, few or no drums, 80-180 BPM",
    "half-time": "snare only on beat 3 (a 60-90 BPM feel), trap-style hats, heavy sub bass",
    "power-chords": "distorted guitar-like power chords in 8ths, rock beat with straight 8th hats, 100-160 BPM",
    "ambient-drone": "no drums, long sustained pads and drones, wind noise, lots of reverb",
}

#: Peak level every clip is normalised to.
PEAK_LEVEL: float = 0.9
#: Fractions of each style's tracks that go to the valid and test splits.
VALID_FRACTION: float = 0.16
TEST_FRACTION: float = 0.20
#: Probability that one ingredient of a clip (tempo, drums, bass, chords,
#: lead, harmony) is taken from a neighbouring style instead of its own.
BORROW_PROBABILITY: float = 0.12
#: Lowest sample rate accepted: below it the drum kit's hats lose their band.
MIN_SAMPLE_RATE: int = 8000

_TABLE_BITS = 11
_TABLE_SIZE = 2 ** _TABLE_BITS
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_DRUMS = ("kick", "snare", "chat", "ohat", "ride")
# Velocity of each symbol in a step-pattern string.
_VELOCITY = {"X": 1.0, "x": 0.8, "o": 0.55, "g": 0.3, ".": 0.0}


# --------------------------------------------------------------------------
# Drum patterns and style definitions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DrumPattern:
    """One bar of drums on a step grid.

    Attributes
    ----------
    steps_per_beat : int
        4 for a 16th grid, 3 for a triplet grid, 2 for an 8th grid.
    beats_per_bar : int
        Meter of the bar (4 or 3).
    hits : Mapping[str, str]
        Instrument name -> step string, one symbol per step
        (``X`` accent, ``x`` normal, ``o`` soft, ``g`` ghost, ``.`` rest).
    """

    steps_per_beat: int
    beats_per_bar: int
    hits: Mapping[str, str]

    def __post_init__(self) -> None:
        n_steps = self.steps_per_beat * self.beats_per_bar
        for name, steps in self.hits.items():
            if name not in _DRUMS or len(steps) != n_steps:
                raise ValueError(f"bad drum line {name!r}: {steps!r} (need {n_steps} steps)")


def _pattern(steps_per_beat: int, beats_per_bar: int, **hits: str) -> DrumPattern:
    return DrumPattern(steps_per_beat, beats_per_bar, hits)


DRUM_PATTERNS: dict[str, DrumPattern] = {
    "four-floor": _pattern(4, 4, kick="X...X...X...X...", snare="....x.......x...",
                           ohat="..x...x...x...x.", chat="o..go..go..go..g"),
    "four-floor-open": _pattern(4, 4, kick="X...X...X...X...", snare="....X.......X...",
                                ohat="..x...x...x...x."),
    "four-floor-16": _pattern(4, 4, kick="X...X...X...X...", snare="....x.......x..o",
                              chat="xoxoxoxoxoxoxoxo"),
    "amen": _pattern(4, 4, kick="X.X.......XX....", snare="....X..o.o..X..o",
                     chat="x.x.x.x.x.x.x.x."),
    "funky": _pattern(4, 4, kick="X.X...x...X..x..", snare="....X..o.o.oX..o",
                      chat="xoxoxoxoxoxoxoxo"),
    "two-step": _pattern(4, 4, kick="X.........X.....", snare="....X.......X...",
                         chat="..x...x.x...x..x"),
    "half": _pattern(4, 4, kick="X......x..X.....", snare="........X.......",
                     chat="x.x.x.x.x.x.x.x."),
    "half-trap": _pattern(4, 4, kick="X..x......X..x..", snare="........X.......",
                          chat="xoxoxoxxxoxoxxxx", ohat="..............o."),
    "half-sparse": _pattern(4, 4, kick="X.........x.....", snare="........X.......",
                            chat="x...x...x...x..."),
    "rock": _pattern(4, 4, kick="X.......X.x.....", snare="....X.......X...",
                     chat="x.x.x.x.x.x.x.x."),
    "rock-push": _pattern(4, 4, kick="X..x..x.X.......", snare="....X.......X...",
                          chat="x.x.x.x.x.x.x.x."),
    "punk": _pattern(4, 4, kick="X...X...X...X...", snare="..X...X...X...X.",
                     chat="x.x.x.x.x.x.x.x."),
    "ride": _pattern(3, 4, ride="X..x.xX..x.x", chat="...x.....x..", kick="g.....g....."),
    "shuffle": _pattern(3, 4, chat="x.ox.ox.ox.o", snare="...X.....X..", kick="X.....X....."),
    "ride-comp": _pattern(3, 4, ride="x..x.xx..x.x", chat="...x.....x..",
                          snare="........g.o.", kick="o..g..o..g.."),
    "waltz": _pattern(2, 3, kick="o.....", chat="..g.g."),
    "waltz-brush": _pattern(2, 3, kick="g.....", snare="g.g.g."),
}


@dataclass(frozen=True)
class _KitRanges:
    """Ranges a style's drum kit is voiced from (genres differ in sound, not just pattern)."""

    kick_start_hz: tuple[float, float] = (110.0, 200.0)
    kick_end_hz: tuple[float, float] = (42.0, 60.0)
    kick_decay: tuple[float, float] = (0.12, 0.3)
    snare_tone_hz: tuple[float, float] = (170.0, 240.0)
    snare_decay: tuple[float, float] = (0.08, 0.16)
    clap_probability: float = 0.0
    hat_decay: tuple[float, float] = (0.02, 0.05)
    hat_cutoff_hz: tuple[float, float] = (6000.0, 8500.0)
    open_hat_decay: tuple[float, float] = (0.15, 0.35)
    levels: Mapping[str, float] = field(default_factory=lambda: {
        "kick": 1.0, "snare": 0.8, "chat": 0.35, "ohat": 0.4, "ride": 0.35})


@dataclass(frozen=True)
class _Style:
    """Distributions one style draws its ingredients from."""

    tempo: tuple[float, float]
    beats_per_bar: int
    drum_probability: float
    drum_patterns: tuple[str, ...]
    bass_patterns: Mapping[str, float]
    bass_timbres: Mapping[str, float]
    chord_rhythms: Mapping[str, float]
    chord_timbres: Mapping[str, float]
    lead_timbres: Mapping[str, float]
    lead_probability: float
    lead_density: tuple[float, float]
    lead_steps_per_beat: int
    minor_probability: float
    progressions: tuple[tuple[int, ...], ...]
    bars_per_chord: tuple[int, ...]
    seventh_probability: float
    power_chord_probability: float
    swing: tuple[float, float]
    gains_db: Mapping[str, float]
    reverb_probability: float
    reverb_seconds: tuple[float, float]
    reverb_wet: tuple[float, float]
    echo_probability: float
    wind_probability: float
    neighbours: tuple[str, ...]
    kit: _KitRanges = _KitRanges()


_POP = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 3, 4, 3), (0, 5, 3, 4))
_MINOR_LOOPS = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2))
_JAZZ = ((1, 4, 0, 0), (0, 5, 1, 4), (2, 5, 1, 4), (0, 3, 1, 4))
_DRONE = ((0, 0, 3, 0), (0, 5), (0, 3), (0,))

_STYLE_SPECS: dict[str, _Style] = {
    "four-on-the-floor": _Style(
        tempo=(118, 132), beats_per_bar=4, drum_probability=0.97,
        drum_patterns=("four-floor", "four-floor-open", "four-floor-16"),
        bass_patterns={"offbeat": 0.6, "pulse8": 0.25, "synco": 0.15},
        bass_timbres={"saw": 0.5, "pluck": 0.25, "sub": 0.25},
        chord_rhythms={"stabs": 0.45, "sustain": 0.35, "arp": 0.2},
        chord_timbres={"organ": 0.35, "pad": 0.35, "pluck": 0.3},
        lead_timbres={"pluck": 0.5, "sine": 0.2, "saw": 0.3},
        lead_probability=0.7, lead_density=(0.3, 0.6), lead_steps_per_beat=2,
        minor_probability=0.6, progressions=_POP + _MINOR_LOOPS, bars_per_chord=(1, 2),
        seventh_probability=0.3, power_chord_probability=0.0, swing=(0.0, 0.08),
        gains_db={"drums": 0, "bass": -4, "chords": -8, "lead": -9, "wind": -30},
        reverb_probability=0.5, reverb_seconds=(0.6, 2.0), reverb_wet=(0.1, 0.35),
        echo_probability=0.4,
        wind_probability=0.05,
        neighbours=("breakbeat", "power-chords", "half-time"),
        kit=_KitRanges(kick_start_hz=(110, 170), kick_end_hz=(45, 58), kick_decay=(0.22, 0.4),
                       clap_probability=0.7, open_hat_decay=(0.2, 0.35)),
    ),
    "breakbeat": _Style(
        tempo=(130, 175), beats_per_bar=4, drum_probability=0.97,
        drum_patterns=("amen", "funky", "two-step"),
        bass_patterns={"synco": 0.5, "sub": 0.3, "offbeat": 0.2},
        bass_timbres={"saw": 0.5, "sub": 0.5},
        chord_rhythms={"sustain": 0.5, "stabs": 0.3, "arp": 0.2},
        chord_timbres={"pad": 0.55, "saw": 0.25, "pluck": 0.2},
        lead_timbres={"pluck": 0.4, "saw": 0.3, "sine": 0.3},
        lead_probability=0.6, lead_density=(0.25, 0.6), lead_steps_per_beat=4,
        minor_probability=0.7, progressions=_MINOR_LOOPS + _POP, bars_per_chord=(1, 2),
        seventh_probability=0.3, power_chord_probability=0.0, swing=(0.0, 0.12),
        gains_db={"drums": 1, "bass": -5, "chords": -10, "lead": -10, "wind": -30},
        reverb_probability=0.4, reverb_seconds=(0.5, 1.8), reverb_wet=(0.1, 0.35),
        echo_probability=0.4,
        wind_probability=0.05,
        neighbours=("four-on-the-floor", "half-time", "swing", "power-chords"),
        kit=_KitRanges(kick_start_hz=(170, 250), kick_decay=(0.07, 0.16), snare_tone_hz=(200, 260),
                       snare_decay=(0.1, 0.2), clap_probability=0.1, hat_cutoff_hz=(7000, 9000),
                       levels={"kick": 1.0, "snare": 1.0, "chat": 0.4, "ohat": 0.4, "ride": 0.35}),
    ),
    "swing": _Style(
        tempo=(100, 180), beats_per_bar=4, drum_probability=0.9,
        drum_patterns=("ride", "shuffle", "ride-comp"),
        bass_patterns={"walking": 0.85, "root-fifth": 0.15},
        bass_timbres={"pluck": 0.85, "sine": 0.15},
        chord_rhythms={"comp": 0.75, "sustain": 0.25},
        chord_timbres={"organ": 0.45, "pluck": 0.45, "pad": 0.1},
        lead_timbres={"sine": 0.3, "organ": 0.3, "pluck": 0.4},
        lead_probability=0.85, lead_density=(0.35, 0.7), lead_steps_per_beat=3,
        minor_probability=0.3, progressions=_JAZZ, bars_per_chord=(1,),
        seventh_probability=0.9, power_chord_probability=0.0, swing=(0.0, 0.0),
        gains_db={"drums": -6, "bass": -2, "chords": -6, "lead": -5, "wind": -30},
        reverb_probability=0.5, reverb_seconds=(0.6, 1.6), reverb_wet=(0.1, 0.35),
        echo_probability=0.1,
        wind_probability=0.05,
        neighbours=("waltz", "breakbeat", "power-chords"),
        kit=_KitRanges(kick_start_hz=(90, 130), kick_decay=(0.1, 0.2), snare_decay=(0.12, 0.25),
                       hat_decay=(0.03, 0.07),
                       levels={"kick": 0.5, "snare": 0.5, "chat": 0.5, "ohat": 0.4, "ride": 1.0}),
    ),
    "waltz": _Style(
        tempo=(80, 180), beats_per_bar=3, drum_probability=0.3,
        drum_patterns=("waltz", "waltz-brush"),
        bass_patterns={"root-fifth": 0.8, "walking": 0.2},
        bass_timbres={"pluck": 0.4, "organ": 0.3, "sine": 0.3},
        chord_rhythms={"oom-pah": 0.65, "sustain": 0.35},
        chord_timbres={"organ": 0.55, "pluck": 0.25, "pad": 0.2},
        lead_timbres={"organ": 0.3, "sine": 0.3, "pluck": 0.4},
        lead_probability=0.9, lead_density=(0.3, 0.6), lead_steps_per_beat=2,
        minor_probability=0.35, progressions=_POP + _JAZZ, bars_per_chord=(1, 2),
        seventh_probability=0.2, power_chord_probability=0.0, swing=(0.0, 0.0),
        gains_db={"drums": -14, "bass": -4, "chords": -3, "lead": -3, "wind": -30},
        reverb_probability=0.7, reverb_seconds=(0.8, 2.5), reverb_wet=(0.1, 0.35),
        echo_probability=0.1,
        wind_probability=0.05,
        neighbours=("swing", "ambient-drone"),
        kit=_KitRanges(kick_start_hz=(90, 130), kick_decay=(0.1, 0.2), snare_decay=(0.12, 0.25)),
    ),
    "half-time": _Style(
        tempo=(120, 180), beats_per_bar=4, drum_probability=0.95,
        drum_patterns=("half", "half-trap", "half-sparse"),
        bass_patterns={"sub": 0.8, "synco": 0.2},
        bass_timbres={"sub": 0.9, "saw": 0.1},
        chord_rhythms={"sustain": 0.6, "arp": 0.3, "stabs": 0.1},
        chord_timbres={"pad": 0.6, "sine": 0.2, "pluck": 0.2},
        lead_timbres={"sine": 0.5, "pluck": 0.4, "saw": 0.1},
        lead_probability=0.6, lead_density=(0.15, 0.45), lead_steps_per_beat=2,
        minor_probability=0.85, progressions=_MINOR_LOOPS, bars_per_chord=(1, 2),
        seventh_probability=0.2, power_chord_probability=0.0, swing=(0.0, 0.1),
        gains_db={"drums": -1, "bass": 2, "chords": -10, "lead": -10, "wind": -30},
        reverb_probability=0.5, reverb_seconds=(0.8, 2.5), reverb_wet=(0.1, 0.35),
        echo_probability=0.4,
        wind_probability=0.1,
        neighbours=("breakbeat", "ambient-drone", "four-on-the-floor"),
        kit=_KitRanges(kick_start_hz=(80, 140), kick_end_hz=(36, 48), kick_decay=(0.35, 0.7),
                       clap_probability=0.5, hat_decay=(0.01, 0.03), hat_cutoff_hz=(7000, 9500)),
    ),
    "power-chords": _Style(
        tempo=(100, 160), beats_per_bar=4, drum_probability=0.97,
        drum_patterns=("rock", "rock-push", "punk"),
        bass_patterns={"pulse8": 0.8, "root-fifth": 0.2},
        bass_timbres={"saw": 0.6, "pluck": 0.4},
        chord_rhythms={"eighths": 0.7, "sustain": 0.3},
        chord_timbres={"distorted": 0.9, "organ": 0.1},
        lead_timbres={"distorted": 0.5, "saw": 0.3, "pluck": 0.2},
        lead_probability=0.5, lead_density=(0.3, 0.6), lead_steps_per_beat=2,
        minor_probability=0.5, progressions=_POP + _MINOR_LOOPS, bars_per_chord=(1, 2),
        seventh_probability=0.0, power_chord_probability=0.9, swing=(0.0, 0.0),
        gains_db={"drums": 0, "bass": -5, "chords": -1, "lead": -9, "wind": -30},
        reverb_probability=0.3, reverb_seconds=(0.4, 1.2), reverb_wet=(0.1, 0.35),
        echo_probability=0.2,
        wind_probability=0.05,
        neighbours=("breakbeat", "four-on-the-floor", "swing"),
        kit=_KitRanges(kick_start_hz=(120, 180), kick_decay=(0.1, 0.2), snare_decay=(0.15, 0.26),
                       hat_decay=(0.05, 0.12), hat_cutoff_hz=(5000, 7500)),
    ),
    "ambient-drone": _Style(
        tempo=(60, 100), beats_per_bar=4, drum_probability=0.12,
        drum_patterns=("half-sparse",),
        bass_patterns={"drone": 1.0},
        bass_timbres={"sine": 0.6, "organ": 0.4},
        chord_rhythms={"sustain": 0.85, "arp": 0.15},
        chord_timbres={"pad": 0.85, "organ": 0.15},
        lead_timbres={"pluck": 0.5, "sine": 0.5},
        lead_probability=0.5, lead_density=(0.08, 0.25), lead_steps_per_beat=1,
        minor_probability=0.5, progressions=_DRONE, bars_per_chord=(2, 4),
        seventh_probability=0.4, power_chord_probability=0.0, swing=(0.0, 0.0),
        gains_db={"drums": -14, "bass": -5, "chords": 0, "lead": -6, "wind": -8},
        reverb_probability=1.0, reverb_seconds=(2.0, 4.0), reverb_wet=(0.35, 0.7),
        echo_probability=0.5,
        wind_probability=0.85,
        neighbours=("waltz", "half-time"),
        kit=_KitRanges(kick_decay=(0.3, 0.6)),
    ),
}


# --------------------------------------------------------------------------
# The clip plan: every musical choice, independent of duration and rate
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipPlan:
    """The musical choices behind one clip (what :func:`synth_clip` renders).

    Attributes
    ----------
    style : str
        The clip's label.
    tempo : float
        Beats per minute of the beat grid (half-time clips feel half as fast).
    beats_per_bar : int
        Meter (3 for waltz time, else 4).
    drum_pattern : str or None
        Key of :data:`DRUM_PATTERNS`, or None for no drums.
    kit_style : str
        Style whose drum-kit sound voices the pattern.
    bass_pattern, bass_timbre, chord_rhythm, chord_timbre : str
        How the bass and the chords are played and with what sound.
    lead_timbre : str or None
        Melody sound, or None for no melody.
    root : int
        Key root as a pitch class (0 = C).
    minor : bool
        Natural minor instead of major.
    progression : tuple of int
        Scale degrees (0-based) of the chord loop.
    borrowed : tuple of (str, str)
        ``(ingredient, style)`` pairs taken from a neighbouring style.
    """

    style: str
    tempo: float
    beats_per_bar: int
    drum_pattern: str | None
    kit_style: str
    swing: float
    bass_pattern: str
    bass_timbre: str
    chord_rhythm: str
    chord_timbre: str
    power_chords: bool
    seventh_chords: bool
    lead_timbre: str | None
    lead_density: float
    lead_steps_per_beat: int
    root: int
    minor: bool
    progression: tuple[int, ...]
    bars_per_chord: int
    gains_db: Mapping[str, float] = field(default_factory=dict)
    reverb_seconds: float = 0.0
    reverb_wet: float = 0.0
    echo_beats: float = 0.0
    echo_feedback: float = 0.0
    wind: bool = False
    lowpass_hz: float | None = None
    highpass_hz: float | None = None
    snr_db: float = 40.0
    borrowed: tuple[tuple[str, str], ...] = ()


def _style_spec(style: str) -> _Style:
    if style not in _STYLE_SPECS:
        raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    return _STYLE_SPECS[style]


def _seed_sequence(style: str, seed: int) -> np.random.SeedSequence:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    # crc32 of the name (not the STYLES index) keeps clips stable if styles are added.
    return np.random.SeedSequence([zlib.crc32(style.encode("utf-8")), int(seed)])


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    names = list(weights)
    p = np.asarray([weights[name] for name in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def plan_clip(style: str, seed: int) -> ClipPlan:
    """Draw the musical choices of clip ``(style, seed)``.

    Parameters
    ----------
    style : str
        One of :data:`STYLES`.
    seed : int
        Non-negative clip seed.

    Returns
    -------
    ClipPlan
        Same for the same ``(style, seed)``, whatever the duration or rate.
    """
    own = _style_spec(style)
    rng = np.random.default_rng(_seed_sequence(style, seed).spawn(2)[0])
    borrowed: list[tuple[str, str]] = []

    def source(ingredient: str) -> str:
        # Each ingredient independently comes from a neighbour now and then.
        if rng.random() < BORROW_PROBABILITY:
            neighbour = own.neighbours[int(rng.integers(len(own.neighbours)))]
            borrowed.append((ingredient, neighbour))
            return neighbour
        return style

    tempo_spec = _STYLE_SPECS[source("tempo")]
    tempo = float(rng.uniform(*tempo_spec.tempo))

    kit_style = source("drums")
    drum_spec = _STYLE_SPECS[kit_style]
    drum_pattern = None
    if rng.random() < drum_spec.drum_probability:
        candidates = [name for name in drum_spec.drum_patterns
                      if DRUM_PATTERNS[name].beats_per_bar == own.beats_per_bar]
        candidates = candidates or [name for name in own.drum_patterns]
        drum_pattern = candidates[int(rng.integers(len(candidates)))]
    swing = float(rng.uniform(*drum_spec.swing))

    bass_spec = _STYLE_SPECS[source("bass")]
    bass_pattern = _pick(rng, bass_spec.bass_patterns)
    bass_timbre = _pick(rng, bass_spec.bass_timbres)

    chord_spec = _STYLE_SPECS[source("chords")]
    chord_rhythm = _pick(rng, chord_spec.chord_rhythms)
    chord_timbre = _pick(rng, chord_spec.chord_timbres)
    power_chords = bool(rng.random() < chord_spec.power_chord_probability)

    lead_spec = _STYLE_SPECS[source("lead")]
    lead_timbre = _pick(rng, lead_spec.lead_timbres) if rng.random() < lead_spec.lead_probability else None
    lead_density = float(rng.uniform(*lead_spec.lead_density))

    harmony_spec = _STYLE_SPECS[source("harmony")]
    minor = bool(rng.random() < harmony_spec.minor_probability)
    progression = harmony_spec.progressions[int(rng.integers(len(harmony_spec.progressions)))]
    bars_per_chord = int(rng.choice(harmony_spec.bars_per_chord))
    seventh_chords = bool(rng.random() < harmony_spec.seventh_probability)

    gains_db = {stem: level + float(rng.uniform(-3.0, 3.0)) for stem, level in own.gains_db.items()}
    has_reverb = rng.random() < own.reverb_probability
    reverb_seconds = float(rng.uniform(*own.reverb_seconds))
    reverb_wet = float(rng.uniform(*own.reverb_wet))
    has_echo = rng.random() < own.echo_probability
    echo_beats = float(rng.choice([0.5, 0.75, 1.0]))
    echo_feedback = float(rng.uniform(0.2, 0.5))
    wind = bool(rng.random() < own.wind_probability)
    lowpass_hz = float(rng.uniform(3000, 9000)) if rng.random() < 0.15 else None
    highpass_hz = float(rng.uniform(40, 200)) if rng.random() < 0.15 else None
    snr_db = float(rng.uniform(15.0, 45.0))

    return ClipPlan(
        style=style, tempo=tempo, beats_per_bar=own.beats_per_bar, drum_pattern=drum_pattern,
        kit_style=kit_style,
        swing=swing, bass_pattern=bass_pattern, bass_timbre=bass_timbre,
        chord_rhythm=chord_rhythm, chord_timbre=chord_timbre, power_chords=power_chords,
        seventh_chords=seventh_chords, lead_timbre=lead_timbre, lead_density=lead_density,
        lead_steps_per_beat=lead_spec.lead_steps_per_beat if lead_spec.beats_per_bar == own.beats_per_bar
        else own.lead_steps_per_beat,
        root=int(rng.integers(12)), minor=minor, progression=tuple(progression),
        bars_per_chord=bars_per_chord, gains_db=gains_db,
        reverb_seconds=reverb_seconds if has_reverb else 0.0,
        reverb_wet=reverb_wet if has_reverb else 0.0,
        echo_beats=echo_beats if has_echo else 0.0, echo_feedback=echo_feedback,
        wind=wind, lowpass_hz=lowpass_hz, highpass_hz=highpass_hz, snr_db=snr_db,
        borrowed=tuple(borrowed),
    )


# --------------------------------------------------------------------------
# Sound sources: drum voices and wavetable instruments
# --------------------------------------------------------------------------


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-variance white noise; uniform rather than Gaussian because it is ~4x cheaper to draw."""
    return (rng.random(n, dtype=np.float32) - np.float32(0.5)) * np.float32(2.0 * math.sqrt(3.0))


def _sos(kind: str, hz: float | tuple[float, float], sample_rate: int, order: int = 2) -> np.ndarray:
    nyquist_guard = 0.45 * sample_rate
    cutoff = np.clip(np.asarray(hz, dtype=float), 10.0, nyquist_guard)
    return signal.butter(order, cutoff, btype=kind, fs=sample_rate, output="sos")


def _filter(y: np.ndarray, kind: str, hz: float | tuple[float, float], sample_rate: int,
            order: int = 2) -> np.ndarray:
    return signal.sosfilt(_sos(kind, hz, sample_rate, order), y).astype(np.float32)


def kick(sample_rate: int = SAMPLE_RATE, *, start_hz: float = 150.0, end_hz: float = 50.0,
         sweep_seconds: float = 0.035, decay_seconds: float = 0.2,
         length_seconds: float = 0.45) -> np.ndarray:
    """One kick drum: a sine swept down exponentially, with an exponential decay.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz.
    start_hz, end_hz : float
        Pitch at the attack and the pitch it settles to.
    sweep_seconds : float
        Time constant of the pitch sweep.
    decay_seconds : float
        Time constant of the amplitude decay.
    length_seconds : float
        Length of the returned sample.

    Returns
    -------
    np.ndarray
        float32 sample with peak 1.
    """
    t = np.arange(int(length_seconds * sample_rate)) / sample_rate
    # Closed-form integral of f(t) = end + (start - end) * exp(-t / sweep).
    cycles = end_hz * t + (start_hz - end_hz) * sweep_seconds * (1.0 - np.exp(-t / sweep_seconds))
    y = np.sin(2 * np.pi * cycles) * np.exp(-t / decay_seconds)
    y *= np.minimum(1.0, t / 0.001)  # 1 ms attack avoids a click
    return (y / np.max(np.abs(y))).astype(np.float32)


def snare(sample_rate: int = SAMPLE_RATE, *, tone_hz: float = 190.0, noise_decay: float = 0.12,
          tone_decay: float = 0.05, length_seconds: float = 0.35,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """One snare hit: a band-passed noise burst plus a short tone.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz.
    tone_hz : float
        Pitch of the drum-head tone.
    noise_decay, tone_decay : float
        Decay time constants (s) of the snares' noise and of the tone.
    length_seconds : float
        Length of the returned sample.
    rng : numpy.random.Generator, optional
        Noise source (a fixed one by default, so the hit is deterministic).

    Returns
    -------
    np.ndarray
        float32 sample with peak 1.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    n = int(length_seconds * sample_rate)
    t = np.arange(n) / sample_rate
    rattle = _filter(_noise(rng, n), "bandpass", (1000.0, 7000.0), sample_rate) * np.exp(-t / noise_decay)
    tone = np.sin(2 * np.pi * tone_hz * t) * np.exp(-t / tone_decay)
    y = rattle / (np.max(np.abs(rattle)) + 1e-9) + 0.6 * tone
    return (y / np.max(np.abs(y))).astype(np.float32)


def hat(sample_rate: int = SAMPLE_RATE, *, decay_seconds: float = 0.04, cutoff_hz: float = 7000.0,
        length_seconds: float | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """One hi-hat hit: high-passed noise with an exponential decay.

    A short decay (~0.04 s) is a closed hat, a long one (~0.3 s) an open hat.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz.
    decay_seconds : float
        Decay time constant.
    cutoff_hz : float
        High-pass corner (clamped below the Nyquist frequency).
    length_seconds : float, optional
        Defaults to five decay constants.
    rng : numpy.random.Generator, optional
        Noise source (fixed by default).

    Returns
    -------
    np.ndarray
        float32 sample with peak 1.
    """
    rng = rng if rng is not None else np.random.default_rng(1)
    n = int((length_seconds or 5 * decay_seconds) * sample_rate)
    t = np.arange(n) / sample_rate
    y = _filter(_noise(rng, n), "highpass", cutoff_hz, sample_rate, order=4) * np.exp(-t / decay_seconds)
    return (y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)


def _ride(sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    n = int(1.0 * sample_rate)
    t = np.arange(n) / sample_rate
    base = rng.uniform(2800, 3600)
    # Inharmonic partials give the metallic ping above the wash.
    ping = sum(np.sign(np.sin(2 * np.pi * base * ratio * t)) for ratio in (1.0, 1.342, 1.733, 2.08))
    ping = _filter(ping.astype(np.float32), "highpass", 2500.0, sample_rate)
    wash = hat(sample_rate, decay_seconds=0.35, cutoff_hz=5000.0, length_seconds=1.0, rng=rng)
    y = (0.35 * ping / np.max(np.abs(ping)) + wash) * np.exp(-t / 0.4)
    return (y / np.max(np.abs(y))).astype(np.float32)


def clap(sample_rate: int = SAMPLE_RATE, *, decay_seconds: float = 0.12,
         rng: np.random.Generator | None = None) -> np.ndarray:
    """One hand clap: three quick band-passed noise bursts and a decaying tail.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz.
    decay_seconds : float
        Decay time constant of the tail.
    rng : numpy.random.Generator, optional
        Noise source (fixed by default).

    Returns
    -------
    np.ndarray
        float32 sample with peak 1.
    """
    rng = rng if rng is not None else np.random.default_rng(2)
    n = int(0.4 * sample_rate)
    t = np.arange(n) / sample_rate
    # Several hands a few ms apart: the flam is what makes a clap sound like one.
    bursts = sum(np.exp(-np.maximum(t - lag, 0) / 0.006) * (t >= lag) for lag in (0.0, 0.011, 0.023))
    env = 0.6 * bursts + np.exp(-np.maximum(t - 0.023, 0) / decay_seconds) * (t >= 0.023)
    y = _filter(_noise(rng, n), "bandpass", (900.0, 3500.0), sample_rate) * env
    return (y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)


def _drum_kit(ranges: _KitRanges, sample_rate: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One kit per clip, voiced at random within the style's ranges."""
    def draw(bounds: tuple[float, float]) -> float:
        return float(rng.uniform(*bounds))

    if rng.random() < ranges.clap_probability:
        backbeat = clap(sample_rate, decay_seconds=draw((0.08, 0.2)), rng=rng)
    else:
        backbeat = snare(sample_rate, tone_hz=draw(ranges.snare_tone_hz),
                         noise_decay=draw(ranges.snare_decay), rng=rng)
    return {
        "kick": kick(sample_rate, start_hz=draw(ranges.kick_start_hz), end_hz=draw(ranges.kick_end_hz),
                     sweep_seconds=draw((0.02, 0.05)), decay_seconds=draw(ranges.kick_decay),
                     length_seconds=max(0.45, 4 * ranges.kick_decay[1])),
        "snare": backbeat,
        "chat": hat(sample_rate, decay_seconds=draw(ranges.hat_decay), cutoff_hz=draw(ranges.hat_cutoff_hz),
                    length_seconds=0.6, rng=rng),
        "ohat": hat(sample_rate, decay_seconds=draw(ranges.open_hat_decay),
                    cutoff_hz=draw(ranges.hat_cutoff_hz), length_seconds=0.8, rng=rng),
        "ride": _ride(sample_rate, rng),
    }


_HARMONIC_LIMIT = {"sine": 2, "organ": 8, "saw": 40, "square": 40, "bright": 30, "dull": 12}
_ORGAN_DRAWBARS = (1.0, 0.6, 0.45, 0.0, 0.3, 0.0, 0.0, 0.2)


def _wavetable(shape: str, n_harmonics: int) -> np.ndarray:
    key = (shape, n_harmonics)
    table = _WAVETABLES.get(key)
    if table is None:
        k = np.arange(1, n_harmonics + 1)
        amps = {
            "sine": np.where(k == 1, 1.0, 0.03),
            "organ": np.asarray(_ORGAN_DRAWBARS[:n_harmonics]),
            "saw": 1.0 / k,
            "square": np.where(k % 2 == 1, 1.0 / k, 0.0),
            "bright": 1.0 / k ** 0.8,
            "dull": 1.0 / k ** 2.5,
        }[shape]
        phase = np.arange(_TABLE_SIZE) / _TABLE_SIZE
        table = (amps[:, None] * np.sin(2 * np.pi * k[:, None] * phase)).sum(axis=0)
        table = (table / np.max(np.abs(table))).astype(np.float32)
        table.flags.writeable = False
        _WAVETABLES[key] = table
    return table


_WAVETABLES: dict[tuple[str, int], np.ndarray] = {}


def _oscillator(shape: str, hz: float, n: int, sample_rate: int, phase: float = 0.0) -> np.ndarray:
    """Band-limited periodic wave: only harmonics below ~0.45 sr, so no aliasing."""
    n_harmonics = max(1, min(_HARMONIC_LIMIT[shape], int(0.45 * sample_rate / hz)))
    table = _wavetable(shape, n_harmonics)
    # 32-bit fixed-point phase: uint32 overflow is exactly the wrap-around of the cycle.
    increment = np.uint32(int(round(hz / sample_rate * 2.0 ** 32)) % 2 ** 32)
    accumulator = np.arange(n, dtype=np.uint32) * increment + np.uint32(int(phase * 2.0 ** 32) % 2 ** 32)
    return table[accumulator >> np.uint32(32 - _TABLE_BITS)]


def _envelope(n: int, sample_rate: int, *, attack: float, decay: float, sustain: float,
              hold: float, release: float) -> np.ndarray:
    """ADSR: linear attack, exponential decay to ``sustain``, linear release after ``hold`` s."""
    t = np.arange(n, dtype=np.float32) / sample_rate
    level = sustain + (1.0 - sustain) * np.exp(-np.maximum(t - attack, 0.0) / decay)
    gate = np.clip(np.minimum(t / attack, (hold + release - t) / release), 0.0, 1.0)
    return (level * gate).astype(np.float32)


@dataclass(frozen=True)
class _Voice:
    """How a stem's notes sound; drawn once per stem."""

    timbre: str
    attack: float = 0.005
    decay_scale: float = 1.0
    detune: float = 0.005
    drive: float = 4.0


def _render_note(voice: _Voice, hz: float, hold: float, sample_rate: int) -> np.ndarray:
    """One note of ``hold`` seconds plus its release tail, peak about 1."""
    timbre = voice.timbre
    if timbre == "pluck":
        decay = voice.decay_scale * float(np.clip(0.5 * math.sqrt(110.0 / hz), 0.1, 0.9))
        n = int((min(hold, 4 * decay) + 0.03) * sample_rate)
        env = _envelope(n, sample_rate, attack=0.002, decay=decay, sustain=0.0,
                        hold=min(hold, 4 * decay), release=0.03)
        bright, dull = _oscillator("bright", hz, n, sample_rate), _oscillator("dull", hz, n, sample_rate)
        # Brightness fades with amplitude, like a damped string.
        return env * (dull + env * (bright - dull))
    if timbre == "pad":
        n = int((hold + 0.4) * sample_rate)
        env = _envelope(n, sample_rate, attack=voice.attack, decay=1.0, sustain=1.0, hold=hold, release=0.4)
        saws = sum(_oscillator("saw", hz * (1 + d), n, sample_rate, phase=p)
                   for d, p in ((0.0, 0.0), (voice.detune, 0.31), (-voice.detune, 0.67)))
        return env * saws / 3.0
    if timbre == "sub":
        n = int((hold + 0.08) * sample_rate)
        t = np.arange(n) / sample_rate
        # 808-style: the pitch drops onto the note in the first ~30 ms.
        cycles = hz * t + 0.6 * hz * 0.03 * (1 - np.exp(-t / 0.03))
        env = _envelope(n, sample_rate, attack=0.003, decay=0.6 * voice.decay_scale, sustain=0.5,
                        hold=hold, release=0.08)
        return env * np.sin(2 * np.pi * cycles).astype(np.float32)
    if timbre == "distorted":
        n = int((hold + 0.05) * sample_rate)
        env = _envelope(n, sample_rate, attack=0.003, decay=0.5, sustain=0.8, hold=hold, release=0.05)
        wave = 0.6 * _oscillator("saw", hz, n, sample_rate) + 0.4 * _oscillator("square", hz * 1.003, n, sample_rate)
        return env * wave
    settings = {"sine": ("sine", 0.3, 0.7, 0.05), "organ": ("organ", 1.0, 1.0, 0.03),
                "saw": ("saw", 0.25, 0.6, 0.04)}
    shape, decay, sustain, release = settings[timbre]
    n = int((hold + release) * sample_rate)
    env = _envelope(n, sample_rate, attack=max(voice.attack, 0.004), decay=decay * voice.decay_scale,
                    sustain=sustain, hold=hold, release=release)
    return env * _oscillator(shape, hz, n, sample_rate)


def _draw_voice(timbre: str, rng: np.random.Generator) -> _Voice:
    attack = float(rng.uniform(0.2, 0.8)) if timbre == "pad" else float(rng.uniform(0.003, 0.012))
    return _Voice(timbre, attack=attack, decay_scale=float(rng.uniform(0.7, 1.4)),
                  detune=float(rng.uniform(0.003, 0.009)), drive=float(rng.uniform(3.0, 9.0)))


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


# A note event: (onset seconds, hold seconds, midi pitch, velocity).
Note = tuple[float, float, float, float]


def _place(out: np.ndarray, sample: np.ndarray, onset: float, gain: float, sample_rate: int) -> None:
    start = int(round(onset * sample_rate))
    if start >= len(out) or start + len(sample) <= 0:
        return
    head = max(0, -start)
    end = min(len(out), start + len(sample))
    out[start + head:end] += gain * sample[head:end - start]


def _render_notes(notes: Sequence[Note], voice: _Voice, n: int, sample_rate: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    cache: dict[tuple[float, int], np.ndarray] = {}  # repeated notes render once
    for onset, hold, midi, velocity in notes:
        key = (midi, int(hold * sample_rate))
        if key not in cache:
            cache[key] = _render_note(voice, _midi_hz(midi), hold, sample_rate)
        _place(out, cache[key], onset, velocity, sample_rate)
    return out


# --------------------------------------------------------------------------
# Arrangement: turning a plan into note and drum events
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timeline:
    beat: float          # seconds per beat
    beats_per_bar: int
    t0: float            # onset of bar 0 (<= 0: clips start anywhere in a bar)
    n_bars: int

    def bar_start(self, bar: int) -> float:
        return self.t0 + bar * self.beats_per_bar * self.beat


def _chord_tones(plan: ClipPlan, degree: int) -> list[int]:
    """Semitone offsets from the key root of the chord on ``degree``."""
    scale = _MINOR if plan.minor else _MAJOR
    n_tones = 4 if plan.seventh_chords else 3
    return [scale[(degree + 2 * i) % 7] + 12 * ((degree + 2 * i) // 7) for i in range(n_tones)]


def _in_range(pitch_class: int, low: int) -> int:
    """The pitch of ``pitch_class`` in the octave starting at midi ``low``."""
    return low + (pitch_class - low) % 12


def _chords_per_bar(plan: ClipPlan, n_bars: int) -> list[list[int]]:
    loop = plan.progression
    return [_chord_tones(plan, loop[(bar // plan.bars_per_chord) % len(loop)]) for bar in range(n_bars)]


def _drum_events(plan: ClipPlan, tl: _Timeline, rng: np.random.Generator) -> dict[str, list[tuple[float, float]]]:
    events: dict[str, list[tuple[float, float]]] = {name: [] for name in _DRUMS}
    if plan.drum_pattern is None:
        return events
    pattern = DRUM_PATTERNS[plan.drum_pattern]
    step = tl.beat / pattern.steps_per_beat
    jitter = rng.uniform(0.002, 0.008)
    breakdown = int(rng.integers(2, tl.n_bars)) if tl.n_bars > 3 and rng.random() < 0.2 else -1
    for bar in range(tl.n_bars):
        if bar == breakdown:
            continue
        fill = bar % 4 == 3 and rng.random() < 0.3
        for name, steps in pattern.hits.items():
            for i, symbol in enumerate(steps):
                velocity = _VELOCITY[symbol]
                if fill and name == "snare" and i >= len(steps) - pattern.steps_per_beat:
                    velocity = max(velocity, 0.6)  # a snare roll on the last beat
                if velocity == 0.0 or (name in ("chat", "ride") and rng.random() < 0.05):
                    continue
                late = plan.swing * step if (pattern.steps_per_beat == 4 and i % 2 == 1) else 0.0
                onset = tl.bar_start(bar) + i * step + late + rng.normal(0.0, jitter)
                events[name].append((onset, velocity * rng.uniform(0.85, 1.1)))
    return events


def _bass_notes(plan: ClipPlan, tl: _Timeline, chords: list[list[int]], rng: np.random.Generator) -> list[Note]:
    low = 28 if plan.bass_timbre == "sub" else 33
    beat, bpb = tl.beat, tl.beats_per_bar
    notes: list[Note] = []
    synco = rng.choice(["X..x..x...x..x..", "X.....x...x.x...", "X..x...x..x....."])
    for bar, tones in enumerate(chords):
        start = tl.bar_start(bar)
        root = _in_range(plan.root + tones[0], low)
        fifth = root + 7
        if plan.bass_pattern == "offbeat":
            notes += [(start + (b + 0.5) * beat, 0.4 * beat, root, 1.0) for b in range(bpb)]
        elif plan.bass_pattern == "pulse8":
            notes += [(start + k * beat / 2, 0.45 * beat, root + 12 * (k % 8 == 7), 1.0 - 0.2 * (k % 2))
                      for k in range(2 * bpb)]
        elif plan.bass_pattern == "synco":
            hits = [i for i, s in enumerate(synco[: 4 * bpb]) if s != "."]
            for j, i in enumerate(hits):
                nxt = hits[j + 1] if j + 1 < len(hits) else 4 * bpb
                pitch = root if j == 0 else int(rng.choice([root, root, fifth, root + 12]))
                notes.append((start + i * beat / 4, 0.9 * (nxt - i) * beat / 4, pitch, 1.0))
        elif plan.bass_pattern == "sub":
            notes.append((start, 0.95 * (bpb - 1.5) * beat, root, 1.0))
            low_fifth = fifth - 12 if fifth - 12 >= low else root
            notes.append((start + (bpb - 1.5) * beat, 1.4 * beat, int(rng.choice([root, low_fifth])), 0.9))
        elif plan.bass_pattern == "walking":
            nxt = chords[bar + 1] if bar + 1 < len(chords) else tones
            target = _in_range(plan.root + nxt[0], low)
            pitch = root
            for b in range(bpb):
                if b == bpb - 1:
                    pitch = target + int(rng.choice([-1, 1, 7 - 12]))
                elif b > 0:
                    pitch = _in_range(plan.root + int(rng.choice(tones)), low) + int(rng.choice([0, 0, 12]))
                notes.append((start + b * beat, 0.85 * beat, pitch, 1.0 if b == 0 else 0.85))
        elif plan.bass_pattern == "root-fifth":
            pitch = root if bar % 2 == 0 else fifth - 12 if fifth - 12 >= low else fifth
            notes.append((start, 0.8 * beat, pitch, 1.0))
            if bpb == 4:
                notes.append((start + 2 * beat, 0.8 * beat, fifth if pitch == root else root, 0.9))
        elif plan.bass_pattern == "drone":
            if bar % plan.bars_per_chord == 0:
                notes.append((start, plan.bars_per_chord * bpb * beat * 0.98, root, 1.0))
    return notes


def _chord_notes(plan: ClipPlan, tl: _Timeline, chords: list[list[int]], rng: np.random.Generator) -> list[Note]:
    beat, bpb = tl.beat, tl.beats_per_bar
    notes: list[Note] = []

    def voicing(tones: list[int]) -> list[int]:
        if plan.power_chords:
            root = _in_range(plan.root + tones[0], 40)
            return [root, root + 7, root + 12]
        root = _in_range(plan.root + tones[0], 48)
        return [root + t - tones[0] for t in tones]

    def chord(onset: float, hold: float, tones: list[int], velocity: float) -> None:
        pitches = voicing(tones)
        notes.extend((onset, hold, p, velocity / math.sqrt(len(pitches))) for p in pitches)

    for bar, tones in enumerate(chords):
        start = tl.bar_start(bar)
        rhythm = plan.chord_rhythm
        if rhythm == "sustain":
            if bar % plan.bars_per_chord == 0:
                chord(start, 0.98 * plan.bars_per_chord * bpb * beat, tones, 1.0)
        elif rhythm == "stabs":
            for b in range(bpb):
                if rng.random() < 0.85:
                    chord(start + (b + 0.5) * beat, 0.3 * beat, tones, 1.0)
        elif rhythm == "eighths":
            for k in range(2 * bpb):
                chord(start + k * beat / 2, 0.45 * beat, tones, 1.0 if k % 2 == 0 else 0.8)
        elif rhythm == "oom-pah":
            for b in range(1, bpb):
                chord(start + b * beat, 0.55 * beat, tones, 0.9)
        elif rhythm == "comp":
            for b in range(bpb):
                if rng.random() < 0.45:
                    offset = b + (2 / 3 if rng.random() < 0.5 else 0.0)
                    chord(start + offset * beat, float(rng.uniform(0.3, 0.9)) * beat, tones, 0.9)
        elif rhythm == "arp":
            pitches = voicing(tones)
            pitches = pitches + [p + 12 for p in pitches]
            for k in range(4 * bpb):
                notes.append((start + k * beat / 4, 0.22 * beat, pitches[k % len(pitches)], 0.8))
    return notes


def _lead_notes(plan: ClipPlan, tl: _Timeline, chords: list[list[int]], rng: np.random.Generator) -> list[Note]:
    if plan.lead_timbre is None:
        return []
    scale = _MINOR if plan.minor else _MAJOR
    # Scale pitches from ~D4 to ~D6, as midi numbers.
    pitches = np.asarray([62 + ((plan.root + s - 62) % 12) + 12 * o for o in range(2) for s in scale]
                         + [86])
    pitches = np.unique(pitches)
    steps_per_beat = plan.lead_steps_per_beat
    step = tl.beat / steps_per_beat
    legato = float(rng.uniform(0.5, 1.0))
    index = int(rng.integers(len(pitches)))
    onsets: list[tuple[float, int]] = []
    for bar, tones in enumerate(chords):
        chord_pcs = {(plan.root + t) % 12 for t in tones}
        for i in range(steps_per_beat * tl.beats_per_bar):
            if rng.random() >= plan.lead_density:
                continue
            index = int(np.clip(index + rng.integers(-2, 3), 0, len(pitches) - 1))
            if i % steps_per_beat == 0 and rng.random() < 0.6:
                # Strong beats lean toward the chord's tones.
                chord_idx = [j for j, p in enumerate(pitches) if p % 12 in chord_pcs]
                index = min(chord_idx, key=lambda j: abs(j - index))
            onsets.append((tl.bar_start(bar) + i * step, int(pitches[index])))
    notes: list[Note] = []
    for k, (onset, pitch) in enumerate(onsets):
        gap = onsets[k + 1][0] - onset if k + 1 < len(onsets) else 2 * tl.beat
        notes.append((onset, legato * min(gap, 2 * tl.beat), pitch, float(rng.uniform(0.75, 1.0))))
    return notes


# --------------------------------------------------------------------------
# Effects and mixing
# --------------------------------------------------------------------------


def _echo(y: np.ndarray, delay_seconds: float, feedback: float, sample_rate: int, taps: int = 4) -> np.ndarray:
    """Feedback delay, unrolled into a few taps (an IIR comb would be O(n * delay))."""
    out = y.copy()
    d = int(delay_seconds * sample_rate)
    for k in range(1, taps + 1):
        if k * d >= len(y):
            break
        out[k * d:] += (feedback ** k) * y[: len(y) - k * d]
    return out


def _reverb(y: np.ndarray, seconds: float, wet: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Convolution with a decaying-noise impulse response (RT60 ``seconds``)."""
    n_ir = int(min(seconds, 3.0) * sample_rate)
    t = np.arange(n_ir) / sample_rate
    ir = _noise(rng, n_ir) * np.exp(-6.9 * t / seconds).astype(np.float32)
    ir = _filter(ir, "lowpass", 6000.0, sample_rate, order=1)  # air absorbs the highs
    tail = signal.oaconvolve(y, ir)[: len(y)]
    tail *= np.sqrt(np.mean(y ** 2) / (np.mean(tail ** 2) + 1e-12))
    return ((1.0 - wet) * y + wet * tail).astype(np.float32)


def _normalise_rms(y: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    return y / rms if rms > 1e-8 else y


def _process_stem(y: np.ndarray, voice: _Voice, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Timbre-specific processing of a whole stem (pads are filtered, guitars clipped)."""
    if voice.timbre == "pad":
        return _filter(y, "lowpass", float(rng.uniform(1200, 4000)), sample_rate)
    if voice.timbre == "distorted":
        clipped = np.tanh(voice.drive * y / (np.max(np.abs(y)) + 1e-9))
        return _filter(clipped.astype(np.float32), "lowpass", float(rng.uniform(2500, 5000)), sample_rate)
    if voice.timbre == "saw":
        return _filter(y, "lowpass", float(rng.uniform(800, 5000)), sample_rate)
    return y


def _wind(n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Low-passed noise with a slow swell, the 'air' of a drone piece."""
    t = np.arange(n, dtype=np.float32) / sample_rate
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 2 * np.pi))
    return _filter(_noise(rng, n), "bandpass", (float(rng.uniform(200, 500)), float(rng.uniform(1500, 4000))),
                   sample_rate) * swell.astype(np.float32)


def _check_render_args(duration: float, sample_rate: int) -> int:
    if not (isinstance(duration, (int, float, np.number)) and math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"sample_rate must be an integer >= {MIN_SAMPLE_RATE} Hz, got {sample_rate!r}")
    n = int(round(duration * sample_rate))
    if n < 1:
        raise ValueError(f"duration {duration!r} s is shorter than one sample")
    return n


def render_plan(plan: ClipPlan, seed: int, duration: float = 10.0,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render a :class:`ClipPlan` to audio.

    Parameters
    ----------
    plan : ClipPlan
        Musical choices, usually from :func:`plan_clip`.
    seed : int
        Seeds the performance (humanisation, noise, effect impulse responses).
    duration : float
        Seconds of audio.
    sample_rate : int
        Output rate in Hz.

    Returns
    -------
    np.ndarray
        float32 mono signal, peak :data:`PEAK_LEVEL`.
    """
    n = _check_render_args(duration, sample_rate)
    rng = np.random.default_rng(_seed_sequence(plan.style, seed).spawn(2)[1])
    beat = 60.0 / plan.tempo
    bar_seconds = plan.beats_per_bar * beat
    t0 = -float(rng.uniform(0.0, bar_seconds))
    n_bars = int(math.ceil((duration - t0) / bar_seconds)) + 1
    tl = _Timeline(beat=beat, beats_per_bar=plan.beats_per_bar, t0=t0, n_bars=n_bars)
    chords = _chords_per_bar(plan, n_bars)

    stems: dict[str, np.ndarray] = {}
    if plan.drum_pattern is not None:
        ranges = _STYLE_SPECS[plan.kit_style].kit
        kit = _drum_kit(ranges, sample_rate, rng)
        drums = np.zeros(n, dtype=np.float32)
        level = ranges.levels
        for name, hits in _drum_events(plan, tl, rng).items():
            for onset, velocity in hits:
                _place(drums, kit[name], onset, level[name] * velocity, sample_rate)
        stems["drums"] = drums

    jitter = float(rng.uniform(0.002, 0.012))

    def humanise(notes: list[Note]) -> list[Note]:
        shifts = rng.normal(0.0, jitter, len(notes))
        return [(o + s, h, p, v) for (o, h, p, v), s in zip(notes, shifts)]

    parts = (("bass", plan.bass_timbre, _bass_notes), ("chords", plan.chord_timbre, _chord_notes),
             ("lead", plan.lead_timbre, _lead_notes))
    for stem, timbre, make_notes in parts:
        if timbre is None:
            continue
        voice = _draw_voice(timbre, rng)
        y = _render_notes(humanise(make_notes(plan, tl, chords, rng)), voice, n, sample_rate)
        y = _process_stem(y, voice, sample_rate, rng)
        if stem == "lead" and plan.echo_beats > 0:
            y = _echo(y, plan.echo_beats * beat, plan.echo_feedback, sample_rate)
        stems[stem] = y
    if plan.wind:
        stems["wind"] = _wind(n, sample_rate, rng)

    mix = np.zeros(n, dtype=np.float32)
    for stem, y in stems.items():
        mix += np.float32(10.0 ** (plan.gains_db[stem] / 20.0)) * _normalise_rms(y)
    if plan.reverb_wet > 0:
        mix = _reverb(mix, plan.reverb_seconds, plan.reverb_wet, sample_rate, rng)
    if plan.highpass_hz is not None:
        mix = _filter(mix, "highpass", plan.highpass_hz, sample_rate)
    if plan.lowpass_hz is not None:
        mix = _filter(mix, "lowpass", plan.lowpass_hz, sample_rate)
    signal_rms = float(np.sqrt(np.mean(mix.astype(np.float64) ** 2))) or 1.0
    mix += _noise(rng, n) * np.float32(signal_rms * 10.0 ** (-plan.snr_db / 20.0))
    return (PEAK_LEVEL * mix / np.max(np.abs(mix))).astype(np.float32)


def synth_clip(style: str, seed: int, duration: float = 10.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Synthesise one labelled clip.

    Parameters
    ----------
    style : str
        One of :data:`STYLES`.
    seed : int
        Non-negative seed; the clip is a pure function of
        ``(style, seed, duration, sample_rate)``.
    duration : float
        Seconds of audio.
    sample_rate : int
        Output rate in Hz (at least :data:`MIN_SAMPLE_RATE`).

    Returns
    -------
    np.ndarray
        float32 mono signal of ``round(duration * sample_rate)`` samples,
        peak-normalised to :data:`PEAK_LEVEL`.

    Raises
    ------
    ValueError
        Unknown style (the message lists the valid ones), negative seed,
        non-positive duration or too low a sample rate.
    """
    _style_spec(style)
    _check_render_args(duration, sample_rate)
    return render_plan(plan_clip(style, seed), seed, duration, sample_rate)


# --------------------------------------------------------------------------
# Track tables and corpora on disk
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthTrack:
    """One synthetic track: its id, label and the seed that renders it."""

    track_id: str
    label: str
    seed: int


#: Track seeds of corpus ``seed`` are ``seed * SEED_STRIDE + index``, so corpora
#: with different seeds never share a clip.
SEED_STRIDE: int = 1_000_000


def _split_counts(n: int) -> tuple[int, int]:
    """(valid, test) sizes for ``n`` tracks of one style: ~16 % / ~20 %, each >= 1 once n >= 3."""
    if n < 3:
        return 0, 0
    return max(1, round(VALID_FRACTION * n)), max(1, round(TEST_FRACTION * n))


def synth_tracks(n_per_style: int, seed: int = 0, styles: Sequence[str] = STYLES) -> pd.DataFrame:
    """The track table of a synthetic corpus.

    Parameters
    ----------
    n_per_style : int
        Tracks per style.
    seed : int
        Corpus seed: fixes the tracks' seeds and the split.
    styles : sequence of str
        Subset of :data:`STYLES` to include.

    Returns
    -------
    pandas.DataFrame
        Columns ``track_id``, ``path`` (None: nothing on disk), ``label``,
        ``seed``, ``split`` (``train``/``valid``/``test``, stratified
        ~64/16/20 per style).
    """
    if isinstance(n_per_style, bool) or not isinstance(n_per_style, (int, np.integer)) or n_per_style < 1:
        raise ValueError(f"n_per_style must be a positive integer, got {n_per_style!r}")
    if not 0 < n_per_style <= SEED_STRIDE:
        raise ValueError(f"n_per_style must be at most {SEED_STRIDE}")
    if isinstance(styles, str):
        styles = (styles,)
    for style in styles:
        _style_spec(style)
    _seed_sequence(STYLES[0], seed)  # validates the corpus seed
    rows = []
    for style in dict.fromkeys(styles):  # keeps order, drops duplicates
        rng = np.random.default_rng(np.random.SeedSequence([zlib.crc32(style.encode("utf-8")), int(seed), 1]))
        n_valid, n_test = _split_counts(n_per_style)
        split = np.array(["train"] * n_per_style, dtype=object)
        order = rng.permutation(n_per_style)
        split[order[:n_test]] = "test"
        split[order[n_test:n_test + n_valid]] = "valid"
        for i in range(n_per_style):
            track = SynthTrack(f"{style}.{i:05d}", style, int(seed) * SEED_STRIDE + i)
            rows.append({"track_id": track.track_id, "path": None, "label": track.label,
                         "seed": track.seed, "split": split[i]})
    table = pd.DataFrame(rows, columns=["track_id", "path", "label", "seed", "split"])
    table["path"] = table["path"].astype(object)
    return table


def render_track(row: Any, duration: float = 10.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render one row of :func:`synth_tracks` (a Series, mapping or :class:`SynthTrack`).

    Parameters
    ----------
    row : pandas.Series, Mapping or SynthTrack
        Needs ``label`` and ``seed``.
    duration : float
        Seconds of audio.
    sample_rate : int
        Output rate in Hz.

    Returns
    -------
    np.ndarray
        float32 mono clip, see :func:`synth_clip`.
    """
    if isinstance(row, SynthTrack):
        label, seed = row.label, row.seed
    else:
        try:
            label, seed = row["label"], row["seed"]
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"a track row needs 'label' and 'seed' fields, got {type(row).__name__}") from exc
    return synth_clip(str(label), int(seed), duration, sample_rate)


def write_corpus(out_dir: str | Path, n_per_style: int, duration: float = 10.0, seed: int = 0,
                 sample_rate: int = SAMPLE_RATE, styles: Sequence[str] = STYLES,
                 progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Write a synthetic corpus as ``<out_dir>/<style>/<track_id>.wav`` (PCM 16).

    Parameters
    ----------
    out_dir : str or Path
        Root folder (created if needed); the layout is the one the
        folder-per-label dataset reads.
    n_per_style : int
        Tracks per style.
    duration : float
        Seconds per clip.
    seed : int
        Corpus seed (see :func:`synth_tracks`).
    sample_rate : int
        Rate of the wav files.
    styles : sequence of str
        Subset of :data:`STYLES`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each file.

    Returns
    -------
    pandas.DataFrame
        The track table with ``path`` filled in (absolute paths as str).
    """
    _check_render_args(duration, sample_rate)
    table = synth_tracks(n_per_style, seed=seed, styles=styles)
    root = Path(out_dir).expanduser().resolve()
    paths = []
    for k, row in enumerate(table.itertuples(index=False)):
        folder = root / row.label
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row.track_id}.wav"
        sf.write(path, render_track(row._asdict(), duration, sample_rate), sample_rate, subtype="PCM_16")
        paths.append(str(path))
        if progress is not None:
            progress(k + 1, len(table))
    table["path"] = paths
    return table


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m genre_core.synth",
        description="Write a labelled synthetic music corpus as <OUT_DIR>/<style>/<track_id>.wav.")
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="folder to write into")
    parser.add_argument("--per-style", type=int, default=20, help="tracks per style (default 20)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per clip (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--sample-rate", type=int, default=SAMPLE_RATE, help=f"Hz (default {SAMPLE_RATE})")
    parser.add_argument("--styles", nargs="+", default=list(STYLES), choices=STYLES, metavar="STYLE",
                        help=f"subset of styles (default all: {', '.join(STYLES)})")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: write a corpus and print a per-split summary."""
    args = _parse_args(argv)
    try:
        table = write_corpus(args.out_dir, args.per_style, duration=args.duration, seed=args.seed,
                             sample_rate=args.sample_rate, styles=args.styles)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    counts = table.groupby(["label", "split"]).size().unstack(fill_value=0)
    print(f"wrote {len(table)} clips of {args.duration:g} s to {Path(args.out_dir).resolve()}")
    print(counts.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
