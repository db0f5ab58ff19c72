"""Transfer learning: a genre head on a pretrained tagger's embeddings.

``python -m train transfer`` calls :func:`train_transfer`, which chains small
steps a notebook can also run one by one:

1. :func:`load_tracks` — the dataset's track table with its protocol split
   (GTZAN: the fault-filtered lists given by ``--split-dir``; FMA: the official
   split; a folder: stratified 64/16/20 by track).
2. :func:`prepare_embeddings` — every track is decoded, cut into the tagger's
   3 s patches and embedded **once**; the per-patch embeddings are cached as
   sharded TFRecords (:mod:`genre_core.training.tfrecords`: same shard names, manifest
   and ``tf.data`` reader as the deep pipeline) and reused when the manifest's
   fingerprint (tracks, labels, splits, backbone, layer) matches.
3. :func:`fit_head` — a logistic regression in a ``StandardScaler`` pipeline,
   its ``C`` tuned by cross-validation on the training patches grouped by track
   (patches of one track never straddle folds), or a small dense net whose
   epoch count is tuned on a held-out part of the training tracks.
4. :func:`evaluate_head` — per patch and per track (mean-probability vote).
   With a validation split the head is fitted on train and scored on valid,
   then refitted (re-tuned) on train+valid and scored on test; the shipped head
   is the train+valid one.
5. :func:`export_model` — the tagger's layers up to the embedding plus the head
   as built-in Keras layers, one ``model.keras`` that loads with
   ``safe_mode=True``; :func:`train_transfer` writes it with its card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..config import REAL_DATASETS
from ..errors import GenreLabError, UsageError
from .configs import HEADS, TransferConfig

logger = logging.getLogger(__name__)

#: Name of the embedding feature in the TFRecords (the manifest's only ``kind``).
EMBEDDING_KIND: str = "embedding"
#: Bias of classes absent from the training data: softmax gives them exactly 0 in float32.
ABSENT_CLASS_BIAS: float = -1e4
#: Batch size for reading the cached embeddings back (reading only: no training here).
READ_BATCH: int = 512


# --- data --------------------------------------------------------------------------------


def protocol_prefix(config: TransferConfig) -> str:
    """Metric-key prefix of the run's protocol: ``fault_filtered_`` for GTZAN with its split lists."""
    return "fault_filtered_" if config.dataset == "gtzan" and config.split_dir else ""


def load_tracks(config: TransferConfig) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """The dataset's track table with a ``split`` column, its label order and a description.

    Uses :func:`genre_core.training.tracks.load_training_tracks`, so GTZAN, FMA and
    folders are read exactly as for the deep models.

    Raises
    ------
    UsageError
        For a missing folder, an unknown dataset, or a split that cannot be made.
    """
    from .tfrecords import assign_splits
    from .tracks import load_training_tracks

    if config.dataset not in REAL_DATASETS:
        raise UsageError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(REAL_DATASETS)}")
    try:
        table, labels, info = load_training_tracks(config.dataset, config.data_dir, split_dir=config.split_dir,
                                                   metadata=config.metadata, seed=config.seed)
        table = assign_splits(table, seed=config.seed)
    except GenreLabError:
        raise
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise UsageError(f"cannot load the {config.dataset} dataset: {exc}") from exc
    if config.dataset == "gtzan" and not config.split_dir:
        warnings.warn("GTZAN without --split-dir uses a random stratified split: songs by one artist land on "
                      "both sides; pass the fault-filtered split folder for an honest figure", stacklevel=2)
    return table.reset_index(drop=True), list(labels), info


def load_backbone(config: TransferConfig) -> tuple[Any, str]:
    """The tagger named by ``config.backbone`` and the embedding layer to read.

    Raises
    ------
    UsageError
        If the model is not a tagger or does not offer the layer.
    """
    from ..registry import ModelRegistry

    registry = ModelRegistry((config.models_dir,))
    entry = registry.get(config.backbone)
    if entry.kind != "tagger":
        taggers = ", ".join(e.name for e in registry.entries(kind="tagger")) or "none"
        raise UsageError(f"{config.backbone!r} is a {entry.kind} model, not a pretrained tagger; taggers: {taggers}")
    tagger = registry.load(config.backbone)
    return tagger, resolve_layer(tagger, config.layer)


def resolve_layer(tagger: Any, layer: str | None) -> str:
    """``layer``, or the tagger's first embedding layer; checked against what it offers."""
    sizes = tagger.embedding_sizes()
    layer = layer or next(iter(sizes))
    if layer not in sizes:
        raise UsageError(f"{tagger.name} offers embeddings {', '.join(sizes)}, not {layer!r}")
    return layer


# --- featurising into TFRecords ----------------------------------------------------------


def embedding_fingerprint(table: pd.DataFrame, labels: Sequence[str], backbone: str, layer: str,
                          window_seconds: float, sample_rate: int) -> str:
    """A hash of what the cached embeddings depend on: tracks, labels, splits, backbone and layer."""
    from .tfrecords import table_fingerprint

    tracks = table_fingerprint(table, labels, window_seconds, sample_rate)
    payload = json.dumps({"tracks": tracks, "backbone": backbone, "layer": layer}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def embed_track(tagger: Any, samples: np.ndarray, sample_rate: int, layer: str) -> np.ndarray:
    """Per-patch embeddings of one track.

    Returns
    -------
    np.ndarray, shape (n_patches, embedding_size), float32
    """
    _, patches = tagger.prepare(samples, sample_rate)
    return np.asarray(tagger.embed(patches, layer), dtype=np.float32)


def write_embedding_tfrecords(
    table: pd.DataFrame, out_dir: str, tagger: Any, layer: str, labels: Sequence[str], *,
    shards: int = 4, dataset_info: dict[str, Any] | None = None, progress: bool = True,
) -> dict[str, Any]:
    """Embed every track once and write sharded TFRecords plus a manifest.

    The records and manifest follow :mod:`genre_core.training.tfrecords` (one record
    per patch: ``label``, ``track_id``, ``segment_index`` and the float32
    ``embedding``), so :func:`genre_core.training.tfrecords.make_dataset` reads them.

    Parameters
    ----------
    table : pandas.DataFrame
        Track table with ``track_id``, ``path``, ``label`` and ``split``.
    out_dir : str
    tagger : TaggerPredictor
    layer : str
    labels : sequence of str
        Class order (record labels are indices into it).
    shards : int
        Shards of the train split (valid and test get one).
    dataset_info : dict, optional
        Stored as the manifest's ``dataset``.
    progress : bool

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    UsageError
        When no track could be decoded.
    """
    from ..config import SAMPLE_RATE
    from .tfrecords import FORMAT_VERSION, default_audio_loader, write_manifest, write_split_shards

    labels = list(labels)
    label_index = {label: i for i, label in enumerate(labels)}
    size = tagger.embedding_sizes()[layer]
    input_spec = tagger.card["input"]
    loader = default_audio_loader(sample_rate=SAMPLE_RATE)

    def encode(row: dict[str, Any]) -> list[dict[str, np.ndarray]]:
        # Decoded at the app's rate and resampled by the tagger, exactly as at prediction time.
        return [{EMBEDDING_KIND: vector} for vector in embed_track(tagger, loader(row), SAMPLE_RATE, layer)]

    try:
        files, counts, track_ids, skipped = write_split_shards(
            table, out_dir, {"train": shards, "valid": 1, "test": 1}, encode, label_index,
            description=f"embedding ({tagger.name} {layer})", progress=progress)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    manifest = {
        "format_version": FORMAT_VERSION,
        "kinds": [EMBEDDING_KIND],
        "shapes": {EMBEDDING_KIND: [int(size)]},
        "dtype": "float32",
        "labels": labels,
        "segment_seconds": float(input_spec["window_seconds"]),
        "hop_seconds": float(input_spec["hop_seconds"]),
        "sample_rate": int(input_spec["sample_rate"]),
        "backbone": tagger.name,
        "embedding_layer": layer,
        "counts": counts,
        "files": files,
        "track_ids": track_ids,
        "skipped_tracks": skipped,
        "n_skipped_tracks": len(skipped),
        "fingerprint": embedding_fingerprint(table, labels, tagger.name, layer,
                                             float(input_spec["window_seconds"]), int(input_spec["sample_rate"])),
        "dataset": dict(dataset_info or {}),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_manifest(out_dir, manifest)
    return manifest


def prepare_embeddings(config: TransferConfig, table: pd.DataFrame, labels: Sequence[str], tagger: Any,
                       layer: str, info: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    """The embedding TFRecord folder of this run: reused when its fingerprint matches, written otherwise.

    Returns
    -------
    tfrecord_dir : str
    manifest : dict
    reused : bool
        True when nothing was embedded.

    Raises
    ------
    UsageError
        When an explicit ``--tfrecords`` folder holds other embeddings (it may be shared).
    """
    from .tfrecords import reusable_manifest

    input_spec = tagger.card["input"]
    fingerprint = embedding_fingerprint(table, labels, tagger.name, layer, float(input_spec["window_seconds"]),
                                        int(input_spec["sample_rate"]))
    directory = config.tfrecords or str(Path(config.logdir) / config.run_name / "embeddings")

    def why_not(manifest: dict[str, Any]) -> str | None:
        if manifest.get("fingerprint") == fingerprint and EMBEDDING_KIND in manifest.get("kinds", []):
            return None
        return "they hold other tracks, labels, splits, backbone or layer"

    manifest = reusable_manifest(directory, why_not, explicit=config.tfrecords is not None)
    if manifest is not None:
        return directory, manifest, True
    manifest = write_embedding_tfrecords(table, directory, tagger, layer, labels, shards=config.shards,
                                         dataset_info=info)
    return directory, manifest, False


@dataclass
class EmbeddingSplit:
    """One split's cached embeddings.

    Attributes
    ----------
    X : np.ndarray, shape (n_patches, embedding_size)
    y : np.ndarray of str, shape (n_patches,)
    track_ids : np.ndarray of str, shape (n_patches,)
    n_corrupt : int
        Records lost to corruption (skipped, counted).
    """

    X: np.ndarray
    y: np.ndarray
    track_ids: np.ndarray
    n_corrupt: int = 0

    def __len__(self) -> int:
        return len(self.y)

    @staticmethod
    def concat(parts: Sequence[EmbeddingSplit]) -> EmbeddingSplit:
        """The patches of several splits together."""
        return EmbeddingSplit(np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts]),
                              np.concatenate([p.track_ids for p in parts]), sum(p.n_corrupt for p in parts))


def read_embeddings(tfrecord_dir: str, split: str, labels: Sequence[str]) -> EmbeddingSplit:
    """A split's embeddings through :func:`genre_core.training.tfrecords.make_dataset` (empty if it has no shards)."""
    from .tfrecords import make_dataset, read_manifest

    manifest = read_manifest(tfrecord_dir)
    size = int(manifest["shapes"][EMBEDDING_KIND][0])
    if not manifest["counts"].get(split, {}).get("segments"):
        return EmbeddingSplit(np.zeros((0, size), np.float32), np.zeros(0, object), np.zeros(0, object))
    dataset, stats = make_dataset(tfrecord_dir, split, EMBEDDING_KIND, READ_BATCH, training=False,
                                  cache=False, with_track_id=True)
    xs, ys, ids = [], [], []
    for x, y, t in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
        ids.append(t)
    names = np.asarray(labels, dtype=object)
    return EmbeddingSplit(np.concatenate(xs), names[np.concatenate(ys)],
                          np.array([t.decode("utf-8") for t in np.concatenate(ids)], dtype=object),
                          int(stats.n_corrupt))


# --- heads -------------------------------------------------------------------------------


@dataclass
class FittedHead:
    """A trained head: embeddings → class probabilities over ``labels``.

    Attributes
    ----------
    kind : {'logreg', 'dense'}
    labels : list of str
        Output order; classes absent from the training data get probability 0.
    keras_layers : list of keras.layers.Layer
        Built-in layers mapping (n, embedding_size) to (n, n_labels) softmax
        probabilities; :func:`export_model` appends them to the backbone.
    hyperparameters : dict
        What was tuned and how (JSON-serialisable).
    pipeline : sklearn Pipeline or None
        The fitted ``StandardScaler → LogisticRegression`` of a ``logreg`` head.
    """

    kind: str
    labels: list[str]
    keras_layers: list[Any]
    hyperparameters: dict[str, Any]
    pipeline: Any = None

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, n_labels); sklearn's for ``logreg``, the Keras layers' for ``dense``."""
        X = np.asarray(X, dtype=np.float32)
        if self.pipeline is not None:
            return sklearn_probabilities(self.pipeline, X, self.labels)
        return keras_head_probabilities(self.keras_layers, X)


def sklearn_probabilities(pipeline: Any, X: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """``predict_proba`` columns placed in ``labels`` order (0 for classes it never saw).

    Returns
    -------
    np.ndarray, shape (n, len(labels))
    """
    probs = np.asarray(pipeline.predict_proba(X))
    out = np.zeros((len(X), len(labels)))
    column = {label: i for i, label in enumerate(labels)}
    for j, label in enumerate(pipeline.classes_):
        out[:, column[str(label)]] = probs[:, j]
    return out


def keras_head_probabilities(layers: Sequence[Any], X: np.ndarray) -> np.ndarray:
    """Apply head layers to embeddings (inference mode), shape (n, n_labels)."""
    import keras

    x = keras.ops.convert_to_tensor(np.asarray(X, dtype=np.float32))
    for layer in layers:
        x = layer(x, training=False) if _takes_training(layer) else layer(x)
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def _takes_training(layer: Any) -> bool:
    import keras

    return isinstance(layer, keras.layers.Dropout)


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of patches grouped by track (a track's patches stay in one fold).

    Returns an empty list when some class has fewer than two tracks: nothing
    can then be held out for every class.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    tracks = pd.DataFrame({"y": y, "g": groups}).drop_duplicates("g")
    n_splits = min(int(n_folds), int(tracks["y"].value_counts().min()))
    if n_splits < 2:
        return []
    folder = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(folder.split(np.zeros(len(y)), y, groups))


def fit_logistic_head(X: np.ndarray, y: Sequence[str], track_ids: Sequence[str], labels: Sequence[str], *,
                      c_grid: Sequence[float] = (0.001, 0.01, 0.1, 1.0, 10.0), cv_folds: int = 5,
                      default_c: float = 1.0, seed: int = 0) -> FittedHead:
    """StandardScaler → LogisticRegression, ``C`` tuned by grouped CV on these (training) patches only.

    Parameters
    ----------
    X : np.ndarray, shape (n_patches, embedding_size)
    y, track_ids : sequences of str, length n_patches
    labels : sequence of str
        Output order of the head (a superset of ``y``'s classes).
    c_grid : sequence of float
    cv_folds : int
        At most this many folds; fewer when a class has fewer tracks.
    default_c : float
        Used when no class-stratified grouped folds can be made.
    seed : int

    Returns
    -------
    FittedHead
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, groups = _training_data(X, y, track_ids, labels)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=float(default_c), max_iter=2000))
    folds = grouped_folds(y, groups, cv_folds, seed)
    search: dict[str, Any] = {"method": "not tuned: some class has fewer than 2 training tracks", "C": default_c}
    if folds:
        grid = GridSearchCV(pipeline, {"logisticregression__C": [float(c) for c in c_grid]}, cv=folds,
                            scoring="accuracy", n_jobs=1)
        grid.fit(X, y)
        pipeline = grid.best_estimator_
        search = {"method": f"GridSearchCV, {len(folds)} stratified folds grouped by track, accuracy, "
                            "on the training patches only",
                  "grid": [float(c) for c in c_grid], "C": float(grid.best_params_["logisticregression__C"]),
                  "cv_accuracy": round(float(grid.best_score_), 4)}
    else:
        pipeline.fit(X, y)
    hyperparameters = {"head": "StandardScaler → LogisticRegression (lbfgs)", **search}
    return FittedHead("logreg", [str(label) for label in labels], logistic_to_keras(pipeline, labels),
                      hyperparameters, pipeline)


def _training_data(X: np.ndarray, y: Sequence[str], track_ids: Sequence[str],
                   labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A head's training patches as float32 embeddings, str labels and str track groups, checked.

    Raises
    ------
    UsageError
        For a shape mismatch, fewer than two classes, or a label outside ``labels``.
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=object).astype(str)
    groups = np.asarray(track_ids, dtype=object).astype(str)
    if X.ndim != 2 or len(X) != len(y) or len(X) == 0:
        raise UsageError(f"need a 2-D array of training embeddings with one label each, got {X.shape} and {len(y)}")
    classes = set(y)
    if len(classes) < 2:
        raise UsageError(f"the training data has only class {sorted(classes)}; a head needs at least two classes")
    unknown = sorted(classes - set(map(str, labels)))
    if unknown:
        raise UsageError(f"training label(s) {unknown} are not in the label list {list(labels)}")
    return X, y, groups


def logistic_weights(pipeline: Any, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The (kernel, bias) of a softmax Dense layer equal to a logistic regression, over ``labels``.

    A binary logistic regression has one coefficient row: ``p(classes_[1]) =
    sigmoid(z)``, which is the softmax of ``(0, z)``, so the first class gets
    a zero row.  Classes it never saw get :data:`ABSENT_CLASS_BIAS`.

    Returns
    -------
    kernel : np.ndarray, shape (embedding_size, n_labels)
    bias : np.ndarray, shape (n_labels,)
    """
    model = pipeline[-1]
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    column = {label: i for i, label in enumerate(map(str, labels))}
    kernel = np.zeros((coef.shape[1], len(column)))
    bias = np.full(len(column), ABSENT_CLASS_BIAS)
    for j, label in enumerate(model.classes_):
        kernel[:, column[str(label)]] = coef[j]
        bias[column[str(label)]] = intercept[j]
    return kernel, bias


def logistic_to_keras(pipeline: Any, labels: Sequence[str]) -> list[Any]:
    """A fitted StandardScaler → LogisticRegression as built-in Keras layers.

    ``Normalization`` holds the scaler's mean and ``scale_**2`` as variance
    (the scaler's own scale, which is 1 for constant features, not the raw
    variance), then a softmax ``Dense`` holds the coefficients.
    """
    import keras

    scaler = pipeline[0]
    kernel, bias = logistic_weights(pipeline, labels)
    normalise = keras.layers.Normalization(mean=scaler.mean_.astype(np.float32),
                                           variance=(scaler.scale_ ** 2).astype(np.float32), name="head_scaler")
    dense = keras.layers.Dense(len(labels), activation="softmax", name="genre_head")
    normalise.build((None, kernel.shape[0]))
    dense.build((None, kernel.shape[0]))
    dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return [normalise, dense]


def fit_dense_head(X: np.ndarray, y: Sequence[str], track_ids: Sequence[str], labels: Sequence[str], *,
                   units: int = 128, dropout: float = 0.3, epochs: int = 200, patience: int = 15,
                   seed: int = 0) -> FittedHead:
    """Normalization → Dense(units, relu) → Dropout → Dense softmax, on training patches only.

    The number of epochs is picked by early stopping on a fifth of the
    training tracks (grouped, so no track is on both sides); the head is then
    refitted on all training patches for that many epochs.  With too few
    tracks to hold any out, it trains for ``epochs`` // 4.

    Returns
    -------
    FittedHead
    """
    import keras
    from sklearn.model_selection import GroupShuffleSplit

    X, y, groups = _training_data(X, y, track_ids, labels)
    index = {label: i for i, label in enumerate(map(str, labels))}
    targets = np.array([index[v] for v in y], dtype=np.int32)

    def build() -> tuple[Any, list[Any]]:
        layers = [keras.layers.Normalization(name="head_scaler"),
                  keras.layers.Dense(units, activation="relu", name="head_hidden"),
                  keras.layers.Dropout(dropout, name="head_dropout"),
                  keras.layers.Dense(len(index), activation="softmax", name="genre_head")]
        model = keras.Sequential([keras.Input((X.shape[1],)), *layers])
        layers[0].adapt(X)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        return model, layers

    keras.utils.set_random_seed(seed)
    chosen = max(1, epochs // 4)
    method = "fixed (too few training tracks to hold some out)"
    if len(set(groups)) >= 5:
        inner, held = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed).split(X, y, groups))
        model, _ = build()
        stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
        history = model.fit(X[inner], targets[inner], validation_data=(X[held], targets[held]), epochs=epochs,
                            batch_size=32, callbacks=[stop], verbose=0)
        chosen = int(np.argmin(history.history["val_loss"])) + 1
        method = "early stopping on 20 % of the training tracks (grouped), then refitted on all training patches"
    keras.utils.set_random_seed(seed)
    model, layers = build()
    model.fit(X, targets, epochs=chosen, batch_size=32, verbose=0)
    hyperparameters = {"head": f"Normalization → Dense({units}, relu) → Dropout({dropout:g}) → Dense softmax",
                       "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 32, "epochs": chosen,
                       "epoch_selection": method, "patience": patience}
    return FittedHead("dense", [str(label) for label in labels], layers, hyperparameters)


def fit_head(config: TransferConfig, data: EmbeddingSplit, labels: Sequence[str]) -> FittedHead:
    """The head ``config.head`` fitted (and tuned) on ``data`` alone."""
    if config.head == "logreg":
        return fit_logistic_head(data.X, data.y, data.track_ids, labels, c_grid=config.c_grid,
                                 cv_folds=config.cv_folds, default_c=config.default_c, seed=config.seed)
    if config.head == "dense":
        return fit_dense_head(data.X, data.y, data.track_ids, labels, units=config.dense_units,
                              dropout=config.dense_dropout, epochs=config.epochs, patience=config.patience,
                              seed=config.seed)
    raise UsageError(f"unknown head {config.head!r}; choose one of {', '.join(HEADS)}")


# --- evaluation ----------------------------------------------------------------------------


def evaluate_head(head: FittedHead, data: EmbeddingSplit) -> dict[str, dict[str, Any]]:
    """Metrics per patch and per track (mean-probability vote over a track's patches).

    Returns
    -------
    dict
        ``{"segment": evaluate dict, "track": evaluate dict}``.
    """
    from .evaluate import evaluate_segments_and_tracks

    index = {label: i for i, label in enumerate(head.labels)}
    y = np.array([index[str(v)] for v in data.y])
    scores = evaluate_segments_and_tracks(head.predict_proba(data.X), y, data.track_ids, head.labels)
    return {"segment": scores["test_segment"], "track": scores["test_track"]}


@dataclass
class ProtocolResult:
    """The shipped head and the metrics and descriptions of each protocol."""

    head: FittedHead
    metrics: dict[str, dict[str, Any]]
    protocols: dict[str, str]
    tuning: dict[str, Any]


def check_protocol_splits(table: pd.DataFrame) -> None:
    """Fail before any audio is decoded when the split leaves no training or no test track.

    Raises
    ------
    UsageError
    """
    counts = table.drop_duplicates("track_id")["split"].value_counts()
    missing = [split for split in ("train", "test") if not counts.get(split, 0)]
    if missing:
        found = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
        raise UsageError(f"no {' and no '.join(missing)} track in the split (tracks per split: {found}); a head "
                         "needs training tracks and test tracks (check --data-dir and --split-dir)")


def run_protocol(config: TransferConfig, splits: dict[str, EmbeddingSplit], labels: Sequence[str],
                 prefix: str = "") -> ProtocolResult:
    """Fit on train → score valid; refit on train+valid → score test. The train+valid head ships.

    Each fit tunes its own hyperparameters on its own training patches.

    Raises
    ------
    UsageError
        When the train or the test split is empty.
    """
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    for split, data in (("train", train), ("test", test)):
        if not len(data):
            raise UsageError(f"the {split} split has no tracks here; a head needs training tracks and test tracks "
                             "(check --data-dir and --split-dir)")
    metrics: dict[str, dict[str, Any]] = {}
    protocols: dict[str, str] = {}
    tuning: dict[str, Any] = {}
    n_tracks = {name: len(set(d.track_ids)) for name, d in splits.items()}
    if len(valid):
        head = fit_head(config, train, labels)
        scores = evaluate_head(head, valid)
        key = f"{prefix}valid"
        metrics[f"{key}_track"], metrics[f"{key}_segment"] = scores["track"], scores["segment"]
        protocols[f"{key}_track"] = (f"trained on train ({n_tracks['train']} tracks), scored on valid "
                                     f"({n_tracks['valid']} tracks), mean-probability vote per track")
        protocols[f"{key}_segment"] = "as above, per 3 s patch"
        tuning["train"] = head.hyperparameters
    final = fit_head(config, EmbeddingSplit.concat([train, valid]) if len(valid) else train, labels)
    scores = evaluate_head(final, test)
    key = "fault_filtered_test" if prefix else "test_track"
    metrics[key], metrics[f"{prefix}test_segment"] = scores["track"], scores["segment"]
    fitted_on = "train+valid" if len(valid) else "train"
    protocols[key] = (f"trained on {fitted_on} ({n_tracks['train'] + n_tracks['valid']} tracks), scored on test "
                      f"({n_tracks['test']} tracks), mean-probability vote per track")
    protocols[f"{prefix}test_segment"] = "as above, per 3 s patch"
    tuning[fitted_on] = final.hyperparameters
    return ProtocolResult(final, metrics, protocols, tuning)


# --- the deployable model ----------------------------------------------------------------


def export_model(tagger: Any, layer: str, head: FittedHead, name: str = "transfer") -> Any:
    """One Keras model: the tagger up to ``layer``, then the head's layers.

    Returns
    -------
    keras.Model
        ``(batch, 187, 96)`` log-mel patches → ``(batch, n_labels)`` softmax
        probabilities; built-in layers only (loads with ``safe_mode=True``).
    """
    import keras

    from ..models.tagger import EMBEDDING_LAYERS

    embedding = tagger.model.get_layer(EMBEDDING_LAYERS[tagger.architecture][layer]).output
    x = embedding if len(embedding.shape) == 2 else keras.layers.Flatten(name="embedding_flat")(embedding)
    for head_layer in head.keras_layers:
        x = head_layer(x)
    # One input tensor, not a list: the saved model is then called with a bare batch of patches.
    return keras.Model(tagger.model.inputs[0], x, name=name)


# --- the run --------------------------------------------------------------------------------


def _notes(config: TransferConfig, manifest: dict[str, Any], splits: dict[str, EmbeddingSplit],
           labels: Sequence[str], reused: bool) -> list[str]:
    notes = [f"Transfer learning: the {config.backbone} tagger (Pons & Serra, pretrained, frozen) up to its "
             f"'{manifest['embedding_layer']}' embedding, then a {config.head} head trained here on real audio."]
    if protocol_prefix(config) == "" and config.dataset == "gtzan":
        notes.append("Random stratified split of GTZAN: songs by one artist are on both sides, so these figures "
                     "flatter the model; the fault-filtered split (--split-dir) is the honest one.")
    trained = set(splits["train"].y) | set(splits["valid"].y)
    absent = [label for label in labels if label not in trained]
    if absent:
        notes.append(f"No training tracks for {', '.join(absent)}: the model never predicts them.")
    if manifest.get("n_skipped_tracks"):
        notes.append(f"{manifest['n_skipped_tracks']} track(s) could not be decoded and were left out.")
    corrupt = sum(s.n_corrupt for s in splits.values())
    if corrupt:
        notes.append(f"{corrupt} corrupt TFRecord record(s) were skipped.")
    if reused:
        notes.append("Embeddings reused from an earlier run with the same tracks, splits, backbone and layer.")
    return notes


def train_transfer(config: TransferConfig) -> dict[str, Any]:
    """Run a whole transfer-learning training; writes ``<out>/<name>/model.keras`` and ``card.json``.

    Returns
    -------
    dict
        The model card.

    Raises
    ------
    GenreLabError
        For bad options or data (the message says what to fix).
    """
    from ..cards import card_template
    from ..datasets.table import SPLITS
    from ..models.persistence import save_keras
    from ..models.transfer import load_predictor
    from .shipping import ship_card

    if config.head not in HEADS:
        raise UsageError(f"unknown head {config.head!r}; choose one of {', '.join(HEADS)}")
    tagger, layer = load_backbone(config)
    table, labels, info = load_tracks(config)
    check_protocol_splits(table)
    tfrecord_dir, manifest, reused = prepare_embeddings(config, table, labels, tagger, layer, info)
    splits = {split: read_embeddings(tfrecord_dir, split, labels) for split in SPLITS}
    started = time.perf_counter()
    prefix = protocol_prefix(config)
    result = run_protocol(config, splits, labels, prefix)
    training_time = time.perf_counter() - started

    model_dir = Path(config.out) / config.run_name
    model = export_model(tagger, layer, result.head, name=config.run_name)
    size = save_keras(model, model_dir / "model.keras")
    counts = manifest["counts"]
    protocol_name = {"gtzan": "GTZAN fault-filtered split" if prefix else "stratified 64/16/20 split by track",
                     "fma": "FMA official split", "folder": "stratified 64/16/20 split by track"}[config.dataset]
    card = card_template(
        name=config.run_name,
        display_name=f"{config.backbone} {layer} + {config.head} · {info.get('dataset', config.dataset)}",
        kind="transfer",
        architecture=f"{config.backbone} ({tagger.architecture}) {layer} embedding → {result.head.hyperparameters['head']}",
        framework="keras",
        artifact="model.keras",
        description=(f"A {config.head} head trained on the {layer} embeddings ({tagger.embedding_sizes()[layer]} "
                     f"values per 3 s patch) of the pretrained {config.backbone} tagger; the saved model is the "
                     "frozen tagger up to that layer plus the head, so it classifies audio directly."),
        data={"dataset": info.get("dataset", config.dataset), "source": "real",
              "description": info.get("description", "") + f" Protocol: {protocol_name}.",
              "n_tracks": int(sum(c["tracks"] for c in counts.values())), "label_set": list(labels),
              "splits": counts, "n_skipped_tracks": int(manifest.get("n_skipped_tracks", 0)),
              "tfrecords": tfrecord_dir, "embeddings_reused": reused},
        input=dict(tagger.card["input"]),
        labels=list(labels),
        multi_label=False,
        metrics=result.metrics,
        protocols=result.protocols,
        backbone={"name": config.backbone, "architecture": tagger.architecture, "embedding_layer": layer,
                  "embedding_size": int(tagger.embedding_sizes()[layer]),
                  "card_command": tagger.card.get("command")},
        hyperparameters={"head": config.head, "tuning": result.tuning, "seed": config.seed,
                         "n_parameters": int(model.count_params())},
        training_time_s=round(training_time, 2),
        command=config.command_line(),
        notes=_notes(config, manifest, splits, labels, reused),
        size_bytes=size,
    )
    return ship_card(model_dir, card, load_predictor, config.measure_latency)

