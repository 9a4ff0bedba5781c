"""What the translation families share at the family seam: no latent vector, a grid of fixed inputs, refusals.

A translator's generator maps images to images, so the fixed sample grid is made of fixed
*input images*, not latent vectors: :class:`TranslationFamily` keeps them in a checkpointed
variable (the GAN's ``grid_pairs``), filled from the first training images when a run's
epochs start (the same images on every resume) and restored with the checkpoint for
``sample``-like readers. Not available, each refused with a ``ValueError`` naming why:
Keras's ``fit()`` (:meth:`check_fit`); several replicas, mixed precision and the per-epoch
evaluation of generated samples (refused by :class:`ganlib.config.TrainConfig`). The step
is not compiled with XLA (:meth:`supports_xla`; ``jit_compile`` is ignored).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ganlib.train.family import EpochRunner, Family

if TYPE_CHECKING:  # annotations only
    from ganlib.train.state import GAN


class TranslationFamily(Family):
    """The common part of :class:`ganlib.translate.pix2pix.Pix2PixFamily` and
    :class:`ganlib.translate.cyclegan.CycleGANFamily`; subclasses supply :meth:`grid_pairs_from`,
    :meth:`grid_from_pairs` and :meth:`translate`."""

    name = "translation"
    #: channels of one grid item stored in the ``grid_pairs`` variable.
    grid_channels = 3
    #: rows of the sample grid per group of ``grid_columns`` items.
    rows_per_item = 3

    def supports_xla(self) -> bool:
        return False

    def check_fit(self, gan: GAN) -> None:
        raise ValueError(
            f"A {self.name} run trains with its own step (a generator that maps images to images, "
            "no latent vector), which Keras's fit() adapter cannot drive: train it with ganlib.train.train or "
            f"'python -m ganlib train --preset {self.name}'. Received: a GAN of the {self.name} family")

    def check_labels(self, labels: Any, n: int) -> None:
        raise ValueError(f"A {self.name} generator maps images to images and draws nothing from latent vectors: "
                         "use its translate() (or 'python -m ganlib translate'). Received: a request to sample "
                         f"{n} images from z")

    def grid_count(self, columns: int) -> int:
        """Items in the grid: ``columns`` per group, ``max(1, columns // rows_per_item)`` groups."""
        return columns * max(1, columns // self.rows_per_item)

    def grid_variable(self, columns: int):
        """The checkpointed ``grid_pairs`` variable, zeros until :meth:`epoch_runner` fills it."""
        import tensorflow as tf

        n = self.grid_count(columns)
        return tf.Variable(np.zeros([n, 28, 28, self.grid_channels], np.float32), trainable=False,
                           name="grid_pairs")

    @staticmethod
    def dropout_seeds(*models):
        """The states of the models' dropout seed generators, as one checkpointable object (the ``dropout_seeds`` extra).

        Keras keeps a dropout layer's random state in a variable outside the model's weights, which a
        checkpoint of the model does not hold; checkpointed here, a resumed run drops the same units.
        """
        import tensorflow as tf

        states = [v for m in models for v in m.variables if v.path.endswith("seed_generator_state")]
        return tf.train.Checkpoint(**{f"state_{i}": v for i, v in enumerate(states)})

    def grid_pairs_from(self, images: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` grid items made from training images ``[N, 28, 28, 1]``: float32 ``[n, 28, 28, grid_channels]``."""
        raise NotImplementedError

    def grid_from_pairs(self, gan: GAN, pairs: np.ndarray) -> list[np.ndarray]:
        """The ``rows_per_item`` rows of images ``[n, 28, 28, 1]`` for the grid items ``pairs``."""
        raise NotImplementedError

    def translate(self, gan: GAN, images: np.ndarray, **options: Any) -> np.ndarray:
        """Apply the trained translator to inputs checked by :meth:`translation_inputs` (inference mode).

        Returns:
            float32 ``[N, 28, 28, 1]`` in [-1, 1].
        """
        raise NotImplementedError

    #: what :meth:`translation_inputs` accepts, for error messages.
    accepted_inputs = "images [N, 28, 28] or [N, 28, 28, 1]"

    def translation_inputs(self, images: np.ndarray, *, flag: str = "images", seed: int = 0) -> np.ndarray:
        """Check images given to the translator and put them in the generator's input form (NumPy only).

        Accepted: float in [-1, 1] or uint8 in 0..255 (mapped to [-1, 1]), shaped as
        :attr:`accepted_inputs`; a subclass may add forms.

        Raises:
            ValueError: another shape, dtype or range; the message names ``flag``, what was expected and
                what was received.
        """
        return check_translation_images(images, flag=flag, accepted=self.accepted_inputs)

    def shown_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """The images ``[N, 28, 28, 1]`` that a grid shows for inputs of :meth:`translation_inputs`."""
        return inputs[..., :1]

    def epoch_runner(self, gan: GAN, images, labels, steps_per_epoch: int, make_runner) -> EpochRunner:
        gan.grid_pairs.assign(self.grid_pairs_from(images, int(gan.grid_pairs.shape[0])))
        return super().epoch_runner(gan, images, labels, steps_per_epoch, make_runner)

    def grid_images(self, gan: GAN) -> np.ndarray:
        """Groups of ``rows_per_item`` rows of ``grid_columns`` images each (see the subclasses' docstrings)."""
        pairs = gan.grid_pairs.numpy()
        columns = gan.grid_columns
        rows = self.grid_from_pairs(gan, pairs)
        groups = []
        for g in range(len(pairs) // columns):
            groups.extend(r[g * columns:(g + 1) * columns] for r in rows)
        return np.concatenate(groups).astype(np.float32)


def check_translation_images(images: Any, *, flag: str = "images", accepted: str = "[N, 28, 28, 1]",
                             channels: tuple[int, ...] = (1,)) -> np.ndarray:
    """Images for a translator: float32 ``[N, 28, 28, C]`` in [-1, 1], ``C`` in ``channels``.

    ``[N, 28, 28]`` gets a channel axis; uint8 images (0..255) are mapped to [-1, 1].

    Raises:
        ValueError: not an array of numbers, another shape, no image, non-finite values or values
            outside [-1, 1]; the message names ``flag``, expected and received.
    """
    x = np.asarray(images)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{flag}: expected numbers, {accepted}. Received: dtype={x.dtype}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:3] != (28, 28) or x.shape[3] not in channels or len(x) == 0:
        raise ValueError(f"{flag}: expected {accepted} with N >= 1. Received: shape={list(np.shape(images))}")
    if x.dtype == np.uint8:
        return (x.astype(np.float32) / 127.5 - 1.0).astype(np.float32)
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"{flag}: expected finite values in [-1, 1]. Received: values containing NaN or infinity")
    lo, hi = float(x[..., 0].min()), float(x[..., 0].max())
    if lo < -1 or hi > 1:
        raise ValueError(f"{flag}: expected image values in [-1, 1] (or uint8 0..255). Received values in "
                         f"[{lo:.4g}, {hi:.4g}]")
    return x


def predict(model, inputs: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """``model(inputs, training=False)`` in batches: float32 ``[N, 28, 28, C]``."""
    parts = [model(inputs[i:i + batch_size], training=False).numpy() for i in range(0, len(inputs), batch_size)]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 28, 28, 1), np.float32)


__all__ = ["TranslationFamily", "check_translation_images", "predict"]
