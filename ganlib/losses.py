"""The GAN objective family as pure functions of discriminator (or critic) logits.

Every loss takes logits of any shape ``[batch, ...]`` (one logit per image, or a
map of "patch" logits), returns a scalar float32 mean over all elements, and
raises ``ValueError`` when the real and fake logits do not have the same shape.

Sign convention: every function returns a quantity to *minimise*.

Numerics: a sigmoid discriminator ``D(x) = sigmoid(l)`` is never evaluated and
then logged. We use ``log D = log_sigmoid(l)`` and
``log(1 - D) = log(1 - sigmoid(l)) = log_sigmoid(-l)``, which stay finite (and
have finite gradients) for logits of any magnitude.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple

import tensorflow as tf

DiscriminatorLoss = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
GeneratorLoss = Callable[[tf.Tensor], tf.Tensor]


def _as_logits(logits, name: str) -> tf.Tensor:
    logits = tf.convert_to_tensor(logits)
    if not logits.dtype.is_floating:
        raise ValueError(f"Expected floating-point {name}. Received: {name}.dtype={logits.dtype.name}")
    if logits.shape.rank == 0:
        raise ValueError(f"Expected {name} of shape [batch, ...]. Received a scalar.")
    return tf.cast(logits, tf.float32)


def _pair(real_logits, fake_logits) -> tuple[tf.Tensor, tf.Tensor]:
    real = _as_logits(real_logits, "real_logits")
    fake = _as_logits(fake_logits, "fake_logits")
    if not real.shape.is_compatible_with(fake.shape):
        raise ValueError(
            "Expected real_logits and fake_logits of the same shape. "
            f"Received: real_logits.shape={real.shape}, fake_logits.shape={fake.shape}"
        )
    return real, fake


# Minimax GAN and its non-saturating generator loss.
# Goodfellow et al. 2014, "Generative Adversarial Nets", https://arxiv.org/abs/1406.2661


def _check_real_label(real_label: Any) -> float:
    if isinstance(real_label, bool) or not isinstance(real_label, (int, float)) or not 0 < real_label <= 1:
        raise ValueError(
            "real_label must be a number in (0, 1] (1: no smoothing; Salimans et al. 2016 use 0.9). "
            f"Received: real_label={real_label!r}"
        )
    return float(real_label)


def minimax_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor, *, real_label: float = 1.0) -> tf.Tensor:
    """Discriminator loss of the minimax GAN (binary cross-entropy, real=1, fake=0), optionally label-smoothed.

    ``L_D = -mean[log D(x)] - mean[log(1 - D(G(z)))]`` with ``D = sigmoid(logits)``,
    the negative of the value function V(D, G) that D maximises.

    One-sided label smoothing (Salimans et al. 2016, section 3.4) replaces the
    target 1 of the real images by ``alpha = real_label`` and keeps the fake
    target at 0, which changes only the real term:

        L_D = -mean[alpha log D(x) + (1 - alpha) log(1 - D(x))] - mean[log(1 - D(G(z)))].

    The optimal discriminator becomes ``D*(x) = alpha p_data / (p_data + p_g)``,
    so D is kept from growing overconfident (its logits on real images stop at
    ``log(alpha / (1 - alpha))``, 2.2 for 0.9). Smoothing the fake target too
    (to beta > 0) would give ``(alpha p_data + beta p_g) / (p_data + p_g)``,
    which rewards samples where p_data is small and p_g large; hence one-sided.

    Args:
        real_logits: float ``[batch, ...]``, logits of D on real images, any real value.
        fake_logits: float, same shape, logits of D on generated images.
        real_label: the real images' target alpha in (0, 1], keyword-only; 1 (the
            default) is the unsmoothed loss, Salimans et al. use 0.9.

    Returns:
        Scalar float32; ``2 log 2 ~ 1.386`` when D outputs 1/2 everywhere; its
        minimum is the binary entropy of alpha (0 for alpha = 1).

    Raises:
        ValueError: non-float logits, scalar logits, mismatched shapes, or
            ``real_label`` outside (0, 1].

    References:
        Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, eq. 1;
        Salimans et al. 2016, "Improved Techniques for Training GANs",
        https://arxiv.org/abs/1606.03498, section 3.4.
    """
    alpha = _check_real_label(real_label)
    real, fake = _pair(real_logits, fake_logits)
    real_term = -tf.reduce_mean(alpha * tf.math.log_sigmoid(real) + (1.0 - alpha) * tf.math.log_sigmoid(-real))
    return real_term - tf.reduce_mean(tf.math.log_sigmoid(-fake))


def minimax_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Saturating generator loss of the minimax GAN: ``mean[log(1 - D(G(z)))]``.

    G minimises it. When D confidently rejects fakes (``D(G(z)) -> 0``, early in
    training) its gradient vanishes, which is why :func:`non_saturating_generator_loss`
    is used in practice.

    Args:
        fake_logits: float ``[batch, ...]``, logits of D on generated images.

    Returns:
        Scalar float32, ``<= 0``.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, eq. 1.
    """
    fake = _as_logits(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.math.log_sigmoid(-fake))


def non_saturating_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Non-saturating generator loss ``-mean[log D(G(z))]``, used with the minimax D loss.

    Same fixed point as the saturating loss, but strong gradients when D rejects
    the fakes. This is the loss of DCGAN and of most practical GANs.

    Args:
        fake_logits: float ``[batch, ...]``, logits of D on generated images.

    Returns:
        Scalar float32, ``>= 0``.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661, section 3.
    """
    fake = _as_logits(fake_logits, "fake_logits")
    return -tf.reduce_mean(tf.math.log_sigmoid(fake))


# Least-squares GAN.
# Mao et al. 2017, "Least Squares Generative Adversarial Networks", https://arxiv.org/abs/1611.04076


def least_squares_discriminator_loss(
    real_logits: tf.Tensor, fake_logits: tf.Tensor, *, real_label: float = 1.0, fake_label: float = 0.0
) -> tf.Tensor:
    """LSGAN discriminator loss ``1/2 mean[(D(x) - b)^2] + 1/2 mean[(D(G(z)) - a)^2]``.

    ``D`` is the raw output (no sigmoid), ``b = real_label``, ``a = fake_label``.

    Args:
        real_logits: float ``[batch, ...]``, raw D outputs on real images.
        fake_logits: float, same shape, raw D outputs on generated images.
        real_label: target b for real images (paper: 1).
        fake_label: target a for fake images (paper: 0).

    Returns:
        Scalar float32, ``>= 0``.

    Raises:
        ValueError: non-float, scalar or mismatched logits.

    References:
        Mao et al. 2017, https://arxiv.org/abs/1611.04076, eq. 2 with a=0, b=1 (eq. 9).
    """
    real, fake = _pair(real_logits, fake_logits)
    return 0.5 * tf.reduce_mean(tf.square(real - real_label)) + 0.5 * tf.reduce_mean(tf.square(fake - fake_label))


def least_squares_generator_loss(fake_logits: tf.Tensor, *, real_label: float = 1.0) -> tf.Tensor:
    """LSGAN generator loss ``1/2 mean[(D(G(z)) - c)^2]`` with ``c = real_label``.

    Args:
        fake_logits: float ``[batch, ...]``, raw D outputs on generated images.
        real_label: the value c that G wants D to believe (paper: 1).

    Returns:
        Scalar float32, ``>= 0``.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Mao et al. 2017, https://arxiv.org/abs/1611.04076, eq. 2 with c=1 (eq. 9).
    """
    fake = _as_logits(fake_logits, "fake_logits")
    return 0.5 * tf.reduce_mean(tf.square(fake - real_label))


# Wasserstein GAN.
# Arjovsky et al. 2017, "Wasserstein GAN", https://arxiv.org/abs/1701.07875


def wasserstein_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """WGAN critic loss ``mean f(G(z)) - mean f(x)``.

    Its negative is the critic's estimate of the Wasserstein-1 distance, valid
    only while f is (close to) 1-Lipschitz: weight clipping or a gradient penalty.

    Args:
        real_logits: float ``[batch, ...]``, critic scores f(x), unbounded.
        fake_logits: float, same shape, critic scores f(G(z)).

    Returns:
        Scalar float32, any sign.

    Raises:
        ValueError: non-float, scalar or mismatched logits.

    References:
        Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875, algorithm 1.
    """
    real, fake = _pair(real_logits, fake_logits)
    return tf.reduce_mean(fake) - tf.reduce_mean(real)


def wasserstein_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """WGAN generator loss ``-mean f(G(z))``.

    Args:
        fake_logits: float ``[batch, ...]``, critic scores f(G(z)).

    Returns:
        Scalar float32, any sign.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875, algorithm 1.
    """
    fake = _as_logits(fake_logits, "fake_logits")
    return -tf.reduce_mean(fake)


def drift_penalty(real_logits: tf.Tensor) -> tf.Tensor:
    """Drift penalty ``mean[f(x)^2]`` on the critic's scores of real images.

    Added to the WGAN-GP critic loss with a tiny weight, ``L' = L + epsilon_drift * mean[f(x)^2]``
    (progressive GAN: epsilon_drift = 0.001), it keeps the scores from drifting far from
    zero; the Wasserstein loss alone only fixes their differences.

    Args:
        real_logits: float ``[batch, ...]``, critic scores f(x) of real images.

    Returns:
        Scalar float32, ``>= 0``. The caller multiplies it by epsilon_drift.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Karras et al. 2018, "Progressive Growing of GANs", https://arxiv.org/abs/1710.10196,
        appendix A.1.
    """
    real = _as_logits(real_logits, "real_logits")
    return tf.reduce_mean(tf.square(real))


# Hinge loss.
# Lim & Ye 2017, "Geometric GAN", https://arxiv.org/abs/1705.02894;
# Miyato et al. 2018, "Spectral Normalization for GANs", https://arxiv.org/abs/1802.05957


def hinge_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Hinge discriminator loss ``mean[relu(1 - D(x))] + mean[relu(1 + D(G(z)))]``.

    Args:
        real_logits: float ``[batch, ...]``, raw D outputs on real images.
        fake_logits: float, same shape, raw D outputs on generated images.

    Returns:
        Scalar float32, ``>= 0``; 0 once every real scores >= 1 and every fake <= -1.

    Raises:
        ValueError: non-float, scalar or mismatched logits.

    References:
        Lim & Ye 2017, https://arxiv.org/abs/1705.02894; Miyato et al. 2018,
        https://arxiv.org/abs/1802.05957, eq. 16.
    """
    real, fake = _pair(real_logits, fake_logits)
    return tf.reduce_mean(tf.nn.relu(1.0 - real)) + tf.reduce_mean(tf.nn.relu(1.0 + fake))


def hinge_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """Hinge generator loss ``-mean D(G(z))``.

    Args:
        fake_logits: float ``[batch, ...]``, raw D outputs on generated images.

    Returns:
        Scalar float32, any sign.

    Raises:
        ValueError: non-float or scalar logits.

    References:
        Miyato et al. 2018, https://arxiv.org/abs/1802.05957, eq. 17.
    """
    fake = _as_logits(fake_logits, "fake_logits")
    return -tf.reduce_mean(fake)


# Lipschitz constraints for a WGAN critic.


# Relativistic pairing GAN (RpGAN).
# Jolicoeur-Martineau 2019, "The relativistic discriminator: a key element missing from standard GAN",
# https://arxiv.org/abs/1807.00734, section 3 (RSGAN); Huang et al. 2025 (R3GAN), https://arxiv.org/abs/2501.05441.


def relativistic_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Relativistic pairing (RpGAN) critic loss ``mean[softplus(C(G(z)) - C(x))]``.

    Jolicoeur-Martineau 2019, section 3: the relativistic standard GAN's discriminator loss
    ``L_D = -E_{(x_r, x_f)}[log(sigmoid(C(x_r) - C(x_f)))]``, and ``-log sigmoid(t) = softplus(-t)``.
    The ``i``-th real example is paired with the ``i``-th generated one, so the two batches must have
    the same shape. The critic wins by scoring every real example above its partner.

    Example:
        >>> round(float(relativistic_discriminator_loss(tf.constant([1.0]), tf.constant([1.0]))), 4)  # log 2
        0.6931

    Args:
        real_logits: float ``[batch, ...]``, the critic's scores ``C(x)`` of real images (unbounded).
        fake_logits: float, the same shape, scores of generated images.

    Returns:
        Scalar float32 >= 0.

    Raises:
        ValueError: the shapes differ, a scalar, or integer logits.

    References:
        Jolicoeur-Martineau 2019, https://arxiv.org/abs/1807.00734, section 3, RSGAN.
    """
    real, fake = _pair(real_logits, fake_logits)
    return tf.reduce_mean(tf.math.softplus(fake - real))


def relativistic_generator_loss(fake_logits: tf.Tensor, real_logits: tf.Tensor) -> tf.Tensor:
    """Relativistic pairing (RpGAN) generator loss ``mean[softplus(C(x) - C(G(z)))]``, the critic's mirror.

    ``L_G = -E_{(x_r, x_f)}[log(sigmoid(C(x_f) - C(x_r)))]`` (Jolicoeur-Martineau 2019, section 3):
    the generator raises each generated example's score above its real partner's. Unlike the other
    generator losses it needs the real scores too; the train step passes them (the newest critic's
    scores of a real batch, see :func:`pairs_with_real`).

    Example:
        >>> round(float(relativistic_generator_loss(tf.constant([0.0]), tf.constant([0.0]))), 4)
        0.6931

    Args:
        fake_logits: float ``[batch, ...]``, scores of generated images.
        real_logits: float, the same shape, scores of real images.

    Returns:
        Scalar float32 >= 0.

    Raises:
        ValueError: the shapes differ, a scalar, or integer logits.

    References:
        Jolicoeur-Martineau 2019, https://arxiv.org/abs/1807.00734, section 3, RSGAN.
    """
    real, fake = _pair(real_logits, fake_logits)
    return tf.reduce_mean(tf.math.softplus(real - fake))


relativistic_generator_loss.pairs_with_real = True


class Readout(NamedTuple):
    """How a discriminator loss's outputs read as a real/fake classifier (the step's health signals).

    Attributes:
        threshold: outputs above it classify an image as real: 0 for a sigmoid's logit
            (``sigmoid(0) = 1/2``) and for the hinge loss (the midpoint of its margins -1 and 1),
            1/2 for the least-squares loss (the midpoint of its targets a = 0 and b = 1).
        certain: how far below ``threshold`` a generated image's output is rejected with
            certainty, or None where no such level exists: ``ln 99`` for a logit (``D(G(z)) < 0.01``,
            where the minimax generator loss's gradient ``-sigmoid(l)`` has vanished; Goodfellow et al.
            2014, section 3: "D can reject samples with high confidence ... log(1 - D(G(z))) saturates"),
            1 for the hinge loss (beyond the margin, ``D(G(z)) < -1``, the fake's hinge term is 0 and gives
            the discriminator no gradient).
    """

    threshold: float
    certain: float | None


minimax_discriminator_loss.readout = Readout(0.0, math.log(99.0))
least_squares_discriminator_loss.readout = Readout(0.5, None)
hinge_discriminator_loss.readout = Readout(0.0, 1.0)


def readout(discriminator_loss: Callable[..., tf.Tensor]) -> Readout | None:
    """The :class:`Readout` of a discriminator loss, or None for a critic (Wasserstein, relativistic).

    A critic's scores have no fixed decision level (only their difference on real and generated
    images is meaningful), so its health signal is the score gap instead. ``functools.partial``
    wrappers (label smoothing) and :func:`with_drift` are seen through.
    """
    while isinstance(discriminator_loss, functools.partial):
        discriminator_loss = discriminator_loss.func
    return getattr(discriminator_loss, "readout", None)


def pairs_with_real(generator_loss: Callable[..., tf.Tensor]) -> bool:
    """Whether a generator loss is called as ``loss(fake_logits, real_logits)`` (a relativistic one).

    Every other generator loss is ``loss(fake_logits)``. ``functools.partial`` wrappers are seen through.
    """
    while isinstance(generator_loss, functools.partial):
        generator_loss = generator_loss.func
    return bool(getattr(generator_loss, "pairs_with_real", False))


def gradient_penalty(
    critic: Callable[[tf.Tensor], tf.Tensor],
    real: tf.Tensor,
    fake: tf.Tensor,
    *,
    epsilon: float = 1e-12,
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """WGAN-GP gradient penalty ``mean[(||grad_x f(x_hat)||_2 - 1)^2]``.

    ``x_hat = u * x + (1 - u) * G(z)`` with one ``u ~ U(0, 1)`` per example;
    the norm runs over all non-batch axes, ``sqrt(sum(g^2) + epsilon)`` so the
    gradient of the norm stays finite at zero.

    Args:
        critic: callable mapping images ``[batch, ...]`` to scores ``[batch, ...]``
            (scores of a patch critic are summed per example before differentiation).
        real: float ``[batch, H, W, C]`` real images.
        fake: float, same shape, generated images.
        epsilon: added under the square root, ``>= 0``.
        seed: optional stateless seed, int32 ``[2]``; None draws from the global generator.

    Returns:
        Scalar float32, ``>= 0``. The caller multiplies it by lambda (paper: 10).

    Raises:
        ValueError: ``real`` and ``fake`` shapes differ, or they are scalars.

    References:
        Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
        https://arxiv.org/abs/1704.00028, algorithm 1.
    """
    real = tf.convert_to_tensor(real)
    fake = tf.convert_to_tensor(fake)
    if real.shape.rank is None or real.shape.rank < 1 or not real.shape.is_compatible_with(fake.shape):
        raise ValueError(
            "Expected real and fake images of the same shape [batch, ...]. "
            f"Received: real.shape={real.shape}, fake.shape={fake.shape}"
        )
    batch = tf.shape(real)[0]
    u_shape = tf.concat([[batch], tf.ones([real.shape.rank - 1], tf.int32)], axis=0)
    if seed is None:
        u = tf.random.uniform(u_shape, 0.0, 1.0, dtype=real.dtype)
    else:
        u = tf.random.stateless_uniform(u_shape, seed, 0.0, 1.0, dtype=real.dtype)
    x_hat = u * real + (1.0 - u) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    grads = tape.gradient(scores, x_hat)  # sums a patch critic's scores per example
    axes = list(range(1, real.shape.rank))
    norms = tf.sqrt(tf.reduce_sum(tf.square(tf.cast(grads, tf.float32)), axis=axes) + epsilon)
    return tf.reduce_mean(tf.square(norms - 1.0))


def squared_gradient_norm(critic: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor) -> tf.Tensor:
    """The zero-centred gradient penalty's expectation ``mean_i ||grad_x D(x_i)||_2^2`` at the given images.

    On real images it is the R1 penalty, on generated images the R2 penalty of Mescheder et al.
    2018 (section 4.1, eqs. 9 and 10: ``R1 = gamma/2 E_{p_D}[||grad D(x)||^2]``,
    ``R2 = gamma/2 E_{p_theta}[||grad D(x)||^2]``); the caller multiplies it by ``gamma / 2``.
    Unlike WGAN-GP's penalty it pulls the gradient towards 0, not 1, and it is evaluated at the
    data (or generated) points themselves, not at interpolates. The squared norm runs over all
    non-batch axes; a patch critic's scores are summed per example before differentiation.

    Example:
        >>> w = tf.constant([[3.0], [4.0]])
        >>> float(squared_gradient_norm(lambda x: x @ w, tf.ones([5, 2])))  # ||w||^2 for a linear critic
        25.0

    Args:
        critic: callable mapping images ``[batch, ...]`` to scores ``[batch, ...]``.
        x: float ``[batch, ...]``, the images at which the gradient is taken (real for R1, generated for R2).

    Returns:
        Scalar float32, ``>= 0``.

    Raises:
        ValueError: ``x`` is a scalar.

    References:
        Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?",
        https://arxiv.org/abs/1801.04406, section 4.1, eqs. 9 and 10.
    """
    x = tf.convert_to_tensor(x)
    if x.shape.rank is None or x.shape.rank < 1:
        raise ValueError(f"Expected images of shape [batch, ...]. Received: x.shape={x.shape}")
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = critic(x)
    grads = tf.cast(tape.gradient(scores, x), tf.float32)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=list(range(1, x.shape.rank))))


def clip_weights(variables, clip_value: float) -> None:
    """Clip every variable to ``[-clip_value, clip_value]`` in place (WGAN weight clipping).

    Called after every critic update. Works eagerly and inside ``tf.function``.

    Args:
        variables: the critic's trainable variables.
        clip_value: c > 0 (paper: 0.01).

    Raises:
        ValueError: ``clip_value <= 0``.

    References:
        Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875, algorithm 1, line 7.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive. Received: clip_value={clip_value}")
    for v in variables:
        v.assign(tf.clip_by_value(v, -clip_value, clip_value))


DISCRIMINATOR_LOSSES: dict[str, DiscriminatorLoss] = {
    "minimax": minimax_discriminator_loss,
    "least_squares": least_squares_discriminator_loss,
    "wasserstein": wasserstein_discriminator_loss,
    "hinge": hinge_discriminator_loss,
    "relativistic": relativistic_discriminator_loss,
}
GENERATOR_LOSSES: dict[str, GeneratorLoss] = {
    "minimax": minimax_generator_loss,
    "non_saturating": non_saturating_generator_loss,
    "least_squares": least_squares_generator_loss,
    "wasserstein": wasserstein_generator_loss,
    "hinge": hinge_generator_loss,
    "relativistic": relativistic_generator_loss,
}


def for_config(config: Any) -> tuple[DiscriminatorLoss, GeneratorLoss]:
    """The discriminator and generator losses that a config names, with its options applied.

    Looks ``config.discriminator_loss`` and ``config.generator_loss`` up in
    :data:`DISCRIMINATOR_LOSSES` and :data:`GENERATOR_LOSSES`; a ``real_label``
    below 1 (one-sided label smoothing) is bound to the minimax discriminator
    loss with ``functools.partial``. A train step calls the returned functions
    as ``discriminator_loss(real_logits, fake_logits)`` and ``generator_loss(fake_logits)``, or
    ``generator_loss(fake_logits, real_logits)`` for a relativistic one (:func:`pairs_with_real`).
    The critic's regularisers (``gp_weight``, ``drift_weight``) are not part of the loss: the
    step adds them as critic terms (:func:`ganlib.penalties.critic_terms`).

    Example:
        >>> from ganlib.config import get_config
        >>> d_loss, g_loss = for_config(get_config("dcgan", real_label=0.9))
        >>> d_loss.keywords, g_loss.__name__
        ({'real_label': 0.9}, 'non_saturating_generator_loss')

    Args:
        config: a :class:`ganlib.config.TrainConfig`, or any object with the
            attributes ``discriminator_loss``, ``generator_loss`` (names) and
            optionally ``real_label`` (default 1.0).

    Returns:
        ``(discriminator_loss, generator_loss)``.

    Raises:
        ValueError: an unknown loss name, ``real_label`` outside (0, 1], or
            ``real_label < 1`` with a discriminator loss other than ``"minimax"``
            (label smoothing is defined for the sigmoid cross-entropy; the least-squares
            loss has its own targets as keyword arguments, and the Wasserstein and
            hinge losses have no labels).

    References:
        Salimans et al. 2016, https://arxiv.org/abs/1606.03498, section 3.4.
    """
    d_name, g_name = config.discriminator_loss, config.generator_loss
    if d_name not in DISCRIMINATOR_LOSSES:
        raise ValueError(
            f"Unknown discriminator_loss: expected one of {', '.join(DISCRIMINATOR_LOSSES)}. "
            f"Received: discriminator_loss={d_name!r}"
        )
    if g_name not in GENERATOR_LOSSES:
        raise ValueError(
            f"Unknown generator_loss: expected one of {', '.join(GENERATOR_LOSSES)}. "
            f"Received: generator_loss={g_name!r}"
        )
    d_loss, g_loss = DISCRIMINATOR_LOSSES[d_name], GENERATOR_LOSSES[g_name]
    real_label = _check_real_label(getattr(config, "real_label", 1.0))
    if real_label != 1.0:
        if d_name != "minimax":
            raise ValueError(
                "real_label (one-sided label smoothing) applies to the minimax discriminator loss only. "
                f"Received: real_label={real_label}, discriminator_loss={d_name!r}"
            )
        d_loss = functools.partial(d_loss, real_label=real_label)
    return d_loss, g_loss


def with_drift(discriminator_loss: DiscriminatorLoss, drift_weight: float) -> DiscriminatorLoss:
    """A critic loss plus the drift term: ``L'(r, f) = L(r, f) + drift_weight * mean[r^2]`` (r: scores of real images).

    Example:
        >>> loss = with_drift(wasserstein_discriminator_loss, 0.001)
        >>> round(float(loss(tf.constant([2.0]), tf.constant([0.0]))), 3)  # -(2 - 0) + 0.001 * 4
        -1.996

    Args:
        discriminator_loss: ``f(real_logits, fake_logits) -> scalar``, in practice
            :func:`wasserstein_discriminator_loss`.
        drift_weight: epsilon_drift > 0 (Karras et al. 2018: 0.001).

    Returns:
        ``f(real_logits, fake_logits) -> scalar float32``.

    Raises:
        ValueError: ``drift_weight`` is not a positive number.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1.
    """
    if isinstance(drift_weight, bool) or not isinstance(drift_weight, (int, float)) or not drift_weight > 0:
        raise ValueError(f"drift_weight must be a positive number. Received: drift_weight={drift_weight!r}")

    def loss(real_logits, fake_logits):
        return discriminator_loss(real_logits, fake_logits) + drift_weight * drift_penalty(real_logits)

    loss.__name__ = f"{getattr(discriminator_loss, '__name__', 'loss')}_with_drift"
    loss.readout = readout(discriminator_loss)
    return loss
