"""Asking a conditional GAN for classes, and checking that it draws them: balanced labels and class accuracy.

A conditional generator ``G(z, y)`` (``TrainConfig.conditional``; networks in
:mod:`ganlib.models`) should draw class ``y`` whatever ``z`` is. The check is an
independent judge: ganlib's shipped classifier (:func:`ganlib.metrics.classify`,
99.3% test accuracy on MNIST) labels ``N`` samples per requested class, and the
*class accuracy* of class ``c`` is the fraction of the samples asked for as ``c``
that it classifies as ``c``. Averaged over the classes it is the figure the
README reports (ganlib's default conditional run: see README.md).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ganlib.data import NUM_CLASSES
from ganlib.metrics.class_accuracy import class_accuracy  # re-exported: ganlib.conditional.class_accuracy
from ganlib.state import GAN


def balanced_labels(n: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Labels ``[n]`` that visit the classes in turn, ``0, 1, ..., num_classes - 1, 0, 1, ...``.

    Raises:
        ValueError: ``n`` < 0 or ``num_classes`` < 1.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0. Received: n={n!r}")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer. Received: num_classes={num_classes!r}")
    return np.arange(n) % num_classes


def sample_classes(gan: GAN, per_class: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` samples of every class from a conditional GAN, each from its own ``z``.

    Args:
        gan: a conditional :class:`ganlib.state.GAN`.
        per_class: samples per class, >= 1.
        seed: seed of ``z ~ N(0, I)`` (``numpy.random.default_rng(seed)``).

    Returns:
        ``(images, labels)``: float32 ``[10 * per_class, 28, 28, 1]`` in [-1, 1] and the requested
        classes, int ``[10 * per_class]``, ``per_class`` zeros first, then ones, and so on.

    Raises:
        ValueError: ``per_class`` < 1, or an unconditional GAN.
    """
    if not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer. Received: per_class={per_class!r}")
    if not gan.config.conditional:
        raise ValueError("Expected a conditional GAN (trained with conditional=True). Received an unconditional one.")
    return gan.evaluation_samples(NUM_CLASSES * int(per_class), seed=seed)


def evaluate_conditional(
    gan: GAN,
    *,
    per_class: int = 1000,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Class accuracy, FCD, classifier score and coverage of ``per_class`` samples of every class.

    The images of :func:`sample_classes` go through :func:`class_accuracy` and
    :func:`ganlib.metrics.evaluate_images` (against the test split, whose classes are
    about balanced as these samples are).

    Returns:
        The dict of :func:`ganlib.metrics.evaluate_images` plus ``class_accuracy`` (mean over
        classes), ``per_class_accuracy`` ({class: accuracy}), ``confusion``, ``seed`` and ``epoch``.

    Raises:
        ValueError: an unconditional GAN, ``per_class`` < 1.
        FileNotFoundError, RuntimeError: the test split or the classifier's weights cannot be found.
    """
    from ganlib.metrics import evaluate_images

    images, labels = sample_classes(gan, per_class, seed=seed)
    accuracy = class_accuracy(images, labels, dataset=gan.config.dataset, weights_dir=weights_dir)
    metrics = evaluate_images(images, dataset=gan.config.dataset, data_dir=data_dir, weights_dir=weights_dir)
    return {**metrics, "class_accuracy": accuracy["accuracy"], "per_class_accuracy": accuracy["per_class"],
            "confusion": accuracy["confusion"], "seed": int(seed), "epoch": int(gan.epoch.numpy())}


__all__ = ["balanced_labels", "class_accuracy", "evaluate_conditional", "sample_classes"]
