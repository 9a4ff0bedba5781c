"""Generator, discriminator and critic builders for 28x28x1 images (Keras 3 functional models).

The architecture follows DCGAN's guidelines (Radford et al. 2016,
https://arxiv.org/abs/1511.06434): strided (transposed) convolutions instead of
pooling, batch normalization in the generator, ReLU in the generator with a tanh
output, LeakyReLU(0.2) in the discriminator. It is leaner than the paper's 64x64
network (two up-sampling stages, 7 -> 14 -> 28, with 128 and 64 filters) because
MNIST is small: on 2 CPU cores it trains at a few hundred images per second and
draws recognizable digits after one or two epochs.

A *critic* (WGAN-GP) is the same discriminator without batch normalization:
the gradient penalty is taken per example, and batch normalization would make
each score depend on the other examples in the batch (Gulrajani et al. 2017,
section 4, https://arxiv.org/abs/1704.00028).
"""

from __future__ import annotations

import keras
from keras import layers

from ganlib.data import IMAGE_SHAPE


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def build_generator(latent_dim: int = 100, filters: int = 64, *, name: str = "generator") -> keras.Model:
    """DCGAN generator: latent vector ``z`` ``[batch, latent_dim]`` to images ``[batch, 28, 28, 1]`` in (-1, 1).

    Dense projection to 7x7x(2*filters), then two stride-2 transposed
    convolutions (7 -> 14 -> 28), batch norm and ReLU between, tanh at the end.

    Example:
        >>> g = build_generator(latent_dim=16, filters=8)
        >>> tuple(g(keras.random.normal((2, 16))).shape)
        (2, 28, 28, 1)

    Args:
        latent_dim: size of ``z`` (DCGAN: 100).
        filters: channels of the last hidden layer; the first has twice as many.
        name: the model's name.

    Returns:
        A ``keras.Model`` whose weights are already created.

    Raises:
        ValueError: ``latent_dim`` or ``filters`` is not a positive integer.

    References:
        Radford et al. 2016, https://arxiv.org/abs/1511.06434, figure 1.
    """
    _check_positive(latent_dim=latent_dim, filters=filters)
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(7 * 7 * 2 * filters, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * filters))(x)  # (7, 7, 2f)
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)  # (14, 14, f)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    # float32 output under any mixed-precision policy: images leave the model in float32.
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", dtype="float32")(x)  # (28, 28, 1)
    return keras.Model(z, x, name=name)


def build_discriminator(
    filters: int = 64, *, batch_norm: bool = True, name: str = "discriminator"
) -> keras.Model:
    """DCGAN discriminator: images ``[batch, 28, 28, 1]`` in [-1, 1] to one logit ``[batch, 1]``.

    Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2), batch norm on
    the second (DCGAN puts none on the first layer), then a dense logit. The
    output is a raw score: a logit for the minimax/non-saturating losses, the
    critic value f(x) for the Wasserstein loss.

    Example:
        >>> d = build_discriminator(filters=8)
        >>> tuple(d(keras.ops.zeros((2, 28, 28, 1))).shape)
        (2, 1)

    Args:
        filters: channels of the first convolution; the second has twice as many.
        batch_norm: batch normalization after the second convolution; switch it
            off for a WGAN-GP critic.
        name: the model's name.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: ``filters`` is not a positive integer.

    References:
        Radford et al. 2016, https://arxiv.org/abs/1511.06434, section 3.
    """
    _check_positive(filters=filters)
    x_in = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Conv2D(filters, 4, strides=2, padding="same")(x_in)  # (14, 14, f)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=not batch_norm)(x)  # (7, 7, 2f)
    if batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    logits = layers.Dense(1, dtype="float32")(x)  # float32 logits under any mixed-precision policy
    return keras.Model(x_in, logits, name=name)


def build_critic(filters: int = 64, *, name: str = "critic") -> keras.Model:
    """WGAN critic: :func:`build_discriminator` without batch normalization, output f(x) ``[batch, 1]``.

    Args:
        filters: channels of the first convolution.
        name: the model's name.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: ``filters`` is not a positive integer.

    References:
        Gulrajani et al. 2017, https://arxiv.org/abs/1704.00028, section 4.
    """
    return build_discriminator(filters, batch_norm=False, name=name)
