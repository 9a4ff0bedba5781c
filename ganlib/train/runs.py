"""A training run's output directory: its layout, atomic writes, history files, the config guard, the writer's lock.

Layout of ``RUN_DIR``::

    config.json        the run's TrainConfig, with the ganlib version and run-directory schema that wrote it
    data.json          a record of the training images the run started on: count, min, max, mean
                       (:func:`data_record`; written each time training starts, read by ``doctor``)
    .lock              the lock of the one process training the run (its pid, host and start time)
    checkpoints/       tf.train.CheckpointManager files (networks, optimizers, epoch, RNG state): ckpt-E
                       after epoch E
      within_epoch/    at most one checkpoint within the unfinished epoch, step-N after generator
                       iteration N, with the position in the epoch (ganlib.train.within_epoch)
    samples/epoch_0001.png ...   the fixed-z sample grid after each epoch
    frames/step_0000000.png ...  the fixed-z grid at the steps of the frame schedule (ganlib.train.frames)
    training.gif       the frames (or, without frames, the sample grids) as an animation
    losses.png         loss curves
    history.csv        one row of epoch means per epoch
    steps.csv          every statistic of every step: losses, health signals, critic terms (the loss plot,
                       ``doctor``); a step whose loss became NaN or infinite is its last row
    tensorboard/       TensorBoard event files (per-step losses, epoch metrics, sample grids)

Every file is written to a temporary name in the same folder and renamed into
place (``os.replace`` is atomic on POSIX and Windows), so a crash mid-write
leaves either the old file or the new one, never a broken one.

One writer: the training process holds an exclusive OS advisory lock on ``.lock``
(:class:`RunLock`) for its whole life, so that a second ``train`` on the same directory is
refused (:class:`ganlib.errors.RunLockedError`) instead of interleaving its checkpoints with
the first's. The kernel releases the lock when the process ends, however it ends (SIGKILL
included), so a stale lock never blocks a resume. Readers (``sample``, ``gif``, ``evaluate``,
``export``, :func:`ganlib.train.state.load_run`) take no lock.

Versions: ``config.json`` records ``ganlib_version`` and ``schema`` (:data:`RUN_SCHEMA`, the
version of this layout) beside the config's fields. A run of a newer schema is refused
(:class:`ganlib.errors.RunDirError`); a ``config.json`` without them (written before they
existed) is schema 1.

Storage: a write into the run directory that fails for lack of space, a file-size limit, a
read-only or removed directory becomes one :class:`ganlib.errors.StorageError` naming the file,
the last good checkpoint and how to resume (:func:`storage_errors`).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

try:
    import fcntl
except ImportError:  # Windows has no flock: training runs there without the one-writer lock (untested platform)
    fcntl = None

from ganlib import __version__
from ganlib.config import RESUMABLE_CHANGES, TrainConfig
from ganlib.errors import RunDirError, RunLockedError, StorageError

RUN_SCHEMA = 1
"""The version of the run-directory layout (see the module docstring) that this ganlib writes and reads.

Raise it when a change makes old runs unreadable by new code or new runs by old code; a run whose
``config.json`` records a newer schema is refused."""

RUN_META_KEYS = ("schema", "ganlib_version")
"""The keys of ``config.json`` that describe the run directory, not the run: not TrainConfig fields."""


def atomic_write(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)`` and rename the temporary file onto ``path`` once it is complete.

    Args:
        path: the final file; its parent folders are created.
        write: writes the whole file at the temporary path it is given.

    The file gets the mode an ordinary ``open(path, "w")`` would give it (``0o666`` less the umask),
    not the ``0o600`` of the temporary file, so a GIF or a grid can be shared as any other file.

    Returns:
        ``path`` as a Path.

    Raises:
        OSError: the folder cannot be created or the file written (no space, read-only, ...); an error of
            the operating system names ``path`` (``err.filename``), not the temporary file.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            with contextlib.suppress(OSError):  # a read-only or vanished folder: nothing to clean up there
                Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None and err.filename != str(path):
            # Name the file the caller asked for, not the temporary one (the cause keeps that detail).
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_csv(path: str | os.PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write dict rows to a CSV atomically; columns are the union of keys in first-seen order."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def read_csv(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read a CSV written by :func:`write_csv` into dict rows of floats (``epoch`` as int); [] if absent."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            parsed: dict[str, float] = {k: float(v) for k, v in row.items() if v not in ("", None)}
            if "epoch" in parsed and parsed["epoch"].is_integer():
                parsed["epoch"] = int(parsed["epoch"])
            rows.append(parsed)
        return rows


@dataclass(frozen=True)
class RunDir:
    """Paths of one run's output directory (see the module docstring for the layout)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def lock(self) -> Path:
        """The lock file of the training process (see :class:`RunLock`)."""
        return self.root / LOCK_FILE

    @property
    def data(self) -> Path:
        """The record of the training images (:func:`data_record`)."""
        return self.root / "data.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def gif(self) -> Path:
        return self.root / "training.gif"

    @property
    def loss_plot(self) -> Path:
        return self.root / "losses.png"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def steps(self) -> Path:
        return self.root / "steps.csv"

    def sample_grid(self, epoch: int) -> Path:
        """The fixed-z sample grid written after ``epoch`` (1-based)."""
        return self.samples / f"epoch_{epoch:04d}.png"

    def sample_grids(self, up_to_epoch: int | None = None) -> list[Path]:
        """The saved sample grids in epoch order, optionally only those of epochs <= ``up_to_epoch``."""
        grids = sorted(self.samples.glob("epoch_[0-9][0-9][0-9][0-9].png"))
        if up_to_epoch is not None:
            grids = [g for g in grids if int(g.stem.split("_")[1]) <= up_to_epoch]
        return grids

    @property
    def frames(self) -> Path:
        return self.root / "frames"

    def frame(self, step: int) -> Path:
        """The training-GIF frame of generator step ``step`` (0: the untrained generator)."""
        return self.frames / f"step_{step:07d}.png"

    def frame_files(self, up_to_step: int | None = None) -> list[Path]:
        """The saved training-GIF frames in step order, optionally only those of steps <= ``up_to_step``."""
        frames = sorted(self.frames.glob("step_[0-9][0-9][0-9][0-9][0-9][0-9][0-9].png"))
        if up_to_step is not None:
            frames = [f for f in frames if frame_step(f) <= up_to_step]
        return frames

    def gif_frames(self, up_to_epoch: int, steps_per_epoch: int) -> list[Path]:
        """The frames of ``training.gif`` up to the end of ``up_to_epoch``: the step frames if the run
        has any, else the per-epoch sample grids."""
        return self.frame_files(up_to_epoch * steps_per_epoch) or self.sample_grids(up_to_epoch)

    def artefacts(self) -> list[Path]:
        """Everything a run writes, for ``--overwrite`` (not the lock: the process overwriting holds it)."""
        return [self.config, self.data, self.checkpoints, self.samples, self.frames, self.gif, self.loss_plot, self.history,
                self.steps, self.root / "metrics.json", self.root / "tensorboard"]


def frame_step(path: str | os.PathLike) -> int:
    """The generator step of a frame file named by :meth:`RunDir.frame`."""
    return int(Path(path).stem.split("_")[1])


def load_config(run: RunDir) -> TrainConfig:
    """Read a run's saved config; its run-directory keys (:data:`RUN_META_KEYS`) are checked, then left out.

    A ``config.json`` without ``schema`` (written before ganlib recorded it) is schema 1.

    Raises:
        RunDirError: no ``config.json`` in the directory; it is truncated or corrupt (not a JSON object);
            its ``schema`` is newer than :data:`RUN_SCHEMA` or not a schema at all; or its fields are not
            a valid config. The message names the file and what to do.
        OSError: the file cannot be read.
    """
    if not run.config.is_file():
        raise RunDirError(f"{run.root} is not a ganlib run: expected {run.config}, which does not exist.")
    fix = ("Fix it (it holds the run's settings as 'train' wrote them), or start the run over with "
           "'train --overwrite' (deletes its checkpoints, samples and history).")
    try:
        values = json.loads(run.config.read_text(encoding="utf-8"))
    except ValueError as err:  # json.JSONDecodeError and UnicodeDecodeError
        raise RunDirError(f"{run.config} is truncated or corrupt: it is not valid JSON ({err}). {fix}") from err
    if not isinstance(values, dict):
        raise RunDirError(f"{run.config} is corrupt: expected a JSON object of config fields, received a "
                          f"{type(values).__name__}. {fix}")
    check_schema(values, run.config)
    try:
        return TrainConfig.from_dict({k: v for k, v in values.items() if k not in RUN_META_KEYS})
    except (ValueError, TypeError) as err:
        raise RunDirError(f"{run.config} is not a valid ganlib config: {err}. {fix}") from err


def check_schema(values: Mapping[str, Any], path: str | os.PathLike = "config.json") -> int:
    """The run-directory schema recorded in a ``config.json``'s ``values``, if this ganlib can use it.

    Args:
        values: the JSON object of a ``config.json``.
        path: the file, for the message.

    Returns:
        The schema: ``values["schema"]``, or 1 when absent (a run written before schemas were recorded).

    Raises:
        RunDirError: the schema is newer than :data:`RUN_SCHEMA`, or not a positive integer; the message
            names both schemas and both ganlib versions.
    """
    schema = values.get("schema", 1)
    written_by = f"ganlib {values['ganlib_version']}" if "ganlib_version" in values else "an older ganlib"
    known = "schema 1" if RUN_SCHEMA == 1 else f"schemas 1 to {RUN_SCHEMA}"
    this = f"this ganlib ({__version__}) reads run-directory {known}"
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise RunDirError(f"{path} records an unknown run-directory schema {schema!r} (written by {written_by}); "
                          f"{this}. Fix the file, or start the run over with 'train --overwrite'.")
    if schema > RUN_SCHEMA:
        raise RunDirError(
            f"{path} was written by {written_by} with run-directory schema {schema}; {this}. Upgrade ganlib to "
            f"resume or read this run, or start it over with 'train --overwrite' (or choose another --out)."
        )
    return schema


def config_record(config: TrainConfig) -> dict[str, Any]:
    """What ``config.json`` holds: the run-directory keys (``schema``, ``ganlib_version``), then the config's fields."""
    return {"schema": RUN_SCHEMA, "ganlib_version": __version__, **config.to_dict()}


def data_record(images: Any) -> dict[str, float | int]:
    """A cheap record of the training images: what ``doctor`` compares with the generator's output range.

    Args:
        images: the training images, float ``[N, H, W, C]`` (any shape; every value counts).

    Returns:
        ``{"count": N, "min", "max", "mean"}``: the number of images and the smallest, largest and mean
        pixel value over all of them (floats rounded to 6 digits).
    """
    import numpy as np

    values = np.asarray(images)
    if values.size == 0:
        return {"count": 0, "min": 0.0, "max": 0.0, "mean": 0.0}
    return {"count": int(values.shape[0]), "min": round(float(values.min()), 6), "max": round(float(values.max()), 6),
            "mean": round(float(values.mean(dtype=np.float64)), 6)}


def write_data_record(run: RunDir, images: Any) -> Path:
    """Write :func:`data_record` of ``images`` to ``RUN_DIR/data.json`` (atomically)."""
    return atomic_write_text(run.data, json.dumps(data_record(images), indent=2) + "\n")


def read_data_record(run: RunDir) -> dict[str, float] | None:
    """The run's ``data.json`` (:func:`data_record`), or None when absent (a run written before it existed) or
    unreadable."""
    try:
        record = json.loads(run.data.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = ("count", "min", "max", "mean")
    if not isinstance(record, dict) or not all(isinstance(record.get(k), (int, float)) for k in keys):
        return None
    return {k: record[k] for k in keys}


def _make_root(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunDirError(f"Cannot create the output directory {root}: {err}. Choose a writable --out.") from err
    if not os.access(root, os.W_OK):
        raise RunDirError(f"The output directory {root} is not writable. Choose a writable --out.")


def prepare_run_dir(out_dir: str | os.PathLike, config: TrainConfig, *, overwrite: bool = False) -> RunDir:
    """Create or check a run directory for ``config``; the config guard.

    * An empty or new directory: ``config.json`` is written (:func:`config_record`).
    * A directory holding a run with the same config (``epochs`` and
      ``eval_every`` may differ) and a schema this ganlib reads: accepted, the caller
      resumes it, and the new config is saved (with this ganlib's version and schema).
    * A directory holding a run with another config, or files that are not a
      ganlib run: refused, unless ``overwrite`` deletes the previous run's files
      (other files are left alone).

    It takes no lock: :func:`ganlib.train.loop.train_loop` calls it holding the directory's
    :class:`RunLock`.

    Returns:
        The :class:`RunDir`.

    Raises:
        RunDirError: the directory holds another run (the message lists the
            differences and says how to resume or overwrite), holds foreign files,
            holds a truncated or corrupt ``config.json`` or one of a newer schema
            (see :func:`load_config`), or cannot be created or written.
        StorageError: ``config.json`` cannot be written for lack of space or a read-only file system.
    """
    run = RunDir(Path(out_dir))
    if overwrite:
        for path in run.artefacts():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    _make_root(run.root)
    if run.config.is_file():
        previous = load_config(run)
        old, new = previous.to_dict(), config.to_dict()
        diffs = {k: (old.get(k), new[k]) for k in new if k not in RESUMABLE_CHANGES and old.get(k) != new[k]}
        if diffs:
            listed = ", ".join(f"{k}: run has {a!r}, received {b!r}" for k, (a, b) in diffs.items())
            raise RunDirError(
                f"{run.root} holds another run ({listed}). To resume it, repeat its settings (they are in "
                f"{run.config}; --epochs may be raised to train longer). To start over, pass --overwrite "
                f"(deletes its checkpoints, samples and history), or choose another --out."
            )
    elif not overwrite and any(p for p in run.root.iterdir() if not p.name.startswith(".")):
        raise RunDirError(
            f"{run.root} is not empty and holds no ganlib run (no config.json). Choose an empty or new --out, "
            f"or pass --overwrite to write a run there anyway."
        )
    try:
        atomic_write_text(run.config, json.dumps(config_record(config), indent=2) + "\n")
    except OSError as err:
        if is_storage_error(err, run):
            raise storage_error(err, run, recorded_checkpoint(run)) from err
        raise RunDirError(f"Cannot write to the output directory {run.root}: {err}. Choose a writable --out.") from err
    return run


def precheck_run_dir(out_dir: str | os.PathLike, *, overwrite: bool = False) -> None:
    """The checks of a run directory that need no TensorFlow, for the CLI to make before importing it.

    :func:`ganlib.train.loop.train_loop` makes them again, holding the lock; this only lets a command
    that would be refused be refused at once.

    Raises:
        RunLockedError: another process is training ``out_dir`` (see :func:`locked_by`).
        RunDirError: unless ``overwrite``, its ``config.json`` is truncated, corrupt or of a newer schema
            (see :func:`load_config`).
    """
    run = RunDir(Path(out_dir))
    holder = locked_by(run.root)
    if holder is not None:
        raise RunLockedError(_locked_message(run.root, holder), path=str(run.root), holder=holder)
    if not overwrite and run.config.is_file():
        load_config(run)


# The one writer: an OS advisory lock on RUN_DIR/.lock.

LOCK_FILE = ".lock"
_LOCK_RETRY_S = 0.25  # locked_by() holds a shared lock for an instant: a real writer meeting it tries again


class RunLock:
    """The exclusive lock of the process that trains a run directory: ``flock(LOCK_EX | LOCK_NB)`` on ``RUN_DIR/.lock``.

    :meth:`acquire` creates the directory and the lock file, takes the lock or refuses at once, and
    writes the holder's ``pid``, ``host`` and ``started`` (ISO 8601 time) into the file as JSON;
    :meth:`release` empties the file and closes it. Use it as a context manager, so that the lock is
    released when training ends, raises or is interrupted; the kernel releases it when the process
    dies (SIGKILL included), so a crashed run leaves no stale lock. The lock file itself stays (deleting
    it would let two processes lock two different files of the same name).

    The lock is advisory: it stops a second ganlib training process, not other programs. On a file
    system without locks (some network mounts) a warning is printed and training runs unlocked; on
    Windows (no ``fcntl``) there is no lock.

    Example:
        >>> with RunLock("runs/dcgan") as lock:  # doctest: +SKIP
        ...     train_the_run()

    Args:
        root: the run directory (created if missing).
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock.

        Returns:
            ``self``.

        Raises:
            RunLockedError: another process holds it; the message names the directory, the holder's pid,
                host and start time, and what to do.
            RunDirError: the directory or the lock file cannot be created.
        """
        _make_root(self.root)
        if fcntl is None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise RunDirError(f"Cannot write to the output directory {self.root}: {err}. Choose a writable --out.") \
                from err
        try:
            _lock_exclusive(fd)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunLockedError(_locked_message(self.root, holder), path=str(self.root), holder=holder) from None
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                print(f"Warning: cannot lock {self.path} on this file system ({err.strerror}); training without "
                      f"the guard against a second process writing {self.root}.", flush=True)
                return self
            raise RunDirError(f"Cannot lock {self.path}: {err}. Choose another --out.") from err
        self._fd = fd
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now().astimezone().isoformat(timespec="seconds")}
        with contextlib.suppress(OSError):  # who holds it is a courtesy: a full disk must not stop the lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        return self

    def release(self) -> None:
        """Release the lock (emptying the lock file); nothing if not held."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the only descriptor of the file releases the lock
        self._fd = None

    def check(self) -> None:
        """Raise if the run directory was moved or deleted since :meth:`acquire` (its lock file is not ours).

        Raises:
            FileNotFoundError: ``errno.ENOENT``, naming the directory.
        """
        if self._fd is None:
            return
        try:
            same = os.path.samestat(os.fstat(self._fd), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:
            raise FileNotFoundError(errno.ENOENT, "the run directory was moved or deleted while training",
                                    str(self.root))

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def locked_by(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """Who is training ``out_dir``: what its lock file says (``pid``, ``host``, ``started``), or None if no process is.

    Takes no lock of its own beyond a shared one for an instant (a writer meeting it tries again,
    see :class:`RunLock`). None on Windows.
    """
    path = Path(out_dir) / LOCK_FILE
    if fcntl is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: a read-only descriptor may take it everywhere
        except BlockingIOError:
            return _read_holder(fd)
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _lock_exclusive(fd: int) -> None:
    deadline = time.monotonic() + _LOCK_RETRY_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _locked_message(root: Path, holder: Mapping[str, Any]) -> str:
    if "pid" in holder:
        who = f"pid {holder['pid']} on host {holder.get('host', '?')}, started {holder.get('started', '?')}"
        stop = f"stop it (kill {holder['pid']} on {holder.get('host', 'its host')})"
    else:
        who, stop = "a process that has not yet recorded its pid in the lock file", "stop it"
    return (f"{root} is being trained by another process ({who}); only one process may write a run directory. "
            f"Wait for it to finish, {stop}, or pass another --out.")


# Storage errors: an OSError of a write into the run directory, said plainly.

STORAGE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG, errno.EROFS,
                                       errno.EACCES, errno.EPERM, errno.ENOENT, errno.EIO) if e is not None)
"""The errors of a storage that cannot take a run's files: full (ENOSPC, EDQUOT; EFBIG, a file-size limit,
counts as full), read-only (EROFS, EACCES, EPERM), gone (ENOENT), failing (EIO)."""

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def is_storage_error(err: OSError, run: RunDir) -> bool:
    """Whether ``err`` is a storage failure of the run directory: a :data:`STORAGE_ERRNOS` errno, about a path
    inside ``run.root`` (or about no path). A missing data file elsewhere is not one."""
    if err.errno not in STORAGE_ERRNOS:
        return False
    if not err.filename:
        return True
    root, name = os.path.abspath(run.root), os.path.abspath(os.fsdecode(err.filename))
    return os.path.commonpath([root, name]) == root


def storage_error(err: OSError, run: RunDir, last_checkpoint: str | None) -> StorageError:
    """The :class:`StorageError` of ``err``: what could not be written, the last good checkpoint, how to resume.

    Args:
        err: the ``OSError`` (its ``filename`` names what could not be written; None: the run directory).
        run: the run directory.
        last_checkpoint: the prefix of the last checkpoint saved completely (what a rerun resumes from),
            or None when none was.
    """
    what = os.fsdecode(err.filename) if err.filename else str(run.root)
    code = errno.errorcode.get(err.errno, str(err.errno))
    reason = err.strerror or str(err)
    if last_checkpoint is None:
        last, resume = "There is no good checkpoint yet: a rerun starts from epoch 0", ""
    elif not Path(f"{last_checkpoint}.index").is_file():
        last, resume = f"The last good checkpoint was {last_checkpoint}, which no longer exists", ""
    else:
        last, resume = f"The last good checkpoint is {last_checkpoint}", " to resume from it"
    if err.errno in _FULL:
        fix = (f"Free some space on the disk that holds {run.root} (or raise the file-size limit, 'ulimit -f', "
               f"if one was reached)")
    elif err.errno in _READ_ONLY:
        fix = f"Make {run.root} writable again (its permissions, or a file system mounted read-only)"
    elif err.errno == errno.ENOENT:
        fix = (f"{run.root} (or a folder in it) was moved or deleted while training: put it back, or pass "
               f"another --out for a new run")
    else:
        fix = f"Fix the storage of {run.root}"
    return StorageError(f"Training stopped: could not write {what}: {reason} ({code}). {last}. {fix}, then run the "
                        f"same command again{resume}.", path=what, last_checkpoint=last_checkpoint, errno=err.errno)


@contextlib.contextmanager
def storage_errors(run: RunDir, last_checkpoint: Callable[[], str | None]) -> Iterator[None]:
    """Within the block, turn an ``OSError`` that :func:`is_storage_error` into a :class:`StorageError`.

    Args:
        run: the run directory being written.
        last_checkpoint: returns the last good checkpoint's prefix (or None) when the error happens.

    Raises:
        StorageError: from the ``OSError`` (its cause); other exceptions pass unchanged.
    """
    try:
        yield
    except OSError as err:
        if not is_storage_error(err, run):
            raise
        raise storage_error(err, run, last_checkpoint()) from err


def recorded_checkpoint(run: RunDir) -> str | None:
    """The latest checkpoint that ``RUN_DIR/checkpoints/checkpoint`` (the CheckpointManager's state) names, read
    without TensorFlow; None when there is none or the file cannot be read."""
    try:
        text = (run.checkpoints / "checkpoint").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    match = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', text, re.MULTILINE)
    if match is None:
        return None
    return str(run.checkpoints / match.group(1))  # an absolute path stays absolute


def remove_partial_checkpoints(run: RunDir, number: int | None = None, *, folder: Path | None = None,
                               prefix: str = "ckpt") -> None:
    """Remove what an unfinished checkpoint save left in ``RUN_DIR/checkpoints`` and its subfolders (the within-epoch
    checkpoint's): TensorFlow's ``<prefix>-N_temp/`` folders, and with ``number`` the files of ``<prefix>-<number>`` in
    ``folder`` (default ``RUN_DIR/checkpoints``; a save of it that failed).

    Only the process holding the run's :class:`RunLock` may call it (another writer's save would be in progress).
    Errors are ignored: a read-only or vanished folder has nothing to clean.
    """
    if not run.checkpoints.is_dir():
        return
    for temp in [*run.checkpoints.glob("*_temp"), *run.checkpoints.glob("*/*_temp")]:
        shutil.rmtree(temp, ignore_errors=True)
    folder = run.checkpoints if folder is None else folder
    if number is not None:
        for part in [*folder.glob(f"{prefix}-{number}.data-*"), folder / f"{prefix}-{number}.index"]:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
