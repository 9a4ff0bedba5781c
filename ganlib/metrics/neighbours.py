"""Blocked pairwise distances: nearest neighbours and k-NN radii, shared by the manifold metrics and memorisation.

For query rows ``q`` ``[N, D]`` and reference rows ``r`` ``[M, D]`` (features ``[*, 128]`` or
flattened pixels ``[*, 784]``), squared Euclidean distances are computed as
``||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r``, one float32 matrix product per block of rows, so that
the N x M matrix (400 MB for 10,000 x 10,000 float32) is never held at once (blocks of 16 MB;
64 MB for the nearest-neighbour search):

* :func:`nearest_neighbours`: each query's nearest reference row, ``distances`` ``[N]`` (float64,
  recomputed exactly for the neighbour found, >= 0) and ``indices`` ``[N]``.
* :func:`knn_radii`: ``NND_k(x_i) = ||x_i - NN_k(x_i)||``, the distance from each row to its k-th
  nearest *other* row ``[N]`` (float64, >= 0): the radius of its k-NN ball (Kynkaanniemi et al.
  2019, section 2; Naeem et al. 2020).

float32 rounding (about 1e-6 relative on a squared distance) may swap two neighbours that are
equally near to that precision.

Errors: ``ValueError`` for arrays that are not 2-D, have different D, too few rows (N > k for the
radii) or non-finite values, or a k that is not a positive integer.

References:
    Kynkaanniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models,
    https://arxiv.org/abs/1904.06991, section 2.
    Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models,
    https://arxiv.org/abs/2002.09797, section 3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ganlib.metrics._validation import _check_features, _check_k


# Bytes of one block of a distance matrix: 10,000 x 10,000 float32 distances (400 MB) are never held at once.
_BLOCK_BYTES = 16 * 2**20


def _row_blocks(rows: int, columns: int, itemsize: int, block_bytes: int = _BLOCK_BYTES):
    step = max(1, block_bytes // (itemsize * max(columns, 1)))
    for start in range(0, rows, step):
        yield start, min(start + step, rows)


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _squared_distances(a: np.ndarray, a_norms: np.ndarray, b: np.ndarray, b_norms: np.ndarray) -> np.ndarray:
    # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b: one matrix product (float32: about 3x faster than float64 here)
    # instead of an [n, m, D] difference tensor; updated in place to keep one [n, m] array.
    d2 = a @ b.T
    d2 *= -2.0
    d2 += a_norms[:, None]
    d2 += b_norms[None, :]
    return np.maximum(d2, 0.0, out=d2)  # rounding leaves tiny negatives for (near-)identical rows


class NearestNeighbours(NamedTuple):
    """For each query row, its nearest reference row.

    Attributes:
        distances: Euclidean distances ``[N]`` (float64), recomputed exactly for the neighbour found.
        indices: row indices into the references ``[N]`` (int64).
    """

    distances: np.ndarray
    indices: np.ndarray


def nearest_neighbours(queries: np.ndarray, references: np.ndarray) -> NearestNeighbours:
    """Nearest reference row (Euclidean) of every query row, in blocks so that N x M never sits in memory.

    The search computes ``||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r`` in float32 (one matrix
    product per block); the distance to the neighbour found is then recomputed exactly in float64.
    Why float32 for the search: see ``_squared_distances``. Two references whose squared distances
    differ by less than float32 rounding (about 1e-7 relative) may swap; either is a nearest
    neighbour to that precision.

    Example:
        >>> nn = nearest_neighbours(np.array([[0.0, 0.1], [5.0, 5.0]]), np.array([[0.0, 0.0], [4.0, 5.0]]))
        >>> nn.indices.tolist(), np.round(nn.distances, 3).tolist()
        ([0, 1], [0.1, 1.0])

    Args:
        queries: ``[N, D]`` finite numbers (flattened pixels ``[N, 784]`` or features ``[N, 128]``), N >= 1.
        references: ``[M, D]`` finite numbers, M >= 1 (for example the training split).

    Returns:
        :class:`NearestNeighbours` with ``distances`` and ``indices`` of shape ``[N]``.

    Raises:
        ValueError: not 2-D, different D, empty, or non-finite values.
    """
    references = np.asarray(references)
    queries = np.asarray(queries)
    r = _check_features(references, "references", min_rows=1, dtype=np.float32)
    q = _check_features(queries, "queries", min_rows=1, dim=r.shape[1], dtype=np.float32)
    r_norms = _squared_norms(r)
    indices = np.empty(len(q), np.int64)
    # Larger blocks than elsewhere, for 784-d rows against 60,000 references: docs/decisions/013-metrics-search-and-kid.md.
    for start, stop in _row_blocks(len(q), len(r), 4, block_bytes=4 * _BLOCK_BYTES):
        # argmin of ||r||^2 - 2 q.r: ||q||^2 is the same along a row.
        scores = q[start:stop] @ r.T
        scores *= -2.0
        scores += r_norms[None, :]
        indices[start:stop] = np.argmin(scores, axis=1)
    diff = queries.astype(np.float64) - references[indices].astype(np.float64)
    distances = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return NearestNeighbours(distances, indices)


def knn_radii(features: np.ndarray, *, k: int) -> np.ndarray:
    """Distance from every row to its k-th nearest OTHER row: the radius of its k-NN ball.

    ``NND_k(x_i) = ||x_i - NN_k(x_i)||``, where the neighbours are taken among the other
    N - 1 rows (a row is excluded by position, so an exact duplicate elsewhere counts as a
    neighbour at distance 0). Computed in blocks of rows from float32 squared distances
    (relative rounding about 1e-6 of a squared distance).

    Args:
        features: ``[N, D]`` finite numbers, N > k.
        k: which neighbour, >= 1.

    Returns:
        float64 ``[N]``, >= 0.

    Raises:
        ValueError: ``k`` not a positive integer, N <= k, or bad features.

    References:
        Kynkaanniemi et al. 2019, https://arxiv.org/abs/1904.06991, section 2.
    """
    k = _check_k(k)
    f = _check_features(features, "features", min_rows=k + 1, dtype=np.float32)
    return np.sqrt(_squared_radii(f, (k,))[k])


def _squared_radii(f: np.ndarray, ks: tuple[int, ...]) -> dict[int, np.ndarray]:
    # Squared k-NN radii of float32 rows for several k from one pass over the distances.
    norms = _squared_norms(f)
    radii = {k: np.empty(len(f), np.float64) for k in ks}
    for start, stop in _row_blocks(len(f), len(f), 4):
        d2 = _squared_distances(f[start:stop], norms[start:stop], f, norms)
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf  # a row is not its own neighbour
        # One selection of the max(ks) smallest per row (then a sort of those few) costs half of selecting
        # each k-th separately.
        nearest = np.sort(np.partition(d2, max(ks) - 1, axis=1)[:, : max(ks)], axis=1)
        for k in ks:
            radii[k][start:stop] = nearest[:, k - 1]
    return radii


__all__ = [
    "NearestNeighbours", "knn_radii", "nearest_neighbours",
]
