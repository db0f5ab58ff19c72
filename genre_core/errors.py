"""The project's exceptions: one root, one class per kind of failure.

Every failure the library expects (bad audio, a bad card, a model that cannot
be loaded or misbehaves, a bad argument) raises a subclass of
:class:`GenreLabError`, with a message that names the file or model and says
what is wrong.  Callers (the CLI, the app pages) catch the root and show the
message; any other exception is a bug.

Classes that existed before this module keep their old second base
(``ValueError``, ``KeyError``, ``FileNotFoundError``, ``RuntimeError``) so code
written as ``except ValueError`` keeps working, and they stay importable from
their old modules (``genre_core.audio.AudioError``, ``genre_core.cards.CardError``,
``genre_core.registry.ModelNotFoundError``,
``genre_core.models.persistence.UntrustedModelError``).
"""

from __future__ import annotations


class GenreLabError(Exception):
    """Root of every error the library raises on purpose; the message is for the user."""


class UsageError(GenreLabError, ValueError):
    """An argument is out of range or contradicts another (e.g. ``max_duration`` < ``min_duration``)."""


class AudioError(GenreLabError, ValueError):
    """A file or upload cannot be turned into a usable clip; the message names it and says why."""


class CardError(GenreLabError, ValueError):
    """A model card is missing, too large, not JSON, or fails the card schema."""


class ModelNotFoundError(GenreLabError, KeyError):
    """No model of that name is registered."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class ModelLoadError(GenreLabError, ValueError):
    """A model's artifact cannot be loaded, is too large, or does not match its card."""


class ArtifactMissingError(ModelLoadError, FileNotFoundError):
    """The artifact a card names is not in the model folder."""


class UntrustedModelError(ModelLoadError):
    """A saved model contains types that are not on the allow-list (nothing in it was run)."""


class WeightsUnavailableError(GenreLabError, RuntimeError):
    """Pretrained weights a model needs are not available offline."""


class PredictionError(GenreLabError, ValueError):
    """A model returned unusable output (wrong shape, NaN) for a clip."""


__all__ = [
    "ArtifactMissingError",
    "AudioError",
    "CardError",
    "GenreLabError",
    "ModelLoadError",
    "ModelNotFoundError",
    "PredictionError",
    "UntrustedModelError",
    "UsageError",
    "WeightsUnavailableError",
]
