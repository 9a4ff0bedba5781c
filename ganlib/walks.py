"""Latent walks: smooth paths through a generator's latent space (slerp), class morphs of a conditional GAN, truncation.

Why spherical interpolation. For ``z ~ N(0, I_d)`` the norm concentrates:
``E|z|^2 = d`` and ``|z| = sqrt(d) + O(1)``, so almost every latent vector the
generator saw in training lies near the sphere of radius ``sqrt(d)`` (10 for
d = 100). The straight line between two such vectors leaves it: for independent
``z0, z1`` (nearly orthogonal in high dimension) the midpoint ``(z0 + z1) / 2`` has
norm about ``sqrt(d / 2)`` (7.1 for d = 100), a radius at which a Gaussian sample
practically never falls (White 2016). Spherical linear interpolation

    slerp(z0, z1; t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1,
    cos W = <z0, z1> / (|z0| |z1|),

moves along the great circle through ``z0`` and ``z1`` (for equal norms the norm
stays the same at every ``t``), so every frame of a walk is a typical latent vector.

A *walk* visits ``num_keys`` random latent vectors in turn and returns to the
first (a seamless loop), ``frames_per_segment`` frames between two of them;
several walks side by side make a grid. A *class morph* keeps ``z`` and moves the
label of a conditional generator through its label space: the generator's label
vector ``e(y)`` (:func:`ganlib.models.build_conditional_generator`) goes linearly from
``e(0)`` to ``e(1)``, then to ``e(2)``, ..., to ``e(9)``.

The same geometry explains the *truncation trick* (:func:`truncate`): the lerp midpoint
``(z0 + z1) / 2`` of two independent ``N(0, I)`` vectors is distributed as ``N(0, I / 2)``,
exactly like ``psi * z`` with ``psi = 1 / sqrt(2)``. Drawing ``z`` nearer the centre of the
prior trades variety for fidelity (notebook 08 measures it; ``python -m ganlib sample RUN
--truncation PSI``).

References:
    White 2016, "Sampling Generative Networks", https://arxiv.org/abs/1609.04468, section 2.1.
    Karras et al. 2018 (progressive GANs), https://arxiv.org/abs/1710.10196, whose latent-space videos
    interpolate this way.
    Brock et al. 2019 (BigGAN), https://arxiv.org/abs/1809.11096, section 3.1, and Karras et al. 2019
    (StyleGAN), https://arxiv.org/abs/1812.04948, appendix B: the truncation trick.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ganlib import checks
from ganlib.data import NUM_CLASSES, latent_batch
from ganlib.train.state import GAN


def lerp(z0: np.ndarray, z1: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    Args:
        z0, z1: float ``[..., d]`` of equal shape.
        t: a number or ``[T]`` weights in [0, 1].

    Returns:
        ``[..., d]`` for a number ``t``, ``[T, ..., d]`` for an array.

    Raises:
        ValueError: ``z0`` and ``z1`` of different shapes.
    """
    z0, z1, t = _check_pair(z0, z1, t)
    return (1.0 - t) * z0 + t * z1


def slerp(z0: np.ndarray, z1: np.ndarray, t: float | np.ndarray, *, eps: float = 1e-6) -> np.ndarray:
    """Spherical linear interpolation (the module docstring gives the formula), vector by vector along the last axis.

    Where ``z0`` and ``z1`` are (anti)parallel, ``sin W < eps``, the great circle is not
    defined by them and the linear interpolation is returned instead.

    Example:
        >>> z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        >>> np.round(slerp(z0, z1, 0.5), 4)
        array([0.7071, 0.7071])

    Args:
        z0, z1: float ``[..., d]`` of equal shape.
        t: a number or ``[T]`` weights in [0, 1] (0 gives ``z0``, 1 gives ``z1``).
        eps: threshold on ``sin W`` below which the linear interpolation is used.

    Returns:
        ``[..., d]`` for a number ``t``, ``[T, ..., d]`` for an array, float64.

    Raises:
        ValueError: ``z0`` and ``z1`` of different shapes.

    References:
        White 2016, https://arxiv.org/abs/1609.04468, section 2.1 (after Shoemake 1985).
    """
    z0, z1, t = _check_pair(z0, z1, t)
    n0 = np.linalg.norm(z0, axis=-1, keepdims=True)
    n1 = np.linalg.norm(z1, axis=-1, keepdims=True)
    cos = np.clip(np.sum(z0 * z1, axis=-1, keepdims=True) / np.maximum(n0 * n1, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    sin = np.sin(omega)
    safe = sin >= eps
    sin = np.where(safe, sin, 1.0)
    spherical = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / sin
    return np.where(safe, spherical, (1.0 - t) * z0 + t * z1)


def truncate(z: np.ndarray, psi: float) -> np.ndarray:
    """The truncation trick in z-space: every latent vector scaled toward the prior's mean 0, ``z' = psi * z``.

    For ``z ~ N(0, I_d)`` the result is ``N(0, psi^2 I_d)``: its norm is about ``psi * sqrt(d)`` instead of
    ``sqrt(d)`` (exactly ``psi * |z|`` vector by vector), and every direction is kept. ``psi < 1`` draws nearer
    the centre of the prior, the mode of its density: more typical samples (fidelity, precision), less variety
    (recall); ``psi = 1`` returns ``z`` unchanged; ``psi > 1`` pushes ``z`` beyond the shell of radius
    ``sqrt(d)`` where nearly all training latents lie. Notebook 08 measures FCD, precision and recall against
    ``psi`` (0.25 to 1.25).

    This is StyleGAN's formula ``w' = w_mean + psi (w - w_mean)`` (Karras et al. 2019, appendix B) applied to
    ``z`` instead of the mapped ``w`` (ganlib's generators have no mapping network), where the mean of the
    prior is 0. BigGAN's truncation (Brock et al. 2019, section 3.1) differs: it resamples each component of
    ``z`` whose magnitude exceeds a threshold (a truncated normal), which bounds every component instead of
    scaling the whole vector; both lower the norm.

    Example:
        >>> truncate(np.array([[3.0, -4.0]]), 0.5)
        array([[ 1.5, -2. ]])

    Args:
        z: float ``[..., d]`` latent vectors drawn from ``N(0, I)``.
        psi: the truncation factor, a finite number > 0 (1: no truncation).

    Returns:
        ``psi * z``, float64, of the shape of ``z``.

    Raises:
        ValueError: ``psi`` not a finite number > 0 (0 would draw one image per class, whatever ``z``).

    References:
        Brock et al. 2019 (BigGAN), https://arxiv.org/abs/1809.11096, section 3.1.
        Karras et al. 2019 (StyleGAN), https://arxiv.org/abs/1812.04948, appendix B.
    """
    check_truncation(psi)
    return float(psi) * np.asarray(z, np.float64)


def check_truncation(psi: float, name: str = "psi") -> float:
    """``psi`` if it is a finite number > 0 (:func:`truncate`'s factor); ``ValueError`` in the house form else."""
    checks.number_in(name, psi, 0, low_open=True, note="1: no truncation")
    if not math.isfinite(psi):
        raise checks.CheckError(name, "a finite positive number", psi, "1: no truncation")
    return psi


def _check_pair(z0, z1, t):
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.shape != z1.shape or z0.ndim == 0:
        raise ValueError(
            f"Expected two arrays of one shape [..., d]. Received: shapes {list(z0.shape)} and {list(z1.shape)}"
        )
    t = np.asarray(t, np.float64)
    if t.ndim > 1:
        raise ValueError(f"Expected t as a number or a 1-D array of weights. Received: t.shape={list(t.shape)}")
    if t.ndim == 1:
        t = t.reshape((-1,) + (1,) * z0.ndim)  # [T, 1, ..., 1] broadcasts against [..., d]
    return z0, z1, t


def segment_weights(frames_per_segment: int) -> np.ndarray:
    """``t = 0, 1/F, ..., (F - 1)/F``: the weights of one segment; its end is the next segment's start."""
    if not isinstance(frames_per_segment, (int, np.integer)) or frames_per_segment < 1:
        raise ValueError(
            f"frames_per_segment must be a positive integer. Received: frames_per_segment={frames_per_segment!r}"
        )
    return np.arange(frames_per_segment) / frames_per_segment


def latent_walk(
    keys: np.ndarray, frames_per_segment: int, *, closed: bool = True, spherical: bool = True
) -> np.ndarray:
    """A path through the key latent vectors, by slerp (or lerp) between consecutive keys.

    Args:
        keys: float ``[K, ..., d]``, K >= 2 key vectors (for example ``[K, num_walks, latent_dim]``).
        frames_per_segment: frames from one key to the next, >= 1.
        closed: return from the last key to the first (a seamless loop); else end on the last key.
        spherical: slerp (True) or lerp.

    Returns:
        float32 ``[T, ..., d]`` with ``T = K * F`` (closed) or ``(K - 1) * F + 1``; frame ``j * F`` is key ``j``.

    Raises:
        ValueError: fewer than 2 keys, ``frames_per_segment`` < 1.
    """
    keys = np.asarray(keys, np.float64)
    if keys.ndim < 2 or len(keys) < 2:
        raise ValueError(f"Expected at least 2 key vectors, shape [K >= 2, ..., d]. Received: shape={list(keys.shape)}")
    t = segment_weights(frames_per_segment)
    interpolate = slerp if spherical else lerp
    ends = list(range(1, len(keys))) + ([0] if closed else [])
    path = [interpolate(keys[j - 1 if j else -1], keys[j], t) for j in ends]
    if not closed:
        path.append(keys[-1][None])
    return np.concatenate(path).astype(np.float32)


def walk_frames(
    gan: GAN,
    *,
    num_walks: int = 16,
    num_keys: int = 4,
    frames_per_segment: int = 24,
    seed: int = 0,
    labels: Sequence[int] | np.ndarray | None = None,
    spherical: bool = True,
) -> np.ndarray:
    """Images of ``num_walks`` closed latent walks side by side: ``[T, num_walks, 28, 28, 1]``.

    Each walk visits ``num_keys`` latent vectors ``z ~ N(0, I)`` (``numpy.random.default_rng(seed)``)
    and returns to its first (:func:`latent_walk`). A conditional GAN keeps one class per walk:
    ``labels[i]`` for walk ``i`` (default: ``i % 10``, every class in turn).

    Args:
        gan: a :class:`ganlib.train.state.GAN`.
        num_walks: walks drawn side by side, >= 1.
        num_keys: latent vectors each walk visits, >= 2.
        frames_per_segment: frames between two of them, >= 1.
        seed: seed of the key vectors.
        labels: int ``[num_walks]`` classes of a conditional GAN; must be None for an unconditional one.
        spherical: slerp (True) or lerp between keys.

    Returns:
        float32 ``[num_keys * frames_per_segment, num_walks, 28, 28, 1]`` in [-1, 1].

    Raises:
        ValueError: a count < its minimum; labels given to an unconditional GAN, of the wrong
            shape or out of range (see :meth:`ganlib.train.state.GAN.generate`).
    """
    for name, value, minimum in (("num_walks", num_walks, 1), ("num_keys", num_keys, 2)):
        if not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    if labels is None and gan.config.conditional:
        labels = np.arange(num_walks) % NUM_CLASSES
    keys = latent_batch((num_keys, num_walks), gan.config.latent_dim, seed).astype(np.float64)
    path = latent_walk(keys, frames_per_segment, closed=True, spherical=spherical)  # [T, num_walks, d]
    steps = len(path)
    flat_labels = None if labels is None else np.tile(_walk_labels(labels, num_walks), steps)
    images = gan.generate(path.reshape(steps * num_walks, -1), labels=flat_labels)
    return images.reshape(steps, num_walks, *images.shape[1:])


def _walk_labels(labels, num_walks: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (num_walks,):
        raise ValueError(
            f"Expected one label per walk, shape [{num_walks}]. Received: labels.shape={list(labels.shape)}"
        )
    return labels


def class_morph(
    gan: GAN,
    *,
    classes: Sequence[int] = tuple(range(NUM_CLASSES)),
    frames_per_class: int = 12,
    num_columns: int = 8,
    seed: int = 0,
    closed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A conditional GAN's images as its label vector moves from class to class, with ``z`` held fixed.

    With ``e(y)`` the generator's label vector (its ``"label_embedding"`` layer) and ``body``
    the rest of it (``"generator_body"``), frame ``(j, t)`` of column ``i`` is
    ``body([z_i, (1 - t) e(c_j) + t e(c_{j+1})])``: linear interpolation in label space, the
    same latent vector ``z_i`` in every frame of column ``i``.

    Args:
        gan: a conditional :class:`ganlib.train.state.GAN`.
        classes: the classes visited, in order, at least 2, each in 0..9 (default 0 to 9).
        frames_per_class: frames from one class to the next, >= 1.
        num_columns: latent vectors (columns) morphed side by side, >= 1.
        seed: seed of the latent vectors (``numpy.random.default_rng(seed)``).
        closed: return from the last class to the first (a loop).

    Returns:
        ``(images, position)``: float32 ``[T, num_columns, 28, 28, 1]`` in [-1, 1], and float ``[T]``,
        the position along ``classes`` of each frame (``2.5``: halfway from ``classes[2]`` to ``classes[3]``).

    Raises:
        ValueError: an unconditional GAN, fewer than 2 classes or one out of range, a count < 1.
    """
    if not gan.config.conditional:
        raise ValueError("A class morph needs a conditional GAN (trained with conditional=True). "
                         "Received an unconditional one: use a latent walk instead.")
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(classes) < 2 or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"Expected at least 2 integer classes to morph through. Received: classes={classes.tolist()}")
    if classes.min() < 0 or classes.max() >= NUM_CLASSES:
        raise ValueError(f"Expected classes in 0..{NUM_CLASSES - 1}. Received: classes={classes.tolist()}")
    if not isinstance(num_columns, (int, np.integer)) or num_columns < 1:
        raise ValueError(f"num_columns must be a positive integer. Received: num_columns={num_columns!r}")
    embed = gan.generator.get_layer("label_embedding")
    body = gan.generator.get_layer("generator_body")
    vectors = np.asarray(embed(np.asarray(classes, np.int32)), np.float64)  # [C, e]
    path = latent_walk(vectors, frames_per_class, closed=closed, spherical=False)  # [T, e]
    steps = len(path)
    position = np.arange(steps) / frames_per_class
    z = latent_batch(num_columns, gan.config.latent_dim, seed)
    zs = np.tile(z, (steps, 1))
    es = np.repeat(path, num_columns, axis=0)
    images = np.concatenate([body([zs[i : i + 500], es[i : i + 500]], training=False).numpy()
                             for i in range(0, len(zs), 500)])
    return images.reshape(steps, num_columns, *images.shape[1:]), position


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """Mean absolute pixel change between consecutive frames, per frame pair: ``[T - 1]``.

    ``change_t = mean |x_{t+1} - x_t|`` over every image and pixel of frame ``t`` (images in [-1, 1],
    so 2 is the largest possible). A smooth walk has every change far below the mean absolute
    difference between two independent samples.

    Args:
        frames: float ``[T, ...]``, T >= 2.

    Raises:
        ValueError: fewer than 2 frames.
    """
    frames = np.asarray(frames, np.float64)
    if frames.ndim < 2 or len(frames) < 2:
        raise ValueError(f"Expected at least 2 frames, shape [T >= 2, ...]. Received: shape={list(frames.shape)}")
    return np.abs(np.diff(frames, axis=0)).reshape(len(frames) - 1, -1).mean(axis=1)


__all__ = [
    "check_truncation", "class_morph", "frame_changes", "latent_walk", "lerp", "segment_weights", "slerp", "truncate",
    "walk_frames",
]
