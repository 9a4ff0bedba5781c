"""The translation tasks built from MNIST: inpainting masks (pix2pix) and the thin/bold stroke domains (CycleGAN).

Inpainting. A mask ``m`` is float ``[batch, 28, 28, 1]``, 1 on the hidden pixels and 0 on
the visible ones. Two kinds (``TrainConfig.mask``):

* ``"square"``: a ``size x size`` square at a uniformly random position inside the image
  (top-left corner in ``0 .. 28 - size`` on each axis), a new one per image;
* ``"lower_half"``: rows 14 to 27, the same for every image.

The generator's input is the channel pair :func:`masked_input`
``[x * (1 - m) + (-1) * m, m]``: the image with its hidden pixels set to -1 (the background)
and the mask itself, so that the network knows which background pixels are missing and
which are really blank. The same first channel is the "no generator" baseline's
completion (:func:`paste`): the digit with the region erased.

Strokes. Domain X is the MNIST digits as they are (thin strokes); domain Y is
:func:`dilate` of them: a 3x3 grey-level dilation (a 3x3 max filter, stride 1, the border
padded with the background) on the [-1, 1] image, which thickens every stroke by one pixel on
each side. :func:`stroke_domains` splits the training set into two disjoint halves, X from
the first and Y (dilated) from the second, so no (x, dilate(x)) pair is ever seen in
training; on the test split the true translation ``dilate(x)`` is known.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 28
FILL = -1.0  # the value of a hidden pixel in the masked image: the background


def _check_batch(images: np.ndarray, name: str = "images") -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ValueError(f"Expected {name} of shape [N, 28, 28, 1]. Received: shape={list(x.shape)}")
    return x


def lower_half_mask(n: int) -> np.ndarray:
    """The lower-half mask of ``n`` images: float32 ``[n, 28, 28, 1]``, 1 on rows 14-27, 0 elsewhere.

    Raises:
        ValueError: ``n`` < 0.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0. Received: n={n!r}")
    m = np.zeros([n, IMAGE_SIZE, IMAGE_SIZE, 1], np.float32)
    m[:, IMAGE_SIZE // 2:] = 1.0
    return m


def square_masks(corners: np.ndarray, size: int) -> np.ndarray:
    """Square masks of side ``size`` with top-left corners ``corners``: float32 ``[n, 28, 28, 1]`` in {0, 1}.

    Example:
        >>> m = square_masks(np.array([[0, 0], [14, 14]]), 14)
        >>> m.shape, m[0, :14, :14].min(), m[0, 14:].max(), m[1, 14:, 14:].min()
        ((2, 28, 28, 1), 1.0, 0.0, 1.0)

    Args:
        corners: int ``[n, 2]``, (row, column) of each square's top-left pixel, each in ``0 .. 28 - size``.
        size: the square's side in pixels, 1..28.

    Raises:
        ValueError: ``size`` outside 1..28, corners of the wrong shape or outside the image.
    """
    if not isinstance(size, (int, np.integer)) or not 1 <= size <= IMAGE_SIZE:
        raise ValueError(f"size must be an integer in 1..{IMAGE_SIZE}. Received: size={size!r}")
    c = np.asarray(corners)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"Expected corners of shape [n, 2]. Received: shape={list(c.shape)}")
    if c.size and (c.min() < 0 or c.max() > IMAGE_SIZE - size):
        raise ValueError(f"Expected corners in 0..{IMAGE_SIZE - size} for size {size}. "
                         f"Received values in [{c.min()}, {c.max()}]")
    r = np.arange(IMAGE_SIZE)
    rows = (r[None, :] >= c[:, :1]) & (r[None, :] < c[:, :1] + size)  # [n, 28]
    cols = (r[None, :] >= c[:, 1:]) & (r[None, :] < c[:, 1:] + size)
    return (rows[:, :, None] & cols[:, None, :]).astype(np.float32)[..., None]


def make_masks(kind: str, n: int, *, size: int = 14, seed: int = 0) -> np.ndarray:
    """``n`` masks of ``kind`` (``"square"`` at positions drawn by ``default_rng(seed)``, or ``"lower_half"``).

    Returns:
        float32 ``[n, 28, 28, 1]`` in {0, 1}, 1 on the hidden pixels.

    Raises:
        ValueError: unknown ``kind``, bad ``size`` or ``n``.
    """
    if kind == "lower_half":
        return lower_half_mask(n)
    if kind == "square":
        if not isinstance(size, (int, np.integer)) or not 1 <= size <= IMAGE_SIZE:
            raise ValueError(f"size must be an integer in 1..{IMAGE_SIZE}. Received: size={size!r}")
        corners = np.random.default_rng(seed).integers(0, IMAGE_SIZE - size + 1, size=(n, 2))
        return square_masks(corners, size)
    raise ValueError(f"Expected a mask kind 'square' or 'lower_half'. Received: kind={kind!r}")


def masked_input(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The generator's input: ``concat([x * (1 - m) + FILL * m, m])`` on channels, ``FILL`` = -1.

    Works on NumPy arrays and TensorFlow tensors alike (only arithmetic and a concatenation).

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1].
        masks: float ``[N, 28, 28, 1]`` in {0, 1}, 1 on the hidden pixels.

    Returns:
        float32 ``[N, 28, 28, 2]``: channel 0 the masked image in [-1, 1], channel 1 the mask.
    """
    visible = images * (1.0 - masks) + FILL * masks
    if isinstance(images, np.ndarray):
        return np.concatenate([visible, masks], axis=-1).astype(np.float32)
    import tensorflow as tf

    return tf.concat([visible, masks], axis=-1)


def paste(pairs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The completed image: the input's visible pixels, the generator's output on the hidden ones.

    ``completion = x_masked * (1 - m) + G(x) * m``; with ``outputs`` = ``pairs[..., :1]`` this is
    the "no generator" baseline (the masked input itself).

    Args:
        pairs: float32 ``[N, 28, 28, 2]`` of :func:`masked_input`.
        outputs: float ``[N, 28, 28, 1]`` in [-1, 1].

    Returns:
        float32 ``[N, 28, 28, 1]`` in [-1, 1].
    """
    m = pairs[..., 1:2]
    return (pairs[..., :1] * (1.0 - m) + outputs * m).astype(np.float32)


def dilate(images: np.ndarray, size: int = 3) -> np.ndarray:
    """Grey-level dilation: each pixel becomes the maximum of its ``size x size`` neighbourhood (the bold domain).

    The border is padded with -1 (the background), so the image does not grow.

    Example:
        >>> x = -np.ones([1, 28, 28, 1], np.float32); x[0, 10, 10] = 1.0
        >>> int((dilate(x) > 0).sum())
        9

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1].
        size: odd side of the neighbourhood, >= 1 (1: the identity).

    Returns:
        float32 ``[N, 28, 28, 1]`` in [-1, 1].

    Raises:
        ValueError: wrong shape, or ``size`` not an odd positive integer.
    """
    x = _check_batch(images)
    if not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be an odd positive integer. Received: size={size!r}")
    p = size // 2
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=FILL)
    out = np.full_like(x, FILL)
    for dr in range(size):
        for dc in range(size):
            np.maximum(out, padded[:, dr:dr + IMAGE_SIZE, dc:dc + IMAGE_SIZE], out=out)
    return out


def stroke_domains(images: np.ndarray, size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The two unpaired domains of the CycleGAN task: thin X from the first half, bold Y from the second.

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1], N >= 2 (the training split).
        size: the dilation's neighbourhood (see :func:`dilate`).

    Returns:
        ``(x, y)``: float32 ``[N // 2, 28, 28, 1]`` each; ``x = images[:N // 2]`` and
        ``y = dilate(images[N // 2 : 2 * (N // 2)])``, disjoint halves.

    Raises:
        ValueError: wrong shape or fewer than 2 images.
    """
    x = _check_batch(images)
    if len(x) < 2:
        raise ValueError(f"Expected at least 2 images to split into two domains. Received: {len(x)}")
    half = len(x) // 2
    return x[:half], dilate(x[half:2 * half], size)


__all__ = ["FILL", "IMAGE_SIZE", "dilate", "lower_half_mask", "make_masks", "masked_input", "paste",
           "square_masks", "stroke_domains"]
