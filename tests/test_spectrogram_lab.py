"""The Spectrogram lab as a teaching tool (issue 9, item 4).

AppTest drives the page through ``app.py``: time axes read song time when the
excerpt moves, every frequency axis is ticked in Hz (mel bands at their centre
frequencies, log ticks ``100 Hz, 1 kHz``), MFCCs are scaled per coefficient with
a sentence on why, both spectrograms use one stated dB convention, and the
playhead component is mounted over the player and the time-axis charts.
The helpers in ``genre_core.app.spectro_views`` are tested directly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from genre_core import plots
from genre_core.app import spectro_views as sv
from genre_core.config import PROJECT_ROOT, SAMPLE_RATE
from genre_core.session import example_clip, excerpt
from tests._figures import figures_by_key as _figures
from tests._figures import plotly_array as _array

APP = str(PROJECT_ROOT / "app.py")
LAB = "pages/spectrogram_lab.py"
TIME_CHARTS = ("lab_stft", "lab_mel", "lab_mfcc")


@pytest.fixture(scope="module")
def swing():
    return example_clip("Example song: swing")  # 30 s


def _lab(clip=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if clip is not None:
        at.session_state["clip"] = clip
    at.switch_page(LAB).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning")
    return " ".join(str(e.value) for kind in kinds for e in at.get(kind))


def _move_excerpt(at: AppTest, start: float) -> AppTest:
    slider = next(s for s in at.get("slider") if s.key.startswith("lab_start_"))
    slider.set_value(start).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- the page ------------------------------------------------------------------------------------


def test_time_axes_follow_the_excerpt_into_song_time(swing):
    at = _move_excerpt(_lab(swing), 15.0)
    figures = _figures(at)
    for key in TIME_CHARTS:
        x = _array(figures[key]["data"][0]["x"])
        assert 14.9 <= x.min() < 15.2 and 24.5 < x.max() <= 25.1, (key, x.min(), x.max())
    shaded = [s for s in figures["lab_waveform"]["layout"]["shapes"] if s.get("type") == "rect"]
    assert [(s["x0"], s["x1"]) for s in shaded] == [(15.0, 25.0)]
    assert "15.0–25.0 s" in figures["lab_stft"]["layout"]["title"]["text"]


def test_mel_axis_is_ticked_in_hz_at_band_centres(swing):
    at = _lab(swing)
    mel = _figures(at)["lab_mel"]
    axis = mel["layout"]["yaxis"]
    assert axis["ticktext"] == ["200 Hz", "500 Hz", "1 kHz", "2 kHz", "5 kHz", "10 kHz"]
    assert min(np.diff(axis["tickvals"])) >= 0.07 * 127  # low ticks do not pile up on each other
    # the 1 kHz tick sits on the band whose centre is 1 kHz
    centres = sv.mel_band_centres(128, SAMPLE_RATE / 2)
    band = axis["tickvals"][axis["ticktext"].index("1 kHz")]
    assert abs(np.interp(band, np.arange(128), centres) - 1000) < 1
    assert "frequency" in axis["title"]["text"]
    stft = _figures(at)["lab_stft"]
    assert stft["layout"]["yaxis"]["title"]["text"] == "frequency (Hz)"
    assert "Hz" in stft["data"][0]["hovertemplate"]


def test_log_frequency_ticks_read_hz_not_plotly_digits(swing):
    at = _lab(swing)
    at.toggle(key="lab_log_freq").set_value(True).run()
    assert not at.exception
    axis = _figures(at)["lab_stft"]["layout"]["yaxis"]
    assert axis["type"] == "log"
    assert axis["ticktext"] == ["50 Hz", "100 Hz", "200 Hz", "500 Hz", "1 kHz", "2 kHz", "5 kHz", "10 kHz"]
    assert axis["tickvals"][axis["ticktext"].index("1 kHz")] == 1000


def test_mfcc_scaled_per_coefficient_with_the_reason(swing):
    at = _lab(swing)
    trace = _figures(at)["lab_mfcc"]["data"][0]
    z = _array(trace["z"]).astype(float)
    assert z.shape[0] == 20
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=0.05)  # coefficient 0 no longer dominates
    assert (trace["zmin"], trace["zmax"]) == (-3.0, 3.0)
    assert "coefficient 0 is the overall loudness" in _text(at)
    at.toggle(key="lab_mfcc_scaled").set_value(False).run()
    trace = _figures(at)["lab_mfcc"]["data"][0]
    assert trace["zmax"] > 3 and "saturate" in _text(at)


def test_one_db_convention_stated_for_both_spectrograms(swing):
    at = _lab(swing)
    figures = _figures(at)
    for key in ("lab_stft", "lab_mel"):
        trace = figures[key]["data"][0]
        assert (trace["zmin"], trace["zmax"]) == (sv.DB_FLOOR, 0), key
        assert trace["colorbar"]["title"]["text"] == "dB re max", key
    mel = _array(figures["lab_mel"]["data"][0]["z"])
    assert -1.0 < float(mel.max()) <= 0.0  # 0 dB = the loudest cell (block means may sit just below)
    assert "dB relative to their loudest cell" in _text(at)


def test_playhead_follows_the_player_over_every_time_chart(swing):
    at = _lab(swing)
    (component,) = [e for e in at.main if getattr(e, "type", "") == "bidi_component"] or [None]
    assert component is not None, "the playhead component is not mounted"
    groups = json.loads(component.proto.json)["groups"]
    assert groups == [{"player": "lab_player", "charts": ["lab_waveform", "lab_stft", "lab_mel", "lab_mfcc"]}]
    assert "currentTime" in component.proto.js_content  # it follows the <audio> element


def test_teaching_sound_and_comparison_get_playheads():
    at = _lab()
    assert not at.exception
    keys = set(_figures(at))
    assert {"lab_stft", "lab_mel", "lab_mfcc"} <= keys
    x = _array(_figures(at)["lab_stft"]["data"][0]["x"])
    assert x.min() < 0.1  # a teaching sound starts at 0
    at.get("button_group")[0].set_value("Compare two sounds").run()
    (component,) = [e for e in at.main if getattr(e, "type", "") == "bidi_component"]
    players = [g["player"] for g in json.loads(component.proto.json)["groups"]]
    assert players == ["lab_player_a", "lab_player_b"]


# --- the helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "seconds"), [(0.0, 10.0), (15.0, 10.0), (25.0, 10.0), (3.3, 5.0), (0, 60)])
def test_excerpt_start_matches_the_excerpt(start, seconds):
    y = np.arange(30 * SAMPLE_RATE, dtype=np.float32)
    first = excerpt(y, SAMPLE_RATE, start, seconds)[0]
    assert sv.excerpt_start(y.size, SAMPLE_RATE, start, seconds) == first / SAMPLE_RATE


def test_relative_db_puts_the_peak_at_zero_and_floors():
    db = np.array([[-20.0, 10.0], [-100.0, 5.0]])
    np.testing.assert_array_equal(sv.relative_db(db), [[-30.0, 0.0], [-80.0, -5.0]])


def test_mel_band_centres_are_the_filter_peaks():
    import librosa

    for n_mels, fmax in ((16, 4000.0), (128, 11025.0)):
        fb = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=4096, n_mels=n_mels, fmax=fmax)
        peaks = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=4096)[fb.argmax(axis=1)]
        np.testing.assert_allclose(sv.mel_band_centres(n_mels, fmax), peaks, atol=SAMPLE_RATE / 4096)


def test_seek_time_from_a_chart_click():
    assert sv.seek_time({"selection": {"points": [{"x": 40.0}]}}, 0.0, 30.0) == 30.0
    assert sv.seek_time({"selection": {"points": [{"y": 3}]}}, 0.0, 30.0) is None
    assert sv.seek_time({}, 0.0, 30.0) is None


def test_hz_tick_helpers():
    assert plots.log_hz_ticks(30, 3000) == ([50, 100, 200, 500, 1000, 2000], ["50 Hz", "100 Hz", "200 Hz", "500 Hz",
                                                                            "1 kHz", "2 kHz"])
    values, labels = plots.band_hz_ticks(sv.mel_band_centres(64, 8000.0))
    assert labels[-1] == "5 kHz" and all(0 <= v <= 63 for v in values)
    fig = plots.spectrogram_figure(np.zeros((3, 4)), 100, 10, y_values=[0.0, 100.0, 1000.0], log_y=True, t0=15.0)
    assert list(fig.layout.yaxis.ticktext) == ["100 Hz", "200 Hz", "500 Hz", "1 kHz"]
    assert fig.data[0].x[0] == 15.0


@pytest.mark.parametrize(("n_fft", "hop", "n_mels", "fmax"), [(2048, 512, 128, 11025.0), (512, 128, 64, 4000.0)])
def test_spectral_views_from_one_stft_equal_librosas_own_calls(n_fft, hop, n_mels, fmax):
    """The lab computes one STFT per step; every view must equal librosa's separate call on the signal."""
    from genre_core import features
    from genre_core.session import spectral_views
    from genre_core.synth import synth_clip

    y = synth_clip("swing", seed=3, duration=4.0)
    views = spectral_views(y, 22050, n_fft, hop, n_mels, fmax, 13)
    np.testing.assert_allclose(views.stft_db, features.stft_db(y, n_fft, hop), atol=1e-3)
    np.testing.assert_allclose(views.mel_db, features.mel_spectrogram(y, 22050, n_fft, hop, n_mels, fmax), atol=1e-3)
    np.testing.assert_allclose(views.mfcc, features.mfcc(y, 22050, 13, n_fft, hop, n_mels, fmax), atol=1e-2)


def test_each_teaching_sound_gets_its_own_waveform_and_stft():
    """The waveform and STFT figures are kept across slider steps: a new sound must still redraw them."""
    at = _lab()
    first = _figures(at)
    sounds = at.selectbox(key="lab_teaching").options
    at.selectbox(key="lab_teaching").set_value(sounds[1]).run()
    assert not at.exception
    second = _figures(at)
    for key in ("lab_waveform", "lab_stft"):
        assert second[key]["data"] != first[key]["data"], key
    # a mel slider step keeps the STFT as it was
    at.slider(key="lab_n_mels").set_value(64).run()
    assert _figures(at)["lab_stft"]["data"] == second["lab_stft"]["data"]
