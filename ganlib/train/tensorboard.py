"""TensorBoard logging of a training run through ``tf.summary``: per-step losses, per-epoch values, sample grids.

:class:`TensorBoardLogger` is a :class:`ganlib.train.callbacks.Callback`.
:func:`ganlib.train.train` adds one to every run (``tensorboard=False`` or
``python -m ganlib train --no-tensorboard`` turns it off), writing event files
to ``RUN_DIR/tensorboard``; watch one run or all of them with::

    tensorboard --logdir runs

What is written, every value at the run's global step (generator iterations
since the run started, so that every chart shares one x-axis):

* ``step/<key>`` after every step: the step's statistics (``d_loss``, ``g_loss``,
  ``d_real``, ``d_fake``, ``real_score``, ``fake_score``, ``gradient_penalty``; see
  :func:`ganlib.train.step.make_train_step`);
* ``epoch/<key>`` after every epoch: the values of the epoch's history row (epoch
  means, ``seconds``, ``images_per_second``, and the metrics ``fcd``,
  ``classifier_score``, ``classes_covered`` in the epochs that evaluated them);
* ``samples`` after every epoch: the epoch's sample grid, the PNG that the loop
  saved in ``RUN_DIR/samples``.

A resumed run continues the step numbers where its checkpoint left off. Events
that an interrupted run wrote after its last checkpoint would repeat step
numbers, so at the start of a resumed run they are removed from the event files
(:func:`drop_events_after`), and every event of an epoch is on disk before that
epoch's checkpoint is saved.
"""

from __future__ import annotations

import numbers
import os
import struct
from pathlib import Path
from typing import Callable

import tensorflow as tf

from ganlib.train.callbacks import Callback
from ganlib.train.runs import RunDir, atomic_write
from ganlib.train.state import GAN

DEFAULT_DIR = "tensorboard"
EVENT_FILES = "events.out.tfevents.*"


class TensorBoardLogger(Callback):
    """Write a run's per-step statistics, per-epoch values and sample grids as TensorBoard events.

    Example:
        >>> from ganlib.train import train
        >>> logger = TensorBoardLogger("logs/dcgan")
        >>> train(config, "runs/dcgan", tensorboard=False, callbacks=[logger])  # doctest: +SKIP

    Args:
        log_dir: the folder of the event files; None: ``RUN_DIR/tensorboard``.
        images: also log each epoch's sample grid (``samples``).

    The per-step scalars are written by one ``tf.function`` call per step (about
    1 ms on 2 busy CPU cores, where one eager ``tf.summary.scalar`` per value took 7 ms).
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, *, images: bool = True):
        self._log_dir = None if log_dir is None else Path(log_dir)
        self.images = images
        self.log_dir: Path | None = None
        self.writer = None
        self._run: RunDir | None = None
        self._steps_per_epoch = 1
        self._step_writers: dict[tuple[str, ...], Callable] = {}

    def on_train_begin(self, gan: GAN, run: RunDir, step: int, steps_per_epoch: int) -> None:
        self.log_dir = self._log_dir if self._log_dir is not None else run.root / DEFAULT_DIR
        self._run, self._steps_per_epoch = run, steps_per_epoch
        drop_events_after(self.log_dir, step)
        self.writer = tf.summary.create_file_writer(str(self.log_dir))
        self._step_writers = {}

    def on_step_end(self, gan: GAN, step: int, stats: dict[str, float]) -> None:
        keys = tuple(stats)
        if keys not in self._step_writers:
            self._step_writers[keys] = _scalar_writer(self.writer, [f"step/{k}" for k in keys])
        self._step_writers[keys](tf.constant(step, tf.int64), tf.constant([stats[k] for k in keys], tf.float32))

    def on_checkpoint(self, gan: GAN, step: int) -> None:
        self.writer.flush()  # the events up to ``step`` on disk before the checkpoint a resume continues from

    def on_epoch_end(self, gan: GAN, row: dict[str, float]) -> None:
        epoch = int(row["epoch"])
        with self.writer.as_default(step=epoch * self._steps_per_epoch):
            for key, value in row.items():
                if key != "epoch" and isinstance(value, numbers.Real) and not isinstance(value, bool):
                    tf.summary.scalar(f"epoch/{key}", value)
            grid = self._run.sample_grid(epoch)
            if self.images and grid.is_file():
                tf.summary.image("samples", tf.io.decode_png(grid.read_bytes())[None])
        self.writer.flush()  # on disk before the loop saves this epoch's checkpoint
        return None

    def on_train_end(self, gan: GAN, history: list[dict[str, float]]) -> None:
        if self.writer is not None:
            self.writer.close()


def _scalar_writer(writer, tags: list[str]) -> Callable:
    @tf.function
    def write(step, values):
        with writer.as_default(step=step):
            for i, tag in enumerate(tags):
                tf.summary.scalar(tag, values[i])

    return write


def drop_events_after(log_dir: str | os.PathLike, step: int) -> int:
    """Remove the summaries of steps ``> step`` from the event files in ``log_dir``, before a run resumes at ``step``.

    ``step = 0`` (a run that starts over) deletes the event files. Otherwise every
    event file is rewritten (to a new file renamed into place, so that a writer
    still open from an interrupted run in the same process cannot append to it)
    keeping its records byte for byte, without the summaries of later steps and
    without an incomplete last record.

    Args:
        log_dir: a folder of TensorBoard event files (``events.out.tfevents.*``);
            sub-folders are left alone. A missing folder is fine.
        step: the last step to keep, >= 0.

    Returns:
        The number of events removed.

    Raises:
        ValueError: ``step`` < 0.
        OSError: an event file cannot be rewritten (naming it; no temporary file is left).
    """
    if step < 0:
        raise ValueError(f"step must be >= 0. Received: step={step}")
    removed = 0
    for path in sorted(Path(log_dir).glob(EVENT_FILES)) if Path(log_dir).is_dir() else []:
        kept = []
        for record, data in _records(path.read_bytes()):
            event = tf.compat.v1.Event.FromString(data)
            if step == 0 or (event.HasField("summary") and event.step > step):
                removed += 1
            else:
                kept.append(record)
        if step == 0:
            path.unlink()
            continue
        data = b"".join(kept)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return removed


def _records(raw: bytes):
    """The complete records of a TFRecord file: ``(record bytes, payload)``; an incomplete tail is dropped.

    A record is ``uint64 length, uint32 crc(length), payload, uint32 crc(payload)`` (little-endian).
    """
    pos = 0
    while pos + 12 <= len(raw):
        (length,) = struct.unpack_from("<Q", raw, pos)
        end = pos + 12 + length + 4
        if end > len(raw):
            return
        yield raw[pos:end], raw[pos + 12 : pos + 12 + length]
        pos = end


__all__ = ["DEFAULT_DIR", "TensorBoardLogger", "drop_events_after"]
