"""tf.distribute strategies for training on several GPUs, a TPU or several machines.

The train step (:func:`ganlib.train.step.make_train_step`) and loop
(:func:`ganlib.train.loop.train_loop`) run unchanged under any ``tf.distribute.Strategy``:

* :func:`ganlib.train.state.build_gan` creates the networks, optimizers, noise
  generator and checkpointed variables under ``strategy.scope()``;
* the loop feeds ``strategy.experimental_distribute_dataset(pipeline)``, which
  splits each global batch of ``n_critic * config.batch_size`` images evenly over the replicas
  (the step's interleaved layout gives each replica its share of every critic update's batch);
* each replica draws its own noise (a ``tf.random.Generator`` created in a
  strategy's scope gives each replica a different stream) and divides its mean
  losses by the number of replicas, so that the optimizer's sum of the
  replicas' gradients is the gradient of the global-batch mean.

Batch normalization computes its statistics per replica unless built with
``BatchNormalization(synchronized=True)``; ganlib's models use the per-replica
statistics (each replica still sees ``batch_size / replicas`` images).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from ganlib.config import TrainConfig

STRATEGIES = ("default", "mirrored", "tpu", "multi_worker")


def get_strategy(name: str = "default", *, tpu: str | None = None) -> tf.distribute.Strategy:
    """Create a ``tf.distribute.Strategy`` by name.

    Example:
        >>> get_strategy("default").num_replicas_in_sync
        1

    Args:
        name: ``"default"`` (one device: the current strategy, no-op scope);
            ``"mirrored"`` (``MirroredStrategy``: every local GPU, else the CPU);
            ``"tpu"`` (``TPUStrategy`` on the TPU found through
            ``TPUClusterResolver``, e.g. a Colab TPU runtime); ``"multi_worker"``
            (``MultiWorkerMirroredStrategy``: several machines, each described by
            the ``TF_CONFIG`` environment variable).
        tpu: the TPU's name or ``grpc://`` address for ``"tpu"``; None lets the
            resolver find it (Colab, Cloud TPU VMs).

    Returns:
        The strategy. For ``"tpu"`` the TPU system has been connected and initialized.

    Raises:
        ValueError: unknown ``name``.
        RuntimeError: ``"tpu"`` but no TPU could be found or initialized.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy: expected one of {', '.join(STRATEGIES)}. Received: name={name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as err:
        raise RuntimeError(
            f"No TPU found ({type(err).__name__}: {err}). On Colab, choose Runtime > Change runtime type > TPU; "
            f"elsewhere pass the TPU's name or grpc:// address. Received: tpu={tpu!r}"
        ) from err
    return tf.distribute.TPUStrategy(resolver)


def config_for_strategy(config: TrainConfig, strategy: tf.distribute.Strategy) -> TrainConfig:
    """``config`` with ``num_replicas`` set to the strategy's replica count, after checking the batch splits evenly.

    Raises:
        ValueError: ``config.batch_size`` is not a multiple of the number of replicas (the step's
            ``1 / replicas`` loss scaling assumes equal shares of the global batch).
    """
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(
            f"The batch size must be a multiple of the number of replicas ({replicas}). "
            f"Received: batch_size={config.batch_size}"
        )
    return dataclasses.replace(config, num_replicas=replicas)


def num_workers(strategy: tf.distribute.Strategy) -> int:
    """The number of worker processes (chief and workers of its cluster) that ``strategy`` trains on; 1 without a cluster."""
    resolver = strategy.cluster_resolver
    if resolver is None:
        return 1
    tasks = resolver.cluster_spec().as_dict()
    return max(1, sum(len(tasks.get(job, ())) for job in ("chief", "worker")))


__all__ = ["STRATEGIES", "config_for_strategy", "get_strategy", "num_workers"]
