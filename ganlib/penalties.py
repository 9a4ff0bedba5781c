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
gradient penalty and ``drift_weight`` > 0 the drift term. A new regulariser is a function
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
    """

    name: str
    weight: float
    fn: TermFunction

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"A critic term's name must be an identifier. Received: name={self.name!r}")
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not self.weight > 0:
            raise ValueError(f"A critic term's weight must be a positive number. Received: weight={self.weight!r}")


def _gradient_penalty(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.gradient_penalty(critic, real, fake, seed=rng.make_seeds(1)[:, 0])


def _drift(critic, real, fake, real_logits, fake_logits, rng: tf.random.Generator) -> tf.Tensor:
    return L.drift_penalty(real_logits)


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
        ``gradient_penalty`` when ``config.gp_weight`` > 0, then ``drift`` when ``config.drift_weight`` > 0.
    """
    terms = []
    if getattr(config, "gp_weight", 0.0):
        terms.append(gradient_penalty_term(config.gp_weight))
    if getattr(config, "drift_weight", 0.0):
        terms.append(drift_term(config.drift_weight))
    return tuple(terms)


__all__ = ["CriticTerm", "critic_terms", "drift_term", "gradient_penalty_term"]
