"""The trainable state of a GAN run and its checkpoint: networks, optimizers, noise generator, counters.

:func:`build_gan` creates it from a :class:`ganlib.config.TrainConfig` (seeded,
under a ``tf.distribute.Strategy``'s scope, in the config's precision);
:meth:`GAN.checkpoint` lists everything that a resumed run continues from;
:func:`load_run` rebuilds a run's state from its directory.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from ganlib import losses as L
from ganlib import progressive as P
from ganlib.config import PRECISIONS, TrainConfig
from ganlib.data import NUM_CLASSES
from ganlib.models import (
    build_conditional_discriminator,
    build_conditional_generator,
    build_discriminator,
    build_generator,
)
from ganlib.runs import RunDir, load_config
from ganlib.step import assign_each, make_train_step


@dataclass
class GAN:
    """The trainable state of a run: both networks, both optimizers, the noise generator, counters.

    ``epoch`` counts completed epochs; ``fixed_z`` is the latent batch of the
    sample grids; ``ema_generator`` is the exponential moving average of the
    generator's weights when ``config.ema > 0`` (else None), and then every sample
    (:meth:`generate`: grids, GIF, ``sample``, ``evaluate``) comes from it. All of it
    is tracked by :meth:`checkpoint`. ``growth`` is the stage and fade-in state of a progressive
    run (``config.progressive``, see :mod:`ganlib.growing`), shared by its networks; None otherwise. ``strategy`` is
    the ``tf.distribute.Strategy`` whose scope all of it was created under;
    ``restored_from`` the checkpoint prefix :func:`load_run` restored, if any.
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
    restored_from: str | None = None
    ema_generator: keras.Model | None = None
    growth: P.Growth | None = None

    def checkpoint(self) -> tf.train.Checkpoint:
        """A ``tf.train.Checkpoint`` over everything that a resumed run must continue from."""
        extra = {} if self.ema_generator is None else {"ema_generator": self.ema_generator}
        if self.growth is not None:
            extra["growth"] = self.growth
        return tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            noise=self.noise,
            epoch=self.epoch,
            fixed_z=self.fixed_z,
            **extra,
        )

    @property
    def sample_source(self) -> str:
        """Which generator :meth:`generate` uses, for titles and messages."""
        return "generator" if self.ema_generator is None else f"EMA generator (decay {self.config.ema:g})"

    def update_ema(self) -> None:
        """``w_ema <- decay * w_ema + (1 - decay) * w`` for every generator weight, batch-norm statistics included.

        Called inside the train step after each generator update (Karras et al. 2018,
        https://arxiv.org/abs/1710.10196, appendix A.1; Yazici et al. 2019,
        https://arxiv.org/abs/1806.04498). A no-op without an EMA generator.
        """
        if self.ema_generator is None:
            return
        decay = self.config.ema
        weights = self.generator.weights
        assign_each(self.ema_generator.weights,
                    [lambda e, w=w: decay * e + (1.0 - decay) * tf.cast(w, e.dtype) for w in weights])

    def train_step(self, jit_compile: bool = False) -> Callable[..., dict[str, tf.Tensor]]:
        """The :func:`ganlib.step.make_train_step` of this GAN's config.

        For a progressive run the step first prepares the real images for the current stage
        (:meth:`ganlib.progressive.Growth.prepare_reals`), is traced at the stage current when it is
        first called, and is not compiled with XLA (see :mod:`ganlib.growing`).

        Returns:
            ``step(real, z=None, labels=None)``, where ``real`` is ``[n_critic * batch_size, 28, 28, 1]``
            and ``labels`` int ``[n_critic * batch_size]`` for a conditional GAN
            (see :func:`ganlib.step.make_train_step`).
        """
        c = self.config
        discriminator_loss, generator_loss = L.for_config(c)
        step = make_train_step(
            self.generator,
            self.discriminator,
            self.g_optimizer,
            self.d_optimizer,
            discriminator_loss=discriminator_loss,
            generator_loss=generator_loss,
            latent_dim=c.latent_dim,
            n_critic=c.n_critic,
            simultaneous=c.simultaneous_update,
            clip_value=c.clip_value,
            gp_weight=c.gp_weight,
            conditional=c.conditional,
            noise=self.noise,
            on_generator_update=self.update_ema if self.ema_generator is not None else None,
            jit_compile=jit_compile and self.growth is None,
        )
        if self.growth is not None:
            growth, inner = self.growth, step

            def prepared(real, z=None, labels=None):  # real images in the form of the current stage
                return inner(growth.prepare_reals(real), z, labels)

            step = tf.function(prepared)
        return step

    def generate(
        self, z: np.ndarray | tf.Tensor, labels: np.ndarray | tf.Tensor | None = None, batch_size: int = 500, *,
        averaged: bool = True,
    ) -> np.ndarray:
        """Images ``[N, 28, 28, 1]`` in [-1, 1] from latent vectors ``[N, latent_dim]`` (inference mode).

        Example:
            >>> from ganlib.config import get_config
            >>> gan = build_gan(get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8, conditional=True))
            >>> gan.generate(np.zeros([3, 8]), labels=[3, 3, 7]).shape
            (3, 28, 28, 1)

        Args:
            z: float ``[N, latent_dim]``.
            labels: for a conditional GAN, the requested classes: ints ``[N]`` in ``0..9``
                (one per latent vector); None for an unconditional GAN.
            batch_size: images per forward pass.
            averaged: use the EMA generator when the run has one (``False``: the raw generator).

        Raises:
            ValueError: ``z`` is not of shape ``[N, latent_dim]``; labels missing for a conditional
                GAN, given to an unconditional one, not integers, not of shape ``[N]``, or out of range.
        """
        generator = self.ema_generator if averaged and self.ema_generator is not None else self.generator
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape [N, {self.config.latent_dim}]. Received: shape={list(z.shape)}"
            )
        y = self._check_labels(labels, len(z))
        parts = []
        for i in range(0, len(z), batch_size):
            inputs = z[i : i + batch_size] if y is None else [z[i : i + batch_size], y[i : i + batch_size]]
            parts.append(generator(inputs, training=False).numpy())
        return np.concatenate(parts) if parts else np.zeros((0, 28, 28, 1), np.float32)

    def _check_labels(self, labels, n: int) -> tf.Tensor | None:
        if not self.config.conditional:
            if labels is not None:
                raise ValueError(
                    "This GAN is unconditional: it cannot draw a requested class. Expected labels=None "
                    "(train with conditional=True, or --conditional, to ask for classes). Received labels."
                )
            return None
        if labels is None:
            raise ValueError(
                f"This GAN is conditional: expected labels, ints [N] in 0..{NUM_CLASSES - 1}, one per latent vector "
                f"(N={n}). Received: labels=None"
            )
        y = np.asarray(labels)
        if y.shape != (n,):
            raise ValueError(
                f"Expected one label per latent vector, shape [{n}]. Received: labels.shape={list(y.shape)}"
            )
        if n and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"Expected integer class labels in 0..{NUM_CLASSES - 1}. Received: dtype={y.dtype}")
        if n and (y.min() < 0 or y.max() >= NUM_CLASSES):
            bad = y[(y < 0) | (y >= NUM_CLASSES)]
            raise ValueError(f"Expected class labels in 0..{NUM_CLASSES - 1}. Received: labels={bad[:5].tolist()}")
        return tf.convert_to_tensor(y, tf.int32)

    def evaluation_samples(self, num_samples: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Images to measure sample quality on, and the classes they were asked for (None when unconditional).

        Unconditional: ``generate(z)`` for ``z ~ N(0, I)`` drawn by ``numpy.random.default_rng(seed)``.
        Conditional: ``max(1, num_samples // 10)`` samples of every class (:func:`ganlib.conditional.sample_classes`).

        Returns:
            ``(images, labels)``: float32 ``[N, 28, 28, 1]`` in [-1, 1] and int ``[N]`` or None.
        """
        labels = None
        if self.config.conditional:  # the classes in turn: per_class zeros, then ones, and so on
            labels = np.repeat(np.arange(NUM_CLASSES), max(1, num_samples // NUM_CLASSES))
            num_samples = len(labels)
        z = np.random.default_rng(seed).standard_normal((num_samples, self.config.latent_dim)).astype(np.float32)
        return self.generate(z, labels=labels), labels

    @property
    def grid_columns(self) -> int:
        """Columns of the fixed sample grid: ``sqrt(num_samples)``."""
        return math.isqrt(self.config.num_samples)

    def fixed_grid(self) -> np.ndarray:
        """The images of the fixed sample grid, row by row, ``grid_columns`` per row.

        Unconditional: ``generate(fixed_z)``, ``num_samples`` images. Conditional: one row per
        class (0 to 9) and the same latent vector down each column (``fixed_z[:grid_columns]``),
        so a column shows one ``z`` drawn as every class: ``10 * grid_columns`` images.
        """
        if not self.config.conditional:
            return self.generate(self.fixed_z)
        cols = self.grid_columns
        z = np.tile(self.fixed_z.numpy()[:cols], (NUM_CLASSES, 1))
        return self.generate(z, labels=np.repeat(np.arange(NUM_CLASSES), cols))


def make_optimizer(config: TrainConfig, learning_rate: float) -> keras.optimizers.Optimizer:
    """One network's optimizer: ``config.optimizer`` at ``learning_rate``, loss-scaled for ``mixed_float16``.

    Raises:
        ValueError: ``learning_rate`` is not positive.
    """
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive. Received: learning_rate={learning_rate!r}")
    if config.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(learning_rate)
    else:
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
    if config.precision == "mixed_float16":
        # float16 gradients underflow: scale the loss up, unscale the gradients, skip steps that overflow.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Set Keras's global dtype policy to ``precision`` inside the block and restore the previous one after.

    Models built inside compute in the policy's dtype; ganlib's models keep float32 outputs.

    Raises:
        ValueError: ``precision`` is not one of ``ganlib.config.PRECISIONS``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision: expected one of {', '.join(PRECISIONS)}. Received: precision={precision!r}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_gan(config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None) -> GAN:
    """Build the networks, optimizers, noise generator and fixed latent batch of a config, seeded by ``config.seed``.

    The same seed gives the same initial weights, the same fixed latent batch
    and the same noise stream. A conditional config (``config.conditional``) gets the
    networks of :func:`ganlib.models.build_conditional_generator` and
    :func:`ganlib.models.build_conditional_discriminator` (label inputs from
    ``config.g_label_input`` and ``config.d_label_input``). Optimizer slots are created eagerly so that a
    checkpoint can be restored into them. Everything is created under
    ``strategy.scope()``, so its variables are mirrored on the strategy's
    replicas and the noise generator gives each replica its own stream. The
    networks compute in ``config.precision`` (see :class:`ganlib.config.TrainConfig`);
    the generator's output and the discriminator's logits stay float32 in every case.

    Example:
        >>> from ganlib.config import get_config
        >>> gan = build_gan(get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8))
        >>> gan.generate(np.zeros([2, 8])).shape
        (2, 28, 28, 1)

    Args:
        config: the run's settings.
        strategy: a ``tf.distribute.Strategy`` (see :func:`ganlib.distribute.get_strategy`);
            None uses the current one (the default strategy outside any scope).

    Raises:
        ValueError: invalid model sizes (see :mod:`ganlib.models`).
    """
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        with dtype_policy(config.precision):
            growth = None
            if config.progressive:
                growth, generator, discriminator, ema_generator = _progressive_networks(config)
            elif config.conditional:
                generator, discriminator = _conditional_networks(config)
            else:
                generator = build_generator(config.latent_dim, config.g_filters)
                discriminator = build_discriminator(
                    config.d_filters, batch_norm=config.d_batch_norm, spectral_norm=config.spectral_norm,
                    name="discriminator" if config.d_batch_norm else "critic",
                )
            if not config.progressive:
                ema_generator = None
                if config.ema:
                    ema_generator = keras.models.clone_model(generator)
                    ema_generator.set_weights(generator.get_weights())  # the average starts at the initial weights
        if config.progressive:  # the paper's Adam epsilon, 1e-8 (Keras's default is 1e-7)
            g_optimizer = P.make_optimizer(config.g_learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
            d_optimizer = P.make_optimizer(config.d_learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
        else:
            g_optimizer = make_optimizer(config, config.g_learning_rate)
            d_optimizer = make_optimizer(config, config.d_learning_rate)
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
            ema_generator=ema_generator,
            growth=growth,
        )


def _progressive_networks(config: TrainConfig):
    """Growth state, generator, critic and (with ``config.ema``) EMA generator of a progressive config."""
    growth = P.Growth(P.GrowthSchedule(config.stabilize_images, config.fade_images, config.stage_batch_sizes))
    generator = P.build_progressive_generator(growth, config.latent_dim, config.g_filters)
    discriminator = P.build_progressive_discriminator(growth, config.d_filters, name="critic")
    ema_generator = None
    if config.ema:  # shares the growth; the average starts at the initial weights
        ema_generator = P.build_progressive_generator(growth, config.latent_dim, config.g_filters, name="ema_generator")
        ema_generator.set_weights(generator.get_weights())
    return growth, generator, discriminator, ema_generator


def _conditional_networks(config: TrainConfig) -> tuple[keras.Model, keras.Model]:
    generator = build_conditional_generator(config.latent_dim, config.g_filters, num_classes=NUM_CLASSES,
                                            label_input=config.g_label_input)
    discriminator = build_conditional_discriminator(
        config.d_filters, num_classes=NUM_CLASSES, label_input=config.d_label_input, batch_norm=config.d_batch_norm,
        name="discriminator" if config.d_batch_norm else "critic",
    )
    return generator, discriminator


def load_run(path: str | os.PathLike) -> tuple[GAN, RunDir]:
    """Rebuild a run's GAN from its ``config.json`` and restore a checkpoint into it (for sampling and evaluation).

    Args:
        path: a run directory (its latest checkpoint is restored) or a checkpoint
            prefix such as ``RUN_DIR/checkpoints/ckpt-3`` (with its ``ckpt-3.index`` file).

    Returns:
        ``(gan, run)``: the GAN (``gan.restored_from`` is the checkpoint prefix restored)
        and its :class:`ganlib.runs.RunDir`.

    Raises:
        RunDirError: not a ganlib run directory.
        FileNotFoundError: the run has no checkpoint yet.
        ValueError: ``path`` is neither a directory nor a checkpoint prefix.
    """
    path = Path(path)
    if path.is_dir():
        run = RunDir(path)
        config = load_config(run)
        checkpoint = tf.train.latest_checkpoint(run.checkpoints)
        if checkpoint is None:
            raise FileNotFoundError(f"{run.root} has no checkpoint yet: expected files in {run.checkpoints}.")
    elif Path(f"{path}.index").is_file():
        run, checkpoint = RunDir(path.parent.parent), str(path)
        config = load_config(run)
    else:
        raise ValueError(
            "Expected a run directory written by 'train' or a checkpoint path such as RUN_DIR/checkpoints/ckpt-3 "
            f"(with a ckpt-3.index file). Received: {path}"
        )
    # Sampling and evaluation run on one device, whatever the strategy the run was trained under.
    gan = build_gan(TrainConfig(**{**config.to_dict(), "num_replicas": 1}))
    gan.checkpoint().restore(checkpoint).expect_partial()
    gan.restored_from = checkpoint
    return gan, run


__all__ = ["GAN", "build_gan", "dtype_policy", "load_run", "make_optimizer"]
