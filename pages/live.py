"""Live: stream the microphone and watch the mel spectrogram and genre probabilities update."""

from __future__ import annotations

import queue
import time

import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import evidence, get_predictor, model_entries
from genre_core import plots
from genre_core.config import HOP_LENGTH, SAMPLE_RATE
from genre_core.app.spectro_views import mel_figure
from genre_core.live import (
    LiveResult,
    PredictionHistory,
    RollingAudioBuffer,
    analyse_snapshot,
    webrtc_blocker,
)
from genre_core.app.honesty import live_defaults, name_with_accuracy, window_note
from genre_core.app.tagger_views import live_bars, split_entries
from genre_core.errors import GenreLabError
from genre_core.session import display_name

ensure_app_frame()

BUFFER_KEY = "live_buffer"
HISTORY_KEY = "live_history"
NO_WEBRTC = ("Live streaming needs WebRTC, which is not available here{reason}. You can still record a clip "
             "with the microphone button in the sidebar: it becomes the current clip for every page.")

st.title("Live")
st.caption("Play music near your microphone: the last few seconds are shown as a mel spectrogram and "
           "classified every couple of seconds. Audio stays on this machine (no STUN/TURN server is used, "
           "so this works on localhost).")

entries = model_entries(include_synthetic=False)
genre_models, taggers, _ = split_entries(entries)
if not entries:
    st.warning("No real-data models are installed in `models/`, so there is nothing to classify with. "
               "Train one with `python -m train classic` (see the README).")
    st.stop()

c1, c2, c3 = st.columns([2, 1, 1])
cards = {e.name: e.card for e in entries}
seconds = c2.slider("Window (s)", 5, 30, 10, key="live_seconds",
                    help="How much recent audio is analysed at each update.")
interval = c3.slider("Update every (s)", 1.0, 3.0, 2.0, step=0.5, key="live_interval")
# The best real-data models for this window: taggers read 3 s patches (any window suits them); of the
# genre models, the best by the evaluation policy (out-of-domain evidence, then the card's honest accuracy;
# no ensemble).
defaults = live_defaults(entries, seconds, evidence=evidence())


def _label(name: str) -> str:
    return name_with_accuracy(cards[name], name, otherwise="tagger")


chosen = c1.multiselect("Models", list(cards), default=defaults, key="live_models", format_func=_label,
                        help="Preselected: the default tagger (trained on 3 s patches, a fit for any window) and "
                             "the GTZAN model with the best evidence on real music outside its training data (the "
                             "highest lower 95 % bound, as Compare's measured tab ranks them), else the best "
                             "artist-filtered accuracy (the % after each name).")
st.caption(window_note(seconds, interval, [cards[n] for n in chosen]))

buffer = st.session_state.get(BUFFER_KEY)
if buffer is None or buffer.seconds != seconds or buffer.update_interval != interval:
    buffer = RollingAudioBuffer(seconds=seconds, sample_rate=SAMPLE_RATE, update_interval=interval)
    st.session_state[BUFFER_KEY] = buffer

blocker = webrtc_blocker()
if blocker is not None:
    st.warning(NO_WEBRTC.format(reason=f" ({blocker})"), icon=":material/mic:")
    st.stop()
try:
    from streamlit_webrtc import WebRtcMode, webrtc_streamer
except Exception as exc:  # not installed, or incompatible with this Streamlit
    st.warning(NO_WEBRTC.format(reason=f" (streamlit-webrtc could not be imported: {exc})"), icon=":material/mic:")
    st.stop()

try:
    ctx = webrtc_streamer(
        key="live-microphone",
        mode=WebRtcMode.SENDONLY,
        audio_receiver_size=512,
        rtc_configuration={"iceServers": []},
        media_stream_constraints={"audio": True, "video": False},
    )
except Exception as exc:  # the component needs a running Streamlit server and browser
    st.warning(NO_WEBRTC.format(reason=f" ({type(exc).__name__}: {exc})"), icon=":material/mic:")
    st.stop()

st.caption("No microphone, or the browser blocks it? Use **…or record from your microphone** in the sidebar "
           "instead, then open Classify.")
history = st.session_state.setdefault(HISTORY_KEY, PredictionHistory())
if not ctx.state.playing:
    buffer.clear()
    if len(history):
        st.subheader("History of the last stream")
        st.dataframe(history.table({n: _label(n) for n in cards}), hide_index=True, key="live_history_table")
    st.info("Press **START** and allow microphone access to begin.", icon=":material/mic:")
    st.stop()

if not chosen:
    st.info("Choose at least one model above.")
    st.stop()
try:
    predictors = [get_predictor(n) for n in chosen]
except GenreLabError as exc:
    st.error(f"A chosen model could not be loaded: {exc} Remove it from the list above.")
    st.stop()
history.clear()
status = st.empty()
mel_slot = st.empty()
bars_slot = st.empty()
st.subheader("History (newest first)")
history_slot = st.empty()
streaming_started = time.monotonic()


def _show(result: LiveResult, update: int) -> None:
    mel_slot.plotly_chart(
        mel_figure(result.mel_db, SAMPLE_RATE, HOP_LENGTH, SAMPLE_RATE / 2,
                   title=f"Last {result.seconds:.1f} s (mel, dB re the loudest cell)", height=300),
        key=f"live_mel_{update}",
    )
    with bars_slot.container():
        if not result.predictions:
            st.info("Too quiet to classify: play some music near the microphone.")
            return
        columns = st.columns(max(1, len(result.predictions)))
        for column, prediction in zip(columns, result.predictions):
            labels, probabilities, caption = live_bars(prediction)
            with column:
                st.markdown(f"**{display_name(cards[prediction.model], prediction.model, short=True)}**")
                st.caption(caption)
                st.plotly_chart(plots.live_probability_figure(labels, probabilities),
                                key=f"live_bars_{prediction.model}_{update}")
    history_slot.dataframe(history.table({n: _label(n) for n in cards}), hide_index=True,
                           key=f"live_history_{update}")


update = 0
while ctx.state.playing:
    receiver = ctx.audio_receiver
    if receiver is None:
        break
    try:
        frames = receiver.get_frames(timeout=1)
    except queue.Empty:
        status.warning("No audio is arriving from the microphone. Check that the browser may use it.")
        continue
    buffer.push_frames(frames)
    now = time.monotonic()
    if not buffer.ready_for_update(now):
        if update == 0:
            status.caption(f"Listening… {buffer.filled_seconds:.1f} s of {buffer.min_seconds:.0f} s needed.")
        continue
    started = time.perf_counter()
    try:
        result = analyse_snapshot(buffer.snapshot(now), predictors, SAMPLE_RATE)
    except GenreLabError as exc:
        status.error(f"Could not classify the last {buffer.filled_seconds:.1f} s: {exc}")
        continue
    update += 1
    history.add(now - streaming_started, result.predictions)
    status.caption(f"Update {update}: analysed the last {result.seconds:.1f} s in "
                   f"{time.perf_counter() - started:.2f} s.")
    _show(result, update)
