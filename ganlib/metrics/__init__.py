"""Sample-quality evaluation with a small MNIST / Fashion-MNIST classifier shipped in the package.

A GAN's samples are judged by a CNN classifier trained on the data set's *training* split
(:mod:`ganlib.metrics.classifier`). Every metric compares N generated images (default 10,000)
with the *test* split (:mod:`ganlib.metrics.references`) through the classifier's
penultimate-layer features (128-d, ReLU) or its class predictions. Each metric is a pure
function of feature arrays (or class probabilities), computed in blocks where N x N would not
fit in memory; :func:`evaluate_images`, :func:`evaluate_generator` and :func:`evaluate_run`
wire them to images and select which to compute (``metrics=``: groups of :data:`METRICS` or
``"all"``; :func:`evaluate_images` computes ``"fcd"`` only by default, the cheap figures;
:func:`evaluate_run` and ``python -m ganlib evaluate`` compute all by default).

One module per idea:

* :mod:`ganlib.metrics.classifier`: the shipped classifier, its weights, :func:`classify`.
* :mod:`ganlib.metrics.references`: the test and training splits' cached features and statistics.
* :mod:`ganlib.metrics.neighbours`: blocked pairwise distances, nearest neighbours, k-NN radii.
* :mod:`ganlib.metrics.fidelity` (group ``"fcd"``): Frechet classifier distance (FCD; FID with this
  classifier, NOT comparable with Inception-based FID), classifier score, mode coverage and KL to
  uniform.
* :mod:`ganlib.metrics.manifold` (``"pr"``, ``"dc"``): improved precision and recall (k = 3),
  density and coverage (k = 5).
* :mod:`ganlib.metrics.kid` (``"kid"``): KID, the unbiased MMD^2 with a cubic kernel, over subsets.
* :mod:`ganlib.metrics.memorisation` (``"memorisation"``): nearest training images, against the
  nearest-training distances of held-out test images.
* :mod:`ganlib.metrics.cas`: the Classification Accuracy Score of a conditional generator (Ravuri &
  Vinyals 2019): a classifier trained on its labelled samples, tested on the real test split.
* :mod:`ganlib.metrics.evaluate`: the orchestration above.

FCD, classifier score and mode coverage cannot tell a generator that copies training images from
a good one, nor separate fidelity from diversity: the other groups do (notebook 06 shows each on
reference cases). Importing this package does not import TensorFlow; the classifier is loaded on
first use.

Example:
    >>> from ganlib.data import load_dataset  # doctest: +SKIP
    >>> train = load_dataset("mnist", "train", limit=10_000)  # doctest: +SKIP
    >>> m = evaluate_images(train.images, metrics="all")  # doctest: +SKIP
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

from ganlib.data import check_images
from ganlib.metrics.cas import CAS_EPOCHS, cas_against_test_split, classification_accuracy_score
from ganlib.metrics.classifier import (
    FEATURE_DIM,
    FEATURE_LAYER,
    WEIGHTS_DIR,
    build_classifier,
    classifier_info,
    classify,
    info_path,
    load_classifier,
    weights_path,
)
from ganlib.metrics.evaluate import (
    DEFAULT_METRICS,
    DEFAULT_NUM_SAMPLES,
    METRICS,
    Generates,
    TrainedGAN,
    evaluate_generator,
    evaluate_images,
    evaluate_run,
    sample_images,
)
from ganlib.metrics.fidelity import (
    DEFAULT_COVERAGE_THRESHOLD,
    FeatureStatistics,
    ModeCoverage,
    classifier_score,
    feature_statistics,
    frechet_distance,
    mode_coverage,
)
from ganlib.metrics.kid import KID_SUBSET_SIZE, KID_SUBSETS, KernelDistance, kernel_distance, polynomial_mmd2
from ganlib.metrics.manifold import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    precision_recall,
)
from ganlib.metrics.memorisation import (
    MEMORISATION_FLAG_SHARE,
    MEMORISATION_PERCENTILE,
    MEMORISATION_SAMPLES,
    MemorisationCheck,
    MemorisationSummary,
    memorisation_check,
    memorisation_summary,
)
from ganlib.metrics.neighbours import NearestNeighbours, knn_radii, nearest_neighbours
from ganlib.metrics.references import reference_features, reference_statistics, training_images

__all__ = [
    "CAS_EPOCHS", "cas_against_test_split", "classification_accuracy_score",
    "DEFAULT_COVERAGE_THRESHOLD", "DEFAULT_METRICS", "DEFAULT_NUM_SAMPLES", "DENSITY_COVERAGE_K", "KID_SUBSETS",
    "KID_SUBSET_SIZE", "MEMORISATION_FLAG_SHARE", "MEMORISATION_PERCENTILE", "MEMORISATION_SAMPLES", "METRICS",
    "PRECISION_RECALL_K", "DensityCoverage", "FeatureStatistics", "Generates", "KernelDistance",
    "MemorisationCheck", "MemorisationSummary", "ModeCoverage", "NearestNeighbours", "PrecisionRecall",
    "TrainedGAN", "build_classifier", "check_images", "classifier_info", "classifier_score", "classify",
    "density_coverage", "evaluate_generator", "evaluate_images", "evaluate_run", "feature_statistics",
    "frechet_distance", "kernel_distance", "knn_radii", "load_classifier", "memorisation_check",
    "memorisation_summary", "mode_coverage", "nearest_neighbours", "polynomial_mmd2", "precision_recall",
    "reference_features", "reference_statistics", "sample_images", "training_images",
]
