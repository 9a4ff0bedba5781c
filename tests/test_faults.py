"""Faults a run directory meets, met by real ``python -m ganlib train`` processes on a tiny config and tiny data.

A second writer, a SIGKILL, a full disk (a file-size limit), a read-only directory, a truncated
``config.json`` and a truncated checkpoint; then, in this process, the lock's contract (held for the
whole call, released on error or interrupt, ignored by readers) and a run directory deleted while
training. Every subprocess pays TensorFlow's import (about 10 s on 2 busy cores); the training itself
takes a second or two, except where a process must live long enough to be met by another.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, write_fake_dataset
from ganlib.train.runs import RunDir, RunLock, locked_by, read_csv, recorded_checkpoint

pytestmark = pytest.mark.skipif(os.name != "posix", reason="flock, SIGKILL and RLIMIT_FSIZE are POSIX")

N_TRAIN = 64  # two steps of batch 32 per epoch: an epoch takes ~0.3 s, most of it writing grids, plots, a checkpoint


def _command(out: Path, data_dir: Path, epochs: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ganlib", "train", "--out", str(out), "--data-dir", str(data_dir),
            "--batch-size", "32", "--latent-dim", "8", "--g-filters", "8", "--d-filters", "8", "--num-samples", "4",
            "--epochs", str(epochs), "--seed", "1", "--no-jit", "--no-progress", "--eval-every", "0", *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(command: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=timeout)


def _start(command: list[str], log: Path) -> subprocess.Popen:
    # Output to a file, not a pipe: nobody reads a pipe while the test waits, and a full one would block the child.
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=_env())


def _wait_for(condition, proc: subprocess.Popen, log: Path, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (status {proc.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} after {timeout} s:\n{log.read_text()}")
        time.sleep(0.02)


def _one_line_error(stderr: str) -> str:
    """The error of a failed command: a line or two on stderr, no traceback."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 3 and "Traceback" not in stderr, stderr
    return stderr


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_fake_dataset(tmp_path_factory.mktemp("faults") / "data", n_train=N_TRAIN, n_test=16)


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory, data_dir) -> Path:
    """A run of two epochs (checkpoints ckpt-1 and ckpt-2), trained once for the module; copy it, do not edit it."""
    out = tmp_path_factory.mktemp("faults") / "two_epochs"
    done = _run(_command(out, data_dir, 2))
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture
def trained(tmp_path, two_epochs) -> Path:
    out = tmp_path / "run"
    shutil.copytree(two_epochs, out)
    return out


def test_a_second_writer_is_refused_at_once_naming_the_holder_and_the_first_finishes(tmp_path, data_dir):
    out = tmp_path / "run"
    log = tmp_path / "first.log"
    first = _start(_command(out, data_dir, 30), log)  # ~8 s of epochs after TensorFlow's import
    try:
        _wait_for(lambda: (locked_by(out) or {}).get("pid") == first.pid, first, log, "a lock file naming its pid")
        t0 = time.monotonic()
        second = _run(_command(out, data_dir, 30), timeout=60)
        seconds = time.monotonic() - t0
        assert first.poll() is None, "the first run ended before the second was refused: the test proves nothing"
    finally:
        status = first.wait(240)
    assert second.returncode == 1, second.stdout + second.stderr
    err = _one_line_error(second.stderr)
    assert f"{out} is being trained by another process (pid {first.pid} on host " in err
    assert "Wait for it to finish" in err and "pass another --out" in err
    assert seconds < 10, f"refused after {seconds:.1f} s: the lock is checked before TensorFlow is imported"
    assert status == 0, log.read_text()
    assert [int(r["epoch"]) for r in read_csv(RunDir(out).history)] == list(range(1, 31))
    assert locked_by(out) is None and RunDir(out).lock.read_text() == ""  # released, and emptied when released


def test_sigkill_leaves_no_stale_lock_and_the_same_command_resumes(tmp_path, data_dir):
    out = tmp_path / "run"
    log = tmp_path / "killed.log"
    command = _command(out, data_dir, 4)
    proc = _start(command, log)
    _wait_for(lambda: recorded_checkpoint(RunDir(out)) is not None, proc, log, "a first checkpoint")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert json.loads(RunDir(out).lock.read_text())["pid"] == proc.pid  # the dead process's record is still there...
    assert locked_by(out) is None  # ...but the kernel released its lock

    again = _run(command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Resuming" in again.stdout and "is being trained" not in again.stderr
    assert [int(r["epoch"]) for r in read_csv(RunDir(out).history)] == [1, 2, 3, 4]


# Run a command with a file-size limit: a launcher sets it and execs the command (limits and ignored signals
# survive exec). Not subprocess's preexec_fn: it is unsafe when the parent has threads, as TensorFlow's.
_WITH_FILE_SIZE_LIMIT = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def test_a_full_disk_stops_with_one_line_naming_the_last_good_checkpoint_and_a_rerun_resumes(trained, data_dir):
    run = RunDir(trained)
    checkpoint_size = next(run.checkpoints.glob("ckpt-2.data-*")).stat().st_size
    limit = checkpoint_size // 2
    others = [p for p in trained.rglob("*") if p.is_file() and p.parent != run.checkpoints]
    assert max(p.stat().st_size for p in others) < limit  # so it is the checkpoint's write that hits the limit

    command = _command(trained, data_dir, 3)
    full = _run([sys.executable, "-c", _WITH_FILE_SIZE_LIMIT, str(limit), *command[1:]])
    assert full.returncode == 1, full.stdout + full.stderr
    err = _one_line_error(full.stderr)
    assert f"could not write {run.checkpoints / 'ckpt-3'}: File too large (EFBIG)" in err
    assert f"The last good checkpoint is {run.checkpoints / 'ckpt-2'}." in err
    assert "Free some space" in err and "run the same command again to resume from it" in err
    assert not list(run.checkpoints.glob("*_temp")) and not list(run.checkpoints.glob("ckpt-3*"))
    assert recorded_checkpoint(run) == str(run.checkpoints / "ckpt-2")

    again = _run(command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Resuming {trained} from epoch 2" in again.stdout
    assert [int(r["epoch"]) for r in read_csv(run.history)] == [1, 2, 3]


# As root, chmod does not stop writes (CAP_DAC_OVERRIDE bypasses file permissions). The launcher drops that
# capability (and CAP_DAC_READ_SEARCH) from its bounding set and execs the command, which then runs as a root
# that a mode-0555 directory refuses like any user. Not root: it only execs.
_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 24, 1, 2
_WITHOUT_PERMISSION_OVERRIDE = f"""
import ctypes, os, sys
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in ({_CAP_DAC_OVERRIDE}, {_CAP_DAC_READ_SEARCH}):
        if libc.prctl({_PR_CAPBSET_DROP}, cap, 0, 0, 0) != 0:
            sys.exit(f"prctl(PR_CAPBSET_DROP) failed: {{os.strerror(ctypes.get_errno())}}")
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def _read_only_stops_writes(tmp_path: Path) -> str | None:
    """None if a process started through the launcher cannot write into a mode-0555 folder; else why it can."""
    folder = tmp_path / "probe"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe = _run([sys.executable, "-c", _WITHOUT_PERMISSION_OVERRIDE, "-c", f"open({str(folder / 'x')!r}, 'w')"])
    finally:
        folder.chmod(0o755)
    if probe.returncode == 0:
        return "a mode-0555 folder does not stop this user's writes, even without CAP_DAC_OVERRIDE"
    if "prctl" in probe.stderr:
        return f"cannot drop CAP_DAC_OVERRIDE here: {probe.stderr.strip()}"
    return None


def test_a_run_directory_made_read_only_while_training_stops_naming_the_last_good_checkpoint(tmp_path, trained,
                                                                                                data_dir):
    """chmod 0555 on the run directory once the process has saved a checkpoint: its next write into the directory
    (history.csv, training.gif or losses.png; samples/ and checkpoints/ keep their modes) fails with EACCES."""
    reason = _read_only_stops_writes(tmp_path)
    if reason:
        pytest.skip(reason)
    run = RunDir(trained)
    command = _command(trained, data_dir, 8)
    log = tmp_path / "read_only.log"
    proc = _start([sys.executable, "-c", _WITHOUT_PERMISSION_OVERRIDE, *command[1:]], log)
    try:
        _wait_for(lambda: recorded_checkpoint(run) == str(run.checkpoints / "ckpt-3"), proc, log, "ckpt-3")
        trained.chmod(0o555)
        status = proc.wait(120)
    finally:
        trained.chmod(0o755)
    output = log.read_text()
    assert status == 1, output
    last_good = recorded_checkpoint(run)  # ckpt-3, unless the chmod came after a later epoch's checkpoint
    epoch = int(last_good.rsplit("-", 1)[1])
    error = output[output.index("error: "):]
    _one_line_error(error)
    assert "Permission denied (EACCES)" in error and f"Make {trained} writable again" in error
    assert f"The last good checkpoint is {last_good}." in error
    assert not list(run.checkpoints.glob("*_temp"))

    again = _run(command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Resuming {trained} from epoch {epoch}" in again.stdout
    assert [int(r["epoch"]) for r in read_csv(run.history)] == list(range(1, 9))


def test_a_truncated_config_json_is_refused_naming_the_file_and_the_way_out(trained, data_dir):
    config = RunDir(trained).config
    text = config.read_text()
    config.write_text(text[: len(text) // 2])
    done = _run(_command(trained, data_dir, 3))
    assert done.returncode == 2, done.stdout + done.stderr
    err = _one_line_error(done.stderr)
    assert f"{config} is truncated or corrupt: it is not valid JSON" in err
    assert "Fix it" in err and "--overwrite" in err


def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(trained, data_dir):
    run = RunDir(trained)
    data = next(run.checkpoints.glob("ckpt-2.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    done = _run(_command(trained, data_dir, 3))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (f"Warning: the checkpoint {run.checkpoints / 'ckpt-2'} cannot be read (IndexError: Read less bytes than "
            f"requested); it is truncated or corrupt. Falling back to {run.checkpoints / 'ckpt-1'}.") in done.stdout
    assert f"Resuming {trained} from epoch 1" in done.stdout
    assert [int(r["epoch"]) for r in read_csv(run.history)] == [1, 2, 3]
    assert recorded_checkpoint(run) == str(run.checkpoints / "ckpt-3")


# In this process: the lock's contract, no readable checkpoint at all, a run directory deleted while training.

def _with(config, **changes):
    return type(config)(**{**config.to_dict(), **changes})


def test_the_lock_refuses_a_second_train_lets_readers_in_and_is_released_whatever_happens(tmp_path, tiny_config,
                                                                                          tiny_images):
    from ganlib.errors import RunDirError, RunLockedError
    from ganlib.train import Callback, load_run, train_loop

    out = tmp_path / "run"
    one = dict(images=tiny_images, progress=False)
    train_loop(tiny_config, out, **one)
    with RunLock(out) as lock:  # another open file: flock refuses it even in the same process
        assert lock.held and json.loads(RunDir(out).lock.read_text())["pid"] == os.getpid()
        with pytest.raises(RunLockedError, match=rf"being trained by another process \(pid {os.getpid()} on host"
                                                 r".*Wait for it to finish, stop it \(kill") as refused:
            train_loop(tiny_config, out, **one)
        assert refused.value.holder["pid"] == os.getpid() and refused.value.path == str(out)
        gan, _ = load_run(out)  # a reader takes no lock
        assert int(gan.epoch.numpy()) == 2

    with pytest.raises(RunDirError, match="holds another run"):
        train_loop(_with(tiny_config, seed=9), out, **one)
    assert locked_by(out) is None  # released after an error

    class Interrupt(Callback):
        def on_epoch_end(self, gan, row):
            assert locked_by(out) is not None  # held while training
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_loop(_with(tiny_config, epochs=3), out, callbacks=[Interrupt()], **one)
    assert locked_by(out) is None  # released after an interrupt


def test_no_readable_checkpoint_is_a_storage_error_naming_each(tmp_path, tiny_config, tiny_images):
    from ganlib.errors import StorageError
    from ganlib.train import train_loop

    out = tmp_path / "run"
    train_loop(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    data = next(RunDir(out).checkpoints.glob("ckpt-1.data-*"))
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(StorageError, match=r"No checkpoint in .* can be read: .*ckpt-1 \(IndexError: .*restore them "
                                           r"from a backup, or start the run over with 'train --overwrite'"):
        train_loop(tiny_config, out, images=tiny_images, progress=False)
    assert locked_by(out) is None


def test_a_run_directory_deleted_while_training_is_a_storage_error(tmp_path, tiny_config, tiny_images):
    from ganlib.errors import StorageError
    from ganlib.train import Callback, train_loop

    out = tmp_path / "run"

    class Delete(Callback):
        def on_step_end(self, gan, step, stats):
            if step == 4:  # in epoch 2, after ckpt-1
                shutil.rmtree(out)

    config = _with(tiny_config, epochs=3, frames_per_decade=0)
    with pytest.raises(StorageError) as stopped:
        train_loop(config, out, images=tiny_images, progress=False, callbacks=[Delete()])
    message = str(stopped.value)
    assert f"could not write {out}: the run directory was moved or deleted while training (ENOENT)" in message
    assert f"The last good checkpoint was {out / 'checkpoints' / 'ckpt-1'}, which no longer exists" in message
    assert "put it back, or pass another --out" in message
    assert not out.exists()  # nothing recreated it
