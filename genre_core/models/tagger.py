"""A pretrained music tagger (musicnn or VGG, MSD or MTT) as a :class:`~genre_core.models.base.Predictor`.

The clip is resampled to 16 kHz, turned into musicnn's log-mel spectrogram by
:func:`genre_core.features.musicnn_logmel` and cut into 3 s patches (187
frames) exactly as the original ``musicnn`` extractor cuts them.  Each patch
gives 50 independent tag probabilities; the track's are their mean, as
``musicnn.tagger.top_tags`` computes them.

All taggers share one input (``input_key``), so the spectrogram is computed
once per clip for all four.

Examples
--------
>>> from genre_core.registry import default_registry
>>> tagger = default_registry().load("msd_musicnn")
>>> tagger.multi_label, len(tagger.labels), tagger.embedding_sizes()
(True, 50, {'penultimate': 200, 'pooled': 1506})
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..features import (
    MUSICNN_HOP_LENGTH, MUSICNN_PATCH_FRAMES, MUSICNN_SAMPLE_RATE, musicnn_logmel, musicnn_patch_starts,
    musicnn_patches,
)
from ..windows import resample_to
from .base import Windows

#: Patches per forward pass: bounds memory on long songs.
PREDICT_BATCH: int = 16
#: Embedding layers a tagger offers for transfer learning, per architecture: name → layer.
EMBEDDING_LAYERS: dict[str, dict[str, str]] = {
    "musicnn": {"penultimate": "penultimate", "pooled": "pooled"},
    "vgg": {"pool5": "pool5_flat"},
}
INPUT_KIND: str = "musicnn_logmel"


def to_tagger_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 samples at the taggers' 16 kHz (soxr HQ resampling when needed)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"expected a non-empty mono signal, got shape {samples.shape}")
    return resample_to(samples, sample_rate, MUSICNN_SAMPLE_RATE)


def tagger_inputs(samples: np.ndarray, sample_rate: int, hop_frames: int | None = None
                  ) -> tuple[Windows, np.ndarray]:
    """Patches of a clip and their time spans.

    A clip shorter than one patch (2.992 s) is zero-padded to one patch, so
    even a short recording gets a prediction.

    Returns
    -------
    windows : list of (start_s, end_s)
    patches : np.ndarray, shape (n_patches, 187, 96), float32
    """
    y = to_tagger_rate(samples, sample_rate)
    needed = (MUSICNN_PATCH_FRAMES - 1) * MUSICNN_HOP_LENGTH
    if y.size < needed:
        y = np.pad(y, (0, needed - y.size))
    logmel = musicnn_logmel(y, MUSICNN_SAMPLE_RATE)
    starts = musicnn_patch_starts(len(logmel), hop_frames=hop_frames)
    seconds = MUSICNN_HOP_LENGTH / MUSICNN_SAMPLE_RATE
    windows = [(float(s * seconds), float((s + MUSICNN_PATCH_FRAMES) * seconds)) for s in starts]
    return windows, musicnn_patches(logmel, hop_frames=hop_frames)


class TaggerPredictor:
    """A loaded pretrained tagger.

    Attributes
    ----------
    name : str
    labels : tuple of str
        The 50 tags, in output order.
    card : dict
    input_key : tuple
        Shared by every tagger: one spectrogram pass serves all of them.
    multi_label : bool
        Always True: tag probabilities are independent.
    model : keras.Model
    architecture : {'musicnn', 'vgg'}
    directory : Path
    """

    multi_label = True

    def __init__(self, model: Any, card: dict[str, Any], name: str, directory: Path) -> None:
        self.model = model
        self.card = card
        self.name = name
        self.directory = Path(directory)
        self.labels = tuple(card["labels"])
        self.architecture = str(card["architecture"])
        self.input_key = (INPUT_KIND, MUSICNN_PATCH_FRAMES)
        self._embedders: dict[tuple[str, int], Any] = {}
        self._graphs: dict[int, Any] = {}
        self._pruned: Any = None
        # The input groups of a clip run in threads: build the pruned network once.
        self._pruning = threading.Lock()
        expected = (MUSICNN_PATCH_FRAMES, int(card["input"]["shape"][1]))
        #: One patch's shape, (187 frames, mel bands).
        self.input_shape: tuple[int, int] = expected
        actual = tuple(int(d) for d in model.input_shape[1:])
        if actual != expected or int(model.output_shape[-1]) != len(self.labels):
            raise ValueError(f"model {name!r} maps {actual} to {model.output_shape[-1]} outputs, "
                             f"but its card says {expected} to {len(self.labels)} tags")

    def prepare(self, samples: np.ndarray, sample_rate: int) -> tuple[Windows, np.ndarray]:
        """Patches of the clip; see :func:`tagger_inputs`."""
        return tagger_inputs(samples, sample_rate)

    def _graph(self, function: Any) -> Any:
        """``function`` (the model or an embedder) as one TensorFlow graph, traced once.

        Eager calls dispatch every layer from Python; in a graph, TensorFlow's
        optimiser also fuses each convolution with its batch norm and ReLU for
        oneDNN.  On 2 cores 100 patches (a 5-minute song) took 2.65 s eagerly
        and 1.46 s as a graph, with outputs equal to 1.2e-7.
        """
        compiled = self._graphs.get(id(function))
        if compiled is None:
            import tensorflow as tf

            # A reloaded functional model expects its inputs as a one-element list; give
            # it the structure it was built with, or Keras warns on every call.
            as_list = isinstance(function.input, (list, tuple))
            spec = tf.TensorSpec([None, *self.input_shape], tf.float32)
            compiled = tf.function(lambda x: function([x] if as_list else x, training=False), input_signature=[spec])
            self._graphs[id(function)] = compiled
        return compiled

    def network_for(self, inputs: np.ndarray) -> Any:
        """The network to run on ``inputs``: musicnn without its dead filters where that is exact.

        Pruning (:func:`genre_core.models.dead_filters.prune_dead_filters`)
        is proved exact for patches in musicnn's input range and cuts the MSD
        tagger's work by about two thirds; any other patch (NaN, inf) goes
        through the full model, and so does a network that is not a plain
        musicnn (a transfer model's backbone with its own head).  The full
        model stays :attr:`model`, for the feature maps of every filter.
        """
        from .dead_filters import in_proven_range, is_plain_musicnn, prune_dead_filters

        if self.architecture != "musicnn" or not in_proven_range(inputs):
            return self.model
        with self._pruning:
            if self._pruned is None:
                # A transfer model (a musicnn backbone with its own head) runs whole.
                self._pruned = prune_dead_filters(self.model) if is_plain_musicnn(self.model) else self.model
        return self._pruned

    def _batched(self, function: Any, inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=np.float32)
        graph = self._graph(function)
        outputs = [graph(batch).numpy()
                   for batch in (inputs[i:i + PREDICT_BATCH] for i in range(0, len(inputs), PREDICT_BATCH))]
        return np.concatenate(outputs) if outputs else np.zeros((0, *function.output_shape[1:]), np.float32)

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Tag probabilities per patch, shape (n_patches, 50), each in [0, 1]."""
        return self._batched(self.network_for(inputs), inputs)

    def embedding_sizes(self) -> dict[str, int]:
        """Embedding name → its length, for this architecture."""
        return {key: int(np.prod(self.model.get_layer(layer).output.shape[1:]))
                for key, layer in EMBEDDING_LAYERS[self.architecture].items()}

    def embed(self, inputs: np.ndarray, layer: str | None = None) -> np.ndarray:
        """Per-patch embeddings for transfer learning, shape (n_patches, size).

        Parameters
        ----------
        inputs : np.ndarray, shape (n_patches, 187, 96)
            From :meth:`prepare`.
        layer : str, optional
            A key of :meth:`embedding_sizes`; default the first (``penultimate``
            for musicnn, ``pool5`` for VGG).
        """
        import keras

        choices = EMBEDDING_LAYERS[self.architecture]
        layer = layer or next(iter(choices))
        if layer not in choices:
            raise ValueError(f"{self.name} offers embeddings {list(choices)}, not {layer!r}")
        network = self.network_for(inputs)
        key = (layer, id(network))
        if key not in self._embedders:
            self._embedders[key] = keras.Model(network.inputs, network.get_layer(choices[layer]).output)
        return self._batched(self._embedders[key], inputs).reshape(len(inputs), -1)


def load_predictor(directory: str | os.PathLike, card: dict[str, Any]) -> TaggerPredictor:
    """Load ``<directory>/model.keras`` as a :class:`TaggerPredictor`, through the one safe Keras loader.

    Raises
    ------
    ArtifactMissingError, UntrustedModelError, ModelLoadError
        See :func:`genre_core.models.persistence.load_keras`.
    ValueError
        If the model does not match its card.
    """
    from .persistence import load_keras

    directory = Path(directory)
    model = load_keras(directory / card.get("artifact", "model.keras"))
    return TaggerPredictor(model, card, str(card.get("name") or directory.name), directory)
