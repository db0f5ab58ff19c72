"""Audio loading: formats, resampling, bounded decoding and every bad-input case."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from genre_core.audio import AudioError, load_audio, write_wav_bytes
from genre_core.config import SAMPLE_RATE
from genre_core.windows import frame_windows, split_windows

from ._shared_data import FMA_SMALL, GTZAN_AUDIO, require


def _tone(seconds: float, sr: int = SAMPLE_RATE, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    mono = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return mono if channels == 1 else np.tile(mono[:, None], (1, channels))


def _encode(data: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype"),
    [("WAV", "PCM_16"), ("FLAC", None), ("OGG", "VORBIS"), ("AU", "PCM_16"), ("MP3", "MPEG_LAYER_III")],
)
def test_formats_decode_to_mono_22050(fmt: str, subtype: str | None) -> None:
    clip = load_audio(_encode(_tone(4.0, 44100, channels=2), 44100, fmt, subtype), name=f"x.{fmt.lower()}")
    assert clip.sample_rate == SAMPLE_RATE
    assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    # mp3/ogg encoders add priming samples, so allow a few hundred ms of slack
    assert abs(clip.duration - 4.0) < 0.2
    assert clip.source_sample_rate == 44100 and clip.source_channels == 2
    spectrum = np.abs(np.fft.rfft(clip.samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(clip.samples)
    assert abs(peak_hz - 440.0) < 5.0


def test_load_from_path_and_file_object(tmp_path) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(3.5), SAMPLE_RATE)
    from_path = load_audio(path)
    with open(path, "rb") as handle:
        from_handle = load_audio(handle, name="tone.wav")
    assert from_path.name == "tone.wav"
    # exact: the handle's bytes are decoded from a temporary file by the same decoder
    np.testing.assert_array_equal(from_path.samples, from_handle.samples)


def test_real_gtzan_clip_matches_file() -> None:
    path = require(GTZAN_AUDIO / "blues.00000.wav")
    clip = load_audio(path)
    raw, sr = sf.read(path, dtype="float32")
    assert sr == SAMPLE_RATE
    np.testing.assert_array_equal(clip.samples, raw)  # exact: mono at 22050 Hz, no resampling or mixing


def test_real_fma_mp3_stereo_44k() -> None:
    clip = load_audio(require(FMA_SMALL / "000" / "000002.mp3"))
    assert clip.source_sample_rate == 44100 and clip.source_channels == 2
    assert 29.0 < clip.duration < 31.0
    assert clip.sample_rate == SAMPLE_RATE


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a song\n" * 50, "not a readable audio file: its content is not audio"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a readable audio file, the header is damaged"),
    ],
)
def test_rejects_empty_and_non_audio(payload: bytes, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        load_audio(payload, name="bad.wav")


def test_missing_and_empty_file(tmp_path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.mp3: the file is empty"):
        load_audio(empty)


def test_truncated_real_mp3() -> None:
    data = require(FMA_SMALL / "000" / "000002.mp3").read_bytes()
    with pytest.raises(AudioError, match="truncated|corrupt|not a readable|long"):
        load_audio(data[:2048], name="cut.mp3")


def test_truncated_mp3_keeps_decodable_part() -> None:
    data = require(FMA_SMALL / "000" / "000010.mp3").read_bytes()
    clip = load_audio(data[: len(data) // 2], name="half.mp3")
    assert 10.0 < clip.duration < 20.0


def test_nan_float_wav() -> None:
    data = _tone(4.0)
    data[1000:1010] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        load_audio(_encode(data, SAMPLE_RATE, "WAV", "FLOAT"), name="nan.wav")


def test_silence() -> None:
    with pytest.raises(AudioError, match="silent"):
        load_audio(_encode(np.zeros(SAMPLE_RATE * 4, np.float32), SAMPLE_RATE, "WAV"), name="quiet.wav")


def test_too_short() -> None:
    with pytest.raises(AudioError, match=r"0\.01 s long \(220 samples at 22050 Hz\); at least 3 s"):
        load_audio(_encode(_tone(0.01), SAMPLE_RATE, "WAV"), name="blip.wav")


def test_absurd_sample_rate() -> None:
    with pytest.raises(AudioError, match="sample rate 1000 Hz"):
        load_audio(_encode(_tone(5.0, 1000), 1000, "WAV"), name="slow.wav")


def test_eight_channels_96k_is_downmixed() -> None:
    clip = load_audio(_encode(_tone(3.5, 96000, channels=8), 96000, "WAV", "PCM_24"), name="surround.wav")
    assert clip.source_channels == 8 and clip.source_sample_rate == 96000
    assert clip.sample_rate == SAMPLE_RATE
    assert abs(clip.duration - 3.5) < 0.01
    assert np.isclose(np.max(np.abs(clip.samples)), 0.3, atol=0.02)


def test_long_file_is_decoded_only_up_to_limit(tmp_path) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, _tone(40.0, 8000), 8000)
    clip = load_audio(path, max_duration=12.0)
    assert clip.truncated
    assert clip.duration == pytest.approx(12.0, abs=1e-3)
    assert clip.source_duration == pytest.approx(40.0, abs=1e-3)
    assert "first 12 s of 40 s" in clip.notes[0]
    whole = load_audio(path)
    assert not whole.truncated and not whole.notes


def test_frame_windows_cover_signal() -> None:
    sr = 100
    assert frame_windows(25 * sr, sr, 30, 15) == [(0, 2500)]
    # GTZAN's 30.6 s clips are one window, not two nearly identical ones
    assert frame_windows(3060, sr, 30, 15) == [(0, 3060)]
    windows = frame_windows(70 * sr, sr, 30, 15)
    assert windows == [(0, 3000), (1500, 4500), (3000, 6000), (4000, 7000)]
    assert windows[-1][1] == 70 * sr
    parts = split_windows(np.arange(70 * sr), sr, 30, 15)
    assert [len(p) for p in parts] == [3000] * 4
    with pytest.raises(ValueError):
        frame_windows(100, sr, 0, 1)


def test_wav_bytes_round_trip() -> None:
    tone = _tone(3.2)
    clip = load_audio(write_wav_bytes(tone), name="rt.wav")
    np.testing.assert_allclose(clip.samples, tone, atol=1e-4)
