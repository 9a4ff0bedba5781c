"""The losses of image-to-image translation: pix2pix's L1 term and objective, CycleGAN's cycle and identity losses.

Pure functions of tensors (TensorFlow or NumPy inputs), each a mean over every element.
The adversarial parts are the losses of :mod:`ganlib.losses` applied to the PatchGAN's
logit maps (any rank: one logit per patch, averaged).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf


def _same_shape(a, b, names: str) -> tuple[tf.Tensor, tf.Tensor]:
    a, b = tf.convert_to_tensor(a, tf.float32), tf.convert_to_tensor(b, tf.float32)
    if a.shape.rank is not None and b.shape.rank is not None and not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"Expected {names} of the same shape. Received: shapes {a.shape.as_list()} and "
                         f"{b.shape.as_list()}")
    return a, b


def l1_loss(target, output) -> tf.Tensor:
    """``L_L1 = E[ ||y - G(x)||_1 ]`` as the mean absolute difference over every pixel (Isola et al. 2017, eq. 3).

    Args:
        target: the true images ``y``, float ``[batch, 28, 28, C]`` in [-1, 1].
        output: the generator's images ``G(x)``, the same shape.

    Returns:
        A float32 scalar >= 0, the mean over batch and pixels.

    Raises:
        ValueError: shapes that differ.

    References:
        Isola et al. 2017, eq. 3, https://arxiv.org/abs/1611.07004.
    """
    y, g = _same_shape(target, output, "target and output")
    return tf.reduce_mean(tf.abs(y - g))


def pix2pix_generator_loss(fake_logits, target, output, *, adversarial: Callable[[tf.Tensor], tf.Tensor],
                           adv_weight: float = 1.0, l1_weight: float = 100.0) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The generator's side of pix2pix's objective (Isola et al. 2017, eq. 4).

    ``G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G)``; the generator minimises
    ``adv_weight * adversarial(D(x, G(x))) + l1_weight * L_L1(G)``, with ``adversarial`` the
    non-saturating form of ``L_cGAN`` (sec. 3.3: "maximize log D(x, G(x, z))"), lambda =
    ``l1_weight`` (the paper: 100) and ``adv_weight`` = 1 (0: the paper's "L1 only" baseline).

    Args:
        fake_logits: the PatchGAN's logits on (input, G(input)), float ``[batch, 7, 7, 1]`` (any shape).
        target: the true images, float ``[batch, 28, 28, 1]`` in [-1, 1].
        output: the generator's images, the same shape.
        adversarial: ``f(fake_logits) -> scalar`` (a generator loss of :mod:`ganlib.losses`).
        adv_weight: lambda_adv >= 0.
        l1_weight: lambda >= 0.

    Returns:
        ``(total, adversarial_term, l1_term)``: float32 scalars, the last two unweighted.

    Raises:
        ValueError: ``target`` and ``output`` of different shapes.

    References:
        Isola et al. 2017, eq. 1-4, https://arxiv.org/abs/1611.07004.
    """
    l1 = l1_loss(target, output)
    adv = adversarial(tf.convert_to_tensor(fake_logits, tf.float32)) if adv_weight else tf.constant(0.0)
    return adv_weight * adv + l1_weight * l1, adv, l1


def cycle_consistency_loss(x, x_cycled, y, y_cycled) -> tf.Tensor:
    """``L_cyc(G, F) = E_x[ ||F(G(x)) - x||_1 ] + E_y[ ||G(F(y)) - y||_1 ]`` (Zhu et al. 2017, eq. 2).

    Each expectation is the mean absolute difference over batch and pixels.

    Args:
        x: images of domain X, float ``[batch, 28, 28, 1]`` in [-1, 1]; ``x_cycled`` = ``F(G(x))``, the same shape.
        y: images of domain Y, float ``[batch, 28, 28, 1]``; ``y_cycled`` = ``G(F(y))``, the same shape.

    Returns:
        A float32 scalar >= 0.

    Raises:
        ValueError: a pair of different shapes.

    References:
        Zhu et al. 2017, eq. 2, https://arxiv.org/abs/1703.10593.
    """
    x, xc = _same_shape(x, x_cycled, "x and F(G(x))")
    y, yc = _same_shape(y, y_cycled, "y and G(F(y))")
    return tf.reduce_mean(tf.abs(xc - x)) + tf.reduce_mean(tf.abs(yc - y))


def identity_loss(x, f_of_x, y, g_of_y) -> tf.Tensor:
    """``L_identity(G, F) = E_y[ ||G(y) - y||_1 ] + E_x[ ||F(x) - x||_1 ]`` (Zhu et al. 2017, sec. 5.2).

    Each generator, given an image already of its target domain, should leave it unchanged
    (Taigman et al. 2017); the paper weights it 0.5 lambda.

    Args:
        x: images of domain X, float ``[batch, 28, 28, 1]``; ``f_of_x`` = ``F(x)``, the same shape.
        y: images of domain Y; ``g_of_y`` = ``G(y)``, the same shape.

    Returns:
        A float32 scalar >= 0.

    Raises:
        ValueError: a pair of different shapes.

    References:
        Zhu et al. 2017, sec. 5.2, https://arxiv.org/abs/1703.10593.
    """
    x, fx = _same_shape(x, f_of_x, "x and F(x)")
    y, gy = _same_shape(y, g_of_y, "y and G(y)")
    return tf.reduce_mean(tf.abs(gy - y)) + tf.reduce_mean(tf.abs(fx - x))


__all__ = ["cycle_consistency_loss", "identity_loss", "l1_loss", "pix2pix_generator_loss"]
