"""Where a signal is cut: the one windowing used by inference, training and the app.

Two placements share one rule (regular starts, the last window aligned to the
end so no tail is left unanalysed, a short signal given one window):

- :func:`frame_windows`: the classical models' overlapping analysis windows
  (30 s, hop 15 s), tolerant of clips a little longer than one window;
- :func:`segment_bounds` / :func:`segment_signal`: the deep models' fixed-size,
  non-overlapping segments (hop = segment length), zero-padded when short.

Plus :func:`resample_to`, the one "resample if the rate differs" every
predictor needs before cutting.
"""

from __future__ import annotations

import numpy as np
import soxr

from .config import HOP_SECONDS, WINDOW_SECONDS
from .errors import UsageError

__all__ = ["frame_windows", "resample_to", "segment_bounds", "segment_signal", "split_windows"]


def _bounds(n_samples: int, length: int, hop: int, slack: int) -> list[tuple[int, int]]:
    """Regular windows of ``length`` samples every ``hop``, the last one aligned to the end.

    A signal at most ``slack`` samples longer than one window gets one window over all of it.
    """
    if n_samples <= length + slack:
        return [(0, int(n_samples))]
    starts = list(range(0, n_samples - length + 1, hop))
    if starts[-1] + length < n_samples:
        starts.append(n_samples - length)
    return [(s, s + length) for s in starts]


def frame_windows(
    n_samples: int, sample_rate: int, window_seconds: float = WINDOW_SECONDS, hop_seconds: float = HOP_SECONDS
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

    Examples
    --------
    >>> frame_windows(70, 1, window_seconds=30, hop_seconds=15)
    [(0, 30), (15, 45), (30, 60), (40, 70)]
    >>> frame_windows(36, 1, window_seconds=30, hop_seconds=15)
    [(0, 36)]
    """
    if window_seconds <= 0 or hop_seconds <= 0:
        raise UsageError("window_seconds and hop_seconds must be positive")
    hop = int(round(hop_seconds * sample_rate))
    return _bounds(int(n_samples), int(round(window_seconds * sample_rate)), hop, hop // 2)


def split_windows(
    samples: np.ndarray, sample_rate: int, window_seconds: float = WINDOW_SECONDS, hop_seconds: float = HOP_SECONDS
) -> list[np.ndarray]:
    """Split a signal into analysis windows (views, no copies), placed by :func:`frame_windows`.

    Examples
    --------
    >>> [len(w) for w in split_windows(np.zeros(70), 1)]
    [30, 30, 30, 30]
    """
    return [samples[s:e] for s, e in frame_windows(len(samples), sample_rate, window_seconds, hop_seconds)]


def segment_bounds(n_samples: int, sample_rate: int, segment_seconds: float) -> list[tuple[int, int]]:
    """Sample ranges of the fixed-length segments of a signal (hop = segment length).

    Segments never exceed ``segment_seconds`` (a model's input has a fixed
    size).  When the length is not a multiple of the segment, one more
    segment aligned to the end covers the tail; a signal shorter than one
    segment gives one range covering all of it (to be zero-padded).

    Examples
    --------
    >>> segment_bounds(7, 1, 3.0)
    [(0, 3), (3, 6), (4, 7)]
    >>> segment_bounds(2, 1, 3.0)
    [(0, 2)]
    """
    if segment_seconds <= 0:
        raise UsageError(f"segment_seconds must be positive, got {segment_seconds}")
    length = int(round(segment_seconds * sample_rate))
    return _bounds(int(n_samples), length, length, 0)


def segment_signal(
    samples: np.ndarray, sample_rate: int, segment_seconds: float
) -> tuple[list[tuple[float, float]], list[np.ndarray]]:
    """Cut a signal into equal-length segments, zero-padding a short clip.

    Parameters
    ----------
    samples : np.ndarray, shape (n_samples,)
        Mono signal.
    sample_rate : int
    segment_seconds : float

    Returns
    -------
    windows : list of (start_seconds, end_seconds)
        The stretch of the signal each segment covers.
    segments : list of np.ndarray
        float32 arrays of exactly ``round(segment_seconds * sample_rate)`` samples.

    Examples
    --------
    >>> windows, segments = segment_signal(np.ones(4), 1, 3.0)
    >>> windows, [s.tolist() for s in segments]
    ([(0.0, 3.0), (1.0, 4.0)], [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    >>> segment_signal(np.ones(2), 1, 3.0)[1][0].tolist()
    [1.0, 1.0, 0.0]
    """
    samples = np.asarray(samples, dtype=np.float32)
    length = int(round(segment_seconds * sample_rate))
    windows, segments = [], []
    for start, end in segment_bounds(len(samples), sample_rate, segment_seconds):
        piece = samples[start:end]
        if len(piece) < length:
            piece = np.pad(piece, (0, length - len(piece)))
        windows.append((start / sample_rate, end / sample_rate))
        segments.append(piece)
    return windows, segments


def resample_to(samples: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """The signal at ``target_rate`` as float32 (unchanged, not copied, when the rates agree).

    Parameters
    ----------
    samples : np.ndarray, shape (n_samples,)
    sample_rate, target_rate : int

    Returns
    -------
    np.ndarray, shape (round(n_samples * target_rate / sample_rate),), float32

    Examples
    --------
    >>> resample_to(np.zeros(22050, dtype=np.float32), 22050, 16000).shape
    (16000,)
    """
    samples = np.asarray(samples, dtype=np.float32)
    if int(sample_rate) == int(target_rate):
        return samples
    return soxr.resample(samples, int(sample_rate), int(target_rate), quality="HQ").astype(np.float32)
