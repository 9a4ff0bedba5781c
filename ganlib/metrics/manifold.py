"""Fidelity and diversity from k-NN balls: improved precision and recall, density and coverage.

Both pairs compare real features ``Phi_r`` ``[M, D]`` (ganlib: the test split, ``[10000, 128]``)
with generated features ``Phi_g`` ``[N, D]``, with balls ``B(x, NND_k(x))`` reaching each point's
k-th nearest neighbour in its own set (:mod:`ganlib.metrics.neighbours`). Balls are closed (``<=``).

* **Improved precision and recall** (:func:`precision_recall`, k = 3; Kynkaanniemi et al. 2019),
  both in [0, 1], higher is better: with ``f(phi, Phi) = 1`` if ``phi`` lies in a ball of
  ``Phi``, ``precision = mean_g f(phi_g, Phi_r)`` (fidelity: the share of generated samples inside
  the real manifold) and ``recall = mean_r f(phi_r, Phi_g)`` (diversity). Needs M, N > k.
* **Density and coverage** (:func:`density_coverage`, k = 5; Naeem et al. 2020): balls around
  REAL samples only, so a few outlying real samples cannot inflate fidelity the way they inflate
  precision. ``density = (1 / (k N)) sum_j sum_i 1[Y_j in B(X_i)]`` (>= 0, about 1 for a sample of
  the real distribution) and ``coverage = (1/M) sum_i 1[exists j: Y_j in B(X_i)]`` (in [0, 1]).
  Needs M > k and N >= 1.

Errors: ``ValueError`` for a k that is not a positive integer, too few rows, different D or
non-finite values.

References:
    Kynkaanniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models,
    https://arxiv.org/abs/1904.06991.
    Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models,
    https://arxiv.org/abs/2002.09797.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ganlib.metrics._validation import _check_features, _check_k
from ganlib.metrics.neighbours import _row_blocks, _squared_distances, _squared_norms, _squared_radii


PRECISION_RECALL_K = 3  # Kynkaanniemi et al. 2019
DENSITY_COVERAGE_K = 5  # Naeem et al. 2020


class PrecisionRecall(NamedTuple):
    """Improved precision (fidelity) and recall (diversity), both in [0, 1]; ``k`` of the k-NN balls."""

    precision: float
    recall: float
    k: int


class DensityCoverage(NamedTuple):
    """Density (fidelity, >= 0, about 1 for a sample from the real distribution) and coverage (in [0, 1])."""

    density: float
    coverage: float
    k: int


def _manifold_pass(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    real_radii_pr: np.ndarray | None = None,
    fake_radii_pr: np.ndarray | None = None,
    real_radii_dc: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    # One pass over the fake-to-real squared distances (float32 rows; SQUARED radii), block by block of fake
    # rows, gathering what precision, recall, density and coverage need. Balls are closed (<=), as in
    # Kynkaanniemi et al.'s f(phi, Phi).
    real_norms, fake_norms = _squared_norms(real), _squared_norms(fake)
    out: dict[str, np.ndarray] = {}
    if real_radii_pr is not None:
        out["fake_in_real"] = np.zeros(len(fake), bool)
    if fake_radii_pr is not None:
        out["real_in_fake"] = np.zeros(len(real), bool)
    if real_radii_dc is not None:
        out["real_balls"] = np.zeros(len(fake), np.int64)
        out["nearest_fake"] = np.full(len(real), np.inf)
    for start, stop in _row_blocks(len(fake), len(real), 4):
        d2 = _squared_distances(fake[start:stop], fake_norms[start:stop], real, real_norms)  # [block, M]
        if real_radii_pr is not None:
            out["fake_in_real"][start:stop] = (d2 <= real_radii_pr[None, :]).any(axis=1)
        if fake_radii_pr is not None:
            out["real_in_fake"] |= (d2 <= fake_radii_pr[start:stop, None]).any(axis=0)
        if real_radii_dc is not None:
            out["real_balls"][start:stop] = (d2 <= real_radii_dc[None, :]).sum(axis=1)
            np.minimum(out["nearest_fake"], d2.min(axis=0), out=out["nearest_fake"])
    return out


def precision_recall(
    real_features: np.ndarray, fake_features: np.ndarray, *, k: int = PRECISION_RECALL_K
) -> PrecisionRecall:
    """Improved precision and recall of generated samples (Kynkaanniemi et al. 2019).

    Each set's manifold is approximated by the union of balls around its points, each
    ball reaching the point's k-th nearest neighbour in the same set:
    ``f(phi, Phi) = 1 if ||phi - phi'|| <= ||phi' - NN_k(phi', Phi)|| for at least one phi' in Phi``.
    Then

    * ``precision = (1/|Phi_g|) sum_{phi_g} f(phi_g, Phi_r)``: the share of generated samples
      inside the real manifold (fidelity);
    * ``recall = (1/|Phi_r|) sum_{phi_r} f(phi_r, Phi_g)``: the share of real samples inside
      the generated manifold (diversity).

    Distances are computed in blocks (16 MB at a time), so 10,000 x 10,000 fits in memory,
    from float32 squared distances (ties within rounding, about 1e-6 relative, may go either way).
    A real outlier has a large ball that can swallow unrelated generated samples, which
    inflates precision (Naeem et al. 2020): see :func:`density_coverage`.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(500, 8))
        >>> precision_recall(x, x + 10.0)  # two sets far apart: no fidelity, no diversity
        PrecisionRecall(precision=0.0, recall=0.0, k=3)

    Args:
        real_features: ``[M, D]`` features of real images (ganlib uses the test split, ``[10000, 128]``), M > k.
        fake_features: ``[N, D]`` features of generated images, N > k.
        k: the neighbour that sets each ball's radius; the paper's 3 by default.

    Returns:
        :class:`PrecisionRecall`: ``precision`` and ``recall`` in [0, 1], and ``k``.

    Raises:
        ValueError: ``k`` not a positive integer, fewer than k + 1 rows in a set, different D, or
            non-finite values.

    References:
        Kynkaanniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models,
        https://arxiv.org/abs/1904.06991, equations (1)-(3).
    """
    k = _check_k(k)
    real = _check_features(real_features, "real_features", min_rows=k + 1, dtype=np.float32)
    fake = _check_features(fake_features, "fake_features", min_rows=k + 1, dim=real.shape[1], dtype=np.float32)
    hits = _manifold_pass(real, fake, real_radii_pr=_squared_radii(real, (k,))[k],
                          fake_radii_pr=_squared_radii(fake, (k,))[k])
    return PrecisionRecall(float(hits["fake_in_real"].mean()), float(hits["real_in_fake"].mean()), k)


def density_coverage(
    real_features: np.ndarray, fake_features: np.ndarray, *, k: int = DENSITY_COVERAGE_K
) -> DensityCoverage:
    """Density and coverage of generated samples (Naeem et al. 2020), k-NN balls around REAL samples only.

    With real samples ``X_1..X_M``, generated ``Y_1..Y_N`` and ``B(X_i, NND_k(X_i))`` the closed
    ball around ``X_i`` reaching its k-th nearest real neighbour:

    * ``density = (1 / (k N)) sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]``: how many real balls
      hold each generated sample, divided by k. Its expectation is 1 when the two sets come
      from one distribution; above 1 when samples crowd dense real regions; a lone real
      outlier's large ball adds at most 1/k per sample it swallows, where precision counts the
      sample as fully inside (the paper's fix for precision's sensitivity to outliers).
    * ``coverage = (1/M) sum_i 1[exists j: Y_j in B(X_i, NND_k(X_i))]``: the share of real
      samples whose ball holds at least one generated sample (diversity, in [0, 1]). For
      identical distributions its expectation is ``1 - C(M-1, k) / C(M+N-1, k)``, about
      ``1 - 2^-k`` = 0.969 at k = 5 and M = N.

    The paper's default k = 5 makes that real-vs-real coverage above 0.95. Balls are closed
    (``<=``; the authors' code uses ``<``), which only matters for exact duplicates: a copy of a
    real sample then lies inside that sample's ball.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(500, 8))
        >>> density_coverage(x, x[:250] + 10.0).coverage
        0.0

    Args:
        real_features: ``[M, D]`` features of real images (ganlib: the test split), M > k.
        fake_features: ``[N, D]`` features of generated images, N >= 1.
        k: the neighbour that sets each real ball's radius; the paper's 5 by default.

    Returns:
        :class:`DensityCoverage`: ``density`` (>= 0, unbounded above), ``coverage`` in [0, 1], and ``k``.

    Raises:
        ValueError: ``k`` not a positive integer, M <= k, no generated rows, different D, or non-finite values.

    References:
        Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models,
        https://arxiv.org/abs/2002.09797, section 3.
    """
    k = _check_k(k)
    real = _check_features(real_features, "real_features", min_rows=k + 1, dtype=np.float32)
    fake = _check_features(fake_features, "fake_features", min_rows=1, dim=real.shape[1], dtype=np.float32)
    squared_radii = _squared_radii(real, (k,))[k]
    return _density_coverage(_manifold_pass(real, fake, real_radii_dc=squared_radii), squared_radii, k)


def _density_coverage(hits: dict[str, np.ndarray], squared_radii: np.ndarray, k: int) -> DensityCoverage:
    density = float(hits["real_balls"].sum() / (k * len(hits["real_balls"])))
    return DensityCoverage(density, float(np.mean(hits["nearest_fake"] <= squared_radii)), k)


__all__ = [
    "DENSITY_COVERAGE_K", "PRECISION_RECALL_K", "DensityCoverage", "PrecisionRecall", "density_coverage",
    "precision_recall",
]
