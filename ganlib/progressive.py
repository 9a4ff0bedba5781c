"""Progressive growing of GANs (PGGAN) for 28x28 images: its layers, its networks and its schedule.

Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation", https://arxiv.org/abs/1710.10196. Training starts with a generator and a
discriminator at a low resolution and adds a block to both at each step up (section 2);
each new block is faded in while ``alpha`` rises linearly from 0 to 1 and is then trained
at ``alpha = 1`` (stabilisation). The paper's other ingredients each have a small named
piece here:

==========================  ====================================================  ==============
ingredient                  piece                                                 paper
==========================  ====================================================  ==============
fade-in of a new block      :func:`fade_in`                                       section 2, fig. 2
pixelwise feature norm      :func:`pixel_norm`, :class:`PixelNorm`                section 4.2
minibatch standard dev.     :func:`minibatch_stddev`, :class:`MinibatchStdDev`    section 3
equalized learning rate     :class:`EqualizedDense`, :class:`EqualizedConv2D`     section 4.1
resampling                  :func:`upsample` (nearest), :func:`downsample` (mean) section 2, fig. 2
toRGB / fromRGB             1x1 :class:`EqualizedConv2D` per resolution           section 2, fig. 2
real images at resolution   :func:`prepare_reals`                                 fig. 2 caption
drift term                  :func:`ganlib.losses.drift_penalty`                   appendix A.1
schedule                    :class:`GrowthSchedule`, :class:`Growth`              appendix A.1
==========================  ====================================================  ==============

Resolutions: 7 -> 14 -> 28, not 4 -> 8 -> 16 -> 32. MNIST images are 28x28 = 7 * 2^2, so
three stages reach the native size exactly by doubling: no padding, whose border pixels a
32x32 generator would have to learn to keep at -1 and which would have to be cropped
before the 28x28 classifier of :mod:`ganlib.metrics` sees them; 22% fewer pixels at the top
stage (784 against 1,024); and one phase pair fewer in the schedule. The paper's 4x4 first
block (a dense layer to 4x4 maps, a 3x3 convolution) becomes the same at 7x7. 7 is odd,
which costs nothing: nearest-neighbour doubling and 2x2 average pooling map 7 <-> 14 <-> 28
exactly.

Networks (appendix A.1, table 2, at MNIST size; ``f = filters``):

* generator: ``z`` -> pixel norm -> dense to 7x7x4f -> LReLU -> PN -> conv3x3 4f -> LReLU -> PN
  [7x7]; each further block: upsample x2 -> conv3x3 -> LReLU -> PN -> conv3x3 -> LReLU -> PN with
  2f maps at 14x14 and f at 28x28; toRGB is a linear 1x1 convolution. No tanh: the output is
  linear as in the paper, and clipped to [-1, 1] only in inference mode (``training=False``),
  as the paper's code does when it turns samples into images.
* discriminator: fromRGB (1x1 conv, LReLU) at the input resolution; each block: conv3x3 ->
  LReLU -> conv3x3 (to the next lower resolution's width) -> LReLU -> average pool x2; last
  block at 7x7: minibatch stddev -> conv3x3 -> LReLU -> dense 4f -> LReLU -> dense 1 (linear).
  No normalization layers (it is trained as a WGAN-GP critic).

Every layer uses the equalized learning rate and leaky ReLU with slope 0.2; biases start at 0.

Design: like the paper's code, both networks always work at 28x28. The generator's image at
its current resolution is upsampled (nearest neighbour) to 28x28, :func:`prepare_reals`
gives real images the same form, and the discriminator reads its current resolution back
from its 28x28 input, which undoes that upsampling exactly. So ``G(z) -> [batch, 28, 28, 1]``
and ``D(x) -> [batch, 1]`` at every stage, and an ordinary train step, gradient penalty,
sample grid, GIF or metric works unchanged. The stage
and ``alpha`` are non-trainable ``tf.Variable`` s in one :class:`Growth` object shared by both
networks; the checkpoint of :class:`Growth` resumes a run in the middle of a fade-in exactly.
All layers of all resolutions exist from the start, so each optimizer is built once on all
trainable variables (Keras 3.15 refuses variables an optimizer was not built with). The
variables of blocks not in use get no gradient (None), which Keras's optimizer skips with a
"Gradients do not exist" warning once per trace. (``tape.gradient(...,
unconnected_gradients=ZERO)`` fails on Keras 3 variables with TF 2.21; zeros filled in by
hand would do, and Adam with ``beta_1 = 0`` turns a zero gradient into a zero step.)

The gradient penalty is taken on the 28x28 images the networks see, as in the paper's code,
and by default it measures the gradient norm at the stage's own resolution: the
discriminator reads its ``r x r`` image as every k-th pixel of the 28x28 input (k = 28 / r).
Every image it sees in training is constant on ``k x k`` blocks (generated, prepared real,
and their interpolations), where this equals the paper's average pooling, so scores and the
generator's gradients are the same; only the gradient with respect to the 28x28 input
differs. Average pooling spreads it over the k x k pixels of a block, which divides its norm
by k: the paper's code (``input_downsampling="average"``) asks for norm 4 at 7x7 and 2 at
14x14. Measured with benchmarks/pggan_probe.py on MNIST (filters 16, batch 16, 20,000 images
at 7x7, seed 0, one run each): with average pooling the 7x7 critic never satisfied the
penalty (mean penalty 0.26, against 0.013 with subsampling), scored the fakes above the reals
(mean scores 1.55 and 0.05) and the generator collapsed to one blob (FCD 541 over 5,000
samples, 2 classes covered, against 374 and 9 classes); at the end of the whole schedule
(90,000 images) the FCD was 113.0 (9 classes) against 80.2 (10 classes).

``alpha`` is read at run time, so one traced train step serves a whole stage, fade-in and
stabilisation. The stage is read when a function is traced (a Python int: only that stage's
layers enter the graph), so a train step must be traced again when the stage changes; a step
traced at another stage fails with ``InvalidArgumentError`` instead of training the wrong
network. Selecting the stage at run time instead (``tf.switch_case`` on the variable) was
measured and rejected: the gradient penalty differentiates through the switch twice, and
tracing plus graph optimization of one tiny WGAN-GP step took 105 s instead of 6 s, and each
step 72 ms instead of 15 ms (2 shared CPU cores at load 11-12, TF 2.21).

Departures from the paper, each small: resolutions 7 -> 14 -> 28 with widths 4f, 2f, f (the
paper: 512 maps up to 32x32); the first dense layer's gain is sqrt(2)/7, the rule of the
paper's code (sqrt(2)/4 = the He constant of the 4x4 convolution it stands for) at 7x7;
alpha follows every step (the paper's code updates it every 4 minibatches); the gradient
penalty's norm measured at the stage's resolution (above); no generator weight averaging by
default (the paper samples from an exponential moving average, decay 0.999; the ``pggan`` preset
offers it with ``ema=0.999``, off by default: with the preset's 120,000 images, seeds 0 and 1, the
average scored FCD 63.1 and 65.1 against the raw generator's 70.8 and 61.7, in no consistent order,
and trailed it at the end of every resolution; README, "Progressive growing").

Training with these pieces in ganlib's loop (the ``pggan`` preset, resuming, the CLI) is
:mod:`ganlib.growing`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import layers

RESOLUTIONS = (7, 14, 28)
"""Image side of each stage: stage ``s`` works at ``RESOLUTIONS[s]``."""

FULL_RESOLUTION = RESOLUTIONS[-1]
NUM_STAGES = len(RESOLUTIONS)
LEAKY_SLOPE = 0.2
PIXEL_NORM_EPSILON = 1e-8
MBSTD_EPSILON = 1e-8
MBSTD_GROUP_SIZE = 4
"""Minibatch-stddev group size of the paper's code (``mbstd_group_size=4``)."""

INPUT_DOWNSAMPLING = ("subsample", "average")
"""How the discriminator reads its stage's resolution from 28x28 images (see :class:`ProgressiveDiscriminator`)."""

ADAM = {"learning_rate": 1e-3, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-8}
"""The paper's optimizer settings (appendix A.1), for both networks."""
GP_WEIGHT = 10.0
"""Gradient-penalty weight lambda of WGAN-GP, as in the paper (appendix A.1)."""
DRIFT_WEIGHT = 1e-3
"""epsilon_drift, the weight of :func:`ganlib.losses.drift_penalty` (appendix A.1)."""
N_CRITIC = 1
"""Discriminator updates per generator update (the paper: 1, "alternate between optimizing G and D")."""


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
# Pixelwise feature normalization (section 4.2) and minibatch standard deviation (section 3).


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


def minibatch_stddev(x: tf.Tensor, group_size: int | None = MBSTD_GROUP_SIZE) -> tf.Tensor:
    """Append the minibatch standard deviation as one extra, constant feature map.

    Within each group of ``G`` images: ``s = mean_{h,w,c} sqrt(Var_group[x_{h,w,c}] + 1e-8)``,
    the standard deviation of every feature at every pixel over the group (population
    variance, divided by G), averaged to one scalar; it is replicated over the pixels and
    concatenated as channel ``C + 1`` of every image of the group. The discriminator can so
    tell a batch of samples lacking variation from a real batch.

    Groups: as in the paper's code, ``G = min(group_size, batch)`` and image ``n`` belongs to
    group ``n mod (batch / G)``; ``group_size=None`` takes the whole minibatch as one group (the
    paper's text). ganlib's discriminator uses groups of 4, the value of the paper's code.

    Args:
        x: float ``[batch, H, W, C]``.
        group_size: images per group, >= 2, or None for the whole batch. The batch must be a
            multiple of ``min(group_size, batch)``.

    Returns:
        ``[batch, H, W, C + 1]``, the last channel holding the group's mean standard deviation.

    Raises:
        ValueError: ``group_size`` < 2, or a static batch size not divisible by the group size.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 3; the authors' code
        (``minibatch_stddev_layer`` in ``networks.py``).
    """
    if group_size is not None and (not isinstance(group_size, int) or isinstance(group_size, bool) or group_size < 2):
        raise ValueError(
            f"group_size must be an integer >= 2 or None (whole batch). Received: group_size={group_size!r}"
        )
    x = tf.convert_to_tensor(x)
    if x.shape.rank != 4:
        raise ValueError(f"Expected feature maps of shape [batch, H, W, C]. Received: shape={x.shape}")
    batch = tf.shape(x)[0]
    static_batch = x.shape[0]
    if group_size is None:
        group = batch
    else:
        if static_batch is not None and static_batch % min(group_size, static_batch):
            raise ValueError(
                f"Expected a batch size divisible by the group size {min(group_size, static_batch)}. "
                f"Received: batch={static_batch}"
            )
        group = tf.minimum(group_size, batch)
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    y = tf.reshape(tf.cast(x, tf.float32), [group, -1, h, w, c])  # [G, M, H, W, C], image n = g * M + m
    y = y - tf.reduce_mean(y, axis=0, keepdims=True)
    std = tf.sqrt(tf.reduce_mean(tf.square(y), axis=0) + MBSTD_EPSILON)  # [M, H, W, C]
    s = tf.reduce_mean(std, axis=[1, 2, 3])  # [M]
    # Image n = g * M + m gets its group's value s[m]: broadcast over g, then flatten [G, M] -> [batch].
    s = tf.reshape(tf.broadcast_to(s[None, :], [group, tf.shape(s)[0]]), [-1, 1, 1, 1])
    extra = tf.ones_like(x[..., :1]) * tf.cast(s, x.dtype)
    return tf.concat([x, extra], axis=-1)


class MinibatchStdDev(layers.Layer):
    """:func:`minibatch_stddev` as a Keras layer (no weights)."""

    def __init__(self, group_size: int | None = MBSTD_GROUP_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.group_size = group_size

    def call(self, x):
        return minibatch_stddev(x, self.group_size)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "group_size": self.group_size}


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


class Phase(NamedTuple):
    """One phase of a :class:`GrowthSchedule`: images ``[start, end)`` at one stage, fading or stable."""

    index: int
    stage: int
    resolution: int
    fading: bool
    start: int
    end: int
    batch_size: int


class Progress(NamedTuple):
    """Where training is after ``images_seen`` images (see :meth:`GrowthSchedule.progress`).

    ``stage`` and ``alpha`` are what the networks use for the next step, ``batch_size`` the
    real images that step takes, ``phase`` the current :class:`Phase` and ``done`` whether the
    schedule's images have all been shown.
    """

    images_seen: int
    stage: int
    alpha: float
    phase: Phase
    batch_size: int
    done: bool

    @property
    def resolution(self) -> int:
        return RESOLUTIONS[self.stage]


def _as_int_tuple(name: str, values: Any, length: int, minimum: int) -> tuple[int, ...]:
    try:
        result = tuple(values)
    except TypeError:
        result = ()
    if len(result) != length or any(
        not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum for v in result
    ):
        raise ValueError(f"{name} must be {length} integers >= {minimum}. Received: {name}={values!r}")
    return tuple(int(v) for v in result)


@dataclass(frozen=True)
class GrowthSchedule:
    """How many real images each phase of progressive growing shows, and the batch size per resolution.

    Phases, in order: stabilise at 7x7; fade in 14x14; stabilise at 14x14; fade in 28x28;
    stabilise at 28x28. A fade-in uses the batch size of the resolution it fades in. The
    defaults are the paper's: 800k images per phase, minibatch 16 up to 128x128. After the
    last phase training may go on at 28x28 with ``alpha = 1``.

    Example:
        >>> s = GrowthSchedule(stabilize_images=(100, 100, 100), fade_images=(100, 100), batch_sizes=(20, 10, 10))
        >>> s.progress(150)[:3]  # halfway through the fade-in of 14x14
        (150, 1, 0.5)

    Attributes:
        stabilize_images: images shown at ``alpha = 1`` at 7x7, 14x14 and 28x28, each >= 0.
        fade_images: images shown while fading in 14x14 and 28x28, each >= 0 (0: the block
            appears at once, without fade-in).
        batch_sizes: real images per step at 7x7, 14x14 and 28x28, each >= 1.

    Raises:
        ValueError: wrong lengths, negative counts, batch sizes < 1, or no images at all.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1.
    """

    stabilize_images: tuple[int, int, int] = (800_000, 800_000, 800_000)
    fade_images: tuple[int, int] = (800_000, 800_000)
    batch_sizes: tuple[int, int, int] = (16, 16, 16)

    def __post_init__(self) -> None:
        # Lists (from JSON) become tuples, so that equal schedules compare and hash equal.
        object.__setattr__(self, "stabilize_images", _as_int_tuple("stabilize_images", self.stabilize_images, 3, 0))
        object.__setattr__(self, "fade_images", _as_int_tuple("fade_images", self.fade_images, 2, 0))
        object.__setattr__(self, "batch_sizes", _as_int_tuple("batch_sizes", self.batch_sizes, 3, 1))
        if self.total_images < 1:
            raise ValueError(f"Expected a schedule that shows at least one image. Received: {self!r}")

    @property
    def total_images(self) -> int:
        """Real images over all phases."""
        return sum(self.stabilize_images) + sum(self.fade_images)

    def phases(self) -> list[Phase]:
        """The phases of non-zero length, in training order."""
        spans = [(0, False, self.stabilize_images[0])]
        for s in (1, 2):
            spans += [(s, True, self.fade_images[s - 1]), (s, False, self.stabilize_images[s])]
        result: list[Phase] = []
        start = 0
        for stage, fading, length in spans:
            if length > 0:
                result.append(Phase(len(result), stage, RESOLUTIONS[stage], fading, start, start + length,
                                    self.batch_sizes[stage]))
                start += length
        return result

    def progress(self, images_seen: int) -> Progress:
        """Stage, alpha, phase and batch size after ``images_seen`` real images.

        ``alpha = (images_seen - phase.start) / (phase.end - phase.start)`` in a fade-in, 1
        otherwise; from ``total_images`` on, the last phase's stage with ``alpha = 1``.

        Args:
            images_seen: real images shown to the discriminator so far, >= 0.

        Returns:
            A :class:`Progress`.

        Raises:
            ValueError: ``images_seen`` is not an integer >= 0.
        """
        if not isinstance(images_seen, (int, np.integer)) or isinstance(images_seen, bool) or images_seen < 0:
            raise ValueError(f"images_seen must be an integer >= 0. Received: images_seen={images_seen!r}")
        images_seen = int(images_seen)
        phases = self.phases()
        for phase in phases:
            if images_seen < phase.end:
                alpha = (images_seen - phase.start) / (phase.end - phase.start) if phase.fading else 1.0
                return Progress(images_seen, phase.stage, alpha, phase, phase.batch_size, False)
        last = phases[-1]
        return Progress(images_seen, last.stage, 1.0, last, last.batch_size, True)

    def to_dict(self) -> dict[str, list[int]]:
        """The schedule as a JSON-serialisable dict."""
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "GrowthSchedule":
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown schedule fields: {sorted(unknown)}. Expected fields of GrowthSchedule.")
        return cls(**values)


class Growth(tf.Module):
    """The growth state shared by both networks: images seen, stage and alpha, as non-trainable variables.

    The networks read ``alpha`` (float32) at run time and ``stage`` (int32) when a function
    that calls them is traced (:meth:`current_stage`), so a train step is traced once per
    stage (see the module docstring). Put this object in the run's ``tf.train.Checkpoint``
    (the networks do not track it): a run killed during a fade-in then resumes with the
    same ``images_seen``, stage and alpha. Create it under the same ``tf.distribute``
    strategy scope as the networks.

    Example:
        >>> growth = Growth(GrowthSchedule((10, 10, 10), (10, 10), (5, 5, 5)))
        >>> growth.advance(15).stage, float(growth.alpha.numpy())
        (1, 0.5)

    Args:
        schedule: the :class:`GrowthSchedule`.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 2 and appendix A.1.
    """

    def __init__(self, schedule: GrowthSchedule, name: str = "growth"):
        super().__init__(name=name)
        if not isinstance(schedule, GrowthSchedule):
            raise ValueError(f"Expected a GrowthSchedule. Received: schedule={schedule!r}")
        self.schedule = schedule
        start = schedule.progress(0)
        self.images_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_seen")
        self.stage = tf.Variable(start.stage, dtype=tf.int32, trainable=False, name="stage")
        self.alpha = tf.Variable(start.alpha, dtype=tf.float32, trainable=False, name="alpha")

    def progress(self) -> Progress:
        """The :class:`Progress` of the current ``images_seen`` (what the next step trains at)."""
        return self.schedule.progress(int(self.images_seen.numpy()))

    def set_images_seen(self, images_seen: int) -> Progress:
        """Assign ``images_seen`` and the stage and alpha the schedule gives for it.

        Raises:
            ValueError: ``images_seen`` is not an integer >= 0.
        """
        progress = self.schedule.progress(images_seen)
        self.images_seen.assign(progress.images_seen)
        self.stage.assign(progress.stage)
        self.alpha.assign(progress.alpha)
        return progress

    def advance(self, num_images: int) -> Progress:
        """Count ``num_images`` more real images (after a step) and move stage and alpha on.

        Raises:
            ValueError: ``num_images`` is not an integer >= 0.
        """
        if not isinstance(num_images, (int, np.integer)) or isinstance(num_images, bool) or num_images < 0:
            raise ValueError(f"num_images must be an integer >= 0. Received: num_images={num_images!r}")
        return self.set_images_seen(int(self.images_seen.numpy()) + int(num_images))

    def current_stage(self) -> int:
        """The stage as a Python int, read eagerly even while a function is being traced.

        Inside ``tf.function`` it also adds a run-time check that the stage variable still
        holds this value, so a function traced at an earlier stage fails
        (``InvalidArgumentError``) instead of training the wrong network.
        """
        with tf.init_scope():
            stage = int(self.stage.numpy())
        if not tf.executing_eagerly():
            tf.debugging.assert_equal(
                self.stage, stage,
                message=f"The growth stage changed since this function was traced at stage {stage}: "
                        "trace the train step again (build a new one) after each stage change.")
        return stage

    def prepare_reals(self, images: tf.Tensor) -> tf.Tensor:
        """:func:`prepare_reals` at the current stage (read when traced) and alpha (read at run time)."""
        return prepare_reals(images, self.current_stage(), self.alpha)


def reset_optimizer_state(optimizer: keras.optimizers.Optimizer) -> None:
    """Zero an optimizer's moments and step counter (not its learning rate), as the paper's code does per phase.

    The paper's code resets Adam when a fade-in starts and when it ends
    (``reset_opt_for_new_lod=True``). It matters for the new block: Keras's Adam corrects
    its second-moment estimate with the optimizer's global step count, so without a reset
    the first updates of a block that joins at step t are about ``1 / sqrt(1 - beta_2)`` =
    10 times too large (beta_2 = 0.99). A ``LossScaleOptimizer`` resets its inner optimizer.

    Args:
        optimizer: a built Keras optimizer.

    Raises:
        ValueError: an optimizer that keeps a weight average (``use_ema=True``), which a
            reset would destroy.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196; the authors' code (``train.py``).
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    if getattr(optimizer, "use_ema", False):
        raise ValueError(f"Cannot reset an optimizer that averages weights (use_ema=True). Received: {optimizer!r}")
    learning_rate = optimizer.learning_rate
    for variable in optimizer.variables:
        if variable is not learning_rate:
            variable.assign(tf.zeros(variable.shape, variable.dtype))


def make_optimizer(learning_rate: float = ADAM["learning_rate"], *, beta_1: float = ADAM["beta_1"],
                   beta_2: float = ADAM["beta_2"]) -> keras.optimizers.Adam:
    """Adam with the paper's settings: ``beta_1 = 0``, ``beta_2 = 0.99``, ``epsilon = 1e-8``, lr 1e-3.

    ``learning_rate``, ``beta_1`` and ``beta_2`` may be changed; epsilon stays the paper's.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1.
    """
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=ADAM["epsilon"])


# --------------------------------------------------------------------------------------------
# The networks.


def _widths(filters: int) -> tuple[int, ...]:
    """Feature maps per stage: 4f at 7x7, 2f at 14x14, f at 28x28."""
    return tuple(filters * 2 ** (NUM_STAGES - 1 - s) for s in range(NUM_STAGES))


def _conv(filters: int, name: str) -> list[layers.Layer]:
    return [EqualizedConv2D(filters, 3, name=name), layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_lrelu")]


def _set_per_resolution(model: keras.Model, prefix: str, items: list[layers.Layer]) -> None:
    # One attribute per layer (``block_7``, ...): a Keras 3 model tracks a list of layers for its weights,
    # but tf.train.Checkpoint does not see into that list, so a checkpoint would miss every weight in it.
    for r, item in zip(RESOLUTIONS, items):
        setattr(model, f"{prefix}_{r}", item)


def _get_per_resolution(model: keras.Model, prefix: str) -> list:
    return [getattr(model, f"{prefix}_{r}") for r in RESOLUTIONS]


class ProgressiveGenerator(keras.Model):
    """A generator that grows 7x7 -> 14x14 -> 28x28, always returning ``[batch, 28, 28, 1]``.

    ``G(z)`` runs the network at the stage and alpha of its :class:`Growth` (the stage is
    read when a function is traced, alpha at run time) and upsamples the image to 28x28;
    :meth:`forward` runs it at a given stage and alpha at its own resolution. Build it with
    :func:`build_progressive_generator`.

    Attributes:
        blocks: one ``keras.Sequential`` per stage (``blocks[0]`` maps ``z`` to 7x7 maps).
        to_rgb: one linear 1x1 :class:`EqualizedConv2D` per stage, features -> 1 channel.
        growth: the shared :class:`Growth`.
    """

    def __init__(self, growth: Growth, latent_dim: int = 100, filters: int = 32, **kwargs):
        super().__init__(**kwargs)
        _check_positive(latent_dim=latent_dim, filters=filters)
        self.growth = growth
        self.latent_dim = latent_dim
        self.filters = filters
        widths = _widths(filters)
        base = RESOLUTIONS[0]
        blocks = [keras.Sequential([
            PixelNorm(name="normalize_z"),
            # The paper's code: gain sqrt(2)/4, the He constant of the 4x4 convolution this dense layer stands for.
            EqualizedDense(base * base * widths[0], gain=math.sqrt(2.0) / base, name="dense"),
            layers.Reshape((base, base, widths[0])),  # (7, 7, 4f)
            layers.LeakyReLU(LEAKY_SLOPE), PixelNorm(),
            *_conv(widths[0], "conv"), PixelNorm(),
        ], name=f"block_{base}")]
        for s in range(1, NUM_STAGES):
            r = RESOLUTIONS[s]
            blocks.append(keras.Sequential([
                layers.UpSampling2D(2, interpolation="nearest"),  # (r, r, previous width)
                *_conv(widths[s], "conv0"), PixelNorm(),
                *_conv(widths[s], "conv1"), PixelNorm(),  # (r, r, width)
            ], name=f"block_{r}"))
        _set_per_resolution(self, "block", blocks)
        _set_per_resolution(self, "to_rgb", [EqualizedConv2D(1, 1, gain=1.0, name=f"to_rgb_{r}") for r in RESOLUTIONS])

    @property
    def blocks(self) -> list[keras.Sequential]:
        return _get_per_resolution(self, "block")

    @property
    def to_rgb(self) -> list[EqualizedConv2D]:
        return _get_per_resolution(self, "to_rgb")

    def forward(self, z: tf.Tensor, *, stage: int, alpha: float | tf.Tensor = 1.0) -> tf.Tensor:
        """Images at stage ``stage``'s own resolution, ``[batch, r, r, 1]``, unclipped.

        Stage 0: ``toRGB_7(block_7(z))``. Stage s > 0:
        ``fade_in(alpha, upsample(toRGB_{r/2}(h)), toRGB_r(block_r(h)))`` where ``h`` is the
        output of the blocks below ``r``.

        Args:
            z: float ``[batch, latent_dim]``.
            stage: Python int in [0, 2].
            alpha: fade-in weight in [0, 1] (ignored at stage 0).

        Raises:
            ValueError: ``stage`` is not an int in [0, 2].
        """
        stage = _check_stage(stage)
        h = self.blocks[0](z)
        for s in range(1, stage):
            h = self.blocks[s](h)
        if stage == 0:
            return self.to_rgb[0](h)
        new = self.to_rgb[stage](self.blocks[stage](h))
        old = upsample(self.to_rgb[stage - 1](h))
        return fade_in(alpha, old, new)

    def call(self, z, training=False):
        images = to_full_resolution(
            self.forward(tf.convert_to_tensor(z), stage=self.growth.current_stage(), alpha=self.growth.alpha))
        # The paper's generator is linear; samples are clipped to the image range only for use (inference).
        return images if training else tf.clip_by_value(images, -1.0, 1.0)


class ProgressiveDiscriminator(keras.Model):
    """A discriminator (WGAN-GP critic) that grows 7x7 -> 14x14 -> 28x28, taking ``[batch, 28, 28, 1]``.

    ``D(x)`` reads ``x`` at the resolution ``r`` of its :class:`Growth`'s stage (read when a
    function is traced; alpha at run time) and returns scores ``[batch, 1]``; :meth:`forward`
    runs it at a given stage and alpha on images at that stage's resolution. Build it with
    :func:`build_progressive_discriminator`.

    Reading the ``r x r`` image: ``"subsample"`` (default) takes every k-th pixel (k = 28 / r),
    ``"average"`` (the paper's code) average-pools ``k x k`` blocks. The two agree on the
    images of training, which are constant on ``k x k`` blocks (see the module docstring for
    why the default differs).

    Attributes:
        from_rgb: one 1x1 :class:`EqualizedConv2D` + leaky ReLU per stage.
        blocks: one ``keras.Sequential`` per stage (``blocks[0]`` is the last, 7x7 block with
            the minibatch standard deviation; ``blocks[s]`` halves the resolution).
        growth: the shared :class:`Growth`.
    """

    def __init__(self, growth: Growth, filters: int = 32, mbstd_group_size: int | None = MBSTD_GROUP_SIZE,
                 input_downsampling: str = "subsample", **kwargs):
        super().__init__(**kwargs)
        _check_positive(filters=filters)
        if input_downsampling not in INPUT_DOWNSAMPLING:
            raise ValueError(f"input_downsampling must be one of {INPUT_DOWNSAMPLING}. "
                             f"Received: input_downsampling={input_downsampling!r}")
        self.growth = growth
        self.filters = filters
        self.mbstd_group_size = mbstd_group_size
        self.input_downsampling = input_downsampling
        widths = _widths(filters)
        base = RESOLUTIONS[0]
        from_rgb = [keras.Sequential([EqualizedConv2D(widths[s], 1, name="conv"), layers.LeakyReLU(LEAKY_SLOPE)],
                                     name=f"from_rgb_{r}") for s, r in enumerate(RESOLUTIONS)]
        blocks = [keras.Sequential([
            MinibatchStdDev(mbstd_group_size),  # (7, 7, 4f + 1)
            *_conv(widths[0], "conv"),
            layers.Flatten(),
            EqualizedDense(widths[0], name="dense0"), layers.LeakyReLU(LEAKY_SLOPE),
            EqualizedDense(1, gain=1.0, name="dense1"),  # the score, linear
        ], name=f"block_{base}")]
        for s in range(1, NUM_STAGES):
            r = RESOLUTIONS[s]
            blocks.append(keras.Sequential([
                *_conv(widths[s], "conv0"),
                *_conv(widths[s - 1], "conv1"),
                layers.AveragePooling2D(2),  # (r / 2, r / 2, width of r / 2)
            ], name=f"block_{r}"))
        _set_per_resolution(self, "from_rgb", from_rgb)
        _set_per_resolution(self, "block", blocks)

    @property
    def from_rgb(self) -> list[keras.Sequential]:
        return _get_per_resolution(self, "from_rgb")

    @property
    def blocks(self) -> list[keras.Sequential]:
        return _get_per_resolution(self, "block")

    def forward(self, images: tf.Tensor, *, stage: int, alpha: float | tf.Tensor = 1.0) -> tf.Tensor:
        """Scores ``[batch, 1]`` of images at stage ``stage``'s own resolution ``[batch, r, r, 1]``.

        Stage 0: ``block_7(fromRGB_7(x))``. Stage s > 0: the blocks below ``r`` applied to
        ``fade_in(alpha, fromRGB_{r/2}(downsample(x)), block_r(fromRGB_r(x)))``.

        Args:
            images: float ``[batch, r, r, 1]`` with ``r = RESOLUTIONS[stage]``.
            stage: Python int in [0, 2].
            alpha: fade-in weight in [0, 1] (ignored at stage 0).

        Raises:
            ValueError: ``stage`` is not an int in [0, 2].
        """
        stage = _check_stage(stage)
        h = self.from_rgb[stage](images)
        if stage > 0:
            h = fade_in(alpha, self.from_rgb[stage - 1](downsample(images)), self.blocks[stage](h))
        for s in range(stage - 1, 0, -1):
            h = self.blocks[s](h)
        return self.blocks[0](h)

    def call(self, images, training=False):
        images = tf.convert_to_tensor(images)
        if _side(images, "images") != FULL_RESOLUTION:
            raise ValueError(f"Expected images of shape [batch, 28, 28, 1]. Received: shape={images.shape}")
        stage = self.growth.current_stage()
        k = FULL_RESOLUTION // RESOLUTIONS[stage]
        # Every k-th pixel keeps the gradient norm of the r x r image; average pooling would divide it by k.
        x = images[:, ::k, ::k, :] if self.input_downsampling == "subsample" else downsample(images, k)
        return self.forward(x, stage=stage, alpha=self.growth.alpha)


def build_progressive_generator(growth: Growth, latent_dim: int = 100, filters: int = 32, *,
                                name: str = "generator") -> ProgressiveGenerator:
    """The growing generator, with the weights of every stage created (so one optimizer build covers all).

    Example:
        >>> growth = Growth(GrowthSchedule())
        >>> g = build_progressive_generator(growth, latent_dim=8, filters=4)
        >>> tuple(g(tf.random.normal([2, 8])).shape)
        (2, 28, 28, 1)

    Args:
        growth: the :class:`Growth` shared with the discriminator.
        latent_dim: size of ``z``.
        filters: feature maps at 28x28; 14x14 has 2f, 7x7 has 4f.
        name: the model's name.

    Returns:
        A :class:`ProgressiveGenerator`: ``z`` ``[batch, latent_dim]`` -> images ``[batch, 28, 28, 1]``,
        clipped to [-1, 1] in inference mode, linear (unclipped) with ``training=True``.

    Raises:
        ValueError: ``latent_dim`` or ``filters`` is not a positive integer.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1, table 2.
    """
    model = ProgressiveGenerator(growth, latent_dim, filters, name=name)
    z = tf.zeros([1, latent_dim])
    for s in range(NUM_STAGES):
        model.forward(z, stage=s, alpha=0.5)
    model(z)
    return model


def build_progressive_discriminator(growth: Growth, filters: int = 32, *,
                                    mbstd_group_size: int | None = MBSTD_GROUP_SIZE,
                                    input_downsampling: str = "subsample",
                                    name: str = "discriminator") -> ProgressiveDiscriminator:
    """The growing discriminator, with the weights of every stage created.

    Example:
        >>> growth = Growth(GrowthSchedule())
        >>> d = build_progressive_discriminator(growth, filters=4)
        >>> tuple(d(tf.zeros([4, 28, 28, 1])).shape)
        (4, 1)

    Args:
        growth: the :class:`Growth` shared with the generator.
        filters: feature maps at 28x28; 14x14 has 2f, 7x7 has 4f.
        mbstd_group_size: group size of :func:`minibatch_stddev` (the paper's code: 4; None:
            the whole batch). Batches must be multiples of it.
        input_downsampling: how ``D(x)`` reads the stage's resolution from 28x28 images:
            ``"subsample"`` (every k-th pixel; the gradient penalty then measures the norm at
            the stage's resolution) or ``"average"`` (the paper's code). See the module docstring.
        name: the model's name.

    Returns:
        A :class:`ProgressiveDiscriminator`: images ``[batch, 28, 28, 1]``, constant on ``k x k``
        blocks at a stage of resolution ``28 / k`` (generated or from :func:`prepare_reals`),
        -> scores ``[batch, 1]``.

    Raises:
        ValueError: ``filters`` is not a positive integer, a bad ``mbstd_group_size`` or
            ``input_downsampling``.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, appendix A.1, table 2.
    """
    if mbstd_group_size is not None and (
        not isinstance(mbstd_group_size, int) or isinstance(mbstd_group_size, bool) or mbstd_group_size < 2
    ):
        raise ValueError(
            f"mbstd_group_size must be an integer >= 2 or None. Received: mbstd_group_size={mbstd_group_size!r}"
        )
    model = ProgressiveDiscriminator(growth, filters, mbstd_group_size, input_downsampling, name=name)
    batch = mbstd_group_size or 2
    for s, r in enumerate(RESOLUTIONS):
        model.forward(tf.zeros([batch, r, r, 1]), stage=s, alpha=0.5)
    model(tf.zeros([batch, FULL_RESOLUTION, FULL_RESOLUTION, 1]))
    return model


__all__ = [
    "ADAM", "DRIFT_WEIGHT", "FULL_RESOLUTION", "GP_WEIGHT", "INPUT_DOWNSAMPLING", "MBSTD_GROUP_SIZE", "NUM_STAGES",
    "N_CRITIC", "RESOLUTIONS", "EqualizedConv2D", "EqualizedDense", "Growth", "GrowthSchedule", "MinibatchStdDev",
    "Phase", "PixelNorm", "ProgressiveDiscriminator", "ProgressiveGenerator", "Progress",
    "build_progressive_discriminator", "build_progressive_generator", "downsample", "fade_in", "he_constant",
    "make_optimizer", "minibatch_stddev", "pixel_norm", "prepare_reals", "reset_optimizer_state", "to_full_resolution",
    "to_resolution", "upsample",
]
