"""The progressive family: training a progressive GAN with ganlib's loop (the ``pggan`` preset).

:class:`ProgressiveFamily` plugs the pieces of :mod:`ganlib.progressive` into the training
engine through the family seam (:class:`ganlib.train.family.Family`), so that ``python -m
ganlib train --preset pggan`` and ``ganlib.train.train(get_config("pggan"), ...)`` grow
7x7 -> 14x14 -> 28x28 with the same grids, GIF, history, TensorBoard events and checkpoints
as every other preset, and ``sample``, ``evaluate``, ``interpolate`` and ``export`` work on its runs:

* its networks share one :class:`~ganlib.progressive.schedule.Growth` (checkpointed as the
  GAN's ``growth``; the EMA generator, with ``config.ema > 0``, shares it too), and its train step
  first gives the real images the form of the current stage
  (:meth:`~ganlib.progressive.schedule.Growth.prepare_reals`);
* :class:`ProgressiveEpochs`: one epoch of train steps. An epoch has a fixed number of
  generator iterations, ``N // (n_critic * batch_size)``; each takes ``n_critic *
  stage_batch_sizes[stage]`` real images from one stream of seeded permutations of the
  training set (:func:`stream_indices`), read from position ``images_seen``. After each
  step the growth advances (alpha rises linearly through a fade-in); at a phase change
  both optimizers' moments are reset (the paper's code resets Adam when a fade-in starts
  and when it ends); at a stage change the train step is traced again (the networks read
  their stage when traced, see :mod:`ganlib.progressive`);
* :class:`GrowthLog`: a callback that saves a sample grid at the end of every
  phase (``RUN_DIR/phases/``) and adds ``images_seen``, ``stage`` and ``alpha`` to each
  epoch's history row.

Resuming is exact, also in the middle of a fade-in: the checkpoint holds the growth
(``images_seen``, stage, alpha), both optimizers' moments and the noise generator, and the
real images of a step depend only on the seed and ``images_seen``.

Not available for a progressive run, each with a clear error: several replicas
(``tf.distribute``), ``steps_per_execution`` > 1 (alpha must change between steps), mixed
precision and Keras's ``fit()``. The step is not compiled with XLA (``jit_compile`` is ignored):
compiled, the 28x28 step was slower (docs/decisions/007-pggan-critic-input.md and
``python -m benchmarks.experiments.pggan --costs``).

References:
    Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
    Variation", https://arxiv.org/abs/1710.10196, section 2 and appendix A.1.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

import numpy as np
import tensorflow as tf

from ganlib.progressive.export import portable_generator
from ganlib.progressive.networks import build_progressive_discriminator, build_progressive_generator
from ganlib.progressive.paper import RESOLUTIONS
from ganlib.progressive.schedule import Growth, GrowthSchedule, Phase, make_optimizer, reset_optimizer_state
from ganlib.train.callbacks import Callback
from ganlib.train.family import Family

if TYPE_CHECKING:  # annotations only
    from ganlib.train.runs import RunDir
    from ganlib.train.state import GAN


class Segment(NamedTuple):
    """Consecutive generator iterations at one stage: ``steps`` of ``images_per_step`` real images each."""

    stage: int
    images_per_step: int
    steps: int


def plan_steps(schedule: GrowthSchedule, images_seen: int, steps: int, n_critic: int = 1) -> list[Segment]:
    """Split ``steps`` generator iterations starting at ``images_seen`` into runs at one stage each.

    A run ends at the step that reaches the end of its stage's last phase (a step that
    starts inside a stage finishes at that stage; the next one starts at the next stage).

    Example:
        >>> s = GrowthSchedule((64, 64, 64), (64, 64), (16, 8, 4))
        >>> plan_steps(s, 0, 30)
        [Segment(stage=0, images_per_step=16, steps=4), Segment(stage=1, images_per_step=8, steps=16), \
Segment(stage=2, images_per_step=4, steps=10)]

    Args:
        schedule: the growth schedule.
        images_seen: real images shown before the first of these steps, >= 0.
        steps: generator iterations, >= 0.
        n_critic: critic updates per generator iteration (each takes one batch).

    Returns:
        Segments in order; their ``steps`` add up to ``steps``.
    """
    phases = schedule.phases()
    segments: list[Segment] = []
    while steps > 0:
        stage = schedule.progress(images_seen).stage
        per_step = n_critic * schedule.batch_sizes[stage]
        later = [p for p in phases if p.stage > stage]
        if later:
            stage_end = max(p.end for p in phases if p.stage == stage)
            n = min(steps, max(1, math.ceil((stage_end - images_seen) / per_step)))
        else:
            n = steps
        segments.append(Segment(stage, per_step, n))
        images_seen += n * per_step
        steps -= n
    return segments


def describe_plan(schedule: GrowthSchedule, steps: int, n_critic: int = 1) -> str:
    """One line per stage of a run of ``steps`` generator iterations from the start, for the training log.

    Example:
        >>> print(describe_plan(GrowthSchedule((64, 64, 64), (64, 64), (16, 16, 16)), 30))
        Progressive schedule (Karras et al. 2018): 320 real images, then 28x28 at alpha 1.
          7x7: steps 1-4 (16 images each); 14x14: steps 5-12 (16 images each); 28x28: steps 13-30 (16 images each)
    """
    segments = plan_steps(schedule, 0, steps, n_critic)
    parts, first = [], 1
    for segment in segments:
        r = RESOLUTIONS[segment.stage]
        last = first + segment.steps - 1
        parts.append(f"{r}x{r}: steps {first}-{last} ({segment.images_per_step} images each)")
        first = last + 1
    text = (f"Progressive schedule (Karras et al. 2018): {schedule.total_images:,} real images, then 28x28 at alpha 1."
            "\n  " + "; ".join(parts))
    if sum(s.steps * s.images_per_step for s in segments) < schedule.total_images:
        text += "\n  Note: the run ends before the schedule does (raise --epochs to reach 28x28 at alpha 1)."
    return text


def stream_indices(num_images: int, seed: int, start: int, count: int) -> np.ndarray:
    """Positions ``start .. start + count - 1`` of the stream of training-image indices of a progressive run.

    The stream is ``perm_0 + perm_1 + ...``, where ``perm_j`` is the permutation of
    ``range(num_images)`` drawn by ``numpy.random.default_rng([seed, j])``: every image once per
    pass, in a new order each pass, and the same images at the same ``images_seen`` in a resumed run.

    Returns:
        int64 ``[count]``, values in ``[0, num_images)``.

    Raises:
        ValueError: ``num_images`` < 1, or a negative ``start`` or ``count``.
    """
    if num_images < 1 or start < 0 or count < 0:
        raise ValueError(f"Expected num_images >= 1, start >= 0 and count >= 0. "
                         f"Received: num_images={num_images}, start={start}, count={count}")
    parts, position = [], start
    while count > 0:
        j, k = divmod(position, num_images)
        take = min(count, num_images - k)
        parts.append(np.random.default_rng([seed, j]).permutation(num_images)[k : k + take])
        position, count = position + take, count - take
    return np.concatenate(parts) if parts else np.zeros([0], np.int64)


class ProgressiveEpochs:
    """The train steps of a progressive run's epochs (see the module docstring), for :func:`ganlib.train.loop.train_loop`.

    Args:
        gan: a GAN built from a progressive config (``gan.growth`` set).
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1].
        steps_per_epoch: generator iterations per epoch.
        make_runner: ``make_runner()`` traces a new train step of ``gan`` and returns ``run(dataset, steps)``,
            which yields the float statistics of each step (the loop's step runner).
    """

    def __init__(self, gan: GAN, images: np.ndarray, steps_per_epoch: int,
                 make_runner: Callable[[], Callable[[tf.data.Dataset, int], Iterator[dict[str, float]]]]):
        if getattr(gan, "growth", None) is None:
            raise ValueError("Expected a GAN built from a progressive config (progressive=True). Received gan.growth=None")
        self.gan, self.images, self.steps_per_epoch = gan, images, steps_per_epoch
        self._make_runner = make_runner
        self._runners: dict[int, Callable] = {}
        self.images_this_epoch = 0

    def run_epoch(self, epoch: int, skip: int = 0) -> Iterator[dict[str, float]]:
        """Run epoch ``epoch`` (1-based) from the growth's ``images_seen``; yield each step's statistics,
        after the growth has advanced past the step (so a callback sees the stage and alpha of the next step).

        ``skip``: steps of the epoch already trained (a resume from a checkpoint within it, which restored
        the growth's ``images_seen`` after them); the remaining ``steps_per_epoch - skip`` run.
        """
        gan, growth, config = self.gan, self.gan.growth, self.gan.config
        start = int(growth.images_seen.numpy())
        segments = plan_steps(growth.schedule, start, self.steps_per_epoch - skip, config.n_critic)
        self.images_this_epoch = sum(s.steps * s.images_per_step for s in segments)
        order = stream_indices(len(self.images), config.seed, start, self.images_this_epoch)
        position = 0
        for segment in segments:
            if growth.current_stage() != segment.stage:
                raise RuntimeError(f"The growth is at stage {growth.current_stage()}, the plan at {segment.stage}.")
            count = segment.steps * segment.images_per_step
            dataset = tf.data.Dataset.from_tensor_slices(self.images[order[position : position + count]])
            dataset = dataset.batch(segment.images_per_step, drop_remainder=True).prefetch(2)
            position += count
            for stats in self._runner(segment.stage)(dataset, segment.steps):
                phase = growth.progress().phase.index
                new = growth.advance(segment.images_per_step)
                if new.phase.index != phase:
                    # The paper's code resets Adam when a fade-in starts and when it ends.
                    reset_optimizer_state(gan.g_optimizer)
                    reset_optimizer_state(gan.d_optimizer)
                yield stats

    def _runner(self, stage: int):
        # One traced step per stage: the networks read the stage when the step is traced.
        if stage not in self._runners:
            self._runners[stage] = self._make_runner()
        runner = self._runners[stage]

        def run(dataset, steps):
            # The layers of the stages not in use get no gradient, which Keras's optimizer warns about at each trace.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Gradients do not exist for variables")
                yield from runner(dataset, steps)

        return run


def phase_label(phase: Phase) -> str:
    """``"fade-in 14x14"`` or ``"stable 7x7"``."""
    return f"{'fade-in' if phase.fading else 'stable'} {phase.resolution}x{phase.resolution}"


class GrowthLog(Callback):
    """Save the fixed-z grid at the end of every phase and add the growth to each epoch's history row.

    The grids go to ``RUN_DIR/phases/phase_{index}_{fade-in|stable}_{r}x{r}.png`` (28x28 images:
    a grid at 7x7 shows 4x4 blocks of equal pixels). History rows get ``images_seen``, ``stage``
    and ``alpha`` at the epoch's end.
    """

    def __init__(self) -> None:
        self._run: RunDir | None = None
        self._phase: Phase | None = None

    def on_train_begin(self, gan: GAN, run: RunDir, step: int, steps_per_epoch: int) -> None:
        progress = gan.growth.progress()
        self._run, self._phase = run, None if progress.done else progress.phase

    def on_step_end(self, gan: GAN, step: int, stats: dict[str, float]) -> None:
        seen = int(gan.growth.images_seen.numpy())
        phases = gan.growth.schedule.phases()
        while self._phase is not None and seen >= self._phase.end:
            self._save(gan, self._phase)  # a phase shorter than one step gets the same grid as the next
            following = self._phase.index + 1
            self._phase = phases[following] if following < len(phases) else None

    def on_epoch_end(self, gan: GAN, row: dict[str, float]) -> dict[str, float]:
        progress = gan.growth.progress()
        return {"images_seen": progress.images_seen, "stage": progress.stage, "alpha": round(progress.alpha, 6)}

    def _phase_grid(self, phase: Phase):
        label = phase_label(phase).replace(" ", "_")
        return self._run.root / "phases" / f"phase_{phase.index}_{label}.png"

    def _save(self, gan: GAN, phase: Phase) -> None:
        from ganlib.viz import save_image_grid

        save_image_grid(gan.fixed_grid(), self._phase_grid(phase), cols=gan.grid_columns,
                        title=f"{gan.config.preset}: end of {phase_label(phase)} ({phase.end:,} images)")


class ProgressiveFamily(Family):
    """The progressive family (``config.progressive``, the ``pggan`` preset): see the module docstring."""

    name = "progressive"
    extra_names = ("growth",)

    def check_options(self, *, steps_per_execution: int) -> None:
        if steps_per_execution != 1:
            raise ValueError("A progressive run changes alpha after every step: expected steps_per_execution=1. "
                             f"Received: steps_per_execution={steps_per_execution}")

    def supports_xla(self) -> bool:
        return False

    def check_fit(self, gan: GAN) -> None:
        raise ValueError(
            "A progressive GAN (config.progressive, the pggan preset) grows between steps and traces its step "
            "again at each stage, which Keras's fit() cannot do: train it with ganlib.train.train or "
            "'python -m ganlib train --preset pggan'. Received: a GAN with growth stage "
            f"{gan.growth.current_stage()}"
        )

    def build_networks(self):
        c = self.config
        growth = Growth(GrowthSchedule(c.stabilize_images, c.fade_images, c.stage_batch_sizes))
        generator = build_progressive_generator(growth, c.latent_dim, c.g_filters)
        discriminator = build_progressive_discriminator(growth, c.d_filters, name="critic")
        return generator, discriminator, {"growth": growth}

    def copy_generator(self, generator, extras, name: str):
        """A progressive generator sharing the growth, holding ``generator``'s weights."""
        c = self.config
        copy = build_progressive_generator(extras["growth"], c.latent_dim, c.g_filters, name=name)
        copy.set_weights(generator.get_weights())
        return copy

    def make_optimizers(self):
        """The paper's Adam (epsilon 1e-8; Keras's default is 1e-7) at the config's rates and betas."""
        c = self.config
        return (make_optimizer(c.g_learning_rate, beta_1=c.beta_1, beta_2=c.beta_2),
                make_optimizer(c.d_learning_rate, beta_1=c.beta_1, beta_2=c.beta_2))

    def wrap_step(self, gan: GAN, step):
        """Real images in the form of the current stage, then the (unlabelled) step."""
        growth, inner = gan.growth, super().wrap_step(gan, step)

        def prepared(real, z=None, labels=None):
            return inner(growth.prepare_reals(real), z, labels)

        return prepared

    def epoch_runner(self, gan: GAN, images, labels, steps_per_epoch: int, make_runner) -> "ProgressiveEpochs":
        return ProgressiveEpochs(gan, images, steps_per_epoch, make_runner)

    def describe_run(self, gan: GAN, steps: int) -> str:
        return describe_plan(gan.growth.schedule, steps, self.config.n_critic)

    def callbacks(self) -> list[Callback]:
        return [GrowthLog()]

    def frame_label(self, gan: GAN) -> str:
        """The resolution, and alpha during a fade-in: ``"  14x14 fade-in 0.50"``."""
        progress = gan.growth.progress()
        label = f"  {progress.resolution}x{progress.resolution}"
        if progress.phase.fading and not progress.done:
            label += f" fade-in {progress.alpha:.2f}"
        return label

    def portable_generator(self, gan: GAN, generator):
        return portable_generator(generator)


__all__ = ["GrowthLog", "ProgressiveEpochs", "ProgressiveFamily", "Segment", "describe_plan", "phase_label",
           "plan_steps", "stream_indices"]
