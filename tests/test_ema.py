"""Generator EMA: the update rule, batch-norm statistics included; checkpointed and exactly resumed; used for samples."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.train.state import build_gan, load_run
from ganlib.train import train


def _with(config: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**config.to_dict(), **changes})


def test_ema_update_is_the_moving_average_of_every_generator_weight(tiny_config, tiny_images):
    decay = 0.9
    gan = build_gan(_with(tiny_config, ema=decay))
    before = [w.numpy().copy() for w in gan.ema_generator.weights]
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, gan.generator.weights))  # starts equal
    gan.train_step()(tf.constant(tiny_images[:16]))
    names = [w.path for w in gan.generator.weights]
    assert any("moving_mean" in n for n in names)  # batch-norm statistics are among the averaged weights
    for e0, w1, e1 in zip(before, gan.generator.weights, gan.ema_generator.weights):
        np.testing.assert_allclose(e1.numpy(), decay * e0 + (1 - decay) * w1.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(gan.generator.weights[0].numpy(), gan.ema_generator.weights[0].numpy())


def test_samples_come_from_the_averaged_generator(tiny_config):
    gan = build_gan(_with(tiny_config, ema=0.5))
    gan.ema_generator.weights[0].assign(gan.ema_generator.weights[0] * 0.0)
    z = gan.fixed_z.numpy()
    np.testing.assert_allclose(gan.generate(z), gan.ema_generator(z, training=False).numpy(), atol=1e-6)
    assert not np.allclose(gan.generate(z), gan.generate(z, averaged=False))
    assert "EMA" in gan.sample_source and build_gan(tiny_config).ema_generator is None


def test_ema_run_resumes_exactly(tmp_path, tiny_config, tiny_images):
    config = _with(tiny_config, ema=0.9)
    train(config, tmp_path / "straight", images=tiny_images, progress=False)
    train(_with(config, epochs=1), tmp_path / "split", images=tiny_images, progress=False)
    train(config, tmp_path / "split", images=tiny_images, progress=False)
    a, _ = load_run(tmp_path / "straight")
    b, _ = load_run(tmp_path / "split")
    assert a.ema_generator is not None
    for x, y in zip(a.ema_generator.weights + a.generator.weights, b.ema_generator.weights + b.generator.weights):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=0, atol=1e-6)
    assert not np.allclose(a.ema_generator.weights[0].numpy(), a.generator.weights[0].numpy())


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_ema_decay_outside_0_1_is_refused(tiny_config, decay):
    with pytest.raises(ValueError, match=f"Received: ema={decay}"):
        _with(tiny_config, ema=decay)
