"""Memorisation: how much closer generated samples are to the training set than held-out images are.

With ``d(x) = min_t ||x - t||`` over every training image t (60,000 for MNIST, even for a run
trained on fewer), in pixel space (flattened, 784-d, in [-1, 1]) and in the classifier's 128-d
feature space, and ``tau`` the 1st percentile (:data:`MEMORISATION_PERCENTILE`) of ``d`` over
held-out test images, which the generator never saw:

``share = (1/N) sum_j 1[d(y_j) < tau]``, ``median_ratio = median_j d(y_j) / median_i d(x_i)``.

A test image is new by definition, so about 1% of new images fall below ``tau``: ``share`` is
about 0.01 for a generator whose samples are as new as held-out data and 1 for one that returns
training images; a run is *flagged* when it exceeds :data:`MEMORISATION_FLAG_SHARE` (5%, five
times the expected share). ``median_ratio`` is about 1 for new data, 0 for copies, above 1 for
samples unlike any training image. :func:`memorisation_check` finds the neighbours of
:data:`MEMORISATION_SAMPLES` (2,000) samples and of as many test images by default;
:func:`memorisation_summary` reduces the distances to those figures.

Errors: ``ValueError`` for bad images or features, distances that are not non-empty 1-D finite
arrays >= 0, ``num_test`` < 1 or a percentile outside (0, 100); ``FileNotFoundError`` or
``RuntimeError`` when the data or the weights cannot be found.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from ganlib.data import check_images
from ganlib.metrics._validation import _check_features
from ganlib.metrics.classifier import FEATURE_DIM, classify
from ganlib.metrics.neighbours import NearestNeighbours, nearest_neighbours
from ganlib.metrics.references import _cache_key, _test_to_training, _training_split


MEMORISATION_SAMPLES = 2_000  # generated (and held-out test) images searched against all training images
MEMORISATION_PERCENTILE = 1.0
MEMORISATION_FLAG_SHARE = 0.05  # five times the share expected of new data (1%)


_CLOSEST_SHOWN = 8  # samples nearest to the training set listed in the results (and drawn by the CLI)


class MemorisationSummary(NamedTuple):
    """How much closer generated samples are to the training set than held-out real images are.

    Attributes:
        share: fraction of samples whose nearest training image is closer than ``threshold``;
            about ``expected_share`` for a generator whose samples are as new as held-out data,
            1 for one that returns training images.
        threshold: the ``percentile``-th percentile of the held-out images' nearest-training distances.
        expected_share: ``percentile / 100``.
        median_ratio: median nearest-training distance of the samples over that of the held-out
            images: about 1 for new data, 0 for copies, above 1 for samples unlike any training image.
    """

    share: float
    threshold: float
    expected_share: float
    median_ratio: float


def memorisation_summary(
    sample_distances: np.ndarray, test_distances: np.ndarray, *, percentile: float = MEMORISATION_PERCENTILE
) -> MemorisationSummary:
    """Compare the nearest-training-image distances of generated samples with those of held-out test images.

    With ``d(x) = min_t ||x - t||`` over the training images t, ``tau`` the ``percentile``-th
    percentile of ``d`` over held-out test images (which the generator never saw):

    ``share = (1/N) sum_j 1[d(y_j) < tau]``, ``median_ratio = median_j d(y_j) / median_i d(x_i)``.

    A test image is by definition new, so about ``percentile`` % of new images fall below
    ``tau``: a share far above that (``MEMORISATION_FLAG_SHARE`` = 5% against the expected 1%)
    means the samples sit closer to training images than new data does, the signature of
    copying.

    Args:
        sample_distances: ``[N]`` nearest-training distances of generated samples, >= 0.
        test_distances: ``[M]`` nearest-training distances of held-out test images, >= 0, M >= 1.
        percentile: in (0, 100).

    Returns:
        :class:`MemorisationSummary`.

    Raises:
        ValueError: not non-empty 1-D arrays of finite distances >= 0, or ``percentile`` outside (0, 100).
    """
    arrays = []
    for name, a in (("sample_distances", sample_distances), ("test_distances", test_distances)):
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all() or a.min() < 0:
            raise ValueError(f"Expected {name} as a non-empty 1-D array of finite distances >= 0. "
                             f"Received: shape={list(a.shape)}")
        arrays.append(a)
    samples, test = arrays
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be in (0, 100). Received: percentile={percentile!r}")
    threshold = float(np.percentile(test, percentile))
    test_median = float(np.median(test))
    ratio = float(np.median(samples) / test_median) if test_median > 0 else float("nan")
    return MemorisationSummary(float(np.mean(samples < threshold)), threshold, percentile / 100.0, ratio)


class MemorisationCheck(NamedTuple):
    """Nearest training images of generated samples and of held-out test images, in two spaces.

    Attributes:
        pixels: :class:`ganlib.metrics.neighbours.NearestNeighbours` of the samples among the training
            images, as flattened pixels in [-1, 1] (784-d).
        features: the same in the classifier's 128-d feature space.
        test_pixels: ``[M]`` nearest-training distances of M held-out test images, in pixels.
        test_features: the same in feature space.
    """

    pixels: NearestNeighbours
    features: NearestNeighbours
    test_pixels: np.ndarray
    test_features: np.ndarray


def memorisation_check(
    images: np.ndarray,
    *,
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
    num_test: int = MEMORISATION_SAMPLES,
    features: np.ndarray | None = None,
) -> MemorisationCheck:
    """Find every image's nearest training image, and the same for held-out test images (the yardstick).

    Searches all training images of the data set (60,000 for MNIST, even for a run trained
    on fewer) in pixel space and in the classifier's feature space. ``num_test`` test images
    (a seeded random subset) are searched the same way; their distances are cached per
    process. Summarise with :func:`memorisation_summary` and draw pairs with
    :func:`ganlib.viz.save_nearest_neighbours`.

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1], N >= 1.
        dataset: the data set the images imitate.
        data_dir, weights_dir: see :func:`ganlib.metrics.evaluate.evaluate_images`.
        num_test: held-out test images to compare with, >= 1 (capped at the test split's size).
        features: the images' classifier features ``[N, 128]`` if already computed.

    Returns:
        :class:`MemorisationCheck`.

    Raises:
        ValueError: bad images or features, unknown data set, ``num_test`` < 1.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.
    """
    images = check_images(images)
    if isinstance(num_test, bool) or not isinstance(num_test, (int, np.integer)) or num_test < 1:
        raise ValueError(f"num_test must be a positive integer. Received: num_test={num_test!r}")
    key = _cache_key(dataset, data_dir, weights_dir)
    if features is None:
        features, _ = classify(images, dataset, weights_dir=key[2])
    features = _check_features(features, "features", min_rows=len(images), dim=FEATURE_DIM)
    if len(features) != len(images):
        raise ValueError(f"Expected one feature row per image. Received: {len(features)} rows for {len(images)} images")
    train = _training_split(*key)
    test_pixels, test_features = _test_to_training(*key, int(num_test))
    return MemorisationCheck(
        pixels=nearest_neighbours(images.reshape(len(images), -1), train.pixels),
        features=nearest_neighbours(features, train.features),
        test_pixels=test_pixels,
        test_features=test_features,
    )


def _memorisation_results(check: MemorisationCheck) -> dict[str, Any]:
    pixels = memorisation_summary(check.pixels.distances, check.test_pixels)
    feats = memorisation_summary(check.features.distances, check.test_features)
    percentiles = [1, 5, 25, 50, 75, 95]

    def quantiles(d: np.ndarray) -> list[float]:
        return [round(float(v), 4) for v in np.percentile(d, percentiles)]

    closest = np.argsort(check.pixels.distances, kind="stable")[:_CLOSEST_SHOWN]
    return {
        "memorised_share": pixels.share,
        "memorisation_flagged": bool(pixels.share > MEMORISATION_FLAG_SHARE),
        "memorised_share_features": feats.share,
        "nn_median_ratio": pixels.median_ratio,
        "nn_median_ratio_features": feats.median_ratio,
        "nn_distance_percentiles": {
            "percentiles": percentiles,
            "samples_pixels": quantiles(check.pixels.distances), "test_pixels": quantiles(check.test_pixels),
            "samples_features": quantiles(check.features.distances), "test_features": quantiles(check.test_features),
        },
        "memorisation_closest": [
            {"sample": int(i),
             "train_index": int(check.pixels.indices[i]), "distance": round(float(check.pixels.distances[i]), 4),
             "train_index_features": int(check.features.indices[i]),
             "distance_features": round(float(check.features.distances[i]), 4)}
            for i in closest
        ],
        "memorisation_samples": int(len(check.pixels.distances)),
        "memorisation_test_images": int(len(check.test_pixels)),
    }


__all__ = [
    "MEMORISATION_FLAG_SHARE", "MEMORISATION_PERCENTILE", "MEMORISATION_SAMPLES", "MemorisationCheck",
    "MemorisationSummary", "memorisation_check", "memorisation_summary",
]
