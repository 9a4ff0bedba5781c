"""The train step: Algorithm 1 in closed form, shapes, finiteness, which network each update touches, seeding, presets."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import PRESETS, get_config
from ganlib.train.state import build_gan
from ganlib.train.step import make_train_step


def _weights(model):
    return [v.numpy().copy() for v in model.trainable_variables]


def _changed(before, model):
    return any(not np.array_equal(a, v.numpy()) for a, v in zip(before, model.trainable_variables))


def _step_for(gan, **kwargs):
    c = gan.config
    args = dict(discriminator_loss=L.DISCRIMINATOR_LOSSES[c.discriminator_loss],
                generator_loss=L.GENERATOR_LOSSES[c.generator_loss], latent_dim=c.latent_dim,
                n_critic=c.n_critic, clip_value=c.clip_value, gp_weight=c.gp_weight, noise=gan.noise)
    args.update(kwargs)
    return make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer, **args)


def test_step_returns_finite_scalars(tiny_config, tiny_images):
    gan = build_gan(tiny_config)
    stats = gan.train_step()(tf.constant(tiny_images[:16]))
    assert tuple(stats) == gan.stat_keys
    for key, value in stats.items():
        assert value.shape == () and np.isfinite(value.numpy()), key
    assert 0.0 < stats["d_real"].numpy() < 1.0 and 0.0 < stats["d_fake"].numpy() < 1.0


def test_discriminator_update_leaves_generator_unchanged_and_vice_versa(tiny_config, tiny_images):
    real = tf.constant(tiny_images[:16])
    # Only the discriminator's optimizer can move anything: the generator must stay as it was.
    gan = build_gan(tiny_config)
    gan.g_optimizer.learning_rate.assign(0.0)
    g_before, d_before = _weights(gan.generator), _weights(gan.discriminator)
    gan.train_step()(real)
    assert not _changed(g_before, gan.generator) and _changed(d_before, gan.discriminator)
    # Only the generator's optimizer can move anything: the discriminator must stay as it was.
    gan = build_gan(tiny_config)
    gan.d_optimizer.learning_rate.assign(0.0)
    g_before, d_before = _weights(gan.generator), _weights(gan.discriminator)
    gan.train_step()(real)
    assert _changed(g_before, gan.generator) and not _changed(d_before, gan.discriminator)


def test_each_optimizer_updates_only_its_network(tiny_config, tiny_images):
    gan = build_gan(get_config("wgan-gp", latent_dim=8, g_filters=8, d_filters=8, n_critic=3))
    gan.train_step()(tf.constant(tiny_images[:48]))
    assert int(gan.d_optimizer.iterations.numpy()) == 3 and int(gan.g_optimizer.iterations.numpy()) == 1
    g_ids = {id(v) for v in gan.generator.trainable_variables}
    d_ids = {id(v) for v in gan.discriminator.trainable_variables}
    assert not g_ids & d_ids


def test_noise_batch_follows_real_batch(tiny_config, tiny_images):
    gan = build_gan(tiny_config)
    step = gan.train_step()
    for n in (5, 16):
        assert np.isfinite(step(tf.constant(tiny_images[:n]))["g_loss"].numpy())


def test_clipped_critic_weights_stay_in_bounds(tiny_images):
    gan = build_gan(get_config("wgan", latent_dim=8, g_filters=8, d_filters=8, n_critic=2,
                               d_learning_rate=0.05))
    gan.train_step()(tf.constant(tiny_images[:32]))
    for v in gan.discriminator.trainable_variables:
        assert np.abs(v.numpy()).max() <= 0.01 + 1e-7, v.path


def test_gradient_penalty_is_reported(tiny_images):
    gan = build_gan(get_config("wgan-gp", latent_dim=8, g_filters=8, d_filters=8, n_critic=1))
    stats = gan.train_step()(tf.constant(tiny_images[:8]))
    assert stats["gradient_penalty"].numpy() > 0.0


@pytest.mark.parametrize(
    "preset,jit", [(p, False) for p in PRESETS] + [("wgan", True), ("wgan-gp", True)],
)
def test_every_preset_steps(preset, jit, tiny_images):
    # XLA is checked on the two presets whose steps add ops to the shared path (clipping, the penalty), with
    # n_critic=2: the critic updates are unrolled, and compiling five of them costs ~25 s for no more coverage.
    gan = build_gan(get_config(preset, latent_dim=8, g_filters=8, d_filters=8, **({"n_critic": 2} if jit else {})))
    real = tiny_images[: 8 * gan.config.n_critic]
    if gan.config.cyclegan:  # a batch of unpaired (thin, bold) images, the two domains on the channel axis
        real = np.concatenate([real, real], axis=-1)
    stats = gan.train_step(jit_compile=jit)(tf.constant(real))
    assert all(np.isfinite(v.numpy()) for v in stats.values()), (preset, jit, stats)


def test_same_optimizer_for_both_networks_is_refused(tiny_config):
    gan = build_gan(tiny_config)
    with pytest.raises(ValueError, match="one optimizer per network"):
        make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.g_optimizer,
                        discriminator_loss=L.minimax_discriminator_loss,
                        generator_loss=L.non_saturating_generator_loss, latent_dim=8)
    with pytest.raises(ValueError, match="n_critic=0"):
        _step_for(gan, n_critic=0)


def test_seed_fixes_weights_latents_and_noise(tiny_config, tiny_images):
    a, b = build_gan(tiny_config), build_gan(tiny_config)
    for x, y in zip(a.generator.weights + a.discriminator.weights, b.generator.weights + b.discriminator.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    np.testing.assert_array_equal(a.fixed_z.numpy(), b.fixed_z.numpy())
    real = tf.constant(tiny_images[:16])
    np.testing.assert_array_equal(a.train_step()(real)["g_loss"].numpy(), b.train_step()(real)["g_loss"].numpy())
    c = build_gan(tiny_config.__class__(**{**tiny_config.to_dict(), "seed": 1}))
    assert not np.array_equal(a.fixed_z.numpy(), c.fixed_z.numpy())
    assert not np.array_equal(build_gan(tiny_config).generator.weights[0].numpy(), c.generator.weights[0].numpy())


def test_discriminator_approaches_optimum_on_1d_toy():
    """With p_g fixed, minimising the minimax D loss drives D towards p_data / (p_data + p_g)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    disc = keras.Sequential([keras.Input((1,)), keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(1)])
    opt = keras.optimizers.Adam(1e-2)

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            loss = L.minimax_discriminator_loss(disc(real), disc(fake))
        opt.apply_gradients(zip(tape.gradient(loss, disc.trainable_variables), disc.trainable_variables))
        return loss

    for _ in range(600):
        step(rng.normal(1.0, 1.0, (256, 1)).astype(np.float32), rng.normal(-1.0, 1.0, (256, 1)).astype(np.float32))
    x = np.linspace(-2, 2, 9, dtype=np.float32)[:, None]
    p_data, p_g = np.exp(-0.5 * (x - 1) ** 2), np.exp(-0.5 * (x + 1) ** 2)
    d_star = p_data / (p_data + p_g)
    d = tf.sigmoid(disc(x)).numpy()
    assert np.abs(d - d_star).max() < 0.05, np.c_[x, d, d_star]


# Algorithm 1 in closed form: a bias-only generator G(z) = z + b, a linear critic D(x) = w . x, the
# Wasserstein losses and plain SGD. Then grad_w L_D = mean(fake) - mean(real) and grad_b L_G = -w, so every
# update can be written down in NumPy.


class _AddBias(keras.layers.Layer):
    def build(self, input_shape):
        self.b = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="b")

    def call(self, z):
        return z + self.b


def _linear_wgan(dim: int, w0: np.ndarray, b0: np.ndarray):
    g = keras.Sequential([keras.Input((dim,)), _AddBias()])
    d = keras.Sequential([keras.Input((dim,)), keras.layers.Dense(1, use_bias=False)])
    g.set_weights([b0])
    d.set_weights([w0[:, None]])
    return g, d


@pytest.mark.parametrize("clip_value", [None, 0.5])
def test_alternating_step_is_algorithm_1_in_closed_form(clip_value):
    dim, batch, n_critic, lr_d, lr_g = 3, 4, 2, 0.1, 0.05
    rng = np.random.default_rng(0)
    w0 = np.array([1.0, -0.2, 0.3], np.float32)  # |w0[0]| > 0.5: clipped before the first update
    b0 = np.array([0.1, 0.2, -0.3], np.float32)
    real = rng.normal(2.0, 1.0, (n_critic * batch, dim)).astype(np.float32)
    z = rng.normal(0.0, 1.0, (batch, n_critic + 1, dim)).astype(np.float32)
    g, d = _linear_wgan(dim, w0, b0)
    step = make_train_step(g, d, keras.optimizers.SGD(lr_g), keras.optimizers.SGD(lr_d),
                           discriminator_loss=L.wasserstein_discriminator_loss,
                           generator_loss=L.wasserstein_generator_loss, latent_dim=dim, n_critic=n_critic,
                           clip_value=clip_value)
    step(tf.constant(real), tf.constant(z))

    clip = (lambda w: np.clip(w, -clip_value, clip_value)) if clip_value else (lambda w: w)
    w = clip(w0)  # the reference WGAN code clamps before each critic iteration, the first one included
    for i in range(n_critic):  # each critic update on its own real batch and its own noise
        fake_mean = (z[:, i] + b0).mean(axis=0)
        w = clip(w - lr_d * (fake_mean - real[i::n_critic].mean(axis=0)))  # rows i, i + n_critic, ...
    b = b0 + lr_g * w  # the generator sees the critic after its last update
    np.testing.assert_allclose(d.get_weights()[0][:, 0], w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.get_weights()[0], b, rtol=1e-5, atol=1e-6)
    # A generator updated from a forward pass before the last critic update would have seen another critic.
    w_before_last = clip(clip(w0) - lr_d * ((z[:, 0] + b0).mean(0) - real[0::n_critic].mean(0)))
    assert not np.allclose(g.get_weights()[0], b0 + lr_g * w_before_last, atol=1e-4)


def test_simultaneous_step_takes_both_gradients_at_the_same_parameters():
    dim, batch, lr_d, lr_g = 3, 4, 0.1, 0.05
    rng = np.random.default_rng(1)
    w0, b0 = rng.normal(size=dim).astype(np.float32), rng.normal(size=dim).astype(np.float32)
    real = rng.normal(2.0, 1.0, (batch, dim)).astype(np.float32)
    z = rng.normal(0.0, 1.0, (batch, 1, dim)).astype(np.float32)
    g, d = _linear_wgan(dim, w0, b0)
    step = make_train_step(g, d, keras.optimizers.SGD(lr_g), keras.optimizers.SGD(lr_d),
                           discriminator_loss=L.wasserstein_discriminator_loss,
                           generator_loss=L.wasserstein_generator_loss, latent_dim=dim, simultaneous=True)
    step(tf.constant(real), tf.constant(z))
    np.testing.assert_allclose(d.get_weights()[0][:, 0], w0 - lr_d * ((z[:, 0] + b0).mean(0) - real.mean(0)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.get_weights()[0], b0 + lr_g * w0, rtol=1e-5, atol=1e-6)  # the critic before its update


def test_step_refuses_bad_shapes_and_combinations(tiny_config, tiny_images):
    gan = build_gan(get_config("wgan-gp", latent_dim=8, g_filters=8, d_filters=8, n_critic=3))
    with pytest.raises(ValueError, match=r"n_critic=3 real batches .* Received: real.shape\[0\]=16"):
        gan.train_step()(tf.constant(tiny_images[:16]))
    with pytest.raises(ValueError, match="expected n_critic=1. Received: n_critic=3"):
        _step_for(gan, simultaneous=True)
    with pytest.raises(ValueError, match="unconditional networks"):
        build_gan(tiny_config).train_step()(tf.constant(tiny_images[:16]), labels=tf.zeros([16], tf.int32))
