"""The tf.function train step and the training loop.

The step (:func:`make_train_step`) uses one ``tf.GradientTape`` and one
optimizer per network; the loss functions are arguments, so every objective of
:mod:`ganlib.losses` plugs in without touching it. The loop (:func:`train`)
writes, after every epoch, a sample grid of a fixed latent batch, the training
GIF, the loss plot, the history and a checkpoint, and resumes from the last
checkpoint when run again on the same output directory.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

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
) -> Callable[..., dict[str, tf.Tensor]]:
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

    Scaling (distribution and mixed precision): every loss is multiplied by
    ``1 / num_replicas_in_sync`` before it is differentiated, because Keras's
    optimizer sums the replicas' gradients (``all_reduce(SUM)`` in
    ``keras/src/backend/tensorflow/optimizer.py``): a replica's mean over its
    ``B / R`` examples divided by ``R`` is its sum divided by the global batch
    ``B``, as ``tf.nn.compute_average_loss`` computes it (every replica gets the
    same number of examples, which ``drop_remainder`` guarantees). Outside a
    strategy ``R = 1``. Then each loss passes through its optimizer's
    ``scale_loss``: a ``keras.optimizers.LossScaleOptimizer`` (``mixed_float16``)
    multiplies it by its dynamic loss scale and unscales the gradients in
    ``apply_gradients``; other optimizers leave it unchanged. Run the step on
    several replicas through :func:`make_train_function`.

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
        ``step(real_images, z=None) -> dict`` of float32 scalars, where
        ``real_images`` is ``[batch, 28, 28, 1]`` and ``z`` (optional, to inject
        the noise instead of drawing it from ``noise``) is ``[batch, n_critic,
        latent_dim]``, ``z[:, i]`` being the latent batch of the ``i``-th critic
        update (the last one also trains the generator). The dict holds: ``d_loss`` (without the
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

    def scaled(optimizer, loss):
        # Called inside the tapes, so that the scaling is recorded and differentiated.
        return optimizer.scale_loss(loss * (1.0 / _replicas_in_sync()))

    def apply_critic(tape, scaled_total):
        grads = tape.gradient(scaled_total, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        if clip_value is not None:
            _clip_weights(discriminator.trainable_variables, clip_value)

    def step(real, z=None):
        batch = tf.shape(real)[0]
        for i in range(n_critic - 1):
            z_i = rng.normal([batch, latent_dim]) if z is None else z[:, i]
            fake = generator(z_i, training=True)
            with tf.GradientTape() as d_tape:
                real_logits = discriminator(real, training=True)
                fake_logits = discriminator(fake, training=True)
                _, _, total = critic_objective(real, fake, real_logits, fake_logits)
                scaled_total = scaled(d_optimizer, total)
            apply_critic(d_tape, scaled_total)

        z_last = rng.normal([batch, latent_dim]) if z is None else z[:, n_critic - 1]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(z_last, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss, gp, total = critic_objective(real, fake, real_logits, fake_logits)
            g_loss = generator_loss(fake_logits)
            scaled_total = scaled(d_optimizer, total)
            scaled_g_loss = scaled(g_optimizer, g_loss)
        g_grads = g_tape.gradient(scaled_g_loss, generator.trainable_variables)
        apply_critic(d_tape, scaled_total)
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


def xla_supported(strategy: tf.distribute.Strategy) -> bool:
    """Whether a step compiled with ``jit_compile=True`` can run under ``strategy``.

    Not on several replicas: a compiled step called through ``MirroredStrategy.run``
    reads one replica's variables from another replica's device and fails (measured
    with two logical CPUs on TF 2.21; Keras's own ``fit`` also turns XLA off under
    tf.distribute). A ``TPUStrategy`` compiles everything it runs with XLA anyway.
    """
    return strategy.num_replicas_in_sync == 1 and not isinstance(strategy, tf.distribute.TPUStrategy)


def _replicas_in_sync() -> int:
    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1


def _clip_weights(variables, clip_value: float) -> None:
    # A mirrored variable cannot be assigned in a replica context: clip it through the strategy,
    # as Keras's optimizer applies its updates. The replicas hold equal values, so clipping is the same on each.
    if not tf.distribute.has_strategy():
        L.clip_weights(variables, clip_value)
        return

    def clip(strategy):
        for v in variables:
            # The tf.Variable (mirrored) under a keras.Variable, as Keras's optimizer updates it.
            strategy.extended.update(v.value if isinstance(v, keras.Variable) else v,
                                     lambda var: var.assign(tf.clip_by_value(var, -clip_value, clip_value)),
                                     group=False)

    tf.distribute.get_replica_context().merge_call(clip)


def make_train_function(
    step: Callable[..., dict[str, tf.Tensor]],
    *,
    strategy: tf.distribute.Strategy | None = None,
    steps_per_execution: int = 1,
) -> Callable[[Iterator], dict[str, tf.Tensor]]:
    """Wrap a train step into one ``tf.function`` that runs ``steps_per_execution`` steps on the replicas of a strategy.

    Each call takes ``steps_per_execution`` (K) batches from ``iterator`` inside
    the function (a ``tf.while_loop`` when K > 1) and runs ``strategy.run(step,
    batch)`` on each, so Python is entered once per K steps; with XLA the step
    itself stays compiled (``IteratorGetNext`` cannot be, so the loop is not).
    Under a strategy the iterator must come from
    ``strategy.experimental_distribute_dataset``; each replica then gets its
    slice of the global batch. The statistics of the replicas are averaged
    (each is a mean over an equal share of the batch, so this is the global mean).

    Example:
        >>> gan = build_gan(get_config("dcgan"))  # doctest: +SKIP
        >>> run = make_train_function(gan.train_step(), steps_per_execution=4)  # doctest: +SKIP
        >>> run(iter(make_pipeline(images, 64, seed=0)))["d_loss"].shape  # doctest: +SKIP
        TensorShape([4])

    Args:
        step: a step of :func:`make_train_step`, its models and optimizers created
            (and the optimizers built, ``optimizer.build(variables)``) under
            ``strategy.scope()``; compiled with XLA only where :func:`xla_supported`.
        strategy: the ``tf.distribute.Strategy``; None uses the current one (the
            default, single-device strategy outside any scope).
        steps_per_execution: K >= 1, train steps per call.

    Returns:
        ``run(iterator) -> dict`` of float32 ``[K]`` tensors, one value per step,
        with the keys of the step's dict. The iterator yields real batches
        ``[global_batch, 28, 28, 1]``, or ``(real, z)`` pairs with ``z`` as in
        :func:`make_train_step`; it must hold at least K more batches.

    Raises:
        ValueError: ``steps_per_execution`` is not a positive integer.
    """
    if not isinstance(steps_per_execution, int) or isinstance(steps_per_execution, bool) or steps_per_execution < 1:
        raise ValueError(
            f"steps_per_execution must be a positive integer. Received: steps_per_execution={steps_per_execution!r}"
        )
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    mean = tf.distribute.ReduceOp.MEAN

    def one_step(batch):
        args = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
        per_replica = strategy.run(step, args=args)
        return {k: strategy.reduce(mean, v, axis=None) for k, v in per_replica.items()}

    def run(iterator):
        if steps_per_execution == 1:
            return {k: v[None] for k, v in one_step(next(iterator)).items()}
        arrays = {k: tf.TensorArray(tf.float32, size=steps_per_execution) for k in STEP_KEYS}
        for i in tf.range(steps_per_execution):
            stats = one_step(next(iterator))
            arrays = {k: a.write(i, stats[k]) for k, a in arrays.items()}
        return {k: a.stack() for k, a in arrays.items()}

    return tf.function(run)


@dataclass
class GAN:
    """The trainable state of a run: both networks, both optimizers, the noise generator, counters.

    ``epoch`` counts completed epochs; ``fixed_z`` is the latent batch of the
    sample grids. All of it is tracked by :meth:`checkpoint`. ``strategy`` is
    the ``tf.distribute.Strategy`` whose scope all of it was created under.
    """

    config: TrainConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer
    noise: tf.random.Generator
    epoch: tf.Variable
    fixed_z: tf.Variable
    strategy: tf.distribute.Strategy | None = None

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

    def train_function(self, jit_compile: bool = False, steps_per_execution: int = 1) -> Callable[[Iterator], dict]:
        """:func:`make_train_function` of this GAN's step, on its strategy (see there for the iterator).

        ``jit_compile`` is ignored on several replicas (see :func:`xla_supported`).
        """
        strategy = self.strategy if self.strategy is not None else tf.distribute.get_strategy()
        return make_train_function(self.train_step(jit_compile and xla_supported(strategy)), strategy=strategy,
                                   steps_per_execution=steps_per_execution)

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


PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def _optimizer(config: TrainConfig, learning_rate: float, precision: str = "float32") -> keras.optimizers.Optimizer:
    if config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(learning_rate)
    else:
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
    if precision == "mixed_float16":
        # float16 gradients underflow: scale the loss up, unscale the gradients, skip steps that overflow.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


@contextlib.contextmanager
def _dtype_policy(precision: str):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_gan(
    config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None, precision: str = "float32"
) -> GAN:
    """Build the networks, optimizers, noise generator and fixed latent batch of a config, seeded by ``config.seed``.

    The same seed gives the same initial weights, the same fixed latent batch
    and the same noise stream. Optimizer slots are created eagerly so that a
    checkpoint can be restored into them. Everything is created under
    ``strategy.scope()``, so its variables are mirrored on the strategy's
    replicas and the noise generator gives each replica its own stream.

    Args:
        config: the run's settings.
        strategy: a ``tf.distribute.Strategy`` (see :func:`ganlib.distribute.get_strategy`);
            None uses the current one (the default strategy outside any scope).
        precision: ``"float32"``; ``"mixed_float16"`` (GPUs: float16 computations,
            float32 weights, each optimizer wrapped in a ``LossScaleOptimizer``); or
            ``"mixed_bfloat16"`` (TPUs and recent CPUs: bfloat16 computations, float32
            weights, no loss scaling). The generator's output and the
            discriminator's logits stay float32 in every case.

    Raises:
        ValueError: invalid model sizes (see :mod:`ganlib.models`) or unknown ``precision``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision: expected one of {', '.join(PRECISIONS)}. Received: precision={precision!r}")
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        with _dtype_policy(precision):
            generator = build_generator(config.latent_dim, config.g_filters)
            discriminator = build_discriminator(
                config.d_filters, batch_norm=config.d_batch_norm,
                name="discriminator" if config.d_batch_norm else "critic",
            )
        g_optimizer = _optimizer(config, config.g_learning_rate, precision)
        d_optimizer = _optimizer(config, config.d_learning_rate, precision)
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
            strategy=strategy,
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
    steps_per_execution: int = 1,
    strategy: tf.distribute.Strategy | None = None,
    precision: str = "float32",
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
        steps_per_execution: train steps per ``tf.function`` call (see :func:`make_train_function`);
            the per-step losses are still logged.
        strategy: a ``tf.distribute.Strategy`` to train under (see
            :func:`ganlib.distribute.get_strategy`); ``config.batch_size`` is the global
            batch, split evenly over the replicas. None: the current (default) strategy.
        precision: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"`` (see :func:`build_gan`).
        gif_fps: frames per second of the training GIF.
        max_to_keep: checkpoints kept by the CheckpointManager.
        on_epoch_end: ``f(gan, row)`` called after each epoch, before the
            checkpoint; the values of the dict it returns are added to the epoch's history row.

    Returns:
        The history: one dict per completed epoch (``epoch``, mean step values, ``seconds``,
        ``images_per_second``; every ``config.eval_every`` epochs also ``fcd``,
        ``classifier_score`` and ``classes_covered`` of ``config.eval_samples`` generated images
        against the test split of ``config.dataset``, read from ``data_dir``, see :mod:`ganlib.metrics`).

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

    gan = build_gan(config, strategy=strategy, precision=precision)
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

    run_steps = _step_runner(gan, jit_compile, steps_per_execution)
    steps_per_epoch = len(images) // config.batch_size
    for epoch in range(start + 1, config.epochs + 1):
        dataset = make_pipeline(images, config.batch_size, seed=config.seed, epoch=epoch - 1)
        sums = dict.fromkeys(STEP_KEYS, 0.0)
        t0 = time.perf_counter()
        with _progress(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress) as bar:
            for i, stats in enumerate(run_steps(dataset, steps_per_epoch), start=1):
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
        if config.eval_every and epoch % config.eval_every == 0:
            row.update(_evaluate(gan, data_dir))
        if on_epoch_end is not None:
            row.update(on_epoch_end(gan, row) or {})
        history.append(row)
        write_csv(run.steps, steps_log)
        write_csv(run.history, history)
        manager.save(checkpoint_number=epoch)
        _write_summaries(run, history, steps_log, config, gif_fps)

    if history and start >= config.epochs:  # nothing trained now: refresh outputs a crash may have left stale
        _write_summaries(run, history, steps_log, config, gif_fps)
    return history


def _step_runner(gan: GAN, jit_compile: bool, steps_per_execution: int):
    """``run(dataset, steps)``: yields the float stats of each of ``steps`` train steps on the GAN's strategy."""
    strategy = gan.strategy if gan.strategy is not None else tf.distribute.get_strategy()
    if gan.config.batch_size % strategy.num_replicas_in_sync:
        # The 1/replicas loss scaling of make_train_step assumes equal shares of the global batch.
        raise ValueError(
            f"The batch size must be a multiple of the number of replicas ({strategy.num_replicas_in_sync}). "
            f"Received: batch_size={gan.config.batch_size}"
        )
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


def _evaluate(gan: GAN, data_dir: str | os.PathLike | None) -> dict[str, float]:
    # Imported here: ganlib.metrics loads its classifier only for runs that evaluate.
    from ganlib.metrics import evaluate_generator

    # The same z (seeded by the run's seed) at every evaluation, so epochs differ only by the generator.
    m = evaluate_generator(gan, num_samples=gan.config.eval_samples, seed=gan.config.seed, data_dir=data_dir)
    return {"fcd": m["fcd"], "classifier_score": m["classifier_score"], "classes_covered": m["classes_covered"]}


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


__all__ = ["GAN", "PRECISIONS", "DivergenceError", "build_gan", "check_images", "load_run", "make_train_function",
           "make_train_step", "train", "xla_supported"]
