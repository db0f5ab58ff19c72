"""GTZAN-57 parity with the published table, fast-vs-naive equality, representations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genre_core import features as F
from genre_core.audio import load_audio

from ._shared_data import GTZAN_AUDIO, GTZAN_CLIPS, GTZAN_CSV, require


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(require(GTZAN_CSV))


def _music_like(seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    """Decaying harmonic notes over noise bursts: enough structure for tempo and HPSS."""
    sr = F.SAMPLE_RATE
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = np.zeros_like(t)
    for start in np.arange(0, seconds, 0.5):
        env = np.exp(-(t - start) * 6) * (t >= start)
        freq = rng.choice([220.0, 277.2, 329.6, 440.0])
        y += env * sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
        y += env * rng.normal(0, 0.3, t.size) * np.exp(-(t - start) * 30)
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def test_feature_names_match_csv_header(table: pd.DataFrame) -> None:
    assert list(table.columns[2:-1]) == list(F.FEATURE_NAMES_GTZAN57)
    assert len(F.FEATURE_NAMES_GTZAN57) == 57


@pytest.mark.parametrize("genre", GTZAN_CLIPS)
def test_parity_with_gtzan_table(table: pd.DataFrame, genre: str) -> None:
    """Every feature within 1 % relative, or 2.5 % of the column's std (means near 0)."""
    clip = load_audio(require(GTZAN_AUDIO / f"{genre}.00000.wav"))
    ours = F.gtzan57(clip.samples, clip.sample_rate)
    columns = list(F.FEATURE_NAMES_GTZAN57)
    row = table.loc[table.filename == f"{genre}.00000.au", columns].to_numpy()[0]
    std = table[columns].std().to_numpy()
    relative = np.abs(ours - row) / np.abs(row)
    scaled = np.abs(ours - row) / std
    bad = [
        f"{name}: ours {o:.6g} table {r:.6g}"
        for name, o, r, ok in zip(columns, ours, row, (relative <= 0.01) | (scaled <= 0.025))
        if not ok
    ]
    assert not bad, "features off the published table:\n" + "\n".join(bad)


def _assert_fast_equals_naive(y: np.ndarray) -> None:
    fast = F.gtzan57(y)
    naive = F.gtzan57_naive(y)
    tempo = F.FEATURE_NAMES_GTZAN57.index("tempo")
    # exact: tempo is the BPM of the tempogram's best bin, not a rounded sum; the bin wins by far more
    # than rounding could move it, and a neighbouring bin is whole BPM away
    assert fast[tempo] == naive[tempo]
    np.testing.assert_allclose(fast, naive, rtol=1e-4, atol=0)


def test_fast_path_equals_naive_on_real_clip() -> None:
    _assert_fast_equals_naive(load_audio(require(GTZAN_AUDIO / "disco.00000.wav")).samples)


def test_fast_path_equals_naive_on_generated_signal() -> None:
    _assert_fast_equals_naive(_music_like(12.0))


def test_single_window_equals_whole_clip() -> None:
    y = _music_like(10.0, seed=1)
    windows, matrix = F.gtzan57_windows(y, window_seconds=30, hop_seconds=15)
    assert windows == [(0.0, len(y) / F.SAMPLE_RATE)]
    # exact: gtzan57 is gtzan57_windows with one window over the whole clip: same ops, same order, same input
    np.testing.assert_array_equal(matrix[0], F.gtzan57(y))


def test_windows_of_a_long_track_track_their_content() -> None:
    """A window's features come from its own frames: a quiet half gives lower rms."""
    loud = _music_like(20.0, seed=2)
    y = np.concatenate([loud, 0.05 * loud, 0.05 * loud])
    windows, matrix = F.gtzan57_windows(y, window_seconds=20, hop_seconds=20)
    assert [round(s) for s, _ in windows] == [0, 20, 40]
    rms = F.FEATURE_NAMES_GTZAN57.index("rms_mean")
    assert matrix[0, rms] > 10 * matrix[2, rms]
    middle = F.gtzan57(y[20 * F.SAMPLE_RATE : 40 * F.SAMPLE_RATE])
    # The middle window equals a standalone analysis up to edge frames and the
    # track-wide tuning estimate.
    np.testing.assert_allclose(matrix[1, rms], middle[rms], rtol=0.02)


def test_feature_vector_by_name() -> None:
    named = F.feature_vector(_music_like(5.0))
    assert list(named) == list(F.FEATURE_NAMES_GTZAN57)
    assert all(np.isfinite(v) for v in named.values())
    with pytest.raises(ValueError, match="unknown feature set"):
        F.feature_vector(_music_like(5.0), feature_set="nope")


def test_rejects_bad_signals() -> None:
    with pytest.raises(ValueError, match="NaN"):
        F.gtzan57(np.full(F.SAMPLE_RATE, np.nan, np.float32))
    with pytest.raises(ValueError, match="shorter than one"):
        F.gtzan57(np.ones(100, np.float32))
    with pytest.raises(ValueError, match="mono"):
        F.gtzan57(np.ones((2, 5000), np.float32))


def test_hpss_matches_librosa() -> None:
    import librosa

    D = librosa.stft(_music_like(6.0))
    ours_h, ours_p = F.hpss(D)
    ref_h, ref_p = librosa.decompose.hpss(D)
    np.testing.assert_allclose(ours_h, ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_p, ref_p, rtol=1e-5, atol=1e-6)


def test_harmonic_and_percussive_signals_match_librosa() -> None:
    """The fast path's HPSS signals (percussive = y - harmonic) equal librosa.effects.hpss to float rounding."""
    from concurrent.futures import ThreadPoolExecutor

    import librosa

    y = _music_like(6.0)
    D = librosa.stft(y, n_fft=F.N_FFT, hop_length=F.HOP_LENGTH)
    with ThreadPoolExecutor(2) as pool:
        harmonic, percussive = F._harmonic_percussive_signals(y, D, np.abs(D), pool)
    ref_h, ref_p = librosa.effects.hpss(y)
    np.testing.assert_allclose(harmonic, ref_h, rtol=0, atol=1e-6)
    np.testing.assert_allclose(percussive, ref_p, rtol=0, atol=1e-6)
    assert np.abs(percussive).max() > 1e-2  # a real percussive part, not a trivially small one


def test_spectral_representations_shapes() -> None:
    y = _music_like(3.0)
    frames = 1 + len(y) // 512
    assert F.stft_db(y).shape == (1025, frames)
    assert F.stft_db(y, n_fft=512, hop_length=256).shape == (257, 1 + len(y) // 256)
    assert F.mel_spectrogram(y).shape == (128, frames)
    assert F.mel_spectrogram(y, n_mels=40, fmax=4000).shape == (40, frames)
    assert F.mfcc(y, n_mfcc=13).shape == (13, frames)
    assert F.chroma(y).shape == (12, frames)
    bank = F.mel_filterbank(n_mels=40, fmax=4000)
    assert bank.shape == (40, 1025)
    freqs = np.fft.rfftfreq(2048, 1 / F.SAMPLE_RATE)
    assert freqs[bank.sum(axis=0) > 0].max() <= 4000 + 11


def test_mel_image_for_mobilenet() -> None:
    image = F.mel_image(_music_like(3.0))
    assert image.shape == (224, 224, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.9
    np.testing.assert_array_equal(image[..., 0], image[..., 2])  # exact: channels are copies (np.repeat)


@pytest.mark.parametrize("kind", F.DEEP_INPUT_KINDS)
def test_deep_inputs_have_declared_shapes(kind: str) -> None:
    y = _music_like(3.0)
    x = F.deep_input(kind, y)
    assert x.shape == F.deep_input_shape(kind, 3.0)
    assert x.dtype == np.float32 and np.all(np.isfinite(x))
    if kind == "mfcc":
        assert np.max(np.abs(x)) == pytest.approx(1.0)
    if kind in ("mel", "mel_image"):
        assert x.min() >= 0.0 and x.max() <= 1.0


def test_deep_input_is_gain_invariant() -> None:
    y = _music_like(3.0)
    np.testing.assert_allclose(F.deep_input("mel", y), F.deep_input("mel", 0.1 * y), atol=1e-4)
    with pytest.raises(ValueError, match="unknown deep input kind"):
        F.deep_input("spectrum", y)
