"""Training-health signals: what each train step reports, beyond its losses, about how the game is going.

The step (:func:`ganlib.train.step.make_train_step`) adds these to its statistics, so they reach
``steps.csv``, the epoch means of ``history.csv`` and TensorBoard (``step/<key>``, ``epoch/<key>``)
like the losses; ``python -m ganlib doctor`` reads them (:mod:`ganlib.doctor`).

Every run:

* ``g_grad_norm``, ``d_grad_norm``: the L2 norm over all trainable weights of the gradient of each
  network's update (the generator's update; the last critic update of the step, its critic terms
  included), before the optimizer turns it into a step. Taken at the per-example mean loss: the
  step's replica and loss scaling (``1 / replicas``, a ``LossScaleOptimizer``'s dynamic scale) are
  divided out. On several replicas it is the mean of the replicas' norms of their own shares'
  gradients (at least the norm of the summed gradient that the update applies).

A discriminator loss with a :class:`ganlib.losses.Readout` (minimax, least squares, hinge):

* ``d_acc_real``, ``d_acc_fake``: the discriminator's accuracy as a classifier, in [0, 1]: the
  share of the batch's real images whose output is above the readout's threshold, and of
  generated images below it (one output per image; a map of patch outputs counts each patch);
* ``d_saturated`` (where the readout has a certainty level): the share of generated images that
  the discriminator rejects with certainty (output below ``threshold - certain``: ``D(G(z)) < 0.01``
  for a sigmoid, beyond the hinge margin), where the saturating generator loss has no gradient left.

A critic (Wasserstein, relativistic):

* ``score_gap``: ``mean D(x) - mean D(G(z))`` of the batch (the critic's estimate of the
  Wasserstein distance for a 1-Lipschitz critic, Arjovsky et al. 2017, eq. 3; the mean pairing margin
  for the relativistic loss).

All are taken from the last critic update's forward pass, as ``d_real`` and ``d_fake`` are.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from ganlib import losses as L

GRADIENT_KEYS = ("g_grad_norm", "d_grad_norm")
CLASSIFIER_KEYS = ("d_acc_real", "d_acc_fake")
SATURATION_KEY = "d_saturated"
CRITIC_KEYS = ("score_gap",)


def signal_keys(discriminator_loss: L.DiscriminatorLoss) -> tuple[str, ...]:
    """The health keys a step with this discriminator loss reports, in order.

    Example:
        >>> signal_keys(L.minimax_discriminator_loss)
        ('g_grad_norm', 'd_grad_norm', 'd_acc_real', 'd_acc_fake', 'd_saturated')
        >>> signal_keys(L.wasserstein_discriminator_loss)
        ('g_grad_norm', 'd_grad_norm', 'score_gap')
    """
    readout = L.readout(discriminator_loss)
    if readout is None:
        return GRADIENT_KEYS + CRITIC_KEYS
    return GRADIENT_KEYS + CLASSIFIER_KEYS + ((SATURATION_KEY,) if readout.certain is not None else ())


def output_signals(discriminator_loss: L.DiscriminatorLoss, real_logits: tf.Tensor,
                   fake_logits: tf.Tensor) -> dict[str, tf.Tensor]:
    """The signals read from the discriminator's outputs on one batch (float32 scalars).

    Args:
        discriminator_loss: the step's loss; its :func:`ganlib.losses.readout` decides the signals.
        real_logits, fake_logits: the discriminator's outputs ``[batch, ...]`` on real and generated images.

    Returns:
        ``{"d_acc_real", "d_acc_fake"[, "d_saturated"]}`` in [0, 1], or ``{"score_gap"}`` for a critic.
    """
    real = tf.cast(real_logits, tf.float32)
    fake = tf.cast(fake_logits, tf.float32)
    readout = L.readout(discriminator_loss)
    if readout is None:
        return {"score_gap": tf.reduce_mean(real) - tf.reduce_mean(fake)}
    signals = {
        "d_acc_real": tf.reduce_mean(tf.cast(real > readout.threshold, tf.float32)),
        "d_acc_fake": tf.reduce_mean(tf.cast(fake < readout.threshold, tf.float32)),
    }
    if readout.certain is not None:
        signals[SATURATION_KEY] = tf.reduce_mean(tf.cast(fake < readout.threshold - readout.certain, tf.float32))
    return signals


def gradient_norm(gradients: Sequence[tf.Tensor | None], optimizer: keras.optimizers.Optimizer,
                  replicas: int) -> tf.Tensor:
    """The L2 norm of an update's gradients, at the per-example mean loss (see the module's docstring).

    Args:
        gradients: the gradients of the loss as the step scaled it (``optimizer.scale_loss(loss / replicas)``);
            None entries (weights the loss does not depend on) count as 0.
        optimizer: the network's optimizer (a ``LossScaleOptimizer``'s dynamic scale is divided out).
        replicas: the number of replicas in sync.

    Returns:
        A float32 scalar >= 0 (NaN or inf when the gradients are).
    """
    present = [tf.cast(g, tf.float32) for g in gradients if g is not None]
    norm = tf.linalg.global_norm(present) if present else tf.constant(0.0)
    factor = tf.constant(float(replicas), tf.float32)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        factor = factor / tf.cast(optimizer.dynamic_scale, tf.float32)
    return norm * factor


__all__ = ["CLASSIFIER_KEYS", "CRITIC_KEYS", "GRADIENT_KEYS", "SATURATION_KEY", "gradient_norm", "output_signals",
           "signal_keys"]
