"""Critic terms (gradient penalty, drift, R1, R2, lazy regularisation) and the relativistic loss, in closed form.

The closed forms use the linear pair of tests/test_step.py: a bias-only generator ``G(z) = z + b`` and a linear
critic ``D(x) = w . x``, for which ``grad_x D(x) = w`` at every point, so ``R1 = R2 = ||w||^2``, and every update of
plain SGD can be written down in NumPy.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib import penalties as P
from ganlib.config import get_config
from ganlib.train.callbacks import Callback
from ganlib.train.step import make_train_step
from test_step import _linear_wgan


def _sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def _softplus(t):
    return np.log1p(np.exp(t))


def test_relativistic_losses_are_the_paired_softplus():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(6, 1)).astype(np.float32), rng.normal(size=(6, 1)).astype(np.float32)
    np.testing.assert_allclose(L.relativistic_discriminator_loss(real, fake), _softplus(fake - real).mean(), rtol=1e-6)
    np.testing.assert_allclose(L.relativistic_generator_loss(fake, real), _softplus(real - fake).mean(), rtol=1e-6)
    # Shifting every score by the same constant changes nothing: only differences count.
    np.testing.assert_allclose(L.relativistic_discriminator_loss(real + 5, fake + 5),
                               L.relativistic_discriminator_loss(real, fake), rtol=1e-6)
    assert L.pairs_with_real(L.relativistic_generator_loss)
    assert L.pairs_with_real(functools.partial(L.relativistic_generator_loss))
    assert not L.pairs_with_real(L.non_saturating_generator_loss)
    with pytest.raises(ValueError, match="same shape"):
        L.relativistic_discriminator_loss(real, fake[:3])


def test_squared_gradient_norm_of_a_linear_critic_is_its_squared_weight_norm():
    w = np.array([[3.0], [-1.0], [2.0]], np.float32)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(L.squared_gradient_norm(lambda v: v @ w, x), 14.0, rtol=1e-6)
    # A quadratic critic D(x) = sum x^2: grad = 2x, so the mean squared norm is 4 mean ||x||^2.
    np.testing.assert_allclose(L.squared_gradient_norm(lambda v: tf.reduce_sum(v ** 2, axis=1), x),
                               4 * (x ** 2).sum(axis=1).mean(), rtol=1e-5)


def test_critic_terms_follow_the_config():
    assert P.critic_terms(get_config("dcgan")) == ()
    terms = P.critic_terms(get_config("dcgan", d_batch_norm=False, r1_gamma=10.0, r2_gamma=4.0, reg_interval=16))
    assert [(t.name, t.weight, t.every) for t in terms] == [("r1", 5.0, 16), ("r2", 2.0, 16)]
    assert [t.name for t in P.critic_terms(get_config("wgan-gp"))] == ["gradient_penalty"]
    with pytest.raises(ValueError, match="r1_gamma.*d_batch_norm=False.*Received: r1_gamma=1.0, d_batch_norm=True"):
        get_config("dcgan", r1_gamma=1.0)
    with pytest.raises(ValueError, match=r"reg_interval must be a positive integer \(1: every critic update\). Received: reg_interval=0"):
        get_config("dcgan", reg_interval=0)
    with pytest.raises(ValueError, match="interval must be a positive integer"):
        P.CriticTerm("r1", 1.0, lambda *a: 0.0, every=0)


def _linear_rpgan(seed: int, terms, lr_d: float, lr_g: float, dim: int = 3):
    """The linear pair with the relativistic losses, plain SGD and ``terms``: (step, w, b, rng), w and b float64."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=dim).astype(np.float32), rng.normal(size=dim).astype(np.float32)
    g, d = _linear_wgan(dim, w, b)
    step = make_train_step(g, d, keras.optimizers.SGD(lr_g), keras.optimizers.SGD(lr_d),
                           discriminator_loss=L.relativistic_discriminator_loss,
                           generator_loss=L.relativistic_generator_loss, latent_dim=dim, critic_terms=terms)
    return g, d, step, w.astype(np.float64), b.astype(np.float64), rng


def test_relativistic_step_with_r1_and_r2_in_closed_form():
    """RpGAN + R1 + R2 in every critic update: two alternating steps of SGD, written out in NumPy."""
    dim, batch, lr_d, lr_g, gamma1, gamma2 = 3, 4, 0.1, 0.05, 2.0, 0.5
    g, d, step, w, b, rng = _linear_rpgan(2, (P.r1_term(gamma1), P.r2_term(gamma2)), lr_d, lr_g, dim)
    for _ in range(2):
        real = rng.normal(2.0, 1.0, (batch, dim)).astype(np.float32)
        z = rng.normal(0.0, 1.0, (batch, 2, dim)).astype(np.float32)
        stats = step(tf.constant(real), tf.constant(z))
        # Critic: L_D = mean softplus(w . (fake - real)) + gamma1/2 ||w||^2 + gamma2/2 ||w||^2 (R1 = R2 = ||w||^2).
        diff = z[:, 0] + b - real  # fake_j - real_j, paired
        grad_w = (_sigmoid(diff @ w)[:, None] * diff).mean(axis=0) + (gamma1 + gamma2) * w
        np.testing.assert_allclose([float(stats["r1"]), float(stats["r2"])], [w @ w, w @ w], rtol=1e-5)
        np.testing.assert_allclose(float(stats["d_loss"]), _softplus(diff @ w).mean(), rtol=1e-5)
        w = w - lr_d * grad_w
        # Generator, against the newest critic and its scores of the same real batch:
        # L_G = mean softplus(w . (real - fake)), d/db = -mean sigmoid(w . (real - fake)) * w.
        u = (real - (z[:, 1] + b)) @ w
        np.testing.assert_allclose(float(stats["g_loss"]), _softplus(u).mean(), rtol=1e-5)
        b = b + lr_g * _sigmoid(u).mean() * w
        np.testing.assert_allclose(d.get_weights()[0][:, 0], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g.get_weights()[0], b, rtol=1e-5, atol=1e-6)


def test_lazy_r1_and_r2_are_separate_critic_updates_every_k_steps_in_closed_form():
    """reg_interval 2: on steps 0, 2, ... (generator updates made) R1, then R2, each its own SGD update of
    gamma/2 * k * ||w||^2 after the step's critic update; on the other steps none, and their statistics are 0."""
    dim, batch, lr_d, lr_g, gamma1, gamma2, every = 3, 4, 0.1, 0.05, 2.0, 0.5, 2
    g, d, step, w, b, rng = _linear_rpgan(4, (P.r1_term(gamma1, every), P.r2_term(gamma2, every)), lr_d, lr_g, dim)
    for call in range(3):
        real = rng.normal(2.0, 1.0, (batch, dim)).astype(np.float32)
        z = rng.normal(0.0, 1.0, (batch, 2, dim)).astype(np.float32)
        stats = step(tf.constant(real), tf.constant(z))
        diff = z[:, 0] + b - real
        w = w - lr_d * (_sigmoid(diff @ w)[:, None] * diff).mean(axis=0)  # the loss alone
        if call % every == 0:
            r1 = w @ w
            w = w - lr_d * gamma1 * every * w  # d/dw of gamma1/2 * every * ||w||^2
            r2 = w @ w
            w = w - lr_d * gamma2 * every * w
        else:
            r1 = r2 = 0.0
        np.testing.assert_allclose([float(stats["r1"]), float(stats["r2"])], [r1, r2], rtol=1e-5, atol=1e-7)
        u = (real - (z[:, 1] + b)) @ w  # the generator sees the critic after its regularisation
        b = b + lr_g * _sigmoid(u).mean() * w
        np.testing.assert_allclose(d.get_weights()[0][:, 0], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g.get_weights()[0], b, rtol=1e-5, atol=1e-6)


def test_the_loop_trains_the_relativistic_recipe_and_reports_its_terms(tmp_path):
    from ganlib.train.loop import train_loop

    config = get_config("dcgan", discriminator_loss="relativistic", generator_loss="relativistic", d_batch_norm=False,
                        r1_gamma=1.0, r2_gamma=1.0, reg_interval=2, batch_size=8, latent_dim=8, g_filters=8,
                        d_filters=8, num_samples=4, eval_every=0, epochs=1)
    images = np.random.default_rng(3).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    steps = []

    class Record(Callback):
        def on_step_end(self, gan, step, stats):
            steps.append(stats)

    history = train_loop(config, tmp_path / "run", images=images, progress=False, callbacks=[Record()])
    assert [s["r1"] > 0 for s in steps] == [s["r2"] > 0 for s in steps] == [True, False, True, False]  # lazy: 0, 2
    assert np.isfinite(history[-1]["g_loss"])
    np.testing.assert_allclose(history[-1]["r1"], np.mean([s["r1"] for s in steps]), rtol=1e-5)
