"""Rolling buffer of the Live page: frame conversion, ring semantics, update timing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from genre_core.live import RollingAudioBuffer, frame_to_mono


def _interleaved_int16(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """A packed s16 stereo frame as av.AudioFrame.to_ndarray() returns it: (1, 2n)."""
    stereo = np.stack([left, right], axis=1)
    return (np.clip(stereo, -1, 1 - 2**-15) * 32768).astype(np.int16).reshape(1, -1)


def _fake_frame(data: np.ndarray, rate: int, channels: int, planar: bool) -> SimpleNamespace:
    return SimpleNamespace(
        to_ndarray=lambda: data,
        sample_rate=rate,
        layout=SimpleNamespace(channels=[object()] * channels),
        format=SimpleNamespace(is_planar=planar),
    )


def test_frame_to_mono_interleaved_int16_averages_channels():
    left = np.array([0.5, -0.5, 0.25], dtype=np.float32)
    right = np.array([0.0, -0.5, 0.75], dtype=np.float32)
    mono = frame_to_mono(_interleaved_int16(left, right), channels=2, planar=False)
    assert mono.dtype == np.float32
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-4)


def test_frame_to_mono_planar_float():
    planar = np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32)
    np.testing.assert_allclose(frame_to_mono(planar, channels=2, planar=True), [0.2, 0.3], atol=1e-7)


def test_frame_to_mono_rejects_ragged_interleaving():
    with pytest.raises(ValueError):
        frame_to_mono(np.zeros((1, 5), dtype=np.int16), channels=2, planar=False)


def test_buffer_keeps_only_last_seconds_in_order():
    buf = RollingAudioBuffer(seconds=1.0, sample_rate=100, update_interval=1.0, min_seconds=0.5)
    ramp = np.arange(250, dtype=np.float32) / 1000.0
    for chunk in np.split(ramp, [30, 100, 170, 240]):
        buf.push(chunk, sample_rate=100)
    assert buf.filled_seconds == pytest.approx(1.0)
    assert buf.total_seconds == pytest.approx(2.5)
    np.testing.assert_allclose(buf.snapshot(), ramp[-100:])


def test_buffer_partial_fill_and_oversized_push():
    buf = RollingAudioBuffer(seconds=1.0, sample_rate=100)
    buf.push(np.ones(40, dtype=np.float32), sample_rate=100)
    assert buf.snapshot().shape == (40,)
    big = np.linspace(-1, 1, 330, dtype=np.float32)
    buf.push(big, sample_rate=100)
    np.testing.assert_allclose(buf.snapshot(), big[-100:])
    buf.clear()
    assert buf.snapshot().size == 0


def test_48k_stereo_int16_frames_become_22050_mono():
    rate, hz = 48000, 440.0
    buf = RollingAudioBuffer(seconds=2.0, sample_rate=22050)
    t = np.arange(rate) / rate
    tone = 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    frame_len = 960  # 20 ms, as WebRTC sends
    for start in range(0, rate, frame_len):
        piece = tone[start:start + frame_len]
        # left carries the tone, right is silent: the mono mix has half the amplitude
        buf.push_frame(_fake_frame(_interleaved_int16(piece, np.zeros_like(piece)), rate, 2, planar=False))
    y = buf.snapshot()
    # the streaming resampler holds back its filter delay (~30 ms), never adds samples
    assert 0.95 * 22050 < y.size <= 22050
    spectrum = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(y.size - 4000)))
    peak_hz = np.argmax(spectrum) * 22050 / (y.size - 4000)
    assert abs(peak_hz - hz) < 5
    assert 0.2 < np.max(np.abs(y[2000:-2000])) < 0.3


def test_updates_fire_at_interval_once_enough_audio():
    buf = RollingAudioBuffer(seconds=5.0, sample_rate=1000, update_interval=2.0, min_seconds=1.0)
    fired = []
    for step in range(60):  # 6 s of 100 ms frames
        now = step * 0.1
        buf.push(np.full(100, 0.1, dtype=np.float32), sample_rate=1000)
        if buf.ready_for_update(now):
            buf.snapshot(now=now)
            fired.append(round(now, 1))
    # first once 1 s is buffered (after the 10th frame, at t=0.9), then every 2 s
    assert fired == [0.9, 2.9, 4.9]


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RollingAudioBuffer(seconds=0)
    buf = RollingAudioBuffer()
    with pytest.raises(ValueError):
        buf.push(np.zeros(10), sample_rate=0)


def test_live_bars_show_top_genre_tags_for_a_tagger():
    from genre_core.app.tagger_views import live_bars
    from genre_core.config import GTZAN_GENRES
    from genre_core.tags import MSD_TAGS

    def tagger(probs):
        p = np.zeros(len(MSD_TAGS))
        for tag, value in probs.items():
            p[MSD_TAGS.index(tag)] = value
        return SimpleNamespace(model="msd_musicnn", labels=MSD_TAGS, probabilities=p, multi_label=True)

    genre = np.full(len(GTZAN_GENRES), 0.02)
    genre[GTZAN_GENRES.index("jazz")] = 0.82

    labels, probs, caption = live_bars(tagger({"rock": 0.9, "80s": 0.95, "pop": 0.5}), top=3)
    assert labels[:2] == ["rock", "pop"] and "80s" not in labels and len(labels) == 3
    assert "independent" in caption
    classifier = SimpleNamespace(model="svm", labels=GTZAN_GENRES, probabilities=genre, multi_label=False)
    labels, probs, caption = live_bars(classifier)
    assert labels == list(GTZAN_GENRES) and caption.startswith("1. jazz")
