"""The progressive GAN's layers: fade-in, resampling, real images at a stage, pixel norm, minibatch
standard deviation and the equalized learning rate (Karras et al. 2018, sections 2-4, https://arxiv.org/abs/1710.10196)."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from ganlib.progressive.paper import (
    FULL_RESOLUTION,
    NUM_STAGES,
    PIXEL_NORM_EPSILON,
    RESOLUTIONS,
)



# --------------------------------------------------------------------------------------------
# Resampling and fade-in (section 2, figure 2).


def fade_in(alpha: float | tf.Tensor, old: tf.Tensor, new: tf.Tensor) -> tf.Tensor:
    """Linear fade between the old path and the new block: ``(1 - alpha) * old + alpha * new``.

    At ``alpha = 0`` the network is the old, lower-resolution one; at ``alpha = 1`` the new
    block has taken over. The generator fades images (toRGB outputs), the discriminator
    fades the features entering its older blocks.

    Args:
        alpha: scalar in [0, 1] (a float, tensor or ``tf.Variable``).
        old: float tensor, the old path's output, upsampled/downsampled to ``new``'s shape.
        new: float tensor of the same shape, the new block's output.

    Returns:
        A tensor of ``new``'s shape and dtype.

    Raises:
        ValueError: ``old`` and ``new`` have different static shapes.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 2 and figure 2.
    """
    old = tf.convert_to_tensor(old)
    new = tf.convert_to_tensor(new)
    if not old.shape.is_compatible_with(new.shape):
        raise ValueError(
            f"Expected old and new of the same shape. Received: old.shape={old.shape}, new.shape={new.shape}"
        )
    alpha = tf.cast(alpha, new.dtype)
    return (1.0 - alpha) * old + alpha * new


def _check_factor(factor: int) -> None:
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise ValueError(f"factor must be a positive integer. Received: factor={factor!r}")


def upsample(images: tf.Tensor, factor: int = 2) -> tf.Tensor:
    """Nearest-neighbour upsampling: every pixel becomes a ``factor x factor`` square.

    ``y[n, i, j, c] = x[n, i // factor, j // factor, c]``.

    Args:
        images: float ``[batch, H, W, C]``.
        factor: integer >= 1.

    Returns:
        ``[batch, H * factor, W * factor, C]``.

    Raises:
        ValueError: ``factor`` is not a positive integer.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, figure 2 ("2x").
    """
    _check_factor(factor)
    if factor == 1:
        return tf.convert_to_tensor(images)
    return tf.repeat(tf.repeat(images, factor, axis=1), factor, axis=2)


def downsample(images: tf.Tensor, factor: int = 2) -> tf.Tensor:
    """Average pooling over non-overlapping ``factor x factor`` squares.

    ``y[n, i, j, c] = mean_{a, b < factor} x[n, factor * i + a, factor * j + b, c]``.

    Args:
        images: float ``[batch, H, W, C]`` with H and W multiples of ``factor``.
        factor: integer >= 1.

    Returns:
        ``[batch, H // factor, W // factor, C]``.

    Raises:
        ValueError: ``factor`` is not a positive integer.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, figure 2 ("0.5x").
    """
    _check_factor(factor)
    if factor == 1:
        return tf.convert_to_tensor(images)
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def _side(images: tf.Tensor, name: str) -> int:
    shape = tf.convert_to_tensor(images).shape
    if shape.rank != 4 or shape[1] != shape[2] or shape[1] not in RESOLUTIONS:
        raise ValueError(
            f"Expected {name} of shape [batch, r, r, C] with r in {RESOLUTIONS}. Received: shape={shape}"
        )
    return int(shape[1])


def to_full_resolution(images: tf.Tensor) -> tf.Tensor:
    """Nearest-neighbour upsampling of 7x7, 14x14 or 28x28 images to 28x28 (grids, GIFs, metrics).

    Args:
        images: float ``[batch, r, r, C]`` with ``r`` in ``RESOLUTIONS``.

    Returns:
        ``[batch, 28, 28, C]``; 28x28 images are returned unchanged.

    Raises:
        ValueError: not a square resolution of ``RESOLUTIONS``.
    """
    return upsample(images, FULL_RESOLUTION // _side(images, "images"))


def to_resolution(images: tf.Tensor, resolution: int) -> tf.Tensor:
    """Average-pool 28x28 (or 14x14) images down to ``resolution`` (7, 14 or 28).

    Args:
        images: float ``[batch, r, r, C]`` with ``r`` in ``RESOLUTIONS``.
        resolution: the target side, one of ``RESOLUTIONS`` and at most ``r``.

    Returns:
        ``[batch, resolution, resolution, C]``.

    Raises:
        ValueError: a resolution outside ``RESOLUTIONS`` or above the images' own.
    """
    side = _side(images, "images")
    if resolution not in RESOLUTIONS or resolution > side:
        raise ValueError(
            f"Expected a resolution in {RESOLUTIONS} no larger than the images' ({side}). "
            f"Received: resolution={resolution!r}"
        )
    return downsample(images, side // resolution)


def _check_stage(stage: Any) -> int:
    if not isinstance(stage, (int, np.integer)) or isinstance(stage, bool) or not 0 <= stage < NUM_STAGES:
        raise ValueError(f"Expected a stage in [0, {NUM_STAGES - 1}] (a Python int). Received: stage={stage!r}")
    return int(stage)


def prepare_reals(images: tf.Tensor, stage: int, alpha: float | tf.Tensor) -> tf.Tensor:
    """Real 28x28 images as the discriminator must see them at ``stage`` and ``alpha``.

    At stage ``s`` (resolution ``r``) the images are average-pooled to ``r x r``; during the
    fade-in of stage ``s`` they are blended with their version at the previous resolution,
    ``x_r' = alpha * x_r + (1 - alpha) * upsample(downsample(x_r))``, so that real and
    generated images go through the same transition; the result is upsampled back to 28x28
    (nearest neighbour), as the networks take and give 28x28 images. Stage 0 has no fade.

    Example:
        >>> x = tf.random.uniform([4, 28, 28, 1], -1.0, 1.0)
        >>> y = prepare_reals(x, 0, 1.0)  # each 4x4 square holds its mean
        >>> bool(tf.reduce_all(y[:, :4, :4] == tf.reduce_mean(x[:, :4, :4], axis=[1, 2], keepdims=True)))
        True

    Args:
        images: float ``[batch, 28, 28, C]`` in [-1, 1].
        stage: 0, 1 or 2, a Python int.
        alpha: fade-in weight in [0, 1], a float, tensor or ``tf.Variable`` (read at run time);
            ignored at stage 0.

    Returns:
        float ``[batch, 28, 28, C]`` in [-1, 1].

    Raises:
        ValueError: images not 28x28, or a stage that is not an int in [0, 2].

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, figure 2's caption (real images
        "downscaled to match the current resolution", and interpolated between two resolutions
        during a transition); the authors' code (``process_reals`` in ``train.py``).
    """
    stage = _check_stage(stage)
    images = tf.convert_to_tensor(images)
    if _side(images, "images") != FULL_RESOLUTION:
        raise ValueError(f"Expected real images of shape [batch, 28, 28, C]. Received: shape={images.shape}")
    x = to_resolution(images, RESOLUTIONS[stage])
    if stage > 0:
        x = fade_in(alpha, upsample(downsample(x)), x)
    return to_full_resolution(x)


# --------------------------------------------------------------------------------------------
# Pixelwise feature normalization (section 4.2); the minibatch standard deviation is ganlib.layers'.


def pixel_norm(x: tf.Tensor, epsilon: float = PIXEL_NORM_EPSILON) -> tf.Tensor:
    """Pixelwise feature vector normalization: ``b = a / sqrt(mean_c a_c^2 + epsilon)``.

    Every pixel's feature vector is scaled to unit mean square over its C channels (a
    variant of local response normalization). The generator applies it to ``z`` and after
    every convolution, which keeps the magnitudes of G's and D's signals from escalating.

    Args:
        x: float ``[..., C]``, features last (a latent batch ``[batch, latent_dim]`` or
            feature maps ``[batch, H, W, C]``).
        epsilon: added under the square root (paper: 1e-8).

    Returns:
        A tensor of ``x``'s shape with ``mean_c b_c^2 = 1`` wherever ``mean_c a_c^2 >> epsilon``.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 4.2, eq. (1).
    """
    x = tf.convert_to_tensor(x)
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + epsilon)


class PixelNorm(layers.Layer):
    """:func:`pixel_norm` as a Keras layer (no weights)."""

    def __init__(self, epsilon: float = PIXEL_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x):
        return pixel_norm(x, self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


# --------------------------------------------------------------------------------------------
# Equalized learning rate (section 4.1).


def he_constant(fan_in: int, gain: float = math.sqrt(2.0)) -> float:
    """The per-layer scale of the equalized learning rate: ``c = gain / sqrt(fan_in)``.

    ``fan_in`` is the number of inputs of one output unit (``in_features`` for a dense
    layer, ``k * k * in_channels`` for a ``k x k`` convolution). ``gain = sqrt(2)`` before a
    (leaky) ReLU, 1 for a linear output (toRGB, the discriminator's score), as in the
    paper's code.

    Raises:
        ValueError: ``fan_in`` < 1 or ``gain`` <= 0.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 4.1; He et al. 2015,
        https://arxiv.org/abs/1502.01852.
    """
    if not isinstance(fan_in, (int, np.integer)) or fan_in < 1:
        raise ValueError(f"fan_in must be a positive integer. Received: fan_in={fan_in!r}")
    if not gain > 0:
        raise ValueError(f"gain must be positive. Received: gain={gain!r}")
    return float(gain) / math.sqrt(int(fan_in))


class EqualizedDense(layers.Layer):
    """Dense layer with equalized learning rate: ``y = x @ (c * W) + b``, ``W ~ N(0, 1)``, ``c = gain / sqrt(fan_in)``.

    The stored kernel ``W`` has unit variance and the He constant ``c`` multiplies it at run
    time instead of at initialization. Adam's steps are about the same size for every
    weight, so in units of each weight's own scale every layer learns at the same speed.

    Example:
        >>> layer = EqualizedDense(3)
        >>> y = layer(tf.ones([2, 8]))
        >>> round(layer.scale, 4)  # sqrt(2 / 8)
        0.5

    Args:
        units: output features, >= 1.
        gain: ``sqrt(2)`` before a leaky ReLU, 1 for a linear output.
        use_bias: add a bias, initialised to 0.

    Input ``[batch, in_features]``; output ``[batch, units]``.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 4.1.
    """

    def __init__(self, units: int, *, gain: float = math.sqrt(2.0), use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        _check_positive(units=units)
        self.units = units
        self.gain = float(gain)
        self.use_bias = use_bias

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = he_constant(fan_in, self.gain)
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None

    @property
    def effective_kernel(self) -> tf.Tensor:
        """``c * W``, the kernel the layer computes with ``[in_features, units]``."""
        return self.kernel * self.scale

    def call(self, x):
        y = tf.matmul(x, tf.cast(self.effective_kernel, x.dtype))
        return y + tf.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "gain": self.gain, "use_bias": self.use_bias}


class EqualizedConv2D(layers.Layer):
    """Convolution with equalized learning rate: ``y = conv(x, c W) + b``, ``W ~ N(0, 1)``, ``c = gain / sqrt(k^2 C)``.

    ``k x k`` kernel over ``C`` input channels, stride 1, "same" padding. 1x1 instances are the toRGB
    (``filters=1, gain=1``, linear) and fromRGB (``gain=sqrt(2)``, then a leaky ReLU) layers.

    Args:
        filters: output channels, >= 1.
        kernel_size: odd integer k >= 1.
        gain: ``sqrt(2)`` before a leaky ReLU, 1 for a linear output.
        use_bias: add a bias per channel, initialised to 0.

    Input ``[batch, H, W, C_in]``; output ``[batch, H, W, filters]``.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 4.1.
    """

    def __init__(self, filters: int, kernel_size: int = 3, *, gain: float = math.sqrt(2.0), use_bias: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        _check_positive(filters=filters, kernel_size=kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding). Received: kernel_size={kernel_size}")
        self.filters = filters
        self.kernel_size = kernel_size
        self.gain = float(gain)
        self.use_bias = use_bias

    def build(self, input_shape):
        in_channels = int(input_shape[-1])
        self.scale = he_constant(self.kernel_size * self.kernel_size * in_channels, self.gain)
        shape = (self.kernel_size, self.kernel_size, in_channels, self.filters)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    @property
    def effective_kernel(self) -> tf.Tensor:
        """``c * W``, the kernel the layer computes with ``[k, k, C_in, filters]``."""
        return self.kernel * self.scale

    def call(self, x):
        y = tf.nn.conv2d(x, tf.cast(self.effective_kernel, x.dtype), 1, "SAME")
        return y + tf.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain,
                "use_bias": self.use_bias}


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


# --------------------------------------------------------------------------------------------
# The schedule (appendix A.1) and the growth state.
