"""Keras fit(): ganlib's step as a keras.Model's train_step, with Keras callbacks (BackupAndRestore across a kill)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EPOCHS, KILL_AFTER_BATCHES = 3, 4  # 3 batches per epoch: killed in the middle of the second epoch


def _config():
    from ganlib.config import get_config

    return get_config("dcgan", batch_size=16, latent_dim=8, g_filters=8, d_filters=8, num_samples=4)


def _images() -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, (48, 28, 28, 1)).astype(np.float32)


def _weights(model) -> list[np.ndarray]:
    return [v.numpy() for v in model.generator.weights + model.discriminator.weights]


def _fit(callbacks):
    """A fresh model fitted on the unshuffled tiny data set (the same batches in every process)."""
    from ganlib.train.keras_fit import build_gan_model, fit_dataset

    model = build_gan_model(_config())
    model.compile()
    history = model.fit(fit_dataset(_images(), model.gan.config, shuffle=False), epochs=EPOCHS, callbacks=callbacks,
                        shuffle=False, verbose=0)
    return model, history


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """An uninterrupted fit of EPOCHS epochs, with Keras's TensorBoard and ganlib's sample grids."""
    import keras

    from ganlib.train.keras_fit import SampleGrid

    tmp = tmp_path_factory.mktemp("fit")
    model, history = _fit([keras.callbacks.TensorBoard(str(tmp / "logs")),
                           SampleGrid(tmp / "grids", log_dir=tmp / "logs" / "train")])
    return model, history, tmp


def test_fit_trains_with_keras_tensorboard_and_sample_grids(straight):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model, history, tmp = straight
    assert history.epoch == [0, 1, 2]
    # The step's statistics, and no critic term: dcgan has none (a WGAN-GP run adds "gradient_penalty").
    assert set(history.history) == {"loss", *model.gan.stat_keys}
    assert {"d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_acc_real"} <= set(history.history)
    assert "gradient_penalty" not in history.history
    assert all(np.isfinite(history.history["loss"]))
    # One fit batch is one generator iteration: 3 batches per epoch.
    assert int(model.optimizer.iterations.numpy()) == int(model.d_optimizer.iterations.numpy()) == 9
    assert len(sorted((tmp / "grids").glob("epoch_*.png"))) == 3
    assert (tmp / "grids" / "training.gif").stat().st_size > 0
    events = EventAccumulator(str(tmp / "logs" / "train"), size_guidance={"tensors": 0})
    events.Reload()
    assert [e.step for e in events.Tensors("epoch_d_loss")] == [0, 1, 2]
    assert [e.step for e in events.Tensors("samples")] == [1, 2, 3]
    assert model(np.zeros([2, 8], np.float32)).shape == (2, 28, 28, 1)


def test_fit_batches_are_ganlib_steps(straight):
    from ganlib.train.keras_fit import fit_dataset
    from ganlib.train.state import build_gan
    from ganlib.train.step import make_train_function

    gan = build_gan(straight[0].gan.config)
    run = make_train_function(gan.train_step(), steps_per_execution=3 * EPOCHS)
    run(iter(fit_dataset(_images(), gan.config, shuffle=False).repeat(EPOCHS)))
    for a, b in zip(_weights(straight[0]), [v.numpy() for v in gan.generator.weights + gan.discriminator.weights]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_terminate_on_nan_stops_fit(monkeypatch):
    import keras
    import tensorflow as tf

    from ganlib import losses

    monkeypatch.setitem(losses.GENERATOR_LOSSES, "non_saturating", lambda fake: tf.reduce_mean(fake) * np.nan)
    model, history = _fit([keras.callbacks.TerminateOnNaN()])
    assert int(model.optimizer.iterations.numpy()) == 1 and np.isnan(history.history["loss"][0])


def test_backup_and_restore_resumes_fit_after_a_kill(tmp_path, straight):
    import keras

    backup = tmp_path / "backup"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    killed = subprocess.run([sys.executable, __file__, str(backup)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == 17, killed.stderr[-3000:]
    assert (backup / "training_metadata.json").read_text() == '{"epoch": 1, "batch": 0}'

    resumed, history = _fit([keras.callbacks.BackupAndRestore(str(backup))])
    assert history.epoch == [1, 2]  # epoch 0 came from the backup; the interrupted epoch 1 ran again
    assert not backup.exists()  # deleted by Keras once fit completed
    assert int(resumed.g_optimizer.iterations.numpy()) == int(resumed.d_optimizer.iterations.numpy()) == 9
    # Networks, optimizers and the noise generator all came back from the backup: the uninterrupted weights.
    for a, b in zip(_weights(resumed), _weights(straight[0])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    # Fit with a backup every epoch and die without cleaning up after KILL_AFTER_BATCHES batches.
    import keras

    class Kill(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if self.batches == KILL_AFTER_BATCHES:
                os._exit(17)

    _fit([keras.callbacks.BackupAndRestore(sys.argv[1]), Kill()])
    sys.exit(1)


def test_compile_refuses_an_optimizer_or_a_loss():
    """A Keras habit, ``compile(optimizer=...)``, would share one optimizer between the networks: refused by name."""
    import keras

    from ganlib.train.keras_fit import build_gan_model

    model = build_gan_model(_config())
    with pytest.raises(ValueError, match=r"takes no optimizer or loss.*Received: optimizer=Adam") as error:
        model.compile(optimizer=keras.optimizers.Adam())
    assert "g_lr" in str(error.value)
    with pytest.raises(ValueError, match=r"Received: loss='binary_crossentropy'"):
        model.compile(loss="binary_crossentropy")


def test_one_optimizer_for_both_networks_is_refused():
    import dataclasses

    from ganlib.train.state import build_gan

    gan = build_gan(_config())
    with pytest.raises(ValueError, match=r"Expected one optimizer per network.*Received: the same Adam object"):
        dataclasses.replace(gan, d_optimizer=gan.g_optimizer)
