"""Generator EMA as one component: the averaged copy, its traced update, its checkpoint entry, the sampling network.

With ``config.ema = decay > 0`` the run keeps ``G_ema``, an exponential moving average of
the generator's weights, updated inside the train step after every generator update::

    w_ema <- decay * w_ema + (1 - decay) * w        (every weight, batch-norm statistics included)

and every sample (grids, GIF, ``sample``, ``evaluate``, ``export``) comes from ``G_ema``. The
average starts at the initial weights. The component enters the run as data: the family
registry (:data:`ganlib.train.family.COMPONENTS`) builds it from the config, the state
checkpoints its :attr:`GeneratorEMA.extras`, the step calls its :meth:`GeneratorEMA.update`
after each generator update, and :attr:`GeneratorEMA.sampling_generator` names the
network samples come from.

References:
    Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1 (generator weights
    averaged with decay 0.999). Yazici et al. 2019, "The Unusual Effectiveness of Averaging in
    GAN Training", https://arxiv.org/abs/1806.04498.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.train.step import assign_each

if TYPE_CHECKING:  # annotations only
    import keras

    from ganlib.train.family import Family


class GeneratorEMA:
    """An exponential moving average of a generator's weights (see the module docstring).

    Args:
        generator: the trained generator.
        averaged: a generator of the same architecture holding the average (for example
            :meth:`ganlib.train.family.Family.copy_generator` of ``generator``).
        decay: in (0, 1).

    Raises:
        ValueError: ``decay`` outside (0, 1), or networks with different numbers of weights.
    """

    #: The GAN attributes this component provides (``gan.ema_generator``; None on a run without EMA).
    extra_names = ("ema_generator",)

    def __init__(self, generator: "keras.Model", averaged: "keras.Model", decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"The EMA decay must be in (0, 1). Received: decay={decay!r}")
        if len(generator.weights) != len(averaged.weights):
            raise ValueError(f"Expected a copy of the generator: {len(generator.weights)} weights. "
                             f"Received: {len(averaged.weights)} weights")
        self.generator, self.averaged, self.decay = generator, averaged, float(decay)

    @classmethod
    def from_config(cls, config: TrainConfig, family: "Family", generator: "keras.Model",
                    extras: dict[str, Any]) -> "GeneratorEMA | None":
        """The component for ``config.ema`` (None when it is 0), its average starting at ``generator``'s weights."""
        if not config.ema:
            return None
        return cls(generator, family.copy_generator(generator, extras, name="ema_generator"), config.ema)

    @property
    def extras(self) -> dict[str, Any]:
        """Checkpointed objects, by name: the averaged generator."""
        return {"ema_generator": self.averaged}

    @property
    def sampling_generator(self) -> "keras.Model":
        """The network every sample comes from: the average."""
        return self.averaged

    @property
    def description(self) -> str:
        """What samples come from, for titles and messages."""
        return f"EMA generator (decay {self.decay:g})"

    title_suffix = " (EMA)"

    def update(self) -> None:
        """``w_ema <- decay * w_ema + (1 - decay) * w`` for every weight; traced inside the train step, any strategy."""
        decay = self.decay
        assign_each(self.averaged.weights,
                    [lambda e, w=w: decay * e + (1.0 - decay) * tf.cast(w, e.dtype) for w in self.generator.weights])


__all__ = ["GeneratorEMA"]
