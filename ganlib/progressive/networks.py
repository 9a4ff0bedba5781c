"""The progressive generator and discriminator at 28x28 (Karras et al. 2018, appendix A.1, table 2,
https://arxiv.org/abs/1710.10196), at MNIST size; see :mod:`ganlib.progressive`."""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers

from ganlib.progressive.paper import (
    FULL_RESOLUTION,
    INPUT_DOWNSAMPLING,
    LEAKY_SLOPE,
    MBSTD_GROUP_SIZE,
    NUM_STAGES,
    RESOLUTIONS,
)
from ganlib.layers import MinibatchStdDev
from ganlib.progressive.layers import (
    EqualizedConv2D,
    EqualizedDense,
    PixelNorm,
    downsample,
    fade_in,
    to_full_resolution,
    upsample,
)
from ganlib.progressive.layers import _check_positive, _check_stage, _side
from ganlib.progressive.schedule import Growth


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
