"""Checkpoints within an epoch, on a timer and on SIGINT/SIGTERM: an interrupted run loses seconds, not an epoch.

:func:`ganlib.train.loop.train_loop` writes a checkpoint after every epoch
(``RUN_DIR/checkpoints/ckpt-E``). Between them it also writes one into
``RUN_DIR/checkpoints/within_epoch/`` (at most one is kept there, ``step-N``, N the generator
iterations since the run began):

* when ``checkpoint_every`` seconds have passed since the last checkpoint of either kind;
* when the process receives SIGINT (Ctrl-C, a notebook's interrupt button) or SIGTERM (a scheduler
  or a closing session stopping it): the loop finishes the step it is in, saves, and stops with
  :class:`ganlib.errors.TrainingInterrupted`. A second SIGINT interrupts at once, without saving.

A within-epoch checkpoint holds everything the epoch checkpoint holds (networks, optimizers, the
noise generator's state, the EMA generator, a progressive run's growth) and the position in the
unfinished epoch: ``position`` (generator iterations done in it) and ``epoch_seconds`` (the wall
time they took). Each epoch's data order is a function of the run's seed and the epoch alone
(:func:`ganlib.data.make_pipeline`; a progressive run's, of the images seen), so a resumed epoch
skips the batches it had trained on, and a deterministic run
(``keras.utils.set_random_seed`` and ``tf.config.experimental.enable_op_determinism``, the CLI's
``--deterministic``) killed at any step ends with exactly the weights of an uninterrupted run.
Once an epoch's checkpoint is saved the within-epoch one is deleted.

Under a multi-worker strategy the workers could reach the timer at different steps, so there the
loop writes epoch checkpoints only.
"""

from __future__ import annotations

import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import tensorflow as tf

from ganlib.train.checkpoints import save_checkpoint
from ganlib.train.runs import RunDir

#: The folder of ``RUN_DIR/checkpoints`` that holds the within-epoch checkpoint.
DIR_NAME = "within_epoch"
#: The checkpoints' prefix: ``step-N``.
PREFIX = "step"


def directory(run: RunDir) -> Path:
    """``RUN_DIR/checkpoints/within_epoch``."""
    return run.checkpoints / DIR_NAME


def checkpoint_step(path: str | Path) -> int:
    """N of a within-epoch checkpoint prefix ``.../step-N``.

    Raises:
        ValueError: ``path`` is not such a prefix.
    """
    match = re.fullmatch(rf"{PREFIX}-(\d+)", Path(path).name)
    if match is None:
        raise ValueError(f"Expected a within-epoch checkpoint prefix '{PREFIX}-N'. Received: {path}")
    return int(match.group(1))


class WithinEpochCheckpoints:
    """The within-epoch checkpoint of one run: save it, restore it at a resume, delete it.

    Args:
        gan: the run's state (:class:`ganlib.train.state.GAN`).
        run: its run directory.
        steps_per_epoch: generator iterations per epoch, >= 1.
    """

    def __init__(self, gan: Any, run: RunDir, steps_per_epoch: int):
        self.gan, self.run, self.steps_per_epoch = gan, run, steps_per_epoch
        self.position = tf.Variable(0, dtype=tf.int64, trainable=False, name="position")
        self.epoch_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="epoch_seconds")
        self._manager: tf.train.CheckpointManager | None = None

    @property
    def objects(self) -> dict[str, tf.Variable]:
        """What a within-epoch checkpoint holds beside the GAN's objects."""
        return {"position": self.position, "epoch_seconds": self.epoch_seconds}

    def _get_manager(self) -> tf.train.CheckpointManager:
        if self._manager is None:
            self._manager = tf.train.CheckpointManager(self.gan.checkpoint(**self.objects), directory(self.run),
                                                       max_to_keep=1, checkpoint_name=PREFIX)
        return self._manager

    def latest(self) -> str | None:
        """The prefix of the within-epoch checkpoint on disk, or None."""
        if not directory(self.run).is_dir():
            return None
        return self._get_manager().latest_checkpoint

    def restore(self, epochs_done: int, on_failure: Callable[[], Any]) -> tuple[int, float, str] | None:
        """Restore the within-epoch checkpoint if it continues epoch ``epochs_done + 1``.

        Call it after the newest epoch checkpoint (``epochs_done`` epochs) was restored. A checkpoint
        of another epoch (older than the epoch checkpoint, left by a kill during the epoch
        checkpoint's save) is deleted. One that cannot be read is deleted with a warning on stdout,
        and ``on_failure()`` is called: the failed read may have overwritten part of the GAN's state,
        so it restores the epoch checkpoint again.

        Returns:
            ``(position, epoch_seconds, prefix)``, or None when there is none to continue from.
        """
        from ganlib.errors import StorageError
        from ganlib.train.state import restore_checkpoint

        latest = self.latest()
        if latest is None:
            return None
        step = checkpoint_step(latest)
        first, last = epochs_done * self.steps_per_epoch, (epochs_done + 1) * self.steps_per_epoch
        if not first < step < last:
            self.clear()
            return None
        try:
            restore_checkpoint(self.gan, [latest], more=self.objects)
        except (StorageError, AssertionError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            print(f"Warning: the checkpoint {latest} cannot be read ({reason}); resuming from the end of epoch "
                  f"{epochs_done} instead.", flush=True)
            self.clear()
            on_failure()
            return None
        if int(self.gan.epoch.numpy()) != epochs_done or int(self.position.numpy()) != step - first:
            self.clear()
            on_failure()
            return None
        return int(self.position.numpy()), float(self.epoch_seconds.numpy()), latest

    def save(self, epoch: int, position: int, epoch_seconds: float) -> str:
        """Save the state after ``position`` generator iterations of epoch ``epoch`` (1-based); returns its prefix.

        Raises:
            OSError: the save failed (what it left is removed); the errno says why (see
                :func:`ganlib.train.loop.train_loop`'s ``StorageError``).
        """
        self.position.assign(position)
        self.epoch_seconds.assign(epoch_seconds)
        return save_checkpoint(self._get_manager(), self.run, (epoch - 1) * self.steps_per_epoch + position,
                               folder=directory(self.run), prefix=PREFIX)

    def clear(self) -> None:
        """Delete the within-epoch checkpoint (after an epoch checkpoint supersedes it)."""
        shutil.rmtree(directory(self.run), ignore_errors=True)
        self._manager = None


class StopRequests:
    """While active, SIGINT and SIGTERM ask the training loop to stop after its current step.

    A context manager. It installs its handlers only in the main thread (where Python delivers
    signals) and restores the previous ones on exit. A second SIGINT while a stop is pending raises
    ``KeyboardInterrupt`` at once.

    Attributes:
        signal: the number of the signal received (``signal.SIGINT`` or ``signal.SIGTERM``), or None.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.signal is not None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


class Timer:
    """Due every ``seconds`` seconds of wall time since it was last reset; never when ``seconds`` is None."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.reset()

    def reset(self) -> None:
        """Start the interval again (after a checkpoint of either kind)."""
        self._since = time.monotonic()

    @property
    def due(self) -> bool:
        """Whether the interval has passed."""
        return self.seconds is not None and time.monotonic() - self._since >= self.seconds


__all__ = ["DIR_NAME", "PREFIX", "StopRequests", "Timer", "WithinEpochCheckpoints", "checkpoint_step", "directory"]
