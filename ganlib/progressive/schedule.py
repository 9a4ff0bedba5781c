"""The progressive GAN's schedule and growth state: phases, alpha, the stage variable, optimizer resets
(Karras et al. 2018, appendix A.1, https://arxiv.org/abs/1710.10196)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from ganlib.progressive.paper import (
    ADAM,
    RESOLUTIONS,
)
from ganlib.progressive.layers import prepare_reals


class Phase(NamedTuple):
    """One phase of a :class:`GrowthSchedule`: images ``[start, end)`` at one stage, fading or stable."""

    index: int
    stage: int
    resolution: int
    fading: bool
    start: int
    end: int
    batch_size: int


class Progress(NamedTuple):
    """Where training is after ``images_seen`` images (see :meth:`GrowthSchedule.progress`).

    ``stage`` and ``alpha`` are what the networks use for the next step, ``batch_size`` the
    real images that step takes, ``phase`` the current :class:`Phase` and ``done`` whether the
    schedule's images have all been shown.
    """

    images_seen: int
    stage: int
    alpha: float
    phase: Phase
    batch_size: int
    done: bool

    @property
    def resolution(self) -> int:
        return RESOLUTIONS[self.stage]


def _as_int_tuple(name: str, values: Any, length: int, minimum: int) -> tuple[int, ...]:
    try:
        result = tuple(values)
    except TypeError:
        result = ()
    if len(result) != length or any(
        not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum for v in result
    ):
        raise ValueError(f"{name} must be {length} integers >= {minimum}. Received: {name}={values!r}")
    return tuple(int(v) for v in result)


@dataclass(frozen=True)
class GrowthSchedule:
    """How many real images each phase of progressive growing shows, and the batch size per resolution.

    Phases, in order: stabilise at 7x7; fade in 14x14; stabilise at 14x14; fade in 28x28;
    stabilise at 28x28. A fade-in uses the batch size of the resolution it fades in. The
    defaults are the paper's: 800k images per phase, minibatch 16 up to 128x128. After the
    last phase training may go on at 28x28 with ``alpha = 1``.

    Example:
        >>> s = GrowthSchedule(stabilize_images=(100, 100, 100), fade_images=(100, 100), batch_sizes=(20, 10, 10))
        >>> s.progress(150)[:3]  # halfway through the fade-in of 14x14
        (150, 1, 0.5)

    Attributes:
        stabilize_images: images shown at ``alpha = 1`` at 7x7, 14x14 and 28x28, each >= 0.
        fade_images: images shown while fading in 14x14 and 28x28, each >= 0 (0: the block
            appears at once, without fade-in).
        batch_sizes: real images per step at 7x7, 14x14 and 28x28, each >= 1.

    Raises:
        ValueError: wrong lengths, negative counts, batch sizes < 1, or no images at all.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1.
    """

    stabilize_images: tuple[int, int, int] = (800_000, 800_000, 800_000)
    fade_images: tuple[int, int] = (800_000, 800_000)
    batch_sizes: tuple[int, int, int] = (16, 16, 16)

    def __post_init__(self) -> None:
        # Lists (from JSON) become tuples, so that equal schedules compare and hash equal.
        object.__setattr__(self, "stabilize_images", _as_int_tuple("stabilize_images", self.stabilize_images, 3, 0))
        object.__setattr__(self, "fade_images", _as_int_tuple("fade_images", self.fade_images, 2, 0))
        object.__setattr__(self, "batch_sizes", _as_int_tuple("batch_sizes", self.batch_sizes, 3, 1))
        if self.total_images < 1:
            raise ValueError(f"Expected a schedule that shows at least one image. Received: {self!r}")

    @property
    def total_images(self) -> int:
        """Real images over all phases."""
        return sum(self.stabilize_images) + sum(self.fade_images)

    def phases(self) -> list[Phase]:
        """The phases of non-zero length, in training order."""
        spans = [(0, False, self.stabilize_images[0])]
        for s in (1, 2):
            spans += [(s, True, self.fade_images[s - 1]), (s, False, self.stabilize_images[s])]
        result: list[Phase] = []
        start = 0
        for stage, fading, length in spans:
            if length > 0:
                result.append(Phase(len(result), stage, RESOLUTIONS[stage], fading, start, start + length,
                                    self.batch_sizes[stage]))
                start += length
        return result

    def progress(self, images_seen: int) -> Progress:
        """Stage, alpha, phase and batch size after ``images_seen`` real images.

        ``alpha = (images_seen - phase.start) / (phase.end - phase.start)`` in a fade-in, 1
        otherwise; from ``total_images`` on, the last phase's stage with ``alpha = 1``.

        Args:
            images_seen: real images shown to the discriminator so far, >= 0.

        Returns:
            A :class:`Progress`.

        Raises:
            ValueError: ``images_seen`` is not an integer >= 0.
        """
        if not isinstance(images_seen, (int, np.integer)) or isinstance(images_seen, bool) or images_seen < 0:
            raise ValueError(f"images_seen must be an integer >= 0. Received: images_seen={images_seen!r}")
        images_seen = int(images_seen)
        phases = self.phases()
        for phase in phases:
            if images_seen < phase.end:
                alpha = (images_seen - phase.start) / (phase.end - phase.start) if phase.fading else 1.0
                return Progress(images_seen, phase.stage, alpha, phase, phase.batch_size, False)
        last = phases[-1]
        return Progress(images_seen, last.stage, 1.0, last, last.batch_size, True)

    def to_dict(self) -> dict[str, list[int]]:
        """The schedule as a JSON-serialisable dict."""
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "GrowthSchedule":
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown schedule fields: {sorted(unknown)}. Expected fields of GrowthSchedule.")
        return cls(**values)


class Growth(tf.Module):
    """The growth state shared by both networks: images seen, stage and alpha, as non-trainable variables.

    The networks read ``alpha`` (float32) at run time and ``stage`` (int32) when a function
    that calls them is traced (:meth:`current_stage`), so a train step is traced once per
    stage (see the module docstring). Put this object in the run's ``tf.train.Checkpoint``
    (the networks do not track it): a run killed during a fade-in then resumes with the
    same ``images_seen``, stage and alpha. Create it under the same ``tf.distribute``
    strategy scope as the networks.

    Example:
        >>> growth = Growth(GrowthSchedule((10, 10, 10), (10, 10), (5, 5, 5)))
        >>> growth.advance(15).stage, float(growth.alpha.numpy())
        (1, 0.5)

    Args:
        schedule: the :class:`GrowthSchedule`.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 2 and appendix A.1.
    """

    def __init__(self, schedule: GrowthSchedule, name: str = "growth"):
        super().__init__(name=name)
        if not isinstance(schedule, GrowthSchedule):
            raise ValueError(f"Expected a GrowthSchedule. Received: schedule={schedule!r}")
        self.schedule = schedule
        start = schedule.progress(0)
        self.images_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_seen")
        self.stage = tf.Variable(start.stage, dtype=tf.int32, trainable=False, name="stage")
        self.alpha = tf.Variable(start.alpha, dtype=tf.float32, trainable=False, name="alpha")

    def progress(self) -> Progress:
        """The :class:`Progress` of the current ``images_seen`` (what the next step trains at)."""
        return self.schedule.progress(int(self.images_seen.numpy()))

    def set_images_seen(self, images_seen: int) -> Progress:
        """Assign ``images_seen`` and the stage and alpha the schedule gives for it.

        Raises:
            ValueError: ``images_seen`` is not an integer >= 0.
        """
        progress = self.schedule.progress(images_seen)
        self.images_seen.assign(progress.images_seen)
        self.stage.assign(progress.stage)
        self.alpha.assign(progress.alpha)
        return progress

    def advance(self, num_images: int) -> Progress:
        """Count ``num_images`` more real images (after a step) and move stage and alpha on.

        Raises:
            ValueError: ``num_images`` is not an integer >= 0.
        """
        if not isinstance(num_images, (int, np.integer)) or isinstance(num_images, bool) or num_images < 0:
            raise ValueError(f"num_images must be an integer >= 0. Received: num_images={num_images!r}")
        return self.set_images_seen(int(self.images_seen.numpy()) + int(num_images))

    def current_stage(self) -> int:
        """The stage as a Python int, read eagerly even while a function is being traced.

        Inside ``tf.function`` it also adds a run-time check that the stage variable still
        holds this value, so a function traced at an earlier stage fails
        (``InvalidArgumentError``) instead of training the wrong network.
        """
        with tf.init_scope():
            stage = int(self.stage.numpy())
        if not tf.executing_eagerly():
            tf.debugging.assert_equal(
                self.stage, stage,
                message=f"The growth stage changed since this function was traced at stage {stage}: "
                        "trace the train step again (build a new one) after each stage change.")
        return stage

    def prepare_reals(self, images: tf.Tensor) -> tf.Tensor:
        """:func:`prepare_reals` at the current stage (read when traced) and alpha (read at run time)."""
        return prepare_reals(images, self.current_stage(), self.alpha)


def reset_optimizer_state(optimizer: keras.optimizers.Optimizer) -> None:
    """Zero an optimizer's moments and step counter (not its learning rate), as the paper's code does per phase.

    The paper's code resets Adam when a fade-in starts and when it ends
    (``reset_opt_for_new_lod=True``). It matters for the new block: Keras's Adam corrects
    its second-moment estimate with the optimizer's global step count, so without a reset
    the first updates of a block that joins at step t are about ``1 / sqrt(1 - beta_2)`` =
    10 times too large (beta_2 = 0.99). A ``LossScaleOptimizer`` resets its inner optimizer.

    Args:
        optimizer: a built Keras optimizer.

    Raises:
        ValueError: an optimizer that keeps a weight average (``use_ema=True``), which a
            reset would destroy.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196; the authors' code (``train.py``).
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    if getattr(optimizer, "use_ema", False):
        raise ValueError(f"Cannot reset an optimizer that averages weights (use_ema=True). Received: {optimizer!r}")
    learning_rate = optimizer.learning_rate
    for variable in optimizer.variables:
        if variable is not learning_rate:
            variable.assign(tf.zeros(variable.shape, variable.dtype))


def make_optimizer(learning_rate: float = ADAM["learning_rate"], *, beta_1: float = ADAM["beta_1"],
                   beta_2: float = ADAM["beta_2"]) -> keras.optimizers.Adam:
    """Adam with the paper's settings: ``beta_1 = 0``, ``beta_2 = 0.99``, ``epsilon = 1e-8``, lr 1e-3.

    ``learning_rate``, ``beta_1`` and ``beta_2`` may be changed; epsilon stays the paper's.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1.
    """
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=ADAM["epsilon"])


# --------------------------------------------------------------------------------------------
# The networks.


