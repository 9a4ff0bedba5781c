"""The networks of image-to-image translation at 28x28: a U-Net generator and a PatchGAN discriminator.

Both follow Isola et al. 2017 (pix2pix, https://arxiv.org/abs/1611.07004), scaled from 256x256
to 28x28; CycleGAN (Zhu et al. 2017) uses the same pair here.

* :func:`build_unet` (sec. 3.2.1, "Generator with skips"): an encoder-decoder whose decoder
  layer ``i`` also receives encoder layer ``n - i`` (concatenated on channels), so low-level
  structure (the digit's visible strokes) passes straight to the output. 28 -> 14 -> 7, a
  bottleneck at 7x7, then 7 -> 14 -> 28. Convolutions 4x4 of stride 2 (the paper's ``Ck``
  blocks: Convolution-BatchNorm-ReLU), LeakyReLU 0.2 in the encoder and ReLU in the decoder,
  no batch norm on the first encoder layer, dropout 0.5 on the first decoder layers (sec. 6.1.1),
  tanh output. The paper has no noise ``z`` beyond dropout, and neither has this generator.
* :func:`build_patchgan` (sec. 3.2.2, "Markovian discriminator (PatchGAN)"): a fully
  convolutional discriminator that classifies each N x N patch of the (input, output) pair,
  concatenated on channels, as real or fake; its logits are a ``[batch, 7, 7, 1]`` map, one per
  patch, averaged by the loss. Its layers are :data:`PATCHGAN_LAYERS`; :func:`receptive_field`
  gives N = 18 pixels at 28x28: 64% of the image's side, where the paper's 70x70 PatchGAN sees
  27% of a 256-pixel side. A digit's strokes are a larger part of its image than the textures
  of a photograph, and an 18x18 patch covers a stroke with its neighbourhood but not the whole
  digit (the paper's sec. 4.4: 16x16 patches already give sharp outputs but tiling artefacts,
  70x70 removes them, the whole 286x286 image does no better).

Departure: the paper applies dropout and batch norm with batch statistics also at test time;
ganlib's generators are called with ``training=False`` outside the train step (moving
statistics, no dropout), so a completion is a deterministic function of the input.
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

IMAGE_SIZE = 28

#: ``(kernel, stride, filter multiplier, batch norm)`` of the PatchGAN's convolutions, input to output; the
#: last one (multiplier 0) is the one-channel logit layer.
PATCHGAN_LAYERS: tuple[tuple[int, int, int, bool], ...] = ((4, 2, 1, False), (4, 2, 2, True), (3, 1, 0, False))


def receptive_field(layers_: Sequence[tuple[int, int]]) -> int:
    """The receptive field, in input pixels, of one output unit of a stack of convolutions.

    ``r_0 = 1, j_0 = 1; r_l = r_{l-1} + (k_l - 1) * j_{l-1}, j_l = j_{l-1} * s_l``, where ``k_l`` and
    ``s_l`` are layer ``l``'s kernel size and stride and ``j`` the distance, in input pixels,
    between neighbouring units (padding changes where a patch lies, not its size).

    Example:
        >>> receptive_field([(4, 2), (4, 2), (3, 1)])  # ganlib's 28x28 PatchGAN
        18
        >>> receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)])  # pix2pix's 70x70 PatchGAN
        70

    Args:
        layers_: ``(kernel, stride)`` per layer, input to output; each a positive int.

    Returns:
        The side N of the N x N input patch that one output unit sees, >= 1.

    Raises:
        ValueError: a kernel or stride that is not a positive integer.

    References:
        Isola et al. 2017, sec. 3.2.2 and appendix 6.1.2, https://arxiv.org/abs/1611.07004.
    """
    r, j = 1, 1
    for item in layers_:
        if len(item) < 2 or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in item[:2]):
            raise ValueError(f"Expected (kernel, stride) pairs of positive integers. Received: {item!r}")
        k, s = item[0], item[1]
        r, j = r + (k - 1) * j, j * s
    return r


def build_unet(in_channels: int = 2, filters: int = 32, *, dropout: float = 0.5, out_channels: int = 1,
               name: str = "generator") -> keras.Model:
    """The U-Net generator at 28x28 (Isola et al. 2017, sec. 3.2.1): encoder, bottleneck, decoder with skips.

    Shapes (``f = filters``)::

        input [28, 28, in_channels]
        e1 = LReLU(Conv4x4/2(f))                      # (14, 14, f), no batch norm (as the paper's C64)
        e2 = LReLU(BN(Conv4x4/2(2f)))                 # (7, 7, 2f)
        b  = ReLU(BN(Conv3x3/1(4f)))                  # (7, 7, 4f)   bottleneck
        d2 = ReLU(Dropout(BN(ConvT4x4/2(2f)([b, e2]))))  # (14, 14, 2f) skip from e2
        d1 = ReLU(BN(ConvT4x4/2(f)([d2, e1])))        # (28, 28, f)  skip from e1
        out = tanh(Conv3x3/1(out_channels)(d1))       # (28, 28, out_channels) in [-1, 1]

    Example:
        >>> build_unet(2, 8)(keras.ops.zeros([3, 28, 28, 2])).shape
        (3, 28, 28, 1)

    Args:
        in_channels: channels of the input (2 for pix2pix's (masked image, mask); 1 for CycleGAN).
        filters: width ``f`` of the first layer, >= 1.
        dropout: dropout rate of the first decoder layer in training, in [0, 1) (the paper: 0.5).
        out_channels: channels of the output image.
        name: the model's name.

    Returns:
        A ``keras.Model`` ``[batch, 28, 28, in_channels] -> [batch, 28, 28, out_channels]`` in [-1, 1].

    Raises:
        ValueError: ``filters`` or a channel count < 1, ``dropout`` outside [0, 1).

    References:
        Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1, https://arxiv.org/abs/1611.07004.
        Ronneberger et al. 2015, "U-Net", https://arxiv.org/abs/1505.04597.
    """
    for label, v in (("in_channels", in_channels), ("filters", filters), ("out_channels", out_channels)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{label} must be a positive integer. Received: {label}={v!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    init = keras.initializers.RandomNormal(0.0, 0.02)  # the paper's N(0, 0.02) initialisation (sec. 6.2)
    x = keras.Input((IMAGE_SIZE, IMAGE_SIZE, in_channels), name="input_image")
    e1 = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, 2, "same", kernel_initializer=init)(x))  # (14, 14, f)
    e2 = layers.Conv2D(2 * filters, 4, 2, "same", use_bias=False, kernel_initializer=init)(e1)
    e2 = layers.LeakyReLU(0.2)(layers.BatchNormalization()(e2))  # (7, 7, 2f)
    b = layers.Conv2D(4 * filters, 3, 1, "same", use_bias=False, kernel_initializer=init)(e2)
    b = layers.ReLU()(layers.BatchNormalization()(b))  # (7, 7, 4f)
    d2 = layers.Conv2DTranspose(2 * filters, 4, 2, "same", use_bias=False,
                                kernel_initializer=init)(layers.Concatenate()([b, e2]))
    d2 = layers.BatchNormalization()(d2)
    if dropout:
        d2 = layers.Dropout(dropout)(d2)
    d2 = layers.ReLU()(d2)  # (14, 14, 2f)
    d1 = layers.Conv2DTranspose(filters, 4, 2, "same", use_bias=False,
                                kernel_initializer=init)(layers.Concatenate()([d2, e1]))
    d1 = layers.ReLU()(layers.BatchNormalization()(d1))  # (28, 28, f)
    out = layers.Conv2D(out_channels, 3, 1, "same", kernel_initializer=init)(d1)
    out = layers.Activation("tanh", dtype="float32")(out)  # (28, 28, out_channels)
    return keras.Model(x, out, name=name)


def build_patchgan(in_channels: int = 3, filters: int = 32, *, batch_norm: bool = True,
                   name: str = "discriminator") -> keras.Model:
    """The PatchGAN discriminator at 28x28 (Isola et al. 2017, sec. 3.2.2): one logit per 18x18 patch.

    Its input is the (input, output) pair concatenated on channels (a conditional discriminator,
    eq. 1: ``D(x, y)``); its layers are :data:`PATCHGAN_LAYERS`::

        input [28, 28, in_channels]
        LReLU0.2(Conv4x4/2(f))         # (14, 14, f), no batch norm (as the paper's C64)
        LReLU0.2(BN(Conv4x4/2(2f)))    # (7, 7, 2f)
        Conv3x3/1(1)                   # (7, 7, 1) logits, receptive field 18 x 18 pixels

    Example:
        >>> build_patchgan(3, 8)(keras.ops.zeros([2, 28, 28, 3])).shape
        (2, 7, 7, 1)

    Args:
        in_channels: channels of the pair (3 for pix2pix: masked image, mask, image; 1 for CycleGAN).
        filters: width ``f`` of the first layer, >= 1.
        batch_norm: batch normalization after the second convolution (the paper's).
        name: the model's name.

    Returns:
        A ``keras.Model`` ``[batch, 28, 28, in_channels] -> [batch, 7, 7, 1]`` float32 logits.

    Raises:
        ValueError: ``filters`` or ``in_channels`` < 1.

    References:
        Isola et al. 2017, sec. 3.2.2 and appendix 6.1.2, https://arxiv.org/abs/1611.07004.
    """
    for label, v in (("in_channels", in_channels), ("filters", filters)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{label} must be a positive integer. Received: {label}={v!r}")
    init = keras.initializers.RandomNormal(0.0, 0.02)
    x = h = keras.Input((IMAGE_SIZE, IMAGE_SIZE, in_channels), name="image_pair")
    for kernel, stride, multiplier, norm in PATCHGAN_LAYERS:
        if multiplier == 0:
            h = layers.Conv2D(1, kernel, stride, "same", kernel_initializer=init, dtype="float32", name="logits")(h)
            continue
        h = layers.Conv2D(multiplier * filters, kernel, stride, "same", use_bias=not (norm and batch_norm),
                          kernel_initializer=init)(h)
        if norm and batch_norm:
            h = layers.BatchNormalization()(h)
        h = layers.LeakyReLU(0.2)(h)
    return keras.Model(x, h, name=name)


__all__ = ["IMAGE_SIZE", "PATCHGAN_LAYERS", "build_patchgan", "build_unet", "receptive_field"]
