"""The training GIF's frame schedule: the fixed-z grid drawn from step 0, dense early and sparser later.

The schedule draws the fixed latent batch at

    step 0 (the untrained generator),
    steps round(s0 * 10 ** (k / d)) - s0, k = 1, 2, ...   (uniform in log(step + s0)),
    every ``frame_every`` steps (optional), and at the end of every epoch,

with ``d = frames_per_decade`` and ``s0 = frame_offset`` (see :class:`ganlib.config.TrainConfig`):
the first frames are about ``s0 ln(10) / d`` steps apart, and later frames about
``ln(10) / d`` of their step apart, so each factor of 10 in training time gets the same
number of frames, and the first few hundred steps (noise turning into digits) are not
one frame. Why the offset, and the measurement behind the defaults:
docs/decisions/005-frame-schedule.md.

The schedule depends only on the step count and the steps per epoch, not on the
number of epochs, so raising ``--epochs`` on a resumed run extends it without
changing the frames already drawn. Frames are files named by their step
(:meth:`ganlib.train.runs.RunDir.frame`): a run resumed from epoch ``k`` deletes the
frames after step ``k * steps_per_epoch`` (drawn by a generator whose epoch was
never checkpointed) and draws them again, so the frames of a resumed run are
those of an uninterrupted one, without duplicates or gaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ganlib.config import TrainConfig
from ganlib.train.callbacks import Callback
from ganlib.train.runs import RunDir, frame_step
from ganlib.train.state import GAN
from ganlib.viz import save_frame


def frame_steps(
    last_step: int,
    *,
    frames_per_decade: int,
    offset: int = 0,
    every: int = 0,
    steps_per_epoch: int | None = None,
) -> list[int]:
    """The generator steps in ``0..last_step`` at which a training-GIF frame is drawn, ascending.

    ``{0} | {round(s0 * 10 ** (k / frames_per_decade)) - s0 : k >= 1} | {j * every} | {j * steps_per_epoch}``
    with ``s0 = offset`` (``offset = 0`` means ``round(10 ** (k / frames_per_decade))``, k >= 0: pure log
    spacing), each set cut at ``last_step``. Rounding merges some of the first steps of a pure log
    schedule (16 per decade give 1, 2, 3, 4, 5, 6, 7, 9, 10 in the first decade).

    Example:
        >>> frame_steps(100, frames_per_decade=4)
        [0, 1, 2, 3, 6, 10, 18, 32, 56, 100]
        >>> frame_steps(300, frames_per_decade=4, offset=100)
        [0, 78, 216]

    Args:
        last_step: the last generator step (>= 0) of the schedule.
        frames_per_decade: frames per factor of 10 in ``step + offset`` (0: none of these).
        offset: steps added before the logarithm, >= 0.
        every: also every ``every`` steps (0: not).
        steps_per_epoch: also at the end of every epoch (None: not).

    Returns:
        Sorted, distinct steps, always starting with 0.

    Raises:
        ValueError: a negative argument, or ``steps_per_epoch`` < 1.
    """
    for name, value in (("last_step", last_step), ("frames_per_decade", frames_per_decade), ("offset", offset),
                        ("every", every)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0. Received: {name}={value!r}")
    if steps_per_epoch is not None and (not isinstance(steps_per_epoch, int) or steps_per_epoch < 1):
        raise ValueError(
            f"steps_per_epoch must be a positive integer or None. Received: steps_per_epoch={steps_per_epoch!r}"
        )
    steps = {0}
    if frames_per_decade:
        base = max(offset, 1)
        last_k = math.floor(frames_per_decade * math.log10((last_step + offset) / base)) if last_step + offset else 0
        for k in range(last_k + 2):
            s = round(base * 10 ** (k / frames_per_decade)) - offset
            if 0 <= s <= last_step:
                steps.add(s)
    for period in (every, steps_per_epoch or 0):
        if period:
            steps.update(range(period, last_step + 1, period))
    return sorted(steps)


def frame_label(preset: str, step: int, steps_per_epoch: int) -> str:
    """The text above a frame: ``"dcgan  step 1,152  epoch 1.23"`` (epochs completed, to 2 decimals)."""
    return f"{preset}  step {step:,}  epoch {step / steps_per_epoch:.2f}"


@dataclass
class TrainingFrames(Callback):
    """A :class:`ganlib.train.callbacks.Callback` that draws the fixed-z grid at the steps of :func:`frame_steps`.

    Each frame is a labelled grid (:func:`ganlib.viz.save_frame`; the label gives the step and epoch, and
    what the family adds, :meth:`ganlib.train.family.Family.frame_label`; the grid is
    :meth:`ganlib.train.state.GAN.fixed_grid`) written to
    ``RUN_DIR/frames/step_NNNNNNN.png``; the loop assembles them into ``training.gif``
    (:meth:`ganlib.train.runs.RunDir.gif_frames`). A run that started without frames (``config.json``
    from before frames existed, resumed) keeps its per-epoch GIF: no frames are drawn for it.

    With ``steps_per_execution`` K > 1 the loop reports the K steps of one call after all of them
    ran, so a frame scheduled inside a call shows the generator at the end of that call (at most
    K - 1 steps later than its label); with K = 1, the default, every frame is exact.

    Attributes:
        frames_per_decade: frames per factor of 10 in ``step + offset`` (see :func:`frame_steps`).
        offset: steps added before the logarithm.
        every: also a frame every ``every`` steps (0: not).
        scale: pixels per image pixel in a frame.
    """

    frames_per_decade: int = 24
    offset: int = 100
    every: int = 0
    scale: int = 2
    _run: RunDir | None = field(default=None, init=False, repr=False)
    _schedule: frozenset[int] = field(default=frozenset(), init=False, repr=False)
    _steps_per_epoch: int = field(default=1, init=False, repr=False)

    @classmethod
    def from_config(cls, config: TrainConfig) -> "TrainingFrames | None":
        """The callback for ``config.frames_per_decade``, ``frame_offset`` and ``frame_every``; None when no frames."""
        if not (config.frames_per_decade or config.frame_every):
            return None
        return cls(frames_per_decade=config.frames_per_decade, offset=config.frame_offset, every=config.frame_every)

    def on_train_begin(self, gan: GAN, run: RunDir, step: int, steps_per_epoch: int) -> None:
        done = run.frame_files()
        for stale in done:
            if frame_step(stale) > step:
                stale.unlink()
        if step > 0 and not done:  # a run that started without frames
            self._run = None
            return
        self._run, self._steps_per_epoch = run, steps_per_epoch
        self._schedule = frozenset(frame_steps(gan.config.epochs * steps_per_epoch,
                                               frames_per_decade=self.frames_per_decade, offset=self.offset,
                                               every=self.every,
                                               steps_per_epoch=steps_per_epoch))
        if step == 0:
            self._draw(gan, 0)

    def on_step_end(self, gan: GAN, step: int, stats: dict[str, float]) -> None:
        if self._run is not None and step in self._schedule:
            self._draw(gan, step)

    def _draw(self, gan: GAN, step: int) -> None:
        label = frame_label(gan.config.preset, step, self._steps_per_epoch) + gan.family.frame_label(gan)
        save_frame(gan.fixed_grid(), self._run.frame(step), cols=gan.grid_columns, scale=self.scale, label=label)


__all__ = ["TrainingFrames", "frame_label", "frame_steps"]
