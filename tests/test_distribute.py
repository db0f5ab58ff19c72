"""Strategy selection, and real data-parallel training on two logical CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from genre_core.config import PROJECT_ROOT
from genre_core.training.distribute import choose_strategy_kind, global_batch_size

TF_CONFIG = json.dumps({"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}})


@pytest.mark.parametrize(
    ("tpu", "tf_config", "n_gpus", "cpu_replicas", "expected"),
    [
        (True, TF_CONFIG, 4, 2, "tpu"),
        (False, TF_CONFIG, 4, 0, "multi_worker"),
        (False, None, 1, 0, "mirrored"),
        (False, "", 2, 0, "mirrored"),
        (False, None, 0, 0, "default"),
        (False, "  ", 0, 1, "default"),
        (False, None, 0, 2, "mirrored_cpu"),
        (False, None, 1, 2, "mirrored"),
    ],
)
def test_choose_strategy_kind(tpu, tf_config, n_gpus, cpu_replicas, expected):
    assert choose_strategy_kind(tpu, tf_config, n_gpus, cpu_replicas) == expected


def test_global_batch_scales_with_replicas():
    class FakeStrategy:
        num_replicas_in_sync = 4

    assert global_batch_size(16, FakeStrategy()) == 64
    with pytest.raises(ValueError, match="positive"):
        global_batch_size(0, FakeStrategy())


_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from genre_core.training.distribute import global_batch_size, select_strategy, strategy_name

    strategy = select_strategy(cpu_replicas=2)  # must come before any other TensorFlow work

    import keras
    import tensorflow as tf
    from genre_core.models.persistence import save_keras
    from genre_core.models.deep import build_model, compile_model, get_spec
    from pathlib import Path

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = (rng.normal(0, 0.3, (96, 40, 20)) + y[:, None, None] * 0.2).astype("float32")
    batch = global_batch_size(8, strategy)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(96, seed=0).batch(batch)
    with strategy.scope():
        model = compile_model(build_model("mfcc_dense", (40, 20), 3), get_spec("mfcc_dense"), 1e-2)
    history = model.fit(dataset, epochs=4, verbose=0)
    path = Path(sys.argv[1]) / "model.keras"
    save_keras(model, path)
    reloaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    before = model.predict(x[:10], verbose=0)
    after = reloaded.predict(x[:10], verbose=0)
    # Same architecture, fresh weights: how far a wrongly loaded model would be.
    untrained = build_model("mfcc_dense", (40, 20), 3).predict(x[:10], verbose=0)
    print(json.dumps({
        "strategy": strategy_name(strategy),
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "batch": batch,
        "loss": history.history["loss"],
        "before": before.tolist(),
        "after": after.tolist(),
        "untrained_diff": float(np.max(np.abs(before - untrained))),
    }))
    """
)


@pytest.mark.slow  # trains a model
def test_mirrored_training_on_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "2", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path), timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["strategy"] == "MirroredStrategy"
    assert result["replicas"] == 2 and len(result["devices"]) == 2 and result["batch"] == 16
    assert all(d.endswith(f"CPU:{i}") for i, d in enumerate(result["devices"]))
    assert result["loss"][-1] < result["loss"][0]
    # The mirrored model predicts a 10-row batch split across two replicas (5 + 5); the reloaded one runs
    # all 10 on one device, so oneDNN may block and reduce in another order (AVX2 vs AVX-512 too): the
    # softmax outputs agree to float32 rounding, not bit for bit (5.96e-08, one ulp at 0.5-1, seen on an
    # AMD EPYC).  1e-6 is ~16 ulps there; a model that lost its weights differs by far more.
    before, after = np.array(result["before"]), np.array(result["after"])
    assert before.shape == (10, 3)
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-6)
    assert result["untrained_diff"] > 1e-3  # the tolerance can tell a wrong model from the right one
