"""Model persistence, in one place: every artifact is saved and loaded here.

sklearn models go through :mod:`skops.io` and load only if every type in the
file is on :data:`ALLOWED_TYPES`; Keras models are ``.keras`` files whose
config may name Keras modules only, loaded with ``safe_mode=True`` and saved
without optimizer state.  Both are zip archives, checked for size before
anything is decompressed.  No pickles.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArtifactMissingError, ModelLoadError, UntrustedModelError

__all__ = [
    "ALLOWED_TYPES", "check_archive", "check_keras_config", "load_keras", "load_sklearn", "save_keras",
    "save_sklearn",
]

#: Limits on a model artifact (skops and .keras files are zip archives), checked
#: before anything is decompressed: the shipped ones are under 5 MB.
MAX_ARTIFACT_BYTES: int = 512 * 1024 * 1024
MAX_UNPACKED_BYTES: int = 512 * 1024 * 1024
MAX_ARCHIVE_MEMBERS: int = 10_000
#: Top-level packages a .keras config may name as a layer's or object's module.
KERAS_MODULES: frozenset[str] = frozenset({"keras"})


def _npy_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Bytes a .npy member will allocate, from its header (0 if it has none)."""
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = reader(member)
    except Exception:  # not an array: the loader judges it
        return 0
    return int(np.prod(shape, dtype=np.float64)) * max(dtype.itemsize, 1)


def check_archive(path: str | os.PathLike, error: type[ModelLoadError] = ModelLoadError,
                  what: str = "model") -> None:
    """Refuse an artifact that is too large on disk or once unpacked (a decompression bomb).

    Sizes come from the zip directory and from each ``.npy`` member's header,
    so nothing is decompressed to find out.

    Raises
    ------
    ModelLoadError
        (or ``error``) naming the file and the limit it breaks.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise ModelLoadError(f"{path}: {size} bytes exceeds the {MAX_ARTIFACT_BYTES} byte limit for a model file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ARCHIVE_MEMBERS:
                raise ModelLoadError(f"{path}: {len(infos)} archive members is implausible for a {what} file")
            unpacked = sum(info.file_size for info in infos)
            arrays = sum(_npy_bytes(archive, info) for info in infos if info.filename.endswith(".npy"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise error(f"{path.name}: not a readable {what} file ({exc})") from None
    largest = max(unpacked, arrays)
    if largest > MAX_UNPACKED_BYTES:
        raise ModelLoadError(
            f"{path}: unpacks to {largest} bytes from {size} on disk, over the {MAX_UNPACKED_BYTES} byte limit "
            "(a decompression bomb?)"
        )


def check_keras_config(path: str | os.PathLike) -> None:
    """Refuse a ``.keras`` file whose config names a module outside Keras.

    ``safe_mode=True`` already refuses lambdas; this allow-list also keeps
    configs such as ``{"module": "os", "class_name": "system"}`` from reaching
    Keras' deserialiser at all.

    Raises
    ------
    UntrustedModelError
        Naming the module and class.
    ModelLoadError
        If the archive or its config cannot be read.
    """
    path = Path(path)
    check_archive(path, what="Keras")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except KeyError:
        raise ModelLoadError(f"{path}: not a .keras file (no config.json inside)") from None
    except RecursionError:
        raise ModelLoadError(f"{path}: config.json is nested too deeply") from None
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: config.json is not readable JSON ({exc})") from None
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            module = value.get("module")
            if module is not None and (not isinstance(module, str) or module.split(".")[0] not in KERAS_MODULES):
                raise UntrustedModelError(
                    f"{path}: refusing to load: its config names module {module!r} "
                    f"(class {value.get('class_name')!r}); only Keras modules are allowed"
                )
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def load_keras(path: str | os.PathLike) -> Any:
    """Load a ``.keras`` model with ``safe_mode=True`` after :func:`check_keras_config`.

    Raises
    ------
    ArtifactMissingError, UntrustedModelError, ModelLoadError
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"model file {path} not found")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path.name}: Keras models must be .keras files")
    check_keras_config(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras' deserialiser raises anything on a hostile file; none of it is our bug
        raise ModelLoadError(f"{path}: not a loadable Keras model ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


#: The types our saved models contain beyond those skops trusts by default
#: (numpy arrays, scikit-learn estimators).  A file needing anything else, such
#: as a FunctionTransformer around ``os.system``, is refused.
ALLOWED_TYPES: frozenset[str] = frozenset({
    "genre_core.models.classical.log_variances",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils._bunch.Bunch",
})


def save_sklearn(estimator: Any, path: str | os.PathLike) -> int:
    """Save a fitted scikit-learn estimator with skops; returns the file size in bytes.

    Raises
    ------
    UntrustedModelError
        If the estimator holds a type :func:`load_sklearn` would refuse, so a
        model is never saved that could not be loaded back.
    """
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(estimator, path)
    refused = sorted(set(sio.get_untrusted_types(file=path)) - ALLOWED_TYPES)
    if refused:
        path.unlink()
        raise UntrustedModelError(f"cannot save: type(s) {', '.join(refused)} are not on the load allow-list")
    return path.stat().st_size


def load_sklearn(path: str | os.PathLike) -> Any:
    """Load a skops file, trusting only :data:`ALLOWED_TYPES`.

    Raises
    ------
    ArtifactMissingError
        If the file is missing (a ``FileNotFoundError``).
    UntrustedModelError
        If the file contains any other type (nothing in it is executed).
    ModelLoadError
        If it is too large unpacked, malformed, or not a classifier.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"model file {path} not found")
    check_archive(path, error=UntrustedModelError, what="skops")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a zip that is not a skops file, or a corrupt one
        raise UntrustedModelError(f"{path.name}: not a readable skops file ({_first_line(exc)})") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise UntrustedModelError(
            f"{path}: refusing to load type(s) not on the allow-list: {', '.join(refused)}"
        )
    try:
        model = sio.load(path, trusted=list(untrusted))
    except Exception as exc:  # only allowed types are built, but a hostile file can still be malformed
        raise ModelLoadError(f"{path}: the skops file cannot be loaded ({type(exc).__name__}: {_first_line(exc)})") from None
    if not (callable(getattr(model, "predict_proba", None)) and hasattr(model, "classes_")):
        raise ModelLoadError(
            f"{path}: holds a {type(model).__name__}, not a fitted classifier (no predict_proba and classes_)"
        )
    return model


def save_keras(model: Any, path: str | os.PathLike) -> int:
    """Save a Keras model as ``.keras`` without optimizer state; returns the size in bytes.

    The optimizer's moment estimates would double or triple a shipped file and
    prediction never needs them (a resumed run uses its own checkpoints).

    Raises
    ------
    UsageError
        If ``path`` does not end in ``.keras``.
    """
    from ..errors import UsageError

    path = Path(path)
    if path.suffix != ".keras":
        raise UsageError(f"{path.name}: Keras models are saved as .keras files")
    path.parent.mkdir(parents=True, exist_ok=True)
    # A model rebuilt from its config is uncompiled (clone_model would copy the compile state).
    export = type(model).from_config(model.get_config())
    export.set_weights(model.get_weights())
    export.save(path)
    return path.stat().st_size
