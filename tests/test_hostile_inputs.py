"""Hostile inputs: every case of the reliability issue, on tiny generated files.

Each case states what must happen: a specific error naming the input, or a
note, never a traceback, and never one bad input stopping the others.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile

import numpy as np
import pytest
import soundfile as sf

from genre_core import cards
from genre_core.audio import SUPPORTED_EXTENSIONS, AudioError, load_audio
from genre_core.cli import main
from genre_core.config import MODELS_DIR
from genre_core.errors import GenreLabError, ModelLoadError, UntrustedModelError, UsageError
from genre_core.models import classical as C
from genre_core.models import persistence as P
from genre_core.registry import ModelRegistry

SR = 22050


def _tone(seconds: float, sr: int = SR, amp: float = 0.3, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _encode(data: np.ndarray, sr: int = SR, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --- audio: path and bytes give one verdict --------------------------------------------------


def _mp3(seconds: float) -> bytes:
    return _encode(_tone(seconds), fmt="MP3", subtype="MPEG_LAYER_III")


def _headerless_mp3() -> bytes:
    data = _mp3(15.0)
    return data[len(data) // 3: 2 * len(data) // 3]


def _stereo(right_gain: float) -> bytes:
    left = _tone(4.0) + 0.05 * np.sin(np.arange(4 * SR) / 7.0).astype(np.float32)
    return _encode(np.stack([left, right_gain * left], axis=1))


def _clipped() -> bytes:
    return _encode(np.clip(4 * _tone(4.0), -1, 1))


#: name → (file name, bytes, expected): ("error", regex) must raise AudioError
#: matching it; ("note", regex) must load with a note matching it; ("ok", None)
#: must load with no note.
AUDIO_CASES = {
    "non-audio .mp3": ("song.mp3", lambda: b"this is text, not an mp3\n" * 40, ("error", "not audio")),
    # A fragment cut from the middle of a song: classified, and flagged as a cut file either way.
    "headerless mp3 fragment": ("frag.mp3", _headerless_mp3, ("note", "may be truncated")),
    "truncated flac": ("cut.flac", lambda: (lambda d: d[: len(d) // 2])(_encode(_tone(8.0), fmt="FLAC")),
                       ("note", "damaged after|may be truncated")),
    "truncated mp3": ("cut.mp3", lambda: (lambda d: d[: len(d) // 2])(_mp3(8.0)),
                      ("note", "damaged after|may be truncated")),
    "stereo L = -R": ("phase.wav", lambda: _stereo(-1.0), ("error", "cancel out when mixed down to mono")),
    "stereo nearly L = -R": ("phase2.wav", lambda: _stereo(-0.9), ("note", "out of phase")),
    "one sample short of 3 s": ("short.wav", lambda: _encode(np.resize(_tone(3.0), 3 * SR - 1)),
                                ("error", r"2\.99995 s long \(66149 samples")),
    "float peaking at 1.6e6": ("loud.wav", lambda: _encode(_tone(4.0, amp=1.6e6), subtype="FLOAT"),
                               ("error", "far outside the ±1 range")),
    "float peaking at 3": ("hot.wav", lambda: _encode(_tone(4.0, amp=3.0), subtype="FLOAT"),
                           ("note", "beyond full scale: the levels are out of the usual range")),
    "float peaking at 1.2": ("warm.wav", lambda: _encode(_tone(4.0, amp=1.2), subtype="FLOAT"),
                             ("note", "slightly beyond full scale")),
    "clipped": ("clipped.wav", _clipped, ("note", "clipped")),
    "NaN samples": ("nan.wav", lambda: _encode(np.where(np.arange(4 * SR) == 5000, np.nan, _tone(4.0)),
                                               subtype="FLOAT"), ("error", "NaN")),
    "silence": ("quiet.wav", lambda: _encode(np.zeros(4 * SR, np.float32)), ("error", "silent")),
    "empty": ("empty.wav", lambda: b"", ("error", "empty")),
    "aiff": ("song.aiff", lambda: _encode(_tone(4.0), fmt="AIFF", subtype="PCM_16"), ("ok", None)),
    "extension-less upload": ("upload", lambda: _encode(_tone(4.0)), ("ok", None)),
}


def _verdict(source, name: str):
    try:
        clip = load_audio(source, name=name)
    except AudioError as exc:
        return "error", str(exc), None
    return "ok", clip.notes, clip.samples


@pytest.mark.parametrize("case", sorted(AUDIO_CASES))
def test_audio_case_gives_one_verdict_from_path_and_bytes(case, tmp_path):
    file_name, make, (kind, pattern) = AUDIO_CASES[case]
    data = make()
    path = tmp_path / file_name
    path.write_bytes(data)
    from_path = _verdict(path, file_name)
    from_bytes = _verdict(data, file_name)
    assert from_path[:2] == from_bytes[:2], (from_path[:2], from_bytes[:2])
    if from_path[2] is not None:
        # exact: bytes are decoded from a temporary file by the same decoder, blocks and resampler
        np.testing.assert_array_equal(from_path[2], from_bytes[2])
    outcome, detail, _ = from_path
    if kind == "error":
        assert outcome == "error", f"{case}: accepted with notes {detail}"
        assert detail.startswith(f"{file_name}: ")
        assert re.search(pattern, detail), detail
        assert "pipe" not in detail
        assert "silent" not in detail or case == "silence"
    else:
        assert outcome == "ok", f"{case}: {detail}"
        if kind == "note":
            assert any(re.search(pattern, note) for note in detail), detail
        else:
            assert detail == ()


def test_supported_extensions_is_one_constant_with_aiff():
    assert {".wav", ".mp3", ".ogg", ".flac", ".au", ".aiff", ".aif"} <= set(SUPPORTED_EXTENSIONS)


def test_decoder_chatter_never_reaches_stderr(capfd, tmp_path):
    (tmp_path / "frag.mp3").write_bytes(_headerless_mp3())
    load_audio(tmp_path / "frag.mp3")
    load_audio((lambda d: d[: len(d) // 2])(_mp3(8.0)), name="cut.mp3")
    with pytest.raises(AudioError):
        load_audio(b"\xff\xfb\x90\x64" + bytes(range(256)) * 7, name="junk.mp3")
    err = capfd.readouterr().err
    assert "mpg123" not in err and "Note:" not in err and "resync" not in err, err


def test_tiny_max_duration_is_a_usage_error_not_an_audio_error():
    with pytest.raises(UsageError, match=r"max_duration 1e-09 s is shorter than the 3 s minimum"):
        load_audio(_encode(_tone(4.0)), name="x.wav", max_duration=1e-9)
    # infinity means no limit
    assert not load_audio(_encode(_tone(4.0)), name="x.wav", max_duration=float("inf")).truncated


# --- cards ---------------------------------------------------------------------------------


def _card(name: str = "m", **overrides) -> dict:
    card = cards.card_template(
        name=name, display_name=name, kind="classical", architecture="gnb", framework="sklearn",
        artifact=C.SKOPS_FILE,
        data={"dataset": "synthetic styles", "source": "synthetic", "description": "6 clips", "n_tracks": 6,
              "label_set": "custom2"},
        input={"kind": "gtzan57", "window_seconds": 30.0, "hop_seconds": 15.0, "sample_rate": 22050, "shape": [57]},
        labels=["ambient-drone", "four-on-the-floor"], metrics={"cv10": {"accuracy": 0.5, "macro_f1": 0.5}},
    )
    card.update(overrides)
    return card


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _raw_card(text_of_card: str) -> str:
    return text_of_card


CARD_CASES = {
    "deeply nested (past the recursion limit)": (
        lambda: json.dumps(_card())[:-1] + ', "hyperparameters": ' + _nested(100_000) + "}",
        "nested too deeply"),
    "nested 40 levels": (lambda: json.dumps(_card(hyperparameters=json.loads(_nested(40)))), "nested more than 32"),
    "accuracy 'very high'": (lambda: json.dumps(_card(metrics={"cv10": {"accuracy": "very high"}})),
                             r"metrics\.cv10\.accuracy: 'very high' is not of type"),
    "accuracy NaN": (lambda: json.dumps(_card(metrics={"cv10": {"accuracy": float("nan")}})),
                     "NaN is not a valid JSON number"),
    "window 0.001 s": (lambda: json.dumps(_card(input={**_card()["input"], "window_seconds": 0.001})),
                       r"input\.window_seconds: 0\.001 is less than the minimum of 1"),
    "sample_rate 0": (lambda: json.dumps(_card(input={**_card()["input"], "sample_rate": 0})),
                      r"input\.sample_rate: 0 is less than the minimum of 8000"),
    "labels not strings": (lambda: json.dumps(_card(labels=[1, 2])), "labels must be a list of at least two strings"),
}


@pytest.mark.parametrize("case", sorted(CARD_CASES))
def test_bad_card_is_refused_with_the_reason_and_the_file(case, tmp_path):
    make, pattern = CARD_CASES[case]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "card.json").write_text(make())
    with pytest.raises(cards.CardError, match=pattern) as info:
        cards.read_card(tmp_path / "m")
    assert str(tmp_path / "m" / "card.json") in str(info.value)


def test_an_oversized_card_is_refused_without_reading_it(tmp_path):
    (tmp_path / "m").mkdir()
    with open(tmp_path / "m" / "card.json", "wb") as handle:
        handle.truncate(cards.MAX_CARD_BYTES + 1)  # sparse: costs no disk or memory
    with pytest.raises(cards.CardError, match="too large for a model card"):
        cards.read_card(tmp_path / "m")


def test_a_tagger_card_passes_the_schema(tmp_path):
    card = _card("tagger", kind="tagger", framework="keras", artifact="model.keras",
                 input={"kind": "musicnn_logmel", "window_seconds": 2.992, "hop_seconds": 2.992,
                        "sample_rate": 16000, "shape": [187, 96]},
                 labels=["rock", "pop", "jazz"], metrics={})
    cards.write_card(tmp_path / "tagger", card)
    assert cards.read_card(tmp_path / "tagger")["input"]["sample_rate"] == 16000


# --- model folders: one bad model never stops the others -----------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A real, loadable 2-class GTZAN-57 model folder (trained on synthetic clips)."""
    from genre_core.features import gtzan57
    from genre_core.synth import synth_clip

    styles = ["ambient-drone", "four-on-the-floor"]
    X = np.vstack([gtzan57(synth_clip(s, seed, duration=4.0)) for s in styles for seed in range(3)])
    model = C.tune("gnb", X, np.repeat(styles, 3), quick=True).estimator
    directory = tmp_path_factory.mktemp("tiny") / "tiny_gnb"
    P.save_sklearn(model, directory / C.SKOPS_FILE)
    cards.write_card(directory, _card("tiny_gnb"))
    return directory


def _copy_model(tiny_model, root, name, **card_overrides):
    directory = root / name
    shutil.copytree(tiny_model, directory)
    card = json.loads((directory / "card.json").read_text())
    card.update(name=name, **card_overrides)
    (directory / "card.json").write_text(json.dumps(card))
    return directory


def _skops_dict(directory):
    import skops.io as sio

    sio.dump({"classes_": [1, 2]}, directory / C.SKOPS_FILE)


def _skops_bomb(directory):
    import skops.io as sio

    sio.dump(np.zeros(400_000), directory / C.SKOPS_FILE)  # 3.2 MB of zeros; the test lowers the cap to 1 MiB


def _npy_header_lies(directory):
    with zipfile.ZipFile(directory / C.SKOPS_FILE, "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        archive.writestr("x.npy", header.getvalue())  # the header alone: no data behind it


def _keras_from(directory, edit):
    """The shipped dense net's .keras file with its config.json edited."""
    source = MODELS_DIR / "gtzan_dense" / "model.keras"
    if not source.exists():
        pytest.skip("models/gtzan_dense/model.keras is absent (train it with python -m train classic)")
    target = directory / "model.keras"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    (directory / C.SKOPS_FILE).unlink()
    card = json.loads((directory / "card.json").read_text())
    card.update(kind="dense", framework="keras", artifact="model.keras")
    (directory / "card.json").write_text(json.dumps(card))


def _os_system_layer(config):
    config["config"]["layers"][2].update(module="os", class_name="system")


def _unknown_keras_layer(config):
    config["config"]["layers"][2].update(module="keras.layers", class_name="NoSuchLayer")


#: name → (how to spoil a copy of the tiny model, expected error class, message pattern)
MODEL_CASES = {
    "skops holding a dict": (_skops_dict, ModelLoadError, "holds a dict, not a fitted classifier"),
    "skops zip bomb": (_skops_bomb, ModelLoadError, "decompression bomb"),
    "npy header declaring 8 TB": (_npy_header_lies, ModelLoadError, "decompression bomb"),
    "keras config naming os.system": (lambda d: _keras_from(d, _os_system_layer), UntrustedModelError,
                                      "module 'os' \\(class 'system'\\)"),
    "keras config naming an unknown layer": (lambda d: _keras_from(d, _unknown_keras_layer), ModelLoadError,
                                             "not a loadable Keras model"),
    "artifact missing": (lambda d: (d / C.SKOPS_FILE).unlink(), ModelLoadError, "not found"),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_bad_model_is_skipped_with_its_folder_and_reason(case, tiny_model, tmp_path, monkeypatch):
    spoil, error, pattern = MODEL_CASES[case]
    monkeypatch.setattr(P, "MAX_UNPACKED_BYTES", 1024 * 1024)
    _copy_model(tiny_model, tmp_path, "good")
    bad = _copy_model(tiny_model, tmp_path, "bad")
    spoil(bad)
    registry = ModelRegistry([tmp_path])
    with pytest.raises(error, match=pattern):
        registry.load("bad")
    predictors, failures = registry.load_many(["bad", "good"])
    assert [p.name for p in predictors] == ["good"]
    assert list(failures) == ["bad"] and str(bad) in failures["bad"]
    assert re.search(pattern, failures["bad"])


def test_a_loader_crash_is_isolated_and_remembered(tiny_model, tmp_path, monkeypatch):
    import genre_core.models.feature_predictor as feature_predictor

    _copy_model(tiny_model, tmp_path, "crashy")
    calls = []

    def crash(directory, card):
        calls.append(directory)
        raise TypeError("__init__() got an unexpected keyword argument")

    monkeypatch.setattr(feature_predictor, "load_predictor", crash)
    registry = ModelRegistry([tmp_path])
    with pytest.raises(ModelLoadError, match="crashy.*TypeError"):
        registry.load("crashy")
    with pytest.raises(ModelLoadError):
        registry.load("crashy")
    assert len(calls) == 1


# --- the CLI: one line per failure, every file attempted ------------------------------------------


@pytest.fixture
def song(tmp_path):
    from genre_core.synth import synth_clip

    def make(name: str, seconds: float = 5.0):
        path = tmp_path / name
        path.write_bytes(_encode(synth_clip("ambient-drone", seed=3, duration=seconds)))
        return path

    return make


def test_cli_goes_on_past_a_file_name_too_long(song, tiny_model):
    first, last = song("a.wav"), song("b.wav")
    too_long = first.parent / ("x" * 300 + ".wav")
    code, out, err = _main("predict", str(first), str(too_long), str(last), "--models-dir",
                           str(tiny_model.parent), "--model", "tiny_gnb", "--json")
    assert code == 1
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(first), str(last)]
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert str(too_long) in line and "File name too long" in line
    assert "Traceback" not in err


def test_cli_max_duration_inf_means_no_limit_and_tiny_is_refused(song, capsys):
    path = song("c.wav")
    code, out, err = _main("features", str(path), "--max-duration", "inf", "--json")
    assert code == 0, err
    assert json.loads(out)["seconds"] == pytest.approx(5.0, abs=0.01)
    with pytest.raises(SystemExit) as info:
        _main("features", str(path), "--max-duration", "1e-9")
    assert info.value.code == 2
    assert "expected at least 3 s" in capsys.readouterr().err


def test_cli_reports_truncation_in_json_and_on_stderr(song, tiny_model):
    path = song("long.wav", seconds=20.0)
    code, out, err = _main("predict", str(path), "--models-dir", str(tiny_model.parent), "--model", "tiny_gnb",
                           "--json", "--max-duration", "12")
    assert code == 0, err
    result = json.loads(out)
    assert result["truncated"] and result["seconds_analysed"] == pytest.approx(12.0)
    assert any("Only the first 12 s of 20 s were analysed" in note for note in result["notes"])
    assert f"note: {path}: Only the first 12 s of 20 s" in err


def test_cli_bad_cards_are_skipped_and_named_while_the_rest_works(song, tiny_model, tmp_path):
    root = tmp_path / "user_models"
    _copy_model(tiny_model, root, "tiny_gnb")
    _copy_model(tiny_model, root, "boasting", metrics={"cv10": {"accuracy": "very high"}})
    _copy_model(tiny_model, root, "hasty", input={**_card()["input"], "window_seconds": 0.001})
    deep = _copy_model(tiny_model, root, "deep")
    (deep / "card.json").write_text(_nested(100_000))
    code, out, err = _main("models", "--models-dir", str(root))
    assert code == 0 and "tiny_gnb" in out
    for name in ("boasting", "hasty", "deep"):
        assert any(line.startswith("warning: skipping model folder") and str(root / name) in line
                   for line in err.splitlines()), err
    assert "recursion" not in err
    code, out, err = _main("predict", str(song("d.wav")), "--models-dir", str(root), "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["file"].endswith("d.wav")


def test_cli_a_refused_model_is_one_line_and_the_others_run(song, tiny_model, tmp_path):
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    root = tmp_path / "user_models"
    _copy_model(tiny_model, root, "tiny_gnb")
    evil = _copy_model(tiny_model, root, "evil")
    sio.dump(Pipeline([("run", FunctionTransformer(os.system))]), evil / C.SKOPS_FILE)
    code, out, err = _main("predict", str(song("e.wav")), "--models-dir", str(root), "--model", "evil,tiny_gnb",
                           "--json")
    assert code == 1
    assert [p["model"] for line in out.splitlines() for p in json.loads(line)["predictions"]] == ["tiny_gnb"]
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "model 'evil'" in line and "allow-list" in line and str(evil) in line


def test_cli_a_bug_shows_as_one_and_the_next_file_still_runs(song, tiny_model, monkeypatch):
    import genre_core.stream as stream

    original = stream.predict_file

    def flaky(path, *args, **kwargs):
        if str(path).endswith("f.wav"):
            raise ZeroDivisionError("a bug")
        return original(path, *args, **kwargs)

    monkeypatch.setattr(stream, "predict_file", flaky)
    first, second = song("f.wav"), song("g.wav")
    code, out, err = _main("predict", str(first), str(second), "--models-dir", str(tiny_model.parent),
                           "--model", "tiny_gnb", "--json")
    assert code == 3
    assert "Traceback" in err and f"error: {first}: internal error, this is a bug" in err
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(second)]


def test_cli_a_model_failing_on_one_file_does_not_stop_the_others(song, tiny_model, monkeypatch):
    from genre_core.models.feature_predictor import FeaturePredictor

    original = FeaturePredictor.predict_inputs
    monkeypatch.setattr(FeaturePredictor, "predict_inputs",
                        lambda self, inputs: original(self, inputs) * np.nan if self.name == "twin" else
                        original(self, inputs))
    root = tiny_model.parent.parent / "twins"
    if not root.exists():
        _copy_model(tiny_model, root, "tiny_gnb")
        _copy_model(tiny_model, root, "twin")
    code, out, err = _main("predict", str(song("h.wav")), "--models-dir", str(root), "--model", "twin,tiny_gnb",
                           "--json")
    assert code == 1
    assert [p["model"] for line in out.splitlines() for p in json.loads(line)["predictions"]] == ["tiny_gnb"]
    assert "model 'twin' failed: model 'twin' returned non-finite probabilities" in err


# --- streaming: flat memory with the windows of one whole pass ----------------------------------


class _WindowMeans:
    """A fake model: one feature per window (its mean square), scheme as frame_windows or segments."""

    def __init__(self, window: float, hop: float, segments: bool = False) -> None:
        self.name, self.labels, self.card = f"means_{window:g}_{hop:g}", ("a", "b"), {}
        self.window_hop = (window, hop)
        self.input_key = ("means", window, hop)
        self.segments = segments
        self.longest = 0

    def prepare(self, samples, sample_rate):
        from genre_core.windows import frame_windows
        from genre_core.windows import segment_bounds

        self.longest = max(self.longest, len(samples))
        bounds = (segment_bounds(len(samples), sample_rate, self.window_hop[0]) if self.segments
                  else frame_windows(len(samples), sample_rate, *self.window_hop))
        energy = np.array([float(np.mean(samples[s:e].astype(np.float64) ** 2)) for s, e in bounds])
        return [(s / sample_rate, e / sample_rate) for s, e in bounds], energy

    def predict_inputs(self, inputs):
        p = np.clip(np.asarray(inputs), 0, 1)[:, None]
        return np.hstack([p, 1 - p])


@pytest.mark.parametrize("seconds", [10.0, 44.0, 165.0, 166.0, 1000.3, 7200.0])
def test_chunked_analysis_equals_one_pass_and_stays_bounded(seconds):
    from genre_core.stream import analyse_blocks

    sr = 100  # a low rate keeps a 2-hour signal small; the chunk plan is in samples either way
    rng = np.random.default_rng(int(seconds))
    y = rng.uniform(-1, 1, int(seconds * sr)).astype(np.float32)
    blocks = [y[i:i + 777] for i in range(0, len(y), 777)]
    for make in (lambda: _WindowMeans(30.0, 15.0), lambda: _WindowMeans(3.0, 3.0, segments=True)):
        whole_model, chunked_model = make(), make()
        whole = analyse_blocks([y], sr, [whole_model], chunk_seconds=1e9).predictions[0]
        chunked = analyse_blocks(blocks, sr, [chunked_model]).predictions[0]
        np.testing.assert_allclose(np.array(chunked.windows), np.array(whole.windows), rtol=0, atol=1e-9)
        np.testing.assert_allclose(chunked.window_probabilities, whole.window_probabilities, rtol=1e-12)
        # peak input size depends on the chunk plan, never on the song's length
        assert chunked_model.longest <= 180 * sr


def test_stream_isolates_a_failing_model():
    from genre_core.stream import analyse_blocks

    class Broken(_WindowMeans):
        def predict_inputs(self, inputs):
            return np.full((len(inputs), 3), 0.5)

    good, broken = _WindowMeans(30.0, 15.0), Broken(30.0, 15.0)
    broken.name = "broken"
    result = analyse_blocks([np.ones(400 * 100, np.float32)], 100, [broken, good])
    assert [p.model for p in result.predictions] == [good.name]
    assert re.search(r"'broken' returned probabilities of shape \(\d+, 3\), expected \(\d+, 2\)",
                     str(result.failures["broken"]))
    assert isinstance(result.failures["broken"], GenreLabError)


def test_predict_file_matches_load_then_predict_from_path_and_bytes(tiny_model, song):
    from genre_core.registry import ModelRegistry
    from genre_core.stream import analyse_blocks, predict_file

    predictor = ModelRegistry([tiny_model.parent]).load("tiny_gnb")
    path = song("i.wav", seconds=64.0)
    clip = load_audio(path)
    # chunk_seconds 20: one window per chunk, so a 64 s clip is analysed in several chunks
    expected = analyse_blocks([clip.samples], SR, [predictor], chunk_seconds=20).predictions[0]
    for source in (path, path.read_bytes()):
        got = predict_file(source, [predictor], name="i.wav", chunk_seconds=20).predictions[0]
        assert got.windows == expected.windows == [(0.0, 30.0), (15.0, 45.0), (30.0, 60.0), (34.0, 64.0)]
        # exact: same ops, same order -- the same decoded samples, the same chunk plan (so the same
        # feature rows in the same batches) and the same GaussianNB; only the blocks they arrive in differ.
        np.testing.assert_array_equal(got.window_probabilities, expected.window_probabilities)
