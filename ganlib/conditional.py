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
from ganlib.train.family import Family
from ganlib.train.state import GAN


class ConditionalFamily(Family):
    """The class-conditional family: ``G(z, y)`` and ``D(x, y)`` trained on labelled images.

    Selected by ``config.conditional`` (see :data:`ganlib.train.family.REGISTRY`). Its networks
    are :func:`ganlib.models.build_conditional_generator` and
    :func:`ganlib.models.build_conditional_discriminator`, with the label inputs of
    ``config.g_label_input`` and ``config.d_label_input``; the step is called with the labels of
    each real batch; the fixed grid has one row per class and one latent vector per column.

    References:
        Mirza and Osindero 2014, "Conditional Generative Adversarial Nets", https://arxiv.org/abs/1411.1784.
        Miyato and Koyama 2018, "cGANs with Projection Discriminator", https://arxiv.org/abs/1802.05637.
    """

    name = "conditional"

    def build_networks(self):
        from ganlib.models import build_conditional_discriminator, build_conditional_generator

        c = self.config
        generator = build_conditional_generator(c.latent_dim, c.g_filters, num_classes=NUM_CLASSES,
                                                label_input=c.g_label_input)
        discriminator = build_conditional_discriminator(
            c.d_filters, num_classes=NUM_CLASSES, label_input=c.d_label_input, batch_norm=c.d_batch_norm,
            name="discriminator" if c.d_batch_norm else "critic",
        )
        return generator, discriminator, {}

    def dataset_labels(self, labels):
        return labels

    def check_train_labels(self, labels, n: int) -> np.ndarray:
        """Raises ``ValueError`` unless ``labels`` are ints ``[n]`` in 0..9."""
        if labels is None:
            raise ValueError(f"A conditional config trains on labelled images: expected labels, ints [{n}] in "
                             f"0..{NUM_CLASSES - 1}. Received: labels=None")
        y = np.asarray(labels)
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"Expected integer labels of shape [{n}], one per image. "
                             f"Received: labels.shape={list(y.shape)}, dtype={y.dtype}")
        if n and (y.min() < 0 or y.max() >= NUM_CLASSES):
            raise ValueError(f"Expected labels in 0..{NUM_CLASSES - 1}. Received values in [{y.min()}, {y.max()}]")
        return y

    def check_labels(self, labels, n: int) -> np.ndarray:
        """Raises ``ValueError`` unless ``labels`` are ints ``[n]`` in 0..9, one per latent vector."""
        if labels is None:
            raise ValueError(
                f"This GAN is conditional: expected labels, ints [N] in 0..{NUM_CLASSES - 1}, one per latent vector "
                f"(N={n}). Received: labels=None"
            )
        y = np.asarray(labels)
        if y.shape != (n,):
            raise ValueError(
                f"Expected one label per latent vector, shape [{n}]. Received: labels.shape={list(y.shape)}"
            )
        if n and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"Expected integer class labels in 0..{NUM_CLASSES - 1}. Received: dtype={y.dtype}")
        if n and (y.min() < 0 or y.max() >= NUM_CLASSES):
            bad = y[(y < 0) | (y >= NUM_CLASSES)]
            raise ValueError(f"Expected class labels in 0..{NUM_CLASSES - 1}. Received: labels={bad[:5].tolist()}")
        return y.astype(np.int32)

    def grid_inputs(self, fixed_z: np.ndarray, columns: int):
        """One row per class (0 to 9), ``fixed_z[:columns]`` along each row: one ``z`` per column."""
        return np.tile(fixed_z[:columns], (NUM_CLASSES, 1)), np.repeat(np.arange(NUM_CLASSES), columns)

    def evaluation_labels(self, num_samples: int) -> np.ndarray:
        """``max(1, num_samples // 10)`` of every class in turn: zeros, then ones, and so on."""
        return np.repeat(np.arange(NUM_CLASSES), max(1, num_samples // NUM_CLASSES))

    def wrap_step(self, gan: GAN, step):
        def labelled(real, z=None, labels=None):
            if labels is None:
                raise ValueError("This step trains conditional networks: expected labels [batch]. "
                                 "Received: labels=None")
            return step(real, z, labels)

        return labelled


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
        gan: a conditional :class:`ganlib.train.state.GAN`.
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


__all__ = ["ConditionalFamily", "balanced_labels", "class_accuracy", "evaluate_conditional", "sample_classes"]
