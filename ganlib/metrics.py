"""Sample-quality evaluation with a small MNIST / Fashion-MNIST classifier shipped in the package.

A GAN's samples are judged by a CNN classifier trained on the data set's
*training* split (``scripts/train_classifier.py``; weights and the test accuracy
they reached are in ``ganlib/weights/``). Every metric compares N generated
images (default 10,000) with the *test* split through the classifier's
penultimate-layer features (128-d, ReLU) or its class predictions. Each metric
is a pure function of feature arrays (or class probabilities); :func:`evaluate_images`
and :func:`evaluate_generator` wire them to images and select which to compute
(``metrics=``: groups of :data:`METRICS` or ``"all"``; by default ``"fcd"`` only, the
cheap figures; ``python -m ganlib evaluate`` computes all by default):

* ``"fcd"``, three figures from one forward pass:

  * **Frechet classifier distance (FCD)**: the Frechet distance between two
    Gaussians fitted to the features of the generated and the test images,
    ``||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2))``. Lower is better;
    0 means identical feature statistics. It is FID (Heusel et al. 2017) with
    this small classifier in place of Inception-v3, so **FCD values are NOT
    comparable with Inception-based FID numbers** from papers, nor between the
    MNIST and the Fashion-MNIST classifier, nor across sample counts (the
    estimate is biased upward for small N).
  * **Classifier score**: ``exp(E_x[KL(p(y|x) || p(y))])``, the Inception score
    (Salimans et al. 2016) with this classifier. Between 1 and 10: high when each
    sample is classified confidently *and* the classes are balanced. Real MNIST
    test images score about 9.8 (see README.md).
  * **Mode coverage**: the histogram of predicted classes, the number of classes
    that are *covered* (hold at least ``coverage_threshold`` of the samples;
    default 2.5%, a quarter of the uniform share 1/10), and the KL divergence of
    the histogram to the uniform distribution (0 for perfect balance, log 10 =
    2.30 nats when every sample falls in one class).

* ``"pr"``: **improved precision and recall** (Kynkaanniemi et al. 2019), k = 3:
  the share of generated samples inside the k-NN manifold of the real features
  (fidelity) and of real samples inside that of the generated ones (diversity).
* ``"dc"``: **density and coverage** (Naeem et al. 2020), k = 5: k-NN balls around
  real samples only, so a few outlying real samples cannot inflate fidelity the
  way they inflate precision.
* ``"kid"``: **KID** (Binkowski et al. 2018): the unbiased MMD^2 estimate with the
  kernel ``(x.y / d + 1)^3``, mean and standard deviation over 100 subsets of 1,000.
  Unlike FCD it is unbiased, so it is comparable across sample sizes.
* ``"memorisation"``: every sample's nearest training image in pixel space and in
  feature space, compared with the nearest-training distances of held-out test
  images; the summary is the share of samples closer to the training set than 99%
  of test images are (about 0.01 for new images, 1 for copies).

FCD, classifier score and mode coverage cannot tell a generator that copies
training images from a good one, nor separate fidelity from diversity: the other
groups do (notebook 06 shows each on reference cases).

The classifier is loaded on first use and cached per data set; the test split's
features, statistics and k-NN radii, and the training split's images and features,
are cached per (data set, data directory).

Example:
    >>> from ganlib.data import load_dataset  # doctest: +SKIP
    >>> train = load_dataset("mnist", "train", data_dir="../shared/data", limit=10_000)  # doctest: +SKIP
    >>> m = evaluate_images(train.images, data_dir="../shared/data", metrics="all")  # doctest: +SKIP
    >>> m["precision"] > 0.8, abs(m["kid"]) < 1, m["memorisation_flagged"]  # training images are copies  # doctest: +SKIP
    (True, True, True)

References:
    Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium (FID), https://arxiv.org/abs/1706.08500.
    Salimans et al. 2016, Improved Techniques for Training GANs (Inception score),
    https://arxiv.org/abs/1606.03498.
    Kynkaanniemi et al. 2019, Improved Precision and Recall Metric for Assessing Generative Models,
    https://arxiv.org/abs/1904.06991.
    Naeem et al. 2020, Reliable Fidelity and Diversity Metrics for Generative Models,
    https://arxiv.org/abs/2002.09797.
    Binkowski et al. 2018, Demystifying MMD GANs (KID), https://arxiv.org/abs/1801.01401.
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Protocol, Sequence

import numpy as np

from ganlib.data import DATASETS, IMAGE_SHAPE, NUM_CLASSES, check_images, load_dataset, resolve_data_dir

if TYPE_CHECKING:  # keeps ``import ganlib.metrics`` free of TensorFlow until a model is needed
    import keras

FEATURE_DIM = 128
FEATURE_LAYER = "features"
DEFAULT_NUM_SAMPLES = 10_000
DEFAULT_COVERAGE_THRESHOLD = 0.25 / NUM_CLASSES  # a quarter of the uniform share: 2.5% of the samples
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def weights_path(dataset: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The classifier weights file of a data set: ``ganlib/weights/<dataset>_classifier.weights.h5``."""
    _check_dataset(dataset)
    return Path(weights_dir or WEIGHTS_DIR) / f"{dataset}_classifier.weights.h5"


def info_path(dataset: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The JSON next to the weights: data set, test accuracy, epochs, seed and the command that trained them."""
    return weights_path(dataset, weights_dir).with_name(f"{dataset}_classifier.json")


def build_classifier(*, name: str = "classifier") -> "keras.Model":
    """The evaluation CNN: images ``[batch, 28, 28, 1]`` in [-1, 1] to class logits ``[batch, 10]``.

    Two 3x3 convolution + 2x2 max-pooling stages (32 and 64 channels), a 128-unit
    ReLU layer named ``"features"`` (the penultimate layer, used for FCD), dropout
    0.3 during training only, and a dense logit layer. About 420,000 parameters
    (1.7 MB as float32).

    Example:
        >>> import keras
        >>> m = build_classifier()
        >>> tuple(m(keras.ops.zeros((2, 28, 28, 1))).shape), m.get_layer("features").units
        ((2, 10), 128)

    Args:
        name: the model's name.

    Returns:
        A ``keras.Model`` (functional) with freshly initialised weights.
    """
    import keras
    from keras import layers

    x_in = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_1")(x_in)  # (28, 28, 32)
    x = layers.MaxPooling2D(name="pool_1")(x)  # (14, 14, 32)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_2")(x)  # (14, 14, 64)
    x = layers.MaxPooling2D(name="pool_2")(x)  # (7, 7, 64)
    x = layers.Flatten(name="flatten")(x)  # (3136,)
    features = layers.Dense(FEATURE_DIM, activation="relu", name=FEATURE_LAYER)(x)  # (128,)
    x = layers.Dropout(0.3, name="dropout")(features)
    logits = layers.Dense(NUM_CLASSES, name="logits")(x)  # (10,)
    return keras.Model(x_in, logits, name=name)


def load_classifier(dataset: str = "mnist", *, weights_dir: str | os.PathLike | None = None) -> "keras.Model":
    """The shipped classifier of a data set with its trained weights, built on first use and cached.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        weights_dir: folder holding ``<dataset>_classifier.weights.h5``; defaults to ``ganlib/weights``.

    Returns:
        The ``keras.Model`` of :func:`build_classifier` (logits ``[batch, 10]``). Do not train it:
        the same object is returned to every caller.

    Raises:
        ValueError: unknown data set.
        FileNotFoundError: the weights file does not exist; the message says how to train it.
    """
    return _classifier(dataset, str(Path(weights_dir or WEIGHTS_DIR).resolve()))[0]


def classifier_info(dataset: str = "mnist", *, weights_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """What the shipped weights of a data set reached: ``dataset``, ``test_accuracy``, ``epochs``, ``seed``, ``command``...

    Raises:
        ValueError: unknown data set.
        FileNotFoundError: the JSON file does not exist.
    """
    path = info_path(dataset, weights_dir)
    if not path.is_file():
        raise FileNotFoundError(f"No classifier record for {dataset!r}: expected {path}. {_HOW_TO_TRAIN}")
    return json.loads(path.read_text(encoding="utf-8"))


_HOW_TO_TRAIN = "Train it with: python scripts/train_classifier.py --dataset DATASET --data-dir DIR"


@functools.lru_cache(maxsize=4)
def _classifier(dataset: str, weights_dir: str):
    import keras
    import tensorflow as tf

    path = weights_path(dataset, weights_dir)
    if not path.is_file():
        raise FileNotFoundError(f"No classifier weights for {dataset!r}: expected {path}. {_HOW_TO_TRAIN}")
    # float32 whatever the global dtype policy (mixed-precision training), so figures compare across runs.
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        model = build_classifier(name=f"{dataset}_classifier")
    finally:
        keras.config.set_dtype_policy(previous)
    model.load_weights(path)
    model.trainable = False
    # The same trained layers in a second graph that also returns the penultimate layer.
    two_heads = keras.Model(model.inputs, [model.get_layer(FEATURE_LAYER).output, model.outputs[0]])
    forward = tf.function(
        lambda x: two_heads(x, training=False), input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32)]
    )
    return model, forward


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"Unknown data set: expected one of {', '.join(DATASETS)}. Received: dataset={dataset!r}")


def classify(
    images: np.ndarray,
    dataset: str = "mnist",
    *,
    batch_size: int = 1000,
    weights_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate-layer features and class logits of the shipped classifier.

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1], N >= 1.
        dataset: whose classifier to use, ``"mnist"`` or ``"fashion_mnist"``.
        batch_size: images per forward pass.
        weights_dir: see :func:`load_classifier`.

    Returns:
        ``(features, logits)``: float64 ``[N, 128]`` (ReLU outputs, >= 0) and float32 ``[N, 10]``.

    Raises:
        ValueError: bad images (see :func:`check_images`), unknown data set, ``batch_size`` < 1.
        FileNotFoundError: the weights are missing.
    """
    images = check_images(images)
    _check_dataset(dataset)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size}")
    _, forward = _classifier(dataset, str(Path(weights_dir or WEIGHTS_DIR).resolve()))
    features, logits = [], []
    for i in range(0, len(images), batch_size):
        f, lg = forward(images[i : i + batch_size])
        features.append(f.numpy())
        logits.append(lg.numpy())
    return np.concatenate(features).astype(np.float64), np.concatenate(logits)


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


# --- The real sets: the test split (every metric's real set) and the training split (memorisation) ------------


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
        weights_dir: see :func:`load_classifier`.

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
        weights_dir: see :func:`load_classifier`.

    Returns:
        :class:`FeatureStatistics` of all test images (10,000 for MNIST).

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


# --- Blocked pairwise distances ----------------------------------------------------------------------------------

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
    product per block, about 3x faster than float64 on a CPU); the distance to the neighbour
    found is then recomputed exactly in float64. Two references whose squared distances
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
    # Larger blocks than elsewhere: with 784-d rows against 60,000 references, fewer and larger matrix products
    # ran 1.5x faster (280 rows per block against 69, 2 CPU cores).
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


# --- Improved precision and recall; density and coverage ---------------------------------------------------------

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


# --- Kernel inception distance (KID) on the classifier's features -------------------------------------------------

# 100 subsets of 1,000: each subset's estimate is unbiased whatever its size, so the size trades the
# spread of one estimate against cost; 100 of them take about a second for 128-d features on 2 CPU cores
# and give the spread across subsets to about 7% (relative standard error of a standard deviation,
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
    so the subset size changes the spread, not the expectation; 100 of them cost about a
    second for 128-d features on 2 CPU cores. ``subset_size`` is capped at the smaller set.

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


# --- Memorisation: nearest training images ---------------------------------------------------------------------

MEMORISATION_SAMPLES = 2_000  # generated (and held-out test) images searched against all training images
MEMORISATION_PERCENTILE = 1.0
MEMORISATION_FLAG_SHARE = 0.05  # five times the share expected of new data (1%)


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
        pixels: :class:`NearestNeighbours` of the samples among the training images, as flattened
            pixels in [-1, 1] (784-d).
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
        data_dir, weights_dir: see :func:`evaluate_images`.
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


def training_images(
    dataset: str = "mnist",
    *,
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """The training images that :func:`memorisation_check` searches (``[N, 28, 28, 1]`` in [-1, 1], cached).

    Index them with ``MemorisationCheck.pixels.indices`` or ``.features.indices``.
    """
    return _training_split(*_cache_key(dataset, data_dir, weights_dir)).images


# --- Evaluation of images and of generators -----------------------------------------------------------------------

METRICS = ("fcd", "pr", "dc", "kid", "memorisation")
"""Metric groups of :func:`evaluate_images`, in the order they are computed (``metrics="all"`` selects them all)."""
DEFAULT_METRICS = ("fcd",)
"""What :func:`evaluate_images` computes unless told: the three cheap figures of one forward pass."""

_CLOSEST_SHOWN = 8  # samples nearest to the training set listed in the results (and drawn by the CLI)


def _check_metrics(metrics: Any) -> tuple[str, ...]:
    names = METRICS if metrics == "all" else (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in names if m not in METRICS]
    if not names or unknown:
        raise ValueError(f"Expected metric names among {', '.join(METRICS)}. Received: metrics={list(names)}")
    return tuple(m for m in METRICS if m in names)


def evaluate_images(
    images: np.ndarray,
    *,
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    memorisation_samples: int = MEMORISATION_SAMPLES,
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Sample-quality metrics of N images against the data set's test split (and training split for memorisation).

    Every metric uses the shipped classifier's 128-d features, with the 10,000 test images
    as the real set; values are specific to this classifier and NOT comparable with
    Inception-based numbers (FID, KID, precision/recall of papers). ``metrics`` selects groups
    (default: ``"fcd"`` only; ``"all"`` for every group):

    * ``"fcd"``: FCD, classifier score and mode coverage (:func:`frechet_distance`,
      :func:`classifier_score`, :func:`mode_coverage`); one forward pass, cheap.
    * ``"pr"``: improved precision and recall, k = 3 (:func:`precision_recall`).
    * ``"dc"``: density and coverage, k = 5 (:func:`density_coverage`).
    * ``"kid"``: KID, mean and standard deviation over 100 subsets of 1,000 (:func:`kernel_distance`).
    * ``"memorisation"``: the first ``memorisation_samples`` images and as many held-out test
      images searched against every training image (:func:`memorisation_check`), summarised in
      pixel space (:func:`memorisation_summary`). The slowest group: the first call of a process
      classifies the 60,000 training images.

    Example:
        >>> noise = np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype("float32")  # doctest: +SKIP
        >>> m = evaluate_images(noise, metrics=("fcd", "dc"), data_dir="../shared/data")  # doctest: +SKIP
        >>> m["fcd"] > 100, m["coverage"] < 0.05  # doctest: +SKIP
        (True, True)

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1]; N >= 2, N >= 4 with ``"pr"`` (10,000 to compare with
            README.md).
        dataset: the data set the images imitate; picks the classifier and the test split.
        data_dir: offline data directory for the test (and training) split.
        metrics: metric groups to compute, any of :data:`METRICS`, or ``"all"``; default ``("fcd",)``, the
            cheap figures (``python -m ganlib evaluate`` computes all by default).
        coverage_threshold: see :func:`mode_coverage`.
        memorisation_samples: images (and test images) searched by the memorisation check, >= 1.
        weights_dir: see :func:`load_classifier`.

    Returns:
        A JSON-serialisable dict with ``num_samples``, ``dataset``, ``metrics`` (the groups computed) and

        * ``"fcd"``: ``fcd`` (>= 0, lower is better), ``classifier_score`` (in [1, 10]),
          ``classes_covered`` (0..10), ``kl_to_uniform`` (nats), ``class_histogram`` (10 fractions),
          ``coverage_threshold``;
        * ``"pr"``: ``precision``, ``recall`` (in [0, 1], higher is better), ``pr_k``;
        * ``"dc"``: ``density`` (>= 0; about 1 for real data), ``coverage`` (in [0, 1]), ``dc_k``;
        * ``"kid"``: ``kid`` (about 0 for real data, lower is better), ``kid_std``, ``kid_subsets``,
          ``kid_subset_size``;
        * ``"memorisation"``: ``memorised_share`` (the summary number: share of samples closer to a
          training image, in pixels, than 99% of held-out test images are; about 0.01 for new
          images, 1 for copies), ``memorisation_flagged`` (``memorised_share`` > 0.05),
          ``memorised_share_features``, ``nn_median_ratio`` and ``nn_median_ratio_features``
          (median nearest-training distance of the samples over the test images'),
          ``nn_distance_percentiles`` (percentiles 1, 5, 25, 50, 75, 95 of both distributions in
          both spaces), ``memorisation_closest`` (the 8 samples nearest to a training image: sample
          index, training index and distance in each space), ``memorisation_samples``.

        and ``timings``: wall seconds of each part (``test_split``, ``classify`` and each group computed).

    Raises:
        ValueError: bad images (see :func:`check_images`), too few of them, unknown data set or metric.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.

    References:
        Heusel et al. 2017 (FID), https://arxiv.org/abs/1706.08500;
        Salimans et al. 2016 (Inception score), https://arxiv.org/abs/1606.03498;
        Kynkaanniemi et al. 2019 (improved precision and recall), https://arxiv.org/abs/1904.06991;
        Naeem et al. 2020 (density and coverage), https://arxiv.org/abs/2002.09797;
        Binkowski et al. 2018 (KID), https://arxiv.org/abs/1801.01401.
    """
    groups = _check_metrics(metrics)
    images = check_images(images, min_images=2)
    if "pr" in groups and len(images) <= PRECISION_RECALL_K:
        raise ValueError(f"Expected at least {PRECISION_RECALL_K + 1} images for precision and recall (k = "
                         f"{PRECISION_RECALL_K} neighbours among the samples). Received: {len(images)} images")
    if isinstance(memorisation_samples, bool) or not isinstance(memorisation_samples, (int, np.integer)) \
            or memorisation_samples < 1:
        raise ValueError(f"memorisation_samples must be a positive integer. "
                         f"Received: memorisation_samples={memorisation_samples!r}")
    key = _cache_key(dataset, data_dir, weights_dir)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    real = _test_features(*key)
    lap("test_split")  # classifies the 10,000 test images on the first call of a process only
    features, logits = classify(images, dataset, weights_dir=key[2])
    lap("classify")
    result: dict[str, Any] = {"num_samples": int(len(images)), "dataset": dataset, "metrics": list(groups)}
    if "fcd" in groups:
        reference = _reference_statistics(*key)
        stats = feature_statistics(features)
        coverage = mode_coverage(np.argmax(logits, axis=1), threshold=coverage_threshold)
        result.update(
            fcd=frechet_distance(stats.mean, stats.cov, reference.mean, reference.cov),
            classifier_score=classifier_score(_softmax(logits.astype(np.float64))),
            classes_covered=coverage.classes_covered,
            kl_to_uniform=coverage.kl_to_uniform,
            class_histogram=[round(float(h), 6) for h in coverage.histogram],
            coverage_threshold=coverage.threshold,
        )
        lap("fcd")
    if "pr" in groups or "dc" in groups:
        pr, dc = "pr" in groups, "dc" in groups
        real_radii, fake32 = _reference_radii(*key), features.astype(np.float32)
        hits = _manifold_pass(
            real.astype(np.float32), fake32,
            real_radii_pr=real_radii[PRECISION_RECALL_K] if pr else None,
            fake_radii_pr=_squared_radii(fake32, (PRECISION_RECALL_K,))[PRECISION_RECALL_K] if pr else None,
            real_radii_dc=real_radii[DENSITY_COVERAGE_K] if dc else None,
        )
        if pr:
            result.update(precision=float(hits["fake_in_real"].mean()), recall=float(hits["real_in_fake"].mean()),
                          pr_k=PRECISION_RECALL_K)
        if dc:
            density, cover, _ = _density_coverage(hits, real_radii[DENSITY_COVERAGE_K], DENSITY_COVERAGE_K)
            result.update(density=density, coverage=cover, dc_k=DENSITY_COVERAGE_K)
        lap("pr_dc")
    if "kid" in groups:
        kid = kernel_distance(real, features)
        result.update(kid=kid.kid, kid_std=kid.std, kid_subsets=kid.num_subsets, kid_subset_size=kid.subset_size)
        lap("kid")
    if "memorisation" in groups:
        n = min(int(memorisation_samples), len(images))
        result.update(_memorisation_results(
            memorisation_check(images[:n], dataset=dataset, data_dir=key[1], weights_dir=key[2],
                               num_test=n, features=features[:n])
        ))
        lap("memorisation")  # includes classifying the 60,000 training images on the first call of a process
    result["timings"] = seconds
    return result


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


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


class Generates(Protocol):
    """Anything with ``generate(z)`` and a ``config`` holding ``latent_dim`` and ``dataset``.

    A trained GAN (``ganlib``'s training state) is one; so is any object of your own with
    these two members. :func:`evaluate_generator` also takes a plain sampling function.
    """

    config: Any

    def generate(self, z: np.ndarray) -> np.ndarray:
        """Images ``[N, 28, 28, 1]`` in [-1, 1] from latent vectors ``[N, latent_dim]``."""
        ...


_SAMPLE_BATCH = 500  # latent vectors per call of a sampling function


def sample_images(
    generator: Callable[[np.ndarray], Any] | Generates,
    *,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = 0,
    latent_dim: int | None = None,
) -> np.ndarray:
    """Draw ``num_samples`` images from ``z ~ N(0, I)`` with ``numpy.random.default_rng(seed)`` (no global state).

    The same seed gives the same ``z`` at every checkpoint of a run.

    Args:
        generator: a sampling function ``z [n, latent_dim] float32 -> images [n, 28, 28, 1] in [-1, 1]``
            (called on batches of 500), or an object with ``generate(z)`` and ``config.latent_dim``
            (see :class:`Generates`).
        num_samples: N >= 1.
        seed: seed of the latent vectors.
        latent_dim: size of ``z``; required for a function, taken from ``generator.config`` otherwise.

    Returns:
        float32 ``[N, 28, 28, 1]`` (validated: finite, in [-1, 1]).

    Raises:
        ValueError: no ``latent_dim`` for a function, ``num_samples`` < 1, a generator that is neither,
            or generated images of the wrong shape or range.
    """
    sample, latent_dim, _ = _resolve_generator(generator, latent_dim, None)
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"Expected num_samples >= 1. Received: num_samples={num_samples!r}")
    z = np.random.default_rng(seed).standard_normal((int(num_samples), latent_dim)).astype(np.float32)
    images = [np.asarray(sample(z[i : i + _SAMPLE_BATCH])) for i in range(0, len(z), _SAMPLE_BATCH)]
    return check_images(np.concatenate(images))


def _resolve_generator(generator: Any, latent_dim: int | None, dataset: str | None):
    config = getattr(generator, "config", None)
    if callable(getattr(generator, "generate", None)):
        sample = generator.generate
        latent_dim = latent_dim if latent_dim is not None else getattr(config, "latent_dim", None)
        dataset = dataset if dataset is not None else getattr(config, "dataset", None)
    elif callable(generator):
        sample = generator
    else:
        raise ValueError("Expected a sampling function z -> images or an object with generate(z). "
                         f"Received: generator={type(generator).__name__}")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
        raise ValueError("Expected latent_dim, a positive integer (pass it with a sampling function). "
                         f"Received: latent_dim={latent_dim!r}")
    return sample, int(latent_dim), dataset if dataset is not None else "mnist"


def evaluate_generator(
    generator: Callable[[np.ndarray], Any] | Generates,
    *,
    latent_dim: int | None = None,
    dataset: str | None = None,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    memorisation_samples: int = MEMORISATION_SAMPLES,
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_images` on ``num_samples`` images drawn by :func:`sample_images`.

    Needs only a way to sample: a function ``z -> images`` with ``latent_dim`` (and ``dataset``,
    default ``"mnist"``), or an object with ``generate(z)`` and a ``config`` giving both (such
    as a trained GAN). An ``epoch`` attribute, if the object has one, is reported too.

    Example:
        >>> def blank(z):  # doctest: +SKIP
        ...     return np.zeros((len(z), 28, 28, 1), np.float32)
        >>> evaluate_generator(blank, latent_dim=8, num_samples=100, metrics=("fcd",))["fcd"] > 100  # doctest: +SKIP
        True

    Args:
        generator: a sampling function or a :class:`Generates` object (see :func:`sample_images`).
        latent_dim: size of ``z``; default ``generator.config.latent_dim``.
        dataset: the data set imitated; default ``generator.config.dataset``, else ``"mnist"``.
        num_samples: N images to generate (10,000 for the README's figures); see :func:`evaluate_images`
            for the minimum.
        seed: seed of the latent vectors (the same seed evaluates the same ``z`` at every checkpoint).
        data_dir, metrics, coverage_threshold, memorisation_samples, weights_dir: see :func:`evaluate_images`.

    Returns:
        The dict of :func:`evaluate_images`, plus ``seed`` and, when the generator has one, ``epoch``.

    Raises:
        ValueError: see :func:`sample_images` and :func:`evaluate_images`.
        FileNotFoundError, RuntimeError: the data or the weights cannot be found.
    """
    _, latent_dim, dataset = _resolve_generator(generator, latent_dim, dataset)
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 2:
        raise ValueError(f"Expected num_samples >= 2 (a covariance needs 2 images). Received: num_samples={num_samples!r}")
    images = sample_images(generator, num_samples=num_samples, seed=seed, latent_dim=latent_dim)
    result = evaluate_images(
        images, dataset=dataset, data_dir=data_dir, metrics=metrics, coverage_threshold=coverage_threshold,
        memorisation_samples=memorisation_samples, weights_dir=weights_dir,
    )
    result["seed"] = int(seed)
    epoch = getattr(generator, "epoch", None)
    if epoch is not None:
        result["epoch"] = int(np.asarray(epoch))
    return result


__all__ = [
    "DEFAULT_COVERAGE_THRESHOLD", "DEFAULT_METRICS", "DEFAULT_NUM_SAMPLES", "DENSITY_COVERAGE_K", "KID_SUBSETS",
    "KID_SUBSET_SIZE", "MEMORISATION_FLAG_SHARE", "MEMORISATION_PERCENTILE", "MEMORISATION_SAMPLES", "METRICS",
    "PRECISION_RECALL_K", "DensityCoverage", "FeatureStatistics", "Generates", "KernelDistance", "MemorisationCheck",
    "MemorisationSummary", "ModeCoverage", "NearestNeighbours", "PrecisionRecall", "build_classifier", "check_images",
    "classifier_info", "classifier_score", "classify", "density_coverage", "evaluate_generator", "evaluate_images",
    "feature_statistics", "frechet_distance", "kernel_distance", "knn_radii", "load_classifier",
    "memorisation_check", "memorisation_summary", "mode_coverage", "nearest_neighbours", "polynomial_mmd2",
    "precision_recall", "reference_features", "reference_statistics", "sample_images", "training_images",
]
