"""A real training process killed with SIGKILL in the middle of an epoch resumes exactly (generator EMA included)."""

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


def _kill_mid_epoch(command, epoch: int, timeout: float = 240.0) -> str:
    """Start ``command`` and SIGKILL it once its progress bar shows ``epoch`` partly done."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env())
    seen: list[str] = []
    reader = threading.Thread(target=lambda: [seen.append(c) for c in iter(lambda: proc.stdout.read(1).decode(errors="replace"), "")],
                              daemon=True)
    reader.start()
    pattern = re.compile(rf"epoch {epoch}/{EPOCHS}:\s+\d+%\|[^|]*\|\s+(\d+)/(\d+)")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            progress = [(int(a), int(b)) for a, b in pattern.findall("".join(seen))]
            if any(0 < done < total for done, total in progress):
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return "".join(seen)
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
    raise AssertionError(f"never saw epoch {epoch} in progress before the process ended:\n{''.join(seen)[-2000:]}")


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path):
    data_dir = write_fake_dataset(tmp_path / "data", n_train=N_TRAIN, n_test=16)
    killed = tmp_path / "killed"
    output = _kill_mid_epoch(_command(killed, data_dir), epoch=2)
    assert "Done:" not in output
    # The kill came after epoch 1's checkpoint and before epoch 2's.
    assert [int(r["epoch"]) for r in read_csv(RunDir(killed).history)] == [1]

    resumed = subprocess.run(_command(killed, data_dir), capture_output=True, text=True, env=_env(), timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming" in resumed.stdout and "from epoch 1" in resumed.stdout

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
