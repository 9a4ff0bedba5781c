"""The step's training-health signals: closed forms on given outputs, gradient norms against a direct tape."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import get_config
from ganlib.train import health
from ganlib.train.state import build_gan
from ganlib.train.step import make_train_step, step_keys


def test_classifier_signals_of_the_minimax_loss():
    real = tf.constant([1.0, -1.0, 2.0, 3.0])
    fake = tf.constant([-5.0, -4.0, 1.0, -10.0])
    signals = {k: float(v) for k, v in health.output_signals(L.minimax_discriminator_loss, real, fake).items()}
    # 3 of 4 reals above 0, 3 of 4 fakes below 0; fakes below -ln 99 (D(G(z)) < 0.01): -5 and -10.
    assert signals == pytest.approx({"d_acc_real": 0.75, "d_acc_fake": 0.75, "d_saturated": 0.5})
    assert 1 / (1 + math.exp(5.0)) < 0.01 < 1 / (1 + math.exp(4.0))


def test_signals_follow_each_loss_readout():
    real, fake = tf.constant([0.4, 0.6, 2.0, 1.5]), tf.constant([0.2, 0.7, -1.5, -0.5])
    ls = health.output_signals(L.least_squares_discriminator_loss, real, fake)
    assert {k: float(v) for k, v in ls.items()} == pytest.approx({"d_acc_real": 0.75, "d_acc_fake": 0.75})
    hinge = health.output_signals(L.hinge_discriminator_loss, real, fake)
    assert float(hinge["d_saturated"]) == pytest.approx(0.25)  # only -1.5 is beyond the margin
    critic = health.output_signals(L.wasserstein_discriminator_loss, real, fake)
    assert set(critic) == {"score_gap"} and float(critic["score_gap"]) == pytest.approx(1.125 - (-0.275))
    # Label smoothing (a partial) and the drift wrapper keep the loss's readout.
    smoothed = L.for_config(get_config("dcgan", real_label=0.9))[0]
    assert health.signal_keys(smoothed) == health.signal_keys(L.minimax_discriminator_loss)
    assert health.signal_keys(L.with_drift(L.wasserstein_discriminator_loss, 0.001)) == (
        "g_grad_norm", "d_grad_norm", "score_gap")


def test_gradient_norm_divides_out_replicas_and_loss_scale():
    grads = [tf.constant([3.0]), None, tf.constant([[4.0]])]
    assert float(health.gradient_norm(grads, keras.optimizers.Adam(), 1)) == pytest.approx(5.0)
    assert float(health.gradient_norm([g / 2 if g is not None else None for g in grads],
                                      keras.optimizers.Adam(), 2)) == pytest.approx(5.0)
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam())
    scaled.build([keras.Variable(0.0)])  # the dynamic scale is made when the optimizer is built
    scale = float(scaled.dynamic_scale)
    assert scale > 1
    assert float(health.gradient_norm([g * scale if g is not None else None for g in grads], scaled, 1)) == (
        pytest.approx(5.0))


@pytest.mark.parametrize("simultaneous", [True, False])
def test_step_gradient_norms_equal_a_direct_tape(tiny_config, tiny_images, simultaneous):
    """With both learning rates 0 the networks do not move, so a tape on the same z gives the same gradients."""
    gan = build_gan(tiny_config)
    gan.g_optimizer.learning_rate.assign(0.0)
    gan.d_optimizer.learning_rate.assign(0.0)
    real = tf.constant(tiny_images[:16])
    rng = np.random.default_rng(0)
    z = tf.constant(rng.normal(size=[16, 1 if simultaneous else 2, tiny_config.latent_dim]), tf.float32)
    step = make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer,
                           discriminator_loss=L.minimax_discriminator_loss,
                           generator_loss=L.non_saturating_generator_loss, latent_dim=tiny_config.latent_dim,
                           simultaneous=simultaneous)
    stats = step(real, z)
    assert tuple(stats) == step_keys(L.minimax_discriminator_loss)

    with tf.GradientTape() as tape:
        real_logits = gan.discriminator(real, training=True)
        fake_logits = gan.discriminator(gan.generator(z[:, 0], training=True), training=True)
        d_loss = L.minimax_discriminator_loss(real_logits, fake_logits)
    d_norm = tf.linalg.global_norm(tape.gradient(d_loss, gan.discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        fake = gan.generator(z[:, 0 if simultaneous else 1], training=True)
        g_loss = L.non_saturating_generator_loss(gan.discriminator(fake, training=True))
    g_norm = tf.linalg.global_norm(tape.gradient(g_loss, gan.generator.trainable_variables))
    assert float(stats["d_grad_norm"]) == pytest.approx(float(d_norm), rel=1e-4)
    assert float(stats["g_grad_norm"]) == pytest.approx(float(g_norm), rel=1e-4)
    assert float(stats["d_grad_norm"]) > 0 and float(stats["g_grad_norm"]) > 0
    expected = health.output_signals(L.minimax_discriminator_loss, real_logits, fake_logits)
    for key, value in expected.items():
        assert float(stats[key]) == pytest.approx(float(value), abs=1e-6), key


def test_critic_runs_report_the_score_gap(tiny_images):
    gan = build_gan(get_config("wgan-gp", latent_dim=8, g_filters=8, d_filters=8, n_critic=2))
    stats = gan.train_step()(tf.constant(tiny_images[:32]))
    assert tuple(stats) == gan.stat_keys and "score_gap" in stats and "d_acc_real" not in stats
    assert float(stats["score_gap"]) == pytest.approx(float(stats["real_score"] - stats["fake_score"]), abs=1e-5)
