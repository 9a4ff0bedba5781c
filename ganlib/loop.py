"""The training loop: epochs of train steps, sample grids, GIF, loss curves, history, checkpoints and resume.

:func:`train` runs the step of :mod:`ganlib.step` on the state of
:mod:`ganlib.state` over epochs of the data, and after every epoch writes a
sample grid of the fixed latent batch, the training GIF, the loss plot, the
history and a checkpoint into a run directory (:mod:`ganlib.runs`). Running
it again on the same directory resumes from the last checkpoint.

The loop knows nothing of evaluation: callers add per-epoch work (for example
:func:`ganlib.metrics.epoch_evaluator`) through ``on_epoch_end`` hooks, as
:func:`ganlib.train.train` does for ``config.eval_every``. Per-step work is a
:class:`Callback`: the training GIF's frames (:class:`ganlib.frames.TrainingFrames`,
configured by ``config.frames_per_decade`` and ``config.frame_every``) are one. A
conditional config (``config.conditional``) only changes what flows through: the
labels go into the pipeline with the images, and the grids come from
:meth:`ganlib.state.GAN.fixed_grid`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.errors import DivergenceError
from ganlib.data import NUM_CLASSES, check_images, load_dataset, make_pipeline
from ganlib.distribute import config_for_strategy
from ganlib.runs import RunDir, prepare_run_dir, read_csv, write_csv
from ganlib.state import GAN, build_gan
from ganlib.step import STEP_KEYS, make_train_function, xla_supported
from ganlib.viz import make_gif, plot_losses, save_image_grid
from ganlib.callbacks import Callback  # re-exported: ganlib.loop.Callback

EpochHook = Callable[[GAN, dict], "dict[str, float] | None"]


class _EpochHookCallback(Callback):
    def __init__(self, hook: EpochHook):
        self.hook = hook

    def on_epoch_end(self, gan: GAN, row: dict[str, float]) -> dict[str, float] | None:
        return self.hook(gan, row)



def train(
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
    on_epoch_end: EpochHook | Iterable[EpochHook] | None = None,
    callbacks: Iterable[Callback] = (),
) -> list[dict[str, float]]:
    """Train a GAN, writing sample grids, a GIF, loss curves, history and checkpoints to ``out_dir``.

    Running it again on the same ``out_dir`` with the same config resumes from
    the last checkpoint (``config.epochs`` may be raised to train longer). The
    run's outputs are described in :mod:`ganlib.runs`. An epoch is one pass of
    the critic over the data: ``N // (n_critic * batch_size)`` generator iterations,
    each taking ``n_critic`` real batches (see :func:`ganlib.step.make_train_step`).

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`); its
            ``num_replicas`` is set from ``strategy`` and recorded in ``config.json``.
        out_dir: the run directory.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`); used
            when ``images`` is None.
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1] to train on instead of loading
            ``config.dataset`` (``config.train_size`` still applies).
        labels: int ``[N]`` class labels in 0..9 of ``images``, for a conditional config
            (``config.conditional``); with ``images=None`` they come from ``config.dataset``.
        overwrite: delete a previous run in ``out_dir`` instead of refusing.
        progress: show a progress bar per epoch with live losses.
        jit_compile: compile the train step with XLA.
        steps_per_execution: train steps per ``tf.function`` call (see
            :func:`ganlib.step.make_train_function`); the per-step losses are still logged.
        strategy: a ``tf.distribute.Strategy`` to train under (see
            :func:`ganlib.distribute.get_strategy`); ``config.batch_size`` is the global
            batch, split evenly over the replicas. None: the current (default) strategy.
        gif_fps: frames per second of the training GIF (its frames: :mod:`ganlib.frames`).
        max_to_keep: checkpoints kept by the CheckpointManager.
        on_epoch_end: one hook or several, ``f(gan, row)``, called in order after each
            epoch's sample grid and before its checkpoint; the values of the dict a hook
            returns are added to the epoch's history row.
        callbacks: :class:`Callback` objects (per-step and per-run work), called after the
            ``on_epoch_end`` hooks.

    Returns:
        The history: one dict per completed epoch (``epoch``, mean step values, ``seconds``,
        ``images_per_second`` (real images through the critic per second), and what the hooks added).

    Raises:
        RunDirError: ``out_dir`` holds another run (other settings, precision or replica
            count) or is not writable.
        ValueError: images of the wrong shape, dtype or range, fewer than one generator
            iteration's ``n_critic * batch_size`` images, a batch size not divisible by
            the number of replicas, or labels missing, given to an unconditional config,
            of the wrong shape or out of range.
        DivergenceError: a loss became non-finite (the last good checkpoint is kept).
    """
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    config = config_for_strategy(config, strategy)
    hooks = [] if on_epoch_end is None else [on_epoch_end] if callable(on_epoch_end) else list(on_epoch_end)
    callbacks = [_EpochHookCallback(h) for h in hooks] + list(callbacks)
    run = prepare_run_dir(out_dir, config, overwrite=overwrite)
    if images is None:
        data = load_dataset(config.dataset, "train", data_dir=data_dir, limit=config.train_size)
        images, labels = data.images, data.labels if config.conditional else None
    else:
        images = check_images(images)
        labels = _check_labels(labels, len(images), conditional=config.conditional)
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

    from ganlib.frames import TrainingFrames

    frames = TrainingFrames.from_config(config)
    callbacks = ([frames] if frames is not None else []) + callbacks
    if config.progressive:
        if steps_per_execution != 1:
            raise ValueError("A progressive run changes alpha after every step: expected steps_per_execution=1. "
                             f"Received: steps_per_execution={steps_per_execution}")
        from ganlib.growing import GrowthLog

        callbacks = [GrowthLog()] + callbacks
    gan = build_gan(config, strategy=strategy)
    manager = tf.train.CheckpointManager(gan.checkpoint(), run.checkpoints, max_to_keep=max_to_keep)
    if manager.latest_checkpoint:
        gan.checkpoint().restore(manager.latest_checkpoint).assert_existing_objects_matched()
    start = int(gan.epoch.numpy())
    history = [r for r in read_csv(run.history) if r["epoch"] <= start]
    steps_log = [r for r in read_csv(run.steps) if r["epoch"] <= start]
    for stale in run.sample_grids():
        if int(stale.stem.split("_")[1]) > start:
            stale.unlink()
    if start:
        print(f"Resuming {run.root} from epoch {start} ({manager.latest_checkpoint}).", flush=True)

    steps_per_epoch = len(images) // per_iteration
    if config.progressive:
        from ganlib.growing import ProgressiveEpochs, describe_plan

        growing = ProgressiveEpochs(gan, images, steps_per_epoch, lambda: _step_runner(gan, False, 1))
        print(describe_plan(gan.growth.schedule, config.epochs * steps_per_epoch, config.n_critic), flush=True)
    else:
        growing, run_steps = None, _step_runner(gan, jit_compile, steps_per_execution)
    for callback in callbacks:
        callback.on_train_begin(gan, run, start * steps_per_epoch, steps_per_epoch)
    for epoch in range(start + 1, config.epochs + 1):
        if growing is None:
            dataset = make_pipeline(images, per_iteration, seed=config.seed, epoch=epoch - 1, labels=labels)
            epoch_steps = run_steps(dataset, steps_per_epoch)
        else:  # a progressive run reads its own stream of real images (ganlib.growing)
            epoch_steps = growing.run_epoch(epoch)
        sums = dict.fromkeys(STEP_KEYS, 0.0)
        t0 = time.perf_counter()
        with _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress) as bar:
            for i, stats in enumerate(epoch_steps, start=1):
                if not (math.isfinite(stats["d_loss"]) and math.isfinite(stats["g_loss"])):
                    raise DivergenceError(
                        f"Training diverged at epoch {epoch}, step {i}: d_loss={stats['d_loss']}, "
                        f"g_loss={stats['g_loss']}. The last good checkpoint is "
                        f"{manager.latest_checkpoint or 'none (no epoch had finished)'}; lower the learning "
                        f"rates or change the preset, then resume or start over with --overwrite."
                    )
                for k in STEP_KEYS:
                    sums[k] += stats[k]
                for callback in callbacks:
                    callback.on_step_end(gan, (epoch - 1) * steps_per_epoch + i, stats)
                steps_log.append({"epoch": round(epoch - 1 + i / steps_per_epoch, 4),
                                  "d_loss": stats["d_loss"], "g_loss": stats["g_loss"]})
                bar.update(1)
                if i % 10 == 0 or i == steps_per_epoch:
                    bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}",
                                    refresh=False)
        seconds = time.perf_counter() - t0
        epoch_images = steps_per_epoch * per_iteration if growing is None else growing.images_this_epoch
        row: dict[str, float] = {"epoch": epoch, **{k: v / steps_per_epoch for k, v in sums.items()},
                                 "seconds": round(seconds, 3),
                                 "images_per_second": round(epoch_images / seconds, 1)}
        gan.epoch.assign(epoch)
        save_image_grid(gan.fixed_grid(), run.sample_grid(epoch), title=f"{config.preset} - epoch {epoch}"
                        + (" (EMA)" if gan.ema_generator is not None else ""), cols=gan.grid_columns)
        for callback in callbacks:
            row.update(callback.on_epoch_end(gan, row) or {})
        history.append(row)
        write_csv(run.steps, steps_log)
        write_csv(run.history, history)
        manager.save(checkpoint_number=epoch)
        _write_summaries(run, history, steps_log, config, gif_fps, steps_per_epoch)

    if history and start >= config.epochs:  # nothing trained now: refresh outputs a crash may have left stale
        _write_summaries(run, history, steps_log, config, gif_fps, steps_per_epoch)
    for callback in callbacks:
        callback.on_train_end(gan, history)
    return history


def _check_labels(labels, n: int, *, conditional: bool) -> np.ndarray | None:
    if not conditional:
        if labels is not None:
            raise ValueError("Labels are for a conditional config (conditional=True). Received labels for an "
                             "unconditional one.")
        return None
    if labels is None:
        raise ValueError(f"A conditional config trains on labelled images: expected labels, ints [{n}] in "
                         f"0..{NUM_CLASSES - 1}. Received: labels=None")
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected integer labels of shape [{n}], one per image. "
                         f"Received: labels.shape={list(y.shape)}, dtype={y.dtype}")
    if n and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"Expected labels in 0..{NUM_CLASSES - 1}. Received values in [{y.min()}, {y.max()}]")
    return y


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=True, file=sys.stdout,
                dynamic_ncols=True, mininterval=0.5)


def _step_runner(gan: GAN, jit_compile: bool, steps_per_execution: int):
    """``run(dataset, steps)``: yields the float stats of each of ``steps`` train steps on the GAN's strategy."""
    strategy = gan.strategy if gan.strategy is not None else tf.distribute.get_strategy()
    step = gan.train_step(jit_compile and xla_supported(strategy))
    many = make_train_function(step, strategy=strategy, steps_per_execution=steps_per_execution)
    one = make_train_function(step, strategy=strategy) if steps_per_execution > 1 else many

    def run(dataset, steps: int):
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


__all__ = ["Callback", "DivergenceError", "EpochHook", "train"]
