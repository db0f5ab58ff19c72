"""The Streamlit app, driven headlessly with ``streamlit.testing.v1.AppTest``.

Every page must load without an exception, with and without a clip; the
Classify page must show every model's probabilities; the Spectrogram lab's
sliders must change its figures; and every bad input must end in an error
element (or, for valid but unusual audio, a note), never a traceback.
"""

from __future__ import annotations

import io
import tomllib

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from genre_core.config import PROJECT_ROOT, SHARED_DATA_DIR
from genre_core.session import MAX_UPLOAD_MB, example_clip
from tests._figures import figures_by_key as _figures
from tests._figures import plotly_array as _array

APP = str(PROJECT_ROOT / "app.py")
CLASSIFY = "pages/classify.py"
LAB = "pages/spectrogram_lab.py"
CNN = "pages/inside_cnn.py"
COMPARE = "pages/compare_models.py"
LIVE = "pages/live.py"


def _page_files() -> tuple[str, ...]:
    from pages._shared import PAGE_FILES

    return tuple(path for path, _, _ in PAGE_FILES)


#: Every page the navigation lists (a page added there is tested here too).
PAGES = _page_files()
TIMEOUT = 240


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()  # registers the st.navigation pages; Classify without a clip is cheap
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str = "audio/wav") -> AppTest:
    at.get("file_uploader")[0].set_value((name, data, mime)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def _tone(seconds: float, rate: int = 22050, channels: int = 1) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    y = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return np.repeat(y[:, None], channels, axis=1)


@pytest.fixture(scope="module")
def registry():
    from genre_core.registry import default_registry

    return default_registry()


@pytest.fixture(scope="module")
def real_entries(registry):
    """The real-data genre classifiers (not the pretrained taggers, which predict tags)."""
    entries = [e for e in registry.entries(real_only=True) if e.kind != "tagger"]
    if not entries:
        pytest.skip("no real-data models in models/ (train them with python -m train.classical)")
    return entries


@pytest.fixture(scope="module")
def swing():
    return example_clip("Example song: swing")


# --- every page loads -----------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_clip(page):
    at = _open(_app(), page)
    assert at.get("title"), f"{page} rendered no title"


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_with_clip(page, swing):
    at = _app()
    at.session_state["clip"] = swing
    at = _open(at, page)
    assert at.get("title")
    if page == LAB:  # waveform, STFT, mel, MFCC (the filterbank waits for its expander)
        assert len(at.get("plotly_chart")) == 4


def test_live_page_reports_streaming_state():
    at = _open(_app(), LIVE)
    # Without a browser the WebRTC component cannot connect: the page must say
    # what to do (start button or the sidebar recorder), not fail.
    messages = " ".join(_texts(at, "info") + _texts(at, "warning") + _texts(at, "caption"))
    assert "record" in messages.lower() or "START" in messages


# --- the shared clip ---------------------------------------------------------------------------


def test_example_picker_sets_shared_clip():
    at = _app()
    at.selectbox(key="example").select("Example song: waltz").run()
    assert not at.exception
    assert at.session_state["clip"].name == "waltz"
    assert any("waltz" in s for s in _texts(at, "success"))
    # the clip survives a page switch
    at = _open(at, LAB)
    assert at.session_state["clip"].name == "waltz"
    # an upload replaces it and clears the picker, so the sidebar never shows a stale example
    _upload(at, "tone.wav", _wav(_tone(4.0), 22050))
    assert at.session_state["clip"].name == "tone.wav"
    assert at.selectbox(key="example").value is None


def test_recording_becomes_current_clip():
    at = _open(_app(), LAB)
    at.get("audio_input")[0].set_value(("recording.wav", _wav(_tone(4.0), 22050), "audio/wav")).run()
    assert not at.exception
    assert at.session_state["clip"].origin == "recording"


def test_upload_limit_matches_config():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    at = _app()
    assert f"{MAX_UPLOAD_MB} MB" in " ".join(_texts(at, "caption"))


# --- Classify ----------------------------------------------------------------------------------


def test_classify_shows_every_real_model(registry, real_entries, song_wav_bytes, real_song_path):
    from genre_core.session import display_name

    at = _app()
    name, data = ("song.wav", song_wav_bytes) if real_song_path is None else (real_song_path.name,
                                                                               real_song_path.read_bytes())
    _upload(at, name, data)
    assert at.session_state["clip"].name == name
    assert not at.get("error")
    # each model's bars are drawn only once their expander is opened
    assert not any(k.startswith("bars_") for k in _figures(at))
    at.session_state["bars_open_real0"] = True
    at.run()
    markdown = " ".join(_texts(at, "markdown"))
    for entry in real_entries:
        assert display_name(entry.card, entry.name, short=True) in markdown
    metrics = {m.label: m.value for m in at.get("metric")}
    # figures per model family: the real-data family counts its own models only
    assert metrics["Models"] == str(len(real_entries))
    assert metrics["Time taken"].endswith(" s")
    # each model's caption: its honest accuracy, then its top 3 labels with percentages
    top3 = [c for c in _texts(at, "caption") if " · 1. " in c]
    assert len(top3) >= len(real_entries)
    assert all("% accuracy on" in c and "3. " in c for c in top3)
    charts = _figures(at)
    for entry in real_entries:
        bars = charts[f"bars_{entry.name}"]["data"][0]
        assert bars["type"] == "bar"
    # synthetic models stay hidden by default
    assert not any("synthetic styles" in w for w in _texts(at, "warning"))


def test_classify_synthetic_toggle_adds_labelled_section(registry, swing):
    synthetic = [e for e in registry.entries() if not e.is_real_data]
    if not synthetic:
        pytest.skip("no synthetic demo models in models/")
    at = _app()
    at.session_state["clip"] = swing
    at.run()
    before = len(at.get("plotly_chart"))
    at.session_state["bars_open_synth0"] = True  # the synthetic section's bars, opened
    at.toggle(key="show_synthetic").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("synthetic styles" in w for w in _texts(at, "warning"))
    assert len(at.get("plotly_chart")) > before
    charts = _figures(at)
    assert all(f"bars_{e.name}" in charts for e in synthetic)


# --- Spectrogram lab ------------------------------------------------------------------------


def _trace_shape(spec: dict, index: int = 0) -> tuple[int, ...]:
    z = spec["data"][index]["z"]
    if isinstance(z, dict):  # plotly's typed-array encoding
        return tuple(int(d) for d in str(z["shape"]).split(","))
    return (len(z), len(z[0]))


@pytest.mark.parametrize(
    ("slider", "value", "chart"),
    [
        ("lab_n_mels", 64, "lab_mel"),
        ("lab_n_fft", 1024, "lab_stft"),
        ("lab_hop", 1024, "lab_mel"),
        ("lab_n_mfcc", 13, "lab_mfcc"),
        ("lab_fmax", 4000, "lab_filterbank"),
    ],
)
def test_lab_sliders_redraw_figures(slider, value, chart, swing):
    at = _app()
    at.session_state["clip"] = swing
    at.session_state["lab_filterbank_open"] = True  # the filterbank is drawn once its expander is opened
    at = _open(at, LAB)
    before = _figures(at)[chart]
    widget = next(w for w in at.get("slider") + at.get("select_slider") if w.key == slider)
    widget.set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    after = _figures(at)[chart]
    assert after["data"] != before["data"]
    if slider == "lab_n_mels":
        assert _trace_shape(before)[0] == 128 and _trace_shape(after)[0] == 64
        filter_ids = {int(i) for trace in _figures(at)["lab_filterbank"]["data"]
                      for i in _array(trace["customdata"]) if np.isfinite(i)}
        assert filter_ids == set(range(64))
    if slider == "lab_n_mfcc":
        assert _trace_shape(after)[0] == 13
    if slider == "lab_hop":
        assert _trace_shape(after)[1] < _trace_shape(before)[1]  # fewer frames
    if slider == "lab_fmax":
        top = max(float(np.nanmax(_array(trace["x"]))) for trace in after["data"])
        assert 3500 < top <= 4100


def test_lab_teaching_sounds_and_comparison():
    from genre_core.session import teaching_sound_names

    if not teaching_sound_names():
        pytest.skip("genre_core.teaching_sounds not available")
    at = _open(_app(), LAB)
    at.get("button_group")[0].set_value("Compare two sounds").run()
    assert not at.exception, [e.value for e in at.exception]
    keys = set(_figures(at))
    assert {"lab_cmp_mel_a", "lab_cmp_mel_b"} <= keys


# --- Inside the CNN and Compare models ---------------------------------------------------------


@pytest.fixture(scope="module")
def cnn_names(registry):
    from genre_core.models.deep import conv_layer_names

    names = [e.name for e in registry.entries(kind="deep") if conv_layer_names(registry.load(e.name).model)]
    if not names:
        pytest.skip("no deep model with convolution layers in models/")
    return names


@pytest.mark.parametrize("view", ["Feature maps", "What the filters look for", "Grad-CAM"])
def test_inside_cnn_views(view, cnn_names, swing):
    """The synthetic demo CNNs (the taggers are covered in test_app_taggers.py)."""
    at = _app()
    at.session_state["clip"] = swing
    at = _open(at, CNN)
    at.selectbox(key="cnn_model").set_value(cnn_names[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    at.get("button_group")[0].set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]
    charts = _figures(at)
    expected = {"Feature maps": "cnn_maps_", "What the filters look for": "cnn_patterns_first",
                "Grad-CAM": "cnn_gradcam"}[view]
    assert any(k.startswith(expected) for k in charts), sorted(charts)
    # the page says which data the model learnt from
    notes = " ".join(_texts(at, "warning") + _texts(at, "caption"))
    assert "synthetic" in notes.lower() or "real recordings" in notes.lower()


def test_compare_models_leaderboard_and_clip(registry, swing):
    entries = registry.entries()
    if not entries:
        pytest.skip("no models in models/")
    at = _app()
    at.session_state["clip"] = swing
    at = _open(at, COMPARE)
    # The leaderboard's tables: the labelled-clips section below them has "right" (scores) or "answer"
    # (wrong clips) columns.
    tables = [t for t in at.dataframe if not {"right", "answer"} & set(t.value.columns)]
    classifiers = [e for e in entries if e.kind != "tagger"]
    groups = {((e.card.get("data") or {}).get("dataset"), (e.card.get("data") or {}).get("label_set"))
              for e in classifiers}
    has_taggers = len(classifiers) < len(entries)
    assert len(tables) == len(groups) + has_taggers  # the taggers share one table of the authors' figures
    at.toggle(key="compare_show_synthetic").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    clip_groups = {tuple(e.card["labels"]) for e in classifiers}
    assert sum(k.startswith("compare_clip_") for k in _figures(at)) == len(clip_groups)
    # the detail view draws the chosen model's confusion matrix from its card
    assert "compare_confusion" in _figures(at)


# --- bad inputs ----------------------------------------------------------------------------------


def _truncated_mp3() -> bytes:
    mp3s = sorted((SHARED_DATA_DIR / "fma_small").glob("*/*.mp3"))
    if mp3s:
        return mp3s[0].read_bytes()[:2048]
    # An MPEG-1 layer III frame header followed by garbage: looks like mp3, decodes to nothing.
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(range(256)) * 7


BAD_INPUTS = {
    "text.wav": (lambda: b"This is a text file, not audio.\n" * 40, "not a readable audio file"),
    "truncated.mp3": (_truncated_mp3, "truncated.mp3"),
    "empty.wav": (lambda: b"", "empty"),
    "blip.wav": (lambda: _wav(_tone(0.01), 22050), "at least 3 s"),
    "silence.wav": (lambda: _wav(np.zeros((22050 * 4, 1), np.float32), 22050), "silent"),
    "nan.wav": (lambda: _wav(np.where(np.arange(22050 * 4)[:, None] % 100 == 0, np.nan,
                                      _tone(4.0)).astype(np.float32), 22050, "FLOAT"), "NaN"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_shows_error_not_traceback(name, tmp_path):
    make, fragment = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(make())
    at = _open(_app(), LAB)
    _upload(at, name, path.read_bytes())
    errors = _texts(at, "error")
    assert errors, f"no error element for {name}"
    assert fragment in errors[0]
    assert name in errors[0] or fragment == name
    assert "clip" not in at.session_state or at.session_state["clip"] is None


def test_file_over_limit_is_refused_with_advice(tmp_path):
    path = tmp_path / "huge.wav"
    path.write_bytes(b"\0" * ((MAX_UPLOAD_MB + 1) * 1024 * 1024))
    at = _app()
    _upload(at, path.name, path.read_bytes())
    (error,) = _texts(at, "error")
    assert f"{MAX_UPLOAD_MB} MB" in error and "shorter" in error


def test_bad_upload_keeps_previous_clip(swing):
    at = _app()
    at.session_state["clip"] = swing
    at = _open(at, LAB)
    _upload(at, "text.wav", b"not audio at all" * 100)
    assert at.session_state["clip"].name == "swing"
    assert "still loaded" in _texts(at, "error")[0]


def test_eight_channels_96k_works_with_a_note(tmp_path):
    path = tmp_path / "surround.wav"
    sf.write(path, _tone(4.0, 96000, channels=8), 96000, subtype="PCM_16")
    at = _open(_app(), LAB)
    _upload(at, path.name, path.read_bytes())
    assert not at.get("error")
    clip = at.session_state["clip"]
    assert clip.sample_rate == 22050 and clip.samples.ndim == 1
    notes = " ".join(_texts(at, "info") + _texts(at, "caption"))
    assert "8 channels" in notes and "96000 Hz" in notes


def test_long_file_is_truncated_with_a_note(tmp_path):
    # 8 kHz keeps the 601 s file small (9.6 MB) while exceeding the 600 s limit.
    path = tmp_path / "long.wav"
    sf.write(path, _tone(601.0, 8000), 8000, subtype="PCM_16")
    at = _open(_app(), LAB)
    _upload(at, path.name, path.read_bytes())
    assert not at.get("error")
    assert at.session_state["clip"].clip.truncated
    notes = " ".join(_texts(at, "info") + _texts(at, "caption"))
    assert "Only the first 600 s of 601 s were analysed" in notes


# --- the Streamlit-free helpers behind the pages ----------------------------------------------------


def test_leaderboard_view_sorts_each_label_set_by_the_honest_protocol():
    """Compare's leaderboard: one table per (data set, label set), best honest accuracy first (not best CV)."""
    from genre_core.app.honesty import leaderboard_view, protocol_phrase

    def card(dataset, label_set, source, **metrics):
        return {"data": {"dataset": dataset, "label_set": label_set, "source": source}, "kind": "classical",
                "metrics": {k: {"accuracy": v, "macro_f1": v - 0.1} for k, v in metrics.items()},
                "latency_ms_per_30s": 10.0, "size_bytes": 2_000_000}

    cards = {"a": card("GTZAN", "gtzan10", "real", cv10=0.6, fault_filtered_test=0.5),
             "b": card("GTZAN", "gtzan10", "real", cv10=0.8, fault_filtered_test=0.4),
             "c": card("synthetic", "synth7", "synthetic", test_track=0.9)}
    views = leaderboard_view(cards)
    assert [heading for heading, _, _ in views] == ["GTZAN · 10 GTZAN genres", "synthetic · 7 synthetic styles"]
    gtzan = views[0][2]
    assert list(gtzan["model key"]) == ["a", "b"]  # fault-filtered 0.5 beats 0.4, although b's CV is higher
    assert gtzan["accuracy"].tolist() == [0.5, 0.4]
    assert gtzan["random-fold CV accuracy"].tolist() == [0.6, 0.8]  # shown beside it, not sorted by
    assert "fault-filtered" in views[0][1]
    synthetic = views[1][2]
    assert "random-fold CV accuracy" not in synthetic  # empty columns are dropped
    assert synthetic["size MB"].tolist() == [2.0]
    assert protocol_phrase("cv3").startswith("3-fold cross-validation")


def test_agreement_and_timeline_helpers():
    from types import SimpleNamespace

    from genre_core.session import agreement_summary, probability_matrix, spans_time

    def pred(model, probs, windows=((0.0, 30.0),)):
        return SimpleNamespace(model=model, labels=("a", "b", "c"), probabilities=np.array(probs),
                               windows=list(windows))

    preds = [pred("m1", [0.7, 0.2, 0.1]), pred("m2", [0.1, 0.8, 0.1]), pred("m3", [0.5, 0.4, 0.1])]
    summary = agreement_summary(preds)
    assert summary["majority"] == "a" and summary["n_agree"] == 2 and not summary["unanimous"]
    assert summary["votes"] == {"a": 2, "b": 1} and not summary["tie"]
    assert agreement_summary(preds[:2])["tie"]
    models, labels, matrix = probability_matrix(preds)
    assert models == ["m1", "m2", "m3"] and matrix.shape == (3, 3)
    assert not spans_time(pred("x", [1, 0, 0], [(0.0, 30.0), (0.1, 30.1)]))
    assert spans_time(pred("x", [1, 0, 0], [(0.0, 30.0), (15.0, 45.0)]))


def test_gradcam_orientation_for_each_input_kind():
    from genre_core.session import gradcam_rows_time, time_first

    cam = np.arange(6, dtype=np.float32).reshape(3, 2)  # (frames, mels) for 'mel'
    np.testing.assert_array_equal(gradcam_rows_time(cam, "mel"), cam.T)
    np.testing.assert_array_equal(gradcam_rows_time(cam, "mel_image"), cam)
    np.testing.assert_array_equal(gradcam_rows_time(cam, "mfcc"), cam.mean(axis=1))
    assert gradcam_rows_time(np.ones(5), "raw").shape == (5,)
    assert time_first("mel") and not time_first("mel_image")


def test_clip_from_bytes_checks_size_before_decoding():
    from genre_core.audio import AudioError
    from genre_core.session import clip_from_bytes, content_hash

    data = _wav(_tone(4.0), 22050)
    current = clip_from_bytes(data, "tone.wav")
    assert current.digest == content_hash(data) and current.notes == ()
    with pytest.raises(AudioError, match="upload limit is 1 MB"):
        clip_from_bytes(b"\0" * (1024 * 1024 + 1), "big.wav", limit_mb=1)


def test_warm_up_loads_and_runs_the_default_models_once_per_process():
    """The launcher and the first page view share one warm-up; after it, Classify's models are loaded."""
    from genre_core.app import warm
    from genre_core.registry import default_registry

    registry = default_registry()
    warm_up = warm.start_warm_up(registry)
    assert warm_up.ready.wait(600), "the warm-up never finished"
    assert warm.start_warm_up(registry) is warm_up
    defaults = [e.name for e in registry.entries() if e.shown_by_default]
    if not defaults:
        pytest.skip("no model in models/ is shown by default")
    assert warm_up.seconds is not None, "the warm-up failed (see the log)"
    assert set(defaults) <= set(registry.loaded_names())
    # then every other model, and the other pages' first-use costs
    assert warm_up.done.wait(600), "the other models never finished loading"
    _, failures = registry.load_many(registry.names())
    assert set(registry.loaded_names()) == set(registry.names()) - set(failures)


def test_launcher_warms_before_handing_over_to_streamlit(monkeypatch):
    """``make run``'s launcher: models warm first, then ``streamlit run app.py`` with the user's options."""
    import streamlit.web.cli
    from threadpoolctl import threadpool_info, threadpool_limits

    from genre_core.app import launch, runtime, warm
    from genre_core.registry import default_registry

    handed: list[list[str]] = []

    def blas_threads() -> set[int]:
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    def fake_streamlit(args, prog_name):
        warm_up = warm.start_warm_up(default_registry())
        assert warm_up.ready.is_set(), "Streamlit started before the models were warm"
        assert warm_up.done.is_set(), "Streamlit started before every model was loaded"
        assert blas_threads() == {1}, "the server would run BLAS with several threads"
        handed.append(args)

    # Forget the warm-up and the BLAS limit earlier tests started in this process, so the launcher
    # must start (and wait for) its own, and start from two BLAS threads.
    monkeypatch.setattr(warm, "_STARTED", {})
    monkeypatch.setattr(runtime, "_blas_limit", [])
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == {2}
        monkeypatch.setattr(streamlit.web.cli, "main", fake_streamlit)
        launch.main(["--server.port", "8599"])
    assert handed == [["run", str(PROJECT_ROOT / "app.py"), "--server.port", "8599"]]


def test_every_page_sends_the_no_fade_css():
    """The style that turns off the stale-element fade goes out with every run, taking no space."""
    from genre_core.app.runtime import STALE_WITHOUT_FADE_CSS

    at = _app()
    at.run()
    assert [h.proto.body for h in at.get("html")] == [STALE_WITHOUT_FADE_CSS]
    assert "transition: none" in STALE_WITHOUT_FADE_CSS
    assert not at.main.get("html")  # in the event container, not the page's layout


def test_classify_without_a_clip_shows_the_models_that_will_listen(registry):
    """The landing page: before any clip, the real-data genre models' honest accuracy against latency."""
    from genre_core.app.honesty import honest_metric
    from genre_core.app.tagger_views import is_tagger

    genre_models = [e for e in registry.entries(real_only=True) if not is_tagger(e.card)]
    if len(genre_models) < 2:
        pytest.skip("fewer than two real-data genre models in models/")
    at = _app()
    chart = _figures(at)["classify_models"]["data"][0]
    assert len(chart["text"]) == len(genre_models)
    best = max(genre_models, key=lambda e: honest_metric(e.card)[1])
    accuracy = dict(zip(chart["text"], _array(chart["y"])))
    assert max(accuracy.values()) == pytest.approx(honest_metric(best.card)[1])
    assert any("Load a clip" in str(e.value) for e in at.get("alert") + at.get("info"))


def test_lab_draws_the_filterbank_only_when_asked(swing):
    at = _app()
    at.session_state["clip"] = swing
    at = _open(at, LAB)
    assert "lab_filterbank" not in _figures(at)
    assert {"lab_waveform", "lab_stft", "lab_mel", "lab_mfcc"} <= set(_figures(at))
    at.session_state["lab_filterbank_open"] = True
    at.run()
    assert "lab_filterbank" in _figures(at)
