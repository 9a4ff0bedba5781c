"""Mixed precision on CPU: dtypes of weights, activations and outputs; a mixed step moves like a float32 step."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.train.state import build_gan


def _flat(model) -> np.ndarray:
    return np.concatenate([v.numpy().ravel() for v in model.trainable_variables])


def _one_step_update(config, precision: str, real: np.ndarray, z: np.ndarray):
    gan = build_gan(TrainConfig(**{**config.to_dict(), "precision": precision}))
    before = _flat(gan.generator), _flat(gan.discriminator)
    stats = gan.train_step()(tf.constant(real), tf.constant(z))
    return gan, stats, (_flat(gan.generator) - before[0], _flat(gan.discriminator) - before[1])


@pytest.mark.parametrize("precision,compute", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_mixed_step_moves_weights_like_float32_step(tiny_config, tiny_images, precision, compute):
    real = tiny_images[:16]
    z = np.random.default_rng(0).standard_normal((16, 1, tiny_config.latent_dim)).astype(np.float32)
    _, ref_stats, ref_update = _one_step_update(tiny_config, "float32", real, z)
    gan, stats, update = _one_step_update(tiny_config, precision, real, z)

    assert keras.config.dtype_policy().name == "float32"  # build_gan restores the global policy
    for key, value in stats.items():
        assert value.dtype == tf.float32 and np.isfinite(value.numpy()), key
    assert all(v.dtype == "float32" for v in gan.generator.weights + gan.discriminator.weights)
    hidden = [layer for layer in gan.generator.layers if layer.weights][0]
    assert hidden.compute_dtype == compute
    assert gan.generator(tf.zeros([2, tiny_config.latent_dim])).dtype == tf.float32
    assert gan.discriminator(tf.zeros([2, 28, 28, 1])).dtype == tf.float32
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) == (precision == "mixed_float16")
    # The losses agree to the precision of the compute dtype, and each network's weights moved in the
    # same direction as with float32 (Adam's first update is about -lr * sign(gradient) per weight).
    assert stats["d_loss"].numpy() == pytest.approx(ref_stats["d_loss"].numpy(), rel=0.05)
    assert stats["g_loss"].numpy() == pytest.approx(ref_stats["g_loss"].numpy(), rel=0.05)
    for mixed, ref in zip(update, ref_update):
        assert np.abs(mixed).max() > 0, "the mixed step did not move the weights (skipped by the loss scale?)"
        cosine = mixed @ ref / (np.linalg.norm(mixed) * np.linalg.norm(ref))
        assert cosine > 0.9, cosine


def test_unknown_precision_is_refused(tiny_config):
    with pytest.raises(ValueError, match="precision='float8'"):
        TrainConfig(**{**tiny_config.to_dict(), "precision": "float8"})
