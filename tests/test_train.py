"""The train step: shapes, finiteness, which network each update touches, seeding, presets."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib.config import PRESETS, get_config
from ganlib.train import STEP_KEYS, build_gan, make_train_step


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
    assert set(stats) == set(STEP_KEYS)
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
    gan.train_step()(tf.constant(tiny_images[:16]))
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
    gan.train_step()(tf.constant(tiny_images[:16]))
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
    # XLA is checked on the two presets whose steps add ops to the shared path (clipping, the penalty).
    gan = build_gan(get_config(preset, latent_dim=8, g_filters=8, d_filters=8))
    stats = gan.train_step(jit_compile=jit)(tf.constant(tiny_images[:8]))
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
