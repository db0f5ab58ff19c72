"""Rolling microphone buffer and periodic classification for the Live page.

WebRTC delivers short audio frames (typically 10–20 ms of 48 kHz stereo
int16).  :class:`RollingAudioBuffer` converts each frame to mono float,
resamples it to 22050 Hz with a streaming resampler (so frame edges leave no
clicks) and keeps only the last ``seconds`` of audio in a ring buffer.  The
page asks :meth:`RollingAudioBuffer.ready_for_update` on every batch of frames
and, every ``update_interval`` seconds, classifies a :meth:`snapshot`.

Nothing here depends on Streamlit or WebRTC: frames are duck-typed
(``to_ndarray()``, ``sample_rate``, ``layout.channels``, ``format.is_planar``),
so the logic is tested with plain arrays.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from .config import SAMPLE_RATE

#: Defaults for the Live page.
BUFFER_SECONDS: float = 10.0
UPDATE_INTERVAL: float = 2.0
#: Classify only once this much audio has arrived (load_audio's minimum).
MIN_SECONDS: float = 3.0


def preload_webrtc() -> bool:
    """Import the SRTP library that streamlit-webrtc needs, before TensorFlow is loaded.

    ``pylibsrtp`` (aiortc's SRTP binding) crashes the interpreter in its
    ``srtp_init()`` when TensorFlow's native libraries are already loaded,
    while the other order is fine.  Entry points that may later use both
    (the app, the test session, the benchmark) call this first.

    Returns
    -------
    bool
        True when the library is loaded (or was already).
    """
    try:
        import pylibsrtp  # noqa: F401
    except ImportError:
        return False
    return True


def webrtc_blocker() -> str | None:
    """Why importing streamlit-webrtc now would be unsafe, or None when it is safe."""
    if "pylibsrtp" not in sys.modules and "tensorflow" in sys.modules:
        return ("TensorFlow was loaded before the WebRTC libraries in this process; restart the app "
                "(``streamlit run app.py`` loads them in the right order)")
    return None


def frame_to_mono(data: np.ndarray, channels: int, planar: bool) -> np.ndarray:
    """Convert one decoded audio frame to mono float32 in [-1, 1].

    Parameters
    ----------
    data : np.ndarray
        ``frame.to_ndarray()``: shape ``(1, samples * channels)`` interleaved
        for packed formats, ``(channels, samples)`` for planar ones.  Integer
        samples are scaled by their full-scale value.
    channels : int
    planar : bool

    Returns
    -------
    np.ndarray, float32, shape (samples,)
    """
    data = np.asarray(data)
    if channels < 1:
        raise ValueError(f"channels must be positive, got {channels}")
    if np.issubdtype(data.dtype, np.integer):
        scale = float(np.iinfo(data.dtype).max) + 1.0
        data = data.astype(np.float32) / scale
    else:
        data = data.astype(np.float32, copy=False)
    if planar:
        frames = data.reshape(channels, -1)
        return frames.mean(axis=0)
    interleaved = data.reshape(-1)
    if interleaved.size % channels:
        raise ValueError(f"{interleaved.size} samples do not split into {channels} channels")
    return interleaved.reshape(-1, channels).mean(axis=1)


def _frame_channels(frame: Any) -> int:
    layout = frame.layout
    count = getattr(layout, "nb_channels", None)
    return int(count) if count is not None else len(layout.channels)


class RollingAudioBuffer:
    """The last ``seconds`` of a live stream, mono at ``sample_rate``.

    Parameters
    ----------
    seconds : float
        How much audio to keep.
    sample_rate : int
        Output rate (22050 Hz, what the models expect).
    update_interval : float
        Minimum seconds between two classifications.
    min_seconds : float
        Audio needed before the first classification.

    Notes
    -----
    :meth:`push` may be called from WebRTC's thread while the page reads
    :meth:`snapshot`; a lock keeps the two consistent.
    """

    def __init__(
        self,
        seconds: float = BUFFER_SECONDS,
        sample_rate: int = SAMPLE_RATE,
        update_interval: float = UPDATE_INTERVAL,
        min_seconds: float = MIN_SECONDS,
    ) -> None:
        if seconds <= 0 or update_interval <= 0:
            raise ValueError("seconds and update_interval must be positive")
        self.sample_rate = int(sample_rate)
        self.capacity = int(round(seconds * sample_rate))
        self.update_interval = float(update_interval)
        self.min_seconds = float(min(min_seconds, seconds))
        self._ring = np.zeros(self.capacity, dtype=np.float32)
        self._write = 0
        self._filled = 0
        self._total = 0
        self._last_update: float | None = None
        self._resampler: soxr.ResampleStream | None = None
        self._input_rate: int | None = None
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        """Capacity in seconds."""
        return self.capacity / self.sample_rate

    @property
    def filled_seconds(self) -> float:
        """Seconds of audio currently held (at most :attr:`seconds`)."""
        return self._filled / self.sample_rate

    @property
    def total_seconds(self) -> float:
        """Seconds of audio received since the last :meth:`clear`."""
        return self._total / self.sample_rate

    def _resample(self, mono: np.ndarray, input_rate: int) -> np.ndarray:
        if input_rate == self.sample_rate:
            return mono
        if self._resampler is None or self._input_rate != input_rate:
            # A streaming resampler keeps filter state between frames; resampling
            # each 20 ms frame on its own would click at every frame edge.
            self._resampler = soxr.ResampleStream(input_rate, self.sample_rate, 1, dtype="float32")
            self._input_rate = input_rate
        return self._resampler.resample_chunk(mono)

    def _append(self, y: np.ndarray) -> None:
        if y.size >= self.capacity:
            self._ring[:] = y[-self.capacity:]
            self._write = 0
        else:
            end = self._write + y.size
            if end <= self.capacity:
                self._ring[self._write:end] = y
            else:
                split = self.capacity - self._write
                self._ring[self._write:] = y[:split]
                self._ring[: y.size - split] = y[split:]
            self._write = end % self.capacity
        self._filled = min(self.capacity, self._filled + y.size)
        self._total += y.size

    def push(self, data: np.ndarray, sample_rate: int, channels: int = 1, planar: bool = False) -> None:
        """Add one frame of audio.

        Parameters
        ----------
        data : np.ndarray
            Frame samples as :func:`frame_to_mono` takes them (1-D mono is fine).
        sample_rate : int
            The frame's rate, e.g. 48000.
        channels : int
        planar : bool
        """
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        mono = frame_to_mono(data, channels, planar)
        with self._lock:
            self._append(np.asarray(self._resample(mono, int(sample_rate)), dtype=np.float32))

    def push_frame(self, frame: Any) -> None:
        """Add an ``av.AudioFrame`` (or anything with the same attributes)."""
        self.push(frame.to_ndarray(), int(frame.sample_rate), _frame_channels(frame),
                  bool(frame.format.is_planar))

    def push_frames(self, frames: Sequence[Any]) -> None:
        """Add several frames in order."""
        for frame in frames:
            self.push_frame(frame)

    def ready_for_update(self, now: float) -> bool:
        """Whether to classify now: enough audio, and the interval has passed since the last update.

        Parameters
        ----------
        now : float
            Current time in seconds (``time.monotonic()``).
        """
        if self.filled_seconds < self.min_seconds:
            return False
        return self._last_update is None or now - self._last_update >= self.update_interval

    def mark_updated(self, now: float) -> None:
        """Record that an update happened at ``now``."""
        self._last_update = float(now)

    def snapshot(self, now: float | None = None) -> np.ndarray:
        """The buffered audio, oldest sample first (a copy).

        Parameters
        ----------
        now : float, optional
            When given, also :meth:`mark_updated` at this time.
        """
        with self._lock:
            if self._filled < self.capacity:
                out = self._ring[: self._filled].copy()
            else:
                out = np.concatenate([self._ring[self._write:], self._ring[: self._write]])
        if now is not None:
            self.mark_updated(now)
        return out

    def clear(self) -> None:
        """Forget all audio and the update time."""
        with self._lock:
            self._ring[:] = 0.0
            self._write = self._filled = self._total = 0
            self._last_update = None
            self._resampler = None
            self._input_rate = None


@dataclass(frozen=True)
class LiveResult:
    """One periodic analysis of the live buffer.

    Attributes
    ----------
    mel_db : np.ndarray
        Mel spectrogram (n_mels, frames) of the snapshot.
    predictions : list
        One ``genre_core.predict.Prediction`` per model.
    seconds : float
        Length of the analysed snapshot.
    """

    mel_db: np.ndarray
    predictions: list
    seconds: float


def analyse_snapshot(samples: np.ndarray, predictors: Sequence[Any], sample_rate: int = SAMPLE_RATE) -> LiveResult:
    """Mel spectrogram and predictions of one buffer snapshot.

    Silent snapshots get a spectrogram but no predictions: a silent room has no genre.
    """
    from .features import mel_spectrogram
    from .predict import predict_samples

    samples = np.asarray(samples, dtype=np.float32)
    mel_db = mel_spectrogram(samples, sample_rate)
    audible = samples.size and float(np.max(np.abs(samples))) >= 1e-4
    predictions = predict_samples(samples, sample_rate, list(predictors)) if audible and predictors else []
    return LiveResult(mel_db=mel_db, predictions=list(predictions), seconds=samples.size / sample_rate)


#: Updates kept in the Live page's history (at one per 2 s: the last ten minutes).
HISTORY_LENGTH: int = 300


@dataclass(frozen=True)
class HistoryEntry:
    """One model's answer at one live update."""

    update: int
    seconds: float
    model: str
    label: str
    probability: float


class PredictionHistory:
    """The Live page's scrolling record of answers, newest last, at most ``max_updates`` updates.

    Taggers are recorded by their top tag, genre models by their top genre.
    """

    def __init__(self, max_updates: int = HISTORY_LENGTH) -> None:
        if max_updates <= 0:
            raise ValueError("max_updates must be positive")
        self.max_updates = int(max_updates)
        self._entries: list[HistoryEntry] = []
        self._updates = 0

    def __len__(self) -> int:
        return len({e.update for e in self._entries})

    def add(self, seconds: float, predictions: Sequence[Any]) -> None:
        """Record one update: ``seconds`` since streaming started, and each model's top answer."""
        self._updates += 1
        for prediction in predictions:
            probabilities = np.asarray(prediction.probabilities, dtype=float)
            index = int(np.argmax(probabilities))
            self._entries.append(HistoryEntry(self._updates, float(seconds), prediction.model,
                                              str(prediction.labels[index]), float(probabilities[index])))
        oldest = self._updates - self.max_updates
        self._entries = [e for e in self._entries if e.update > oldest]

    def clear(self) -> None:
        """Forget every update (streaming stopped)."""
        self._entries.clear()
        self._updates = 0

    def table(self, names: dict[str, str] | None = None, newest_first: bool = True) -> Any:
        """One row per update, one column per model: ``label 45 %``; plus ``time (s)``."""
        import pandas as pd

        names = names or {}
        rows: dict[int, dict[str, Any]] = {}
        for entry in self._entries:
            row = rows.setdefault(entry.update, {"time (s)": round(entry.seconds, 1)})
            row[names.get(entry.model, entry.model)] = f"{entry.label} {entry.probability:.0%}"
        table = pd.DataFrame([rows[k] for k in sorted(rows, reverse=newest_first)])
        return table
