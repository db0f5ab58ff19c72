"""A transfer-learned genre model (tagger backbone + trained head) as a :class:`~genre_core.models.base.Predictor`.

``python -m train transfer`` saves one Keras model: a pretrained tagger up to
an embedding layer, then a softmax head.  It reads the same 3 s musicnn
log-mel patches as the taggers, so it shares their ``input_key`` and one
spectrogram pass per clip serves every tagger and every transfer model.  Unlike
a tagger its probabilities are one distribution over genres (``multi_label``
False).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError
from .tagger import TaggerPredictor


class TransferPredictor(TaggerPredictor):
    """A loaded transfer model: :class:`~genre_core.models.tagger.TaggerPredictor`'s input, softmax output.

    Attributes
    ----------
    backbone : dict
        The card's ``backbone`` entry (tagger name, architecture, embedding layer).
    architecture : {'musicnn', 'vgg'}
        The backbone's architecture, so :meth:`embed` reads the backbone's layers.
    """

    multi_label = False

    def __init__(self, model: Any, card: dict[str, Any], name: str, directory: Path) -> None:
        super().__init__(model, card, name, directory)
        self.backbone = dict(card["backbone"])
        self.architecture = str(self.backbone["architecture"])


def load_predictor(directory: str | os.PathLike, card: dict[str, Any]) -> TransferPredictor:
    """Load ``<directory>/model.keras`` with ``safe_mode=True`` as a :class:`TransferPredictor`.

    Raises
    ------
    ArtifactMissingError
        If the model file is missing.
    ModelLoadError
        If the file is not ``.keras``, the card lacks its backbone, or the
        model does not match the card.
    """
    from .persistence import load_keras

    directory = Path(directory)
    name = str(card.get("name") or directory.name)
    backbone = card.get("backbone")
    if not isinstance(backbone, dict) or "architecture" not in backbone:
        raise ModelLoadError(f"{directory}: the card of {name!r} does not name its backbone architecture")
    model = load_keras(directory / card.get("artifact", "model.keras"))
    try:
        return TransferPredictor(model, card, name, directory)
    except ValueError as exc:
        raise ModelLoadError(f"{directory}: {exc}") from exc
