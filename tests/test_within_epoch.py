"""Checkpoints within an epoch, in this process: resume mid-epoch, fall back from a bad one, signals, the timer.

The real-process cases (SIGKILL, SIGINT) are in tests/test_resume.py.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from ganlib.config import get_config
from ganlib.train import Callback, load_run, train
from ganlib.train.runs import RunDir, read_csv
from ganlib.train.within_epoch import StopRequests, Timer, checkpoint_step, directory

N, BATCH = 320, 16  # 20 steps per epoch


class Crash(Callback):
    """Stop training with an error after generator iteration ``at`` (as a crash would, without saving)."""

    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, gan, step, stats):
        if step == self.at:
            raise RuntimeError("crash")


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 1, (N, 28, 28, 1)).astype(np.float32)


def _config():
    return get_config("dcgan", epochs=2, batch_size=BATCH, latent_dim=8, g_filters=8, d_filters=8, num_samples=4,
                      seed=3, ema=0.9)


@pytest.fixture(scope="module")
def straight(tmp_path_factory, images):
    out = tmp_path_factory.mktemp("within") / "straight"
    train(_config(), out, images=images, progress=False, tensorboard=False, checkpoint_every=None)
    return load_run(out)[0]


def _weights(gan):
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights + gan.ema_generator.weights]


def test_a_crash_after_a_checkpoint_within_the_epoch_resumes_there_and_ends_as_the_uninterrupted_run(
        tmp_path, images, straight, capsys):
    out = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="crash"):  # checkpoint_every=0: one after every step, the last after 26
        train(_config(), out, images=images, progress=False, tensorboard=False, checkpoint_every=0.0,
              callbacks=[Crash(27)])
    saved = list(directory(RunDir(out)).glob("step-*.index"))
    assert [checkpoint_step(p.with_suffix("")) for p in saved] == [26]
    assert len(read_csv(RunDir(out).steps)) == 26
    capsys.readouterr()

    history = train(_config(), out, images=images, progress=False, tensorboard=False, checkpoint_every=None)
    assert "from epoch 1, step 6 of 20" in capsys.readouterr().out
    assert [r["epoch"] for r in history] == [1, 2]
    assert len(read_csv(RunDir(out).steps)) == 40
    assert not directory(RunDir(out)).exists()  # superseded by the epoch checkpoint
    for x, y in zip(_weights(load_run(out)[0]), _weights(straight), strict=True):
        np.testing.assert_array_equal(x, y)


def test_an_unreadable_checkpoint_within_the_epoch_falls_back_to_the_epoch_checkpoint(tmp_path, images, straight,
                                                                                     capsys):
    out = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="crash"):
        train(_config(), out, images=images, progress=False, tensorboard=False, checkpoint_every=0.0,
              callbacks=[Crash(30)])
    data = next(directory(RunDir(out)).glob("step-29.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # truncated
    capsys.readouterr()
    train(_config(), out, images=images, progress=False, tensorboard=False, checkpoint_every=None)
    said = capsys.readouterr().out
    assert "step-29 cannot be read" in said and "from the end of epoch 1" in said, said
    assert "Resuming" in said and "from epoch 1 (" in said, said
    for x, y in zip(_weights(load_run(out)[0]), _weights(straight), strict=True):
        np.testing.assert_array_equal(x, y)


def test_checkpoint_every_must_be_seconds_or_none(tmp_path, images):
    with pytest.raises(ValueError, match="checkpoint_every.*Received: checkpoint_every=-1"):
        train(_config(), tmp_path / "x", images=images, progress=False, checkpoint_every=-1)
    assert not (tmp_path / "x").exists()


def test_stop_requests_catch_sigterm_and_sigint_and_restore_the_handlers():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with StopRequests() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal == signal.SIGTERM
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    with StopRequests() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signal == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C does not wait
            os.kill(os.getpid(), signal.SIGINT)


def test_timer_is_due_after_its_interval_and_never_without_one():
    assert Timer(0.0).due
    assert not Timer(3600.0).due
    assert not Timer(None).due
    with pytest.raises(ValueError, match="step-N"):
        checkpoint_step("ckpt-3")
