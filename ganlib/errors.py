"""The exception types of ganlib, importable without TensorFlow (the CLI maps them to exit statuses).

``python -m ganlib`` exits 3 on :class:`DivergenceError`, 1 on :class:`DataError` (data that cannot be
found or read), and 2 (with the usage message) on any other ``ValueError``, :class:`RunDirError` included.
"""

from __future__ import annotations


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; training stopped and the last good checkpoint was kept."""


class RunDirError(ValueError):
    """A run directory that cannot be used: another run's settings, not writable, or not a ganlib run."""


class DataError(ValueError):
    """Training or test data that cannot be found or read (a missing, truncated or corrupt file)."""


class IDXError(DataError):
    """An IDX file that is missing, truncated, of the wrong magic number, or inconsistent with its header."""


__all__ = ["DataError", "DivergenceError", "IDXError", "RunDirError"]
