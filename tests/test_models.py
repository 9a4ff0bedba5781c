from __future__ import annotations

import keras
import numpy as np
import pytest

from ganlib.models import build_critic, build_discriminator, build_generator


@pytest.mark.parametrize("latent_dim,filters", [(100, 64), (8, 4)])
def test_generator_shape_and_range(latent_dim, filters):
    g = build_generator(latent_dim, filters)
    assert g.input_shape == (None, latent_dim)
    x = g(keras.random.normal((3, latent_dim), seed=1) * 10.0, training=False).numpy()
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0  # tanh output


def test_discriminator_and_critic_output_one_logit():
    images = np.random.default_rng(0).uniform(-1, 1, (5, 28, 28, 1)).astype(np.float32)
    d = build_discriminator(8)
    c = build_critic(8)
    assert d(images).shape == (5, 1) and c(images).shape == (5, 1)
    bn = [layer for layer in d.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bn) == 1
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in c.layers)


def test_sizes_are_configurable():
    small, large = build_generator(16, 8), build_generator(16, 32)
    assert small.count_params() < large.count_params()


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"latent_dim": 2.5}, {"filters": -1}])
def test_invalid_sizes_raise(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer. Received"):
        build_generator(**kwargs)
