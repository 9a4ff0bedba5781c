"""Figures of one forward pass: Frechet classifier distance (FCD), classifier score, class coverage.

All three are pure functions of the shipped classifier's outputs (:mod:`ganlib.metrics.classifier`)
on N generated images, compared with the test split (:mod:`ganlib.metrics.references`):

* **Frechet classifier distance** (:func:`frechet_distance` of two :func:`feature_statistics`):
  the Frechet distance between Gaussians fitted to the 128-d features ``[N, 128]`` of the
  generated and of the test images,
  ``d^2 = ||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2))``, a float >= 0; lower is
  better, 0 means identical feature statistics. It is FID (Heusel et al. 2017) with this small
  classifier in place of Inception-v3, so **FCD values are NOT comparable with Inception-based
  FID numbers** from papers, nor between the MNIST and the Fashion-MNIST classifier, nor across
  sample counts (the estimate is biased upward for small N).
* **Classifier score** (:func:`classifier_score`): ``exp(E_x[KL(p(y|x) || p(y))])`` of the
  class probabilities ``[N, K]``, the Inception score (Salimans et al. 2016) with this
  classifier. In ``[1, K]`` (1 to 10 here): high when each sample is classified confidently
  *and* the classes are balanced.
* **Mode coverage** (:func:`mode_coverage`): the histogram of predicted classes ``[K]``, the
  number of classes *covered* (holding at least ``threshold`` of the samples; default 2.5%, a
  quarter of the uniform share 1/10), and the KL divergence of the histogram to the uniform
  distribution in nats (0 for perfect balance, log 10 = 2.30 when every sample falls in one class).

These figures cannot tell a generator that copies training images from a good one, nor separate
fidelity from diversity: :mod:`ganlib.metrics.manifold`, :mod:`ganlib.metrics.kid` and
:mod:`ganlib.metrics.memorisation` do.

Errors: ``ValueError`` for features that are not finite ``[N, D]`` with N >= 2, Gaussian
parameters whose shapes do not match ``[D]`` / ``[D, D]``, probabilities that are not rows of a
softmax, labels outside ``0..K-1`` or a threshold outside (0, 1].

References:
    Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium (FID), https://arxiv.org/abs/1706.08500.
    Salimans et al. 2016, Improved Techniques for Training GANs (Inception score),
    https://arxiv.org/abs/1606.03498.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ganlib.data import NUM_CLASSES

DEFAULT_COVERAGE_THRESHOLD = 0.25 / NUM_CLASSES  # a quarter of the uniform share: 2.5% of the samples


class FeatureStatistics(NamedTuple):
    """Mean ``[D]`` and covariance ``[D, D]`` (float64) of N feature vectors."""

    mean: np.ndarray
    cov: np.ndarray
    count: int


def feature_statistics(features: np.ndarray) -> FeatureStatistics:
    """Mean and unbiased covariance (divisor N - 1) of feature vectors.

    Args:
        features: ``[N, D]`` finite numbers, N >= 2.

    Returns:
        :class:`FeatureStatistics` with ``mean`` ``[D]``, ``cov`` ``[D, D]`` (float64) and ``count`` N.

    Raises:
        ValueError: not 2-D, fewer than 2 rows, or non-finite values.
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"Expected features of shape [N, D]. Received: shape={list(f.shape)}")
    if len(f) < 2:
        raise ValueError(f"Expected at least 2 feature vectors for a covariance. Received: {len(f)}")
    if not np.isfinite(f).all():
        raise ValueError("Expected finite features. Received: features containing NaN or infinity")
    return FeatureStatistics(f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False)), len(f))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet (2-Wasserstein) distance between two Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``; with
    classifier features this is the FCD, with Inception-v3 pool features it is FID.
    The trace of the matrix square root is computed as
    ``Tr((s1^(1/2) sigma2 s1^(1/2))^(1/2))`` (the same eigenvalues as ``sigma1 sigma2``),
    from symmetric eigendecompositions only: the result is real by construction, so
    there are no spurious imaginary parts to drop (``scipy.linalg.sqrtm`` of the
    non-symmetric product returns them), and tiny negative eigenvalues from rounding
    are clipped to 0. Returns the squared distance, as FID does.

    Args:
        mu1, mu2: means ``[D]``.
        sigma1, sigma2: covariance matrices ``[D, D]``, symmetric positive semi-definite.

    Returns:
        The squared Frechet distance, a float >= 0 (0 for identical statistics).

    Raises:
        ValueError: shapes that do not match ``[D]`` / ``[D, D]``, or non-finite values.

    References:
        Heusel et al. 2017, https://arxiv.org/abs/1706.08500, equation (6); Dowson and Landau 1982.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"Expected means of shape [D] and covariances of shape [D, D] for one D. Received: "
            f"mu1={list(mu1.shape)}, sigma1={list(sigma1.shape)}, mu2={list(mu2.shape)}, sigma2={list(sigma2.shape)}"
        )
    if not all(np.isfinite(a).all() for a in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("Expected finite means and covariances. Received: values containing NaN or infinity")
    root1 = _sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sqrt(_psd_eigenvalues(middle)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)  # rounding can leave -1e-12 for identical statistics


def _psd_eigenvalues(matrix: np.ndarray, vectors: bool = False):
    # Eigenvalues of a symmetric PSD matrix; those within rounding noise of 0 (the tolerance of
    # numpy.linalg.matrix_rank) are set to exactly 0, so singular covariances (dead ReLU units,
    # N < D) add no sqrt(noise) terms and no negative values.
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    tolerance = float(np.abs(eigenvalues).max(initial=0.0)) * len(eigenvalues) * np.finfo(np.float64).eps
    eigenvalues = np.where(eigenvalues > tolerance, eigenvalues, 0.0)
    return (eigenvalues, eigenvectors) if vectors else eigenvalues


def _sqrtm_psd(sigma: np.ndarray) -> np.ndarray:
    # The symmetric square root of a symmetric PSD matrix, from its eigendecomposition.
    eigenvalues, eigenvectors = _psd_eigenvalues(sigma, vectors=True)
    return (eigenvectors * np.sqrt(eigenvalues)) @ eigenvectors.T


def _check_probabilities(probs: Any) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"Expected class probabilities of shape [N, K] with N >= 1, K >= 2. Received: shape={list(p.shape)}")
    if not np.isfinite(p).all() or p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(
            "Expected class probabilities: non-negative rows that sum to 1 (softmax of logits). "
            f"Received: values in [{np.nanmin(p):g}, {np.nanmax(p):g}], row sums in "
            f"[{np.nanmin(p.sum(axis=1)):g}, {np.nanmax(p.sum(axis=1)):g}]"
        )
    return p


def classifier_score(probs: np.ndarray) -> float:
    """Classifier score ``exp(E_x[KL(p(y|x) || p(y))])``: the Inception score with another classifier.

    ``p(y)`` is the mean of ``p(y|x)`` over the N samples. The score lies in ``[1, K]``:
    1 when every sample gets the same class distribution (for example one class
    only), K when every sample is classified with certainty and the classes are
    equally frequent. Computed over all N samples at once (Salimans et al. average
    it over 10 splits).

    Args:
        probs: ``p(y|x)``, ``[N, K]``, rows non-negative and summing to 1.

    Returns:
        The score, a float in ``[1, K]``.

    Raises:
        ValueError: not ``[N, K]`` probabilities.

    References:
        Salimans et al. 2016, https://arxiv.org/abs/1606.03498, section 4.
    """
    p = _check_probabilities(probs)
    marginal = p.mean(axis=0)
    # 0 * log 0 = 0: classes with p(y|x) = 0 contribute nothing (and then p(y) = 0 only if all are 0).
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


class ModeCoverage(NamedTuple):
    """Predicted-class histogram of a sample.

    Attributes:
        histogram: fraction of samples per class, ``[K]``, sums to 1.
        classes_covered: classes holding at least ``threshold`` of the samples.
        kl_to_uniform: ``KL(histogram || uniform)`` in nats: 0 when balanced, log K for one class.
        threshold: the fraction a class needs to count as covered.
    """

    histogram: np.ndarray
    classes_covered: int
    kl_to_uniform: float
    threshold: float


def mode_coverage(
    labels: np.ndarray, *, num_classes: int = NUM_CLASSES, threshold: float = DEFAULT_COVERAGE_THRESHOLD
) -> ModeCoverage:
    """Which classes a sample covers, from the classifier's predicted labels.

    A class counts as covered when it holds at least ``threshold`` of the samples.
    The default, 2.5%, is a quarter of the uniform share 1/10: a generator that
    draws a digit four times less often than the data does still covers it, one
    that (nearly) never draws it does not.

    Args:
        labels: predicted class indices ``[N]``, integers in ``0..num_classes-1``, N >= 1.
        num_classes: K.
        threshold: a fraction in ``(0, 1]``.

    Returns:
        A :class:`ModeCoverage`.

    Raises:
        ValueError: labels not a non-empty 1-D integer array in range, or ``threshold`` outside (0, 1].
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"Expected a non-empty 1-D array of integer class labels. Received: shape={list(y.shape)}, dtype={y.dtype}"
        )
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"Expected labels in 0..{num_classes - 1}. Received labels in {y.min()}..{y.max()}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a fraction in (0, 1]. Received: threshold={threshold!r}")
    histogram = np.bincount(y, minlength=num_classes) / y.size
    nonzero = histogram[histogram > 0]
    kl = float(np.sum(nonzero * np.log(nonzero * num_classes)))
    return ModeCoverage(histogram, int(np.sum(histogram >= threshold)), max(kl, 0.0), float(threshold))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


__all__ = [
    "DEFAULT_COVERAGE_THRESHOLD", "FeatureStatistics", "ModeCoverage", "classifier_score", "feature_statistics",
    "frechet_distance", "mode_coverage",
]
