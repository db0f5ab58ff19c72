"""Train a deep architecture end to end: track table → TFRecords → strategy → fit → card.

The steps are small functions so a notebook can run them one by one;
:func:`train_deep` chains them and is what ``python -m train deep`` calls.

* The track table is featurised once into TFRecords (:mod:`genre_core.training.tfrecords`)
  and reused by later runs and by ``--resume``.
* The model is built inside the strategy of :mod:`genre_core.training.distribute`; the
  global batch is the per-replica batch times the replicas.
* ``keras.callbacks.BackupAndRestore`` keeps the last finished epoch under
  ``logs/<run>/backup`` so a killed run continues where it stopped;
  ``EarlyStopping`` (best weights restored) and ``ReduceLROnPlateau`` watch the
  validation loss; per-epoch scalars go to ``logs/<run>/`` for TensorBoard.
* The test split is scored per segment and per track (mean-probability vote)
  and ``models/<name>/{model.keras, card.json}`` are written.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from ..config import SAMPLE_RATE
from ..models.deep import ArchitectureSpec
from .configs import DeepTrainingConfig
from .evaluate import evaluate_segments_and_tracks
from .tracks import SYNTHETIC_NOTE, load_training_tracks
from .tfrecords import (
    ReadStats,
    assign_splits,
    make_dataset,
    reusable_manifest,
    table_fingerprint,
    write_tfrecords,
)

logger = logging.getLogger(__name__)


# --- data --------------------------------------------------------------------------------


def _manifest_fits(manifest: dict[str, Any], kind: str, config: DeepTrainingConfig, fingerprint: str) -> str | None:
    """Why an existing TFRecord folder cannot serve this run (None when it can)."""
    if kind not in manifest.get("kinds", []):
        return f"it holds {manifest.get('kinds')} inputs, not {kind!r}"
    if not math.isclose(float(manifest.get("segment_seconds", -1)), config.segment_seconds):
        return f"its segments are {manifest.get('segment_seconds')} s, not {config.segment_seconds:g} s"
    if int(manifest.get("sample_rate", -1)) != SAMPLE_RATE:
        return f"its sample rate is {manifest.get('sample_rate')} Hz, not {SAMPLE_RATE}"
    if manifest.get("fingerprint") != fingerprint:
        return "it was featurised from other tracks, labels or splits"
    return None


def prepare_tfrecords(
    config: DeepTrainingConfig, kind: str, table: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None, info: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The TFRecord folder for this run: reused when it fits, featurised otherwise.

    A folder fits when its manifest has the input kind, the segment length and
    the fingerprint of this run's track table (:func:`table_fingerprint`).
    ``--tfrecords DIR`` that does not fit is an error (it may be shared);
    the run's own folder ``<logdir>/<name>/tfrecords`` is simply re-featurised.

    Returns
    -------
    tfrecord_dir : str
    manifest : dict
    """
    if table is None:
        table, labels, info = load_training_tracks(
            config.dataset, config.data_dir, split_dir=config.split_dir, metadata=config.metadata, seed=config.seed,
            synthetic_per_style=config.synthetic_per_style, synthetic_duration=config.synthetic_duration)
    table = assign_splits(table, seed=config.seed)
    labels = list(labels) if labels is not None else sorted(table["label"].astype(str).unique())
    fingerprint = table_fingerprint(table, labels, config.segment_seconds, SAMPLE_RATE, config.synthetic_duration)
    directory = config.tfrecords or str(Path(config.logdir) / config.run_name / "tfrecords")
    manifest = reusable_manifest(directory, lambda found: _manifest_fits(found, kind, config, fingerprint),
                                 explicit=config.tfrecords is not None)
    if manifest is not None:
        return directory, manifest
    manifest = write_tfrecords(
        table, directory, [kind], labels=labels, segment_seconds=config.segment_seconds,
        shards={"train": config.shards, "valid": 1, "test": 1},
        synthetic_duration=config.synthetic_duration, seed=config.seed, dataset_info=info,
    )
    return directory, manifest


# --- callbacks -------------------------------------------------------------------------


class Throughput(keras.callbacks.Callback):
    """Training examples per second, measured epoch by epoch (validation excluded)."""

    def __init__(self, examples_per_epoch: int) -> None:
        super().__init__()
        self.examples_per_epoch = int(examples_per_epoch)
        self.rates: list[float] = []
        self._start = self._end = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = self._end = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._end > self._start:
            self.rates.append(self.examples_per_epoch / (self._end - self._start))

    @property
    def samples_per_second(self) -> float | None:
        """Median over epochs, leaving out the first (it also traces the graph and fills the cache)."""
        steady = self.rates[1:] or self.rates
        return round(float(np.median(steady)), 1) if steady else None


def read_history(csv_path: Path) -> dict[str, list[float | None]]:
    """Per-epoch history from a ``CSVLogger`` file, across resumed runs (last row per epoch wins).

    ``learning_rate`` is renamed ``lr``; columns with no value in any epoch
    (CSVLogger's ``NA`` validation columns of a run without validation data)
    are left out.
    """
    if not csv_path.is_file():
        return {}
    rows: dict[int, dict[str, str]] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("epoch", "").strip().isdigit():
                rows[int(row["epoch"])] = row
    epochs = sorted(rows)
    history: dict[str, list[float | None]] = {"epoch": [e + 1 for e in epochs]}
    for key in sorted({k for row in rows.values() for k in row if k and k != "epoch"}):
        values = [_as_float(rows[e].get(key)) for e in epochs]
        if any(v is not None for v in values):
            history["lr" if key == "learning_rate" else key] = values
    return history


def _as_float(text: str | None) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# --- evaluation ------------------------------------------------------------------------


def predict_split(
    model: keras.Model, spec: ArchitectureSpec, dataset: tf.data.Dataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment probabilities, integer labels and track ids of an evaluation dataset.

    ``dataset`` yields ``(x, label, track_id)`` in a deterministic order.
    """
    from ..models.deep import probabilities

    labels, track_ids = [], []
    for _, y, t in dataset.as_numpy_iterator():
        labels.append(y)
        track_ids.append(t)
    if not labels:
        return np.zeros((0, 0)), np.zeros(0, dtype=int), np.zeros(0, dtype=object)
    output = model.predict(dataset.map(lambda x, y, t: x), verbose=0)
    ids = np.array([t.decode("utf-8") for t in np.concatenate(track_ids)], dtype=object)
    return probabilities(output, spec), np.concatenate(labels).astype(int), ids


# --- the run -----------------------------------------------------------------------------


@dataclass
class BaseNetworkSetup:
    """What a run does for an architecture built on an ImageNet base (nothing for the others).

    The one place that reads ``--no-pretrained``, ``--alpha`` and
    ``--fine-tune-from``: the build arguments, the batch-norm adaptation after
    building from scratch, and what the card says about it.

    Attributes
    ----------
    build_kwargs : dict
        Extra arguments of the architecture's ``build``.
    hyperparameters : dict
        Entries for the card's ``hyperparameters``.
    notes : list of str
        Lines for the card's ``notes``.
    description_suffix : str
        Appended to the architecture's description.
    """

    build_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    description_suffix: str = ""
    from_scratch: bool = False

    def after_build(self, model: keras.Model) -> None:
        """Lower the batch-norm momentum of a base trained from scratch (see :func:`adapt_batch_norm`)."""
        if self.from_scratch:
            changed = adapt_batch_norm(model, SCRATCH_BN_MOMENTUM)
            self.hyperparameters["batch_norm_momentum"] = SCRATCH_BN_MOMENTUM if changed else None


def base_network_setup(config: DeepTrainingConfig, spec: ArchitectureSpec) -> BaseNetworkSetup:
    """The :class:`BaseNetworkSetup` of this run's architecture (empty unless it has an ImageNet base)."""
    if not spec.imagenet_base:
        return BaseNetworkSetup()
    scratch = not config.pretrained
    return BaseNetworkSetup(
        build_kwargs={"weights": None if scratch else "imagenet", "alpha": config.alpha,
                      "fine_tune_from": config.fine_tune_from},
        hyperparameters={"pretrained": config.pretrained, "alpha": config.alpha,
                         "fine_tune_from": config.fine_tune_from, "batch_norm_momentum": None},
        notes=[f"{spec.name} (alpha {config.alpha:g}) trained from random initialisation, without ImageNet "
               "weights (--no-pretrained)."] if scratch else [],
        description_suffix=" This model was trained from random initialisation, without ImageNet weights."
        if scratch else "",
        from_scratch=scratch,
    )


#: Batch-norm momentum for MobileNetV2 trained from scratch (Keras's default is 0.999).
SCRATCH_BN_MOMENTUM: float = 0.9


def adapt_batch_norm(model: keras.Model, momentum: float) -> int:
    """Set the momentum of every trainable batch-normalisation layer; returns how many changed.

    Keras's MobileNetV2 uses momentum 0.999, tuned for ImageNet-length
    training.  Trained from scratch for a few hundred steps, its moving
    statistics barely leave their initial values, so inference-mode outputs
    (validation, test, the app) are near-constant even as training accuracy
    climbs.  A lower momentum lets the statistics follow the data.
    """
    changed = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
            layer.momentum = float(momentum)
            changed += 1
    return changed


def _resume_point(backup_dir: Path) -> int:
    metadata = backup_dir / "training_metadata.json"
    if not metadata.is_file():
        return 0
    return int(json.loads(metadata.read_text()).get("epoch", 0))


def _card_notes(config: DeepTrainingConfig, info: dict[str, Any], stats: list[ReadStats],
                manifest: dict[str, Any], base: BaseNetworkSetup) -> list[str]:
    notes = []
    if info.get("source") == "synthetic":
        notes.append(SYNTHETIC_NOTE)
    notes.extend(base.notes)
    corrupt = sum(s.n_corrupt for s in stats)
    if corrupt:
        notes.append(f"{corrupt} corrupt TFRecord record(s) were skipped.")
    if manifest.get("n_skipped_tracks"):
        notes.append(f"{manifest['n_skipped_tracks']} track(s) could not be decoded and were left out.")
    notes.extend(config.notes)
    return notes


def train_deep(config: DeepTrainingConfig, table: pd.DataFrame | None = None,
               labels: Sequence[str] | None = None, info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a whole deep training and write ``<out>/<name>/model.keras`` and ``card.json``.

    Parameters
    ----------
    config : DeepTrainingConfig
    table, labels, info : optional
        A ready track table (with splits), its label order and description,
        instead of loading ``config.dataset``.

    Returns
    -------
    dict
        The model card.
    """
    from .distribute import global_batch_size, select_strategy, strategy_name

    # The strategy first: splitting the CPU into replicas must precede any TensorFlow work.
    strategy = select_strategy(config.tpu, config.cpu_replicas)

    from ..cards import card_template
    from ..models.deep import build_model, compile_model, get_spec
    from ..models.deep_predictor import load_predictor
    from ..models.persistence import save_keras
    from .shipping import ship_card

    spec = get_spec(config.model)
    base = base_network_setup(config, spec)
    kind = spec.input_kind
    run_dir = Path(config.logdir) / config.run_name
    backup_dir, history_csv = run_dir / "backup", run_dir / "history.csv"
    if not config.resume:
        shutil.rmtree(backup_dir, ignore_errors=True)
        history_csv.unlink(missing_ok=True)
    start_epoch = _resume_point(backup_dir)
    if config.resume and start_epoch == 0:
        logger.warning("nothing to resume in %s: starting from epoch 1", backup_dir)

    if table is not None and info is None:
        info = {"dataset": config.dataset, "source": "real", "description": f"{len(table)} tracks"}
    tfrecord_dir, manifest = prepare_tfrecords(config, kind, table, labels, info)
    labels = list(manifest["labels"])
    info = manifest.get("dataset") or info or {}
    counts = manifest["counts"]
    is_tpu = strategy_name(strategy) == "TPUStrategy"
    batch = global_batch_size(config.batch_size, strategy)

    keras.utils.set_random_seed(config.seed)
    train_ds, train_stats = make_dataset(tfrecord_dir, "train", kind, batch, training=True,
                                         augment=config.augment, seed=config.seed, drop_remainder=is_tpu)
    stats = [train_stats]
    valid_ds = test_ds = None
    if counts.get("valid", {}).get("segments"):
        valid_ds, valid_stats = make_dataset(tfrecord_dir, "valid", kind, batch, training=False,
                                             drop_remainder=is_tpu)
        stats.append(valid_stats)
    if counts.get("test", {}).get("segments"):
        test_ds, test_stats = make_dataset(tfrecord_dir, "test", kind, batch, training=False, with_track_id=True)
        stats.append(test_stats)

    with strategy.scope():
        model = build_model(config.model, tuple(manifest["shapes"][kind]), len(labels), **base.build_kwargs)
        base.after_build(model)
        compile_model(model, spec, config.learning_rate)

    monitor = "val_loss" if valid_ds is not None else "loss"
    examples = train_stats.n_ok if config.steps_per_epoch is None else config.steps_per_epoch * batch
    throughput = Throughput(min(examples, train_stats.n_ok))
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=False),
        # Before the loggers: it adds the learning rate to the epoch's logs.
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=max(1, config.patience // 2),
                                          min_lr=1e-6),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, restore_best_weights=True),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
        keras.callbacks.TensorBoard(log_dir=str(run_dir), profile_batch=0),
        throughput,
    ]
    verbose = config.verbose if config.verbose is not None else (1 if sys.stdout.isatty() else 2)
    started = time.perf_counter()
    fit = model.fit(train_ds, validation_data=valid_ds, epochs=config.epochs, callbacks=callbacks,
                    steps_per_epoch=config.steps_per_epoch, shuffle=False, verbose=verbose)
    training_time = time.perf_counter() - started
    epochs_run = len(fit.history.get("loss", []))

    metrics: dict[str, Any] = {}
    if test_ds is not None:
        probs, y, track_ids = predict_split(model, spec, test_ds)
        metrics = evaluate_segments_and_tracks(probs, y, track_ids, labels)

    model_dir = Path(config.out) / config.run_name
    artifact = model_dir / "model.keras"
    size = save_keras(model, artifact)
    corrupt = int(sum(s.n_corrupt for s in stats))
    history = read_history(history_csv)
    card = card_template(
        name=config.run_name,
        display_name=f"{config.model} · {info.get('dataset', config.dataset)}",
        kind="deep",
        architecture=config.model,
        framework="keras",
        artifact=artifact.name,
        description=spec.description + base.description_suffix,
        data={
            "dataset": info.get("dataset", config.dataset),
            "source": info.get("source", "real"),
            "description": info.get("description", ""),
            "n_tracks": int(sum(c["tracks"] for c in counts.values())),
            "label_set": labels,
            "splits": counts,
            "n_skipped_tracks": int(manifest.get("n_skipped_tracks", 0)),
            "corrupt_records": corrupt,
            "tfrecords": tfrecord_dir,
        },
        input={
            "kind": kind,
            "window_seconds": float(manifest["segment_seconds"]),
            "hop_seconds": float(manifest["segment_seconds"]),
            "sample_rate": int(manifest["sample_rate"]),
            "shape": list(manifest["shapes"][kind]),
        },
        labels=labels,
        metrics=metrics,
        hyperparameters={
            "epochs": config.epochs,
            "epochs_run_this_session": epochs_run,
            "resumed_from_epoch": start_epoch,
            "batch_size_per_replica": config.batch_size,
            "global_batch_size": batch,
            "optimizer": spec.optimizer,
            "learning_rate": spec.learning_rate if config.learning_rate is None else config.learning_rate,
            "loss": "sparse_categorical_crossentropy" + (" (from logits)" if spec.outputs_logits else ""),
            "segment_seconds": config.segment_seconds,
            "augment": config.augment,
            "early_stopping_patience": config.patience,
            "steps_per_epoch": config.steps_per_epoch,
            "seed": config.seed,
            "n_parameters": int(model.count_params()),
            **base.hyperparameters,
        },
        training={
            "strategy": strategy_name(strategy),
            "replicas": int(strategy.num_replicas_in_sync),
            "samples_per_s": throughput.samples_per_second,
            "corrupt_records": corrupt,
            "read_stats": [{k: v for k, v in s.as_dict().items() if k != "files"} for s in stats],
        },
        training_time_s=round(training_time, 2),
        history=history,
        command=config.command(),
        notes=_card_notes(config, info, stats, manifest, base),
        size_bytes=size,
    )
    return ship_card(model_dir, card, load_predictor, config.measure_latency)
