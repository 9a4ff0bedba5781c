"""The real sets: the test split (every metric's real set) and the training split (memorisation), cached.

Every metric compares generated images with the data set's TEST split through the shipped
classifier; the memorisation check also searches the TRAINING split. Computing those means
classifying up to 60,000 images, and they are the same at every evaluation, so they are cached per
(data set, resolved data directory, resolved weights directory) for the life of the process:

* :func:`reference_features`: the test split's features, float64 ``[M, 128]`` (M = 10,000 for
  MNIST), read-only;
* :func:`reference_statistics`: their mean ``[128]`` and covariance ``[128, 128]``
  (:class:`ganlib.metrics.fidelity.FeatureStatistics`), for FCD;
* the test split's squared k-NN radii for k = 3 and 5 (precision/recall, density/coverage);
* :func:`training_images`: the training images ``[N, 28, 28, 1]`` in [-1, 1] (60,000 for MNIST),
  with their flattened pixels and features (one data set at a time: about 250 MB);
* the nearest-training distances of a seeded random subset of test images, in pixels and in
  features: the yardstick of the memorisation check.

Errors: ``ValueError`` for an unknown data set; ``FileNotFoundError`` or ``RuntimeError`` when the
data or the classifier's weights cannot be found.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ganlib.data import load_dataset, resolve_data_dir
from ganlib.metrics.classifier import WEIGHTS_DIR, _check_dataset, classify
from ganlib.metrics.fidelity import FeatureStatistics, feature_statistics
from ganlib.metrics.manifold import DENSITY_COVERAGE_K, PRECISION_RECALL_K
from ganlib.metrics.neighbours import _squared_radii, nearest_neighbours


def _cache_key(
    dataset: str, data_dir: str | os.PathLike | None, weights_dir: str | os.PathLike | None
) -> tuple[str, str | None, str]:
    _check_dataset(dataset)
    resolved = resolve_data_dir(data_dir)
    return (dataset, str(resolved.resolve()) if resolved is not None else None,
            str(Path(weights_dir or WEIGHTS_DIR).resolve()))


def reference_features(
    dataset: str = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Classifier features of the data set's TEST split: the real set of every metric, cached per (data set, data dir).

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`).
        weights_dir: see :func:`ganlib.metrics.classifier.load_classifier`.

    Returns:
        float64 ``[M, 128]`` (M = 10,000 for MNIST), read-only: the cached array itself.

    Raises:
        ValueError: unknown data set.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.
    """
    return _test_features(*_cache_key(dataset, data_dir, weights_dir))


def reference_statistics(
    dataset: str = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
) -> FeatureStatistics:
    """Feature statistics of the data set's TEST split under its classifier, cached per (data set, data dir).

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`).
        weights_dir: see :func:`ganlib.metrics.classifier.load_classifier`.

    Returns:
        :class:`ganlib.metrics.fidelity.FeatureStatistics` of all test images (10,000 for MNIST).

    Raises:
        ValueError: unknown data set.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.
    """
    return _reference_statistics(*_cache_key(dataset, data_dir, weights_dir))


@functools.lru_cache(maxsize=2)
def _test_features(dataset: str, data_dir: str | None, weights_dir: str) -> np.ndarray:
    test = load_dataset(dataset, "test", data_dir=data_dir)
    features, _ = classify(test.images, dataset, weights_dir=weights_dir)
    features.setflags(write=False)
    return features


@functools.lru_cache(maxsize=8)
def _reference_statistics(dataset: str, data_dir: str | None, weights_dir: str) -> FeatureStatistics:
    return feature_statistics(_test_features(dataset, data_dir, weights_dir))


@functools.lru_cache(maxsize=8)
def _reference_radii(dataset: str, data_dir: str | None, weights_dir: str) -> dict[int, np.ndarray]:
    # The test split's squared k-NN radii are the same at every evaluation: computed once per process.
    features = _test_features(dataset, data_dir, weights_dir).astype(np.float32)
    return _squared_radii(features, tuple(sorted({PRECISION_RECALL_K, DENSITY_COVERAGE_K})))


class _TrainingSplit(NamedTuple):
    images: np.ndarray  # [N, 28, 28, 1] float32 in [-1, 1]
    pixels: np.ndarray  # [N, 784] float32, the same memory
    features: np.ndarray  # [N, 128] float64


@functools.lru_cache(maxsize=1)  # 60,000 images and their features: about 250 MB, so one data set at a time
def _training_split(dataset: str, data_dir: str | None, weights_dir: str) -> _TrainingSplit:
    train = load_dataset(dataset, "train", data_dir=data_dir)
    features, _ = classify(train.images, dataset, weights_dir=weights_dir)
    return _TrainingSplit(train.images, train.images.reshape(len(train.images), -1), features)


def _test_subset(num_test: int, size: int) -> np.ndarray:
    # A seeded random subset, not the first images: MNIST's test split is ordered by writer group.
    return np.sort(np.random.default_rng(0).choice(size, min(num_test, size), replace=False))


@functools.lru_cache(maxsize=4)
def _test_to_training(dataset: str, data_dir: str | None, weights_dir: str, num_test: int):
    train = _training_split(dataset, data_dir, weights_dir)
    test = load_dataset(dataset, "test", data_dir=data_dir)
    subset = _test_subset(num_test, len(test.images))
    pixels = nearest_neighbours(test.images[subset].reshape(len(subset), -1), train.pixels).distances
    features = nearest_neighbours(_test_features(dataset, data_dir, weights_dir)[subset], train.features).distances
    return pixels, features


def training_images(
    dataset: str = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """The training images that :func:`ganlib.metrics.memorisation.memorisation_check` searches, cached.

    Index them with ``MemorisationCheck.pixels.indices`` or ``.features.indices``.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`).
        weights_dir: see :func:`ganlib.metrics.classifier.load_classifier` (the cache also holds the
            images' features under that classifier).

    Returns:
        float32 ``[N, 28, 28, 1]`` in [-1, 1] (N = 60,000 for MNIST): the cached array itself.

    Raises:
        ValueError: unknown data set.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.
    """
    return _training_split(*_cache_key(dataset, data_dir, weights_dir)).images


__all__ = [
    "reference_features", "reference_statistics", "training_images",
]
