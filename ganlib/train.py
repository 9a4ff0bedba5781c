"""The public entry point for training: the loop with sample-quality evaluation, and the pieces it is made of.

Each idea has its own module; this one puts them together and re-exports them,
so that ``from ganlib.train import train, make_train_step, build_gan, load_run``
keeps working:

* :mod:`ganlib.step`: the ``tf.function`` train step (:func:`make_train_step`) and
  its multi-step, multi-replica wrapper (:func:`make_train_function`);
* :mod:`ganlib.state`: the GAN's networks, optimizers and counters with their
  checkpoint (:class:`GAN`, :func:`build_gan`, :func:`load_run`);
* :mod:`ganlib.loop`: the training loop (:func:`ganlib.loop.train`), which knows
  nothing of evaluation;
* :mod:`ganlib.metrics`: sample quality, attached to the loop here as an
  ``on_epoch_end`` hook every ``config.eval_every`` epochs;
* :mod:`ganlib.tensorboard`: TensorBoard event files in ``RUN_DIR/tensorboard``, attached
  here as a loop :class:`Callback` unless ``tensorboard=False``.

On several machines (``MultiWorkerMirroredStrategy``, one process per machine
described by ``TF_CONFIG``), :func:`train` makes the chief (worker 0) the only
writer of the run directory: every other worker trains into a temporary
directory of its own, which starts from a copy of the chief's latest checkpoint
(taken once every worker has called :func:`train`, so that the chief has
finished saving) and is deleted at the end, as TensorFlow's multi-worker guide
recommends. All
workers run every step together (each on its share of the global batch), so
their weights stay identical.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import tensorflow as tf

from ganlib import loop
from ganlib.config import TrainConfig
from ganlib.data import check_images
from ganlib.loop import Callback, DivergenceError, EpochHook
from ganlib.runs import RunDir
from ganlib.state import GAN, build_gan, load_run
from ganlib.step import STEP_KEYS, make_train_function, make_train_step, xla_supported


def epoch_evaluator(
    *, every: int, num_samples: int, seed: int, data_dir: str | os.PathLike | None = None
) -> EpochHook:
    """An ``on_epoch_end`` hook that adds sample-quality figures to every ``every``-th epoch's row.

    The figures: FCD, classifier score, classes covered, and (with ``num_samples`` > 5)
    improved precision and recall, density and coverage, and KID (see :mod:`ganlib.metrics`).

    The same ``z`` (drawn from ``numpy.random.default_rng(seed)``) is evaluated at
    every epoch, so epochs differ only by the generator. See :mod:`ganlib.metrics`.

    Args:
        every: evaluate after epochs ``every, 2 * every, ...``; >= 1.
        num_samples: generated images per evaluation, >= 2.
        seed: seed of the latent vectors.
        data_dir: offline data directory holding the test split (see :func:`ganlib.data.load_dataset`).

    Returns:
        ``hook(gan, row) -> dict | None``.

    Raises:
        ValueError: ``every`` < 1.
    """
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive integer. Received: every={every!r}")

    # Memorisation compares with all 60,000 training images (about 20 s): for 'evaluate', not every epoch.
    groups = ("fcd", "pr", "dc", "kid") if num_samples > 5 else ("fcd",)  # k-NN radii need k + 1 = 6 samples

    def hook(gan: GAN, row: dict[str, Any]) -> dict[str, float] | None:
        if int(row["epoch"]) % every:
            return None
        # Imported here: ganlib.metrics loads its classifier only for runs that evaluate.
        from ganlib.metrics import evaluate_images

        z = np.random.default_rng(seed).standard_normal((num_samples, gan.config.latent_dim)).astype(np.float32)
        m = evaluate_images(gan.generate(z), dataset=gan.config.dataset, data_dir=data_dir, metrics=groups)
        keys = ("fcd", "classifier_score", "classes_covered", "precision", "recall", "density", "coverage", "kid")
        return {k: m[k] for k in keys if k in m}

    return hook


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    on_epoch_end: EpochHook | Iterable[EpochHook] | None = None,
    tensorboard: bool = True,
    **options: Any,
) -> list[dict[str, float]]:
    """Train a GAN with :func:`ganlib.loop.train`, evaluating sample quality every ``config.eval_every`` epochs.

    Also logs the run to TensorBoard (see :mod:`ganlib.tensorboard`) and, under a
    ``MultiWorkerMirroredStrategy`` with several workers, lets only the chief write
    ``out_dir`` (see the module docstring).

    Example:
        >>> from ganlib.config import get_config
        >>> history = train(get_config("dcgan", epochs=5), "runs/dcgan", data_dir="../shared/data")  # doctest: +SKIP

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`).
        out_dir: the run directory; running again on it resumes.
        data_dir: offline data directory, for the training images and the evaluation's test split.
        on_epoch_end: further hooks, run after the evaluation.
        tensorboard: write TensorBoard event files to ``RUN_DIR/tensorboard`` (a
            :class:`ganlib.tensorboard.TensorBoardLogger` after the other callbacks).
        **options: the other keyword arguments of :func:`ganlib.loop.train` (``images``,
            ``overwrite``, ``progress``, ``jit_compile``, ``steps_per_execution``, ``strategy``,
            ``gif_fps``, ``max_to_keep``, ``callbacks``).

    Returns:
        The history (see :func:`ganlib.loop.train`); every ``config.eval_every`` epochs its rows
        also hold ``fcd``, ``classifier_score`` and ``classes_covered`` of
        ``config.eval_samples`` generated images against the test split of ``config.dataset``.

    Raises:
        RuntimeError: the workers of a multi-worker run resumed from different epochs (they
            do not see the same ``out_dir``).
        The errors of :func:`ganlib.loop.train`.
    """
    hooks: list[EpochHook] = []
    if config.eval_every:
        hooks.append(epoch_evaluator(every=config.eval_every, num_samples=config.eval_samples, seed=config.seed,
                                     data_dir=data_dir))
    if on_epoch_end is not None:
        hooks += [on_epoch_end] if callable(on_epoch_end) else list(on_epoch_end)
    callbacks = list(options.pop("callbacks", ()))
    if tensorboard:
        from ganlib.tensorboard import TensorBoardLogger

        callbacks.append(TensorBoardLogger())
    strategy = options.get("strategy") or tf.distribute.get_strategy()
    if _num_workers(strategy) > 1:
        # The chief may still be writing what an earlier call saved (its last checkpoint) when another worker gets
        # here: wait until every worker has arrived before any of them reads the chief's run directory.
        _barrier(strategy)
        callbacks.insert(0, _SameStartOnEveryWorker())
        if not strategy.extended.should_checkpoint:
            return _train_on_worker(config, out_dir, data_dir=data_dir, on_epoch_end=hooks, callbacks=callbacks,
                                    **options)
    return loop.train(config, out_dir, data_dir=data_dir, on_epoch_end=hooks, callbacks=callbacks, **options)


def _num_workers(strategy: tf.distribute.Strategy) -> int:
    resolver = strategy.cluster_resolver
    if resolver is None:
        return 1
    tasks = resolver.cluster_spec().as_dict()
    return max(1, sum(len(tasks.get(job, ())) for job in ("chief", "worker")))


def _barrier(strategy: tf.distribute.Strategy) -> None:
    """Return once every replica of every worker has called it (an all-reduce of one number)."""

    @tf.function
    def all_reduce():
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1.0)), axis=None)

    all_reduce()


def _train_on_worker(config: TrainConfig, out_dir: str | os.PathLike, *, overwrite: bool = False,
                     **options: Any) -> list[dict[str, float]]:
    """A worker other than the chief: train into a temporary copy of the chief's run directory, then delete it."""
    chief = RunDir(Path(out_dir))
    scratch = Path(tempfile.mkdtemp(prefix="ganlib-worker-"))
    try:
        if not overwrite:
            # The chief's config (so that the config guard refuses what it refuses) and its checkpoints (so that
            # this worker resumes from the epoch the chief resumes from). Past the barrier, the chief cannot save
            # a new checkpoint before this worker has joined the next collective operation (building the GAN).
            if chief.config.is_file():
                shutil.copy2(chief.config, scratch / chief.config.name)
            if chief.checkpoints.is_dir():
                shutil.copytree(chief.checkpoints, RunDir(scratch).checkpoints)
        return loop.train(config, scratch, overwrite=overwrite, **options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _SameStartOnEveryWorker(Callback):
    """Stop a multi-worker run whose workers restored different checkpoints (each would train another model)."""

    def on_train_begin(self, gan: GAN, run: RunDir, step: int, steps_per_epoch: int) -> None:
        strategy = gan.strategy

        @tf.function
        def gather():
            return strategy.gather(strategy.run(lambda: tf.constant([step], tf.int64)), axis=0)

        steps = sorted(set(gather().numpy().tolist()))
        if len(steps) > 1:
            raise RuntimeError(
                "The workers restored different checkpoints: every worker must see the chief's run directory at "
                "the --out path it was given (for example on a shared file system), so that all of them resume "
                f"from the same step. Received: steps={steps}"
            )


__all__ = ["GAN", "Callback", "STEP_KEYS", "DivergenceError", "build_gan", "check_images", "epoch_evaluator", "load_run",
           "make_train_function", "make_train_step", "train", "xla_supported"]
