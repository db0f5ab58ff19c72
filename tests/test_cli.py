"""The ``python -m genre_core`` CLI and ``python -m train classic``."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from genre_core.cli import main
from genre_core.config import PROJECT_ROOT
from genre_core.features import FEATURE_NAMES_GTZAN57
from tests._shared_data import GTZAN_AUDIO, GTZAN_CLIPS, GTZAN_CSV, GTZAN_SPLITS, require

#: What ``predict --json`` says of each file's headline, at least.
HEADLINE_KEYS = {"genre", "label_set", "model", "rule", "probabilities", "evidence", "how_sure"}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
       "OMP_NUM_THREADS": "1"}


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def feature_model_names():
    from genre_core.registry import default_registry

    names = [e.name for e in default_registry().entries(real_only=True) if e.kind in ("classical", "dense")]
    if not names:
        pytest.skip("no shipped feature models in models/ (train them with python -m train classic)")
    return names


@pytest.fixture
def tiny_models_dir(tmp_path):
    """A models folder with one small model trained on synthetic styles (no real data needed)."""
    from genre_core.cards import card_template, write_card
    from genre_core.features import gtzan57
    from genre_core.models import classical as C
    from genre_core.models import persistence as P
    from genre_core.synth import synth_clip

    styles = ["four-on-the-floor", "ambient-drone"]
    X = np.vstack([gtzan57(synth_clip(s, seed, duration=4.0)) for s in styles for seed in range(3)])
    y = np.repeat(styles, 3)
    model = C.tune("gnb", X, y, quick=True).estimator
    directory = tmp_path / "models" / "tiny_gnb"
    P.save_sklearn(model, directory / C.SKOPS_FILE)
    write_card(directory, card_template(
        name="tiny_gnb", display_name="tiny", kind="classical", architecture="gnb", framework="sklearn",
        artifact=C.SKOPS_FILE,
        data={"dataset": "synthetic styles", "source": "synthetic", "description": "6 clips", "n_tracks": 6,
              "label_set": sorted(styles)},
        input={"kind": "gtzan57", "window_seconds": 30.0, "hop_seconds": 15.0, "sample_rate": 22050, "shape": [57]},
        labels=sorted(styles), metrics={},
    ))
    return tmp_path / "models"


@pytest.fixture
def bad_files(tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 4)
    return corrupt, tmp_path / "missing.mp3"


def test_predict_real_clip_and_bad_files_as_json_lines(feature_model_names, bad_files):
    clip = require(GTZAN_AUDIO / "disco.00000.wav")
    corrupt, missing = bad_files
    models = ",".join(feature_model_names[:2])
    result = _run("-m", "genre_core", "predict", str(corrupt), str(clip), str(missing), "--model", models, "--json")
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()  # one object per file analysed
    found = json.loads(line)
    assert set(found) == {"file", "headline", "predictions", "notes", "seconds_analysed", "truncated"}
    assert found["file"] == str(clip) and found["truncated"] is False
    assert found["seconds_analysed"] == pytest.approx(30.0, abs=0.5)  # GTZAN clips are about 30 s
    assert [o["model"] for o in found["predictions"]] == feature_model_names[:2]
    for o in found["predictions"]:
        assert set(o["probabilities"]) == set(o["segments"][0]["probabilities"])
        assert o["genre"] == max(o["probabilities"], key=o["probabilities"].get)
        assert sum(o["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert o["segments"][0]["start"] == 0.0
    headline = found["headline"]
    assert HEADLINE_KEYS <= set(headline) and headline["label_set"] == "gtzan10"
    if headline["genre"] is not None:  # the models chosen have evidence (models/evidence/out_of_domain.json)
        chosen = next(o for o in found["predictions"] if o["model"] == headline["model"])
        assert headline["genre"] == chosen["genre"] and headline["evidence"]["model"] == headline["model"]
        assert headline["how_sure"] in ("fairly sure", "somewhat sure", "unsure")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.stderr
    assert str(corrupt) in errors[0] and "not a readable audio file" in errors[0]
    assert str(missing) in errors[1] and "no such file" in errors[1]
    assert "Traceback" not in result.stderr


def test_predict_human_readable_with_a_user_models_dir(tiny_models_dir, tmp_path):
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip

    song = tmp_path / "song.wav"
    song.write_bytes(write_wav_bytes(synth_clip("ambient-drone", seed=50, duration=5.0)))
    code, out, err = _main("predict", str(song), "--models-dir", str(tiny_models_dir), "--model", "tiny_gnb")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == str(song)
    # a model of the user's own labels has no out-of-domain evidence: no headline, and the rule says why
    assert lines[1].startswith("  headline: none.") and "checked on labelled music" in lines[1]
    assert "tiny_gnb" in out and "1 window(s)" in out
    code, out, _ = _main("predict", str(song), "--models-dir", str(tiny_models_dir), "--model", "tiny_gnb",
                         "--json", "--max-duration", "3.5")
    found = json.loads(out)
    assert code == 0 and found["predictions"][0]["segments"][0]["end"] == pytest.approx(3.5, abs=0.01)
    assert found["truncated"] is True and found["seconds_analysed"] == pytest.approx(3.5, abs=0.01)
    headline = found["headline"]
    assert HEADLINE_KEYS <= set(headline)
    assert headline["genre"] is None and headline["model"] is None and headline["evidence"] is None
    assert headline["label_set"] == "gtzan10" and headline["how_sure"] == "no evidence"
    assert "checked on labelled music" in headline["rule"]


def _synthetic_tree(root, clips: dict[str, list[tuple[str, int]]]):
    """A folder per label of 4 s synthetic clips: {label: [(style, seed), ...]}."""
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip

    for label, made in clips.items():
        (root / label).mkdir(parents=True)
        for style, seed in made:
            (root / label / f"{seed}.wav").write_bytes(write_wav_bytes(synth_clip(style, seed, duration=4.0)))
    return root


def test_evaluate_a_folder_per_label_in_text_and_json(tiny_models_dir, tmp_path):
    root = _synthetic_tree(tmp_path / "mine", {
        "four-on-the-floor": [("four-on-the-floor", 60), ("four-on-the-floor", 61)],
        "Ambient Drone": [("ambient-drone", 62), ("ambient-drone", 63)],  # normalised: ambient-drone
        "jazz": [("swing", 64)],  # not among the tiny model's labels: left out, and counted
    })
    own = "labels:ambient-drone|four-on-the-floor"
    code, out, err = _main("evaluate", str(root), "--models-dir", str(tiny_models_dir), "--model", "tiny_gnb",
                           "--details")
    assert code == 0, err
    assert out.startswith("mine: 5 clip(s) (folder per label)")
    assert f"({own})" in out and "tiny_gnb" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("tiny_gnb"))
    assert re.search(r"\b\d/4\b", row) and "1 no right answer in this vocabulary" in row
    assert "confusion, tiny_gnb (rows: true, columns: answered)" in out
    assert "Wilson score" in out
    code, out, err = _main("evaluate", str(root), "--models-dir", str(tiny_models_dir), "--model", "tiny_gnb",
                           "--json")
    assert code == 0, err
    (line,) = out.splitlines()  # one model, one vocabulary
    score = json.loads(line)
    assert (score["collection"], score["model"], score["vocabulary"], score["n"]) == ("mine", "tiny_gnb", own, 4)
    assert score["left_out"] == {"no right answer in this vocabulary": 1}
    assert score["k"] == sum(c["correct"] for c in score["clips"])
    assert score["accuracy"] == pytest.approx(score["k"] / 4)
    low, high = score["accuracy_interval_95"]
    assert 0 <= low <= score["accuracy"] <= high <= 1
    assert {c["clip"]: c["right_answers"] for c in score["clips"]} == {
        "Ambient Drone/62.wav": ["ambient-drone"], "Ambient Drone/63.wav": ["ambient-drone"],
        "four-on-the-floor/60.wav": ["four-on-the-floor"], "four-on-the-floor/61.wav": ["four-on-the-floor"]}
    counts = np.array(score["confusion_matrix"]["counts"])
    assert counts.sum() == 4 and np.trace(counts) == score["k"]


def test_evaluate_fma_layout_without_labels_is_a_usage_error(tmp_path):
    for name in ("000/000002.mp3", "001/001040.mp3"):
        (tmp_path / "fma" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fma" / name).write_bytes(b"never decoded")
    code, out, err = _main("evaluate", str(tmp_path / "fma"))
    assert code == 2 and out == ""
    assert "laid out by FMA track id" in err and "--labels" in err and "Traceback" not in err


def test_predict_unknown_model_is_a_clear_error(tiny_models_dir, bad_files):
    code, out, err = _main("predict", str(bad_files[0]), "--models-dir", str(tiny_models_dir), "--model", "nope")
    assert code == 2 and out == ""
    assert "no model named 'nope'" in err and "tiny_gnb" in err


def test_features_json_has_57_named_values():
    clip = require(GTZAN_AUDIO / "blues.00000.wav")
    code, out, err = _main("features", str(clip), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert list(result["features"]) == list(FEATURE_NAMES_GTZAN57)
    assert all(np.isfinite(v) for v in result["features"].values())
    assert 60 < result["features"]["tempo"] < 240


def test_features_of_a_bad_file_fails_cleanly(bad_files):
    code, out, err = _main("features", str(bad_files[1]))
    assert code == 1 and out == "" and "no such file" in err
    code, _, err = _main("features", str(bad_files[0]), "--set", "gtzan57")
    assert code == 1 and "not a readable audio file" in err


def test_models_lists_the_shipped_models(feature_model_names):
    code, out, _ = _main("models")
    assert code == 0
    for name in feature_model_names:
        assert name in out
    code, out, _ = _main("models", "--json")
    listed = {json.loads(line)["name"]: json.loads(line) for line in out.splitlines()}
    assert set(feature_model_names) <= set(listed)
    first = listed[feature_model_names[0]]
    assert first["source"] == "real" and first["label_set"] == "gtzan10"
    assert {"cv10", "fault_filtered_test"} <= set(first["metrics"])


# --- python -m train classic --------------------------------------------------------------


def _assert_loadable(models_dir, names, n_labels):
    from genre_core.registry import ModelRegistry

    registry = ModelRegistry([models_dir])
    assert registry.names() == sorted(names)
    for name in names:
        card = registry.get(name).card
        assert card["command"].startswith("python -m train classic")
        assert card["latency_ms_per_30s"] > 0 and card["size_bytes"] > 0
        assert len(card["labels"]) == n_labels
        probs = registry.load(name).predict_inputs(np.abs(np.random.default_rng(0).normal(size=(2, 57))) + 0.1)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    return registry


@pytest.mark.slow  # trains a model
def test_train_classic_quick_on_the_real_table(tmp_path):
    csv = require(GTZAN_CSV)
    splits = require(GTZAN_SPLITS)
    result = _run("-m", "train", "classic", "--data", str(csv), "--split-dir", str(splits), "--out",
                  str(tmp_path), "--models", "logreg,gnb,dense", "--quick", "--folds", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| gtzan_logreg |" in result.stdout
    registry = _assert_loadable(tmp_path, ["gtzan_logreg", "gtzan_gnb", "gtzan_dense"], 10)
    card = registry.get("gtzan_logreg").card
    assert card["data"]["source"] == "real" and card["data"]["n_tracks"] == 1000
    assert card["metrics"]["cv2"]["n"] == 1000 and card["metrics"]["fault_filtered_test"]["n"] == 290
    assert 0.3 < card["metrics"]["fault_filtered_test"]["accuracy"] <= 1.0
    assert "--quick" in card["command"] and str(csv) in card["command"]
    assert registry.get("gtzan_dense").card["history"]["loss"]
    # Each shipped model gets the training-track fingerprint the app checks clips against.
    from genre_core.training.fingerprints import read_fingerprint

    fingerprint = read_fingerprint(tmp_path / "gtzan_logreg")
    assert fingerprint is not None and fingerprint.vectors.shape == (1000, 57)


@pytest.mark.slow  # trains a model
def test_train_classic_from_audio_featurises_real_and_synthetic_clips(tmp_path, capsys):
    """The --audio-dir path: the 5 real GTZAN clips as one label, two synthetic styles as two more."""
    from genre_core.audio import write_wav_bytes
    from genre_core.synth import synth_clip
    from train.__main__ import main as train_main

    corpus = tmp_path / "corpus"
    (corpus / "gtzan").mkdir(parents=True)
    for genre in GTZAN_CLIPS:
        (corpus / "gtzan" / f"{genre}.wav").symlink_to(require(GTZAN_AUDIO / f"{genre}.00000.wav"))
    for style in ("swing", "ambient-drone"):
        (corpus / style).mkdir()
        for seed in range(5):
            (corpus / style / f"{seed}.wav").write_bytes(write_wav_bytes(synth_clip(style, seed, duration=4.0)))
    (corpus / "swing" / "broken.wav").write_bytes(b"not audio at all")
    out = tmp_path / "models"
    with pytest.warns(UserWarning, match="broken.wav"):
        code = train_main(["classic", "--audio-dir", str(corpus), "--dataset", "folder", "--source", "synthetic",
                           "--out", str(out), "--models", "logreg,gnb", "--quick", "--folds", "5",
                           "--prefix", "mixed"])
    assert code == 0
    registry = _assert_loadable(out, ["mixed_logreg", "mixed_gnb"], 3)
    card = registry.get("mixed_logreg").card
    assert card["data"]["n_tracks"] == 15 and card["data"]["source"] == "synthetic"
    assert card["labels"] == ["ambient-drone", "gtzan", "swing"]
    assert card["metrics"]["cv5"]["n"] == 15
    assert any("could not be read" in note for note in card["notes"])
    assert card["command"] == (f"python -m train classic --audio-dir {corpus} --dataset folder --source synthetic "
                               f"--out {out} --models logreg,gnb --quick --folds 5 --prefix mixed")


def test_train_rejects_an_unknown_model_name(capsys):
    from train.__main__ import main as train_main

    with pytest.raises(SystemExit) as info:
        train_main(["classic", "--data", "x.csv", "--models", "logreg,forest"])
    assert info.value.code == 2
    assert "unknown model(s) forest" in capsys.readouterr().err
