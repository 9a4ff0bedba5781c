"""DiffAugment: one differentiable augmentation ``T`` of every image the discriminator sees, as a component.

Zhao et al. 2020 train the discriminator on augmented images without letting it learn the
augmentation: the same random, differentiable transform ``T`` is applied to the real and to
the generated images, in the discriminator's update and in the generator's (their eq. (3)
and (4))::

    L_D = f_D(D(T(x)), D(T(G(z))))              (3)
    L_G = f_G(D(T(G(z))))                       (4)

Because ``T`` is differentiable, the generator's gradient flows back through it; because
the generator's images are augmented too, the discriminator cannot tell them apart by the
augmentation, and the generator is not pushed to draw augmented digits. The paper's
small-data experiments (CIFAR-10 at 10% and 20% of the data, the 100-shot sets) show the
discriminator no longer memorising the training set. Measured here:
``docs/decisions/017-diffaugment-and-cas.md``.

Policies (the paper's ``translation`` and ``cutout``; its ``color`` would change a grey digit's
contrast and offset only, and flips or rotations change what a digit is, so neither is offered):

* ``translation``: shift each image by an integer ``(dy, dx)`` drawn uniformly from
  ``[-s, s]^2`` with ``s = int(size / 8 + 0.5)`` (4 pixels at 28x28, 3.5 rounded half up as the
  paper's code does; its ratio 1/8), the uncovered pixels filled;
* ``cutout``: fill a square of side ``int(size / 2 + 0.5)`` (14 pixels at 28x28, the paper's ratio
  1/2) whose centre is uniform over the image (so it may be cut by the border), per image.

Both scale with the images they are given, so any size works: the progressive family's step
sees 28x28 images at every stage (its networks take and give 28x28), and a shift of up to 4
pixels there is, after its critic's subsampling, up to 1 pixel of the 7x7 stage's image.

The fill value is -1, the background of ganlib's images (in [-1, 1]), where the paper's code
fills with 0. Departure, and its reason: the paper's 0 is the middle of its colour range,
and 0 here would frame a translated digit with a grey band and cut a grey square into it;
with -1 a translated digit is a digit on its usual black background, and cutout erases strokes,
so the augmented images stay near the data's support (the same for the real and the
generated ones, which is what the method needs). ``fill=0.0`` gives the paper's choice.

The transform enters the train step as data: :class:`DiffAugment` is a component of
:data:`ganlib.train.family.COMPONENTS`, built from ``config.diffaugment``, and its
:attr:`DiffAugment.augment` is the step's ``augment`` argument
(:func:`ganlib.train.step.make_train_step`), applied to every image batch the discriminator
scores. Its randomness comes from the step's seeded ``tf.random.Generator``, so seeded runs
repeat and a resumed run continues the same stream.

References:
    Zhao, Liu, Lin, Zhu, Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training",
    https://arxiv.org/abs/2006.10738, section 3 (eq. (3), (4)) and the authors' ``DiffAugment_tf.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import tensorflow as tf

from ganlib.config import DIFFAUGMENT_POLICIES, TrainConfig, diffaugment_policies

if TYPE_CHECKING:  # annotations only
    import keras

    from ganlib.train.family import Family

Augment = Callable[[tf.Tensor, tf.random.Generator], tf.Tensor]

TRANSLATION_RATIO = 0.125
"""The largest shift as a fraction of the image's side (the paper's ``ratio=0.125``)."""
CUTOUT_RATIO = 0.5
"""The side of the cutout square as a fraction of the image's side (the paper's ``ratio=0.5``)."""
BACKGROUND = -1.0
"""The fill value: ganlib's images are in [-1, 1] with a -1 background (see the module docstring)."""


def _side(images: tf.Tensor, axis: int) -> int:
    side = images.shape[axis]
    if side is None:
        raise ValueError(f"Expected images [batch, H, W, C] with a known H and W. Received: shape={images.shape}")
    return int(side)


def _check_images(images: Any) -> tf.Tensor:
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"Expected images of shape [batch, H, W, C]. Received: shape={images.shape}")
    return images


def translate(images: tf.Tensor, shifts: tf.Tensor, *, fill: float = BACKGROUND) -> tf.Tensor:
    """Shift each image by its own integer offset, filling the uncovered pixels with ``fill``.

    ``out[b, i, j] = images[b, i - dy_b, j - dx_b]`` where that pixel exists, else ``fill``:
    a positive ``dy`` moves the content down, a positive ``dx`` to the right. Differentiable
    in ``images`` (a gather and a select); the gradient is 1 for each pixel that stays in view.

    Example:
        >>> x = tf.reshape(tf.range(9, dtype=tf.float32), [1, 3, 3, 1])
        >>> translate(x, tf.constant([[1, 0]]), fill=-1.0)[0, :, :, 0].numpy().tolist()
        [[-1.0, -1.0, -1.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]

    Args:
        images: float ``[batch, H, W, C]`` (ganlib's are in [-1, 1]); H and W known when traced.
        shifts: int ``[batch, 2]``, ``(dy, dx)`` per image, any integers (a shift of at least the
            side leaves only ``fill``).
        fill: the value of the uncovered pixels.

    Returns:
        ``[batch, H, W, C]``, the dtype of ``images``.

    Raises:
        ValueError: ``images`` not of rank 4.
    """
    images = _check_images(images)
    h, w = _side(images, 1), _side(images, 2)
    shifts = tf.cast(shifts, tf.int32)
    rows = tf.range(h)[None, :] - shifts[:, 0:1]  # [batch, H]: the source row of each output row
    cols = tf.range(w)[None, :] - shifts[:, 1:2]
    moved = tf.gather(images, tf.clip_by_value(rows, 0, h - 1), axis=1, batch_dims=1)
    moved = tf.gather(moved, tf.clip_by_value(cols, 0, w - 1), axis=2, batch_dims=1)
    inside = (((rows >= 0) & (rows < h))[:, :, None, None]) & (((cols >= 0) & (cols < w))[:, None, :, None])
    return tf.where(inside, moved, tf.cast(fill, images.dtype))


def cut_out(images: tf.Tensor, centres: tf.Tensor, size: int, *, fill: float = BACKGROUND) -> tf.Tensor:
    """Fill a ``size x size`` square of each image, centred on its own pixel, with ``fill``.

    The square of image ``b`` covers rows ``cy_b - size // 2 .. cy_b - size // 2 + size - 1`` (and
    the same for columns), clipped by the border, as the paper's code places it.

    Args:
        images: float ``[batch, H, W, C]``; H and W known when traced.
        centres: int ``[batch, 2]``, ``(cy, cx)`` per image.
        size: the square's side in pixels, >= 0.
        fill: the value of the square's pixels.

    Returns:
        ``[batch, H, W, C]``, the dtype of ``images``; gradient 1 outside the square, 0 inside.

    Raises:
        ValueError: ``images`` not of rank 4, or ``size`` < 0.
    """
    images = _check_images(images)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be an integer >= 0. Received: size={size!r}")
    h, w = _side(images, 1), _side(images, 2)
    low = tf.cast(centres, tf.int32) - size // 2  # [batch, 2]
    rows, cols = tf.range(h)[None, :], tf.range(w)[None, :]
    in_rows = (rows >= low[:, 0:1]) & (rows < low[:, 0:1] + size)
    in_cols = (cols >= low[:, 1:2]) & (cols < low[:, 1:2] + size)
    square = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return tf.where(square, tf.cast(fill, images.dtype), images)


def random_translation(images: tf.Tensor, rng: tf.random.Generator, *, ratio: float = TRANSLATION_RATIO,
                       fill: float = BACKGROUND) -> tf.Tensor:
    """:func:`translate` by ``(dy, dx)`` uniform on ``[-s, s]^2`` per image, ``s = int(side * ratio + 0.5)``.

    Args:
        images: float ``[batch, H, W, C]`` in [-1, 1].
        rng: the step's random generator (two int draws per image).
        ratio: the largest shift as a fraction of the side (the paper's 1/8: 4 pixels at 28x28, 2 at 14x14, 1 at 7x7).
        fill: the value of the uncovered pixels (-1, the background).

    Returns:
        ``[batch, H, W, C]`` in [-1, 1] (for ``fill`` in [-1, 1]).
    """
    images = _check_images(images)
    limits = tf.constant([int(_side(images, 1) * ratio + 0.5), int(_side(images, 2) * ratio + 0.5)])
    shifts = rng.uniform([tf.shape(images)[0], 2], minval=0, maxval=2**30, dtype=tf.int32) % (2 * limits + 1) - limits
    return translate(images, shifts, fill=fill)


def random_cutout(images: tf.Tensor, rng: tf.random.Generator, *, ratio: float = CUTOUT_RATIO,
                  fill: float = BACKGROUND) -> tf.Tensor:
    """:func:`cut_out` of a square of side ``int(side * ratio + 0.5)`` whose centre is uniform per image.

    As the paper's code, the centre ``c`` is uniform on ``0 .. side - (size % 2)``, so an even square
    can reach either border.

    Args:
        images: float ``[batch, H, W, C]`` in [-1, 1], square (H = W).
        rng: the step's random generator (two int draws per image).
        ratio: the square's side as a fraction of the image's side (the paper's 1/2: 14 pixels at 28x28).
        fill: the value of the square (-1, the background).

    Returns:
        ``[batch, H, W, C]`` in [-1, 1] (for ``fill`` in [-1, 1]).

    Raises:
        ValueError: images not square.
    """
    images = _check_images(images)
    side = _side(images, 1)
    if _side(images, 2) != side:
        raise ValueError(f"Expected square images [batch, H, H, C]. Received: shape={images.shape}")
    size = int(side * ratio + 0.5)
    span = side + (1 - size % 2)
    centres = rng.uniform([tf.shape(images)[0], 2], minval=0, maxval=2**30, dtype=tf.int32) % span
    return cut_out(images, centres, size, fill=fill)


POLICIES: dict[str, Augment] = {"translation": random_translation, "cutout": random_cutout}
"""The transforms by policy name (``ganlib.config.DIFFAUGMENT_POLICIES`` names the same, without TensorFlow)."""


def make_augment(policies: str | Sequence[str]) -> Augment | None:
    """The transform ``T(images, rng)`` of a policy: its parts applied in the order given.

    Example:
        >>> augment = make_augment("translation,cutout")
        >>> augment(tf.zeros([2, 28, 28, 1]), tf.random.Generator.from_seed(0)).shape
        TensorShape([2, 28, 28, 1])

    Args:
        policies: ``"translation,cutout"``, a subset of :data:`POLICIES` comma-separated, or a
            sequence of names; ``""`` or empty: no augmentation.

    Returns:
        ``augment(images [batch, H, W, C] in [-1, 1], rng) -> [batch, H, W, C] in [-1, 1]``, or None
        for no policy.

    Raises:
        ValueError: an unknown or repeated policy name.
    """
    names = diffaugment_policies(policies if isinstance(policies, str) else ",".join(policies))
    if not names:
        return None
    parts = [POLICIES[name] for name in names]

    def augment(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        for part in parts:
            images = part(images, rng)
        return images

    return augment


class DiffAugment:
    """DiffAugment as a component: its :attr:`augment` is the train step's ``augment`` argument.

    Args:
        policies: see :func:`make_augment`, not empty.

    Raises:
        ValueError: an empty, unknown or repeated policy.
    """

    #: No checkpointed objects: the transform has no state (its randomness is the step's generator's).
    extra_names: tuple[str, ...] = ()

    def __init__(self, policies: str | Sequence[str]):
        augment = make_augment(policies)
        if augment is None:
            raise ValueError(f"Expected at least one DiffAugment policy of {', '.join(DIFFAUGMENT_POLICIES)}. "
                             f"Received: policies={policies!r}")
        self.policies = diffaugment_policies(policies if isinstance(policies, str) else ",".join(policies))
        self.augment: Augment = augment

    @classmethod
    def from_config(cls, config: TrainConfig, family: "Family", generator: "keras.Model",
                    extras: dict[str, Any]) -> "DiffAugment | None":
        """The component for ``config.diffaugment`` (None when it is ``""``)."""
        return cls(config.diffaugment) if config.diffaugment else None

    @property
    def extras(self) -> dict[str, Any]:
        """Checkpointed objects, by name: none."""
        return {}

    @property
    def description(self) -> str:
        """The policy, for messages."""
        return "DiffAugment " + ",".join(self.policies)


__all__ = ["BACKGROUND", "CUTOUT_RATIO", "DiffAugment", "POLICIES", "TRANSLATION_RATIO", "cut_out", "make_augment",
           "random_cutout", "random_translation", "translate"]
