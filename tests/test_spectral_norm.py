"""Spectral normalization: the critic's kernels after training steps; Keras's layer against the power iteration."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import get_config
from ganlib.models import build_discriminator, build_generator, largest_singular_values, power_iteration
from ganlib.train.step import make_train_step


@pytest.fixture
def eager():
    # Tracing the train step costs several times more than a few eager steps of these tiny networks;
    # the step's Python (the critic called with training=True) runs the same either way.
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def _train(discriminator, images, steps: int) -> None:
    generator = build_generator(8, 8)
    step = make_train_step(
        generator, discriminator, keras.optimizers.Adam(2e-4, 0.5, 0.999), keras.optimizers.Adam(2e-4, 0.5, 0.999),
        discriminator_loss=L.hinge_discriminator_loss, generator_loss=L.hinge_generator_loss, latent_dim=8,
        noise=tf.random.Generator.from_seed(0),
    )
    for _ in range(steps):
        step(tf.constant(images))


def test_every_critic_kernel_has_largest_singular_value_near_one_after_training(tiny_images, eager):
    keras.utils.set_random_seed(0)
    critic = build_discriminator(8, batch_norm=False, spectral_norm=True, name="critic")
    before = largest_singular_values(critic)
    assert len(before) == 3  # both convolutions and the dense logit
    assert max(abs(s - 1) for s in before.values()) > 0.2  # Glorot-initialised kernels are not normalised
    _train(critic, tiny_images[:16], steps=5)
    # The SVD of the stored kernels: the last update of Adam(2e-4) moved them after the last normalisation.
    after = largest_singular_values(critic)
    assert all(abs(s - 1) < 0.03 for s in after.values()), after
    assert largest_singular_values(build_discriminator(8, batch_norm=False)) == {}


def test_keras_layer_normalises_only_in_training_mode_and_matches_power_iteration(tiny_images):
    keras.utils.set_random_seed(1)
    critic = build_discriminator(8, batch_norm=False, spectral_norm=True)
    layer = next(la for la in critic.layers if isinstance(la, keras.layers.SpectralNormalization))
    w0, u0 = layer.kernel.numpy().copy(), layer.vector_u.numpy().copy()
    critic(tiny_images[:4], training=False)
    np.testing.assert_array_equal(layer.kernel.numpy(), w0)  # inference: the stored kernel, untouched
    critic(tiny_images[:4], training=True)
    sigma, u, _ = power_iteration(w0, u0, iterations=1)
    # One call = one power iteration from the stored u, then the kernel is *assigned* W / sigma.
    np.testing.assert_allclose(layer.kernel.numpy(), w0 / sigma, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layer.vector_u.numpy(), u, rtol=1e-5, atol=1e-7)


def test_power_iteration_converges_to_the_largest_singular_value():
    w = np.random.default_rng(0).normal(size=(4, 4, 3, 5))  # a conv kernel [kh, kw, c_in, c_out]
    top = np.linalg.svd(w.reshape(-1, 5), compute_uv=False)[0]
    one, u, v = power_iteration(w, iterations=1)
    assert one <= top + 1e-9 and u.shape == (1, 5) and v.shape == (1, 48)
    assert np.isclose(np.linalg.norm(u), 1) and np.isclose(np.linalg.norm(v), 1)
    np.testing.assert_allclose(power_iteration(w, iterations=200)[0], top, rtol=1e-8)
    with pytest.raises(ValueError, match="rank >= 2"):
        power_iteration(np.ones(3))
    with pytest.raises(ValueError, match="u.shape"):
        power_iteration(w, np.ones(4))
    with pytest.raises(ValueError, match="iterations=0"):
        power_iteration(w, iterations=0)


def test_spectral_norm_excludes_batch_norm():
    with pytest.raises(ValueError, match="batch_norm=True, spectral_norm=True"):
        build_discriminator(8, spectral_norm=True)
    with pytest.raises(ValueError, match="d_batch_norm"):
        get_config("dcgan", spectral_norm=True)
    with pytest.raises(ValueError, match="spectral_norm must be True or False"):
        get_config("dcgan", spectral_norm=1, d_batch_norm=False)


def test_sngan_preset():
    c = get_config("sngan")
    assert (c.discriminator_loss, c.generator_loss, c.spectral_norm, c.d_batch_norm) == ("hinge", "hinge", True, False)
    critic = build_discriminator(c.d_filters, batch_norm=c.d_batch_norm, spectral_norm=c.spectral_norm)
    assert not any(isinstance(la, keras.layers.BatchNormalization) for la in critic.layers)
