"""Critic terms: the regularisers added to the discriminator's (critic's) loss, as data for the train step.

A :class:`CriticTerm` is a name, a weight and a function; the train step
(:func:`ganlib.train.step.make_train_step`) adds ``weight * value`` of every term to the
critic's loss before differentiating it, and reports each term's value under its name
in the step's statistics (so ``steps.csv`` and ``history.csv`` get one column per term).
A term's function is called inside the critic's tape as::

    fn(critic, real, fake, real_logits, fake_logits, rng) -> scalar float32

with ``critic(x)`` the critic's scores of images ``x`` (labels bound for a conditional
critic), ``real``/``fake`` the images of this critic update, their scores, and the run's
``tf.random.Generator`` (for any randomness the term needs).

:func:`critic_terms` makes the terms a config asks for: ``gp_weight`` > 0 gives the
gradient penalty, ``drift_weight`` > 0 the drift term, ``r1_gamma`` and ``r2_gamma`` > 0 the
zero-centred R1 and R2 penalties (lazily, every ``reg_interval`` critic updates). A new regulariser is a function
here and a config field; the step does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import tensorflow as tf

from ganlib import losses as L

TermFunction = Callable[..., tf.Tensor]


@dataclass(frozen=True)
class CriticTerm:
    """A regulariser of the critic's loss: ``loss += weight * fn(...)``, reported as ``name``.

    Attributes:
        name: the key of its value in the step's statistics (a CSV column name).
        weight: its weight, > 0.
        fn: ``fn(critic, real, fake, real_logits, fake_logits, rng) -> scalar`` (see the module docstring).
        every: lazy regularisation, >= 1: with ``every`` > 1 the term is computed on every
            ``every``-th step only (those where the generator's optimizer has made a multiple of
            ``every`` updates), as a separate critic update of ``weight * every * term``, so that its
            average weight stays ``weight`` (Karras et al. 2020, section 3.1). Its statistic is the
            term's value on the steps that compute it and 0 on the others. A lazy term's function is
            called with ``real_logits = fake_logits = None``: it must compute what it needs itself.
    """

    name: str
    weight: float
    fn: TermFunction
    every: int = 1

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"A critic term's name must be an identifier. Received: name={self.name!r}")
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not self.weight > 0:
            raise ValueError(f"A critic term's weight must be a positive number. Received: weight={self.weight!r}")
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"A critic term's interval must be a positive integer. Received: every={self.every!r}")


def _gradient_penalty(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.gradient_penalty(critic, real, fake, seed=rng.make_seeds(1)[:, 0])


def _drift(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.drift_penalty(real_logits)


def _r1(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.squared_gradient_norm(critic, real)


def _r2(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.squared_gradient_norm(critic, tf.stop_gradient(fake))


def r1_term(gamma: float, every: int = 1) -> CriticTerm:
    """The R1 penalty ``(gamma / 2) * E_{x ~ p_data}[||grad_x D(x)||^2]``, reported as ``r1`` (the expectation).

    Zero-centred, on real images: near the equilibrium it stops the discriminator from creating a
    gradient off the data manifold, which makes simultaneous and alternating gradient descent
    converge locally (Mescheder et al. 2018, section 4.1, theorem 4.1).

    Args:
        gamma: > 0.
        every: lazy regularisation interval, >= 1 (see :class:`CriticTerm`).

    References:
        Mescheder et al. 2018, https://arxiv.org/abs/1801.04406, eq. 9; Karras et al. 2020,
        https://arxiv.org/abs/1912.04958, section 3.1 (lazy regularisation).
    """
    return CriticTerm("r1", gamma / 2.0, _r1, every)


def r2_term(gamma: float, every: int = 1) -> CriticTerm:
    """The R2 penalty ``(gamma / 2) * E_{x ~ p_G}[||grad_x D(x)||^2]`` on generated images, reported as ``r2``.

    The generated images are constants for this term (the critic's gradient, not the generator's).
    R3GAN pairs R1 and R2 with the relativistic loss (Huang et al. 2025, section 2).

    Args:
        gamma: > 0.
        every: lazy regularisation interval, >= 1 (see :class:`CriticTerm`).

    References:
        Mescheder et al. 2018, https://arxiv.org/abs/1801.04406, eq. 10; Huang et al. 2025,
        https://arxiv.org/abs/2501.05441.
    """
    return CriticTerm("r2", gamma / 2.0, _r2, every)


def gradient_penalty_term(weight: float) -> CriticTerm:
    """WGAN-GP's two-sided penalty ``lambda * E[(||grad D(x_hat)||_2 - 1)^2]`` (:func:`ganlib.losses.gradient_penalty`).

    ``x_hat = eps * x + (1 - eps) * G(z)``, ``eps ~ U(0, 1)`` per example, drawn from the run's noise generator.

    References:
        Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028, algorithm 1 (lambda = 10).
    """
    return CriticTerm("gradient_penalty", weight, _gradient_penalty)


def drift_term(weight: float) -> CriticTerm:
    """The progressive GAN's drift term ``epsilon_drift * E[D(x)^2]`` on real scores (:func:`ganlib.losses.drift_penalty`).

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1 (epsilon_drift = 0.001).
    """
    return CriticTerm("drift", weight, _drift)


def critic_terms(config: Any) -> tuple[CriticTerm, ...]:
    """The critic terms a config asks for, in the order the step adds them.

    Args:
        config: a :class:`ganlib.config.TrainConfig` or any object with ``gp_weight`` and
            (optionally) ``drift_weight``.

    Returns:
        ``gradient_penalty`` when ``config.gp_weight`` > 0, then ``drift`` when ``config.drift_weight`` > 0,
        then ``r1`` and ``r2`` when ``config.r1_gamma`` / ``config.r2_gamma`` > 0 (every
        ``config.reg_interval`` critic updates).
    """
    terms = []
    if getattr(config, "gp_weight", 0.0):
        terms.append(gradient_penalty_term(config.gp_weight))
    if getattr(config, "drift_weight", 0.0):
        terms.append(drift_term(config.drift_weight))
    every = getattr(config, "reg_interval", 1)
    if getattr(config, "r1_gamma", 0.0):
        terms.append(r1_term(config.r1_gamma, every))
    if getattr(config, "r2_gamma", 0.0):
        terms.append(r2_term(config.r2_gamma, every))
    return tuple(terms)


__all__ = ["CriticTerm", "critic_terms", "drift_term", "gradient_penalty_term", "r1_term", "r2_term"]
