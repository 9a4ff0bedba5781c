"""The family seam: what a model family supplies to the training engine, and the registry that picks one.

The engine (:mod:`ganlib.train.state`, :mod:`~ganlib.train.step`, :mod:`~ganlib.train.loop`,
:mod:`~ganlib.train.frames`, :mod:`~ganlib.train.keras_fit` and :mod:`ganlib.export`) trains
any family through the methods of :class:`Family` and never names one. :class:`Family` itself
is the standard family (an unconditional generator ``G(z)`` and a discriminator or critic
``D(x)``, the networks of :mod:`ganlib.models`); a family overrides only what differs:

=====================  =================================================================
method                 what it supplies
=====================  =================================================================
``build_networks``     the generator, the discriminator and the checkpointed extras
``copy_generator``     a second generator with the same weights (for the EMA component)
``make_optimizers``    one optimizer per network
``check_labels``       the labels it trains on and samples for (None: it takes none)
``grid_inputs``        the latent vectors and labels of the fixed sample grid
``grid_images``        the fixed sample grid itself (default: the generator on ``grid_inputs``)
``wrap_step``          the train step around the generic one (prepare the reals, retrace)
``epoch_runner``       one epoch of train steps, and the real images it consumed
``callbacks``          its own per-run work (:class:`ganlib.train.callbacks.Callback`)
``frame_label``        what a training-GIF frame's label adds
``portable_generator`` the generator that ``export`` writes
``check_fit``          whether Keras's ``fit()`` can train it
=====================  =================================================================

:data:`REGISTRY` is the one place that names every family: an entry maps a family name
to the boolean :class:`~ganlib.config.TrainConfig` field that selects it and the
``"module:Class"`` that implements it, imported only when chosen. A new family is its own
module or package, one entry here and its config fields (whose CLI flags are generated
from their metadata); nothing else changes. :data:`COMPONENTS` does the same for
components that every family can use (the generator's EMA, DiffAugment): each is built from the
config and enters the step and the GAN's state as data.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

import numpy as np

from ganlib.config import TrainConfig

if TYPE_CHECKING:  # annotations only
    import keras
    import tensorflow as tf

    from ganlib.train.callbacks import Callback
    from ganlib.train.state import GAN

StepRunner = Callable[["tf.data.Dataset", int], Iterator[dict[str, float]]]


class Entry(NamedTuple):
    """A registry entry: the family's name, the config field that selects it, and ``"module:Class"``."""

    name: str
    field: str
    target: str


# In order of precedence: the first entry whose field is set in the config wins; no field set: the standard family.
REGISTRY: tuple[Entry, ...] = (
    Entry("progressive", "progressive", "ganlib.progressive.family:ProgressiveFamily"),
    Entry("conditional", "conditional", "ganlib.conditional:ConditionalFamily"),
    Entry("pix2pix", "pix2pix", "ganlib.translate.pix2pix:Pix2PixFamily"),
    Entry("cyclegan", "cyclegan", "ganlib.translate.cyclegan:CycleGANFamily"),
)

# Components every family can use: "module:Class", each with ``from_config(config, family, generator)``.
COMPONENTS: tuple[str, ...] = ("ganlib.train.ema:GeneratorEMA", "ganlib.augment:DiffAugment")


def _load(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def family_name(config: TrainConfig) -> str:
    """The name of the family that ``config`` selects (see :data:`REGISTRY`); ``"standard"`` when none."""
    return next((e.name for e in REGISTRY if getattr(config, e.field, False)), "standard")


def family_for(config: TrainConfig) -> "Family":
    """The :class:`Family` that ``config`` selects, built from it (see :data:`REGISTRY`)."""
    target = next((e.target for e in REGISTRY if getattr(config, e.field, False)), None)
    cls = Family if target is None else _load(target)
    return cls(config)


def component_types() -> list[type]:
    """The classes of :data:`COMPONENTS`, imported."""
    return [_load(t) for t in COMPONENTS]


class EpochRunner:
    """One epoch of train steps from the loop's data: the standard families' runner.

    ``run_epoch(epoch, skip=0)`` yields the float statistics of each of the ``steps_per_epoch - skip``
    generator iterations left in the epoch; ``images_this_epoch`` is the number of real images they consumed.

    Args:
        family: the family (its ``config`` gives ``n_critic``, ``batch_size`` and ``seed``).
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1].
        labels: int ``[N]`` or None.
        steps_per_epoch: generator iterations per epoch, >= 1.
        make_runner: ``make_runner()`` returns ``run(dataset, steps)`` (see :func:`ganlib.train.loop.step_runner`).
    """

    def __init__(self, family: "Family", images: np.ndarray, labels: np.ndarray | None, steps_per_epoch: int,
                 make_runner: Callable[[], StepRunner]):
        self.config, self.images, self.labels = family.config, images, labels
        self.steps_per_epoch = steps_per_epoch
        self._run = make_runner()
        self.images_this_epoch = steps_per_epoch * self.config.n_critic * self.config.batch_size

    def run_epoch(self, epoch: int, skip: int = 0) -> Iterator[dict[str, float]]:
        """The steps of epoch ``epoch`` (1-based): one seeded shuffle of the data per epoch.

        ``skip``: steps of the epoch already trained (a resume from a checkpoint within it); their batches
        are skipped and the remaining ``steps_per_epoch - skip`` steps run.
        """
        from ganlib.data import make_pipeline

        c = self.config
        dataset = make_pipeline(self.images, c.n_critic * c.batch_size, seed=c.seed, epoch=epoch - 1,
                                labels=self.labels)
        return self._run(dataset.skip(skip) if skip else dataset, self.steps_per_epoch - skip)


class Family:
    """The standard family, and the protocol every family follows: override what differs.

    An unconditional generator ``G(z)`` (:func:`ganlib.models.build_generator`) and a
    discriminator, or a critic without batch norm (:func:`ganlib.models.build_discriminator`),
    trained on unlabelled images.

    Args:
        config: the run's settings.
    """

    name = "standard"
    #: The names of the checkpointed extras this family may add to a GAN (None when absent).
    extra_names: tuple[str, ...] = ()

    def __init__(self, config: TrainConfig):
        self.config = config

    # -- options -------------------------------------------------------------------------------------------------

    def check_options(self, *, steps_per_execution: int) -> None:
        """Refuse a loop option this family cannot train with (raises ``ValueError``)."""

    def supports_xla(self) -> bool:
        """Whether the step may be compiled with XLA (the loop's ``jit_compile``)."""
        return True

    def check_fit(self, gan: GAN) -> None:
        """Refuse Keras's ``fit()`` for a family that only ganlib's loop can train (raises ``ValueError``)."""

    # -- networks ------------------------------------------------------------------------------------------------

    def build_networks(self) -> tuple["keras.Model", "keras.Model", dict[str, Any]]:
        """``(generator, discriminator, extras)``, built under the run's strategy scope and dtype policy.

        ``extras`` maps names to further checkpointed objects (see :attr:`extra_names`).

        Raises:
            ValueError: invalid model sizes (see :mod:`ganlib.models`).
        """
        from ganlib.models import build_discriminator, build_generator

        c = self.config
        generator = build_generator(c.latent_dim, c.g_filters)
        discriminator = build_discriminator(c.d_filters, batch_norm=c.d_batch_norm, spectral_norm=c.spectral_norm,
                                            name="discriminator" if c.d_batch_norm else "critic")
        return generator, discriminator, {}

    def copy_generator(self, generator: "keras.Model", extras: dict[str, Any], name: str) -> "keras.Model":
        """A new generator of the same architecture holding the same weights (batch-norm statistics included)."""
        import keras

        copy = keras.models.clone_model(generator)
        copy.set_weights(generator.get_weights())
        return copy

    def make_optimizers(self) -> tuple["keras.optimizers.Optimizer", "keras.optimizers.Optimizer"]:
        """``(g_optimizer, d_optimizer)``: :func:`ganlib.train.precision.make_optimizer` at each network's rate."""
        from ganlib.train.precision import make_optimizer

        c = self.config
        return make_optimizer(c, c.g_learning_rate), make_optimizer(c, c.d_learning_rate)

    # -- labels and sampling -------------------------------------------------------------------------------------

    def dataset_labels(self, labels: np.ndarray | None) -> np.ndarray | None:
        """The labels of a loaded dataset that training uses: none for this family."""
        return None

    def check_train_labels(self, labels: Any, n: int) -> np.ndarray | None:
        """Check the ``labels`` given with ``n`` training images; returns what training uses.

        Raises:
            ValueError: labels given to a family that trains on unlabelled images.
        """
        if labels is not None:
            raise ValueError("Labels are for a conditional config (conditional=True). Received labels for an "
                             "unconditional one.")
        return None

    def check_labels(self, labels: Any, n: int) -> np.ndarray | None:
        """Check the labels asked of ``n`` latent vectors when sampling; returns int32 ``[n]`` or None.

        Raises:
            ValueError: labels given to a generator that takes none.
        """
        if labels is not None:
            raise ValueError(
                "This GAN is unconditional: it cannot draw a requested class. Expected labels=None "
                "(train with conditional=True, or --conditional, to ask for classes). Received labels."
            )
        return None

    def grid_inputs(self, fixed_z: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The latent vectors and labels of the fixed sample grid, row by row: all of ``fixed_z``."""
        return fixed_z, None

    def grid_images(self, gan: GAN) -> np.ndarray:
        """The images of the fixed sample grid (:meth:`ganlib.train.state.GAN.fixed_grid`), row by row.

        The standard behaviour: ``gan.generate(z, labels)`` of :meth:`grid_inputs`, ``gan.grid_columns``
        per row. A family whose generator maps images to images (no latent vector) overrides it.

        Returns:
            float32 ``[N, 28, 28, 1]`` in [-1, 1], N a multiple of ``gan.grid_columns``.
        """
        z, labels = self.grid_inputs(gan.fixed_z.numpy(), gan.grid_columns)
        return gan.generate(z, labels=labels)

    def evaluation_labels(self, num_samples: int) -> np.ndarray | None:
        """The classes that :meth:`ganlib.train.state.GAN.evaluation_samples` asks for: none."""
        return None

    # -- training ------------------------------------------------------------------------------------------------

    def wrap_step(self, gan: GAN, step: Callable[..., dict]) -> Callable[..., dict]:
        """The train step the loop runs, around the generic one of :func:`ganlib.train.step.make_train_step`.

        Args:
            gan: the GAN being trained.
            step: the Python function of the generic step, ``step(real, z=None, labels=None)``.

        Returns:
            A Python function ``(real, z=None, labels=None) -> stats``, traced by
            :meth:`ganlib.train.state.GAN.train_step` into one ``tf.function`` (so a family
            returns plain Python, not a ``tf.function``). The standard family checks that no
            labels are passed (an error at trace time).
        """

        def unlabelled(real, z=None, labels=None):
            if labels is not None:
                raise ValueError("This step trains unconditional networks: expected labels=None. Received labels.")
            return step(real, z)

        return unlabelled

    def epoch_runner(self, gan: GAN, images: np.ndarray, labels: np.ndarray | None, steps_per_epoch: int,
                     make_runner: Callable[[], StepRunner]) -> EpochRunner:
        """The object that runs each epoch's steps (see :class:`EpochRunner`)."""
        return EpochRunner(self, images, labels, steps_per_epoch, make_runner)

    def describe_run(self, gan: GAN, steps: int) -> str | None:
        """A line for the training log before the first step (None: nothing to say)."""
        return None

    def callbacks(self) -> list[Callback]:
        """The family's own callbacks, run before the user's."""
        return []

    def frame_label(self, gan: GAN) -> str:
        """Text a training-GIF frame's label adds after the step and epoch (``""``: nothing)."""
        return ""

    def portable_generator(self, gan: GAN, generator: "keras.Model") -> "keras.Model":
        """The generator that ``export`` writes, made of Keras's own layers: ``generator`` itself."""
        return generator


__all__ = ["COMPONENTS", "REGISTRY", "Entry", "EpochRunner", "Family", "component_types", "family_for",
           "family_name"]
