"""Streamlit glue shared by every page: caches, the clip sidebar, common banners.

The pages lay out widgets; everything they compute comes from ``genre_core``
through the cached wrappers here.  Decoded audio and per-clip results are
cached by the clip's content hash (``st.cache_data``); the model registry and
the loaded models live once per process (``st.cache_resource``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from genre_core.live import preload_webrtc

# A page may run before app.py (legacy pages/ mode); aiortc must load before TensorFlow.
preload_webrtc()

from genre_core.audio import MAX_DURATION, AudioError, write_wav_bytes  # noqa: E402
from genre_core.app.runtime import STALE_WITHOUT_FADE_CSS, keep_keras_state, one_blas_thread  # noqa: E402
from genre_core.errors import GenreLabError  # noqa: E402
from genre_core.session import (  # noqa: E402
    MAX_UPLOAD_MB,
    ORIGIN_RECORDING,
    ORIGIN_UPLOAD,
    UPLOAD_TYPES,
    CurrentClip,
    check_upload_size,
    clip_caption,
    clip_from_bytes,
    content_hash,
    example_catalogue,
    example_clip,
)

CLIP_KEY = "clip"
ERROR_KEY = "clip_error"
SHOW_SYNTH_KEY = "show_synthetic"


# --- caches ------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model registry…")
def get_registry() -> Any:
    """The process-wide model registry (models load lazily and stay loaded)."""
    from genre_core.registry import default_registry

    return default_registry()


def model_entries(*, include_synthetic: bool = True, kind: str | None = None) -> list[Any]:
    """Registry entries, real-data models first."""
    entries = get_registry().entries(kind=kind, real_only=not include_synthetic)
    return sorted(entries, key=lambda e: (not e.is_real_data, e.name))


@st.cache_resource(show_spinner="Loading model…")
def get_predictor(name: str) -> Any:
    """A loaded model (``registry.load`` caches too; this keeps the page code short)."""
    return get_registry().load(name)


def upload_limit_mb() -> int:
    """The upload limit Streamlit enforces (``server.maxUploadSize``)."""
    try:
        return int(st.get_option("server.maxUploadSize"))
    except Exception:  # option missing in a bare test runtime
        return MAX_UPLOAD_MB


@st.cache_data(max_entries=8, show_spinner="Decoding audio…")
def decode_bytes(digest: str, name: str, origin: str, limit_mb: int, _data: bytes) -> CurrentClip:
    """Decode upload/recording bytes; cached by their SHA-256 ``digest``."""
    return clip_from_bytes(_data, name, origin=origin, limit_mb=limit_mb, digest=digest, max_duration=MAX_DURATION)


@st.cache_data(max_entries=32, show_spinner="Rendering example…")
def load_example(key: str) -> CurrentClip:
    """A built-in example clip."""
    return example_clip(key)


@st.cache_data(max_entries=8, show_spinner=False)
def wav_for_player(digest: str, _samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit WAV bytes of the analysed clip for ``st.audio``."""
    return write_wav_bytes(_samples, sample_rate)


@st.cache_resource(show_spinner=False)
def _clip_store() -> Any:
    """Per clip digest: each model's prediction, and the clip's GTZAN-57 features under
    :data:`FEATURES`; shared by every page and session of the process, bounded by bytes
    (:class:`~genre_core.app.result_store.ResultStore`).

    Results are kept per model, not per set of models: a page that asks for
    another set (Compare adds taggers to Classify's) computes only the missing ones.
    """
    from genre_core.app.result_store import ResultStore

    return ResultStore()


#: The key of a clip's GTZAN-57 window features in :func:`_clip_store`.
FEATURES = "__gtzan57_features__"


def _analyse(current: CurrentClip, model_names: list[str], *, want_features: bool) -> tuple[Any, dict[str, Any]]:
    """The clip's GTZAN-57 features (or None) and the named models' predictions, computing what the
    store lacks in one pass (:func:`~genre_core.app.shared_inputs.analyse_clip`).

    The GTZAN-57 features serve both the GTZAN models and the training-set check,
    so whichever needs them first computes them for both.  One analysis per clip
    content at a time: a second session asking for the same clip waits for the
    first and reads its results.
    """
    from genre_core.app.shared_inputs import analyse_clip

    store = _clip_store()
    digest = current.digest
    wanted = list(dict.fromkeys(model_names))

    def lookup() -> tuple[Any, dict[str, Any], list[str]]:
        found = store.get(digest, [*wanted, FEATURES])
        features = found.pop(FEATURES, None)
        return features, found, [n for n in wanted if n not in found]

    features, found, missing = lookup()
    if not missing and (features is not None or not want_features):
        return features, found
    with store.clip_lock(digest):
        features, found, missing = lookup()  # another session may have analysed it meanwhile
        if not missing and (features is not None or not want_features):
            return features, found
        with st.spinner("Classifying…" if missing else "Computing the GTZAN-57 features…"):
            features, predictions = analyse_clip(current.samples, current.sample_rate,
                                                 [get_predictor(n) for n in missing], features=features,
                                                 want_features=want_features)
        new = {p.model: p for p in predictions}
        if features is not None:
            new[FEATURES] = features
        store.put(digest, new)
    found.update((p.model, p) for p in predictions)
    return features, found


def predictions_for(current: CurrentClip, model_names: list[str]) -> tuple[list[Any], float]:
    """Predictions of ``model_names`` on the current clip, in that order, and their seconds.

    The GTZAN-57 features are captured in the same pass (the training-set check
    reads them), and groups of models that share an input run concurrently.
    """
    _, found = _analyse(current, model_names, want_features=True)
    chosen = [found[name] for name in model_names]
    return chosen, float(sum(p.seconds for p in chosen))


def clip_features(current: CurrentClip) -> Any:
    """The clip's GTZAN-57 window features (:class:`~genre_core.app.shared_inputs.ClipFeatures`)."""
    return _analyse(current, [], want_features=True)[0]


def predictions_or_stop(current: CurrentClip, model_names: list[str]) -> tuple[list[Any], float]:
    """:func:`predictions_for`, or an error naming the clip and the end of this page's run."""
    try:
        return predictions_for(current, model_names)
    except (GenreLabError, ValueError) as exc:
        st.error(f"Could not classify {current.name}: {exc} Try a longer or louder clip.")
        st.stop()
        raise  # unreachable: st.stop() ends the run


def loadable(model_names: list[str]) -> list[str]:
    """The names among ``model_names`` whose models load; a warning names each that does not.

    One broken model folder must not blank a page: the others are still shown.
    """
    _, failures = get_registry().load_many(list(model_names))
    for name, reason in failures.items():
        st.warning(f"Model **{name}** could not be loaded and is left out: {reason}", icon=":material/warning:")
    return [n for n in model_names if n not in failures]


# --- the current clip ---------------------------------------------------------------------------


def current_clip() -> CurrentClip | None:
    """The clip every page works on, if any."""
    return st.session_state.get(CLIP_KEY)


#: Session key: this session has replaced the inputs a lost session's page left behind.
_FRESH_INPUTS = "_fresh_inputs_after_lost_session"
#: URL query parameter naming the loaded clip (a short content hash).  It outlives the session: a tab
#: whose session is gone (a restarted server, a classroom worker that died) still has it, so the new
#: session can say the clip was lost instead of silently showing none.
CLIP_PARAM = "clip"


def set_current_clip(current: CurrentClip) -> None:
    """Make ``current`` the shared clip and clear any earlier error."""
    st.session_state[CLIP_KEY] = current
    st.session_state[ERROR_KEY] = None
    st.query_params[CLIP_PARAM] = current.digest[:12]


def lost_clip_banner() -> None:
    """Say so when the URL names a clip this session does not have (its server process restarted).

    With a clip, the URL names it (again: switching pages may drop query parameters).
    """
    current = current_clip()
    if current is not None:
        if st.query_params.get(CLIP_PARAM) != current.digest[:12]:
            st.query_params[CLIP_PARAM] = current.digest[:12]
        return
    if st.query_params.get(CLIP_PARAM):
        st.warning("**Your clip is no longer on the server.** The app process that held your session stopped or "
                   "restarted, so this page started a new session without it. Load the clip again in the sidebar; "
                   "nothing else is lost.", icon=":material/sync_problem:")


def _fail(message: str) -> None:
    kept = current_clip()
    suffix = f" The previous clip ({kept.name}) is still loaded." if kept is not None else ""
    st.session_state[ERROR_KEY] = message + suffix


#: The extensions the sidebar accepts: genre_core.audio's one list, without the dots.
ACCEPTED_EXTENSIONS: tuple[str, ...] = UPLOAD_TYPES
#: What the uploader is given: ``audio/*`` first, so Streamlit leaves the extension check to
#: the decoder (an extension-less or oddly named file gets the decoder's message, not an
#: exception), then the extensions, which the browser's file picker offers.
UPLOADER_TYPES: tuple[str, ...] = ("audio/*", *ACCEPTED_EXTENSIONS)
#: Sidebar input widgets whose key carries a generation number, bumped to empty them.
UPLOAD, RECORD, EXAMPLE = "upload", "record", "example"


def formats_text() -> str:
    """The accepted formats as one comma-separated list (``wav, mp3, …``)."""
    return ", ".join(ACCEPTED_EXTENSIONS)


def upload_error_message(exc: Exception) -> str:
    """The decoder's message, then what to do; the formats are listed once, whatever the message says."""
    message = str(exc).strip()
    if formats_text() in message:
        return f"{message} Try another file."
    return f"{message} Try another file ({formats_text()})."


def _input_key(slot: str) -> str:
    """The current widget key of the sidebar's ``slot`` input (``upload_0``, ``upload_1``…)."""
    return f"{slot}_{st.session_state.get(f'_{slot}_generation', 0)}"


def _empty_input(slot: str) -> None:
    """Replace the ``slot`` widget by a fresh, empty one on this run (its old file name goes)."""
    old = _input_key(slot)
    st.session_state[f"_{slot}_generation"] = st.session_state.get(f"_{slot}_generation", 0) + 1
    st.session_state.pop(old, None)


def _forget_example() -> None:
    """An upload or recording replaces the example: clear the picker so it does not mislead."""
    st.session_state[EXAMPLE] = None


def _take_file(uploaded: Any, origin: str) -> bool:
    """Decode an uploaded or recorded file into the current clip; False (and an error) if it fails."""
    limit = upload_limit_mb()
    try:
        check_upload_size(int(uploaded.size), uploaded.name, limit)
        data = uploaded.getvalue()
        set_current_clip(decode_bytes(content_hash(data), uploaded.name, origin, limit, data))
        warm_up().ready.wait()  # decoding ran beside the warm-up; the page's models are ready after it
    except AudioError as exc:
        _fail(upload_error_message(exc))
        return False
    return True


def _on_file(slot: str, key: str) -> None:
    """Callback of the uploader and the recorder: runs before the page, so the sidebar drawn
    afterwards already shows the outcome.

    A file that becomes the clip empties the other inputs; a rejected file empties its own
    input (the previous clip stays current, and the error says so).
    """
    uploaded = st.session_state.get(key)
    if uploaded is None:  # the user removed the file: an error about it is stale
        st.session_state[ERROR_KEY] = None
        return
    origin = ORIGIN_UPLOAD if slot == UPLOAD else ORIGIN_RECORDING
    if _take_file(uploaded, origin):
        _forget_example()
        _empty_input(RECORD if slot == UPLOAD else UPLOAD)
    else:
        _empty_input(slot)


def _on_example() -> None:
    """Callback of the example picker: the example becomes the clip and the file inputs empty."""
    choice = st.session_state.get(EXAMPLE)
    if choice is None:
        return
    try:
        set_current_clip(load_example(choice))
    except (AudioError, KeyError) as exc:
        _fail(str(exc))
        st.session_state[EXAMPLE] = None
        return
    _empty_input(UPLOAD)
    _empty_input(RECORD)


def clip_sidebar() -> None:
    """The sidebar shown on every page: upload, record or pick the shared clip.

    The inputs act through callbacks, before the page runs: the most recent one
    wins, and the others are emptied, so the sidebar never shows a file name or
    example that is not the current clip.  A bad file leaves the previous clip
    loaded, empties the uploader and shows what went wrong.
    """
    limit = upload_limit_mb()
    st.sidebar.header("Your clip")
    if current_clip() is None and st.query_params.get(CLIP_PARAM) and not st.session_state.get(_FRESH_INPUTS):
        # A new session for a tab whose session was lost: its browser still shows the old session's
        # upload; fresh inputs, so the sidebar never names a file that is not the current clip.
        st.session_state[_FRESH_INPUTS] = True
        _empty_input(UPLOAD)
        _empty_input(RECORD)
    upload_key = _input_key(UPLOAD)
    st.sidebar.file_uploader(
        "Upload a song",
        type=list(UPLOADER_TYPES),
        key=upload_key,
        on_change=_on_file,
        args=(UPLOAD, upload_key),
        help=f"{formats_text()}, up to {limit} MB. Only the first {MAX_DURATION / 60:.0f} minutes are analysed.",
    )
    st.sidebar.caption(f"{formats_text()} · up to **{limit} MB** · first {MAX_DURATION / 60:.0f} min analysed")
    record_key = _input_key(RECORD)
    st.sidebar.audio_input("…or record from your microphone", sample_rate=22050, key=record_key,
                           on_change=_on_file, args=(RECORD, record_key))

    catalogue = example_catalogue()
    st.sidebar.selectbox(
        "…or pick a built-in example", list(catalogue), index=None, key=EXAMPLE, on_change=_on_example,
        placeholder="Choose an example", help="30 s example songs in synthetic styles, and short teaching sounds, all "
        "made by the project (no third-party audio).",
    )

    current = current_clip()
    if current is not None:
        st.sidebar.success(f"**Current clip:** {current.name} ({current.clip.duration:.1f} s, {current.origin})")
        for note in current.notes:
            st.sidebar.caption(f":material/info: {note}")
    else:
        st.sidebar.info("No clip yet: upload, record or pick an example.")


def error_banner() -> None:
    """Show the last input error at the top of the page, with what to do next."""
    message = st.session_state.get(ERROR_KEY)
    if message:
        st.error(message, icon=":material/error:")


def clip_hint(purpose: str = "analyse") -> None:
    """Where to load a clip from, for a page that has none yet."""
    st.info(f"Load a clip to {purpose}: upload a song, record one, or pick a built-in example in the sidebar.",
            icon=":material/arrow_back:")


def require_clip(purpose: str = "analyse") -> CurrentClip:
    """The current clip, or a hint and ``st.stop()`` when there is none."""
    current = current_clip()
    if current is None:
        clip_hint(purpose)
        st.stop()
    return current


@st.cache_resource(max_entries=2, show_spinner=False)
def _fingerprints_of(stamp: tuple) -> dict[str, Any]:
    """The GTZAN models' training fingerprints, by model name, read once per ``stamp``."""
    from genre_core.app.honesty import load_fingerprints

    return load_fingerprints(get_registry().entries(real_only=True))


def _fingerprint_stamp() -> tuple:
    """The installed training fingerprints' stamp (changes when a file is written or removed)."""
    from genre_core.app.honesty import fingerprint_stamp

    return fingerprint_stamp(get_registry().entries(real_only=True))


@st.cache_data(max_entries=16, show_spinner=False)
def _training_check(digest: str, stamp: tuple, _features: Any) -> Any:
    """The clip's :class:`~genre_core.app.honesty.OverlapReport`, cached by the clip's digest and the
    fingerprints' stamp (a rewritten fingerprint gives a new report)."""
    from genre_core.app.honesty import training_overlap

    return training_overlap(_features.features, _fingerprints_of(stamp), _features.windows)


def training_overlap_or_none(current: CurrentClip) -> Any:
    """The clip's training-track match and novelty, or ``None`` (with a caption) when it fails.

    Without fingerprints the report is empty (``checked`` is false) and no feature is computed.
    """
    from genre_core.app.honesty import OverlapReport

    stamp = _fingerprint_stamp()
    if not _fingerprints_of(stamp):
        return OverlapReport()
    try:
        return _training_check(current.digest, stamp, clip_features(current))
    except (GenreLabError, ValueError) as exc:
        st.caption(f"Could not check this clip against the training sets: {exc}")
        return None


#: What to do when the GTZAN models have no training fingerprint (it is derived from the corpus, never shipped).
FINGERPRINT_HINT: str = ("the GTZAN models' training fingerprints are not installed. With the GTZAN table, run "
                         "`python -m genre_core.training.fingerprints --data features_30_sec.csv --models models`.")


def training_flag(current: CurrentClip) -> None:
    """A warning when the clip's audio is a track the GTZAN models were trained on."""
    from genre_core.app.honesty import overlap_message

    report = training_overlap_or_none(current)
    if report is None:
        return
    if not report.checked:
        st.caption(f"Training-track check off: {FINGERPRINT_HINT}")
        return
    message = overlap_message(report, {e.name: e.card for e in get_registry().entries(real_only=True)})
    if message:
        st.warning(message, icon=":material/school:")


def clip_header(current: CurrentClip, *, player: bool = True, notes: bool = True) -> None:
    """Caption, optional player, the clip's notes and the training-track flag."""
    st.caption(clip_caption(current))
    if player:
        st.audio(wav_for_player(current.digest, current.samples, current.sample_rate), format="audio/wav")
    if notes and current.notes:
        st.info(" ".join(current.notes), icon=":material/info:")
    training_flag(current)


@st.cache_resource(show_spinner=False)
def _player_component() -> Any:
    """The playhead/click-to-seek component (:data:`~genre_core.app.spectro_views.PLAYHEAD_JS`),
    registered once per process."""
    from genre_core.app.spectro_views import PLAYHEAD_JS

    return st.components.v2.component("genre_lab.playhead", js=PLAYHEAD_JS)


def playhead(groups: list[dict], *, key: str) -> None:
    """Playheads that follow each group's audio player over its charts, and click-to-seek on them.

    ``groups`` is ``[{"player": container key, "charts": [chart keys]}]``; the charts' x axes
    must be song time in seconds.
    """
    _player_component()(data={"groups": groups}, key=key, height=0)


# --- the headline (one evaluation policy: genre_core.evaluation) ------------------------------------

#: Session key of the headline's vocabulary, shared by every page that shows the headline.
HEADLINE_SET_KEY = "headline_label_set"


def _evidence_stamp() -> tuple:
    """(path, size, mtime) of each model folder's evidence file: a rewritten file is read again."""
    from genre_core.evaluation import EVIDENCE_FILE
    from genre_core.config import MODELS_DIR

    stamp = []
    for directory in get_registry().dirs:
        path = directory / EVIDENCE_FILE.relative_to(MODELS_DIR)
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((str(path), int(info.st_size), int(info.st_mtime_ns)))
    return tuple(stamp)


@st.cache_resource(max_entries=2, show_spinner=False)
def _evidence_of(stamp: tuple) -> dict:
    from genre_core.evaluation import read_evidence_dirs

    return read_evidence_dirs(get_registry().dirs)


def evidence() -> dict:
    """The stored out-of-domain evidence of the installed models (empty, with a caption, if unusable)."""
    try:
        return _evidence_of(_evidence_stamp())
    except GenreLabError as exc:
        st.caption(f"The headline's evidence could not be read: {exc}")
        return {}


def headline_label_set(key: str) -> str:
    """A picker of the headline's vocabulary (GTZAN's 10 genres by default); the choice is shared by pages."""
    from genre_core.evaluation import VOCABULARY_TITLES, headline_vocabularies

    options = headline_vocabularies(get_registry().entries(), evidence()) or ["gtzan10"]
    current = st.session_state.get(HEADLINE_SET_KEY, "gtzan10")
    current = current if current in options else options[0]
    if len(options) > 1:
        chosen = st.segmented_control(
            "Headline in", options, default=current, key=key,
            format_func=lambda v: VOCABULARY_TITLES.get(v, v)[:1].upper() + VOCABULARY_TITLES.get(v, v)[1:],
            help="The vocabulary the headline answers in. GTZAN's 10 genres are the ones this lab teaches with; "
                 "FMA's 8, or a tagger's own genre tags, are the other choices.") or current
    else:
        chosen = current
    st.session_state[HEADLINE_SET_KEY] = chosen
    return chosen


def headline_models(label_set: str) -> list[str]:
    """The model(s) the headline needs in ``label_set``: the best by evidence (run even when not picked)."""
    from genre_core.evaluation import rank_by_evidence

    return rank_by_evidence(get_registry().names(), label_set, evidence())[:1]


def headline_for(predictions: list[Any], label_set: str, novelty: Any = None) -> Any:
    """The clip's :class:`~genre_core.evaluation.Headline`, by the rule the CLI uses too."""
    from genre_core.evaluation import choose_headline
    from genre_core.session import display_name

    cards = {e.name: e.card for e in get_registry().entries()}
    names = {n: display_name(c, n) for n, c in cards.items()}
    return choose_headline(predictions, label_set, evidence(), cards, names=names,
                           unlike_training=bool(novelty is not None and novelty.unlike_training))


def headline_block(headline: Any) -> None:
    """The headline in large type, its model, evidence, how sure, and the rule."""
    from genre_core.app.honesty import reliability_warnings
    from genre_core.session import display_name

    cards = {e.name: e.card for e in get_registry().entries()}
    if headline.genre is None:
        st.info(headline.rule, icon=":material/help:")
        return
    left, right = st.columns([1, 2])
    with left:
        st.metric("Headline answer", headline.genre, help=headline.rule)
    with right:
        name = display_name(cards.get(headline.model, {}), headline.model)
        st.markdown(f"from **{name}**, the model with the best evidence on real music outside its training data.")
        st.markdown(f"**How sure: {headline.sure}.** {headline.sure_because}")
        for message in reliability_warnings(headline, None, cards):
            st.warning(message, icon=":material/report:")
    st.caption("**Rule:** " + headline.rule)


def data_badge(entry_or_card: Any) -> None:
    """A coloured badge: real data (green) or synthetic demo (violet)."""
    card = getattr(entry_or_card, "card", entry_or_card)
    source = (card.get("data") or {}).get("source", "unknown")
    dataset = (card.get("data") or {}).get("dataset", "?")
    if card.get("kind") == "tagger":
        st.badge(f"pretrained tagger · {dataset.upper()} · authors' weights", icon=":material/sell:", color="blue")
    elif source == "real":
        st.badge(f"real data · {dataset}", icon=":material/verified:", color="green")
    else:
        st.badge("synthetic demo · trained on synthetic styles", icon=":material/science:", color="violet")


# --- the app frame ------------------------------------------------------------------------------

PAGE_FILES: tuple[tuple[str, str, str], ...] = (
    ("pages/classify.py", "Classify", ":material/graphic_eq:"),
    ("pages/spectrogram_lab.py", "Spectrogram lab", ":material/science:"),
    ("pages/inside_cnn.py", "Inside the CNN", ":material/neurology:"),
    ("pages/compare_models.py", "Compare models", ":material/leaderboard:"),
    ("pages/live.py", "Live", ":material/mic:"),
    ("pages/teach_it.py", "Teach it", ":material/school:"),
)


def warm_up() -> Any:
    """Warm the default models once per server process (:func:`genre_core.app.warm.start_warm_up`).

    Already under way when the app was started by ``make run`` (the launcher warms
    before the server opens); started here on the first page view under a plain
    ``streamlit run app.py``.  Its ``ready`` event is set once the default models are warm.
    """
    from genre_core.app.warm import start_warm_up

    return start_warm_up(get_registry())


def run_app() -> None:
    """Navigation, the shared clip sidebar and banners, then the selected page."""
    st.set_page_config(page_title="Genre Lab", page_icon=":material/graphic_eq:", layout="wide")
    st.html(STALE_WITHOUT_FADE_CSS)  # style only: sent to the event container, takes no space
    keep_keras_state()
    one_blas_thread()
    warm_up()
    pages = [
        st.Page(path, title=title, icon=icon, default=(i == 0))
        for i, (path, title, icon) in enumerate(PAGE_FILES)
    ]
    navigation = st.navigation(pages)
    clip_sidebar()
    error_banner()
    lost_clip_banner()
    navigation.run()


def ensure_app_frame() -> None:
    """Route through :func:`run_app` when Streamlit ran this page file directly.

    Until ``st.navigation`` has run once in the process (and on every AppTest
    run), Streamlit treats ``pages/`` as a legacy multipage folder and executes
    a requested page without ``app.py``, which would drop the shared sidebar.
    The flag below is Streamlit's own record of that mode; calling
    :func:`run_app` switches to ``st.navigation``, which resolves the same page
    by its URL and runs it inside the frame.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        run_app()
        st.stop()
