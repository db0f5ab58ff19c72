"""Tests for the synthetic style corpus and the teaching sounds."""

from __future__ import annotations

import subprocess
import sys

import librosa
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genre_core.audio import load_audio, write_wav_bytes
from genre_core.config import PROJECT_ROOT
from genre_core.synth import (
    STYLES,
    SynthTrack,
    plan_clip,
    render_track,
    synth_clip,
    synth_tracks,
    write_corpus,
)
from genre_core.teaching_sounds import TEACHING_SOUNDS, example_clips, teaching_sound

SR = 22050


# --------------------------------------------------------------------------
# synth_clip: basic contract
# --------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_clip_dtype_shape_finite_and_peak(style):
    y = synth_clip(style, seed=1, duration=3.0)
    assert y.dtype == np.float32
    assert y.shape == (3 * SR,)
    assert np.all(np.isfinite(y))
    assert 0.1 < np.max(np.abs(y)) <= 1.0


def test_clip_is_deterministic_per_seed_and_style():
    a = synth_clip("breakbeat", seed=4, duration=2.0)
    assert np.array_equal(a, synth_clip("breakbeat", seed=4, duration=2.0))
    assert not np.allclose(a, synth_clip("breakbeat", seed=5, duration=2.0))
    assert not np.allclose(a, synth_clip("swing", seed=4, duration=2.0))


def test_clip_honours_duration_and_sample_rate():
    y = synth_clip("waltz", seed=0, duration=2.5, sample_rate=16000)
    assert y.shape == (40000,)
    assert np.all(np.isfinite(y))


def test_unknown_style_lists_valid_ones():
    with pytest.raises(ValueError, match="four-on-the-floor") as info:
        synth_clip("disco", seed=0)
    assert all(style in str(info.value) for style in STYLES)


@pytest.mark.parametrize("kwargs", [
    {"seed": -1}, {"seed": 1.5}, {"seed": 0, "duration": 0.0},
    {"seed": 0, "duration": float("nan")}, {"seed": 0, "sample_rate": 100},
])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        synth_clip("swing", **kwargs)


def test_plans_borrow_from_neighbours_sometimes_but_not_mostly():
    plans = [plan_clip("four-on-the-floor", seed) for seed in range(200)]
    borrowing = sum(bool(p.borrowed) for p in plans) / len(plans)
    assert 0.2 < borrowing < 0.8
    own_tempo = sum(118 <= p.tempo <= 132 for p in plans) / len(plans)
    assert 0.8 < own_tempo < 1.0


# --------------------------------------------------------------------------
# Styles differ in measurable musical ways
# --------------------------------------------------------------------------


def test_four_on_the_floor_tempo_is_estimated_in_its_range():
    tempos = []
    for seed in range(5):
        y = synth_clip("four-on-the-floor", seed=seed, duration=8.0)
        envelope = librosa.onset.onset_strength(y=y, sr=SR)
        tempos.append(float(librosa.feature.tempo(onset_envelope=envelope, sr=SR)[0]))
    in_range = [113 <= t <= 137 for t in tempos]  # 118-132 BPM plus the estimator's bin width
    assert sum(in_range) >= 4, tempos


def _low_percussive_fraction(y: np.ndarray) -> float:
    """Share of the clip's energy that is percussive and below 150 Hz (kick drums)."""
    power = np.abs(librosa.stft(y, n_fft=2048)) ** 2
    _, percussive = librosa.decompose.hpss(power, margin=2.0)
    low = librosa.fft_frequencies(sr=SR, n_fft=2048) < 150.0
    return float(percussive[low].sum() / power.sum())


def test_drumless_styles_have_little_low_percussive_energy():
    median = {style: np.median([_low_percussive_fraction(synth_clip(style, seed, duration=5.0))
                                for seed in range(5)])
              for style in ("breakbeat", "waltz", "ambient-drone")}
    assert median["waltz"] < 0.2 * median["breakbeat"], median
    assert median["ambient-drone"] < 0.2 * median["breakbeat"], median


def _mfcc_summary(y: np.ndarray) -> np.ndarray:
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)])


@pytest.mark.slow  # trains a model
def test_styles_are_separable_but_not_trivially():
    n_per_style = 12
    features, labels, seeds = [], [], []
    for label, style in enumerate(STYLES):
        for seed in range(n_per_style):
            features.append(_mfcc_summary(synth_clip(style, seed, duration=5.0)))
            labels.append(label)
            seeds.append(seed)
    features, labels, seeds = np.asarray(features), np.asarray(labels), np.asarray(seeds)
    train = seeds % 2 == 0
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features[train], labels[train])
    accuracy = model.score(features[~train], labels[~train])
    assert accuracy > 2.0 / len(STYLES), accuracy
    # The styles overlap on purpose: a summary-statistics model must not be perfect.
    assert accuracy < 1.0, accuracy


# --------------------------------------------------------------------------
# Track tables and corpora on disk
# --------------------------------------------------------------------------


def test_synth_tracks_is_stratified_and_deterministic():
    table = synth_tracks(25, seed=3)
    assert list(table.columns) == ["track_id", "path", "label", "seed", "split"]
    assert len(table) == 25 * len(STYLES)
    assert table["track_id"].is_unique and table["path"].isna().all()
    counts = table.groupby(["label", "split"]).size().unstack()
    assert set(counts.columns) == {"train", "valid", "test"}
    for style in STYLES:  # ~64/16/20 in every style
        assert counts.loc[style, "test"] == 5
        assert counts.loc[style, "valid"] == 4
        assert counts.loc[style, "train"] == 16
    pd.testing.assert_frame_equal(table, synth_tracks(25, seed=3))
    by_split = [set(table.loc[table["split"] == s, "track_id"]) for s in ("train", "valid", "test")]
    assert sum(map(len, by_split)) == len(set().union(*by_split)) == len(table)


def test_synth_tracks_seed_changes_the_corpus():
    a, b = synth_tracks(10, seed=0), synth_tracks(10, seed=1)
    assert not set(a["seed"]) & set(b["seed"])
    assert not a["split"].equals(b["split"]) or not a["seed"].equals(b["seed"])
    subset = synth_tracks(4, seed=0, styles=["waltz", "swing"])
    assert list(subset["label"].unique()) == ["waltz", "swing"]
    with pytest.raises(ValueError, match="valid styles"):
        synth_tracks(4, styles=["polka"])
    with pytest.raises(ValueError):
        synth_tracks(0)


def test_render_track_accepts_rows_mappings_and_dataclasses():
    row = synth_tracks(3, seed=2, styles=["half-time"]).iloc[1]
    expected = synth_clip("half-time", int(row["seed"]), duration=1.0)
    assert np.array_equal(render_track(row, duration=1.0), expected)
    assert np.array_equal(render_track(dict(row), duration=1.0), expected)
    track = SynthTrack(row["track_id"], row["label"], int(row["seed"]))
    assert np.array_equal(render_track(track, duration=1.0), expected)
    with pytest.raises(ValueError, match="label"):
        render_track({"seed": 1})


def test_write_corpus_writes_wavs_that_load_audio_reads(tmp_path):
    table = write_corpus(tmp_path, n_per_style=1, duration=3.5, seed=0)
    assert len(table) == len(STYLES)
    for row in table.itertuples():
        assert row.path == str(tmp_path.resolve() / row.label / f"{row.track_id}.wav")
        clip = load_audio(row.path)
        assert clip.sample_rate == SR
        assert abs(clip.duration - 3.5) < 1e-3
        expected = render_track(row._asdict(), duration=3.5)
        assert np.max(np.abs(clip.samples - expected)) < 1e-3  # PCM_16 rounding only


def test_command_line_writes_a_corpus(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "genre_core.synth", str(tmp_path), "--per-style", "1",
         "--duration", "3", "--seed", "2", "--styles", "waltz", "swing"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.parent.name for p in tmp_path.rglob("*.wav")) == ["swing", "waltz"]


# --------------------------------------------------------------------------
# Teaching sounds and example songs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEACHING_SOUNDS)
def test_teaching_sounds_are_valid_and_deterministic(name):
    y = teaching_sound(name)
    assert y.dtype == np.float32 and y.shape == (4 * SR,)
    assert np.all(np.isfinite(y)) and 0.1 < np.max(np.abs(y)) <= 1.0
    assert np.array_equal(y, teaching_sound(name))
    assert load_audio(write_wav_bytes(y, SR)).duration == pytest.approx(4.0, abs=1e-3)


def _centroid(y: np.ndarray) -> float:
    return float(np.median(librosa.feature.spectral_centroid(y=y, sr=SR)))


def test_kick_is_low_and_whistle_is_high():
    kick, whistle = _centroid(teaching_sound("kick drum")), _centroid(teaching_sound("whistle"))
    assert kick < 500 and whistle > 1500
    assert whistle > 5 * kick
    mixed = teaching_sound("kick vs whistle")
    half = len(mixed) // 2
    assert _centroid(mixed[half + SR // 10:]) > 5 * _centroid(mixed[: half - SR // 10])


def test_sine_sweep_rises():
    power = np.abs(librosa.stft(teaching_sound("sine sweep"), n_fft=2048))
    dominant = librosa.fft_frequencies(sr=SR, n_fft=2048)[power.argmax(axis=0)][2:-2]
    assert dominant[0] < 100 and dominant[-1] > 5000
    assert np.mean(np.diff(dominant) >= 0) > 0.95


def test_chord_is_c_major():
    chroma = librosa.feature.chroma_stft(y=teaching_sound("chord"), sr=SR).mean(axis=1)
    top3 = set(np.argsort(chroma)[-3:])
    assert top3 == {0, 4, 7}  # C, E, G


def test_unknown_teaching_sound_raises():
    with pytest.raises(ValueError, match="kick drum"):
        teaching_sound("cowbell")
    with pytest.raises(ValueError):
        teaching_sound("chord", duration=-1.0)


def test_example_clips_one_per_style():
    clips = example_clips()
    assert list(clips) == list(STYLES)
    for clip in clips.values():
        assert clip.dtype == np.float32 and clip.shape == (30 * SR,)
    clips["swing"][:] = 0.0  # callers get copies
    assert np.max(np.abs(example_clips()["swing"])) > 0.1
