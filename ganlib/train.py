"""The tf.function train step and the training loop.

The step (:func:`make_train_step`) uses one ``tf.GradientTape`` and one
optimizer per network; the loss functions are arguments, so every objective of
:mod:`ganlib.losses` plugs in without touching it. The loop (:func:`train`)
writes, after every epoch, a sample grid of a fixed latent batch, the training
GIF, the loss plot, the history and a checkpoint, and resumes from the last
checkpoint when run again on the same output directory.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import TrainConfig
from ganlib.data import load_dataset, make_pipeline
from ganlib.models import build_discriminator, build_generator
from ganlib.runs import RunDir, prepare_run_dir, read_csv, write_csv
from ganlib.viz import make_gif, plot_losses, save_image_grid

STEP_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "real_score", "fake_score", "gradient_penalty")


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


def make_train_step(
    generator: keras.Model,
    discriminator: keras.Model,
    g_optimizer: keras.optimizers.Optimizer,
    d_optimizer: keras.optimizers.Optimizer,
    *,
    discriminator_loss: L.DiscriminatorLoss,
    generator_loss: L.GeneratorLoss,
    latent_dim: int,
    n_critic: int = 1,
    clip_value: float | None = None,
    gp_weight: float = 0.0,
    noise: tf.random.Generator | None = None,
    jit_compile: bool = False,
) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
    """Build a ``tf.function`` that performs one GAN training step on a batch of real images.

    One step is ``n_critic`` discriminator (critic) updates and one generator
    update, each network with its own ``GradientTape`` and its own optimizer:

    1. ``n_critic - 1`` discriminator-only updates, each with fresh noise;
    2. one forward pass ``G(z) -> D(x), D(G(z))`` recorded by both tapes, from
       which the last discriminator update and the generator update are taken
       (as in the TensorFlow DCGAN tutorial: it saves one forward pass of each
       network, and for ``n_critic=1`` the two gradients are taken at the same
       parameters).

    All ``n_critic`` critic updates of a step use the same real batch with fresh
    noise each time. After every critic update the critic's weights are clipped
    to ``[-clip_value, clip_value]`` when ``clip_value`` is set (WGAN), and the
    gradient penalty ``gp_weight * GP`` is added to its loss when ``gp_weight > 0``
    (WGAN-GP). The noise batch always has the real batch's size.

    Example:
        >>> g, d = build_generator(8, 8), build_discriminator(8)  # doctest: +SKIP
        >>> step = make_train_step(g, d, keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5),
        ...     discriminator_loss=L.minimax_discriminator_loss,
        ...     generator_loss=L.non_saturating_generator_loss, latent_dim=8)  # doctest: +SKIP
        >>> float(step(tf.zeros([16, 28, 28, 1]))["d_loss"]) > 0  # doctest: +SKIP
        True

    Args:
        generator: maps ``z`` ``[batch, latent_dim]`` to images ``[batch, 28, 28, 1]``.
        discriminator: maps images to logits / critic scores ``[batch, ...]``.
        g_optimizer, d_optimizer: two distinct optimizers, one per network.
        discriminator_loss: ``f(real_logits, fake_logits) -> scalar``.
        generator_loss: ``f(fake_logits) -> scalar``.
        latent_dim: size of ``z``.
        n_critic: discriminator updates per generator update, >= 1.
        clip_value: weight-clipping bound c > 0, or None.
        gp_weight: gradient-penalty weight lambda >= 0.
        noise: the random generator for ``z`` and the penalty's interpolation
            weights; its state is checkpointed with the run, so a resumed run
            draws the same noise. None seeds one from the global seed.
        jit_compile: compile the step with XLA.

    Returns:
        ``step(real_images) -> dict`` of float32 scalars: ``d_loss`` (without the
        penalty), ``g_loss``, ``d_real`` = mean sigmoid(D(x)), ``d_fake`` = mean
        sigmoid(D(G(z))) (probabilities for the minimax family), ``real_score`` and
        ``fake_score`` (mean raw outputs; their difference is the critic's
        Wasserstein estimate), ``gradient_penalty`` (0 without penalty). Taken at
        the last critic update's forward pass.

    Raises:
        ValueError: the two optimizers are the same object, ``n_critic < 1``,
            ``clip_value <= 0`` or ``gp_weight < 0``.
    """
    if g_optimizer is d_optimizer:
        raise ValueError("Expected one optimizer per network. Received the same optimizer for both.")
    if not isinstance(n_critic, int) or n_critic < 1:
        raise ValueError(f"n_critic must be a positive integer. Received: n_critic={n_critic!r}")
    if clip_value is not None and not clip_value > 0:
        raise ValueError(f"clip_value must be positive or None. Received: clip_value={clip_value!r}")
    if gp_weight < 0:
        raise ValueError(f"gp_weight must be >= 0. Received: gp_weight={gp_weight!r}")
    rng = noise if noise is not None else tf.random.Generator.from_seed(int(np.random.randint(2**31 - 1)))

    def critic_objective(real, fake, real_logits, fake_logits):
        d_loss = discriminator_loss(real_logits, fake_logits)
        if gp_weight > 0:
            gp = L.gradient_penalty(
                lambda x: discriminator(x, training=True), real, fake, seed=rng.make_seeds(1)[:, 0]
            )
        else:
            gp = tf.constant(0.0)
        return d_loss, gp, d_loss + gp_weight * gp

    def apply_critic(tape, total):
        grads = tape.gradient(total, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        if clip_value is not None:
            L.clip_weights(discriminator.trainable_variables, clip_value)

    def step(real):
        batch = tf.shape(real)[0]
        for _ in range(n_critic - 1):
            z = rng.normal([batch, latent_dim])
            fake = generator(z, training=True)
            with tf.GradientTape() as d_tape:
                real_logits = discriminator(real, training=True)
                fake_logits = discriminator(fake, training=True)
                _, _, total = critic_objective(real, fake, real_logits, fake_logits)
            apply_critic(d_tape, total)

        z = rng.normal([batch, latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(z, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss, gp, total = critic_objective(real, fake, real_logits, fake_logits)
            g_loss = generator_loss(fake_logits)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        apply_critic(d_tape, total)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))

        real_logits = tf.cast(real_logits, tf.float32)
        fake_logits = tf.cast(fake_logits, tf.float32)
        return {
            "d_loss": tf.cast(d_loss, tf.float32),
            "g_loss": tf.cast(g_loss, tf.float32),
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "real_score": tf.reduce_mean(real_logits),
            "fake_score": tf.reduce_mean(fake_logits),
            "gradient_penalty": tf.cast(gp, tf.float32),
        }

    return tf.function(step, jit_compile=jit_compile)


@dataclass
class GAN:
    """The trainable state of a run: both networks, both optimizers, the noise generator, counters.

    ``epoch`` counts completed epochs; ``fixed_z`` is the latent batch of the
    sample grids. All of it is tracked by :meth:`checkpoint`.
    """

    config: TrainConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer
    noise: tf.random.Generator
    epoch: tf.Variable
    fixed_z: tf.Variable

    def checkpoint(self) -> tf.train.Checkpoint:
        """A ``tf.train.Checkpoint`` over everything that a resumed run must continue from."""
        return tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            noise=self.noise,
            epoch=self.epoch,
            fixed_z=self.fixed_z,
        )

    def train_step(self, jit_compile: bool = False) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
        """The :func:`make_train_step` for this GAN's config."""
        c = self.config
        return make_train_step(
            self.generator,
            self.discriminator,
            self.g_optimizer,
            self.d_optimizer,
            discriminator_loss=L.DISCRIMINATOR_LOSSES[c.discriminator_loss],
            generator_loss=L.GENERATOR_LOSSES[c.generator_loss],
            latent_dim=c.latent_dim,
            n_critic=c.n_critic,
            clip_value=c.clip_value,
            gp_weight=c.gp_weight,
            noise=self.noise,
            jit_compile=jit_compile,
        )

    def generate(self, z: np.ndarray | tf.Tensor, batch_size: int = 500) -> np.ndarray:
        """Images ``[N, 28, 28, 1]`` in [-1, 1] from latent vectors ``[N, latent_dim]`` (inference mode)."""
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape [N, {self.config.latent_dim}]. Received: shape={list(z.shape)}"
            )
        return np.concatenate(
            [self.generator(z[i : i + batch_size], training=False).numpy() for i in range(0, len(z), batch_size)]
        )


def _optimizer(config: TrainConfig, learning_rate: float) -> keras.optimizers.Optimizer:
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    return keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)


def build_gan(config: TrainConfig) -> GAN:
    """Build the networks, optimizers, noise generator and fixed latent batch of a config, seeded by ``config.seed``.

    The same seed gives the same initial weights, the same fixed latent batch
    and the same noise stream. Optimizer slots are created eagerly so that a
    checkpoint can be restored into them.

    Raises:
        ValueError: invalid model sizes (see :mod:`ganlib.models`).
    """
    keras.utils.set_random_seed(config.seed)
    generator = build_generator(config.latent_dim, config.g_filters)
    discriminator = build_discriminator(
        config.d_filters, batch_norm=config.d_batch_norm, name="discriminator" if config.d_batch_norm else "critic"
    )
    g_optimizer = _optimizer(config, config.g_learning_rate)
    d_optimizer = _optimizer(config, config.d_learning_rate)
    g_optimizer.build(generator.trainable_variables)
    d_optimizer.build(discriminator.trainable_variables)
    fixed_z = np.random.default_rng(config.seed).standard_normal((config.num_samples, config.latent_dim))
    return GAN(
        config=config,
        generator=generator,
        discriminator=discriminator,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        noise=tf.random.Generator.from_seed(config.seed),
        epoch=tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch"),
        fixed_z=tf.Variable(fixed_z.astype(np.float32), trainable=False, name="fixed_z"),
    )


def load_run(run_dir: str | os.PathLike) -> tuple[GAN, RunDir]:
    """Rebuild a run's GAN from its ``config.json`` and restore its latest checkpoint.

    Raises:
        RunDirError: not a ganlib run directory.
        FileNotFoundError: the run has no checkpoint yet.
    """
    from ganlib.runs import load_config

    run = RunDir(Path(run_dir))
    gan = build_gan(load_config(run))
    latest = tf.train.latest_checkpoint(run.checkpoints)
    if latest is None:
        raise FileNotFoundError(f"{run.root} has no checkpoint yet: expected files in {run.checkpoints}.")
    gan.checkpoint().restore(latest).expect_partial()
    return gan, run


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=True, file=sys.stdout,
                dynamic_ncols=True, mininterval=0.5)


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    images: np.ndarray | None = None,
    overwrite: bool = False,
    progress: bool = True,
    jit_compile: bool = False,
    gif_fps: float = 2.0,
    max_to_keep: int = 3,
    on_epoch_end: Callable[[GAN, dict[str, float]], dict[str, float] | None] | None = None,
) -> list[dict[str, float]]:
    """Train a GAN, writing sample grids, a GIF, loss curves, history and checkpoints to ``out_dir``.

    Running it again on the same ``out_dir`` with the same config resumes from
    the last checkpoint (``config.epochs`` may be raised to train longer). The
    run's outputs are described in :mod:`ganlib.runs`.

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`).
        out_dir: the run directory.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`); used
            when ``images`` is None.
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1] to train on instead of loading
            ``config.dataset`` (``config.train_size`` still applies).
        overwrite: delete a previous run in ``out_dir`` instead of refusing.
        progress: show a progress bar per epoch with live losses.
        jit_compile: compile the train step with XLA.
        gif_fps: frames per second of the training GIF.
        max_to_keep: checkpoints kept by the CheckpointManager.
        on_epoch_end: ``f(gan, row)`` called after each epoch, before the
            checkpoint; the values of the dict it returns are added to the epoch's history row.

    Returns:
        The history: one dict per completed epoch (``epoch``, mean step values, ``seconds``,
        ``images_per_second``).

    Raises:
        RunDirError: ``out_dir`` holds another run or is not writable.
        ValueError: images of the wrong shape, dtype or range, or fewer than one batch.
        DivergenceError: a loss became non-finite (the last good checkpoint is kept).
    """
    run = prepare_run_dir(out_dir, config, overwrite=overwrite)
    if images is None:
        images = load_dataset(config.dataset, "train", data_dir=data_dir, limit=config.train_size).images
    else:
        images = check_images(images)
        if config.train_size is not None:
            images = images[: config.train_size]
    if len(images) < config.batch_size:
        raise ValueError(
            f"The training set is smaller than one batch: expected at least batch_size={config.batch_size} "
            f"images, received {len(images)}. Use a smaller --batch-size or a larger --train-size."
        )

    gan = build_gan(config)
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

    step_fn = gan.train_step(jit_compile=jit_compile)
    steps_per_epoch = len(images) // config.batch_size
    for epoch in range(start + 1, config.epochs + 1):
        dataset = make_pipeline(images, config.batch_size, seed=config.seed, epoch=epoch - 1)
        sums = dict.fromkeys(STEP_KEYS, 0.0)
        t0 = time.perf_counter()
        with _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress) as bar:
            for i, real in enumerate(dataset, start=1):
                stats = {k: float(v) for k, v in step_fn(real).items()}
                if not (math.isfinite(stats["d_loss"]) and math.isfinite(stats["g_loss"])):
                    raise DivergenceError(
                        f"Training diverged at epoch {epoch}, step {i}: d_loss={stats['d_loss']}, "
                        f"g_loss={stats['g_loss']}. The last good checkpoint is "
                        f"{manager.latest_checkpoint or 'none (no epoch had finished)'}; lower the learning "
                        f"rates or change the preset, then resume or start over with --overwrite."
                    )
                for k in STEP_KEYS:
                    sums[k] += stats[k]
                steps_log.append({"epoch": round(epoch - 1 + i / steps_per_epoch, 4),
                                  "d_loss": stats["d_loss"], "g_loss": stats["g_loss"]})
                bar.update(1)
                if i % 10 == 0 or i == steps_per_epoch:
                    bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}",
                                    refresh=False)
        seconds = time.perf_counter() - t0
        row: dict[str, float] = {"epoch": epoch, **{k: v / steps_per_epoch for k, v in sums.items()},
                                 "seconds": round(seconds, 3),
                                 "images_per_second": round(steps_per_epoch * config.batch_size / seconds, 1)}
        gan.epoch.assign(epoch)
        save_image_grid(gan.generate(gan.fixed_z), run.sample_grid(epoch), title=f"{config.preset} - epoch {epoch}")
        if on_epoch_end is not None:
            row.update(on_epoch_end(gan, row) or {})
        history.append(row)
        write_csv(run.steps, steps_log)
        write_csv(run.history, history)
        manager.save(checkpoint_number=epoch)
        _write_summaries(run, history, steps_log, config, gif_fps)

    if history and not run.gif.exists():
        _write_summaries(run, history, steps_log, config, gif_fps)
    return history


def _write_summaries(run: RunDir, history, steps_log, config: TrainConfig, fps: float) -> None:
    make_gif(run.sample_grids(up_to_epoch=int(history[-1]["epoch"])), run.gif, fps=fps)
    plot_losses(history, run.loss_plot, steps=steps_log, title=f"{config.preset} on {config.dataset}")


def check_images(images: Any) -> np.ndarray:
    """Validate training images: float ``[N, 28, 28, 1]`` in [-1, 1].

    Returns:
        The images as float32.

    Raises:
        ValueError: wrong rank or shape, non-float dtype (for example uint8 0..255), or
            values outside [-1, 1]; the message says what was expected and what was received.
    """
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1:] != (28, 28, 1):
        raise ValueError(f"Expected images of shape [N, 28, 28, 1]. Received: shape={list(arr.shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        hint = " (uint8 pixels in 0..255? convert with ganlib.data.to_unit_range)" if arr.dtype == np.uint8 else ""
        raise ValueError(f"Expected float images in [-1, 1]. Received: dtype={arr.dtype}{hint}")
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6 or not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(
            f"Expected images with values in [-1, 1]. Received values in [{lo:g}, {hi:g}]"
            + (" (0..255 pixels? use ganlib.data.to_unit_range)" if hi > 1.5 else "")
        )
    return arr.astype(np.float32, copy=False)


__all__ = ["GAN", "DivergenceError", "build_gan", "check_images", "load_run", "make_train_step", "train"]
