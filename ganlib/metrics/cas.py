"""Classification Accuracy Score (CAS): train a classifier on generated labelled images, test it on real ones.

Ravuri & Vinyals 2019 (section 3) measure a class-conditional generator by what its samples
teach: a classifier trained only on ``(G(z, y), y)`` pairs, with ``y`` the class the generator was
asked for, is tested on the real test set, and its top-1 accuracy is the score. A generator whose
samples are sharp but of too few kinds, or of the wrong class, scores low, which FCD-like figures
can miss (their table 2: a BigGAN-deep with FID 7 scores 43% top-1 on ImageNet, against 73% for
real data).

ganlib's version trains a new copy of the shipped evaluation classifier's network
(:func:`ganlib.metrics.classifier.build_classifier`) from fresh, seeded weights, with the recipe
``scripts/train_classifier.py`` uses for the shipped weights (Adam at 1e-3, cosine-decayed to 0;
batch 128; softmax cross-entropy), for a fixed :data:`CAS_EPOCHS` epochs on whatever it is given
(no early stopping, no model selection on the test set). The same function trained on real
training images gives the figure to compare with (the "real data" row of the paper's tables).

Departures from the paper: a small CNN instead of ResNet-50, MNIST's 10,000 test images instead
of ImageNet's validation set, and a number of epochs fixed for every data-set size instead of the
paper's full ImageNet schedule.

References:
    Ravuri & Vinyals 2019, "Classification Accuracy Score for Conditional Generative Models",
    https://arxiv.org/abs/1905.10887, section 3 and table 2.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from ganlib.data import NUM_CLASSES, check_images

CAS_EPOCHS = 5
"""Epochs of every CAS classifier, fixed in advance (10,000 images: 395 steps of 128)."""
CAS_BATCH_SIZE = 128
CAS_LEARNING_RATE = 1e-3


def _check_labels(labels: Any, n: int, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"Expected integer {name} of shape [{n}], one per image. "
                         f"Received: {name}.shape={list(labels.shape)}, dtype={labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"Expected {name} in 0..{NUM_CLASSES - 1}. Received values in [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int32)


def classification_accuracy_score(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    epochs: int = CAS_EPOCHS,
    batch_size: int = CAS_BATCH_SIZE,
    learning_rate: float = CAS_LEARNING_RATE,
    seed: int = 0,
) -> dict[str, Any]:
    """CAS: top-1 accuracy on ``(test_images, test_labels)`` of a classifier trained on ``(images, labels)``.

    ``CAS = #{j : argmax f_theta(x_j) = y_j} / M`` over the M real test images, where ``f_theta``
    minimises ``mean_i CE(f_theta(x_i^gen), y_i^gen)`` over the generated pairs (Ravuri & Vinyals
    2019, section 3). ``f`` is :func:`ganlib.metrics.classifier.build_classifier`, trained for
    ``epochs`` epochs (see the module docstring), float32 whatever the global dtype policy.
    Seeded: ``keras.utils.set_random_seed(seed)`` before the weights are drawn, so the same
    inputs and seed give the same score on one machine (this resets the global seeds of Python,
    NumPy and TensorFlow).

    Example:
        >>> from ganlib.data import load_dataset  # doctest: +SKIP
        >>> train, test = load_dataset("mnist", "train", limit=10_000), load_dataset("mnist", "test")  # doctest: +SKIP
        >>> classification_accuracy_score(train.images, train.labels, test.images, test.labels)["cas"] > 0.97  # doctest: +SKIP
        True

    Args:
        images: generated images, float ``[N, 28, 28, 1]`` in [-1, 1], N >= 1.
        labels: the class each was generated for, ints ``[N]`` in 0..9.
        test_images: real held-out images, float ``[M, 28, 28, 1]`` in [-1, 1] (MNIST's 10,000 test images).
        test_labels: their classes, ints ``[M]`` in 0..9.
        epochs: passes over the generated images, >= 1.
        batch_size: images per update, >= 1.
        learning_rate: Adam's initial rate, cosine-decayed to 0 over the training, > 0.
        seed: seed of the weights, dropout and shuffling, >= 0.

    Returns:
        ``{"cas": float in [0, 1], "per_class": {class: accuracy on its test images}, "train_accuracy":
        accuracy on the generated images after training, "num_train": N, "num_test": M, "epochs", "seed",
        "seconds"}``.

    Raises:
        ValueError: images not ``[N, 28, 28, 1]`` in [-1, 1], labels not one int in 0..9 per image, or a
            non-positive ``epochs``, ``batch_size`` or ``learning_rate``.

    References:
        Ravuri & Vinyals 2019, https://arxiv.org/abs/1905.10887, section 3.
    """
    from ganlib import checks

    images = check_images(images)
    test_images = check_images(test_images)
    labels = _check_labels(labels, len(images), "labels")
    test_labels = _check_labels(test_labels, len(test_images), "test_labels")
    checks.positive_int("epochs", epochs)
    checks.positive_int("batch_size", batch_size)
    checks.positive_number("learning_rate", learning_rate)
    checks.non_negative_int("seed", seed)

    import keras

    from ganlib.metrics.classifier import build_classifier

    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        model = build_classifier(name="cas_classifier")
    finally:
        keras.config.set_dtype_policy(previous)
    steps = epochs * math.ceil(len(images) / batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(images, labels, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    predicted = np.argmax(model.predict(test_images, batch_size=1000, verbose=0), axis=1)
    trained = np.argmax(model.predict(images, batch_size=1000, verbose=0), axis=1)
    correct = predicted == test_labels
    per_class = {int(c): float(correct[test_labels == c].mean()) for c in range(NUM_CLASSES) if (test_labels == c).any()}
    return {"cas": float(correct.mean()), "per_class": per_class, "train_accuracy": float(np.mean(trained == labels)),
            "num_train": int(len(images)), "num_test": int(len(test_images)), "epochs": epochs, "seed": seed,
            "seconds": round(time.perf_counter() - start, 1)}


def cas_against_test_split(images: np.ndarray, labels: np.ndarray, *, dataset: str = "mnist",
                           data_dir: str | os.PathLike | None = None, **kwargs: Any) -> dict[str, Any]:
    """:func:`classification_accuracy_score` tested on the data set's 10,000 test images.

    Args:
        images, labels: generated images ``[N, 28, 28, 1]`` in [-1, 1] and their requested classes ``[N]``.
        dataset: ``"mnist"`` or ``"fashion_mnist"``: whose test split.
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`).
        **kwargs: ``epochs``, ``batch_size``, ``learning_rate``, ``seed``.

    Raises:
        ValueError: see :func:`classification_accuracy_score`; an unknown data set.
        FileNotFoundError, RuntimeError: the test split cannot be found.
    """
    from ganlib.data import load_dataset

    test = load_dataset(dataset, "test", data_dir=data_dir)
    return classification_accuracy_score(images, labels, test.images, test.labels, **kwargs)


__all__ = ["CAS_BATCH_SIZE", "CAS_EPOCHS", "CAS_LEARNING_RATE", "cas_against_test_split",
           "classification_accuracy_score"]
