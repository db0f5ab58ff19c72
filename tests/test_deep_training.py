"""``python -m train deep``: a tiny synthetic run, resuming, the predictor, and every architecture on real clips."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys

import numpy as np
import pytest

from genre_core.config import GTZAN_GENRES, PROJECT_ROOT, SAMPLE_RATE
from genre_core.synth import STYLES, synth_clip
from tests._shared_data import GTZAN_AUDIO, GTZAN_CLIPS, require

TINY = ["--dataset", "synthetic", "--synthetic-per-style", "3", "--synthetic-duration", "4",
        "--batch-size", "8", "--verbose", "0"]


def _args(tmp_path, *extra: str) -> list[str]:
    return [*TINY, "--out", str(tmp_path / "models"), "--logdir", str(tmp_path / "logs"), "--name", "tiny", *extra]


def _parse(argv: list[str]) -> argparse.Namespace:
    from train.deep import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two epochs of mfcc_dense on 21 four-second synthetic clips."""
    from genre_core.cards import read_card
    from train.deep import main

    tmp_path = tmp_path_factory.mktemp("deep")
    assert main(["--model", "mfcc_dense", "--epochs", "2", *_args(tmp_path)]) == 0
    return tmp_path, read_card(tmp_path / "models" / "tiny")


@pytest.mark.slow  # trains a model
def test_training_writes_a_model_and_a_complete_card(tiny_run):
    tmp_path, card = tiny_run
    assert (tmp_path / "models" / "tiny" / "model.keras").is_file()
    assert card["kind"] == "deep" and card["architecture"] == "mfcc_dense" and card["framework"] == "keras"
    assert card["labels"] == list(STYLES)
    assert card["data"]["source"] == "synthetic" and "not on real music" in " ".join(card["notes"])
    assert card["input"] == {"kind": "mfcc", "window_seconds": 3.0, "hop_seconds": 3.0,
                             "sample_rate": SAMPLE_RATE, "shape": [130, 20]}
    history = card["history"]
    assert len(history["loss"]) == len(history["val_loss"]) == len(history["lr"]) == 2
    n_test_tracks = card["data"]["splits"]["test"]["tracks"]
    for level, n in (("test_segment", 2 * n_test_tracks), ("test_track", n_test_tracks)):
        metrics = card["metrics"][level]
        assert 0.0 <= metrics["accuracy"] <= 1.0
        assert int(np.sum(metrics["confusion_matrix"])) == n
    training = card["training"]
    assert training["strategy"] == "default" and training["replicas"] == 1 and training["corrupt_records"] == 0
    assert training["samples_per_s"] > 0
    assert card["hyperparameters"]["global_batch_size"] == 8
    assert card["size_bytes"] == (tmp_path / "models" / "tiny" / "model.keras").stat().st_size
    assert card["latency_ms_per_30s"] > 0
    assert (tmp_path / "logs" / "tiny" / "train").is_dir()  # TensorBoard scalars


@pytest.mark.slow  # trains a model
def test_card_command_reproduces_the_configuration(tiny_run):
    from train.deep import config_from_args

    _, card = tiny_run
    argv = json.loads(json.dumps(card["command"])).split()
    assert argv[:4] == ["python", "-m", "train", "deep"]
    config = config_from_args(_parse(argv[4:]))
    assert config.command() == card["command"]
    assert (config.model, config.epochs, config.synthetic_per_style, config.batch_size) == ("mfcc_dense", 2, 3, 8)


@pytest.mark.slow  # trains a model
def test_resume_runs_only_the_remaining_epochs(tiny_run):
    from genre_core.cards import read_card
    from train.deep import main

    tmp_path, _ = tiny_run
    assert main(["--model", "mfcc_dense", "--epochs", "3", "--resume", *_args(tmp_path)]) == 0
    card = read_card(tmp_path / "models" / "tiny")
    assert card["hyperparameters"]["resumed_from_epoch"] == 2
    assert card["hyperparameters"]["epochs_run_this_session"] == 1
    assert card["history"]["epoch"] == [1, 2, 3]

    # Without --resume the same name starts over.
    assert main(["--model", "mfcc_dense", "--epochs", "1", *_args(tmp_path)]) == 0
    card = read_card(tmp_path / "models" / "tiny")
    assert card["hyperparameters"]["resumed_from_epoch"] == 0 and card["history"]["epoch"] == [1]


@pytest.mark.slow  # trains a model
def test_predictor_returns_probabilities_per_segment(tiny_run):
    from genre_core.models.base import Predictor
    from genre_core.models.deep_predictor import load_predictor

    tmp_path, card = tiny_run
    predictor = load_predictor(tmp_path / "models" / "tiny", card)
    assert isinstance(predictor, Predictor)
    assert predictor.input_key == ("mfcc", 3.0) and predictor.labels == tuple(STYLES)
    assert predictor.spec.name == "mfcc_dense" and predictor.model.name == "mfcc_dense"

    windows, inputs = predictor.prepare(synth_clip("swing", seed=4, duration=7.0), SAMPLE_RATE)
    assert windows == [(0.0, 3.0), (3.0, 6.0), (4.0, 7.0)] and inputs.shape == (3, 130, 20)
    probs = predictor.predict_inputs(inputs)
    assert probs.shape == (3, len(STYLES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(probs >= 0)

    short = synth_clip("waltz", seed=1, duration=1.0, sample_rate=44100)
    windows, inputs = predictor.prepare(short, 44100)  # resampled, then zero-padded to 3 s
    assert len(windows) == 1 and windows[0][1] == pytest.approx(1.0) and inputs.shape == (1, 130, 20)
    assert predictor.predict_inputs(inputs).shape == (1, len(STYLES))


def test_bad_options_fail_with_a_message(tmp_path, capsys):
    from train.deep import main

    assert main(["--model", "crnn", "--dataset", "folder", "--out", str(tmp_path), "--logdir", str(tmp_path)]) == 2
    assert "--data-dir is required" in capsys.readouterr().err
    assert main(["--model", "crnn", "--dataset", "folder", "--data-dir", str(tmp_path / "nowhere"),
                 "--out", str(tmp_path), "--logdir", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_choices_and_defaults_come_from_the_library():
    from genre_core.models.deep import ARCHITECTURES
    from genre_core.training.configs import DeepTrainingConfig

    args = _parse(["--model", "crnn", "--dataset", "synthetic"])
    defaults = DeepTrainingConfig(model="crnn")
    for name in ("segment_seconds", "epochs", "batch_size", "patience", "pretrained", "shards", "notes"):
        assert getattr(args, name) == getattr(defaults, name), name
    parser = argparse.ArgumentParser()
    from train.deep import add_arguments

    add_arguments(parser)
    choices = {a.dest: a.choices for a in parser._actions if a.choices}
    assert sorted(choices["model"]) == sorted(ARCHITECTURES)
    with pytest.raises(SystemExit):
        _parse(["--model", "crnn", "--dataset", "synthetic", "--epochs", "0"])  # positive only


def test_flags_round_trip_through_the_rebuilt_command():
    from genre_core.training.configs import DeepTrainingConfig
    from train.deep import config_from_args

    config = DeepTrainingConfig(model="mobilenet_v2", dataset="gtzan", data_dir="/d", split_dir="/s",
                                pretrained=False, augment=True, alpha=0.5, learning_rate=1e-3,
                                notes=["one", "two words"], epochs=3)
    argv = shlex.split(config.command())
    assert argv[:4] == ["python", "-m", "train", "deep"] and "--synthetic-per-style" not in argv
    assert config_from_args(_parse(argv[4:])) == config


def test_help_does_not_import_tensorflow():
    code = ("import sys; from train.__main__ import build_parser; build_parser('deep').format_help(); "
            "build_parser('transfer').format_help(); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PROJECT_ROOT)
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def gtzan_split_dir(tmp_path_factory):
    require(GTZAN_AUDIO)
    folder = tmp_path_factory.mktemp("gtzan_split")
    # No validation tracks: the run then monitors the training loss (and stays quick).
    lists = {"train": GTZAN_CLIPS[:4], "valid": (), "test": GTZAN_CLIPS[4:]}
    for split, genres in lists.items():
        (folder / f"{split}.txt").write_text("".join(f"{g}/{g}.00000.wav\n" for g in genres))
    return folder


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize("model", ["cnn1d_raw", "mfcc_dense", "mobilenet_v2", "crnn", "parallel_cnn_rnn"])
def test_every_architecture_trains_a_step_on_real_gtzan_clips(tmp_path, gtzan_split_dir, model):
    from genre_core.training.configs import DeepTrainingConfig
    from genre_core.training.deep import train_deep
    from genre_core.models.deep_predictor import load_predictor

    config = DeepTrainingConfig(
        model=model, dataset="gtzan", data_dir=str(GTZAN_AUDIO), split_dir=str(gtzan_split_dir),
        epochs=1, steps_per_epoch=1, batch_size=2, out=str(tmp_path / "models"), logdir=str(tmp_path / "logs"),
        pretrained=False, alpha=0.35, verbose=0, measure_latency=False,
    )
    card = train_deep(config)
    assert card["data"]["source"] == "real" and card["labels"] == list(GTZAN_GENRES)
    splits = card["data"]["splits"]
    assert splits["train"]["tracks"] == 4 and "valid" not in splits and card["data"]["n_skipped_tracks"] == 0
    # A 30 s clip in 3 s segments (the last aligned to the end): 11 segments.
    assert card["metrics"]["test_track"]["confusion_matrix"] is not None
    assert int(np.sum(card["metrics"]["test_segment"]["confusion_matrix"])) == 11
    assert len(card["history"]["loss"]) == 1 and np.isfinite(card["history"]["loss"][0])
    assert "val_loss" not in card["history"]
    predictor = load_predictor(tmp_path / "models" / card["name"], card)
    probs = predictor.predict_inputs(predictor.prepare(synth_clip("swing", 0, 3.5), SAMPLE_RATE)[1])
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow  # trains a model
def test_tfrecords_are_reused_only_when_they_fit(tmp_path):
    from dataclasses import replace

    from genre_core.training.configs import DeepTrainingConfig
    from genre_core.training.deep import prepare_tfrecords

    config = DeepTrainingConfig(model="mfcc_dense", synthetic_per_style=3, synthetic_duration=3.0,
                                tfrecords=str(tmp_path / "shared"), logdir=str(tmp_path / "logs"))
    directory, first = prepare_tfrecords(config, "mfcc")
    shard = sorted((tmp_path / "shared").glob("train-*.tfrecord"))[0]
    stamp = shard.stat().st_mtime_ns
    _, again = prepare_tfrecords(config, "mfcc")
    assert again == first and shard.stat().st_mtime_ns == stamp  # reused, not rewritten

    with pytest.raises(ValueError, match="other tracks"):
        prepare_tfrecords(replace(config, synthetic_per_style=4), "mfcc")
    with pytest.raises(ValueError, match="not 'mel'"):
        prepare_tfrecords(config, "mel")
    own, manifest = prepare_tfrecords(replace(config, tfrecords=None, synthetic_per_style=4), "mel")
    assert own == str(tmp_path / "logs" / "synthetic_mfcc_dense" / "tfrecords")
    assert manifest["kinds"] == ["mel"] and manifest["fingerprint"] != first["fingerprint"]
