"""Streamlit-free helpers behind the app's pages.

The app keeps one *current clip* that every page works on.  This module turns
the three ways of getting a clip (an upload, a recording, a built-in example)
into a :class:`CurrentClip` keyed by a content hash, and holds the small
table-shaping functions the pages need (grouping models by label set, model
agreement).  Nothing here imports Streamlit, so all of it
is unit-testable and reusable from the CLI or a notebook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .audio import MAX_DURATION, SUPPORTED_EXTENSIONS, AudioClip, AudioError, load_audio, write_wav_bytes
from .config import SAMPLE_RATE

#: File types the uploaders accept: the decoder's own list, without the dots.
UPLOAD_TYPES: tuple[str, ...] = tuple(ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS)
#: Must match ``[server] maxUploadSize`` in .streamlit/config.toml.
MAX_UPLOAD_MB: int = 50
#: Length of the built-in synthetic-style examples, in seconds.
EXAMPLE_SECONDS: float = 30.0

ORIGIN_UPLOAD = "upload"
ORIGIN_RECORDING = "recording"
ORIGIN_EXAMPLE = "example"


def content_hash(data: bytes | bytearray | memoryview) -> str:
    """SHA-256 hex digest of raw bytes: the cache key of a clip."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CurrentClip:
    """The clip every page of the app works on.

    Attributes
    ----------
    clip : AudioClip
        Decoded mono audio at 22050 Hz.
    digest : str
        SHA-256 of the source bytes (or of the rendered example), used as cache key.
    origin : str
        ``"upload"``, ``"recording"`` or ``"example"``.
    notes : tuple of str
        What happened to the audio on the way in (truncation, down-mix, resampling).
    """

    clip: AudioClip
    digest: str
    origin: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The clip's display name."""
        return self.clip.name

    @property
    def samples(self) -> np.ndarray:
        """Mono float32 samples."""
        return self.clip.samples

    @property
    def sample_rate(self) -> int:
        """Sample rate of :attr:`samples`."""
        return self.clip.sample_rate


def format_megabytes(n_bytes: int) -> str:
    """Human-readable size in MB (decimal, as browsers show it)."""
    return f"{n_bytes / 1e6:.1f} MB"


def check_upload_size(n_bytes: int, name: str = "upload", limit_mb: int = MAX_UPLOAD_MB) -> None:
    """Reject a file larger than the upload limit with advice on what to do.

    Raises
    ------
    AudioError
        When ``n_bytes`` exceeds ``limit_mb`` megabytes (Streamlit's MB are 2**20 bytes).
    """
    if n_bytes > limit_mb * 1024 * 1024:
        raise AudioError(
            f"{name} is {format_megabytes(n_bytes)}; the upload limit is {limit_mb} MB. "
            "Upload a shorter excerpt or a compressed copy (for example a 3-minute mp3)."
        )


def conversion_notes(clip: AudioClip) -> tuple[str, ...]:
    """Notes on what load_audio did to a file: truncation, down-mix, resampling."""
    notes = list(clip.notes)
    if clip.source_channels > 1:
        notes.append(f"Down-mixed {clip.source_channels} channels to mono.")
    if clip.source_sample_rate != clip.sample_rate:
        notes.append(
            f"Resampled from {clip.source_sample_rate} Hz to {clip.sample_rate} Hz."
        )
    return tuple(notes)


def clip_from_bytes(
    data: bytes,
    name: str,
    *,
    origin: str = ORIGIN_UPLOAD,
    limit_mb: int = MAX_UPLOAD_MB,
    max_duration: float = MAX_DURATION,
    digest: str | None = None,
) -> CurrentClip:
    """Decode uploaded or recorded bytes into the current clip.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        File name, for messages.
    origin : str
        ``"upload"`` or ``"recording"``.
    limit_mb : int
        Upload size limit.
    max_duration : float
        Analyse at most this many seconds (the rest is never decoded).
    digest : str, optional
        Precomputed :func:`content_hash` of ``data``.

    Raises
    ------
    AudioError
        Empty, oversized, corrupt, silent, too short or non-finite audio.
    """
    check_upload_size(len(data), name, limit_mb)
    clip = load_audio(bytes(data), name=name, max_duration=max_duration)
    return CurrentClip(
        clip=clip,
        digest=digest or content_hash(data),
        origin=origin,
        notes=conversion_notes(clip),
    )


def clip_from_samples(
    samples: np.ndarray, sample_rate: int, name: str, *, origin: str = ORIGIN_EXAMPLE
) -> CurrentClip:
    """Wrap a rendered signal as the current clip, through the same checks as uploads.

    The signal is encoded as 16-bit WAV and decoded by :func:`load_audio`, so an
    example goes through exactly the path an uploaded file does.
    """
    data = write_wav_bytes(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0), sample_rate)
    clip = load_audio(data, name=name)
    return CurrentClip(clip=clip, digest=content_hash(data), origin=origin, notes=conversion_notes(clip))


# --- built-in examples ---------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One built-in example clip of the sidebar picker.

    Attributes
    ----------
    key : str
        Unique label shown in the picker.
    group : str
        ``"Example songs"`` or ``"Teaching sounds"``.
    render : callable
        Returns the mono float32 samples at 22050 Hz.
    """

    key: str
    group: str
    render: Callable[[], np.ndarray] = field(compare=False, repr=False)


def _example_songs() -> list[Example]:
    from .synth import STYLES

    def render(style: str) -> np.ndarray:
        try:
            from .teaching_sounds import example_clips
        except ImportError:  # written by another module; fall back to the same recipe
            from .synth import synth_clip

            return synth_clip(style, seed=7, duration=EXAMPLE_SECONDS)
        return example_clips()[style]

    # Keys come from STYLES so that listing the catalogue renders nothing.
    return [Example(key=f"Example song: {style}", group="Example songs",
                    render=lambda style=style: render(style)) for style in STYLES]


def _teaching_examples() -> list[Example]:
    return [
        Example(key=f"Teaching sound: {sound}", group="Teaching sounds",
                render=lambda sound=sound: render_teaching_sound(sound))
        for sound in teaching_sound_names()
    ]


def example_catalogue() -> dict[str, Example]:
    """All built-in examples by picker label: the 30 s example songs, then the teaching sounds."""
    return {e.key: e for e in _example_songs() + _teaching_examples()}


def teaching_sound_names() -> tuple[str, ...]:
    """Names of the teaching sounds (empty until genre_core.teaching_sounds exists)."""
    try:
        from .teaching_sounds import TEACHING_SOUNDS
    except ImportError:
        return ()
    return tuple(TEACHING_SOUNDS)


def render_teaching_sound(name: str, duration: float = 4.0) -> np.ndarray:
    """Samples of one teaching sound at 22050 Hz."""
    from .teaching_sounds import teaching_sound

    return np.asarray(teaching_sound(name, duration=duration), dtype=np.float32)


def example_clip(key: str) -> CurrentClip:
    """Render a built-in example as the current clip.

    Raises
    ------
    KeyError
        For an unknown example label.
    """
    catalogue = example_catalogue()
    if key not in catalogue:
        raise KeyError(f"unknown example {key!r}; choose from {sorted(catalogue)}")
    name = key.split(": ", 1)[-1]
    return clip_from_samples(catalogue[key].render(), SAMPLE_RATE, name)


# --- excerpts --------------------------------------------------------------------------


def excerpt(samples: np.ndarray, sample_rate: int, start_seconds: float, seconds: float) -> np.ndarray:
    """A view of ``seconds`` of signal from ``start_seconds`` (clamped to the clip)."""
    n = len(samples)
    length = min(n, max(1, int(round(seconds * sample_rate))))
    start = int(round(max(0.0, start_seconds) * sample_rate))
    start = min(start, n - length)
    return samples[start:start + length]


def clip_caption(current: CurrentClip) -> str:
    """One line describing the current clip for captions."""
    clip = current.clip
    channels = {1: "mono", 2: "stereo"}.get(clip.source_channels, f"{clip.source_channels} ch")
    return (
        f"{clip.name} · {clip.duration:.1f} s analysed · source {clip.source_sample_rate / 1000:g} kHz "
        f"{channels} · from {current.origin}"
    )


# --- models: grouping, ensembles, agreement ---------------------------------------------


def card_dataset(card: Mapping[str, Any]) -> str:
    """Data set name from a model card (``"unknown"`` when absent)."""
    return str((card.get("data") or {}).get("dataset", "unknown"))


def display_name(card: Mapping[str, Any], fallback: str, *, short: bool = False) -> str:
    """The card's display name, else the registry name.

    ``short`` drops a trailing `` · <dataset>`` for places where the data set is
    already shown (a group heading).
    """
    name = str(card.get("display_name") or card.get("name") or fallback)
    return name.split(" · ")[0] if short else name


def card_notes(card: Mapping[str, Any]) -> list[str]:
    """A card's ``notes`` as a list of strings (cards store a string or a list)."""
    notes = card.get("notes") or []
    return [notes] if isinstance(notes, str) else [str(n) for n in notes]


def group_by_labels(predictions: Sequence[Any]) -> dict[tuple[str, ...], list[Any]]:
    """Predictions grouped by their exact label tuple, in first-seen order.

    Probabilities are only comparable (and only averaged) within a group.
    """
    groups: dict[tuple[str, ...], list[Any]] = {}
    for prediction in predictions:
        groups.setdefault(tuple(prediction.labels), []).append(prediction)
    return groups


def spans_time(prediction: Any, min_span: float = 5.0) -> bool:
    """Whether a prediction's windows cover enough of the song for a timeline to say anything.

    A 30.1 s clip has two 30 s windows 0.1 s apart: a timeline of them is noise.
    """
    centres = [(start + end) / 2 for start, end in prediction.windows]
    return len(centres) > 1 and max(centres) - min(centres) >= min_span


def agreement_summary(predictions: Sequence[Any]) -> dict[str, Any]:
    """How far models sharing a label set agree on their top label.

    Returns
    -------
    dict
        ``top`` (model → top label), ``votes`` (label → number of models, most
        first), ``majority`` (most frequent top label), ``n_agree`` (models
        voting for it), ``n_models``, ``unanimous``, ``tie`` (two labels share
        the most votes).
    """
    top = {p.model: p.labels[int(np.argmax(p.probabilities))] for p in predictions}
    if not top:
        return {"top": {}, "votes": {}, "majority": None, "n_agree": 0, "n_models": 0,
                "unanimous": False, "tie": False}
    votes = pd.Series(list(top.values())).value_counts(sort=True)
    return {
        "top": top,
        "votes": {str(label): int(count) for label, count in votes.items()},
        "majority": str(votes.index[0]),
        "n_agree": int(votes.iloc[0]),
        "n_models": len(top),
        "unanimous": len(votes) == 1,
        "tie": len(votes) > 1 and int(votes.iloc[0]) == int(votes.iloc[1]),
    }


def probability_matrix(predictions: Sequence[Any]) -> tuple[list[str], list[str], np.ndarray]:
    """Models × labels probability matrix of predictions sharing one label set."""
    if not predictions:
        return [], [], np.zeros((0, 0))
    labels = list(predictions[0].labels)
    for p in predictions:
        if list(p.labels) != labels:
            raise ValueError("probability_matrix needs predictions over one label set")
    return [p.model for p in predictions], labels, np.vstack([p.probabilities for p in predictions])


def evaluation_protocols(card: Mapping[str, Any]) -> list[str]:
    """Protocol keys of a card's metrics that carry a confusion matrix or per-class scores."""
    metrics = card.get("metrics") or {}
    return [
        key for key, value in metrics.items()
        if isinstance(value, Mapping) and ("confusion_matrix" in value or "per_class" in value)
    ]


# --- CNN views ---------------------------------------------------------------------------


def time_first(input_kind: str) -> bool:
    """Whether axis 0 of a deep input (and of its 2-D feature maps) is time.

    ``mel_image`` inputs are pictures with mel bands as rows and time as
    columns; every other kind puts time first.
    """
    return input_kind != "mel_image"


def model_view(segment: np.ndarray, input_kind: str) -> np.ndarray:
    """The part of a segment a deep model actually reads (raw models: the first 10 000 samples)."""
    from .features import RAW_WINDOW

    return segment[:RAW_WINDOW] if input_kind == "raw" else segment


#: Raw-audio activation maximisation optimises this many samples, not the model's
#: full 10 000: convolutions are shift-invariant, the page shows only ~1000
#: samples, and the full length takes ~10x longer.
RAW_PATTERN_SAMPLES: int = 1024


def pattern_input_shape(input_kind: str, segment_seconds: float) -> tuple[int, ...]:
    """Input shape to optimise when visualising a deep model's filters."""
    from .features import deep_input_shape

    if input_kind == "raw":
        return (RAW_PATTERN_SAMPLES, 1)
    return deep_input_shape(input_kind, segment_seconds)


def gradcam_rows_time(heatmap: np.ndarray, input_kind: str) -> np.ndarray:
    """A Grad-CAM map arranged for overlay on a mel spectrogram.

    Returns
    -------
    np.ndarray
        1-D (time) for 1-D convolutions, or 2-D (mel rows, time).  An MFCC
        map has no mel axis, so it is averaged to a time profile.
    """
    cam = np.asarray(heatmap, dtype=np.float32)
    if cam.ndim == 1:
        return cam
    if cam.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D Grad-CAM map, got shape {cam.shape}")
    if input_kind == "mel":
        return cam.T
    if input_kind == "mel_image":
        return cam
    return cam.mean(axis=1)


def top_k_text(labels: Sequence[str], probabilities: Sequence[float], k: int = 3) -> str:
    """``"1. rock 45% · 2. metal 20% · 3. blues 10%"``."""
    probs = np.asarray(probabilities, dtype=float)
    order = np.argsort(-probs, kind="stable")[:k]
    return " · ".join(f"{rank}. {labels[i]} {probs[i]:.0%}" for rank, i in enumerate(order, start=1))


def empty_filters(filterbank: np.ndarray) -> int:
    """Number of mel filters with no FFT bin under them (too many mels for n_fft)."""
    return int(np.sum(~np.any(np.asarray(filterbank) > 0, axis=1)))


@dataclass(frozen=True)
class SpectralViews:
    """The Spectrogram lab's representations of one excerpt, for one parameter set.

    Attributes
    ----------
    stft_db : np.ndarray, (1 + n_fft//2, frames)
    fft_frequencies : np.ndarray, (1 + n_fft//2,)
    filterbank : np.ndarray, (n_mels, 1 + n_fft//2)
    mel_db : np.ndarray, (n_mels, frames)
    mfcc : np.ndarray, (n_mfcc, frames)
    empty_filters : int
        Mel filters that catch no FFT bin (n_mels too high for n_fft).
    """

    stft_db: np.ndarray
    fft_frequencies: np.ndarray
    filterbank: np.ndarray
    mel_db: np.ndarray
    mfcc: np.ndarray
    empty_filters: int
    n_fft: int
    hop_length: int
    fmax: float


def spectral_views(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    fmax: float | None = None,
    n_mfcc: int = 20,
) -> SpectralViews:
    """STFT, mel filterbank, mel spectrogram and MFCCs of ``y`` with the lab's parameters."""
    import warnings

    import librosa

    from . import features

    fmax = float(sr / 2 if fmax is None else min(fmax, sr / 2))
    # One STFT for every view (a slider step used to compute it three times): the mel
    # spectrogram and the MFCCs from its power equal librosa's own calls on ``y``.
    magnitude = features.stft_magnitude(y, n_fft, hop_length)
    with warnings.catch_warnings():
        # librosa warns about empty mel filters; the lab reports them itself.
        warnings.simplefilter("ignore", UserWarning)
        filterbank = features.mel_filterbank(sr, n_fft, n_mels, fmax)
        mel_db = features.mel_spectrogram(sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmax=fmax,
                                          S=magnitude ** 2)
    return SpectralViews(
        stft_db=features.stft_db(magnitude=magnitude),
        fft_frequencies=librosa.fft_frequencies(sr=sr, n_fft=n_fft),
        filterbank=filterbank,
        mel_db=mel_db,
        mfcc=features.mfcc(n_mfcc=n_mfcc, mel_db=mel_db),
        empty_filters=empty_filters(filterbank),
        n_fft=int(n_fft),
        hop_length=int(hop_length),
        fmax=fmax,
    )
