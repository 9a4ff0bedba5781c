"""The training engine: the train step, the GAN's state, the loop, its callbacks and run directories.

One module per idea: :mod:`~ganlib.train.step` (the ``tf.function`` train step and its
multi-step, multi-replica wrapper), :mod:`~ganlib.train.state` (networks, optimizers and
their checkpoint), :mod:`~ganlib.train.precision` (dtype policy, loss-scaled optimizers), :mod:`~ganlib.train.family` (the seam through which a model family
plugs in, and its registry), :mod:`~ganlib.train.ema` (the generator's EMA, a component),
:mod:`~ganlib.train.loop` (epochs, grids, GIF, history, checkpoints),
:mod:`~ganlib.train.callbacks`, :mod:`~ganlib.train.frames` (the training GIF's frames),
:mod:`~ganlib.train.tensorboard`, :mod:`~ganlib.train.runs` (run directories),
:mod:`~ganlib.train.distribute` (tf.distribute), :mod:`~ganlib.train.keras_fit` (Keras's
``fit()``) and :mod:`~ganlib.train.api` (:func:`train`: the loop with evaluation).

The names below are importable from the package (``from ganlib.train import train,
make_train_step, build_gan, load_run``); each is loaded on first use, so that
``ganlib.train.runs`` and the CLI's commands that only read files do not import TensorFlow.
"""

from __future__ import annotations

from ganlib._lazy import lazy_exports

_EXPORTS = {
    "train": "api", "EpochEvaluator": "api",
    "train_loop": "loop", "step_runner": "loop",
    "GAN": "state", "build_gan": "state", "load_run": "state", "restore_checkpoint": "state",
    "make_optimizer": "precision", "dtype_policy": "precision",
    "STEP_KEYS": "step", "step_keys": "step", "make_train_step": "step", "make_train_function": "step", "xla_supported": "step",
    "assign_each": "step",
    "Callback": "callbacks",
    "Family": "family", "family_for": "family",
    "DivergenceError": "ganlib.errors", "RunDirError": "ganlib.errors", "RunLockedError": "ganlib.errors",
    "StorageError": "ganlib.errors",
    "check_images": "ganlib.data",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
