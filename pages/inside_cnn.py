"""Inside the CNN: feature maps, filter patterns and Grad-CAM of a deep model on the current clip."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import clip_header, data_badge, get_predictor, get_registry, model_entries, require_clip
from genre_core import plots
from genre_core.app import cnn_views
from genre_core.app.tagger_views import is_tagger
from genre_core.errors import GenreLabError
from genre_core.explain import alive_filters
from genre_core.models.dead_filters import dead_filters
from genre_core.config import SAMPLE_RATE
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
LEARNED_FILTERS = "Learned filters"
HOP = 512
#: The model the page opens on: a pretrained tagger whose 2-D maps keep time and frequency.
DEFAULT_MODEL = "msd_vgg"
#: Feature-map panels per layer.
SHOWN_FILTERS = 8


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


def tagger_names() -> list[str]:
    """The pretrained taggers, by name (they all have convolutions; no need to load them here)."""
    return [e.name for e in model_entries(include_synthetic=False) if is_tagger(e)]


@st.cache_resource(show_spinner=False)
def stored_patterns(name: str) -> dict | None:
    """Activation-maximisation patterns saved beside the model (``patterns.npz``), or None."""
    from genre_core.explain import load_patterns

    return load_patterns(get_registry().get(name).directory)


@st.cache_resource(show_spinner=False)
def never_firing(name: str) -> dict[str, int]:
    """How many filters of each musicnn front-end layer are proved never to fire (once per model)."""
    return {layer: len(found) for layer, found in dead_filters(get_predictor(name).model).items()}


@st.cache_data(max_entries=8, show_spinner="Cutting the clip into 3 s patches…")
def tagger_patches(digest: str, name: str, _samples: np.ndarray, sample_rate: int) -> tuple[list, np.ndarray]:
    """The clip as the tagger reads it: (windows, patches (n, 187, 96)), from the tagger's own prepare()."""
    windows, patches = get_predictor(name).prepare(_samples, sample_rate)
    return list(windows), np.asarray(patches)


@st.cache_data(max_entries=16, show_spinner="Running the tagger…")
def tagger_analysis(name: str, key: str, layers: tuple[str, ...], _x: np.ndarray) -> tuple[dict, np.ndarray]:
    """Feature maps of ``layers`` and the 50 tag probabilities of one patch."""
    from genre_core.explain import feature_maps

    predictor = get_predictor(name)
    return feature_maps(predictor.model, _x, list(layers)), np.asarray(predictor.predict_inputs(_x[None])[0])


@st.cache_data(max_entries=8, show_spinner="Optimising inputs for each filter (once per model)…")
def filter_patterns(name: str) -> tuple[str, np.ndarray, str, np.ndarray]:
    """Activation-maximisation inputs of the first layer's filters and the last layer's first 24.

    Read from the model's ``patterns.npz`` when it has one; otherwise computed
    (once per model and process: they depend only on the weights).
    """
    from genre_core.explain import activation_maximization, first_and_last_block_filters

    stored = stored_patterns(name)
    if stored and len(stored) >= 2:
        (first, (_, first_patterns)), (last, (_, last_patterns)) = list(stored.items())[:2]
        return first, first_patterns, last, last_patterns
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

taggers = tagger_names()
names = taggers + cnn_models()
if not names:
    st.warning("No deep model with convolution layers is installed in `models/`. Train one with "
               "`python -m train.deep`, or import the pretrained taggers with `python -m train import-musicnn` "
               "(see the README), then reload this page.")
    st.stop()


def _model_label(n: str) -> str:
    card = get_registry().get(n).card
    return display_name(card, n) + ("" if n in taggers else " (synthetic demo)")


name = st.selectbox("CNN model", names, key="cnn_model",
                    index=names.index(DEFAULT_MODEL) if DEFAULT_MODEL in names else 0,
                    format_func=_model_label,
                    help="The four pretrained taggers first (real music, authors' weights), then the demo CNNs "
                         "trained on the project's synthetic styles.")
try:
    predictor = get_predictor(name)
except GenreLabError as exc:
    st.error(f"Model {name} could not be loaded: {exc}")
    st.stop()
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
def _tagger_page(name: str, predictor) -> None:
    """Inside a pretrained tagger: one 3 s patch, with axes in seconds and Hz."""
    from genre_core.app.tagger_views import tag_groups, tags_text

    architecture = predictor.architecture
    source = predictor.card.get("source") or {}
    st.caption(f"Architecture: {architecture} · input: 3 s patches of log-mel (187 frames of 16 ms × 96 mel "
               f"bands up to 8 kHz, at 16 kHz) · weights by the authors, {source.get('licence', '?')} licence: "
               f"{source.get('citation', '')}")
    current = require_clip("look inside the model")
    clip_header(current, player=False, notes=False)
    try:
        windows, patches = tagger_patches(current.digest, name, current.samples, current.sample_rate)
    except (GenreLabError, ValueError) as exc:
        st.error(f"Could not prepare {current.name} for {name}: {exc}")
        st.stop()
    if not len(patches):
        st.error(f"{current.name} is shorter than one 3 s patch, so {name} has nothing to read.")
        st.stop()
    index = st.select_slider("3 s excerpt", options=list(range(len(windows))), value=0,
                             format_func=lambda i: cnn_views.excerpt_label(windows[i]),
                             key=f"cnn_patch_{current.digest[:12]}") if len(windows) > 1 else 0
    start_s, end_s = windows[index]
    st.audio(excerpt(current.samples, current.sample_rate, start_s, end_s - start_s), sample_rate=current.sample_rate)
    x = patches[index]
    key = f"{current.digest}:{index}"
    layers = cnn_views.FEATURE_MAP_LAYERS[architecture]
    try:
        maps, probabilities = tagger_analysis(name, key, layers, x)
    except (GenreLabError, ValueError) as exc:
        st.error(f"{name} could not analyse this excerpt: {exc}")
        st.stop()
    groups = tag_groups(predictor.labels, probabilities, top_genre=3, top_other=1)
    others = "; ".join(f"{category.lower()}: {tags_text(items)}" for category, items in groups.other.items())
    st.markdown(f"**Tags on this excerpt:** {tags_text(groups.genre)}" + (f" · *{others}*" if others else ""))
    band_hz = cnn_views.mel_band_hz()
    input_times = start_s + np.arange(x.shape[0]) * cnn_views.FRAME_SECONDS
    st.plotly_chart(plots.band_heatmap_figure(x, input_times, np.arange(x.shape[1]), band_hz, colorbar_title="log-mel",
                                              title="What the tagger reads: the log-mel patch"),
                    key="cnn_input")

    views = [FEATURE_MAPS, PATTERNS, GRAD_CAM] + ([LEARNED_FILTERS] if architecture == "musicnn" else [])
    view = st.segmented_control("View", views, default=FEATURE_MAPS, key="cnn_view") or FEATURE_MAPS
    if view not in views:
        view = FEATURE_MAPS

    if view == FEATURE_MAPS:
        st.markdown("Each convolution layer applies a bank of learned filters; every filter produces one map "
                    "showing where (in time and frequency) its pattern occurs. Shown: the filters whose maps vary "
                    "most on this excerpt (each panel scaled to its own range).")
        layer = st.selectbox("Layer", layers, key=f"cnn_tagger_layer_{name}")
        activation = maps[layer]
        axes = cnn_views.layer_axes(predictor.model, layer, offset_s=start_s)
        step_ms = 1000 * float(np.diff(axes.times_s[:2])[0]) if len(axes.times_s) > 1 else 0.0
        grid = f"{len(axes.times_s)} steps of {step_ms:.0f} ms"
        if axes.bands is not None:
            spacing = float(np.diff(axes.bands[:2])[0]) if len(axes.bands) > 1 else 1.0
            grid += f" × {len(axes.bands)} frequency steps ({spacing:g} mel band{'s' if spacing != 1 else ''} apart)"
        else:
            grid += " (time only: the frequency axis was max-pooled away)"
        st.caption(f"{layer}: {activation.shape[-1]} filters on a grid of {grid}.")
        filters = cnn_views.most_varied_filters(activation, SHOWN_FILTERS)
        st.plotly_chart(plots.feature_map_grid(activation, filters, axes.times_s, axes.bands, band_hz,
                                               title=f"{layer}: the {len(filters)} filters that vary most on this excerpt"),
                        key=f"cnn_maps_{layer}")

    elif view == PATTERNS:
        st.markdown("Starting from noise, gradient ascent changes the input until one filter responds as "
                    "strongly as possible. The result is the pattern that filter looks for. These depend only on "
                    "the weights, so they were computed once when the model was imported.")
        stored = stored_patterns(name)
        if not stored:
            st.warning(f"{name} has no stored patterns (`patterns.npz`). Re-import the taggers with "
                       "`python -m train import-musicnn --out models` to compute them.")
            return
        seconds = cnn_views.stored_input_seconds(stored)
        st.caption(f"Each panel is one {seconds:.1f} s input: time across, frequency up (0 Hz at the bottom, "
                   "8 kHz at the top). Shown: the filters with the largest weights; training switched many "
                   "others off, and a switched-off filter has no pattern.")
        for position, (layer, (indices, patterns)) in enumerate(stored.items()):
            which = "first" if position == 0 else "last"
            st.plotly_chart(plots.pattern_figure(patterns, columns=8,
                                                 title=f"{layer}: the {len(indices)} strongest filters"),
                            key=f"cnn_patterns_{which}" if position < 2 else f"cnn_patterns_{layer}")
        first_layer, (first_indices, first_patterns) = next(iter(stored.items()))
        pick = st.selectbox(f"Look closer at one {first_layer} filter", range(len(first_indices)),
                            format_func=lambda i: f"filter {first_indices[i]}", key=f"cnn_pattern_pick_{name}")
        st.plotly_chart(plots.band_heatmap_figure(first_patterns[pick], np.arange(first_patterns.shape[1])
                                                  * cnn_views.FRAME_SECONDS, np.arange(first_patterns.shape[2]),
                                                  band_hz, colorbar_title="log-mel",
                                                  title=f"{first_layer}, filter {first_indices[pick]}"),
                        key="cnn_pattern_detail")

    elif view == GRAD_CAM:
        cam_layers = cnn_views.GRAD_CAM_LAYERS[architecture]
        if architecture == "musicnn":
            st.markdown("Grad-CAM weighs a layer's feature maps by how much they raise one tag's score. musicnn "
                        "takes the maximum over all frequencies right after its front-end filters, so Grad-CAM on "
                        "those vertical filters is empty: it has no frequency axis left to show. The saliency "
                        "below is therefore over **time only**, from the mid end.")
        else:
            st.markdown("Grad-CAM weighs a convolution layer's feature maps by how much they raise one tag's score; "
                        "bright regions are the times and frequencies that pushed the tagger towards that tag.")
        order = [int(i) for i in np.argsort(-probabilities, kind="stable")]
        c1, c2 = st.columns(2)
        tag_index = c1.selectbox("Tag", order, index=0, key=f"cnn_cam_tag_{name}_{key}",
                                 format_func=lambda i: f"{predictor.labels[i]} ({probabilities[i]:.0%})")
        layer = c2.selectbox("Layer", cam_layers, index=0, key=f"cnn_cam_layer_{name}")
        try:
            cam = cam_for(name, key, int(tag_index), layer, x)
        except (GenreLabError, ValueError) as exc:
            st.error(f"Grad-CAM failed for {name} at {layer}: {exc}")
            return
        if not np.any(cam > 0):
            st.info("No part of this excerpt supports that tag at this layer (the map is all zero).")
        st.plotly_chart(plots.saliency_figure(x, cam, input_times, band_hz,
                                              title=f"Grad-CAM for “{predictor.labels[tag_index]}” at {layer}"),
                        key="cnn_gradcam")

    else:
        st.markdown("What makes musicnn teachable: its first layer is designed with music in mind. **Timbral** "
                    "filters are short (7 frames = 112 ms) and tall (38 or 67 of the 96 mel bands): they catch the "
                    "shape of a sound's spectrum, its timbre. **Temporal** filters are one band high and 32, 64 or "
                    "128 frames long (0.5–2 s): they catch rhythm and tempo. Below are the learned weights "
                    "(red positive, blue negative) of the filters with the largest weights.")
        in_use = {layer: (len(alive_filters(predictor.model, layer)), cnn_views.filter_count(predictor.model, layer))
                  for layer in (*cnn_views.TIMBRAL_LAYERS, *cnn_views.TEMPORAL_LAYERS)}
        st.markdown("Training (with weight decay) switched many of these filters off: their weights are about "
                    "zero. Filters in use: " + ", ".join(f"**{layer}** {alive} of {total}"
                                                        for layer, (alive, total) in in_use.items()) + ".")
        never = never_firing(name)
        st.caption("Most switched-off filters also have a negative bias, so they can never fire on any spectrogram: "
                   "a bound over the whole input range proves it. The app skips them when it classifies (same "
                   "outputs, a fraction of the arithmetic). Proved never to fire: "
                   + ", ".join(f"{layer} {n}" for layer, n in never.items()) + ".")
        for layer in cnn_views.TIMBRAL_LAYERS:
            indices, kernels = cnn_views.timbral_filters(predictor.model, layer, count=12)
            st.plotly_chart(plots.kernel_images_figure(kernels, indices, 0.0, band_hz, columns=6,
                                                       title=f"{layer}: {kernels.shape[1]} frames × "
                                                             f"{kernels.shape[2]} bands (drawn at the lowest bands; "
                                                             "each filter slides over all of them)"),
                            key=f"cnn_kernels_{layer}")
        columns = st.columns(len(cnn_views.TEMPORAL_LAYERS))
        for column, layer in zip(columns, cnn_views.TEMPORAL_LAYERS):
            indices, curves = cnn_views.temporal_filters(predictor.model, layer, count=4)
            with column:
                st.plotly_chart(plots.kernel_curves_figure(curves, indices, 1000 * cnn_views.FRAME_SECONDS,
                                                           title=f"{layer}: {curves.shape[1]} frames"),
                                key=f"cnn_kernels_{layer}")


if is_tagger(card):
    _tagger_page(name, predictor)
    st.stop()

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
