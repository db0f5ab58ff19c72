"""Transfer learning: heads, their Keras conversion, the CLI, and end-to-end runs on real clips.

The end-to-end runs use the real audio in ../shared/data (5 GTZAN clips, 6
FMA-small clips) and the pretrained tagger in models/; they skip with the
reason when either is absent.  Five clips cannot say how good the method is:
these tests check the pipeline (featurise once, protocol, card, saved model).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from genre_core.cards import read_card
from genre_core.errors import UsageError
from genre_core.training.transfer import (
    TransferConfig,
    export_model,
    fit_dense_head,
    fit_logistic_head,
    grouped_folds,
    keras_head_probabilities,
    read_embeddings,
    run_protocol,
    sklearn_probabilities,
)
from tests._shared_data import FMA_SMALL, GTZAN_AUDIO, GTZAN_CLIPS, require

#: The six real FMA-small clips and their genre_top.
FMA_CLIPS = {2: "Hip-Hop", 10: "Pop", 140: "Folk", 1040: "Rock", 1066: "Experimental", 1082: "International"}
TAGGER_PREFERENCE = ("msd_musicnn", "msd_vgg", "mtt_musicnn", "mtt_vgg")


def _clustered(n_per_track: int, tracks_per_class: int, labels: list[str], size: int = 12, seed: int = 0):
    """Embeddings in one cluster per class, several patches per track, plus a constant column."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (len(labels), size))
    X, y, groups = [], [], []
    for k, label in enumerate(labels):
        for t in range(tracks_per_class):
            X.append(centres[k] + rng.normal(0, 1, (n_per_track, size)))
            y += [label] * n_per_track
            groups += [f"{label}.{t}"] * n_per_track
    X = np.concatenate(X).astype(np.float32)
    X[:, 0] = 5.0  # zero variance: StandardScaler's scale_ is 1 there, not 0
    return X, np.array(y, dtype=object), np.array(groups, dtype=object)


# --- heads and their conversion ---------------------------------------------------------------


@pytest.mark.parametrize("present", [["a", "b", "c"], ["a", "c"]], ids=["multiclass", "binary"])
def test_logistic_head_keras_layers_equal_sklearn(present):
    labels = ["a", "b", "c", "d"]  # "d" (and "b" in the binary case) never seen in training
    X, y, groups = _clustered(6, 4, present)
    head = fit_logistic_head(X, y, groups, labels, c_grid=(0.01, 1.0), cv_folds=3)
    rng = np.random.default_rng(1)
    probe = (X + rng.normal(0, 2, X.shape)).astype(np.float32)
    probe[:, 0] = rng.normal(5, 3, len(probe))  # off the constant: exercises the scaler's scale_ of 1
    expected = sklearn_probabilities(head.pipeline, probe, labels)
    actual = keras_head_probabilities(head.keras_layers, probe)
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    absent = [labels.index(label) for label in labels if label not in present]
    assert np.all(actual[:, absent] < 1e-6)
    np.testing.assert_allclose(actual.sum(axis=1), 1.0, atol=1e-5)
    assert head.hyperparameters["C"] in (0.01, 1.0)
    assert "grouped by track" in head.hyperparameters["method"]


def test_grouped_folds_keep_tracks_together_and_need_two_tracks_per_class():
    X, y, groups = _clustered(5, 4, ["a", "b"])
    folds = grouped_folds(y, groups, n_folds=5, seed=0)
    assert len(folds) == 4  # capped by the 4 tracks per class
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert set(y[test]) == {"a", "b"}
    one_track = groups.copy()
    one_track[y == "a"] = "a.only"
    assert grouped_folds(y, one_track, n_folds=5, seed=0) == []


def test_logistic_head_without_enough_tracks_uses_the_default_c():
    X, y, groups = _clustered(5, 1, ["a", "b"])
    head = fit_logistic_head(X, y, groups, ["a", "b"], default_c=0.5)
    assert head.hyperparameters["C"] == 0.5
    assert head.pipeline[-1].C == 0.5


def test_head_needs_two_classes():
    X, y, groups = _clustered(5, 2, ["a"])
    with pytest.raises(UsageError, match="at least two classes"):
        fit_logistic_head(X, y, groups, ["a", "b"])


@pytest.mark.slow  # trains a model
def test_dense_head_learns_separable_clusters():
    labels = ["a", "b", "c"]
    X, y, groups = _clustered(8, 3, labels, seed=2)
    head = fit_dense_head(X, y, groups, labels, units=16, epochs=40, patience=5)
    probs = head.predict_proba(X)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(np.asarray(labels)[probs.argmax(axis=1)] == y) > 0.9
    assert 1 <= head.hyperparameters["epochs"] <= 40


# --- the command line ---------------------------------------------------------------------------


def test_cli_flags_come_from_the_config_defaults():
    from train.__main__ import build_parser

    args = build_parser("transfer").parse_args(["transfer", "--dataset", "folder"])
    defaults = TransferConfig(dataset="folder")
    assert tuple(args.c_grid) == defaults.c_grid
    assert (args.backbone, args.head, args.cv_folds, args.measure_latency) == (
        defaults.backbone, defaults.head, defaults.cv_folds, defaults.measure_latency)
    with pytest.raises(SystemExit):
        build_parser("transfer").parse_args(["transfer", "--dataset", "nope"])


def test_rebuilt_command_parses_back_to_the_same_config():
    from train.__main__ import build_parser

    config = TransferConfig(dataset="gtzan", data_dir="/d", split_dir="/s", head="dense", c_grid=(0.1, 1.0),
                            measure_latency=False, seed=3)
    argv = config.command_line().split()[3:]
    args = build_parser("transfer").parse_args(argv)
    for name in ("dataset", "data_dir", "split_dir", "head", "seed", "measure_latency"):
        assert getattr(args, name) == getattr(config, name), name
    assert tuple(args.c_grid) == config.c_grid


def test_cli_reports_a_missing_folder_as_one_error_line(tmp_path, capsys):
    from train.__main__ import main

    _tagger_name()  # the backbone is loaded first; without one this is a different error
    code = main(["transfer", "--dataset", "folder", "--data-dir", str(tmp_path / "missing"),
                 "--backbone", _tagger_name(), "--out", str(tmp_path / "models"), "--logdir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: ") and "missing" in err[-1]


def test_cli_rejects_a_non_tagger_backbone(tmp_path, capsys):
    from train.__main__ import main

    from genre_core.registry import default_registry

    others = [e.name for e in default_registry().entries() if e.kind != "tagger"]
    if not others:
        pytest.skip("no non-tagger model in models/")
    code = main(["transfer", "--dataset", "folder", "--data-dir", str(tmp_path), "--backbone", others[0]])
    assert code == 2
    assert "not a pretrained tagger" in capsys.readouterr().err


# --- end to end on real clips -------------------------------------------------------------------


def _tagger_name() -> str:
    from genre_core.registry import default_registry

    names = default_registry().names()
    for name in TAGGER_PREFERENCE:
        if name in names:
            return name
    pytest.skip("no pretrained tagger in models/ (python -m train import-musicnn --out models)")


def _real_folder(root: Path) -> Path:
    """A two-class folder dataset of the 11 real clips: GTZAN recordings vs FMA recordings."""
    require(GTZAN_AUDIO)
    require(FMA_SMALL)
    for genre in GTZAN_CLIPS:
        (root / "gtzan").mkdir(parents=True, exist_ok=True)
        os.symlink(GTZAN_AUDIO / f"{genre}.00000.wav", root / "gtzan" / f"{genre}.00000.wav")
    for tid in FMA_CLIPS:
        (root / "fma").mkdir(parents=True, exist_ok=True)
        name = f"{tid:06d}"
        os.symlink(FMA_SMALL / name[:3] / f"{name}.mp3", root / "fma" / f"{name}.mp3")
    return root


def _train(argv: list[str]) -> dict:
    from train.__main__ import main

    assert main(["transfer", *argv]) == 0
    out = Path(argv[argv.index("--out") + 1])
    name = argv[argv.index("--name") + 1]
    return read_card(out / name)


@pytest.mark.slow
def test_folder_run_end_to_end_saves_a_model_equal_to_its_head_and_reuses_embeddings(tmp_path):
    from genre_core.audio import load_audio
    from genre_core.models.transfer import TransferPredictor
    from genre_core.registry import ModelRegistry, default_registry

    backbone = _tagger_name()
    data = _real_folder(tmp_path / "music")
    out, logs = tmp_path / "models", tmp_path / "logs"
    argv = ["--dataset", "folder", "--data-dir", str(data), "--backbone", backbone, "--out", str(out),
            "--logdir", str(logs), "--name", "mine", "--c-grid", "0.01", "1"]
    card = _train(argv)

    tagger = default_registry().load(backbone)
    layer = card["backbone"]["embedding_layer"]
    assert card["kind"] == "transfer" and card["framework"] == "keras" and card["multi_label"] is False
    assert card["input"] == tagger.card["input"]
    assert card["labels"] == ["fma", "gtzan"]
    assert card["data"]["source"] == "real" and card["data"]["n_tracks"] == 11
    assert card["data"]["embeddings_reused"] is False
    assert card["backbone"]["name"] == backbone and layer in tagger.embedding_sizes()
    assert card["command"] == "python -m train transfer " + " ".join(argv)
    for key in ("valid_track", "valid_segment", "test_track", "test_segment"):
        assert 0.0 <= card["metrics"][key]["accuracy"] <= 1.0
    assert card["metrics"]["test_track"]["n"] == card["data"]["splits"]["test"]["tracks"]
    assert card["metrics"]["test_segment"]["n"] == card["data"]["splits"]["test"]["segments"]
    assert card["latency_ms_per_30s"] > 0

    # The saved model loads with safe_mode=True and equals the head on the backbone's embeddings.
    predictor = ModelRegistry([out]).load("mine")
    assert isinstance(predictor, TransferPredictor) and predictor.input_key == tagger.input_key
    tfrecords = card["data"]["tfrecords"]
    splits = {s: read_embeddings(tfrecords, s, card["labels"]) for s in ("train", "valid", "test")}
    head = run_protocol(TransferConfig(dataset="folder", c_grid=(0.01, 1.0)), splits, card["labels"]).head
    clip = load_audio(GTZAN_AUDIO / "disco.00000.wav")
    _, patches = predictor.prepare(clip.samples, clip.sample_rate)
    saved = predictor.predict_inputs(patches)
    np.testing.assert_allclose(saved, head.predict_proba(tagger.embed(patches, layer)), atol=1e-5)
    np.testing.assert_allclose(saved.sum(axis=1), 1.0, atol=1e-5)

    # A second run reuses the TFRecords: same files, untouched, and the same figures.
    shards = sorted(Path(tfrecords).glob("*.tfrecord"))
    stamps = [p.stat().st_mtime_ns for p in shards]
    again = _train(argv)
    assert again["data"]["embeddings_reused"] is True
    assert sorted(Path(tfrecords).glob("*.tfrecord")) == shards
    assert [p.stat().st_mtime_ns for p in shards] == stamps
    assert again["metrics"]["test_track"] == card["metrics"]["test_track"]


@pytest.mark.slow
def test_gtzan_run_uses_the_split_lists_and_fault_filtered_keys(tmp_path):
    require(GTZAN_AUDIO)
    backbone = _tagger_name()
    split_dir = tmp_path / "split"
    split_dir.mkdir()
    lists = {"train": ["blues", "classical", "country"], "valid": ["disco"], "test": ["hiphop"]}
    for split, genres in lists.items():
        (split_dir / f"{split}.txt").write_text("".join(f"{g}/{g}.00000.wav\n" for g in genres))
    out = tmp_path / "models"
    card = _train(["--dataset", "gtzan", "--data-dir", str(GTZAN_AUDIO), "--split-dir", str(split_dir),
                   "--backbone", backbone, "--out", str(out), "--logdir", str(tmp_path / "logs"),
                   "--name", "gz", "--no-measure-latency"])
    assert card["data"]["label_set"] == "gtzan10"
    assert {k: v["tracks"] for k, v in card["data"]["splits"].items()} == {"train": 3, "valid": 1, "test": 1}
    assert set(card["metrics"]) == {"fault_filtered_valid_track", "fault_filtered_valid_segment",
                                    "fault_filtered_test", "fault_filtered_test_segment"}
    # hiphop is never trained on, so the one test track cannot be right.
    assert card["metrics"]["fault_filtered_test"]["accuracy"] == 0.0
    assert any("never predicts" in note for note in card["notes"])
    assert "not tuned" in card["hyperparameters"]["tuning"]["train+valid"]["method"]


@pytest.mark.slow
def test_fma_run_uses_the_official_split(tmp_path):
    require(FMA_SMALL)
    backbone = _tagger_name()
    header = (",set,set,track\n"
              ",split,subset,genre_top\n"
              "track_id,,,\n")
    splits = {2: "training", 10: "training", 140: "training", 1040: "validation", 1066: "training", 1082: "test"}
    rows = "".join(f"{tid},{splits[tid]},small,{genre}\n" for tid, genre in FMA_CLIPS.items())
    tracks_csv = tmp_path / "tracks.csv"
    tracks_csv.write_text(header + rows)
    card = _train(["--dataset", "fma", "--data-dir", str(FMA_SMALL), "--metadata", str(tracks_csv),
                   "--backbone", backbone, "--head", "dense", "--epochs", "5", "--out", str(tmp_path / "models"),
                   "--logdir", str(tmp_path / "logs"), "--name", "fm", "--no-measure-latency"])
    assert {k: v["tracks"] for k, v in card["data"]["splits"].items()} == {"train": 4, "valid": 1, "test": 1}
    assert "official split" in card["data"]["description"]
    assert set(card["metrics"]) == {"valid_track", "valid_segment", "test_track", "test_segment"}
    assert card["hyperparameters"]["head"] == "dense"
    manifest = json.loads((Path(card["data"]["tfrecords"]) / "manifest.json").read_text())
    assert manifest["backbone"] == backbone and manifest["kinds"] == ["embedding"]


def test_export_model_equals_head_on_random_patches():
    """The conversion alone, without data: backbone + logistic head == head(backbone embeddings)."""
    from genre_core.registry import default_registry

    tagger = default_registry().load(_tagger_name())
    layer = next(iter(tagger.embedding_sizes()))
    rng = np.random.default_rng(0)
    patches = rng.uniform(0, 3, (6, 187, 96)).astype(np.float32)
    embeddings = tagger.embed(patches, layer)
    y = np.array(["x", "x", "x", "y", "y", "y"], dtype=object)
    head = fit_logistic_head(embeddings, y, np.arange(6).astype(str), ["x", "y"])
    model = export_model(tagger, layer, head)
    np.testing.assert_allclose(np.asarray(model(patches, training=False)), head.predict_proba(embeddings),
                               atol=1e-5)
