"""A real training process stopped in the middle of an epoch resumes from its checkpoint within the epoch, exactly.

SIGKILL (dcgan with a generator EMA) and SIGINT (a progressive run, mid-growth): the resumed run ends with the
weights, optimizer state, frames and logged steps of an uninterrupted run.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import imageio.v3 as iio
import numpy as np
import pytest

from conftest import REPO, write_fake_dataset
from ganlib.config import TrainConfig
from ganlib.train.frames import frame_steps
from ganlib.train.runs import RunDir, frame_step, read_csv
from ganlib.train import load_run

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EPOCHS = 3
# 250 steps per epoch: on an idle machine a step of this tiny model takes ~8 ms, and with 50 steps an epoch ended
# (0.4 s) before the progress bar's first refresh (tqdm redraws at most every 0.1 s), so no mid-epoch kill was seen.
N_TRAIN, BATCH = 4000, 16


def _command(out, data_dir):
    return [sys.executable, "-m", "ganlib", "train", "--out", str(out), "--data-dir", str(data_dir),
            "--batch-size", str(BATCH), "--latent-dim", "8", "--g-filters", "16", "--d-filters", "16",
            "--num-samples", "4", "--epochs", str(EPOCHS), "--seed", "5", "--no-jit", "--deterministic", "--ema", "0.9"]


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}


def _within_epoch_step(out) -> int:
    """N of the within-epoch checkpoint ``step-N`` in ``out``, 0 if none."""
    folder = RunDir(out).checkpoints / "within_epoch"
    steps = [int(p.name.split("-")[1].split(".")[0]) for p in folder.glob("step-*.index")] if folder.is_dir() else []
    return max(steps, default=0)


def _step_events(out) -> list[int]:
    """The steps of the ``step/d_loss`` summaries in ``out``'s TensorBoard event files, in file order."""
    import tensorflow as tf

    steps = []
    for path in sorted((out / "tensorboard").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            steps += [event.step for v in event.summary.value if v.tag == "step/d_loss"]
    return steps


def _kill_mid_epoch(command, epoch: int, timeout: float = 400.0, *, epochs: int = EPOCHS, after_step: int = 0,
                    sig: int = signal.SIGKILL, out=None) -> tuple[str, int | None]:
    """Start ``command`` and send it ``sig`` once its progress bar shows ``epoch`` partly done (and, with
    ``after_step``, once ``out`` holds a within-epoch checkpoint past that step). Returns its output and status."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env())
    seen: list[str] = []
    reader = threading.Thread(target=lambda: [seen.append(c) for c in iter(lambda: proc.stdout.read(1).decode(errors="replace"), "")],
                              daemon=True)
    reader.start()
    pattern = re.compile(rf"epoch {epoch}/{epochs}:\s+\d+%\|[^|]*\|\s+(\d+)/(\d+)")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            progress = [(int(a), int(b)) for a, b in pattern.findall("".join(seen))]
            if any(0 < done < total for done, total in progress) and (
                    not after_step or _within_epoch_step(out) > after_step):
                proc.send_signal(sig)
                proc.wait(60)
                time.sleep(0.2)  # the reader thread's last characters
                return "".join(seen), proc.returncode
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
    raise AssertionError(f"never saw epoch {epoch} in progress before the process ended:\n{''.join(seen)[-2000:]}")


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    data_dir = write_fake_dataset(tmp_path / "data", n_train=N_TRAIN, n_test=16)
    killed = tmp_path / "killed"
    steps_per_epoch = N_TRAIN // BATCH
    # A checkpoint within the epoch every 0.2 s; the kill comes after one of epoch 2's.
    output, _ = _kill_mid_epoch(_command(killed, data_dir) + ["--checkpoint-every", "0.2"], epoch=2,
                                after_step=steps_per_epoch, out=killed)
    assert "Done:" not in output
    assert [int(r["epoch"]) for r in read_csv(RunDir(killed).history)] == [1]
    saved = _within_epoch_step(killed)
    assert steps_per_epoch < saved < 2 * steps_per_epoch

    resumed = subprocess.run(_command(killed, data_dir), capture_output=True, text=True, env=_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"from epoch 1, step {saved - steps_per_epoch} of {steps_per_epoch}" in resumed.stdout, resumed.stdout
    assert not (RunDir(killed).checkpoints / "within_epoch").exists()  # superseded by the epoch checkpoints
    assert _step_events(killed) == list(range(1, EPOCHS * steps_per_epoch + 1))  # TensorBoard: every step once

    run = RunDir(killed)
    assert [int(r["epoch"]) for r in read_csv(run.history)] == list(range(1, EPOCHS + 1))
    step_epochs = [r["epoch"] for r in read_csv(run.steps)]
    assert len(step_epochs) == EPOCHS * (N_TRAIN // BATCH) and step_epochs == sorted(step_epochs)
    defaults = TrainConfig()
    schedule = frame_steps(EPOCHS * (N_TRAIN // BATCH), frames_per_decade=defaults.frames_per_decade,
                           offset=defaults.frame_offset, steps_per_epoch=N_TRAIN // BATCH)
    assert [frame_step(f) for f in run.frame_files()] == schedule  # no frame lost or repeated by the kill
    assert len(iio.imread(run.gif, index=None)) == len(schedule)
    assert [p.name for p in run.sample_grids()] == [f"epoch_{e:04d}.png" for e in range(1, EPOCHS + 1)]

    straight = tmp_path / "straight"
    done = subprocess.run(_command(straight, data_dir), capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    for x, y in zip(run.frame_files(), RunDir(straight).frame_files(), strict=True):
        np.testing.assert_array_equal(iio.imread(x), iio.imread(y), err_msg=x.name)
    a, _ = load_run(killed)
    b, _ = load_run(straight)
    assert int(a.epoch.numpy()) == int(b.epoch.numpy()) == EPOCHS
    assert a.ema_generator is not None and b.ema_generator is not None
    for x, y in zip(a.generator.weights + a.discriminator.weights + a.ema_generator.weights,
                    b.generator.weights + b.discriminator.weights + b.ema_generator.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    for x, y in zip(a.g_optimizer.variables + a.d_optimizer.variables, b.g_optimizer.variables + b.d_optimizer.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


def test_sigint_mid_growth_saves_stops_and_resumes_to_the_uninterrupted_progressive_run(tmp_path):
    # pggan with tiny networks: 100 steps of 16 images per epoch, 4 epochs; the growth (images): 7x7 [0, 800),
    # fade-in of 14x14 [800, 2400), 14x14 [2400, 3200), fade-in of 28x28 [3200, 4800). SIGINT comes in epoch 2
    # (steps 101-200: images 1600-3200, the fade-in of 14x14 and the stable 14x14 after it).
    n_train, epochs, per_epoch = 1600, 4, 100
    data_dir = write_fake_dataset(tmp_path / "data", n_train=n_train, n_test=16)

    def command(out):
        return [sys.executable, "-m", "ganlib", "train", "--preset", "pggan", "--out", str(out), "--data-dir",
                str(data_dir), "--batch-size", "16", "--stage-batch-sizes", "16", "16", "16", "--latent-dim", "8",
                "--g-filters", "4", "--d-filters", "4", "--num-samples", "4", "--stabilize-images", "800", "800",
                "800", "--fade-images", "1600", "1600", "--epochs", str(epochs), "--seed", "2", "--no-jit",
                "--deterministic", "--checkpoint-every", "1000"]

    stopped = tmp_path / "stopped"
    output, status = _kill_mid_epoch(command(stopped), epoch=2, epochs=epochs, sig=signal.SIGINT)
    assert status == 128 + signal.SIGINT, output
    assert "Stopped by SIGINT after epoch 2, step" in output and "within_epoch/step-" in output, output
    saved = _within_epoch_step(stopped)
    assert per_epoch < saved < 2 * per_epoch, saved  # within epoch 2, where SIGINT came, not at its end
    assert f"after epoch 2, step {saved - per_epoch} of {per_epoch}" in output, output
    resumed = subprocess.run(command(stopped), capture_output=True, text=True, env=_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"from epoch 1, step {saved - per_epoch} of {per_epoch}" in resumed.stdout, resumed.stdout
    assert len(read_csv(RunDir(stopped).steps)) == epochs * per_epoch
    assert _step_events(stopped) == list(range(1, epochs * per_epoch + 1))

    straight = tmp_path / "straight"
    done = subprocess.run(command(straight), capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    a, _ = load_run(stopped)
    b, _ = load_run(straight)
    assert int(a.growth.images_seen.numpy()) == int(b.growth.images_seen.numpy()) == epochs * per_epoch * 16
    for x, y in zip(a.generator.weights + a.discriminator.weights, b.generator.weights + b.discriminator.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    for x, y in zip(a.g_optimizer.variables + a.d_optimizer.variables, b.g_optimizer.variables + b.d_optimizer.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
