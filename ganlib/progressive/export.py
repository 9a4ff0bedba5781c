"""The progressive generator as a model of Keras's own layers, for ``python -m ganlib export``."""

from __future__ import annotations

import math

import keras

from ganlib.progressive.layers import EqualizedConv2D, EqualizedDense, PixelNorm
from ganlib.progressive.networks import ProgressiveGenerator
from ganlib.progressive.paper import FULL_RESOLUTION, RESOLUTIONS


def portable_generator(generator: ProgressiveGenerator, name: str = "generator") -> keras.Model:
    """The progressive generator at its current stage and alpha as a functional model of Keras's own layers.

    It computes what ``generator(z)`` computes in inference mode (images ``[batch, 28, 28, 1]``
    clipped to [-1, 1]), so ``python -m ganlib export`` can write a file that loads without
    ganlib (:mod:`ganlib.export`). Each piece becomes standard layers:

    * equalized learning rate is a reparametrisation: :class:`~ganlib.progressive.layers.EqualizedDense`
      and :class:`~ganlib.progressive.EqualizedConv2D` become ``Dense`` and ``Conv2D`` holding the
      effective kernel ``c * W``;
    * pixel norm ``a / sqrt(mean_c a_c^2 + 1e-8)`` becomes ``UnitNormalization`` (``a / ||a||``) then
      ``Rescaling(sqrt(C))``; the two differ only where ``||a||^2`` is near ``C * 1e-8``;
    * the fade-in ``(1 - alpha) * old + alpha * new`` becomes two ``Rescaling`` layers and ``Add``
      (alpha fixed at its current value; no old path at alpha = 1);
    * the clipping becomes ``ReLU(max_value=2)`` between shifts by +1 and -1.

    Args:
        generator: a :class:`~ganlib.progressive.ProgressiveGenerator` (built).
        name: the model's name.

    Returns:
        A ``keras.Model``: ``z`` ``[batch, latent_dim]`` -> images ``[batch, 28, 28, 1]`` in [-1, 1].
    """
    from keras import layers

    stage = generator.growth.current_stage()
    alpha = float(generator.growth.alpha.numpy()) if stage > 0 else 1.0

    def copy(layer, x, prefix):
        if isinstance(layer, PixelNorm):
            x = layers.UnitNormalization(axis=-1, name=f"{prefix}_{layer.name}")(x)
            return layers.Rescaling(math.sqrt(x.shape[-1]), name=f"{prefix}_{layer.name}_scale")(x)
        if isinstance(layer, (EqualizedDense, EqualizedConv2D)):
            if isinstance(layer, EqualizedDense):
                plain = layers.Dense(layer.units, use_bias=layer.use_bias, name=f"{prefix}_{layer.name}")
            else:
                plain = layers.Conv2D(layer.filters, layer.kernel_size, padding="same", use_bias=layer.use_bias,
                                      name=f"{prefix}_{layer.name}")
            y = plain(x)
            plain.set_weights([layer.effective_kernel.numpy()] + ([layer.bias.numpy()] if layer.use_bias else []))
            return y
        config = {**layer.get_config(), "name": f"{prefix}_{layer.name}"}
        return type(layer).from_config(config)(x)

    def run(block, x):
        for layer in block.layers:
            x = copy(layer, x, block.name)
        return x

    z = keras.Input((generator.latent_dim,), name="z")
    h = run(generator.blocks[0], z)
    for s in range(1, stage):
        h = run(generator.blocks[s], h)
    if stage == 0:
        image = copy(generator.to_rgb[0], h, "out")
    else:
        image = copy(generator.to_rgb[stage], run(generator.blocks[stage], h), "out")
        if alpha < 1.0:
            old = layers.UpSampling2D(2, interpolation="nearest", name="fade_upsample")(
                copy(generator.to_rgb[stage - 1], h, "old"))
            image = layers.Add(name="fade_in")([layers.Rescaling(1.0 - alpha, name="fade_old")(old),
                                                layers.Rescaling(alpha, name="fade_new")(image)])
    factor = FULL_RESOLUTION // RESOLUTIONS[stage]
    if factor > 1:
        image = layers.UpSampling2D(factor, interpolation="nearest", name="to_28x28")(image)
    image = layers.Rescaling(1.0, offset=1.0, name="clip_shift")(image)
    image = layers.ReLU(max_value=2.0, name="clip")(image)
    image = layers.Rescaling(1.0, offset=-1.0, name="clip_unshift")(image)
    return keras.Model(z, image, name=name)


__all__ = ["portable_generator"]
