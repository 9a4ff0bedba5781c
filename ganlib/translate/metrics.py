"""Metrics of image-to-image translation: errors against the truth, FCD and the shipped classifier's verdict.

Pure functions of arrays (images float ``[N, 28, 28, 1]`` in [-1, 1], masks float
``[N, 28, 28, 1]`` in {0, 1}, 1 on the hidden pixels). The classifier-based ones use
ganlib's shipped MNIST classifier (:func:`ganlib.metrics.classify`, 99.3% test accuracy) and
the FCD of :mod:`ganlib.metrics.fidelity` against the test split's feature statistics
(:func:`ganlib.metrics.reference_statistics`).

Inpainting (pix2pix): :func:`masked_l1`, :func:`masked_psnr` (on the hidden pixels only, where
a completion can differ from the truth), :func:`completion_fcd`, :func:`class_kept`.
Strokes (CycleGAN): :func:`translation_error` (L1 to the true transform, ``dilate(x)``),
:func:`class_kept` of the translations, :func:`translation_error` of ``F(G(x))`` against ``x``
(the cycle error).
"""

from __future__ import annotations

import os

import numpy as np

PEAK = 2.0  # the peak-to-peak range of an image in [-1, 1]: PSNR's MAX
PSNR_CAP = 100.0  # dB given to an image whose hidden pixels are completed exactly (MSE 0, PSNR infinite)


def _images(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 4 or a.shape[1:] != (28, 28, 1):
        raise ValueError(f"Expected {name} of shape [N, 28, 28, 1]. Received: shape={list(a.shape)}")
    return a


def _pair(target, output, mask=None):
    y, g = _images(target, "target"), _images(output, "output")
    if y.shape != g.shape:
        raise ValueError(f"Expected target and output of the same shape. Received: {list(y.shape)} and "
                         f"{list(g.shape)}")
    if mask is None:
        return y, g, None
    m = _images(mask, "mask")
    if m.shape != y.shape:
        raise ValueError(f"Expected a mask of the images' shape {list(y.shape)}. Received: {list(m.shape)}")
    if not np.isin(m, (0.0, 1.0)).all():
        raise ValueError("Expected a mask in {0, 1}. Received other values")
    if (m.reshape(len(m), -1).sum(axis=1) == 0).any():
        raise ValueError("Expected every mask to hide at least one pixel. Received an empty mask")
    return y, g, m


def masked_l1(target: np.ndarray, completion: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error on the hidden pixels: ``sum |y - y_hat| * m / sum m``.

    Args:
        target: the true images, float ``[N, 28, 28, 1]`` in [-1, 1].
        completion: the completed images, the same shape.
        mask: float ``[N, 28, 28, 1]`` in {0, 1}, 1 on the hidden pixels, at least one per image.

    Returns:
        A float in [0, 2] (grey levels of the [-1, 1] scale; 0: a perfect completion).

    Raises:
        ValueError: shapes that differ, a mask not in {0, 1} or hiding nothing.
    """
    y, g, m = _pair(target, completion, mask)
    return float((np.abs(y - g) * m).sum() / m.sum())


def masked_psnr(target: np.ndarray, completion: np.ndarray, mask: np.ndarray, *, cap: float = PSNR_CAP) -> float:
    """Peak signal-to-noise ratio on the hidden pixels, in dB, the mean over images.

    ``PSNR_i = 10 log10(MAX^2 / MSE_i)``, ``MAX = 2`` (the range of [-1, 1]) and ``MSE_i`` the
    mean squared error over image ``i``'s hidden pixels; an exact completion (MSE 0) counts
    as ``cap`` (100 dB; finite, so that a mean over images stays finite).

    Args:
        target, completion, mask: as in :func:`masked_l1`.
        cap: the largest PSNR an image contributes, in dB, > 0.

    Returns:
        A float in (-inf, cap]; 0 dB is an MSE of 4 (every hidden pixel off by the full range).

    Raises:
        ValueError: as :func:`masked_l1`.
    """
    y, g, m = _pair(target, completion, mask)
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    mse = (flat((y - g) ** 2) * flat(m)).sum(axis=1) / flat(m).sum(axis=1)
    with np.errstate(divide="ignore"):
        psnr = np.where(mse > 0, 10.0 * np.log10(PEAK**2 / np.maximum(mse, 1e-300)), cap)
    return float(np.minimum(psnr, cap).mean())


def translation_error(target: np.ndarray, output: np.ndarray) -> float:
    """Mean absolute error over every pixel: the L1 distance of a translation to the true one (or of a cycle to x).

    Returns:
        A float in [0, 2].

    Raises:
        ValueError: shapes that differ.
    """
    y, g, _ = _pair(target, output)
    return float(np.abs(y - g).mean())


def class_kept(images: np.ndarray, labels: np.ndarray, *, dataset: str = "mnist",
               weights_dir: str | os.PathLike | None = None) -> float:
    """The fraction of ``images`` that the shipped classifier labels as their true digit ``labels``.

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1] (completions or translations).
        labels: the true classes of the digits they came from, ints ``[N]`` in 0..9.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: bad images (see :func:`ganlib.metrics.classify`), labels not ints of shape ``[N]``.
    """
    from ganlib.metrics import classify

    x = np.asarray(images, np.float32)
    y = np.asarray(labels)
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Expected integer labels of shape [{len(x)}], one per image. "
                         f"Received: labels.shape={list(y.shape)}, dtype={y.dtype}")
    _, logits = classify(x, dataset, weights_dir=weights_dir)
    return float((logits.argmax(axis=1) == y).mean())


def completion_fcd(images: np.ndarray, *, dataset: str = "mnist", data_dir: str | os.PathLike | None = None,
                   weights_dir: str | os.PathLike | None = None) -> float:
    """Frechet classifier distance of ``images`` to the test split (:func:`ganlib.metrics.fidelity.frechet_distance`).

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1], N >= 2; FCD is biased upward for small N,
            so compare only figures of equal N (the benchmarks use the 10,000 test digits).

    Returns:
        A float >= 0 (0: the same feature mean and covariance as the test split).

    Raises:
        ValueError: bad images; FileNotFoundError, RuntimeError: data or weights missing.

    References:
        Heusel et al. 2017, https://arxiv.org/abs/1706.08500 (FID; here with the MNIST classifier's features).
    """
    from ganlib.metrics import classify, feature_statistics, frechet_distance, reference_statistics

    features, _ = classify(np.asarray(images, np.float32), dataset, weights_dir=weights_dir)
    ours = feature_statistics(features)
    ref = reference_statistics(dataset, data_dir=data_dir, weights_dir=weights_dir)
    return float(frechet_distance(ours.mean, ours.cov, ref.mean, ref.cov))


__all__ = ["PEAK", "PSNR_CAP", "class_kept", "completion_fcd", "masked_l1", "masked_psnr", "translation_error"]
