"""Simple sounds for the app's spectrogram lab, and built-in example songs.

Each teaching sound isolates one idea a student can see in a spectrogram:
a kick drum puts its energy low, a whistle high; a sine sweep draws a rising
line; a chord shows stacks of harmonics; white noise fills every band.
All are deterministic, so a lesson shows the same picture every time.

Examples
--------
>>> y = teaching_sound("whistle", duration=4.0)
>>> y.dtype, len(y)
(dtype('float32'), 88200)
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import signal

from .config import SAMPLE_RATE
from .synth import STYLES, kick, synth_clip

#: Names accepted by :func:`teaching_sound`, in the order the app lists them.
TEACHING_SOUNDS: tuple[str, ...] = (
    "kick drum", "whistle", "sine sweep", "chord", "white noise", "kick vs whistle",
)

#: Seed and length of the built-in example songs (one per synth style).
EXAMPLE_SEED: int = 7
EXAMPLE_DURATION: float = 30.0

_PEAK = 0.8
_KICK_BPM = 120.0
_WHISTLE_HZ = 2500.0
_SWEEP_HZ = (50.0, 10000.0)
#: C4, E4, G4: the C-major triad.
_C_MAJOR_HZ = (261.63, 329.63, 392.00)


def _time(duration: float, sample_rate: int) -> np.ndarray:
    return np.arange(int(round(duration * sample_rate))) / sample_rate


def _fade(y: np.ndarray, sample_rate: int, seconds: float = 0.02) -> np.ndarray:
    """Short linear fade in and out, so the edges do not click."""
    n = min(len(y) // 2, int(seconds * sample_rate))
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n)
        y[:n] *= ramp
        y[-n:] *= ramp[::-1]
    return y


def _peak_normalise(y: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y * (_PEAK / peak) if peak > 0 else y).astype(np.float32)


def _kicks(duration: float, sample_rate: int) -> np.ndarray:
    """Kick drums at 120 BPM: energy below ~150 Hz, sharp onsets every 0.5 s."""
    y = np.zeros(int(round(duration * sample_rate)))
    hit = kick(sample_rate, start_hz=130.0, end_hz=48.0, decay_seconds=0.15, length_seconds=0.45)
    period = int(round(60.0 / _KICK_BPM * sample_rate))
    for start in range(0, len(y), period):
        end = min(len(y), start + len(hit))
        y[start:end] += hit[: end - start]
    return y


def _whistle(duration: float, sample_rate: int) -> np.ndarray:
    """A ~2.5 kHz tone with 5.5 Hz vibrato and a little breath noise."""
    t = _time(duration, sample_rate)
    centre = min(_WHISTLE_HZ, 0.3 * sample_rate)
    depth = 0.015 * centre
    # Phase of a sinusoidally modulated frequency, integrated in closed form.
    phase = 2 * np.pi * centre * t - depth / 5.5 * np.cos(2 * np.pi * 5.5 * t)
    tone = np.sin(phase) + 0.08 * np.sin(2 * phase)
    breath = np.random.default_rng(11).standard_normal(len(t))
    low, high = 0.8 * centre, min(1.4 * centre, 0.45 * sample_rate)
    breath = signal.sosfilt(signal.butter(2, (low, high), "bandpass", fs=sample_rate, output="sos"), breath)
    return _fade(tone + 0.15 * breath / (np.std(breath) + 1e-12), sample_rate, 0.05)


def _sweep(duration: float, sample_rate: int) -> np.ndarray:
    t = _time(duration, sample_rate)
    f1 = min(_SWEEP_HZ[1], 0.45 * sample_rate)
    return _fade(signal.chirp(t, f0=_SWEEP_HZ[0], t1=max(t[-1], 1e-6), f1=f1, method="logarithmic"),
                 sample_rate)


def _chord(duration: float, sample_rate: int) -> np.ndarray:
    """C-major triad, each note with six harmonics falling as 1/k."""
    t = _time(duration, sample_rate)
    y = np.zeros_like(t)
    for f0 in _C_MAJOR_HZ:
        for k in range(1, 7):
            if k * f0 < 0.45 * sample_rate:
                y += np.sin(2 * np.pi * k * f0 * t) / k
    return _fade(y * np.exp(-t / max(3.0, duration)), sample_rate, 0.05)


def _white_noise(duration: float, sample_rate: int) -> np.ndarray:
    return _fade(np.random.default_rng(5).standard_normal(int(round(duration * sample_rate))), sample_rate)


def _kick_vs_whistle(duration: float, sample_rate: int) -> np.ndarray:
    half = duration / 2.0
    kicks = _fade(_kicks(half, sample_rate), sample_rate)
    whistle = _whistle(duration - half, sample_rate)
    # Match loudness so neither half dominates the colour scale.
    whistle *= np.max(np.abs(kicks)) / (np.max(np.abs(whistle)) + 1e-12)
    return np.concatenate([kicks, whistle])


_MAKERS = {
    "kick drum": _kicks,
    "whistle": _whistle,
    "sine sweep": _sweep,
    "chord": _chord,
    "white noise": _white_noise,
    "kick vs whistle": _kick_vs_whistle,
}


def teaching_sound(name: str, duration: float = 4.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Synthesise one of :data:`TEACHING_SOUNDS`.

    Parameters
    ----------
    name : str
        One of :data:`TEACHING_SOUNDS`.
    duration : float
        Seconds of audio (the 4 s default passes the 3 s minimum of
        :func:`genre_core.audio.load_audio` if written to a file).
    sample_rate : int
        Output rate in Hz.

    Returns
    -------
    np.ndarray
        float32 mono signal, deterministic, peak 0.8.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), non-positive
        duration or sample rate.
    """
    if name not in _MAKERS:
        raise ValueError(f"unknown teaching sound {name!r}; choose one of: {', '.join(TEACHING_SOUNDS)}")
    if not (isinstance(duration, (int, float, np.number)) and math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate < 4000:
        raise ValueError(f"sample_rate must be an integer >= 4000 Hz, got {sample_rate!r}")
    if int(round(duration * sample_rate)) < 2:
        raise ValueError(f"duration {duration!r} s is too short to hold a sound")
    return _peak_normalise(_MAKERS[name](float(duration), int(sample_rate)))


@lru_cache(maxsize=1)
def _example_clips() -> tuple[tuple[str, np.ndarray], ...]:
    return tuple((style, synth_clip(style, EXAMPLE_SEED, duration=EXAMPLE_DURATION)) for style in STYLES)


def example_clips() -> dict[str, np.ndarray]:
    """Built-in 30 s example songs, one per synth style, keyed by style name.

    Returns
    -------
    dict of str to np.ndarray
        float32 mono clips at :data:`~genre_core.config.SAMPLE_RATE`;
        fresh copies, so callers may modify them.
    """
    return {style: clip.copy() for style, clip in _example_clips()}
