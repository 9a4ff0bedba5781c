"""Evaluation of images, generators and trained runs: wires the classifier, the real sets and every metric.

Orchestration only: the metrics themselves are the pure functions of :mod:`ganlib.metrics.fidelity`,
:mod:`~ganlib.metrics.manifold`, :mod:`~ganlib.metrics.kid` and :mod:`~ganlib.metrics.memorisation`.

* :func:`evaluate_images`: N images ``[N, 28, 28, 1]`` in [-1, 1] against the test split, in the
  metric groups asked for (:data:`METRICS`: ``"fcd"``, ``"pr"``, ``"dc"``, ``"kid"``,
  ``"memorisation"``, or ``"all"``; :data:`DEFAULT_METRICS` = ``("fcd",)``, the cheap figures),
  returning a JSON-serialisable dict with the time each part took.
* :func:`sample_images` / :func:`evaluate_generator`: the same from a sampling function
  ``z -> images`` or any object with ``generate(z)`` (:class:`Generates`), ``z ~ N(0, I)`` seeded.
* :func:`evaluate_run`: the library's evaluation of a trained run (what ``python -m ganlib
  evaluate`` reports): the GAN's own evaluation samples (balanced classes for a conditional GAN,
  plus class accuracy), every group by default, and the run's epoch, checkpoint and preset.

Errors: ``ValueError`` for bad images, too few of them, an unknown data set or metric group, or a
bad sample count; ``FileNotFoundError`` or ``RuntimeError`` when the data or the weights cannot be found.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ganlib.data import check_images, latent_batch
from ganlib.metrics.classifier import classifier_info, classify
from ganlib.metrics.fidelity import (
    DEFAULT_COVERAGE_THRESHOLD,
    _softmax,
    classifier_score,
    feature_statistics,
    frechet_distance,
    mode_coverage,
)
from ganlib.metrics.kid import kernel_distance
from ganlib.metrics.manifold import DENSITY_COVERAGE_K, PRECISION_RECALL_K, _density_coverage, _manifold_pass
from ganlib.metrics.memorisation import MEMORISATION_SAMPLES, _memorisation_results, memorisation_check
from ganlib.metrics.neighbours import _squared_radii
from ganlib.metrics.references import _cache_key, _reference_radii, _reference_statistics, _test_features

DEFAULT_NUM_SAMPLES = 10_000


METRICS = ("fcd", "pr", "dc", "kid", "memorisation")
"""Metric groups of :func:`evaluate_images`, in the order they are computed (``metrics="all"`` selects them all)."""
DEFAULT_METRICS = ("fcd",)
"""What :func:`evaluate_images` computes unless told: the three cheap figures of one forward pass."""


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

    * ``"fcd"``: FCD, classifier score and mode coverage
      (:func:`ganlib.metrics.fidelity.frechet_distance`, :func:`ganlib.metrics.fidelity.classifier_score`,
      :func:`ganlib.metrics.fidelity.mode_coverage`); one forward pass, cheap.
    * ``"pr"``: improved precision and recall, k = 3 (:func:`ganlib.metrics.manifold.precision_recall`).
    * ``"dc"``: density and coverage, k = 5 (:func:`ganlib.metrics.manifold.density_coverage`).
    * ``"kid"``: KID, mean and standard deviation over 100 subsets of 1,000
      (:func:`ganlib.metrics.kid.kernel_distance`).
    * ``"memorisation"``: the first ``memorisation_samples`` images and as many held-out test
      images searched against every training image (:func:`ganlib.metrics.memorisation.memorisation_check`),
      summarised in pixel space (:func:`ganlib.metrics.memorisation.memorisation_summary`). The slowest
      group: the first call of a process classifies the 60,000 training images.

    Example:
        >>> noise = np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype("float32")  # doctest: +SKIP
        >>> m = evaluate_images(noise, metrics=("fcd", "dc"))  # doctest: +SKIP
        >>> m["fcd"] > 100, m["coverage"] < 0.05  # doctest: +SKIP
        (True, True)

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1]; N >= 2, N >= 4 with ``"pr"`` (10,000 to compare with
            README.md).
        dataset: the data set the images imitate; picks the classifier and the test split.
        data_dir: offline data directory for the test (and training) split.
        metrics: metric groups to compute, any of :data:`METRICS`, or ``"all"``; default ``("fcd",)``, the
            cheap figures (``python -m ganlib evaluate`` computes all by default).
        coverage_threshold: see :func:`ganlib.metrics.fidelity.mode_coverage`.
        memorisation_samples: images (and test images) searched by the memorisation check, >= 1.
        weights_dir: see :func:`ganlib.metrics.classifier.load_classifier`.

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
        ValueError: bad images (see :func:`ganlib.data.check_images`), too few of them, unknown data set or metric.
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
    z = latent_batch(int(num_samples), latent_dim, seed)
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


class TrainedGAN(Protocol):
    """What :func:`evaluate_run` needs of a trained GAN (:class:`ganlib.train.state.GAN` is one).

    Attributes:
        config: holds ``dataset`` and ``preset``.
        epoch: completed epochs (a scalar tensor or variable with ``numpy()``).
        restored_from: the checkpoint prefix the GAN was restored from, or None.
    """

    config: Any
    epoch: Any
    restored_from: str | None

    def evaluation_samples(self, num_samples: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Images ``[N, 28, 28, 1]`` in [-1, 1] and the classes asked for (``[N]`` ints, or None)."""
        ...


def evaluate_run(
    gan: TrainedGAN,
    *,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = 0,
    metrics: Sequence[str] | str = METRICS,
    data_dir: str | os.PathLike | None = None,
    memorisation_samples: int = MEMORISATION_SAMPLES,
    weights_dir: str | os.PathLike | None = None,
    cas: bool = False,
) -> tuple[dict[str, Any], np.ndarray]:
    """The library's evaluation of a trained run: its evaluation samples through :func:`evaluate_images`.

    The images are ``gan.evaluation_samples(num_samples, seed=seed)``: ``num_samples`` images
    from seeded ``z`` for an unconditional GAN; ``max(1, num_samples // 10)`` of every class for a
    conditional one, whose class accuracy (:func:`ganlib.metrics.class_accuracy.class_accuracy`: how often
    the classifier agrees with the class asked for) is reported too. Every metric group is
    computed by default, as ``python -m ganlib evaluate`` does.

    Example:
        >>> from ganlib.train.state import load_run  # doctest: +SKIP
        >>> gan, run = load_run("runs/dcgan-mnist")  # doctest: +SKIP
        >>> m, images = evaluate_run(gan, metrics=("fcd",))  # doctest: +SKIP
        >>> m["epoch"], m["fcd"] > 0, images.shape  # doctest: +SKIP
        (20, True, (10000, 28, 28, 1))

    Args:
        gan: a trained GAN (:class:`ganlib.train.state.GAN`, or any :class:`TrainedGAN`).
        num_samples: images to generate (10,000 for the README's figures); at least 2, and at least
            4 with ``"pr"`` (a conditional GAN draws ``10 * max(1, num_samples // 10)``).
        seed: seed of the latent vectors (the same seed evaluates the same ``z`` at every checkpoint).
        metrics: metric groups, any of :data:`METRICS` or ``"all"``; default: all of them.
        data_dir: offline data directory for the test (and training) split.
        memorisation_samples: images (and test images) searched by the memorisation check, >= 1.
        weights_dir: see :func:`ganlib.metrics.classifier.load_classifier`.
        cas: also the Classification Accuracy Score of a conditional run
            (:func:`ganlib.metrics.cas.cas_against_test_split`: a classifier trained on the evaluation
            samples and their classes for :data:`ganlib.metrics.cas.CAS_EPOCHS` epochs, seeded by
            ``seed``, tested on the 10,000 test images; Ravuri & Vinyals 2019,
            https://arxiv.org/abs/1905.10887). Adds ``cas`` (in [0, 1]), ``cas_per_class`` and
            ``cas_epochs``, and ``"cas"`` to ``timings``.

    Returns:
        ``(metrics, images)``: the dict of :func:`evaluate_images` with ``timings`` led by
        ``"generate"`` (seconds to draw the images), plus ``seed``, ``epoch`` (int),
        ``checkpoint`` (``gan.restored_from``), ``preset``, ``classifier_test_accuracy`` (of the
        shipped weights, in [0, 1]) and ``seconds`` (total wall time, rounded to 0.1), and for a
        conditional GAN ``class_accuracy`` (in [0, 1]), ``per_class_accuracy`` ({class: accuracy})
        and ``confusion`` (10 x 10 counts; row: class asked for, column: class predicted); and the
        evaluated images, float32 ``[N, 28, 28, 1]`` in [-1, 1] (to draw the memorisation figure).

    Raises:
        ValueError: see :func:`evaluate_images` and ``gan.evaluation_samples``; ``cas`` for a run whose
            samples have no classes (an unconditional one).
        FileNotFoundError, RuntimeError: the data, the weights or their record cannot be found.
    """
    start = time.perf_counter()
    images, labels = gan.evaluation_samples(num_samples, seed=seed)
    if cas and labels is None:
        raise ValueError("cas=True needs a conditional run: CAS trains a classifier on generated images labelled "
                         "with the class each was asked for. Received: a run whose samples have no classes")
    generate_seconds = time.perf_counter() - start
    dataset = gan.config.dataset
    result = evaluate_images(images, dataset=dataset, data_dir=data_dir, metrics=metrics,
                             memorisation_samples=memorisation_samples, weights_dir=weights_dir)
    if labels is not None:
        from ganlib.metrics.class_accuracy import class_accuracy

        accuracy = class_accuracy(images, labels, dataset=dataset, weights_dir=weights_dir)
        result.update(class_accuracy=accuracy["accuracy"], per_class_accuracy=accuracy["per_class"],
                      confusion=accuracy["confusion"])
    if cas:
        from ganlib.metrics.cas import cas_against_test_split

        score = cas_against_test_split(images, labels, dataset=dataset, data_dir=data_dir, seed=seed)
        result.update(cas=score["cas"], cas_per_class=score["per_class"], cas_epochs=score["epochs"])
        result["timings"]["cas"] = score["seconds"]
    info = classifier_info(dataset, weights_dir=weights_dir)
    result["timings"] = {"generate": round(generate_seconds, 2), **result["timings"]}
    result.update(seed=seed, epoch=int(gan.epoch.numpy()), checkpoint=gan.restored_from, preset=gan.config.preset,
                  classifier_test_accuracy=info["test_accuracy"], seconds=round(time.perf_counter() - start, 1))
    return result, images


__all__ = [
    "DEFAULT_METRICS", "DEFAULT_NUM_SAMPLES", "MEMORISATION_SAMPLES", "METRICS", "Generates", "TrainedGAN",
    "evaluate_generator", "evaluate_images", "evaluate_run", "sample_images",
]
