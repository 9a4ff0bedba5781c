"""The training loop: epochs of train steps, sample grids, GIF, loss curves, history, checkpoints and resume.

:func:`train_loop` runs the step of :mod:`ganlib.train.step` on the state of
:mod:`ganlib.train.state` over epochs of the data, and after every epoch writes a
sample grid of the fixed latent batch, the training GIF, the loss plot, the
history and a checkpoint into a run directory (:mod:`ganlib.train.runs`). Running
it again on the same directory resumes from the last checkpoint.

The loop trains every model family the same way: what differs (the labels it takes,
how an epoch's steps run, its own callbacks) comes from the run's
:class:`ganlib.train.family.Family`. Everything else is a :class:`ganlib.train.callbacks.Callback`:
the training GIF's frames (:class:`ganlib.train.frames.TrainingFrames`), TensorBoard, the
evaluation of :func:`ganlib.train.train` every ``config.eval_every`` epochs, anything of a user's.

The loop is the run directory's one writer: it holds the directory's lock
(:class:`ganlib.train.runs.RunLock`) from before it reads ``config.json`` until it returns or
raises, and turns a write that fails for lack of space or permission into a
:class:`ganlib.errors.StorageError` that names the last good checkpoint.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from typing import Iterable, Iterator

import numpy as np
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.errors import DivergenceError, TrainingInterrupted
from ganlib.data import check_images, load_dataset
from ganlib.train.callbacks import Callback
from ganlib.train.checkpoints import save_checkpoint
from ganlib.train.distribute import config_for_strategy, num_workers
from ganlib.train.family import family_for
from ganlib.train.frames import TrainingFrames
from ganlib.train.runs import (RunDir, RunLock, prepare_run_dir, read_csv, recorded_checkpoint, remove_partial_checkpoints,
                               storage_errors, write_csv, write_data_record)
from ganlib.train.state import GAN, build_gan, restore_checkpoint
from ganlib.train.step import make_train_function, xla_supported
from ganlib.train.within_epoch import StopRequests, Timer, WithinEpochCheckpoints
from ganlib.viz import make_gif, plot_losses, save_image_grid


def train_loop(
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    images: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    overwrite: bool = False,
    progress: bool = True,
    jit_compile: bool = False,
    steps_per_execution: int = 1,
    strategy: tf.distribute.Strategy | None = None,
    gif_fps: float = 8.0,
    max_to_keep: int = 3,
    checkpoint_every: float | None = 300.0,
    callbacks: Iterable[Callback] = (),
) -> list[dict[str, float]]:
    """Train a GAN, writing sample grids, a GIF, loss curves, history and checkpoints to ``out_dir``.

    Running it again on the same ``out_dir`` with the same config resumes from
    the last checkpoint (``config.epochs`` may be raised to train longer); if that
    checkpoint cannot be read (truncated, corrupt), from the one before it, with a
    warning on stdout. Between epoch checkpoints, one is written every ``checkpoint_every``
    seconds and on SIGINT/SIGTERM, and a resume continues from it mid-epoch
    (:mod:`ganlib.train.within_epoch`). The run's outputs are described in :mod:`ganlib.train.runs`.

    One writer: the function holds ``out_dir``'s lock (:class:`ganlib.train.runs.RunLock`,
    an OS advisory lock on ``out_dir/.lock`` recording this process's pid, host and start
    time) for its whole call, and releases it when it returns, raises or is interrupted
    (the kernel releases it if the process is killed). Reading the run meanwhile
    (:func:`ganlib.train.state.load_run`, the CLI's ``sample``, ``gif``, ``evaluate``,
    ``export``) takes no lock. An epoch is one pass of
    the critic over the data: ``N // (n_critic * batch_size)`` generator iterations,
    each taking ``n_critic`` real batches (see :func:`ganlib.train.step.make_train_step`).

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`); its
            ``num_replicas`` is set from ``strategy`` and recorded in ``config.json``.
        out_dir: the run directory.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`); used
            when ``images`` is None.
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1] to train on instead of loading
            ``config.dataset`` (``config.train_size`` still applies).
        labels: int ``[N]`` class labels in 0..9 of ``images``, for a family that trains on labels
            (:meth:`ganlib.train.family.Family.check_train_labels`); with ``images=None`` they come
            from ``config.dataset``.
        overwrite: delete a previous run in ``out_dir`` instead of refusing.
        progress: show a progress bar per epoch with live losses.
        jit_compile: compile the train step with XLA.
        steps_per_execution: train steps per ``tf.function`` call (see
            :func:`ganlib.train.step.make_train_function`); the per-step losses are still logged.
        strategy: a ``tf.distribute.Strategy`` to train under (see
            :func:`ganlib.train.distribute.get_strategy`); ``config.batch_size`` is the global
            batch, split evenly over the replicas. None: the current (default) strategy.
        gif_fps: frames per second of the training GIF (its frames: :mod:`ganlib.train.frames`).
        max_to_keep: epoch checkpoints kept by the CheckpointManager.
        checkpoint_every: seconds of training between checkpoints within an epoch (None: after every epoch only);
            a SIGINT or SIGTERM also saves one and stops (see :mod:`ganlib.train.within_epoch`). The default's
            cost: docs/decisions/018-within-epoch-checkpoints.md.
        callbacks: :class:`ganlib.train.callbacks.Callback` objects (per-step, per-epoch and
            per-run work), called in order after the family's callbacks and the GIF's frames;
            the values an ``on_epoch_end`` returns join the epoch's history row.

    Returns:
        The history: one dict per completed epoch (``epoch``, mean step values, ``seconds``,
        ``images_per_second`` (real images through the critic per second), and what the callbacks added).

    Raises:
        RunLockedError: another process is training ``out_dir`` (it holds the lock); the
            message names it (pid, host, start time) and what to do. Nothing is written.
        RunDirError: ``out_dir`` holds another run (other settings, precision or replica
            count), is not writable, or holds a ``config.json`` that is truncated, corrupt or
            of a newer run-directory schema than :data:`ganlib.train.runs.RUN_SCHEMA`.
        StorageError: a write into ``out_dir`` (a checkpoint, a CSV, PNG or GIF, the directory
            itself) failed for lack of space (ENOSPC; EFBIG, a file-size limit, likewise), a
            read-only directory (EROFS, EACCES, EPERM) or a removed one (ENOENT), or no
            checkpoint to resume from can be read. The message names what could not be
            written, the last good checkpoint (or none) and how to resume; the folders a
            failed checkpoint save leaves (``ckpt-N_temp``) are removed.
        ValueError: images of the wrong shape, dtype or range, fewer than one generator
            iteration's ``n_critic * batch_size`` images, a batch size not divisible by
            the number of replicas, labels the family refuses (missing, given to a family without labels,
            of the wrong shape or out of range), or an option the family refuses.
        TrainingInterrupted: a SIGINT or SIGTERM stopped training after the step it came in; the message names the
            checkpoint saved there (a ``KeyboardInterrupt``). A second SIGINT interrupts at once, without saving.
        DivergenceError: a loss became non-finite (the last good checkpoint is kept; ``steps.csv`` holds the
            epoch's steps up to the non-finite one, its last row, for ``python -m ganlib doctor``).
    """
    if checkpoint_every is not None and not (isinstance(checkpoint_every, (int, float))
                                             and math.isfinite(checkpoint_every) and checkpoint_every >= 0):
        raise ValueError("Expected checkpoint_every to be a number of seconds >= 0, or None (after every epoch "
                         f"only). Received: checkpoint_every={checkpoint_every!r}")
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    config = config_for_strategy(config, strategy)
    family = family_for(config)
    family.check_options(steps_per_execution=steps_per_execution)
    with RunLock(out_dir) as lock:
        run = prepare_run_dir(out_dir, config, overwrite=overwrite)
        images, labels = _training_data(config, family, data_dir, images, labels)
        with storage_errors(run, lambda: recorded_checkpoint(run)):
            write_data_record(run, images)
        frames = TrainingFrames.from_config(config)
        callbacks = family.callbacks() + ([frames] if frames is not None else []) + list(callbacks)
        gan = build_gan(config, strategy=strategy)
        manager = tf.train.CheckpointManager(gan.checkpoint(), run.checkpoints, max_to_keep=max_to_keep)
        last_good = restore_checkpoint(gan, manager.checkpoints)  # the newest readable one
        with storage_errors(run, lambda: last_good):
            remove_partial_checkpoints(run)  # what a process killed mid-save left
            start = int(gan.epoch.numpy())
            per_iteration = config.n_critic * config.batch_size
            steps_per_epoch = len(images) // per_iteration
            within = WithinEpochCheckpoints(gan, run, steps_per_epoch)
            resumed = within.restore(start, on_failure=lambda: restore_checkpoint(gan, manager.checkpoints))
            skip, seconds_before = (resumed[0], resumed[1]) if resumed else (0, 0.0)
            if resumed:
                last_good = resumed[2]
            done = start * steps_per_epoch + skip  # generator iterations already trained
            history = [r for r in read_csv(run.history) if r["epoch"] <= start]
            steps_log = read_csv(run.steps)[:done]
            for stale in run.sample_grids():
                if int(stale.stem.split("_")[1]) > start:
                    stale.unlink()
            if start or skip:
                where = f", step {skip} of {steps_per_epoch}" if skip else ""
                print(f"Resuming {run.root} from epoch {start}{where} ({last_good}).", flush=True)

            epochs = gan.family.epoch_runner(gan, images, labels, steps_per_epoch,
                                             lambda: step_runner(gan, jit_compile, steps_per_execution))
            plan = gan.family.describe_run(gan, config.epochs * steps_per_epoch)
            if plan:
                print(plan, flush=True)
            for callback in callbacks:
                callback.on_train_begin(gan, run, done, steps_per_epoch)
            # Within-epoch checkpoints need every worker to stop at the same step: not under several workers.
            single = num_workers(strategy) == 1
            timer = Timer(checkpoint_every if single else None)
            with StopRequests() as stop:
                for epoch in range(start + 1, config.epochs + 1):
                    first = skip if epoch == start + 1 else 0  # steps of this epoch trained before a resume
                    sums: dict[str, float] = {}
                    for r in steps_log[len(steps_log) - first:] if first else ():
                        for k, v in r.items():
                            if k != "epoch":
                                sums[k] = sums.get(k, 0.0) + v
                    t0 = time.perf_counter() - (seconds_before if first else 0.0)
                    with _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress, first) as bar:
                        for i, stats in enumerate(epochs.run_epoch(epoch, skip=first), start=first + 1):
                            if not (math.isfinite(stats["d_loss"]) and math.isfinite(stats["g_loss"])):
                                # The evidence of the divergence (this epoch's steps, the non-finite one last) for
                                # 'doctor'; a resumed run drops these rows with the rest of the unfinished epoch.
                                steps_log.append({"epoch": round(epoch - 1 + i / steps_per_epoch, 4), **stats})
                                write_csv(run.steps, steps_log)
                                raise DivergenceError(
                                    f"Training diverged at epoch {epoch}, step {i}: d_loss={stats['d_loss']}, "
                                    f"g_loss={stats['g_loss']}. The last good checkpoint is "
                                    f"{last_good or 'none (no epoch had finished)'}; lower the learning "
                                    f"rates or change the preset, then resume or start over with --overwrite."
                                )
                            for k, v in stats.items():
                                sums[k] = sums.get(k, 0.0) + v
                            step = (epoch - 1) * steps_per_epoch + i
                            for callback in callbacks:
                                callback.on_step_end(gan, step, stats)
                            steps_log.append({"epoch": round(epoch - 1 + i / steps_per_epoch, 4), **stats})
                            bar.update(1)
                            if i % 10 == 0 or i == steps_per_epoch:
                                bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}",
                                                refresh=False)
                            # Within an epoch, only where a call of the step function ends (steps_per_execution).
                            boundary = i < steps_per_epoch and (i - first) % steps_per_execution == 0
                            if boundary and single and (timer.due or stop.requested):
                                lock.check()
                                write_csv(run.steps, steps_log)
                                for callback in callbacks:
                                    callback.on_checkpoint(gan, step)
                                last_good = within.save(epoch, i, time.perf_counter() - t0)
                                timer.reset()
                            if stop.requested and boundary:  # at the epoch's end, its own checkpoint comes first
                                bar.close()
                                raise _interrupted(stop.signal, last_good, epoch, i, steps_per_epoch)
                    seconds = time.perf_counter() - t0
                    row: dict[str, float] = {"epoch": epoch, **{k: v / steps_per_epoch for k, v in sums.items()},
                                             "seconds": round(seconds, 3),
                                             "images_per_second": round(epochs.images_this_epoch / seconds, 1)}
                    gan.epoch.assign(epoch)
                    lock.check()  # the directory is still the one locked (not moved, deleted or recreated)
                    save_image_grid(gan.fixed_grid(), run.sample_grid(epoch),
                                    title=f"{config.preset} - epoch {epoch}" + gan.title_suffix, cols=gan.grid_columns)
                    for callback in callbacks:
                        row.update(callback.on_epoch_end(gan, row) or {})
                    history.append(row)
                    write_csv(run.steps, steps_log)
                    write_csv(run.history, history)
                    last_good = save_checkpoint(manager, run, epoch)
                    within.clear()
                    timer.reset()
                    _write_summaries(run, history, steps_log, config, gif_fps, steps_per_epoch)
                    if stop.requested:  # the signal came during the epoch's last step or its end
                        raise _interrupted(stop.signal, last_good, epoch, steps_per_epoch, steps_per_epoch)

            if history and start >= config.epochs:  # nothing trained now: refresh outputs a crash may have left stale
                _write_summaries(run, history, steps_log, config, gif_fps, steps_per_epoch)
            for callback in callbacks:
                callback.on_train_end(gan, history)
    return history


def _training_data(config: TrainConfig, family, data_dir, images, labels) -> tuple[np.ndarray, np.ndarray | None]:
    """The training images and labels: ``config.dataset`` loaded, or ``images`` checked; at most ``train_size``."""
    if images is None:
        data = load_dataset(config.dataset, "train", data_dir=data_dir, limit=config.train_size)
        images, labels = data.images, family.dataset_labels(data.labels)
    else:
        images = check_images(images)
        labels = family.check_train_labels(labels, len(images))
        if config.train_size is not None:
            images = images[: config.train_size]
            labels = None if labels is None else labels[: config.train_size]
    per_iteration = config.n_critic * config.batch_size
    if len(images) < per_iteration:
        raise ValueError(
            f"The training set is smaller than one generator iteration: expected at least n_critic * batch_size = "
            f"{config.n_critic} * {config.batch_size} = {per_iteration} images, received {len(images)}. "
            f"Use a smaller --batch-size or a larger --train-size."
        )
    return images, labels


def _interrupted(signum: int | None, checkpoint: str | None, epoch: int, step: int,
                 steps_per_epoch: int) -> TrainingInterrupted:
    name = signal.Signals(signum).name if signum else "a signal"
    saved = f"saved {checkpoint}" if checkpoint else "no checkpoint saved"
    return TrainingInterrupted(
        f"Stopped by {name} after epoch {epoch}, step {step} of {steps_per_epoch} ({saved}). Run the same command "
        f"again to resume from there.", signum=signum or signal.SIGINT, checkpoint=checkpoint)


def _progress(total: int, desc: str, enabled: bool, initial: int = 0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", disable=not enabled, leave=True, file=sys.stdout,
                dynamic_ncols=True, mininterval=0.5)


def step_runner(gan: GAN, jit_compile: bool = False, steps_per_execution: int = 1):
    """``run(dataset, steps)``: yields the float statistics of each of ``steps`` train steps on the GAN's strategy.

    The step is :meth:`ganlib.train.state.GAN.train_step`, traced when first run (a family that
    retraces per stage makes a new runner per stage), compiled with XLA when ``jit_compile`` and
    the strategy allows it (:func:`ganlib.train.step.xla_supported`), and run
    ``steps_per_execution`` steps per call (:func:`ganlib.train.step.make_train_function`).

    Args:
        gan: the state to train.
        jit_compile: compile the step with XLA.
        steps_per_execution: steps per ``tf.function`` call, >= 1.

    Returns:
        ``run(dataset, steps) -> Iterator[dict[str, float]]``; ``dataset`` yields the step's inputs.
    """
    strategy = gan.strategy if gan.strategy is not None else tf.distribute.get_strategy()
    step = gan.train_step(jit_compile and xla_supported(strategy))
    many = make_train_function(step, strategy=strategy, steps_per_execution=steps_per_execution)
    one = make_train_function(step, strategy=strategy) if steps_per_execution > 1 else many

    def run(dataset, steps: int) -> Iterator[dict[str, float]]:
        iterator = iter(strategy.experimental_distribute_dataset(dataset))
        done = 0
        while done < steps:
            out = {k: v.numpy() for k, v in (many if steps - done >= steps_per_execution else one)(iterator).items()}
            for j in range(len(out["d_loss"])):
                yield {k: float(v[j]) for k, v in out.items()}
            done += len(out["d_loss"])

    return run


def _write_summaries(run: RunDir, history, steps_log, config: TrainConfig, fps: float, steps_per_epoch: int) -> None:
    make_gif(run.gif_frames(int(history[-1]["epoch"]), steps_per_epoch), run.gif, fps=fps)
    plot_losses(history, run.loss_plot, steps=steps_log, title=f"{config.preset} on {config.dataset}")


__all__ = ["step_runner", "train_loop"]
