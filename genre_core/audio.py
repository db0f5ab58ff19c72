"""Audio input: decode files or uploaded bytes into validated mono clips.

Every entry point of the project (the app, the CLI, training) loads audio
through :func:`load_audio`, so one set of checks guards them all.  Decoding is
memory-bounded: at most ``max_duration`` seconds are ever read from the file.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import soundfile as sf
import soxr

from .constants import SAMPLE_RATE

AudioSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO]

#: Shortest clip we classify: below ~3 s the 57 summary statistics are too noisy.
MIN_DURATION: float = 3.0
#: Longest stretch analysed by default (10 minutes).
MAX_DURATION: float = 600.0
#: Sample rates outside this range are treated as a corrupt header.
MIN_SAMPLE_RATE: int = 4000
MAX_SAMPLE_RATE: int = 384000
MAX_CHANNELS: int = 32
#: Peak below this (about -100 dBFS) counts as digital silence.
SILENCE_PEAK: float = 1e-5
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".wav", ".mp3", ".ogg", ".flac", ".au", ".aiff", ".aif")


class AudioError(ValueError):
    """Raised when a file cannot be turned into a usable clip; the message says why."""


@dataclass(frozen=True)
class AudioClip:
    """A decoded, validated mono clip.

    Attributes
    ----------
    samples : np.ndarray
        float32 mono signal at ``sample_rate``.
    sample_rate : int
        Always :data:`SAMPLE_RATE` after :func:`load_audio`.
    name : str
        File name or a label for byte input.
    source_duration : float
        Duration of the whole file in seconds (may exceed what was analysed).
    truncated : bool
        True when only the first ``max_duration`` seconds were decoded.
    source_sample_rate, source_channels : int
        What the file declared before resampling and down-mixing.
    """

    samples: np.ndarray
    sample_rate: int
    name: str = "clip"
    source_duration: float = 0.0
    truncated: bool = False
    source_sample_rate: int = SAMPLE_RATE
    source_channels: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def duration(self) -> float:
        """Duration of the decoded samples in seconds."""
        return len(self.samples) / float(self.sample_rate)


def _open(source: AudioSource, name: str) -> sf.SoundFile:
    if isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise AudioError(f"{name}: the file is empty (0 bytes).")
        handle: BinaryIO = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"{name}: no such file.")
        if path.is_dir():
            raise AudioError(f"{name}: is a folder, not an audio file.")
        if path.stat().st_size == 0:
            raise AudioError(f"{name}: the file is empty (0 bytes).")
        handle = str(path)  # type: ignore[assignment]
    else:
        handle = source
    try:
        return sf.SoundFile(handle)
    except (sf.LibsndfileError, RuntimeError, TypeError, EOFError) as exc:
        raise AudioError(
            f"{name}: not a readable audio file ({_short_reason(exc)}). "
            f"Supported formats: {', '.join(e.lstrip('.') for e in SUPPORTED_EXTENSIONS)}."
        ) from None


def _short_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[-1][:160]


def _read_bounded(snd: sf.SoundFile, name: str, max_frames: int) -> np.ndarray:
    """Read at most ``max_frames`` frames, block by block, down-mixing as we go.

    Down-mixing per block keeps peak memory at one mono buffer even for
    many-channel files.
    """
    block = 1 << 16
    out = np.empty(max_frames if max_frames > 0 else 0, dtype=np.float32)
    filled = 0
    try:
        while filled < max_frames:
            data = snd.read(min(block, max_frames - filled), dtype="float32", always_2d=True)
            if data.shape[0] == 0:
                break
            out[filled:filled + data.shape[0]] = data.mean(axis=1)
            filled += data.shape[0]
    except (sf.LibsndfileError, RuntimeError) as exc:
        if filled == 0:
            raise AudioError(f"{name}: the file is corrupt or truncated ({_short_reason(exc)}).") from None
        # A truncated tail is common in downloads; keep what decoded cleanly.
    return out[:filled]


def load_audio(
    source: AudioSource,
    *,
    name: str | None = None,
    sample_rate: int = SAMPLE_RATE,
    max_duration: float = MAX_DURATION,
    min_duration: float = MIN_DURATION,
) -> AudioClip:
    """Decode, validate, down-mix and resample an audio file or its bytes.

    Parameters
    ----------
    source : path, bytes or binary file object
        The audio: wav, mp3, ogg, flac, au or aiff.
    name : str, optional
        Label used in error messages (defaults to the file name).
    sample_rate : int
        Target rate; 22050 Hz by default.
    max_duration : float
        Decode at most this many seconds; the rest of the file is never read.
    min_duration : float
        Reject clips shorter than this many seconds.

    Returns
    -------
    AudioClip

    Raises
    ------
    AudioError
        With a message naming the file and the problem.
    """
    if name is None:
        name = Path(source).name if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "upload")
        name = str(name)
    snd = _open(source, name)
    with snd:
        src_sr, channels, n_frames = int(snd.samplerate), int(snd.channels), int(snd.frames)
        if not MIN_SAMPLE_RATE <= src_sr <= MAX_SAMPLE_RATE:
            raise AudioError(
                f"{name}: sample rate {src_sr} Hz is outside the supported "
                f"{MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz range."
            )
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioError(f"{name}: {channels} channels is not a plausible audio file (max {MAX_CHANNELS}).")
        max_frames = int(round(max_duration * src_sr))
        # libsndfile reports a huge frame count for some streams; never trust it for allocation.
        known = 0 < n_frames < (1 << 40)
        samples = _read_bounded(snd, name, min(max_frames, n_frames) if known else max_frames)
        source_duration = (n_frames / src_sr) if known else len(samples) / src_sr
    truncated = source_duration > max_duration + 1.0 / src_sr
    if samples.size == 0:
        raise AudioError(f"{name}: the file decodes to no audio samples.")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{name}: the audio contains NaN or infinite sample values.")
    duration = samples.size / src_sr
    if duration < min_duration:
        raise AudioError(
            f"{name}: the clip is {duration:.2f} s long; at least {min_duration:g} s is needed."
        )
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioError(f"{name}: the clip is silent (peak below -100 dBFS).")
    if src_sr != sample_rate:
        # soxr 'HQ' is what librosa.load(sr=...) uses by default (res_type='soxr_hq').
        samples = soxr.resample(samples, src_sr, sample_rate, quality="HQ").astype(np.float32)
    notes: list[str] = []
    if truncated:
        notes.append(
            f"Only the first {max_duration:g} s of {source_duration:.0f} s were analysed."
        )
    return AudioClip(
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sample_rate=sample_rate,
        name=name,
        source_duration=float(source_duration),
        truncated=bool(truncated),
        source_sample_rate=src_sr,
        source_channels=channels,
        notes=tuple(notes),
    )


def frame_windows(
    n_samples: int, sample_rate: int, window_seconds: float = 30.0, hop_seconds: float = 15.0
) -> list[tuple[int, int]]:
    """Start and end sample indices of analysis windows over a signal.

    A signal up to half a hop longer than one window gets a single window
    covering all of it (GTZAN's "30 s" clips run to 30.6 s); otherwise the last
    window is aligned to the end so no tail is left unanalysed.

    Parameters
    ----------
    n_samples : int
        Length of the signal.
    sample_rate : int
    window_seconds, hop_seconds : float
        Window length and hop, in seconds.

    Returns
    -------
    list of (start, end)
    """
    if window_seconds <= 0 or hop_seconds <= 0:
        raise ValueError("window_seconds and hop_seconds must be positive")
    win = int(round(window_seconds * sample_rate))
    hop = int(round(hop_seconds * sample_rate))
    if n_samples <= win + hop // 2:
        return [(0, int(n_samples))]
    starts = list(range(0, n_samples - win + 1, hop))
    if starts[-1] + win < n_samples:
        starts.append(n_samples - win)
    return [(s, s + win) for s in starts]


def split_windows(
    samples: np.ndarray, sample_rate: int, window_seconds: float = 30.0, hop_seconds: float = 15.0
) -> list[np.ndarray]:
    """Split a signal into analysis windows (views, no copies).

    See :func:`frame_windows` for the placement rule.
    """
    return [samples[s:e] for s, e in frame_windows(len(samples), sample_rate, window_seconds, hop_seconds)]


def write_wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Encode a mono float signal as 16-bit PCM WAV bytes (for players and downloads)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
