"""The shipped evaluation classifier: its network, its trained weights, its features and logits.

Every metric of :mod:`ganlib.metrics` looks at images through one small CNN trained on the
data set's *training* split (``scripts/train_classifier.py``; the weights and the test accuracy
they reached are in ``ganlib/weights/``, see :func:`classifier_info`):

* :func:`classify`: images float ``[N, 28, 28, 1]`` in [-1, 1] to ``(features, logits)``,
  float64 ``[N, 128]`` (the penultimate ReLU layer ``"features"``, so >= 0) and float32
  ``[N, 10]``. The features feed FCD, precision/recall, density/coverage, KID and the
  memorisation check; the logits feed the classifier score and mode coverage.
* The model always computes in float32, whatever the global dtype policy (mixed-precision
  training), so figures compare across runs. It is built and loaded on first use and cached
  per (data set, weights directory); TensorFlow is imported only then.

Errors: ``ValueError`` for an unknown data set (``Unknown data set: expected one of mnist,
fashion_mnist. Received: dataset=...``) or a bad batch size; ``FileNotFoundError`` when the
weights or their JSON record are missing (the message says how to train them).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ganlib.data import DATASETS, IMAGE_SHAPE, NUM_CLASSES, check_images

if TYPE_CHECKING:  # keeps ``import ganlib.metrics`` free of TensorFlow until a model is needed
    import keras

FEATURE_DIM = 128
FEATURE_LAYER = "features"
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def weights_path(dataset: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The classifier weights file of a data set: ``ganlib/weights/<dataset>_classifier.weights.h5``.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        weights_dir: folder of the weights; defaults to ``ganlib/weights``.

    Returns:
        The path (which need not exist).

    Raises:
        ValueError: unknown data set.
    """
    _check_dataset(dataset)
    return Path(weights_dir or WEIGHTS_DIR) / f"{dataset}_classifier.weights.h5"


def info_path(dataset: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The JSON next to the weights: data set, test accuracy, epochs, seed and the command that trained them.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        weights_dir: folder of the weights; defaults to ``ganlib/weights``.

    Returns:
        ``<weights_dir>/<dataset>_classifier.json`` (which need not exist).

    Raises:
        ValueError: unknown data set.
    """
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

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        weights_dir: see :func:`load_classifier`.

    Returns:
        The record written by ``scripts/train_classifier.py``; ``test_accuracy`` is a fraction in [0, 1].

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
        ValueError: bad images (see :func:`ganlib.data.check_images`), unknown data set, ``batch_size`` < 1.
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


__all__ = [
    "FEATURE_DIM", "FEATURE_LAYER", "WEIGHTS_DIR", "build_classifier", "classifier_info", "classify", "info_path",
    "load_classifier", "weights_path",
]
