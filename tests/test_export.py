"""Exported generators load and sample in a Python process that never imports ganlib, as ganlib samples them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

# Run in a fresh interpreter: Keras and TensorFlow only, then proof that ganlib was never imported.
_LOAD_WITHOUT_GANLIB = r"""
import json, sys
import numpy as np, keras, tensorflow as tf
job = json.loads(sys.argv[1])
out = {}
for name, (keras_file, saved_model, inputs) in job.items():
    args = [np.load(p) for p in inputs]
    model = keras.models.load_model(keras_file)
    out[name + "_keras"] = model.predict(args if len(args) > 1 else args[0], verbose=0)
    served = tf.saved_model.load(saved_model)  # kept: its variables live as long as this object
    out[name + "_saved_model"] = served.serve(*args).numpy()
np.savez(sys.argv[2], **out)
print(json.dumps(sorted(m for m in sys.modules if m == "ganlib" or m.startswith("ganlib."))))
"""


def _load_without_ganlib(tmp_path, job: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT_GANLIB, json.dumps(job), str(tmp_path / "out.npz")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []  # no ganlib module was imported
    return dict(np.load(tmp_path / "out.npz"))


def _tiny_conditional_generator(latent_dim: int = 8):
    """[z, labels] -> images, the layout of a conditional generator (label embedding concatenated to z)."""
    import keras
    from keras import layers

    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((), dtype="int32", name="label")
    x = layers.Concatenate()([z, layers.Embedding(10, 4)(y)])
    x = layers.BatchNormalization()(layers.Dense(7 * 7 * 4)(x))
    x = layers.Conv2DTranspose(4, 4, strides=2, padding="same", activation="relu")(layers.Reshape((7, 7, 4))(x))
    return keras.Model([z, y], layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x))


def test_exported_generators_match_ganlib_without_ganlib(tmp_path, tiny_config, tiny_images):
    from ganlib.cli import main
    from ganlib.config import TrainConfig, get_config
    from ganlib.export import export_generator
    from ganlib.train.state import load_run
    from ganlib.train import train

    run = tmp_path / "run"
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 1})
    train(config, run, images=tiny_images, progress=False, tensorboard=False)
    assert main(["export", str(run), "--out", str(tmp_path / "g.keras")]) == 0
    gan, _ = load_run(run)
    z = np.random.default_rng(0).standard_normal((5, gan.config.latent_dim)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    # A conditional generator keeps both inputs; trained-looking batch-norm statistics make the check stricter.
    conditional = _tiny_conditional_generator()
    bn = next(layer for layer in conditional.layers if layer.name.startswith("batch_normalization"))
    bn.moving_mean.assign(np.linspace(-1, 1, bn.moving_mean.shape[0]).astype(np.float32))
    export_generator(conditional, tmp_path / "c.keras", saved_model=tmp_path / "c_savedmodel")
    labels = np.array([0, 3, 3, 7, 9], np.int32)
    np.save(tmp_path / "labels.npy", labels)
    # A progressive run that stops three quarters through the fade-in of 28x28: its generator holds ganlib's own layers
    # (equalized convolutions, pixel norm) and is exported rebuilt from Keras's layers at its stage and alpha.
    pggan_run = tmp_path / "pggan"
    pggan = get_config("pggan", epochs=1, batch_size=8, stage_batch_sizes=(8, 8, 8), stabilize_images=(8, 8, 8),
                       fade_images=(8, 32), latent_dim=8, g_filters=4, d_filters=4, num_samples=4)
    train(pggan, pggan_run, images=tiny_images, progress=False, tensorboard=False)  # 6 steps: 48 images
    assert main(["export", str(pggan_run), "--out", str(tmp_path / "p.keras")]) == 0
    progressive, _ = load_run(pggan_run)
    assert progressive.growth.current_stage() == 2 and float(progressive.growth.alpha.numpy()) == 0.75

    out = _load_without_ganlib(tmp_path, {
        "g": ["g.keras", "g_savedmodel", ["z.npy"]],
        "c": ["c.keras", "c_savedmodel", ["z.npy", "labels.npy"]],
        "p": ["p.keras", "p_savedmodel", ["z.npy"]],
    })
    expected = gan.generate(z)
    assert expected.shape == (5, 28, 28, 1) and expected.std() > 0
    np.testing.assert_allclose(out["g_keras"], expected, atol=1e-6)
    np.testing.assert_allclose(out["g_saved_model"], expected, atol=1e-6)
    expected = conditional([z, labels], training=False).numpy()
    np.testing.assert_allclose(out["c_keras"], expected, atol=1e-6)
    np.testing.assert_allclose(out["c_saved_model"], expected, atol=1e-6)
    expected = progressive.generate(z)
    assert expected.std() > 0
    # Pixel norm's epsilon (1e-8 on the mean square) differs from UnitNormalization's (1e-12 on the sum of squares):
    # with 4 channels of small features the images differ by up to ~3e-5.
    np.testing.assert_allclose(out["p_keras"], expected, atol=1e-4)
    np.testing.assert_allclose(out["p_saved_model"], expected, atol=1e-4)


def test_export_refuses_custom_layers_and_other_suffixes(tmp_path):
    import keras

    from ganlib.export import export_generator
    from ganlib.models import build_generator

    class Shift(keras.layers.Layer):
        def call(self, x):
            return x + 1.0

    z = keras.Input((8,))
    with pytest.raises(ValueError, match=r"Keras's own layers.*Received: a model holding Shift"):
        export_generator(keras.Model(z, Shift()(z)), tmp_path / "g.keras")
    with pytest.raises(ValueError, match=r"ending in .keras. Received: path='.*g.h5'"):
        export_generator(build_generator(8, 8), tmp_path / "g.h5")
    assert not list(tmp_path.iterdir())


def test_export_writes_the_averaged_generator_of_an_ema_run(tiny_config):
    from ganlib.config import TrainConfig
    from ganlib.export import sampling_generator
    from ganlib.train.state import build_gan

    gan = build_gan(TrainConfig(**{**tiny_config.to_dict(), "ema": 0.9}))
    assert sampling_generator(gan) is gan.ema_generator
    assert sampling_generator(build_gan(tiny_config)) is not None
