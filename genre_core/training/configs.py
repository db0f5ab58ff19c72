"""The training runs' settings and their defaults, declared once, free of TensorFlow.

Each ``python -m train <command>`` option is a field of a dataclass here (or of
:class:`genre_core.training.classic.ClassicConfig`); ``train/`` derives the flag
(``data_dir`` → ``--data-dir``), its default, type, choices and help from the
field, and :func:`command_line` rebuilds the command a card records.  This
module imports neither Keras nor TensorFlow, so ``--help`` stays fast.
"""

from __future__ import annotations

import shlex
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from ..config import DEEP_ARCHITECTURES, DEEP_DATASETS, REAL_DATASETS, SEGMENT_SECONDS

#: Heads :func:`genre_core.training.transfer.fit_head` fits.
HEADS: tuple[str, ...] = ("logreg", "dense")


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A config field whose metadata carries its command-line help and parsing hints.

    Keys read by ``train/_flags.py`` and :func:`command_line`: ``choices``,
    ``type`` (for a ``None`` default), ``positive`` (reject values < 1 / ≤ 0),
    ``required`` (required on the command line despite a library default),
    ``group`` (argparse group title), ``flag`` (when not ``--field-name``),
    ``cli`` (False: not an option), ``in_command`` (False: never written into a
    card's command), ``always_in_command`` (written even at its default, so the
    command still reproduces the run if the default changes) and
    ``only_for_dataset`` (written only for that dataset).
    """
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **metadata})
    return field(default=default, metadata={"help": help, **metadata})


def cli_fields(config_class: type) -> list[Field]:
    """The dataclass fields of ``config_class`` that are command-line options, in declaration order."""
    return [f for f in fields(config_class) if f.metadata.get("cli", True)]


def field_default(f: Field) -> Any:
    """A field's default (its factory called), or ``MISSING`` for a required field."""
    return f.default_factory() if f.default_factory is not MISSING else f.default


def flag_name(f: Field) -> str:
    """The command-line flag of a field: ``data_dir`` → ``--data-dir`` unless its metadata names one."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def command_line(config: Any, subcommand: str) -> str:
    """The ``python -m train <subcommand>`` line that rebuilds ``config`` from its fields.

    Options at their default are left out unless marked ``always_in_command``;
    required options come first only because they are declared first.
    """
    parts = ["python", "-m", "train", subcommand]
    dataset = getattr(config, "dataset", None)
    for f in cli_fields(type(config)):
        meta, value, default = f.metadata, getattr(config, f.name), field_default(f)
        if not meta.get("in_command", True) or value is None:
            continue
        if meta.get("only_for_dataset") not in (None, dataset):
            continue
        required = default is MISSING or meta.get("required", False)
        if value == default and not (required or meta.get("always_in_command", False)):
            continue
        flag = flag_name(f)
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + flag.removeprefix("--"))
        elif isinstance(value, list):  # an "append" option: the flag once per value
            for item in value:
                parts += [flag, _format(item)]
        elif isinstance(value, tuple):
            parts += [flag, *(_format(v) for v in value)]
        else:
            parts += [flag, _format(value)]
    return shlex.join(parts)


@dataclass
class DeepTrainingConfig:
    """Everything that defines a deep training run; one field per ``python -m train deep`` option."""

    model: str = field(metadata={"help": "architecture to train", "choices": DEEP_ARCHITECTURES, "group": "data"})
    dataset: str = option("synthetic", "gtzan (audio folder), fma, folder (one sub-folder per label) or synthetic",
                          choices=DEEP_DATASETS, required=True, group="data")
    data_dir: str | None = option(None, "dataset location (not needed for synthetic)", type=str, group="data")
    split_dir: str | None = option(None, "folder with train.txt/valid.txt/test.txt track lists (e.g. GTZAN's "
                                   "fault-filtered split); default: the dataset's own split, else stratified",
                                   type=str, group="data")
    metadata: str | None = option(None, "FMA tracks.csv (then --data-dir is the audio folder)", type=str,
                                  group="data")
    tfrecords: str | None = option(None, "TFRecord folder to reuse or write (default logs/<name>/tfrecords)",
                                   type=str, group="data")
    synthetic_per_style: int = option(40, "synthetic tracks per style", positive=True, group="data",
                                      always_in_command=True, only_for_dataset="synthetic")
    synthetic_duration: float = option(10.0, "seconds per synthetic track", positive=True, group="data",
                                       always_in_command=True, only_for_dataset="synthetic")
    segment_seconds: float = option(SEGMENT_SECONDS, "segment length in seconds; hop = segment", positive=True,
                                    group="data", always_in_command=True)
    epochs: int = option(20, "most epochs", positive=True, group="training", always_in_command=True)
    batch_size: int = option(32, "per replica; the global batch scales with replicas", positive=True,
                             group="training", always_in_command=True)
    learning_rate: float | None = option(None, "default: the architecture's", type=float, positive=True,
                                         group="training")
    patience: int = option(5, "early-stopping patience in epochs", positive=True, group="training",
                           always_in_command=True)
    steps_per_epoch: int | None = option(None, "limit each epoch (smoke tests)", type=int, positive=True,
                                         group="training")
    alpha: float = option(1.0, "mobilenet_v2 width multiplier", positive=True, group="training")
    fine_tune_from: int | None = option(None, "mobilenet_v2: train base layers from this index on", type=int,
                                        group="training")
    shards: int = option(4, "training TFRecord shards", positive=True, group="data")
    cpu_replicas: int = option(0, "without accelerators, split the CPU into N logical replicas (shows data "
                               "parallelism with MirroredStrategy)", group="hardware")
    tpu: str | None = option(None, "TPU name or address ('local' on a TPU VM)", type=str, group="hardware")
    seed: int = option(0, "seed of the split, the synthetic corpus and the weights", group="training",
                       always_in_command=True)
    out: str = option("models", "models folder", group="output")
    name: str | None = option(None, "model name (default <dataset>_<model>)", type=str, group="output")
    logdir: str = option("logs", "TensorBoard logs and backups", group="output")
    pretrained: bool = option(True, "mobilenet_v2: ImageNet weights (--no-pretrained: random initialisation)",
                              group="training")
    augment: bool = option(False, "SpecAugment masks on mel inputs", group="training")
    resume: bool = option(False, "continue an interrupted run from its last epoch", group="training",
                          in_command=False)
    notes: list[str] = option([], "a line for the card's notes (repeatable)", flag="--note", group="output")
    verbose: int | None = option(None, "Keras verbosity (default: bar on a tty)", type=int, choices=(0, 1, 2),
                                 group="output", in_command=False)
    measure_latency: bool = option(True, "time the saved model on 30 s of audio for the card", group="output",
                                   in_command=False)

    @property
    def run_name(self) -> str:
        """The model's folder name."""
        return self.name or f"{self.dataset}_{self.model}"

    def command(self) -> str:
        """The ``python -m train deep`` command line that reproduces this run."""
        return command_line(self, "deep")


@dataclass
class TransferConfig:
    """Everything that defines a transfer-learning run; one field per ``python -m train transfer`` option."""

    dataset: str = field(metadata={"help": "which loader and protocol: GTZAN (fault-filtered split with "
                                           "--split-dir), FMA (official split) or a folder per label "
                                           "(stratified split by track)", "choices": REAL_DATASETS})
    backbone: str = option("msd_musicnn", "registered tagger whose embeddings the head reads "
                           "(msd_musicnn, mtt_musicnn, msd_vgg, mtt_vgg)")
    layer: str | None = option(None, "embedding layer: penultimate (200) or pooled (1506) for musicnn, "
                               "pool5 (256) for VGG; default the tagger's first", type=str)
    data_dir: str | None = option(None, "GTZAN audio folder, FMA root (fma_metadata/ + fma_small/) "
                                  "or a folder of <label>/ sub-folders", type=str)
    split_dir: str | None = option(None, "folder with train.txt/valid.txt/test.txt (the GTZAN "
                                   "fault-filtered split)", type=str)
    metadata: str | None = option(None, "FMA tracks.csv (or its folder) when not under --data-dir; "
                                  "--data-dir then holds the audio", type=str)
    head: str = option("logreg", "logistic regression (C tuned by grouped CV) or a small dense net", choices=HEADS)
    c_grid: tuple[float, ...] = option((0.001, 0.01, 0.1, 1.0, 10.0),
                                       "inverse regularisation strengths tried for the logistic regression")
    cv_folds: int = option(5, "folds of the grouped (by track) cross-validation that picks C")
    default_c: float = option(1.0, "C used when the training data has too few tracks per class to cross-validate")
    dense_units: int = option(128, "hidden units of the dense head")
    dense_dropout: float = option(0.3, "dropout after the hidden layer of the dense head")
    epochs: int = option(200, "most epochs of the dense head (early stopping on held-out training tracks "
                         "picks the number)")
    patience: int = option(15, "early-stopping patience of the dense head")
    tfrecords: str | None = option(None, "embedding TFRecord folder (default <logdir>/<name>/embeddings); "
                                   "reused when its manifest matches", type=str)
    shards: int = option(4, "TFRecord shards for the train split")
    logdir: str = option("logs", "folder for the cached embeddings")
    models_dir: str = option("models", "model folder holding the backbone tagger")
    out: str = option("models", "folder to write <name>/model.keras and card.json into")
    name: str | None = option(None, "model name (default <dataset>_<backbone>_<head>)", type=str)
    seed: int = option(0, "seed of the split (folder datasets), the folds and the dense head")
    measure_latency: bool = option(True, "time the saved model on 30 s of audio for the card")
    command: str | None = field(default=None, metadata={"cli": False})

    @property
    def run_name(self) -> str:
        """The model's folder name."""
        return self.name or f"{self.dataset}_{self.backbone}_{self.head}"

    def command_line(self) -> str:
        """The command that reproduces this run: the one typed, or one rebuilt from the fields."""
        return self.command or command_line(self, "transfer")
