"""Input checks shared by the feature-based metrics: feature arrays ``[N, D]`` and neighbour counts k.

Private to :mod:`ganlib.metrics`. Every check raises ``ValueError`` with a message ending in
``Received: ...``:

* ``_check_features(features, name, min_rows=, dim=, dtype=)``: a 2-D array (``[N, dim]`` when
  ``dim`` is given) with at least ``min_rows`` rows of finite values, converted to ``dtype``
  (no copy when it already has it).
* ``_check_k(k)``: a positive integer, not a bool.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _check_features(
    features: Any, name: str, *, min_rows: int, dim: int | None = None, dtype: type = np.float64
) -> np.ndarray:
    f = np.asarray(features, dtype=dtype)  # no copy when it already has this dtype
    if f.ndim != 2 or (dim is not None and f.shape[1] != dim):
        expected = f"[N, {dim}]" if dim is not None else "[N, D]"
        raise ValueError(f"Expected {name} of shape {expected}. Received: {name}.shape={list(f.shape)}")
    if len(f) < min_rows:
        raise ValueError(f"Expected at least {min_rows} rows of {name}. Received: {len(f)}")
    if not np.isfinite(f).all():
        raise ValueError(f"Expected finite {name}. Received: {name} containing NaN or infinity")
    return f


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer. Received: k={k!r}")
    return int(k)
