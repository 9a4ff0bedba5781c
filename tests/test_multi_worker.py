"""Two workers (MultiWorkerMirroredStrategy over 127.0.0.1) train like one process; only the chief writes the run.

Each worker is this file run as a script in its own process, with a ``TF_CONFIG``
naming both workers' ports (the strategy must be created before TensorFlow runs
anything, so it cannot share the test process). Each trains the tiny GAN of
tests/test_distribute.py for two steps of a global batch of 8 (4 images per
worker), then runs ganlib's training loop for one epoch and resumes it for a
second. The tests compare what the workers saved with a one-process run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300  # both workers together; they finish in well under a minute on 2 idle cores
STEPS = 2


def _free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    except OSError as err:
        pytest.skip(f"this platform gives no TCP port on 127.0.0.1 for the two workers: {err}")
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def workers(tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("multi_worker")
    ports = _free_ports(2)
    procs = []
    for index in range(2):
        (tmp / f"tmp{index}").mkdir()
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(tmp / f"tmp{index}"),
               "TF_CONFIG": json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                        "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen([sys.executable, __file__, str(tmp)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + TIMEOUT_S
    # A worker that fails leaves the other waiting in a collective operation: stop both then.
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if any(p.poll() not in (None, 0) for p in procs):
            break
        time.sleep(0.5)
    for p in procs:
        if p.poll() is None:
            p.kill()
    outputs = [p.communicate() for p in procs]
    for index, (p, (out, err)) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"worker {index} exited with {p.returncode}:\n{err[-4000:]}"
    return tmp, [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


def test_two_workers_match_one_process(workers):
    import keras
    import tensorflow as tf

    from ganlib.models import build_critic
    from test_distribute import _max_difference, _one_run, _tiny_generator

    tmp, reports = workers
    assert [r["replicas"] for r in reports] == [2, 2] and [r["chief"] for r in reports] == [True, False]
    single = _one_run(tf.distribute.get_strategy(), "sgd", 1, STEPS, False)
    keras.utils.set_random_seed(0)  # the untrained networks, to judge the difference against the update
    initial = {"weights": [v.numpy() for v in _tiny_generator().weights + build_critic(4).weights]}
    per_worker = [{"weights": list(np.load(tmp / f"step_weights{i}.npz").values())} for i in range(2)]
    max_update = _max_difference(single, initial)
    assert max_update > 1e-3
    assert _max_difference(per_worker[0], per_worker[1]) == 0.0
    # The tolerance of the two-replica test: a missing or doubled 1/replicas factor moves SGD twice or half as far.
    assert _max_difference(single, per_worker[0]) < 1e-5 + 1e-3 * max_update
    for report in reports:
        np.testing.assert_allclose(report["d_loss"], single["d_loss"], rtol=1e-5, atol=1e-6)


def test_only_the_chief_writes_the_run_directory_and_a_rerun_resumes_on_both(workers):
    from ganlib.train.runs import RunDir, read_csv
    from test_tensorboard import _raw_steps

    tmp, reports = workers
    run = RunDir(tmp / "run")
    assert json.loads(run.config.read_text())["num_replicas"] == 2
    assert [p.name for p in run.sample_grids()] == ["epoch_0001.png", "epoch_0002.png"]
    assert [r["epoch"] for r in read_csv(run.history)] == [1, 2]
    assert sorted(p.name for p in run.checkpoints.glob("*.index")) == ["ckpt-1.index", "ckpt-2.index"]
    assert _raw_steps(run.root / "tensorboard", "step/d_loss") == [1, 2, 3, 4]
    # Worker 1 trained in a temporary directory of its own, deleted at the end; nothing else was written.
    assert reports[0]["scratch_dirs"] == [] and len(reports[1]["scratch_dirs"]) == 2
    assert not any(Path(d).exists() for d in reports[1]["scratch_dirs"])
    assert [list((tmp / f"tmp{i}").iterdir()) for i in range(2)] == [[], []]
    assert sorted(p.name for p in tmp.iterdir()) == ["run", "step_weights0.npz", "step_weights1.npz", "tmp0", "tmp1"]
    # Both workers resumed the second call from the chief's checkpoint and ended with the same trainable weights.
    # (Batch norm's moving statistics, used only for sampling, are each worker's own: see the README.)
    for report in reports:
        assert report["begin_steps"] == [0, 2] and report["iterations"] == [4, 4]
    assert reports[0]["trainable_sha256"] == reports[1]["trainable_sha256"]


def _worker(tmp: Path) -> dict:
    """Run in each worker process."""
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before anything else runs in TensorFlow
    import hashlib
    import tempfile

    from ganlib.config import get_config
    from ganlib.train import Callback
    from ganlib.train import train
    from test_distribute import _one_run

    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    result = _one_run(strategy, "sgd", 1, STEPS, False)
    np.savez(tmp / f"step_weights{index}.npz", *result["weights"])

    class Recorder(Callback):
        def __init__(self):
            self.begin_steps, self.scratch_dirs, self.weights, self.iterations = [], [], None, None

        def on_train_begin(self, gan, run, step, steps_per_epoch):
            self.begin_steps.append(step)
            if Path(tempfile.gettempdir()) in run.root.parents:
                self.scratch_dirs.append(str(run.root))

        def on_epoch_end(self, gan, row):
            # A slow chief: without a barrier, worker 1 would start the second call and copy the chief's
            # checkpoints before the chief has saved this epoch's.
            if index == 0 and row["epoch"] == 1:
                time.sleep(2)

        def on_train_end(self, gan, history):
            self.weights = [v.numpy() for v in gan.generator.trainable_weights + gan.discriminator.trainable_weights]
            self.iterations = [int(gan.g_optimizer.iterations.numpy()), int(gan.d_optimizer.iterations.numpy())]

    recorder = Recorder()
    images = np.random.default_rng(1).uniform(-1, 1, (16, 28, 28, 1)).astype(np.float32)
    for epochs in (1, 2):  # 2 steps per epoch; the second call resumes
        config = get_config("dcgan", epochs=epochs, batch_size=8, latent_dim=8, g_filters=4, d_filters=4,
                            num_samples=4)
        train(config, tmp / "run", images=images, progress=False, strategy=strategy, callbacks=[recorder])
    digest = hashlib.sha256(b"".join(w.tobytes() for w in recorder.weights)).hexdigest()
    return {"replicas": strategy.num_replicas_in_sync, "chief": strategy.extended.should_checkpoint,
            "d_loss": result["d_loss"].tolist(), "begin_steps": recorder.begin_steps,
            "scratch_dirs": recorder.scratch_dirs, "trainable_sha256": digest,
            "iterations": recorder.iterations}


if __name__ == "__main__":
    print(json.dumps(_worker(Path(sys.argv[1]))))
