"""Saving a checkpoint into a run directory, with a failure said as the storage error it is.

Both kinds of checkpoint that :func:`ganlib.train.loop.train_loop` writes, after every epoch and within one
(:mod:`ganlib.train.within_epoch`), are saved by :func:`save_checkpoint`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import tensorflow as tf

from ganlib.train.runs import RunDir, remove_partial_checkpoints

# The errno of a failed checkpoint write, recognised in TensorFlow's message (it carries the OS's strerror).
_CHECKPOINT_ERRNOS = tuple(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG, errno.EROFS,
                                       errno.EACCES, errno.EPERM, errno.ENOENT, errno.EIO) if e is not None)


def save_checkpoint(manager: tf.train.CheckpointManager, run: RunDir, number: int, *, folder: os.PathLike | None = None,
                    prefix: str = "ckpt") -> str:
    """``manager.save(checkpoint_number=number)``, returning the prefix saved.

    A failure becomes an ``OSError`` naming the checkpoint (its errno recognised in TensorFlow's message), and what
    the failed save left (``<prefix>-N_temp/``, a partial ``<prefix>-N`` in ``folder``, default
    ``RUN_DIR/checkpoints``) is removed.
    """
    folder = run.checkpoints if folder is None else Path(folder)
    try:
        return manager.save(checkpoint_number=number)
    except (tf.errors.OpError, OSError) as err:
        remove_partial_checkpoints(run, number, folder=folder, prefix=prefix)
        if isinstance(err, OSError):
            raise
        code = next((e for e in _CHECKPOINT_ERRNOS if os.strerror(e) in err.message), errno.EIO)
        reason = os.strerror(code) if os.strerror(code) in err.message else err.message
        raise OSError(code, reason, str(folder / f"{prefix}-{number}")) from err


__all__ = ["save_checkpoint"]
