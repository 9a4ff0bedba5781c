"""The public entry point for training: the loop with sample-quality evaluation and TensorBoard.

:func:`train` runs :func:`ganlib.train.loop.train_loop` (which knows nothing of
evaluation) with two callbacks: :class:`EpochEvaluator` every ``config.eval_every``
epochs (:mod:`ganlib.metrics`) and, unless ``tensorboard=False``, the TensorBoard logger
(:mod:`ganlib.train.tensorboard`). The pieces it is made of are re-exported by
:mod:`ganlib.train`, so that ``from ganlib.train import train, make_train_step, build_gan,
load_run`` works.

On several machines (``MultiWorkerMirroredStrategy``, one process per machine
described by ``TF_CONFIG``), :func:`train` makes the chief (worker 0) the only
writer of the run directory: every other worker trains into a temporary
directory of its own, which starts from a copy of the chief's latest checkpoint
(taken once every worker has called :func:`train`, so that the chief has
finished saving) and is deleted at the end, as TensorFlow's multi-worker guide
recommends. All
workers run every step together (each on its share of the global batch), so
their weights stay identical. Each process locks only the directory it writes
(:class:`ganlib.train.runs.RunLock`): the chief ``out_dir``, every other worker its
temporary copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.train import loop
from ganlib.train.callbacks import Callback
from ganlib.train.distribute import num_workers
from ganlib.train.runs import RunDir
from ganlib.train.state import GAN


class EpochEvaluator(Callback):
    """A callback that adds sample-quality figures to every ``every``-th epoch's history row.

    The figures: FCD, classifier score, classes covered, and (with ``num_samples`` > 5)
    improved precision and recall, density and coverage, and KID (see :mod:`ganlib.metrics`),
    of :meth:`ganlib.train.state.GAN.evaluation_samples` against the test split. The same
    ``z`` (drawn from ``numpy.random.default_rng(seed)``) is evaluated at every epoch, so
    epochs differ only by the generator.

    Args:
        every: evaluate after epochs ``every, 2 * every, ...``; >= 1.
        num_samples: generated images per evaluation, >= 2.
        seed: seed of the latent vectors.
        data_dir: offline data directory holding the test split (see :func:`ganlib.data.load_dataset`).

    Raises:
        ValueError: ``every`` < 1.
    """

    KEYS = ("fcd", "classifier_score", "classes_covered", "precision", "recall", "density", "coverage", "kid")

    def __init__(self, *, every: int, num_samples: int, seed: int, data_dir: str | os.PathLike | None = None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer. Received: every={every!r}")
        self.every, self.num_samples, self.seed, self.data_dir = every, num_samples, seed, data_dir
        # Memorisation compares with all 60,000 training images (about 20 s): for 'evaluate', not every epoch.
        self.groups = ("fcd", "pr", "dc", "kid") if num_samples > 5 else ("fcd",)  # k-NN radii need k + 1 = 6

    def on_epoch_end(self, gan: GAN, row: dict[str, Any]) -> dict[str, float] | None:
        if int(row["epoch"]) % self.every:
            return None
        # Imported here: ganlib.metrics loads its classifier only for runs that evaluate.
        from ganlib.metrics import evaluate_images

        images, _ = gan.evaluation_samples(self.num_samples, seed=self.seed)
        m = evaluate_images(images, dataset=gan.config.dataset, data_dir=self.data_dir, metrics=self.groups)
        return {k: m[k] for k in self.KEYS if k in m}


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    tensorboard: bool = True,
    **options: Any,
) -> list[dict[str, float]]:
    """Train a GAN with :func:`ganlib.train.loop.train_loop`, evaluating sample quality every ``config.eval_every`` epochs.

    Also logs the run to TensorBoard (see :mod:`ganlib.train.tensorboard`) and, under a
    ``MultiWorkerMirroredStrategy`` with several workers, lets only the chief write
    ``out_dir`` (see the module docstring).

    Example:
        >>> from ganlib.config import get_config
        >>> history = train(get_config("dcgan", epochs=5), "runs/dcgan")  # doctest: +SKIP

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`).
        out_dir: the run directory; running again on it resumes.
        data_dir: offline data directory, for the training images and the evaluation's test split.
        tensorboard: write TensorBoard event files to ``RUN_DIR/tensorboard`` (a
            :class:`ganlib.train.tensorboard.TensorBoardLogger` after the other callbacks).
        **options: the other keyword arguments of :func:`ganlib.train.loop.train_loop` (``images``,
            ``overwrite``, ``progress``, ``jit_compile``, ``steps_per_execution``, ``strategy``,
            ``gif_fps``, ``max_to_keep``, ``callbacks``: run after the evaluation and before TensorBoard).

    Returns:
        The history (see :func:`ganlib.train.loop.train_loop`); every ``config.eval_every`` epochs its rows
        also hold ``fcd``, ``classifier_score`` and ``classes_covered`` of
        ``config.eval_samples`` generated images against the test split of ``config.dataset``.

    Raises:
        RuntimeError: the workers of a multi-worker run resumed from different epochs (they
            do not see the same ``out_dir``).
        The errors of :func:`ganlib.train.loop.train_loop`: among them ``RunLockedError`` (another
        process is training ``out_dir``), ``RunDirError`` (another run, or an unusable ``config.json``)
        and ``StorageError`` (a write into ``out_dir`` failed; the message names the last good checkpoint).
    """
    callbacks = list(options.pop("callbacks", ()))
    if config.eval_every:
        callbacks.insert(0, EpochEvaluator(every=config.eval_every, num_samples=config.eval_samples,
                                           seed=config.seed, data_dir=data_dir))
    if tensorboard:
        from ganlib.train.tensorboard import TensorBoardLogger

        callbacks.append(TensorBoardLogger())
    strategy = options.get("strategy") or tf.distribute.get_strategy()
    if num_workers(strategy) > 1:
        # The chief may still be writing what an earlier call saved (its last checkpoint) when another worker gets
        # here: wait until every worker has arrived before any of them reads the chief's run directory.
        _barrier(strategy)
        callbacks.insert(0, _SameStartOnEveryWorker())
        if not strategy.extended.should_checkpoint:
            return _train_on_worker(config, out_dir, data_dir=data_dir, callbacks=callbacks, **options)
    return loop.train_loop(config, out_dir, data_dir=data_dir, callbacks=callbacks, **options)


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
        return loop.train_loop(config, scratch, overwrite=overwrite, **options)
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


__all__ = ["EpochEvaluator", "train"]
