"""Spectrogram lab: how a waveform becomes the time–frequency pictures models read."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import clip_header, current_clip, playhead
from genre_core import plots
from genre_core.config import SAMPLE_RATE
from genre_core.session import (
    SpectralViews,
    excerpt,
    render_teaching_sound,
    spectral_views,
    teaching_sound_names,
)
from genre_core.app import spectro_views as sv

ensure_app_frame()

CURRENT = "Current clip"
TEACHING = "Teaching sound"
COMPARE = "Compare two sounds"


@st.cache_data(max_entries=64, show_spinner="Computing spectrograms…")
def views_for(key: str, _y: np.ndarray, n_fft: int, hop: int, n_mels: int, fmax: float, n_mfcc: int) -> SpectralViews:
    """Spectral views of an excerpt, cached by (excerpt key, parameters)."""
    return spectral_views(_y, SAMPLE_RATE, n_fft, hop, n_mels, fmax, n_mfcc)


@st.cache_data(max_entries=16, show_spinner=False)
def teaching(name: str) -> np.ndarray:
    """A teaching sound's samples."""
    return render_teaching_sound(name)


st.title("Spectrogram lab")
st.caption("From air pressure to the pictures the models read. Move the sliders: every figure is recomputed "
           "with your settings. Press play: a line follows the sound on every figure; click a figure to jump "
           "the player there.")

sounds = teaching_sound_names()
current = current_clip()
modes = ([CURRENT] if current is not None else []) + ([TEACHING, COMPARE] if sounds else [])
if not modes:
    st.info("Load a clip in the sidebar (upload, record or pick an example) to explore it here.",
            icon=":material/arrow_back:")
    st.stop()
# The key changes when a clip appears, so the control then starts on "Current clip".
mode = st.segmented_control("What to look at", modes, default=modes[0],
                            key=f"lab_mode_{current is not None}") or modes[0]


def _stft_figure(v: SpectralViews, title: str, t0: float, height: int = 320, *,
                 log_frequency: bool = False):
    return plots.spectrogram_figure(v.stft_db, SAMPLE_RATE, v.hop_length, y_values=v.fft_frequencies,
                                    title=title, log_y=log_frequency, height=height, zmin=sv.DB_FLOOR, zmax=0,
                                    colorbar_title="dB re max", hover_y="%{y:.0f} Hz", t0=t0)


# The two figures a mel, fmax or MFCC slider leaves unchanged are kept (Streamlit only reads a
# figure), so such a step rebuilds only the filterbank, mel and MFCC figures.
@st.cache_resource(max_entries=8, show_spinner=False)
def _waveform(clip_key: str, _y_full: np.ndarray, highlight: tuple[float, float] | None, title: str):
    return plots.waveform_figure(_y_full, SAMPLE_RATE, highlight=highlight, title=title)


@st.cache_resource(max_entries=8, show_spinner=False)
def _stft(key: str, n_fft: int, hop: int, log_frequency: bool, t0: float, title: str, _views: SpectralViews):
    return _stft_figure(_views, title, t0, log_frequency=log_frequency)


def _mel_figure(v: SpectralViews, title: str, t0: float, height: int = 320):
    return sv.mel_figure(v.mel_db, SAMPLE_RATE, v.hop_length, v.fmax, title=title, t0=t0, height=height)


@st.fragment
def _lab(mode: str) -> None:
    """Everything the analysis settings drive.

    A fragment: moving a slider reruns only this part (not the navigation, the sidebar
    or the rest of the app), so a step costs the spectrograms and little else.
    """
    with st.container(border=True):
        st.markdown("**Analysis settings**")
        c1, c2, c3, c4, c5 = st.columns(5)
        n_fft = c1.select_slider("n_fft (window)", [256, 512, 1024, 2048, 4096], value=2048, key="lab_n_fft",
                                 help="Samples per FFT window.")
        hop = c2.select_slider("hop length", [128, 256, 512, 1024], value=512, key="lab_hop",
                               help="Samples between the starts of consecutive windows.")
        n_mels = c3.slider("n_mels", 16, 256, 128, step=16, key="lab_n_mels", help="Number of mel bands.")
        fmax = c4.slider("fmax (Hz)", 1000, SAMPLE_RATE // 2, SAMPLE_RATE // 2, step=25, key="lab_fmax",
                         help="Highest frequency the mel filters cover.")
        n_mfcc = c5.slider("n_mfcc", 5, 40, 20, key="lab_n_mfcc", help="MFCCs kept.")
        st.caption(
            f"One FFT bin = **{SAMPLE_RATE / n_fft:.1f} Hz**; one window = **{1000 * n_fft / SAMPLE_RATE:.0f} ms**; "
            f"one hop = **{1000 * hop / SAMPLE_RATE:.1f} ms**. A longer window resolves pitch better but smears "
            "drum hits in time: that is the time/frequency trade-off."
        )
    log_frequency = st.toggle("Logarithmic frequency axis for the STFT", key="lab_log_freq",
                              help="Musical pitch is logarithmic: each octave doubles the frequency.")
    params = dict(n_fft=n_fft, hop=hop, n_mels=n_mels, fmax=float(fmax), n_mfcc=n_mfcc)

    if mode == COMPARE:
        st.subheader("Two sounds side by side")
        st.markdown("Same settings, two sounds: compare where their energy sits in time and in frequency. "
                    + sv.DB_CONVENTION)
        kick = next((s for s in sounds if "kick" in s.lower()), sounds[0])
        whistle = next((s for s in sounds if "whistle" in s.lower()), sounds[min(1, len(sounds) - 1)])
        columns = st.columns(2)
        groups = []
        for column, default, slot in zip(columns, (kick, whistle), ("a", "b")):
            with column:
                name = st.selectbox("Sound", sounds, index=sounds.index(default), key=f"lab_compare_{slot}")
                y = teaching(name)
                with st.container(key=f"lab_player_{slot}"):
                    st.audio(y, sample_rate=SAMPLE_RATE)
                v = views_for(f"teach:{name}", y, **params)
                st.plotly_chart(plots.waveform_figure(y, SAMPLE_RATE, title=f"{name}: waveform", height=200),
                                key=f"lab_cmp_wave_{slot}")
                st.plotly_chart(_stft_figure(v, f"{name}: STFT (dB)", 0.0, 300, log_frequency=log_frequency), key=f"lab_cmp_stft_{slot}")
                st.plotly_chart(_mel_figure(v, f"{name}: mel spectrogram (dB)", 0.0, 300), key=f"lab_cmp_mel_{slot}")
            groups.append({"player": f"lab_player_{slot}",
                           "charts": [f"lab_cmp_wave_{slot}", f"lab_cmp_stft_{slot}", f"lab_cmp_mel_{slot}"]})
        playhead(groups, key="lab_playhead")
        return

    if mode == TEACHING:
        name = st.selectbox("Teaching sound", sounds, key="lab_teaching")
        y_full = teaching(name)
        clip_key = key_base = f"teach:{name}"
        with st.container(key="lab_player"):
            st.audio(y_full, sample_rate=SAMPLE_RATE)
        start, length = 0.0, len(y_full) / SAMPLE_RATE
    else:
        with st.container(key="lab_player"):
            clip_header(current, player=True, notes=True)
        y_full = current.samples
        duration = current.clip.duration
        c1, c2 = st.columns([1, 3])
        length = float(c1.selectbox("Excerpt length (s)", [5, 10, 30], index=1, key="lab_excerpt_len"))
        length = min(length, duration)
        latest = max(0.0, duration - length)
        # The key carries the clip so a new clip (a new range) starts a fresh slider.
        start = c2.slider("Excerpt start (s)", 0.0, latest, 0.0, step=0.5,
                          key=f"lab_start_{current.digest[:12]}") if latest > 0 else 0.0
        clip_key = current.digest
        key_base = f"{clip_key}:{start:.2f}:{length:.2f}"

    y = excerpt(y_full, SAMPLE_RATE, start, length)
    t0 = sv.excerpt_start(len(y_full), SAMPLE_RATE, start, length)
    views = views_for(key_base, y, **params)
    span = f"{t0:.1f}–{t0 + len(y) / SAMPLE_RATE:.1f} s"

    st.subheader("1 · Waveform")
    st.markdown("The microphone's view: air pressure over time. Drag to zoom in; double-click to zoom out. "
                "Long clips are drawn as a min/max envelope, which looks the same at screen resolution.")
    whole = length >= len(y_full) / SAMPLE_RATE - 1e-6
    st.plotly_chart(_waveform(clip_key, y_full, None if whole else (t0, t0 + len(y) / SAMPLE_RATE),
                              "Waveform" if whole else f"Whole clip (shaded: {span}, analysed below)"),
                    key="lab_waveform")

    st.subheader("2 · Short-time Fourier transform (dB)")
    st.markdown(
        "The signal is cut into overlapping windows of **n_fft** samples and each window's frequency content "
        "is measured. Power spans many orders of magnitude, and hearing judges loudness roughly "
        "logarithmically, so it is shown in **decibels**: a log scale that makes quiet detail visible "
        "next to loud peaks. " + sv.DB_CONVENTION
    )
    st.plotly_chart(_stft(key_base, n_fft, hop, log_frequency, t0, f"STFT, n_fft={n_fft}, hop={hop} · {span}", views),
                    key="lab_stft")

    st.subheader("3 · The mel filterbank")
    st.markdown(
        "The **mel scale** models how we hear pitch: equal steps in mel sound equally far apart, which means "
        "narrow steps at low frequencies and wide ones at high frequencies. Each triangle below sums a band of "
        "FFT bins into one mel band."
    )
    if views.empty_filters:
        st.warning(f"{views.empty_filters} of the {n_mels} mel filters catch no FFT bin: with n_fft={n_fft} the bins "
                   "are too coarse for that many bands. Lower n_mels or raise n_fft.")
    # The filters depend on the settings, not on the clip: drawn when asked for, and then kept open
    # across slider steps (each chart costs the browser about 0.1 s per step).
    bank = st.expander(f"Show the {n_mels} mel filters up to {views.fmax:.0f} Hz", key="lab_filterbank_open",
                       on_change="rerun")
    if bank.open:
        bank.plotly_chart(plots.filterbank_figure(views.filterbank, views.fft_frequencies,
                                                  title=f"{n_mels} mel filters up to {views.fmax:.0f} Hz"),
                          key="lab_filterbank")

    st.subheader("4 · Mel spectrogram (dB)")
    st.markdown("The STFT's power summed through the filterbank and put on a dB scale: the image most "
                "deep models in this project read. Rows are mel bands, evenly spaced in mel; the ticks give each "
                "band's centre frequency in Hz (see how little room 8 kHz and up gets).")
    st.plotly_chart(_mel_figure(views, f"Mel spectrogram, {n_mels} bands · {span}", t0), key="lab_mel")

    st.subheader("5 · MFCC")
    st.markdown(
        "**Mel-frequency cepstral coefficients** are a cosine transform of each log-mel frame. The first few "
        "coefficients keep the broad shape of the spectrum (timbre: *what instrument*), and dropping the rest "
        "discards fine harmonic detail (pitch: *which note*). The GTZAN features use 20 of them."
    )
    per_coefficient = st.toggle("Scale each coefficient separately", value=True, key="lab_mfcc_scaled",
                                help="Off: one colour scale for all coefficients (0 and 1 then saturate it).")
    st.caption(sv.MFCC_SCALING if per_coefficient else
               "One colour scale for all coefficients, set by coefficients 2 and up: coefficients 0 (loudness) and "
               "1 (spectral tilt) are far larger and saturate it. Switch the scaling back on to see them move.")
    st.plotly_chart(plots.mfcc_figure(views.mfcc, SAMPLE_RATE, hop, per_coefficient=per_coefficient, t0=t0,
                                      title=f"{n_mfcc} MFCCs · {span}"), key="lab_mfcc")
    playhead([{"player": "lab_player", "charts": ["lab_waveform", "lab_stft", "lab_mel", "lab_mfcc"]}], key="lab_playhead")


_lab(mode)
