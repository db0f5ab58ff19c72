"""Inside the CNN: feature maps, filter patterns and Grad-CAM of a deep model on the current clip."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import clip_header, data_badge, get_predictor, model_entries, require_clip
from genre_core import plots
from genre_core.constants import SAMPLE_RATE
from genre_core.session import (
    display_name,
    excerpt,
    gradcam_rows_time,
    model_view,
    pattern_input_shape,
    time_first,
    top_k_text,
)

ensure_app_frame()

FEATURE_MAPS = "Feature maps"
PATTERNS = "What the filters look for"
GRAD_CAM = "Grad-CAM"
HOP = 512


@st.cache_resource(show_spinner="Finding the models with convolution layers…")
def cnn_models() -> list[str]:
    """Deep models that have convolution layers (the dense MFCC net has none)."""
    from genre_core.models.deep import conv_layer_names

    # Spectrogram-input models first: their maps and patterns are the easiest to read.
    order = {"mel": 0, "mel_image": 1, "mfcc": 2, "raw": 3}
    found = []
    for entry in model_entries(kind="deep"):
        predictor = get_predictor(entry.name)
        model = getattr(predictor, "model", None)
        if model is not None and conv_layer_names(model):
            found.append((order.get(getattr(predictor, "input_kind", ""), 9), entry.name))
    return [name for _, name in sorted(found)]


@st.cache_data(max_entries=16, show_spinner="Running the model…")
def segment_analysis(name: str, key: str, _segment: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Model input, feature maps of every conv layer and class probabilities of one segment."""
    from genre_core.explain import feature_maps
    from genre_core.features import deep_input
    from genre_core.predict import predict_samples

    predictor = get_predictor(name)
    x = deep_input(predictor.input_kind, _segment, SAMPLE_RATE)
    probabilities = predict_samples(_segment, SAMPLE_RATE, [predictor])[0].probabilities
    return x, feature_maps(predictor.model, x), np.asarray(probabilities)


@st.cache_data(max_entries=8, show_spinner="Optimising inputs for each filter (once per model)…")
def filter_patterns(name: str) -> tuple[str, np.ndarray, str, np.ndarray]:
    """Activation-maximisation inputs of the first layer's filters and the last layer's first 24.

    They depend only on the model, so they are computed once per model and process.
    """
    from genre_core.explain import activation_maximization, first_and_last_block_filters

    predictor = get_predictor(name)
    shape = pattern_input_shape(predictor.input_kind, predictor.segment_seconds)
    first, first_filters, last, last_filters = first_and_last_block_filters(predictor.model)
    first_patterns = activation_maximization(predictor.model, first, first_filters, input_shape=shape)
    last_patterns = activation_maximization(predictor.model, last, last_filters, input_shape=shape)
    return first, first_patterns, last, last_patterns


@st.cache_data(max_entries=32, show_spinner="Computing Grad-CAM…")
def cam_for(name: str, key: str, class_index: int, layer: str, _x: np.ndarray) -> np.ndarray:
    """Grad-CAM heatmap of one class for one input."""
    from genre_core.explain import grad_cam

    return grad_cam(get_predictor(name).model, _x, class_index, layer)


@st.cache_data(max_entries=16, show_spinner=False)
def mel_of(key: str, _y: np.ndarray) -> np.ndarray:
    """Mel spectrogram (dB) of what the model reads."""
    from genre_core.features import mel_spectrogram

    return mel_spectrogram(_y, SAMPLE_RATE, hop_length=HOP)


st.title("Inside the CNN")
st.caption("What a convolutional network computes on your clip: the feature maps of each layer, the input "
           "patterns its filters respond to most, and which parts of the spectrogram drove its decision.")

names = cnn_models()
if not names:
    st.warning("No deep model with convolution layers is installed in `models/`. Train one with "
               "`python -m train.deep` (see the README), then reload this page.")
    st.stop()

name = st.selectbox("CNN model", names, key="cnn_model",
                    format_func=lambda n: display_name(get_predictor(n).card, n))
predictor = get_predictor(name)
card = predictor.card
data = card.get("data") or {}
data_badge(card)
if data.get("source") == "real":
    st.caption(f"Trained on real recordings: {data.get('description') or data.get('dataset', '')}")
else:
    st.warning(
        "This model was trained on **synthetic styles** made by the project, not on real songs: its labels "
        f"({', '.join(predictor.labels)}) are those styles, not genres.",
        icon=":material/science:",
    )
    if data.get("description"):
        st.caption(f"Training data: {data['description']}")
if card.get("architecture"):
    st.caption(f"Architecture: {card['architecture']} · input: `{predictor.input_kind}` · "
               f"segment: {predictor.segment_seconds:g} s")

current = require_clip("look inside the model")
clip_header(current, player=False, notes=False)
segment_seconds = float(predictor.segment_seconds)
latest = max(0.0, current.clip.duration - segment_seconds)
start = st.slider("Segment start (s)", 0.0, latest, 0.0, step=0.5,
                  key=f"cnn_start_{name}_{current.digest[:12]}") if latest > 0 else 0.0
segment = excerpt(current.samples, SAMPLE_RATE, start, segment_seconds)
seen = model_view(segment, predictor.input_kind)
key = f"{current.digest}:{start:.2f}"
if predictor.input_kind == "raw":
    st.caption(f"This model reads only the first {len(seen)} samples ({len(seen) / SAMPLE_RATE:.2f} s) "
               "of each segment.")
st.audio(seen, sample_rate=SAMPLE_RATE)

x, maps, probabilities = segment_analysis(name, key, segment)
predicted = int(np.argmax(probabilities))
st.markdown(f"**Prediction on this segment:** {top_k_text(predictor.labels, probabilities)}")

view = st.segmented_control("View", [FEATURE_MAPS, PATTERNS, GRAD_CAM], default=FEATURE_MAPS,
                            key="cnn_view") or FEATURE_MAPS
is_time_first = time_first(predictor.input_kind)

if view == FEATURE_MAPS:
    st.markdown("Each convolution layer applies a bank of learned filters; every filter produces one map "
                "showing where in the input its pattern occurs. Early layers respond to simple local "
                "shapes (onsets, harmonics), later ones to combinations of them over longer spans.")
    for index, (layer, activation) in enumerate(maps.items()):
        shape = " × ".join(str(d) for d in activation.shape)
        with st.expander(f"{layer} · {shape}", expanded=index == 0):
            st.plotly_chart(plots.feature_map_figure(activation, max_filters=16, time_first=is_time_first),
                            key=f"cnn_maps_{layer}")

elif view == PATTERNS:
    st.markdown("Starting from noise, gradient ascent changes the input until one filter responds as "
                "strongly as possible. The result is the pattern that filter looks for. These do not depend "
                "on your clip, so they are computed once per model.")
    first, first_patterns, last, last_patterns = filter_patterns(name)
    if predictor.input_kind == "raw":
        st.caption("Each pattern is a stretch of raw waveform (the first samples shown).")
    else:
        st.caption("Each panel is an input image: frequency (mel band or coefficient) up, time across.")
    st.plotly_chart(plots.pattern_figure(first_patterns, columns=8, time_first=is_time_first,
                                         title=f"First block ({first}): all {len(first_patterns)} filters"),
                    key="cnn_patterns_first")
    st.plotly_chart(plots.pattern_figure(last_patterns, columns=8, time_first=is_time_first,
                                         title=f"Last block ({last}): first {len(last_patterns)} filters"),
                    key="cnn_patterns_last")

else:
    from genre_core.models.deep import conv_layer_names

    st.markdown("Grad-CAM weighs a convolution layer's feature maps by how much they raise one class's "
                "score; bright regions are the parts of the spectrogram that pushed the model towards "
                "that class.")
    c1, c2 = st.columns(2)
    class_index = c1.selectbox("Class", range(len(predictor.labels)), index=predicted,
                               format_func=lambda i: f"{predictor.labels[i]} ({probabilities[i]:.0%})"
                               + (" · predicted" if i == predicted else ""),
                               key=f"cnn_cam_class_{name}_{key}")
    layers = conv_layer_names(predictor.model)
    layer = c2.selectbox("Layer", layers, index=len(layers) - 1, key=f"cnn_cam_layer_{name}")
    cam = gradcam_rows_time(cam_for(name, key, int(class_index), layer, x), predictor.input_kind)
    if not np.any(cam > 0):
        st.info("No region of this segment supports that class at this layer (the map is all zero).")
    st.plotly_chart(
        plots.gradcam_figure(mel_of(f"{name}:{key}", seen), cam, SAMPLE_RATE, HOP,
                             title=f"Grad-CAM for “{predictor.labels[class_index]}” at {layer}"),
        key="cnn_gradcam",
    )
