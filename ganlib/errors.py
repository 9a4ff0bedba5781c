"""The exception types of ganlib, importable without TensorFlow (the CLI maps them to exit statuses).

``python -m ganlib`` exits 3 on :class:`DivergenceError`; 1 on :class:`DataError` (data that cannot be
found or read), :class:`RunLockedError` (another process is training the run directory),
:class:`StorageError` (the run directory cannot be written, or its checkpoints read back) and
:class:`RunReadError` (``doctor`` cannot read the run: not a ganlib run, or its ``config.json`` unusable);
and 2 (with the usage message) on any other ``ValueError``, :class:`RunDirError` included.

``python -m ganlib doctor RUN`` exits 0 when no finding is serious (the run is healthy, or has warnings
only), 4 when a finding is serious (:data:`ganlib.doctor.report.EXIT_SERIOUS`), 1 when the run cannot be
read, 2 for a bad argument (a RUN that does not exist, a negative ``--samples``).
"""

from __future__ import annotations

from typing import Any


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


class RunDirError(ValueError):
    """A run directory that cannot be used: another run's settings, not writable, or not a ganlib run.

    Also a ``config.json`` that is truncated or corrupt, or written by a newer ganlib (a newer
    run-directory schema, :data:`ganlib.train.runs.RUN_SCHEMA`).
    """


class RunLockedError(RuntimeError):
    """Another process is training this run directory (it holds ``RUN_DIR/.lock``); a second writer is refused.

    Attributes:
        path: the run directory.
        holder: what the lock file says about the process holding it (``pid``, ``host``, ``started``);
            empty when it could not be read.
    """

    def __init__(self, message: str, *, path: str = "", holder: dict[str, Any] | None = None):
        super().__init__(message)
        self.path = path
        self.holder = dict(holder or {})


class StorageError(RuntimeError):
    """Training could not write its run directory (no space, a file-size limit, read-only, removed), or could
    not read back any of the checkpoints it must resume from.

    Attributes:
        path: what could not be written or read.
        last_checkpoint: the prefix of the last good checkpoint (the one a rerun resumes from), or None.
        errno: the ``errno`` of the underlying ``OSError`` (``errno.ENOSPC``, ...), or None.
    """

    def __init__(self, message: str, *, path: str = "", last_checkpoint: str | None = None,
                 errno: int | None = None):
        super().__init__(message)
        self.path = path
        self.last_checkpoint = last_checkpoint
        self.errno = errno


class RunReadError(RuntimeError):
    """A run directory that ``doctor`` cannot read: not a ganlib run (no ``config.json``), or a ``config.json``
    that is truncated, corrupt or of a newer schema (the :class:`RunDirError` is its cause)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM after saving a checkpoint within the epoch; the message names it.

    Attributes:
        signum: the signal received (``signal.SIGINT``: 2, ``signal.SIGTERM``: 15).
        checkpoint: the prefix of the checkpoint saved (None if nothing was left to save).
    """

    def __init__(self, message: str, *, signum: int, checkpoint: str | None):
        super().__init__(message)
        self.signum, self.checkpoint = signum, checkpoint


class DataError(ValueError):
    """Training or test data that cannot be found or read (a missing, truncated or corrupt file)."""


class IDXError(DataError):
    """An IDX file that is missing, truncated, of the wrong magic number, or inconsistent with its header."""


__all__ = ["DataError", "DivergenceError", "IDXError", "RunDirError", "RunLockedError", "RunReadError", "StorageError",
           "TrainingInterrupted"]
