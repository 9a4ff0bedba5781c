"""Class accuracy: how often the shipped classifier agrees with the class a conditional generator was asked for."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ganlib.data import NUM_CLASSES
from ganlib.metrics.classifier import classify


def class_accuracy(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    dataset: str = "mnist",
    weights_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """How often ganlib's classifier agrees with the class each image was asked for.

    ``accuracy_c = #{i : y_i = c and argmax classifier(x_i) = c} / #{i : y_i = c}``, and
    ``accuracy = mean_c accuracy_c`` over the classes present (each class weighs the same,
    whatever its number of samples).

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1].
        labels: the requested classes, ints ``[N]`` in 0..9.
        dataset: whose classifier judges (``"mnist"`` or ``"fashion_mnist"``).
        weights_dir: see :func:`ganlib.metrics.load_classifier`.

    Returns:
        ``{"accuracy": float in [0, 1], "per_class": {class: accuracy}, "confusion": [[int] * 10] * 10``
        (row: requested class, column: predicted class), ``"num_samples": N}``.

    Raises:
        ValueError: bad images (see :func:`ganlib.metrics.classify`), labels not of shape ``[N]`` or
            out of range.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"Expected integer labels of shape [{len(images)}], one per image. "
                         f"Received: labels.shape={list(labels.shape)}, dtype={labels.dtype}")
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(
            f"Expected labels in 0..{NUM_CLASSES - 1}. Received values in [{labels.min()}, {labels.max()}]"
        )
    _, logits = classify(images, dataset, weights_dir=weights_dir)
    predicted = np.argmax(logits, axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {int(c): float(confusion[c, c] / confusion[c].sum()) for c in range(NUM_CLASSES) if confusion[c].sum()}
    return {"accuracy": float(np.mean(list(per_class.values()))), "per_class": per_class,
            "confusion": confusion.tolist(), "num_samples": int(len(labels))}


__all__ = ["class_accuracy"]
