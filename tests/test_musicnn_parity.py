"""The Keras ports of the four pretrained taggers against musicnn's own TF1 code.

The reference runs ``musicnn.extractor.extractor`` in a subprocess
(``TF_USE_LEGACY_KERAS=1``; ``musicnn`` and ``tf-keras`` come from
``requirements-reference.txt``) on the real clips in ``../shared/data``.  Both
sides read the same 16 kHz WAV, so the comparison covers the log-mel, the
patching and the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genre_core.config import MODELS_DIR
from tests._shared_data import FMA_SMALL, GTZAN_AUDIO, require

pytestmark = pytest.mark.slow

TOLERANCE = 1e-5
CHECKPOINTS = {"msd_musicnn": "MSD_musicnn", "msd_vgg": "MSD_vgg",
               "mtt_musicnn": "MTT_musicnn", "mtt_vgg": "MTT_vgg"}
REFERENCE = Path(__file__).parent / "reference" / "musicnn_reference.py"


def _real_clips() -> list[Path]:
    clips = sorted(require(FMA_SMALL).glob("*/*.mp3")) + sorted(require(GTZAN_AUDIO).glob("*.wav"))
    if not clips:
        pytest.skip(f"no real clips under {FMA_SMALL} or {GTZAN_AUDIO}")
    return clips


@pytest.fixture(scope="module")
def clips16k(tmp_path_factory) -> dict[str, tuple[Path, np.ndarray]]:
    """Each real clip decoded once at 16 kHz and written as a float WAV both sides read."""
    import librosa
    import soundfile as sf

    out = tmp_path_factory.mktemp("clips16k")
    clips = {}
    for path in _real_clips():
        y, _ = librosa.load(path, sr=16000)
        target = out / f"{path.stem}.wav"
        sf.write(target, y, 16000, subtype="FLOAT")
        clips[path.stem] = (target, sf.read(target, dtype="float32")[0])
    return clips


def _reference(checkpoint: str, clips: dict[str, tuple[Path, np.ndarray]], out: Path) -> dict[str, dict]:
    pytest.importorskip("musicnn", reason="musicnn is a test tool: pip install --no-deps -r requirements-reference.txt")
    pytest.importorskip("tf_keras", reason="tf-keras is a test tool: pip install --no-deps -r requirements-reference.txt")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, str(REFERENCE), checkpoint, str(out), *(str(p) for p, _ in clips.values())],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {stem: dict(np.load(out / f"{stem}.npz")) for stem in clips}


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_port_matches_original(name, clips16k, tmp_path):
    from genre_core.registry import default_registry

    reference = _reference(CHECKPOINTS[name], clips16k, tmp_path)
    tagger = default_registry().load(name)
    worst = 0.0
    for stem, (_, samples) in clips16k.items():
        ref = reference[stem]
        assert tuple(ref["labels"]) == tagger.labels
        windows, patches = tagger.prepare(samples, 16000)
        ours = tagger.predict_inputs(patches)
        assert ours.shape == ref["taggram"].shape, stem
        worst = max(worst, float(np.abs(ours - ref["taggram"]).max()))
        embedding = tagger.embed(patches)
        if tagger.architecture == "musicnn":
            # musicnn 0.1.0's extractor concatenates the FIRST batch's penultimate
            # features for every later batch (it unpacks them as `backend_`, then
            # appends `penultimate_`), so only its first row is the true embedding.
            embedding, ref_embedding = embedding[:1], ref["embedding"][:1]
        else:
            ref_embedding = ref["embedding"]
        np.testing.assert_allclose(embedding, ref_embedding, atol=1e-4, rtol=1e-4, err_msg=stem)
    print(f"{name}: max |p_keras - p_musicnn| = {worst:.2e} over {len(clips16k)} clips")
    assert worst <= TOLERANCE


def test_float16_fix_matters(clips16k):
    """The original's float16 arithmetic overflows on real music; the port's does not."""
    import librosa

    samples = next(iter(clips16k.values()))[1]
    power = librosa.feature.melspectrogram(y=samples, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    with np.errstate(over="ignore"):
        overflowing = np.log10(10000 * power.astype(np.float16) + 1)
    from genre_core.features import musicnn_logmel

    ours = musicnn_logmel(samples, 16000)
    assert np.all(np.isfinite(ours))
    if np.all(np.isfinite(overflowing)):
        pytest.skip("this clip is too quiet to overflow float16")
    assert np.isinf(overflowing).any()


def test_converter_reproduces_shipped_models(tmp_path):
    """`python -m train import-musicnn` writes the same weights as the committed models."""
    pytest.importorskip("musicnn", reason="musicnn is a test tool: pip install --no-deps -r requirements-reference.txt")
    import keras

    from genre_core.cards import read_card
    from genre_core.training.import_musicnn import convert_checkpoint, musicnn_package_dir

    for name, checkpoint in CHECKPOINTS.items():
        shipped = keras.saving.load_model(MODELS_DIR / name / "model.keras", compile=False, safe_mode=True)
        card = read_card(MODELS_DIR / name)
        fresh = convert_checkpoint(musicnn_package_dir() / checkpoint, card["architecture"])
        for a, b in zip(shipped.get_weights(), fresh.get_weights(), strict=True):
            # exact: the converter copies checkpoint tensors (a reshape at most), no arithmetic
            np.testing.assert_array_equal(a, b, err_msg=name)
        assert card["command"].startswith("python -m train import-musicnn")
        assert card["source"]["licence"] == "ISC"
        assert (MODELS_DIR / name / "NOTICE").read_text().count("Permission to use, copy, modify") == 1
