"""Teach it: train a classifier of your own on a pretrained tagger's embeddings, in seconds."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import streamlit as st

from pages._shared import ensure_app_frame
from pages._shared import (
    current_clip,
    decode_bytes,
    get_predictor,
    load_example,
    model_entries,
    upload_limit_mb,
)
from genre_core import plots
from genre_core.app.teach import (
    MAP_METHODS,
    ClipEmbeddings,
    clean_class_names,
    embed_clip,
    embedding_map,
    embedding_map_figure,
    predict_embeddings,
    prediction_figure,
    train_head,
)
from genre_core.errors import GenreLabError
from genre_core.session import ORIGIN_RECORDING, ORIGIN_UPLOAD, UPLOAD_TYPES, check_upload_size, content_hash, \
    example_catalogue

ensure_app_frame()

#: st.session_state keys of this page.
CLASSES_KEY = "teach_classes"     # list of {"id": int, "clips": list[CurrentClip]}
NEXT_ID_KEY = "teach_next_id"
MODEL_KEY = "teach_model"         # {"head": TeachHead, "tagger", "layer", "signature", "examples"}
ERRORS_KEY = "teach_errors"
PREFERRED_TAGGER = "msd_musicnn"
DEFAULT_CLASS_NAMES = ("Class 1", "Class 2")


@st.cache_data(max_entries=128, show_spinner="Embedding…")
def clip_embeddings(digest: str, tagger: str, layer: str, name: str, _samples: np.ndarray,
                    sample_rate: int) -> ClipEmbeddings:
    """A clip's per-patch embeddings, cached by (content hash, tagger, layer)."""
    return embed_clip(get_predictor(tagger), _samples, sample_rate, layer, name=name)


# --- state -----------------------------------------------------------------------------------


def _init_state() -> None:
    if CLASSES_KEY not in st.session_state:
        st.session_state[CLASSES_KEY] = []
        st.session_state[NEXT_ID_KEY] = 0
        for name in DEFAULT_CLASS_NAMES:
            _add_class(name)
    st.session_state.setdefault(ERRORS_KEY, [])


def _add_class(name: str | None = None) -> None:
    class_id = st.session_state[NEXT_ID_KEY]
    st.session_state[NEXT_ID_KEY] = class_id + 1
    st.session_state[CLASSES_KEY].append({"id": class_id, "clips": []})
    st.session_state[f"teach_name_{class_id}"] = name or f"Class {class_id + 1}"


def _remove_class(class_id: int) -> None:
    st.session_state[CLASSES_KEY] = [c for c in st.session_state[CLASSES_KEY] if c["id"] != class_id]


def _class(class_id: int) -> dict[str, Any]:
    return next(c for c in st.session_state[CLASSES_KEY] if c["id"] == class_id)


def _add_clip(class_id: int, clip: Any) -> None:
    clips = _class(class_id)["clips"]
    if all(c.digest != clip.digest for c in clips):  # the same audio twice teaches nothing
        clips.append(clip)


def _remove_clip(class_id: int, index: int) -> None:
    clips = _class(class_id)["clips"]
    if 0 <= index < len(clips):
        clips.pop(index)


def _fail(message: str) -> None:
    st.session_state[ERRORS_KEY].append(message)


def _add_example(class_id: int) -> None:
    choice = st.session_state.get(f"teach_example_{class_id}")
    if choice is None:
        _fail("Pick a built-in example first, then press Add.")
        return
    try:
        _add_clip(class_id, load_example(choice))
    except (GenreLabError, KeyError) as exc:
        _fail(f"Could not add {choice}: {exc}")


def _add_current(class_id: int) -> None:
    clip = current_clip()
    if clip is None:
        _fail("There is no current clip: load one in the sidebar first.")
        return
    _add_clip(class_id, clip)


def _take_files(class_id: int, files: list[Any], origin: str) -> None:
    """Decode new uploads or recordings into the class (each file once)."""
    seen = st.session_state.setdefault(f"teach_seen_{class_id}", set())
    limit = upload_limit_mb()
    for uploaded in files:
        if uploaded is None or uploaded.file_id in seen:
            continue
        seen.add(uploaded.file_id)
        try:
            check_upload_size(int(uploaded.size), uploaded.name, limit)
            data = uploaded.getvalue()
            _add_clip(class_id, decode_bytes(content_hash(data), uploaded.name, origin, limit, data))
        except GenreLabError as exc:
            _fail(f"{exc} Try another file: {', '.join(UPLOAD_TYPES)}.")


def _class_names() -> list[str]:
    return [st.session_state.get(f"teach_name_{c['id']}", "") for c in st.session_state[CLASSES_KEY]]


def _signature(tagger: str, layer: str) -> tuple[Any, ...]:
    """What a trained model depends on: tagger, layer, class names and their clips."""
    return (tagger, layer, tuple((name, tuple(c.digest for c in group["clips"]))
                                 for name, group in zip(_class_names(), st.session_state[CLASSES_KEY])))


def _embed(current: Any, tagger: str, layer: str) -> ClipEmbeddings:
    return clip_embeddings(current.digest, tagger, layer, current.name, current.samples, current.sample_rate)


def _train(tagger: str, layer: str) -> None:
    try:
        names = clean_class_names(_class_names())
        examples = {name: [_embed(clip, tagger, layer) for clip in group["clips"]]
                    for name, group in zip(names, st.session_state[CLASSES_KEY])}
        head = train_head(examples)
    except GenreLabError as exc:
        st.session_state[MODEL_KEY] = None
        _fail(f"Cannot train yet: {exc}")
        return
    st.session_state[MODEL_KEY] = {"head": head, "tagger": tagger, "layer": layer,
                                   "signature": _signature(tagger, layer), "examples": examples}


# --- layout ------------------------------------------------------------------------------------

_init_state()
st.title("Teach it")
st.caption("Teach the computer your own classes of sound: give a few clips per class, and a classifier learns "
           "them in seconds from a pretrained music tagger's embeddings (each 3 s of audio becomes a vector "
           "that describes how it sounds). Like Teachable Machine, for music.")

taggers = [e.name for e in model_entries(kind="tagger")]
if not taggers:
    st.warning("No pretrained tagger is installed: run `python -m train import-musicnn --out models` first.",
               icon=":material/warning:")
    st.stop()

settings = st.columns([2, 2, 3])
tagger_name = settings[0].selectbox(
    "Tagger", taggers, index=taggers.index(PREFERRED_TAGGER) if PREFERRED_TAGGER in taggers else 0,
    key="teach_tagger", help="The pretrained network whose embeddings your classifier reads.")
try:
    layers = list(get_predictor(tagger_name).embedding_sizes().items())
except GenreLabError as exc:
    st.error(f"Cannot load {tagger_name}: {exc}")
    st.stop()
layer_name = settings[1].selectbox(
    "Embedding", [name for name, _ in layers], key=f"teach_layer_{tagger_name}",
    format_func=lambda name: f"{name} ({dict(layers)[name]} values)",
    help="Which layer's output describes each 3 s patch. A later layer is more abstract.")

for message in st.session_state[ERRORS_KEY]:
    st.error(message, icon=":material/error:")
st.session_state[ERRORS_KEY] = []

catalogue = list(example_catalogue())
classes = st.session_state[CLASSES_KEY]
columns = st.columns(min(len(classes), 3))
for position, group in enumerate(classes):
    class_id = group["id"]
    with columns[position % len(columns)].container(border=True):
        st.text_input("Class name", key=f"teach_name_{class_id}", max_chars=60)
        if group["clips"]:
            for index, clip in enumerate(group["clips"]):
                row = st.columns([5, 1])
                row[0].caption(f":material/music_note: {clip.name} ({clip.clip.duration:.1f} s)")
                row[1].button(":material/close:", key=f"teach_drop_{class_id}_{index}", help="Remove this clip",
                              on_click=functools.partial(_remove_clip, class_id, index))
        else:
            st.caption("No clips yet.")
        upload_tab, record_tab, example_tab = st.tabs(["Upload", "Record", "Examples"])
        with upload_tab:
            uploads = st.file_uploader("Add files", type=list(UPLOAD_TYPES), accept_multiple_files=True,
                                       key=f"teach_upload_{class_id}", label_visibility="collapsed")
            _take_files(class_id, list(uploads or []), ORIGIN_UPLOAD)
        with record_tab:
            recording = st.audio_input("Record a clip", key=f"teach_record_{class_id}", sample_rate=22050)
            _take_files(class_id, [recording], ORIGIN_RECORDING)
        with example_tab:
            st.selectbox("Built-in example", catalogue, index=None, key=f"teach_example_{class_id}",
                         placeholder="Choose an example", label_visibility="collapsed")
            buttons = st.columns(2)
            buttons[0].button("Add example", key=f"teach_add_example_{class_id}",
                              on_click=functools.partial(_add_example, class_id))
            buttons[1].button("Add current clip", key=f"teach_add_current_{class_id}",
                              on_click=functools.partial(_add_current, class_id),
                              disabled=current_clip() is None)
        if len(classes) > 2:
            st.button("Remove class", key=f"teach_remove_{class_id}", on_click=functools.partial(_remove_class, class_id))

# Messages added by the widgets of this run (uploads decode during the run, not in a callback).
for message in st.session_state[ERRORS_KEY]:
    st.error(message, icon=":material/error:")
st.session_state[ERRORS_KEY] = []

actions = st.columns([1, 1, 4])
actions[0].button("Add class", key="teach_add_class", on_click=_add_class, icon=":material/add:")
train_clicked = actions[1].button("Train", key="teach_train", type="primary", icon=":material/school:")
if train_clicked:
    with st.spinner("Embedding the clips and training…"):
        _train(tagger_name, layer_name)
    for message in st.session_state[ERRORS_KEY]:
        st.error(message, icon=":material/error:")
    st.session_state[ERRORS_KEY] = []

model = st.session_state.get(MODEL_KEY)
if not model:
    st.info("Give every class at least one clip (upload, record, or add a built-in example or the current clip), "
            "then press **Train**.", icon=":material/school:")
    st.stop()

head = model["head"]
if model["signature"] != _signature(tagger_name, layer_name):
    st.warning("The classes, clips or tagger changed since training: press **Train** again to update the model.",
               icon=":material/update:")
summary = ", ".join(f"{label}: {head.n_clips[label]} clip(s), {head.n_patches[label]} patches" for label in head.labels)
st.success(f"Trained on {model['tagger']} · {model['layer']} embeddings. {summary}.", icon=":material/check:")

current = current_clip()
current_embeddings = None
left, right = st.columns(2)
with left:
    st.subheader("Your model on the current clip")
    if current is None:
        st.info("Load a clip in the sidebar to see what your model thinks of it.", icon=":material/arrow_back:")
    else:
        try:
            current_embeddings = _embed(current, model["tagger"], model["layer"])
            prediction = predict_embeddings(head, current_embeddings)
        except GenreLabError as exc:
            st.error(f"Could not classify {current.name}: {exc}")
        else:
            st.metric(f"{current.name} sounds like", prediction.top_label,
                      f"{float(prediction.track_probabilities.max()):.0%} (mean over {len(prediction.windows)} "
                      "patches)", delta_color="off")
            st.plotly_chart(plots.probability_bars(prediction.labels, prediction.track_probabilities,
                                                   top_k=1, title="Whole clip", height=80 + 40 * len(head.labels)),
                            key="teach_probabilities")
            st.plotly_chart(prediction_figure(prediction, title="Patch by patch"), key="teach_timeline")
with right:
    st.subheader("Embedding map")
    method = st.segmented_control("Projection", MAP_METHODS, default="pca", key="teach_map_method",
                                  format_func=lambda m: {"pca": "PCA", "tsne": "t-SNE"}[m]) or "pca"
    try:
        frame = embedding_map(model["examples"], current_embeddings, method=method)
    except GenreLabError as exc:
        st.warning(str(exc), icon=":material/info:")
    else:
        st.plotly_chart(embedding_map_figure(frame), key="teach_map")
        st.caption("Each dot is 3 s of one clip, placed by its embedding. PCA keeps the two directions along which "
                   "your examples differ most and projects the current clip (stars) onto them; t-SNE places all "
                   "points together to show clusters, but its axes mean nothing. Classes that form separate "
                   "clouds are easy to learn.")
