"""KID: the kernel (classifier) distance, an unbiased MMD^2 on the classifier's features.

:func:`polynomial_mmd2` is the unbiased estimate of the squared maximum mean discrepancy between
``x`` ``[m, d]`` and ``y`` ``[n, d]`` with the cubic polynomial kernel ``k(a, b) = (a.b / d + 1)^3``:

``MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
- 2/(m n) sum_{i, j} k(x_i, y_j)``.

:func:`kernel_distance` (KID, Binkowski et al. 2018) averages it over ``num_subsets`` random
subsets of ``subset_size`` rows from each set (defaults :data:`KID_SUBSETS` = 100 subsets of
:data:`KID_SUBSET_SIZE` = 1,000, capped at the smaller set) and reports the mean and the standard
deviation across subsets. Unlike FCD it is unbiased, so it is comparable across sample sizes; it
is about 0 (and can be slightly negative) for two samples of one distribution, lower is better.
With ganlib's classifier in place of Inception-v3 **its values are specific to that classifier**.

Errors: ``ValueError`` for features with fewer than 2 rows, different d or non-finite values,
``num_subsets`` < 1 or ``subset_size`` < 2.

References:
    Binkowski et al. 2018, Demystifying MMD GANs (KID), https://arxiv.org/abs/1801.01401.
    Gretton et al. 2012, A Kernel Two-Sample Test, JMLR 13, https://jmlr.org/papers/v13/gretton12a.html.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ganlib.metrics._validation import _check_features



# 100 subsets of 1,000: each subset's estimate is unbiased whatever its size, so the size trades the
# spread of one estimate against cost (docs/decisions/013-metrics-search-and-kid.md); 100 subsets give
# the spread across subsets to about 7% (relative standard error of a standard deviation,
# 1/sqrt(2 (S - 1))). A sample smaller than 1,000 uses subsets of its own size.
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


class KernelDistance(NamedTuple):
    """KID over random subsets.

    Attributes:
        kid: mean over subsets of the unbiased MMD^2 estimate (can be slightly negative; 0 = same distribution).
        std: standard deviation of the subset estimates (the spread of ONE estimate at this subset
            size; the mean's own uncertainty is smaller).
        num_subsets: S.
        subset_size: images per subset, from each set.
    """

    kid: float
    std: float
    num_subsets: int
    subset_size: int


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased estimate of the squared MMD between two samples, with the cubic polynomial kernel of KID.

    ``k(a, b) = (a.b / d + 1)^3`` with d the feature dimension, and

    ``MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
    - 2/(m n) sum_{i, j} k(x_i, y_j)``.

    Unbiased: its expectation is the population MMD^2 whatever m and n, so it is near 0
    (and can be negative) for two samples of one distribution; FID's plug-in estimate is
    biased upward at small N instead.

    Args:
        x: ``[m, d]``, m >= 2.
        y: ``[n, d]``, n >= 2.

    Returns:
        The estimate (float; in the features' units cubed).

    Raises:
        ValueError: fewer than 2 rows, different d, or non-finite values.

    References:
        Binkowski et al. 2018, Demystifying MMD GANs, https://arxiv.org/abs/1801.01401, section 2.2 and
        appendix on KID; Gretton et al. 2012, A Kernel Two-Sample Test, JMLR 13, equation (3).
    """
    x = _check_features(x, "x", min_rows=2)
    y = _check_features(y, "y", min_rows=2, dim=x.shape[1])
    return _polynomial_mmd2(x.astype(np.float32), y.astype(np.float32))


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    # float32 rows. Kernel values in float32 (relative rounding ~1e-7, far below the spread between subsets),
    # summed in float64 because the three means nearly cancel.
    scale = np.float32(1.0 / x.shape[1])
    m, n = len(x), len(y)

    def kernel_sum(a: np.ndarray, b: np.ndarray, *, within: bool) -> float:
        k = a @ b.T
        k *= scale
        k += 1.0
        cube = k * k
        cube *= k
        total = float(cube.sum(dtype=np.float64))
        return total - float(np.trace(cube, dtype=np.float64)) if within else total  # i != j within a set

    within_x = kernel_sum(x, x, within=True) / (m * (m - 1))
    within_y = kernel_sum(y, y, within=True) / (n * (n - 1))
    return within_x + within_y - 2.0 * kernel_sum(x, y, within=False) / (m * n)


def kernel_distance(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    *,
    num_subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> KernelDistance:
    """KID: :func:`polynomial_mmd2` averaged over random subsets, with its spread.

    Each of ``num_subsets`` rounds draws ``subset_size`` real and ``subset_size`` generated
    feature vectors without replacement (``numpy.random.default_rng(seed)``) and computes the
    unbiased MMD^2; KID is their mean and ``std`` their standard deviation. With Inception-v3
    features this is the Kernel Inception Distance; here it uses ganlib's classifier (TF-GAN
    calls the general form the kernel classifier distance), so **its values are specific to
    that classifier**, like FCD. Lower is better; about 0 for two samples of one distribution.

    Defaults: 100 subsets of 1,000 (see ``KID_SUBSETS``): each subset estimate is unbiased,
    so the subset size changes the spread, not the expectation. Their cost, which set the
    default: see the comment at ``KID_SUBSETS``. ``subset_size`` is capped at the smaller set.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> same = kernel_distance(rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16)), num_subsets=10)
        >>> abs(same.kid) < 3 * same.std
        True

    Args:
        real_features: ``[M, D]`` (ganlib: the test split's ``[10000, 128]``), M >= 2.
        fake_features: ``[N, D]``, N >= 2.
        num_subsets: S >= 1.
        subset_size: images per subset and per set, >= 2 (capped at ``min(M, N)``).
        seed: seed of the subsets.

    Returns:
        :class:`KernelDistance` (``kid``, ``std``, ``num_subsets``, ``subset_size`` actually used).

    Raises:
        ValueError: bad features, ``num_subsets`` < 1 or ``subset_size`` < 2.

    References:
        Binkowski et al. 2018, Demystifying MMD GANs, https://arxiv.org/abs/1801.01401, section 4 (KID).
    """
    real = _check_features(real_features, "real_features", min_rows=2, dtype=np.float32)
    fake = _check_features(fake_features, "fake_features", min_rows=2, dim=real.shape[1], dtype=np.float32)
    if isinstance(num_subsets, bool) or not isinstance(num_subsets, (int, np.integer)) or num_subsets < 1:
        raise ValueError(f"num_subsets must be a positive integer. Received: num_subsets={num_subsets!r}")
    if isinstance(subset_size, bool) or not isinstance(subset_size, (int, np.integer)) or subset_size < 2:
        raise ValueError(f"subset_size must be an integer >= 2. Received: subset_size={subset_size!r}")
    size = int(min(subset_size, len(real), len(fake)))
    rng = np.random.default_rng(seed)
    estimates = np.empty(int(num_subsets))
    for i in range(len(estimates)):
        real_rows = rng.choice(len(real), size, replace=False)
        estimates[i] = _polynomial_mmd2(real[real_rows], fake[rng.choice(len(fake), size, replace=False)])
    std = float(estimates.std(ddof=1)) if len(estimates) > 1 else 0.0
    return KernelDistance(float(estimates.mean()), std, int(num_subsets), size)


__all__ = [
    "KID_SUBSETS", "KID_SUBSET_SIZE", "KernelDistance", "kernel_distance", "polynomial_mmd2",
]
