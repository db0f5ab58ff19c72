"""Pick a ``tf.distribute`` strategy for the hardware at hand.

The same training code runs on a laptop CPU, one or several GPUs, several
machines (``TF_CONFIG``) or a TPU: the model is built inside
``strategy.scope()`` and the global batch is the per-replica batch times the
number of replicas.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

logger = logging.getLogger(__name__)

#: Strategy kinds returned by :func:`choose_strategy_kind`.
STRATEGY_KINDS: tuple[str, ...] = ("tpu", "multi_worker", "mirrored", "mirrored_cpu", "default")


def choose_strategy_kind(
    tpu_available: bool, tf_config: str | None, n_gpus: int, cpu_replicas: int = 0
) -> str:
    """Which strategy to use, as a pure function of what was detected.

    Parameters
    ----------
    tpu_available : bool
        A TPU cluster resolver connected.
    tf_config : str or None
        The ``TF_CONFIG`` environment variable (a multi-worker cluster spec).
    n_gpus : int
        Visible GPUs.
    cpu_replicas : int
        Asked-for logical CPU replicas (2 or more simulates data parallelism
        on one CPU; for teaching and tests).

    Returns
    -------
    str
        ``"tpu"``, ``"multi_worker"``, ``"mirrored"``, ``"mirrored_cpu"`` or ``"default"``.
    """
    if tpu_available:
        return "tpu"
    if tf_config and tf_config.strip():
        return "multi_worker"
    if n_gpus >= 1:
        return "mirrored"
    if cpu_replicas >= 2:
        return "mirrored_cpu"
    return "default"


def _connect_tpu(tpu: str | None) -> tf.distribute.cluster_resolver.TPUClusterResolver | None:
    """A connected TPU resolver, or None when no TPU is asked for or found.

    Resolution is only attempted when a TPU is named (``tpu``, or ``TPU_NAME``
    in the environment): probing for one otherwise can wait on a metadata
    server for a long time on ordinary cloud VMs.
    """
    name = tpu or os.environ.get("TPU_NAME")
    if not name:
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        if tpu:
            raise RuntimeError(f"could not connect to TPU {tpu!r}: {exc}") from None
        logger.warning("TPU_NAME=%s is set but no TPU answered (%s); not using a TPU", name, exc)
        return None
    return resolver


def _split_cpu(n: int) -> list[str]:
    """Split the host CPU into ``n`` logical devices (before TensorFlow initialises them)."""
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != n:
            raise RuntimeError(
                f"cannot split the CPU into {n} logical devices: TensorFlow already initialised "
                f"{len(existing)}; ask for CPU replicas before any other TensorFlow work"
            ) from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def select_strategy(tpu: str | None = None, cpu_replicas: int = 0) -> tf.distribute.Strategy:
    """The distribution strategy for this machine.

    TPU (when one resolves) → ``TPUStrategy``; ``TF_CONFIG`` set →
    ``MultiWorkerMirroredStrategy``; one or more GPUs → ``MirroredStrategy``;
    ``cpu_replicas >= 2`` → ``MirroredStrategy`` over that many logical CPUs;
    otherwise the default (single-device) strategy.

    Parameters
    ----------
    tpu : str, optional
        TPU name or address (``"local"`` on a TPU VM); ``TPU_NAME`` is used when unset.
    cpu_replicas : int
        Logical CPU replicas to simulate when there is no accelerator.

    Raises
    ------
    RuntimeError
        If a TPU was named explicitly and cannot be reached.
    """
    resolver = _connect_tpu(tpu)
    kind = choose_strategy_kind(
        resolver is not None, os.environ.get("TF_CONFIG"), len(tf.config.list_physical_devices("GPU")), cpu_replicas
    )
    if kind == "tpu":
        strategy = tf.distribute.TPUStrategy(resolver)
    elif kind == "multi_worker":
        _check_tf_config(os.environ["TF_CONFIG"])
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif kind == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif kind == "mirrored_cpu":
        strategy = tf.distribute.MirroredStrategy(devices=_split_cpu(cpu_replicas))
    else:
        strategy = tf.distribute.get_strategy()
    logger.info("distribution: %s with %d replica(s)", strategy_name(strategy), strategy.num_replicas_in_sync)
    return strategy


def _check_tf_config(tf_config: str) -> None:
    try:
        spec = json.loads(tf_config)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}); unset it to train on one machine") from None
    if not isinstance(spec, dict) or "cluster" not in spec or "task" not in spec:
        raise ValueError("TF_CONFIG must hold 'cluster' and 'task' entries; unset it to train on one machine")


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """Class name of a strategy, e.g. ``MirroredStrategy`` (``_DefaultDistributionStrategy`` → ``default``)."""
    name = type(strategy).__name__
    return "default" if name.startswith("_Default") else name


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy) -> int:
    """Per-replica batch size times the number of replicas in sync."""
    if int(per_replica) < 1:
        raise ValueError(f"the per-replica batch size must be positive, got {per_replica}")
    return int(per_replica) * int(strategy.num_replicas_in_sync)
