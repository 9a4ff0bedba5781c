"""The loop's extension point: a :class:`Callback` receives the run's state at fixed points of training.

Per-step and per-run features (the training GIF's frames in :mod:`ganlib.train.frames`,
TensorBoard in :mod:`ganlib.train.tensorboard`, anything of a user's) are callbacks that
:func:`ganlib.train.loop.train_loop` calls; they live in their own modules and the loop's body
does not grow with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; ganlib.train.state does not import this module
    from ganlib.train.runs import RunDir
    from ganlib.train.state import GAN


class Callback:
    """Per-run work plugged into :func:`ganlib.train.loop.train_loop` without growing the loop: override what you need.

    ``step`` counts generator iterations since the run started (it continues across a
    resume: a run resumed after epoch ``k`` goes on from ``k * steps_per_epoch``, one resumed from a
    checkpoint within an epoch from that checkpoint's step).
    Hooks are called in the order the callbacks are given.
    """

    def on_train_begin(self, gan: GAN, run: RunDir, step: int, steps_per_epoch: int) -> None:
        """Before the first step of this call of :func:`ganlib.train.loop.train_loop` (``step`` steps are already done)."""

    def on_step_end(self, gan: GAN, step: int, stats: dict[str, float]) -> None:
        """After generator iteration ``step`` (1-based), with its float statistics (see ``STEP_KEYS``)."""

    def on_checkpoint(self, gan: GAN, step: int) -> None:
        """Before a checkpoint within an epoch, after generator iteration ``step``: put on disk what a resume from it
        must find (a resumed run calls :meth:`on_train_begin` with that ``step``)."""

    def on_epoch_end(self, gan: GAN, row: dict[str, float]) -> dict[str, float] | None:
        """After an epoch's sample grid and before its checkpoint; returned values join the history row."""
        return None

    def on_train_end(self, gan: GAN, history: list[dict[str, float]]) -> None:
        """After the last epoch of this call (also when nothing was left to train)."""


__all__ = ["Callback"]
