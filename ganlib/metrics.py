"""Sample-quality evaluation with a small MNIST / Fashion-MNIST classifier shipped in the package.

A GAN's samples are judged by a CNN classifier trained on the data set's
*training* split (``scripts/train_classifier.py``; weights and the test accuracy
they reached are in ``ganlib/weights/``). Three metrics compare N generated
images (default 10,000) with the *test* split:

* **Frechet classifier distance (FCD)**: the Frechet distance between two
  Gaussians fitted to the classifier's penultimate-layer features (128-d) of
  the generated and the test images,
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

The classifier is loaded on first use and cached per data set; the test-split
reference statistics are cached per (data set, data directory).

Example:
    >>> from ganlib.data import load_dataset  # doctest: +SKIP
    >>> train = load_dataset("mnist", "train", data_dir="../shared/data", limit=10_000)  # doctest: +SKIP
    >>> m = evaluate_images(train.images, dataset="mnist", data_dir="../shared/data")  # doctest: +SKIP
    >>> round(m["fcd"], 2), round(m["classifier_score"], 2), m["classes_covered"]  # doctest: +SKIP

References:
    Heusel et al. 2017, GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium (FID), https://arxiv.org/abs/1706.08500.
    Salimans et al. 2016, Improved Techniques for Training GANs (Inception score),
    https://arxiv.org/abs/1606.03498.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ganlib.data import DATASETS, load_dataset, resolve_data_dir

if TYPE_CHECKING:  # keeps ``import ganlib.metrics`` free of TensorFlow until a model is needed
    import keras

    from ganlib.train import GAN

NUM_CLASSES = 10
FEATURE_DIM = 128
FEATURE_LAYER = "features"
DEFAULT_NUM_SAMPLES = 10_000
DEFAULT_COVERAGE_THRESHOLD = 0.25 / NUM_CLASSES  # a quarter of the uniform share: 2.5% of the samples
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
IMAGE_SHAPE = (28, 28, 1)


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
    # float32 whatever the session's dtype policy (mixed-precision training), so figures compare across runs.
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


def check_images(images: Any, *, min_images: int = 1) -> np.ndarray:
    """Validate images to evaluate: float ``[N, 28, 28, 1]`` in [-1, 1], finite, at least ``min_images`` of them.

    Args:
        images: array-like to check.
        min_images: the fewest images accepted (2 for a covariance).

    Returns:
        The images as a float32 array.

    Raises:
        ValueError: wrong rank or shape, non-float dtype (for example uint8 0..255), NaN or
            infinite values, values outside [-1, 1], or fewer than ``min_images`` images;
            the message says what was expected and what was received.
    """
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"Expected images of shape [N, 28, 28, 1]. Received: shape={list(arr.shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        hint = " (uint8 pixels in 0..255? convert with ganlib.data.to_unit_range)" if arr.dtype == np.uint8 else ""
        raise ValueError(f"Expected float images in [-1, 1]. Received: dtype={arr.dtype}{hint}")
    if len(arr) < min_images:
        raise ValueError(
            f"Expected at least {min_images} images (a covariance needs 2). Received: {len(arr)} images"
        )
    if arr.size:
        if not np.isfinite(arr).all():
            raise ValueError("Expected finite images in [-1, 1]. Received: images containing NaN or infinity")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
            raise ValueError(
                f"Expected images with values in [-1, 1]. Received values in [{lo:g}, {hi:g}]"
                + (" (0..255 pixels? use ganlib.data.to_unit_range)" if hi > 1.5 else "")
            )
    return arr.astype(np.float32, copy=False)


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
    _check_dataset(dataset)
    resolved = resolve_data_dir(data_dir)
    return _reference_statistics(
        dataset, str(resolved.resolve()) if resolved is not None else None, str(Path(weights_dir or WEIGHTS_DIR).resolve())
    )


@functools.lru_cache(maxsize=8)
def _reference_statistics(dataset: str, data_dir: str | None, weights_dir: str) -> FeatureStatistics:
    test = load_dataset(dataset, "test", data_dir=data_dir)
    features, _ = classify(test.images, dataset, weights_dir=weights_dir)
    return feature_statistics(features)


def evaluate_images(
    images: np.ndarray,
    *,
    dataset: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """FCD, classifier score and mode coverage of N images against the data set's test split.

    FCD values are specific to ganlib's classifier and to N: they are NOT comparable
    with Inception-based FID numbers.

    Example:
        >>> noise = np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype("float32")  # doctest: +SKIP
        >>> evaluate_images(noise, data_dir="../shared/data")["fcd"] > 100  # doctest: +SKIP
        True

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1], N >= 2 (use 10,000 to compare with README.md).
        dataset: the data set the images imitate; picks the classifier and the test split.
        data_dir: offline data directory for the test split.
        coverage_threshold: see :func:`mode_coverage`.
        weights_dir: see :func:`load_classifier`.

    Returns:
        A JSON-serialisable dict: ``fcd`` (float >= 0, lower is better), ``classifier_score``
        (in [1, 10], higher is better), ``classes_covered`` (0..10), ``kl_to_uniform`` (nats),
        ``class_histogram`` (10 fractions), ``coverage_threshold``, ``num_samples``, ``dataset``.

    Raises:
        ValueError: bad images (see :func:`check_images`; at least 2 are needed), unknown data set.
        FileNotFoundError, RuntimeError: the test split or the weights cannot be found.

    References:
        Heusel et al. 2017 (FID), https://arxiv.org/abs/1706.08500;
        Salimans et al. 2016 (Inception score), https://arxiv.org/abs/1606.03498.
    """
    images = check_images(images, min_images=2)
    _check_dataset(dataset)
    reference = reference_statistics(dataset, data_dir=data_dir, weights_dir=weights_dir)
    features, logits = classify(images, dataset, weights_dir=weights_dir)
    stats = feature_statistics(features)
    probs = _softmax(logits.astype(np.float64))
    coverage = mode_coverage(np.argmax(logits, axis=1), threshold=coverage_threshold)
    return {
        "fcd": frechet_distance(stats.mean, stats.cov, reference.mean, reference.cov),
        "classifier_score": classifier_score(probs),
        "classes_covered": coverage.classes_covered,
        "kl_to_uniform": coverage.kl_to_uniform,
        "class_histogram": [round(float(h), 6) for h in coverage.histogram],
        "coverage_threshold": coverage.threshold,
        "num_samples": int(len(images)),
        "dataset": dataset,
    }


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def evaluate_generator(
    gan: "GAN",
    *,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_images` on ``num_samples`` images that a GAN's generator draws from ``z ~ N(0, I)``.

    The latent vectors come from ``numpy.random.default_rng(seed)``, so the same
    seed evaluates the same ``z`` at every checkpoint of a run; no global random
    state is touched.

    Args:
        gan: a :class:`ganlib.train.GAN` (for example from :func:`ganlib.train.load_run`).
        num_samples: N >= 2 images to generate (10,000 for the README's figures).
        seed: seed of the latent vectors.
        data_dir, coverage_threshold, weights_dir: see :func:`evaluate_images`.

    Returns:
        The dict of :func:`evaluate_images` for ``gan.config.dataset``, plus ``seed`` and ``epoch``.

    Raises:
        ValueError: ``num_samples`` < 2, or generated images outside [-1, 1] or not finite.
        FileNotFoundError, RuntimeError: the test split or the weights cannot be found.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 2:
        raise ValueError(f"Expected num_samples >= 2 (a covariance needs 2 images). Received: num_samples={num_samples!r}")
    z = np.random.default_rng(seed).standard_normal((int(num_samples), gan.config.latent_dim)).astype(np.float32)
    metrics = evaluate_images(
        gan.generate(z), dataset=gan.config.dataset, data_dir=data_dir,
        coverage_threshold=coverage_threshold, weights_dir=weights_dir,
    )
    return {**metrics, "seed": int(seed), "epoch": int(gan.epoch.numpy())}


__all__ = [
    "DEFAULT_COVERAGE_THRESHOLD", "DEFAULT_NUM_SAMPLES", "FeatureStatistics", "ModeCoverage", "build_classifier",
    "check_images", "classifier_info", "classifier_score", "classify", "evaluate_generator", "evaluate_images",
    "feature_statistics", "frechet_distance", "load_classifier", "mode_coverage", "reference_statistics",
]
