"""Training a progressive GAN with ganlib's loop: the ``pggan`` preset's networks, data stream and growth.

:mod:`ganlib.progressive` has the paper's pieces (layers, networks, schedule, growth
state); this module puts them into a run, so that ``python -m ganlib train --preset
pggan`` and ``ganlib.train.train(get_config("pggan"), ...)`` grow 7x7 -> 14x14 -> 28x28
with the same grids, GIF, history, TensorBoard events and checkpoints as every other
preset, and ``sample``, ``evaluate`` and ``interpolate`` work on its runs:

* :func:`ganlib.state.build_gan` builds the networks around one :class:`~ganlib.progressive.Growth`
  shared by both (and by the EMA generator, when ``config.ema > 0``), and its train step first
  gives the real images the form of the current stage (:meth:`~ganlib.progressive.Growth.prepare_reals`);
* :class:`ProgressiveEpochs`: one epoch of train steps. An epoch has a fixed number of
  generator iterations, ``N // (n_critic * batch_size)``; each takes ``n_critic *
  stage_batch_sizes[stage]`` real images from one stream of seeded permutations of the
  training set (:func:`stream_indices`), read from position ``images_seen``. After each
  step the growth advances (alpha rises linearly through a fade-in); at a phase change
  both optimizers' moments are reset (the paper's code resets Adam when a fade-in starts
  and when it ends); at a stage change the train step is traced again (the networks read
  their stage when traced, see :mod:`ganlib.progressive`);
* :class:`GrowthLog`: a loop callback that saves a sample grid at the end of every
  phase (``RUN_DIR/phases/``) and adds ``images_seen``, ``stage`` and ``alpha`` to each
  epoch's history row.

Resuming is exact, also in the middle of a fade-in: the checkpoint holds the growth
(``images_seen``, stage, alpha), both optimizers' moments and the noise generator, and the
real images of a step depend only on the seed and ``images_seen``.

Not available for a progressive run, each with a clear error: several replicas
(``tf.distribute``), ``steps_per_execution`` > 1 (alpha must change between steps) and
mixed precision. The step is not compiled with XLA (``jit_compile`` is ignored): compiled, the
28x28 step was slower, not faster (``benchmarks/pggan.py --costs``; README, "Progressive growing").

References:
    Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
    Variation", https://arxiv.org/abs/1710.10196, section 2 and appendix A.1.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from ganlib import progressive as P
from ganlib.callbacks import Callback

if TYPE_CHECKING:  # annotations only
    from ganlib.config import TrainConfig
    from ganlib.runs import RunDir
    from ganlib.state import GAN


class Segment(NamedTuple):
    """Consecutive generator iterations at one stage: ``steps`` of ``images_per_step`` real images each."""

    stage: int
    images_per_step: int
    steps: int


def plan_steps(schedule: P.GrowthSchedule, images_seen: int, steps: int, n_critic: int = 1) -> list[Segment]:
    """Split ``steps`` generator iterations starting at ``images_seen`` into runs at one stage each.

    A run ends at the step that reaches the end of its stage's last phase (a step that
    starts inside a stage finishes at that stage; the next one starts at the next stage).

    Example:
        >>> s = P.GrowthSchedule((64, 64, 64), (64, 64), (16, 8, 4))
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


def describe_plan(schedule: P.GrowthSchedule, steps: int, n_critic: int = 1) -> str:
    """One line per stage of a run of ``steps`` generator iterations from the start, for the training log.

    Example:
        >>> print(describe_plan(P.GrowthSchedule((64, 64, 64), (64, 64), (16, 16, 16)), 30))
        Progressive schedule (Karras et al. 2018): 320 real images, then 28x28 at alpha 1.
          7x7: steps 1-4 (16 images each); 14x14: steps 5-12 (16 images each); 28x28: steps 13-30 (16 images each)
    """
    parts, first = [], 1
    for segment in plan_steps(schedule, 0, steps, n_critic):
        r = P.RESOLUTIONS[segment.stage]
        last = first + segment.steps - 1
        parts.append(f"{r}x{r}: steps {first}-{last} ({segment.images_per_step} images each)")
        first = last + 1
    text = (f"Progressive schedule (Karras et al. 2018): {schedule.total_images:,} real images, then 28x28 at alpha 1."
            f"\n  " + "; ".join(parts))
    if plan_steps(schedule, 0, steps, n_critic)[-1].stage != P.NUM_STAGES - 1 or \
            sum(s.steps * s.images_per_step for s in plan_steps(schedule, 0, steps, n_critic)) < schedule.total_images:
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
    """The train steps of a progressive run's epochs (see the module docstring), for :func:`ganlib.loop.train`.

    Args:
        gan: a GAN built from a progressive config (``gan.growth`` set).
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1].
        steps_per_epoch: generator iterations per epoch.
        make_runner: ``make_runner()`` traces a new train step of ``gan`` and returns ``run(dataset, steps)``,
            which yields the float statistics of each step (the loop's step runner).
    """

    def __init__(self, gan: GAN, images: np.ndarray, steps_per_epoch: int,
                 make_runner: Callable[[], Callable[[tf.data.Dataset, int], Iterator[dict[str, float]]]]):
        if gan.growth is None:
            raise ValueError("Expected a GAN built from a progressive config (progressive=True). Received gan.growth=None")
        self.gan, self.images, self.steps_per_epoch = gan, images, steps_per_epoch
        self._make_runner = make_runner
        self._runners: dict[int, Callable] = {}
        self.images_this_epoch = 0

    def run_epoch(self, epoch: int) -> Iterator[dict[str, float]]:
        """Run epoch ``epoch`` (1-based) from the growth's ``images_seen``; yield each step's statistics,
        after the growth has advanced past the step (so a callback sees the stage and alpha of the next step)."""
        gan, growth, config = self.gan, self.gan.growth, self.gan.config
        start = int(growth.images_seen.numpy())
        segments = plan_steps(growth.schedule, start, self.steps_per_epoch, config.n_critic)
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
                    P.reset_optimizer_state(gan.g_optimizer)
                    P.reset_optimizer_state(gan.d_optimizer)
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


def portable_generator(generator: P.ProgressiveGenerator, name: str = "generator") -> keras.Model:
    """The progressive generator at its current stage and alpha as a functional model of Keras's own layers.

    It computes what ``generator(z)`` computes in inference mode (images ``[batch, 28, 28, 1]``
    clipped to [-1, 1]), so ``python -m ganlib export`` can write a file that loads without
    ganlib (:mod:`ganlib.export`). Each piece becomes standard layers:

    * equalized learning rate is a reparametrisation: :class:`~ganlib.progressive.EqualizedDense`
      and :class:`~ganlib.progressive.EqualizedConv2D` become ``Dense`` and ``Conv2D`` holding the
      effective kernel ``c * W``;
    * pixel norm ``a / sqrt(mean_c a_c^2 + 1e-8)`` becomes ``UnitNormalization`` (``a / ||a||``) then
      ``Rescaling(sqrt(C))``; the two differ only where ``||a||^2`` is near ``C * 1e-8``;
    * the fade-in ``(1 - alpha) * old + alpha * new`` becomes two ``Rescaling`` layers and ``Add``
      (alpha fixed at its current value; no old path at alpha = 1);
    * the clipping becomes ``ReLU(max_value=2)`` between shifts by +1 and -1.

    Args:
        generator: a :class:`~ganlib.progressive.ProgressiveGenerator` (built).
        name: the model's name.

    Returns:
        A ``keras.Model``: ``z`` ``[batch, latent_dim]`` -> images ``[batch, 28, 28, 1]`` in [-1, 1].
    """
    from keras import layers

    stage = generator.growth.current_stage()
    alpha = float(generator.growth.alpha.numpy()) if stage > 0 else 1.0

    def copy(layer, x, prefix):
        if isinstance(layer, P.PixelNorm):
            x = layers.UnitNormalization(axis=-1, name=f"{prefix}_{layer.name}")(x)
            return layers.Rescaling(math.sqrt(x.shape[-1]), name=f"{prefix}_{layer.name}_scale")(x)
        if isinstance(layer, (P.EqualizedDense, P.EqualizedConv2D)):
            if isinstance(layer, P.EqualizedDense):
                plain = layers.Dense(layer.units, use_bias=layer.use_bias, name=f"{prefix}_{layer.name}")
            else:
                plain = layers.Conv2D(layer.filters, layer.kernel_size, padding="same", use_bias=layer.use_bias,
                                      name=f"{prefix}_{layer.name}")
            y = plain(x)
            plain.set_weights([layer.effective_kernel.numpy()] + ([layer.bias.numpy()] if layer.use_bias else []))
            return y
        config = {**layer.get_config(), "name": f"{prefix}_{layer.name}"}
        return type(layer).from_config(config)(x)

    def run(block, x):
        for layer in block.layers:
            x = copy(layer, x, block.name)
        return x

    z = keras.Input((generator.latent_dim,), name="z")
    h = run(generator.blocks[0], z)
    for s in range(1, stage):
        h = run(generator.blocks[s], h)
    if stage == 0:
        image = copy(generator.to_rgb[0], h, "out")
    else:
        image = copy(generator.to_rgb[stage], run(generator.blocks[stage], h), "out")
        if alpha < 1.0:
            old = layers.UpSampling2D(2, interpolation="nearest", name="fade_upsample")(
                copy(generator.to_rgb[stage - 1], h, "old"))
            image = layers.Add(name="fade_in")([layers.Rescaling(1.0 - alpha, name="fade_old")(old),
                                                layers.Rescaling(alpha, name="fade_new")(image)])
    factor = P.FULL_RESOLUTION // P.RESOLUTIONS[stage]
    if factor > 1:
        image = layers.UpSampling2D(factor, interpolation="nearest", name="to_28x28")(image)
    image = layers.Rescaling(1.0, offset=1.0, name="clip_shift")(image)
    image = layers.ReLU(max_value=2.0, name="clip")(image)
    image = layers.Rescaling(1.0, offset=-1.0, name="clip_unshift")(image)
    return keras.Model(z, image, name=name)


def phase_label(phase: P.Phase) -> str:
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
        self._phase: P.Phase | None = None

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

    def _phase_grid(self, phase: P.Phase):
        label = phase_label(phase).replace(" ", "_")
        return self._run.root / "phases" / f"phase_{phase.index}_{label}.png"

    def _save(self, gan: GAN, phase: P.Phase) -> None:
        from ganlib.viz import save_image_grid

        save_image_grid(gan.fixed_grid(), self._phase_grid(phase), cols=gan.grid_columns,
                        title=f"{gan.config.preset}: end of {phase_label(phase)} ({phase.end:,} images)")


__all__ = ["GrowthLog", "ProgressiveEpochs", "Segment", "describe_plan", "phase_label", "plan_steps",
           "portable_generator", "stream_indices"]
