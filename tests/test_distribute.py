"""tf.distribute: one step on two replicas equals one step on one device with the same global batch.

Two logical CPU devices must be configured before TensorFlow initialises its
devices, which the other tests of this session have already done; so the
checks run in a subprocess (this file run as a script) that prints a JSON
report, and the tests below assert on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LATENT, GLOBAL_BATCH = 8, 8


def _tiny_generator():
    import keras
    from keras import layers

    # No batch normalization: per-replica batch statistics would differ from the global batch's by design.
    z = keras.Input((LATENT,))
    x = layers.Dense(7 * 7 * 4)(z)
    x = layers.LeakyReLU(0.2)(layers.Reshape((7, 7, 4))(x))
    x = layers.LeakyReLU(0.2)(layers.Conv2DTranspose(4, 4, strides=2, padding="same")(x))
    return keras.Model(z, layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x))


def _one_run(strategy, optimizer: str, n_critic: int, steps: int, jit: bool) -> dict:
    """Train the tiny GAN for ``steps`` steps on injected data and noise; return its weights and losses."""
    import keras
    import numpy as np
    import tensorflow as tf

    from ganlib import losses as L
    from ganlib.models import build_critic
    from ganlib.train.step import make_train_function, make_train_step

    rng = np.random.default_rng(0)
    # Per example: its n_critic real images (one per critic update) and n_critic + 1 latent vectors.
    real = rng.uniform(-1, 1, (steps * GLOBAL_BATCH, n_critic, 28, 28, 1)).astype(np.float32)
    z = rng.standard_normal((steps * GLOBAL_BATCH, n_critic + 1, LATENT)).astype(np.float32)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        g, d = _tiny_generator(), build_critic(4)
        make = (lambda: keras.optimizers.SGD(0.05)) if optimizer == "sgd" else (lambda: keras.optimizers.Adam(1e-3))
        g_opt, d_opt = make(), make()
        # Slots created eagerly under the scope: created lazily inside the step they would not be mirrored.
        g_opt.build(g.trainable_variables)
        d_opt.build(d.trainable_variables)
        step = make_train_step(g, d, g_opt, d_opt, discriminator_loss=L.minimax_discriminator_loss,
                               generator_loss=L.non_saturating_generator_loss, latent_dim=LATENT,
                               n_critic=n_critic, jit_compile=jit)
    run = make_train_function(step, strategy=strategy, steps_per_execution=steps)
    # The step's interleaved layout: rows b * n_critic + i of `real` are example b's image for critic update i.
    dataset = tf.data.Dataset.from_tensor_slices((real, z)).batch(GLOBAL_BATCH, drop_remainder=True).map(
        lambda r, zz: (tf.reshape(r, [-1, 28, 28, 1]), zz))
    stats = run(iter(strategy.experimental_distribute_dataset(dataset)))
    return {"weights": [v.numpy() for v in g.weights + d.weights], "d_loss": stats["d_loss"].numpy(),
            "g_loss": stats["g_loss"].numpy(), "d_iterations": int(d_opt.iterations.numpy())}


def _max_difference(a: dict, b: dict) -> float:
    import numpy as np

    return max(float(np.abs(x - y).max()) for x, y in zip(a["weights"], b["weights"]))


def _max_update(a: dict, initial: dict) -> float:
    return _max_difference(a, initial)


def _report() -> dict:
    """Run in the subprocess, with two logical CPUs."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np

    from ganlib.config import get_config
    from ganlib.train.state import build_gan
    from ganlib.train import train

    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    one = tf.distribute.get_strategy()
    report: dict = {"replicas": two.num_replicas_in_sync, "cases": {}}
    for name, (optimizer, n_critic, steps, jit) in {
        "sgd": ("sgd", 1, 1, False),
        "adam_two_steps_n_critic_2": ("adam", 2, 2, False),
    }.items():
        single = _one_run(one, optimizer, n_critic, steps, jit)
        double = _one_run(two, optimizer, n_critic, steps, jit)
        # The same models, untrained: how far one step moves the weights, to judge the difference against.
        keras.utils.set_random_seed(0)
        from ganlib.models import build_critic

        initial = {"weights": [v.numpy() for v in _tiny_generator().weights + build_critic(4).weights]}
        report["cases"][name] = {
            "max_difference": _max_difference(single, double),
            "max_update": _max_update(single, initial),
            "d_loss": [single["d_loss"].tolist(), double["d_loss"].tolist()],
            "g_loss": [single["g_loss"].tolist(), double["g_loss"].tolist()],
            "d_iterations": [single["d_iterations"], double["d_iterations"]],
        }

    # Noise drawn inside the step: each replica must get its own stream.
    gan = build_gan(get_config("dcgan", latent_dim=LATENT, g_filters=4, d_filters=4), strategy=two)
    draws = two.run(tf.function(lambda: gan.noise.normal([3])))
    local = [t.numpy().tolist() for t in two.experimental_local_results(draws)]
    report["noise_differs_between_replicas"] = local[0] != local[1]

    # Weight clipping (merge_call path) and the whole loop, checkpoints included, under two replicas.
    gan = build_gan(get_config("wgan", latent_dim=LATENT, g_filters=4, d_filters=4, d_learning_rate=0.05,
                               n_critic=2), strategy=two)
    images = np.random.default_rng(1).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    # XLA is not supported on two replicas (it would fail there); the loop asks xla_supported as here.
    from ganlib.train.step import make_train_function, xla_supported

    report["xla_supported_on_two"] = xla_supported(two)
    stats = make_train_function(gan.train_step(jit_compile=xla_supported(two)), strategy=two)(iter(
        two.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(images).batch(32, drop_remainder=True))))
    report["clipped_max_abs_weight"] = max(float(np.abs(v.numpy()).max()) for v in gan.discriminator.trainable_variables)
    report["wgan_losses_finite"] = bool(np.isfinite(stats["d_loss"].numpy()).all())
    out = Path(sys.argv[1])
    history = train(get_config("dcgan", epochs=2, batch_size=8, latent_dim=LATENT, g_filters=4, d_filters=4,
                               num_samples=4), out, images=images, progress=False, strategy=two,
                    steps_per_execution=3, jit_compile=True)
    report["loop_epochs"] = [int(r["epoch"]) for r in history]
    report["loop_losses_finite"] = all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in history)
    report["loop_checkpoint"] = tf.train.latest_checkpoint(str(out / "checkpoints"))
    try:
        train(get_config("dcgan", epochs=1, batch_size=7, latent_dim=LATENT, g_filters=4, d_filters=4,
                         num_samples=4), out.parent / "odd", images=images, progress=False, strategy=two)
        report["odd_batch_error"] = None
    except ValueError as err:
        report["odd_batch_error"] = str(err)
    # Lazy regularisation's critic update, taken on some steps only, cannot synchronise replicas: refused.
    lazy = build_gan(get_config("dcgan", latent_dim=LATENT, g_filters=4, d_filters=4, d_batch_norm=False,
                                r1_gamma=1.0, reg_interval=4), strategy=two)
    try:
        with two.scope():
            lazy.train_step()
        report["lazy_error"] = None
    except ValueError as err:
        report["lazy_error"] = str(err)
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("distribute") / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, __file__, str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_replicas_are_used(report):
    assert report["replicas"] == 2


@pytest.mark.parametrize("case", ["sgd", "adam_two_steps_n_critic_2"])
def test_two_replicas_match_one_device(report, case):
    # SGD is sensitive to the gradients' scale (Adam is nearly invariant to it): a missing or doubled
    # 1/replicas factor would move the weights twice or half as far and fail here.
    r = report["cases"][case]
    assert r["max_update"] > 1e-3, r
    assert r["max_difference"] < 1e-5 + 1e-3 * r["max_update"], r
    for single, double in (r["d_loss"], r["g_loss"]):
        assert single == pytest.approx(double, rel=1e-5, abs=1e-6)
    assert r["d_iterations"][0] == r["d_iterations"][1]


def test_replicas_draw_different_noise(report):
    assert report["noise_differs_between_replicas"]


def test_clipping_and_loop_under_two_replicas(report):
    assert report["clipped_max_abs_weight"] <= 0.01 + 1e-7 and report["wgan_losses_finite"]
    assert report["xla_supported_on_two"] is False
    assert report["loop_epochs"] == [1, 2] and report["loop_losses_finite"]
    assert report["loop_checkpoint"].endswith("ckpt-2")
    assert "multiple of the number of replicas (2). Received: batch_size=7" in report["odd_batch_error"]


# Several steps per tf.function call, on one device (in this process).


def test_k_steps_per_call_equal_k_calls(tiny_config, tiny_images):
    import numpy as np
    import tensorflow as tf

    from ganlib.data import make_pipeline
    from ganlib.train.state import build_gan
    from ganlib.train.step import make_train_function

    weights = []
    for k in (1, 3):
        gan = build_gan(tiny_config)
        run = make_train_function(gan.train_step(), steps_per_execution=k)
        iterator = iter(make_pipeline(tiny_images, 16, seed=0))
        losses = np.concatenate([run(iterator)["d_loss"].numpy() for _ in range(3 // k)])
        assert losses.shape == (3,) and np.isfinite(losses).all()
        assert int(gan.d_optimizer.iterations.numpy()) == 3
        weights.append([v.numpy() for v in gan.generator.weights + gan.discriminator.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="steps_per_execution=0"):
        make_train_function(gan.train_step(), steps_per_execution=0)
    del tf


def test_loop_logs_every_step_with_k_steps_per_call(tmp_path, tiny_config, tiny_images):
    from ganlib.train.runs import RunDir, read_csv
    from ganlib.train import train

    # 48 images / 16 = 3 steps per epoch with K = 2: one call of two steps, then one single step.
    history = train(tiny_config, tmp_path / "run", images=tiny_images, progress=False, steps_per_execution=2,
                    jit_compile=True)
    assert [int(r["epoch"]) for r in history] == [1, 2]
    assert len(read_csv(RunDir(tmp_path / "run").steps)) == 2 * 3


def test_lazy_regularisation_is_refused_on_two_replicas(report):
    assert report["lazy_error"] is not None and "one replica only" in report["lazy_error"]
    assert "Received: 2 replicas, terms [('r1', 4)]" in report["lazy_error"]


if __name__ == "__main__":
    print(json.dumps(_report()))
