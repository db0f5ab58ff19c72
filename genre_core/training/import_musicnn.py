"""Convert the pretrained musicnn / VGG TF1 checkpoints into Keras 3 models with cards.

The PyPI package ``musicnn`` 0.1.0 (ISC licence) ships four checkpoints.  Its
code needs TF1 graph mode and tf-keras; the weights are read here with
``tf.compat.v1.train.NewCheckpointReader`` and copied into the ports of
:mod:`genre_core.models.musicnn`.  Nothing from ``musicnn`` is imported: its
``extractor`` module switches TensorFlow out of eager mode on import.

Install the package without its dependencies (its metadata pins numpy<1.17)::

    pip install --no-deps musicnn==0.1.0
    python -m train import-musicnn --out models

Examples
--------
>>> sorted(TAGGERS)
['msd_musicnn', 'msd_vgg', 'mtt_musicnn', 'mtt_vgg']
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from ..cards import card_template, write_card
from ..errors import GenreLabError
from ..features import (
    MUSICNN_HOP_LENGTH, MUSICNN_N_FFT, MUSICNN_N_MELS, MUSICNN_PATCH_FRAMES, MUSICNN_SAMPLE_RATE,
)
from ..tags import MSD_TAGS, MTT_TAGS

#: The ISC licence of the musicnn package, reproduced as its terms require.
MUSICNN_LICENCE: str = """\
Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. Code developed by Jordi Pons (www.jordipons.me).

Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""
NOTICE_FILE: str = "NOTICE"
SOURCE: str = "musicnn 0.1.0 (PyPI), https://github.com/jordipons/musicnn"
CITATION: str = ("Pons, J. and Serra, X. (2019). musicnn: pre-trained convolutional neural networks for "
                 "music audio tagging. Late-breaking/demo session, ISMIR 2019.")


class MusicnnUnavailable(GenreLabError):
    """The ``musicnn`` package (and so its checkpoints) is not installed."""


@dataclass(frozen=True)
class TaggerSource:
    """One pretrained checkpoint: its folder in the musicnn package and what it is."""

    checkpoint: str
    architecture: str
    dataset: str
    label_set: str
    labels: tuple[str, ...]
    dataset_title: str


#: Input of the stored activation-maximisation patterns: 94 frames (1.5 s) x 96 bands.
PATTERN_INPUT_SHAPE: tuple[int, int] = (94, MUSICNN_N_MELS)
#: First-layer filters that get a stored pattern (the strongest; see explain.strongest_filters).
FIRST_LAYER_PATTERNS: int = 32
#: The tagger Classify and Live use by default.
DEFAULT_TAGGER: str = "msd_musicnn"
TAGGERS: dict[str, TaggerSource] = {
    "msd_musicnn": TaggerSource("MSD_musicnn", "musicnn", "msd", "msd50", MSD_TAGS, "Million Song Dataset"),
    "msd_vgg": TaggerSource("MSD_vgg", "vgg", "msd", "msd50", MSD_TAGS, "Million Song Dataset"),
    "mtt_musicnn": TaggerSource("MTT_musicnn", "musicnn", "mtt", "mtt50", MTT_TAGS, "MagnaTagATune"),
    "mtt_vgg": TaggerSource("MTT_vgg", "vgg", "mtt", "mtt50", MTT_TAGS, "MagnaTagATune"),
}


def musicnn_package_dir() -> Path:
    """The installed ``musicnn`` package folder, found without importing it.

    Raises
    ------
    MusicnnUnavailable
        With the install command.
    """
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise MusicnnUnavailable(
            "the musicnn package is not installed; run `pip install --no-deps musicnn==0.1.0` "
            "(--no-deps: its metadata pins numpy<1.17) or pass --musicnn-dir"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def read_authors_metrics(checkpoint_dir: Path) -> dict[str, float]:
    """ROC-AUC and PR-AUC from ``experiment.result`` (two ``AUC:`` lines, in that order)."""
    text = (checkpoint_dir / "experiment.result").read_text(encoding="utf-8")
    values = [float(v) for v in re.findall(r"AUC:\s*([0-9.]+)", text)]
    if len(values) != 2:
        raise GenreLabError(f"{checkpoint_dir / 'experiment.result'}: expected two AUC lines, found {len(values)}")
    return {"roc_auc": values[0], "pr_auc": values[1]}


def convert_checkpoint(checkpoint_dir: str | os.PathLike, architecture: str, n_labels: int = 50) -> Any:
    """Build the Keras port and fill it with a TF1 checkpoint's weights.

    The checkpoint's ``checkpoint`` file points at the authors' home folder,
    so the variables are read from the folder itself (``dir + "/"``), not
    through ``tf.train.latest_checkpoint``.

    Returns
    -------
    keras.Model
    """
    import tensorflow as tf

    from ..models.musicnn import CHECKPOINT_NAMES, build, checkpoint_weights

    reader = tf.compat.v1.train.NewCheckpointReader(str(checkpoint_dir).rstrip("/") + "/")
    model = build(architecture, n_labels)
    names = CHECKPOINT_NAMES[architecture]
    for layer_name, scope in names.items():
        layer = model.get_layer(layer_name)
        weights = checkpoint_weights(layer, scope, reader.get_tensor)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [tuple(w.shape) for w in weights] != expected:
            raise GenreLabError(f"{checkpoint_dir}: {scope} has shapes {[w.shape for w in weights]}, "
                                f"layer {layer_name} needs {expected}")
        layer.set_weights(weights)
    unmapped = [layer.name for layer in model.layers if layer.weights and layer.name not in names]
    if unmapped:
        raise GenreLabError(f"layers without checkpoint weights: {unmapped}")
    return model


def tagger_card(name: str, source: TaggerSource, checkpoint_dir: Path, command: str,
                size_bytes: int) -> dict[str, Any]:
    """The model card of a converted tagger."""
    metrics = read_authors_metrics(checkpoint_dir)
    window = MUSICNN_PATCH_FRAMES * MUSICNN_HOP_LENGTH / MUSICNN_SAMPLE_RATE
    return card_template(
        name=name,
        display_name=f"{source.architecture} · {source.dataset.upper()} tagger",
        kind="tagger",
        architecture=source.architecture,
        framework="keras",
        artifact="model.keras",
        description=(
            f"{'musicnn (musically motivated CNN)' if source.architecture == 'musicnn' else 'VGG-like CNN'} "
            f"pretrained by Pons & Serra on the {source.dataset_title} to predict 50 tags "
            "(genres, decades, moods, instruments, vocals), each independently (sigmoid). "
            "Converted from the authors' TF1 checkpoint to Keras 3; outputs match the original code."
        ),
        data={
            "dataset": source.dataset,
            "source": "real",
            "description": (f"Trained by the authors on the {source.dataset_title} (50 most frequent tags); "
                            "not trained here. The metrics are the authors' own test-set figures."),
            "n_tracks": None,
            "label_set": source.label_set,
        },
        input={
            "kind": "musicnn_logmel",
            "window_seconds": round(window, 6),
            "hop_seconds": round(window, 6),
            "sample_rate": MUSICNN_SAMPLE_RATE,
            "shape": [MUSICNN_PATCH_FRAMES, MUSICNN_N_MELS],
            "n_fft": MUSICNN_N_FFT,
            "hop_length": MUSICNN_HOP_LENGTH,
            "n_mels": MUSICNN_N_MELS,
            "compression": "log10(10000 * mel_power + 1)",
        },
        labels=list(source.labels),
        multi_label=True,
        # Classify runs the GTZAN models and one tagger by default: musicnn on MSD is the
        # best of the four on genre tags and costs one extra forward pass per 3 s.
        shown_by_default=(name == DEFAULT_TAGGER),
        metrics={"authors_test": {**metrics, "source": f"{source.checkpoint}/experiment.result"}},
        source={
            "package": SOURCE,
            "checkpoint": source.checkpoint,
            "licence": "ISC",
            "copyright": "Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. "
                         "Code developed by Jordi Pons.",
            "citation": CITATION,
            "notice_file": NOTICE_FILE,
        },
        command=command,
        size_bytes=size_bytes,
        notes=[
            "A tagger, not a genre classifier: its 50 probabilities are independent and do not sum to 1. "
            "Genre tags are compared with GTZAN/FMA genres only through genre_core.tags' hand-written crosswalk.",
        ],
    )


def write_notice(out_dir: Path) -> Path:
    """The ISC notice beside the converted models, as the licence asks."""
    path = Path(out_dir) / f"{NOTICE_FILE}.musicnn"
    path.write_text(
        "The models msd_musicnn, msd_vgg, mtt_musicnn and mtt_vgg in this folder are converted from the\n"
        f"pretrained checkpoints of {SOURCE}.\n{CITATION}\n\n{MUSICNN_LICENCE}",
        encoding="utf-8",
    )
    return path


def import_tagger(name: str, out_dir: str | os.PathLike, package_dir: str | os.PathLike | None = None,
                  command: str = "python -m train import-musicnn") -> Path:
    """Convert one checkpoint and write ``<out_dir>/<name>/{model.keras,card.json,NOTICE}``.

    Returns
    -------
    Path
        The model folder.
    """
    from ..explain import store_patterns

    if name not in TAGGERS:
        raise GenreLabError(f"unknown tagger {name!r}; choose from {', '.join(TAGGERS)}")
    source = TAGGERS[name]
    checkpoint_dir = Path(package_dir or musicnn_package_dir()) / source.checkpoint
    if not (checkpoint_dir / ".index").is_file():
        raise MusicnnUnavailable(f"{checkpoint_dir}: no TF1 checkpoint (.index) there")
    model = convert_checkpoint(checkpoint_dir, source.architecture, len(source.labels))
    model_dir = Path(out_dir) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / "model.keras")
    (model_dir / NOTICE_FILE).write_text(
        f"{name} is converted from the {source.checkpoint} checkpoint of {SOURCE}.\n{CITATION}\n\n"
        f"{MUSICNN_LICENCE}", encoding="utf-8")
    started = time.perf_counter()
    # 1.5 s patterns: the front and mid end are convolutional in time, and a
    # shorter input makes the ascent 2x cheaper.  The 32 strongest first-layer
    # filters get patterns: training switched many of the others off.
    # The start spreads over the whole log-mel range (not near-constant): many
    # first-layer ReLU filters are silent, with no gradient, on a flat input.
    store_patterns(model, model_dir, input_shape=PATTERN_INPUT_SHAPE, start_spread=0.5,
                   max_first_filters=FIRST_LAYER_PATTERNS)
    card = tagger_card(name, source, checkpoint_dir, command, (model_dir / "model.keras").stat().st_size)
    card["notes"].append(f"Activation-maximisation patterns precomputed at import "
                         f"({time.perf_counter() - started:.0f} s) and stored in patterns.npz.")
    write_card(model_dir, card)
    return model_dir


def import_all(out_dir: str | os.PathLike, names: list[str] | None = None,
               package_dir: str | os.PathLike | None = None, command: str = "python -m train import-musicnn"
               ) -> list[Path]:
    """Convert several (by default all four) taggers; see :func:`import_tagger`."""
    out = [import_tagger(name, out_dir, package_dir, command) for name in (names or list(TAGGERS))]
    write_notice(Path(out_dir))
    return out

