"""Precision: the dtype policy the networks are built under, and each network's (loss-scaled) optimizer.

``config.precision`` is one of :data:`ganlib.config.PRECISIONS`: ``float32``, ``mixed_float16``
(float16 compute with float32 weights; the optimizer scales the loss so that float16 gradients do
not underflow) or ``mixed_bfloat16`` (bfloat16 compute, no loss scaling: bfloat16 has float32's
exponent range). See Keras's mixed precision guide and Micikevicius et al. 2018, "Mixed Precision
Training" (loss scaling, section 3.2).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras

from ganlib.config import PRECISIONS, TrainConfig


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


__all__ = ["dtype_policy", "make_optimizer"]
