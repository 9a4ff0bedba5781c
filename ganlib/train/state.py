"""The trainable state of a GAN run and its checkpoint: networks, optimizers, noise generator, counters.

:func:`build_gan` creates it from a :class:`ganlib.config.TrainConfig` (seeded,
under a ``tf.distribute.Strategy``'s scope, in the config's precision);
:meth:`GAN.checkpoint` lists everything that a resumed run continues from;
:func:`load_run` rebuilds a run's state from its directory; :func:`restore_checkpoint` restores
the newest checkpoint that can be read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import TrainConfig
from ganlib.data import latent_batch
from ganlib.errors import StorageError
from ganlib.penalties import critic_terms
from ganlib.train.family import Family, component_types, family_for
from ganlib.train.precision import dtype_policy
from ganlib.train.runs import RunDir, load_config
from ganlib.train.step import make_train_step, step_keys


@dataclass
class GAN:
    """The trainable state of a run: both networks, both optimizers, the noise generator, counters.

    ``epoch`` counts completed epochs; ``fixed_z`` is the latent batch of the sample grids.
    ``family`` is the run's :class:`ganlib.train.family.Family` (chosen by the config), which
    supplies the networks and everything else that differs between model families;
    ``components`` are the config's components (for example the generator's EMA,
    :mod:`ganlib.train.ema`); ``extras`` holds, by name, the further checkpointed objects of
    the family and the components (None where absent), and each is also an attribute:
    ``gan.ema_generator`` (None without EMA) or, for a progressive run, ``gan.growth``.
    All of it is tracked by :meth:`checkpoint`. ``strategy`` is the
    ``tf.distribute.Strategy`` whose scope all of it was created under; ``restored_from``
    the checkpoint prefix :func:`load_run` restored, if any.
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
    family: Family | None = None
    components: list[Any] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.g_optimizer is self.d_optimizer:
            # Each network needs its own optimizer state (Adam's moments of its own weights); one optimizer shared by
            # both would also count one network's updates in the other's step counter.
            raise ValueError("Expected one optimizer per network (g_optimizer and d_optimizer). Received: the same "
                             f"{type(self.g_optimizer).__name__} object for both")
        if self.family is None:
            self.family = family_for(self.config)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the family's and the components' named extras.
        extras = self.__dict__.get("extras")
        if extras is not None and name in extras:
            return extras[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def checkpoint(self, **more: Any) -> tf.train.Checkpoint:
        """A ``tf.train.Checkpoint`` over everything that a resumed run must continue from.

        ``more`` adds further trackable objects by name (the loop's position within an epoch,
        :mod:`ganlib.train.within_epoch`).
        """
        return tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            noise=self.noise,
            epoch=self.epoch,
            fixed_z=self.fixed_z,
            **{name: value for name, value in self.extras.items() if value is not None},
            **more,
        )

    def _sampler(self):
        return next((c for c in reversed(self.components) if getattr(c, "sampling_generator", None) is not None),
                    None)

    @property
    def sampling_generator(self) -> keras.Model:
        """The network every sample comes from: a component's (the EMA's average) or the generator."""
        sampler = self._sampler()
        return self.generator if sampler is None else sampler.sampling_generator

    @property
    def sample_source(self) -> str:
        """Which generator :meth:`generate` uses, for titles and messages."""
        sampler = self._sampler()
        return "generator" if sampler is None else sampler.description

    @property
    def title_suffix(self) -> str:
        """What a sample grid's title adds for the network the samples come from (``" (EMA)"``; ``""``)."""
        sampler = self._sampler()
        return "" if sampler is None else sampler.title_suffix

    @property
    def stat_keys(self) -> tuple[str, ...]:
        """The keys of the train step's statistics (:func:`ganlib.train.step.step_keys` of the config's losses and terms)."""
        return step_keys(L.for_config(self.config)[0], critic_terms(self.config))

    def train_step(self, jit_compile: bool = False) -> Callable[..., dict[str, tf.Tensor]]:
        """The :func:`ganlib.train.step.make_train_step` of this GAN's config, wrapped by its family.

        The config gives the losses (:func:`ganlib.losses.for_config`), ``n_critic``, the update
        rule, the weight clipping and the critic terms (:func:`ganlib.penalties.critic_terms`); the
        components' updates (the EMA's) run after every generator update, and a component's ``augment``
        (the transform of :mod:`ganlib.augment`) is applied to every image the discriminator sees. The family wraps the
        step (:meth:`ganlib.train.family.Family.wrap_step`) and decides whether it may be compiled
        with XLA (:meth:`~ganlib.train.family.Family.supports_xla`); a lazy critic term
        (``reg_interval`` > 1) is never compiled with XLA, which makes its conditional update slower
        than computing the term at every step.

        Returns:
            ``step(real, z=None, labels=None)``, where ``real`` is ``[n_critic * batch_size, 28, 28, 1]``
            and ``labels`` int ``[n_critic * batch_size]`` for a family that trains on labels
            (see :func:`ganlib.train.step.make_train_step`).
        """
        c = self.config
        discriminator_loss, generator_loss = L.for_config(c)
        terms = critic_terms(c)
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
            critic_terms=terms,
            noise=self.noise,
            after_generator_update=[comp.update for comp in self.components if hasattr(comp, "update")],
            augment=next((comp.augment for comp in self.components if getattr(comp, "augment", None)), None),
        )
        # One tf.function around the family's wrapper and the step's Python function: strategy.run unwraps the
        # function it is given to run it on each replica, and a tf.function nested inside could not reach the
        # cross-replica updates (merge_call) of weight clipping and of the EMA.
        wrapped = self.family.wrap_step(self, step.python_function)
        # XLA makes a lazy term's conditional critic update several times slower than the whole step without
        # it (benchmarks/results/lazy_xla.jsonl, docs/decisions/014-relativistic-r1-r2.md).
        lazy = any(term.every > 1 for term in terms)
        return tf.function(wrapped, jit_compile=jit_compile and self.family.supports_xla() and not lazy)

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
            averaged: use the sampling network (:attr:`sampling_generator`: the EMA generator when
                the run has one); ``False``: the raw generator.

        Raises:
            ValueError: ``z`` is not of shape ``[N, latent_dim]``; labels missing for a conditional
                GAN, given to an unconditional one, not integers, not of shape ``[N]``, or out of range.
        """
        generator = self.sampling_generator if averaged else self.generator
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape [N, {self.config.latent_dim}]. Received: shape={list(z.shape)}"
            )
        y = self.family.check_labels(labels, len(z))
        y = None if y is None else tf.convert_to_tensor(y, tf.int32)
        parts = []
        for i in range(0, len(z), batch_size):
            inputs = z[i : i + batch_size] if y is None else [z[i : i + batch_size], y[i : i + batch_size]]
            parts.append(generator(inputs, training=False).numpy())
        return np.concatenate(parts) if parts else np.zeros((0, 28, 28, 1), np.float32)

    def evaluation_samples(self, num_samples: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Images to measure sample quality on, and the classes they were asked for (None when unconditional).

        ``generate(z, labels)`` for ``z ~ N(0, I)`` drawn by ``numpy.random.default_rng(seed)`` and the
        family's labels (:meth:`ganlib.train.family.Family.evaluation_labels`; a conditional GAN asks for
        ``max(1, num_samples // 10)`` samples of every class, so N may differ from ``num_samples``).

        Returns:
            ``(images, labels)``: float32 ``[N, 28, 28, 1]`` in [-1, 1] and int ``[N]`` or None.
        """
        labels = self.family.evaluation_labels(num_samples)
        if labels is not None:
            num_samples = len(labels)
        z = latent_batch(num_samples, self.config.latent_dim, seed)
        return self.generate(z, labels=labels), labels

    @property
    def grid_columns(self) -> int:
        """Columns of the fixed sample grid: ``sqrt(num_samples)``."""
        return math.isqrt(self.config.num_samples)

    def fixed_grid(self) -> np.ndarray:
        """The images of the fixed sample grid, row by row, ``grid_columns`` per row.

        The family chooses the latent vectors and labels (:meth:`ganlib.train.family.Family.grid_inputs`):
        the standard family draws ``generate(fixed_z)``, ``num_samples`` images; a conditional GAN
        one row per class (0 to 9) and the same latent vector down each column, ``10 * grid_columns`` images;
        a family whose generator takes no latent vector draws its own grid
        (:meth:`ganlib.train.family.Family.grid_images`).
        """
        return self.family.grid_images(self)


def build_gan(config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None) -> GAN:
    """Build the networks, optimizers, noise generator and fixed latent batch of a config, seeded by ``config.seed``.

    The same seed gives the same initial weights, the same fixed latent batch
    and the same noise stream. The family that the config selects
    (:func:`ganlib.train.family.family_for`) builds the networks, their extras and the
    optimizers; the config's components (:data:`ganlib.train.family.COMPONENTS`, such as the
    generator's EMA) are built after the networks. Optimizer slots are created eagerly so that a
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
        strategy: a ``tf.distribute.Strategy`` (see :func:`ganlib.train.distribute.get_strategy`);
            None uses the current one (the default strategy outside any scope).

    Raises:
        ValueError: invalid model sizes (see :mod:`ganlib.models`).
    """
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    family = family_for(config)
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        with dtype_policy(config.precision):
            generator, discriminator, extras = family.build_networks()
            components = [component for kind in component_types()
                          if (component := kind.from_config(config, family, generator, extras)) is not None]
        g_optimizer, d_optimizer = family.make_optimizers()
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        named = dict.fromkeys(family.extra_names + tuple(n for kind in component_types() for n in kind.extra_names))
        named.update(extras)
        for component in components:
            named.update(component.extras)
        fixed_z = latent_batch(config.num_samples, config.latent_dim, config.seed)
        return GAN(
            config=config,
            generator=generator,
            discriminator=discriminator,
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            noise=tf.random.Generator.from_seed(config.seed),
            epoch=tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch"),
            fixed_z=tf.Variable(fixed_z, trainable=False, name="fixed_z"),
            strategy=strategy,
            family=family,
            components=components,
            extras=named,
        )


def restore_checkpoint(gan: GAN, checkpoints: Sequence[str], *, strict: bool = True,
                       more: dict[str, Any] | None = None) -> str | None:
    """Restore into ``gan`` the newest of ``checkpoints`` that can be read, falling back to older ones.

    A checkpoint whose files are truncated or corrupt (TensorFlow fails to read them, with an ``OpError``
    or, for a truncated ``.data`` file, an ``IndexError``) is skipped with a warning on stdout naming it,
    its error and the checkpoint tried next.

    Args:
        gan: the state to restore into (built by :func:`build_gan` from the run's config).
        checkpoints: checkpoint prefixes, oldest first (``CheckpointManager.checkpoints``).
        strict: check that every object of ``gan`` was restored (to resume training); False: the
            checkpoint may hold more than ``gan`` uses (sampling, evaluation).
        more: further objects the checkpoints hold beside the GAN's (see :meth:`GAN.checkpoint`).

    Returns:
        The prefix restored; None when ``checkpoints`` is empty.

    Raises:
        StorageError: none of ``checkpoints`` can be read; the message names each with its error.
        AssertionError: ``strict`` and a checkpoint that does not match ``gan`` (another run's).
    """
    candidates = list(checkpoints)[::-1]
    failures = []
    for i, path in enumerate(candidates):
        try:
            status = gan.checkpoint(**(more or {})).restore(path)
        except Exception as err:  # noqa: BLE001 - whatever fails while reading a checkpoint's files makes it unusable
            reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            failures.append(f"{path} ({reason})")
            if i + 1 < len(candidates):
                print(f"Warning: the checkpoint {path} cannot be read ({reason}); it is truncated or corrupt. "
                      f"Falling back to {candidates[i + 1]}.", flush=True)
            continue
        if strict:
            status.assert_existing_objects_matched()
        else:
            status.expect_partial()
        return path
    if failures:
        where = str(Path(candidates[0]).parent)
        raise StorageError(
            f"No checkpoint in {where} can be read: {'; '.join(failures)}. They are truncated or corrupt: restore "
            f"them from a backup, or start the run over with 'train --overwrite'.", path=where)
    return None


def load_run(path: str | os.PathLike) -> tuple[GAN, RunDir]:
    """Rebuild a run's GAN from its ``config.json`` and restore a checkpoint into it (for sampling and evaluation).

    It takes no lock: a run being trained can be read (the checkpoint manager records a
    checkpoint only once its files are complete). A latest checkpoint that cannot be read is
    skipped for the one before it, with a warning (see :func:`restore_checkpoint`).

    Args:
        path: a run directory (its latest readable checkpoint is restored) or a checkpoint
            prefix such as ``RUN_DIR/checkpoints/ckpt-3`` (with its ``ckpt-3.index`` file).

    Returns:
        ``(gan, run)``: the GAN (``gan.restored_from`` is the checkpoint prefix restored)
        and its :class:`ganlib.train.runs.RunDir`.

    Raises:
        RunDirError: not a ganlib run directory, or its ``config.json`` is truncated, corrupt or of a
            newer run-directory schema (see :func:`ganlib.train.runs.load_config`).
        FileNotFoundError: the run has no checkpoint yet.
        StorageError: no checkpoint of the run (or not the one asked for) can be read.
        ValueError: ``path`` is neither a directory nor a checkpoint prefix.
    """
    path = Path(path)
    if path.is_dir():
        run = RunDir(path)
        config = load_config(run)
        state = tf.train.get_checkpoint_state(run.checkpoints)
        checkpoints = list(state.all_model_checkpoint_paths) if state is not None else []
        if state is not None and state.model_checkpoint_path not in checkpoints:
            checkpoints.append(state.model_checkpoint_path)
        if not checkpoints:
            raise FileNotFoundError(f"{run.root} has no checkpoint yet: expected files in {run.checkpoints}.")
    elif Path(f"{path}.index").is_file():
        run, checkpoints = RunDir(path.parent.parent), [str(path)]
        config = load_config(run)
    else:
        raise ValueError(
            "Expected a run directory written by 'train' or a checkpoint path such as RUN_DIR/checkpoints/ckpt-3 "
            f"(with a ckpt-3.index file). Received: {path}"
        )
    # Sampling and evaluation run on one device, whatever the strategy the run was trained under.
    gan = build_gan(TrainConfig(**{**config.to_dict(), "num_replicas": 1}))
    gan.restored_from = restore_checkpoint(gan, checkpoints, strict=False)
    return gan, run


__all__ = ["GAN", "build_gan", "load_run", "restore_checkpoint"]
