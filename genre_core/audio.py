"""Audio input: decode files or uploaded bytes into validated mono clips.

Every entry point of the project (the app, the CLI, training) decodes audio
through :class:`AudioStream`: :func:`load_audio` collects its blocks into a
clip, :func:`genre_core.stream.predict_file` classifies them as they arrive.
Paths and bytes take the same path (bytes are written to a temporary file named
like the upload), so they get the same verdict.

Nothing is dropped silently: truncation at ``max_duration``, a file that ends
before its header says, a damaged tail, clipping, samples beyond full scale and
a down-mix that cancels are all reported in ``notes``.
"""

from __future__ import annotations

import io
import math
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import soundfile as sf
import soxr

from .config import SAMPLE_RATE
from .errors import AudioError, UsageError

__all__ = [
    "AudioClip", "AudioError", "AudioSource", "AudioStream", "MAX_DURATION", "MIN_DURATION",
    "SUPPORTED_EXTENSIONS", "load_audio", "write_wav_bytes",
]

AudioSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO]

#: Shortest clip we classify: below ~3 s the 57 summary statistics are too noisy.
MIN_DURATION: float = 3.0
#: Longest stretch analysed by default (10 minutes).  A choice of how much to
#: analyse, not a memory guard: :func:`genre_core.stream.predict_file` runs in
#: flat memory whatever the length; ``None`` analyses everything.
MAX_DURATION: float = 600.0
#: Sample rates outside this range are treated as a corrupt header.
MIN_SAMPLE_RATE: int = 4000
MAX_SAMPLE_RATE: int = 384000
MAX_CHANNELS: int = 32
#: Peak below this (about -100 dBFS) counts as digital silence.
SILENCE_PEAK: float = 1e-5
#: Every extension the decoder reads (the app's uploader offers these).
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".wav", ".mp3", ".ogg", ".flac", ".au", ".aiff", ".aif")
#: Frames read from the decoder at a time.
BLOCK_FRAMES: int = 1 << 16
#: |sample| at or above this, for 3+ samples in a row, counts as clipped.
CLIP_LEVEL: float = 0.999
#: Clipping is noted once this fraction of samples is clipped.
CLIP_NOTE_FRACTION: float = 1e-3
#: Float files may exceed full scale a little (a hot master); beyond +24 dBFS
#: the scaling is wrong (integers stored as floats) and no prediction is meaningful.
MAX_FLOAT_PEAK: float = 16.0
#: Peak up to which samples beyond ±1 are the usual overshoot of a lossy decoder (+6 dBFS).
LOSSY_OVERSHOOT_PEAK: float = 2.0
#: The down-mix is noted as cancelling when its energy is this far below what
#: uncorrelated channels would give (1/channels of the channels' mean energy).
CANCEL_RATIO: float = 0.1
#: A mix 60 dB below its channels is only quantisation noise: refused, as cancelled.
CANCEL_ERROR_RATIO: float = 1e-6


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
    notes : tuple of str
        What the user should know about the analysis (truncation, a damaged
        tail, clipping, a cancelling down-mix); the app and the CLI show them.
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


# --- helpers -----------------------------------------------------------------------------

_STDERR_LOCK = threading.Lock()


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (decoder chatter).

    libmpg123 and libFLAC print notes ("Illegal Audio-MPEG-Header", "resync")
    straight to fd 2, below Python; they are never useful to a user because
    every decode failure becomes an :class:`AudioError` or a note.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError, OSError):
            pass  # a closed or replaced sys.stderr: nothing buffered to lose
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all (some daemons): nothing to silence
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def format_seconds(value: float, versus: float | None = None) -> str:
    """``value`` in seconds with enough decimals to differ from ``versus``.

    "2.99995" rather than "3.00" for a clip one sample short of 3 s.
    """
    for decimals in range(2, 8):
        text = f"{value:.{decimals}f}"
        if versus is None or float(text) != versus:
            return text
    return repr(float(value))


def _dbfs(peak: float) -> float:
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _short_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[-1][:160].rstrip(". ")


def _supported() -> str:
    return ", ".join(e.lstrip(".") for e in SUPPORTED_EXTENSIONS)


def _check_limits(max_duration: float | None, min_duration: float) -> float | None:
    if not (math.isfinite(min_duration) and min_duration >= 0):
        raise UsageError(f"min_duration must be a finite number of seconds ≥ 0, got {min_duration!r}")
    if max_duration is None or max_duration == math.inf:
        return None
    if not (isinstance(max_duration, (int, float)) and math.isfinite(max_duration) and max_duration > 0):
        raise UsageError(f"max_duration must be a positive number of seconds or None, got {max_duration!r}")
    if max_duration < min_duration:
        raise UsageError(
            f"max_duration {max_duration:g} s is shorter than the {min_duration:g} s minimum a clip needs: "
            "nothing could be analysed"
        )
    return float(max_duration)


# --- the decoder stream ------------------------------------------------------------------


class AudioStream:
    """An open audio file: header checked, samples delivered block by block.

    Use as a context manager; iterate :meth:`blocks` once, then call
    :meth:`finish` for the whole-file checks (length, silence) and the notes.

    Parameters
    ----------
    source : path, bytes or binary file object
    name : str, optional
        Label for messages (default: the file name).
    sample_rate : int
        Rate of the delivered blocks (resampled with soxr HQ, in a stream).
    max_duration : float or None
        Decode at most this many seconds (``None``: all); the rest is never read.
    min_duration : float
        :meth:`finish` rejects clips shorter than this.

    Raises
    ------
    AudioError
        When the file cannot be opened or its header is implausible.
    UsageError
        When ``max_duration`` is not positive or is below ``min_duration``.
    """

    def __init__(
        self,
        source: AudioSource,
        *,
        name: str | None = None,
        sample_rate: int = SAMPLE_RATE,
        max_duration: float | None = MAX_DURATION,
        min_duration: float = MIN_DURATION,
    ) -> None:
        self.max_duration = _check_limits(max_duration, min_duration)
        self.min_duration = float(min_duration)
        self.sample_rate = int(sample_rate)
        if name is None:
            raw = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "upload")
            name = Path(os.fsdecode(raw)).name if isinstance(raw, (str, bytes, os.PathLike)) else "upload"
        self.name = str(name)
        self._tmp: str | None = None
        self._snd = self._open(source)
        try:
            self.source_sample_rate = int(self._snd.samplerate)
            self.source_channels = int(self._snd.channels)
            frames = int(self._snd.frames)
            self._check_header()
        except BaseException:
            self.close()
            raise
        # libsndfile reports a huge or negative frame count for some streams; trust it only as a hint.
        self.declared_frames: int | None = frames if 0 < frames < (1 << 40) else None
        self.max_frames: int | None = (
            None if self.max_duration is None else int(round(self.max_duration * self.source_sample_rate))
        )
        self.decoded_frames = 0
        self.truncated = False
        self.decode_error: str | None = None
        self._peak = 0.0          # of the channels, before the down-mix
        self._mix_peak = 0.0      # of the mono down-mix
        self._channel_energy = 0.0
        self._mix_energy = 0.0
        self._clipped = 0
        self._consumed = False

    # opening ------------------------------------------------------------------------
    def _open(self, source: AudioSource) -> sf.SoundFile:
        name = self.name
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            try:
                info = os.stat(path)
            except FileNotFoundError:
                raise AudioError(f"{name}: no such file.") from None
            except (OSError, ValueError) as exc:  # a name longer than the file system allows, a NUL byte
                raise AudioError(f"{name}: cannot open the file ({getattr(exc, 'strerror', None) or exc}).") from None
            if stat.S_ISDIR(info.st_mode):
                raise AudioError(f"{name}: is a folder, not an audio file.")
            if stat.S_ISREG(info.st_mode) and info.st_size == 0:
                raise AudioError(f"{name}: the file is empty (0 bytes).")
        else:
            data = bytes(source) if isinstance(source, (bytes, bytearray)) else source.read()
            if not isinstance(data, bytes) or len(data) == 0:
                raise AudioError(f"{name}: the file is empty (0 bytes).")
            # Bytes go through a file named like the upload, so libsndfile sees
            # the same name hints as for a path and both give one verdict.
            suffix = Path(name).suffix.lower()
            suffix = suffix if suffix in SUPPORTED_EXTENSIONS else ""
            handle, self._tmp = tempfile.mkstemp(prefix="genre_lab_", suffix=suffix)
            with os.fdopen(handle, "wb") as tmp:
                tmp.write(data)
            path = self._tmp
        try:
            with quiet_stderr():
                return sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError, TypeError, EOFError) as exc:
            self.close()
            reason = _short_reason(exc)
            # libsndfile says "possibly a pipe" or "System error" when a file's
            # name promises a format (.mp3) its content does not have.
            if any(s in reason for s in ("not recognised", "possibly a pipe", "System error", "unknown format")):
                raise AudioError(
                    f"{name}: not a readable audio file: its content is not audio in any supported format "
                    f"({_supported()})."
                ) from None
            raise AudioError(f"{name}: not a readable audio file, the header is damaged ({reason}).") from None

    def _check_header(self) -> None:
        sr, channels = self.source_sample_rate, self.source_channels
        if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
            raise AudioError(
                f"{self.name}: sample rate {sr} Hz is outside the supported "
                f"{MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz range."
            )
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioError(f"{self.name}: {channels} channels is not a plausible audio file (max {MAX_CHANNELS}).")

    def close(self) -> None:
        """Close the decoder and remove the temporary copy of byte input."""
        snd = getattr(self, "_snd", None)
        if snd is not None and not snd.closed:
            snd.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # decoding -----------------------------------------------------------------------
    def _read(self, frames: int) -> np.ndarray | None:
        """Up to ``frames`` frames; after a decode error, what decoded before it (or None)."""
        out = np.empty((frames, self.source_channels), dtype=np.float32)
        try:
            with quiet_stderr():
                return self._snd.read(frames, dtype="float32", always_2d=True, out=out)
        except (sf.LibsndfileError, RuntimeError) as exc:
            # A damaged tail is common in downloads: keep what decoded, say so in the notes.
            self.decode_error = _short_reason(exc)
        # The decoder wrote the frames before the error into ``out``; its position says how many.
        try:
            got = min(max(int(self._snd.tell()) - self.decoded_frames, 0), frames)
        except (sf.LibsndfileError, RuntimeError, ValueError):
            got = 0
        if got == 0 and self.decoded_frames == 0:
            raise AudioError(f"{self.name}: the file is damaged: no audio could be decoded ({self.decode_error}).")
        return out[:got] if got else None

    def _inspect(self, data: np.ndarray) -> np.ndarray:
        """Check one block, update the statistics, return its mono down-mix."""
        if not np.isfinite(data).all():
            bad = int(np.argmax(~np.isfinite(data).all(axis=1)))
            at = (self.decoded_frames + bad) / self.source_sample_rate
            raise AudioError(f"{self.name}: the audio contains NaN or infinite sample values (first at {at:.2f} s).")
        magnitude = np.abs(data)
        peak = float(magnitude.max())
        if peak > MAX_FLOAT_PEAK:
            raise AudioError(
                f"{self.name}: sample values reach {peak:.3g} ({_dbfs(peak):+.0f} dBFS), far outside the ±1 range "
                "of audio; the file's scaling is wrong (integers stored as floats?)."
            )
        self._peak = max(self._peak, peak)
        if len(data) >= 3:
            at_rail = magnitude >= CLIP_LEVEL
            # Inner samples of runs of three or more: a pure tone touching full scale is not clipping.
            self._clipped += int((at_rail[1:-1] & at_rail[:-2] & at_rail[2:]).sum())
        mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
        if data.shape[1] > 1:
            wide = data.astype(np.float64)
            self._channel_energy += float(np.einsum("ij,ij->", wide, wide)) / data.shape[1]
            mix = mono.astype(np.float64)
            self._mix_energy += float(mix @ mix)
        self._mix_peak = max(self._mix_peak, float(np.abs(mono).max()))
        return mono

    def blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at :attr:`sample_rate`, in order (one pass only)."""
        if self._consumed:
            raise RuntimeError("AudioStream.blocks() can be iterated only once")
        self._consumed = True
        resampler = (
            None if self.source_sample_rate == self.sample_rate
            # soxr 'HQ' is what librosa.load(sr=...) uses by default; the stream
            # gives the same samples as one call on the whole signal.
            else soxr.ResampleStream(self.source_sample_rate, self.sample_rate, 1, dtype="float32", quality="HQ")
        )
        limit = self.max_frames
        while (limit is None or self.decoded_frames < limit) and self.decode_error is None:
            want = BLOCK_FRAMES if limit is None else min(BLOCK_FRAMES, limit - self.decoded_frames)
            data = self._read(want)
            if data is None or data.shape[0] == 0:
                break
            mono = self._inspect(data)
            self.decoded_frames += data.shape[0]
            out = mono if resampler is None else resampler.resample_chunk(mono)
            if out.size:
                yield np.ascontiguousarray(out, dtype=np.float32)
        if limit is not None and self.decoded_frames >= limit and self.decode_error is None:
            probe = self._read(1)
            self.truncated = probe is not None and probe.shape[0] > 0
            self.decode_error = None  # an error past the limit does not concern what was analysed
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if tail.size:
                yield np.ascontiguousarray(tail, dtype=np.float32)

    # after decoding ------------------------------------------------------------------
    @property
    def decoded_seconds(self) -> float:
        """Seconds decoded so far (at the source rate, before resampling)."""
        return self.decoded_frames / self.source_sample_rate

    @property
    def source_duration(self) -> float:
        """Duration the header declares, or what was decoded when it declares nothing useful."""
        if self.declared_frames is not None and not self.decode_error:
            return max(self.declared_frames, self.decoded_frames) / self.source_sample_rate
        return self.decoded_seconds

    def finish(self) -> tuple[str, ...]:
        """Whole-file checks after :meth:`blocks` is exhausted; returns the notes.

        Raises
        ------
        AudioError
            No samples, shorter than ``min_duration``, silent, or channels
            that cancel each other out in the down-mix.
        """
        name, sr = self.name, self.source_sample_rate
        if self.decoded_frames == 0:
            raise AudioError(f"{name}: the file contains no audio samples.")
        seconds = self.decoded_seconds
        if seconds < self.min_duration:
            raise AudioError(
                f"{name}: the clip is {format_seconds(seconds, self.min_duration)} s long "
                f"({self.decoded_frames} samples at {sr} Hz); at least {self.min_duration:g} s is needed."
            )
        channels_cancel = (self.source_channels > 1 and self._channel_energy > 0
                           and self._mix_energy < CANCEL_ERROR_RATIO * self._channel_energy)
        if self._mix_peak < SILENCE_PEAK or channels_cancel:
            if self._peak >= SILENCE_PEAK:
                ratio = self._mix_energy / self._channel_energy if self._channel_energy > 0 else 0.0
                below = f"{-10 * math.log10(ratio):.0f} dB below them" if ratio > 0 else "zero"
                raise AudioError(
                    f"{name}: the {self.source_channels} channels cancel out when mixed down to mono "
                    f"(one is the other inverted?): the channels peak at {_dbfs(self._peak):.0f} dBFS but "
                    f"their mono mix is {below}."
                )
            raise AudioError(f"{name}: the clip is silent (peak below -100 dBFS).")
        return self._notes()

    def _notes(self) -> tuple[str, ...]:
        notes: list[str] = []
        sr, seconds = self.source_sample_rate, self.decoded_seconds
        if self.truncated:
            whole = (f" of {self.declared_frames / sr:.0f} s" if self.declared_frames else "; the file is longer")
            notes.append(f"Only the first {self.max_duration:g} s{whole} were analysed (max_duration).")
        elif self.decode_error is not None:
            declared = f" of {self.declared_frames / sr:.1f} s" if self.declared_frames else ""
            notes.append(f"The file is damaged after {seconds:.1f} s{declared}: decoding stopped there "
                         f"({self.decode_error}); only the first {seconds:.1f} s were analysed.")
        elif self.declared_frames is not None and (
            self.declared_frames - self.decoded_frames > max(0.5 * sr, 0.02 * self.declared_frames)
        ):
            # For an mp3 without a length header the "declared" length is the decoder's
            # estimate from the file size, hence "may be".
            notes.append(f"The file's length information suggests {self.declared_frames / sr:.1f} s but the audio "
                         f"ends after {seconds:.1f} s: the file may be truncated; only {seconds:.1f} s were analysed.")
        if self._peak > LOSSY_OVERSHOOT_PEAK:
            notes.append(f"Samples reach ±{self._peak:.3g} ({_dbfs(self._peak):+.1f} dBFS), beyond full scale: "
                         "the levels are out of the usual range and predictions may be off.")
        elif self._peak > 1.0 + 1e-6:
            notes.append(f"Samples reach ±{self._peak:.3g} ({_dbfs(self._peak):+.1f} dBFS), slightly beyond full "
                         "scale, as decoded MP3 and Ogg files often do; harmless for the analysis.")
        total = self.decoded_frames * self.source_channels
        if total and self._clipped / total >= CLIP_NOTE_FRACTION:
            notes.append(f"About {100.0 * self._clipped / total:.2g} % of the samples sit at full scale: "
                         "the recording is clipped.")
        channels = self.source_channels
        if channels > 1 and self._channel_energy > 0:
            ratio = self._mix_energy / self._channel_energy
            if ratio < CANCEL_RATIO / channels:
                notes.append(f"Down-mixing {channels} channels to mono cancelled most of the signal (the mix is "
                             f"{-10 * math.log10(max(ratio, 1e-12)):.0f} dB below the channels): they are out "
                             "of phase.")
        return tuple(notes)


# --- whole clips ---------------------------------------------------------------------------


def load_audio(
    source: AudioSource,
    *,
    name: str | None = None,
    sample_rate: int = SAMPLE_RATE,
    max_duration: float | None = MAX_DURATION,
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
    max_duration : float or None
        Decode at most this many seconds (``None``: the whole file); the rest
        of the file is never read, and ``notes`` says so.
    min_duration : float
        Reject clips shorter than this many seconds.

    Returns
    -------
    AudioClip

    Raises
    ------
    AudioError
        With a message naming the file and the problem.
    UsageError
        If ``max_duration`` is not positive or shorter than ``min_duration``.
    """
    with AudioStream(source, name=name, sample_rate=sample_rate, max_duration=max_duration,
                     min_duration=min_duration) as stream:
        parts = list(stream.blocks())
        notes = stream.finish()
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return AudioClip(
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sample_rate=stream.sample_rate,
        name=stream.name,
        source_duration=float(stream.source_duration),
        truncated=bool(stream.truncated),
        source_sample_rate=stream.source_sample_rate,
        source_channels=stream.source_channels,
        notes=notes,
    )


def write_wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Encode a mono float signal as 16-bit PCM WAV bytes (for players and downloads)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
