"""A reference implementation of the TensorFlow DCGAN tutorial's MNIST configuration (written from its description).

Generator: Dense(7*7*256, no bias) - BN - LeakyReLU - Reshape(7, 7, 256) -
Conv2DTranspose(128, 5, stride 1) - BN - LeakyReLU - Conv2DTranspose(64, 5, stride 2) -
BN - LeakyReLU - Conv2DTranspose(1, 5, stride 2, tanh); transposed convolutions
without bias, "same" padding. Discriminator: Conv2D(64, 5, stride 2) - LeakyReLU -
Dropout(0.3) - Conv2D(128, 5, stride 2) - LeakyReLU - Dropout(0.3) - Flatten - Dense(1).
Binary cross-entropy from logits, one Adam(1e-4) per network, batch 256, noise
dimension 100, one plain ``tf.function`` step recording both tapes over one
forward pass. LeakyReLU uses Keras's default slope (0.3), as a bare
``LeakyReLU()`` does. The input pipeline is the tutorial's: shuffle the whole
training set, batch 256 (the last, short batch kept), no prefetch.

This is the baseline of ``benchmarks/harness/run.py``; it is not part of ganlib.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

NOISE_DIM = 100
BATCH_SIZE = 256
LEARNING_RATE = 1e-4


def build_generator(noise_dim: int = NOISE_DIM) -> keras.Model:
    """Noise ``[batch, noise_dim]`` to images ``[batch, 28, 28, 1]`` in (-1, 1)."""
    z = keras.Input((noise_dim,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(z)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 256))(x)
    x = layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False)(x)  # (7, 7, 128)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False)(x)  # (14, 14, 64)
    x = layers.LeakyReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)  # (28, 28, 1)
    return keras.Model(z, x, name="tutorial_generator")


def build_discriminator() -> keras.Model:
    """Images ``[batch, 28, 28, 1]`` to one logit ``[batch, 1]``."""
    x_in = keras.Input((28, 28, 1))
    x = layers.Conv2D(64, 5, strides=2, padding="same")(x_in)  # (14, 14, 64)
    x = layers.Dropout(0.3)(layers.LeakyReLU()(x))
    x = layers.Conv2D(128, 5, strides=2, padding="same")(x)  # (7, 7, 128)
    x = layers.Dropout(0.3)(layers.LeakyReLU()(x))
    return keras.Model(x_in, layers.Dense(1)(layers.Flatten()(x)), name="tutorial_discriminator")


def make_optimizers() -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """Adam(1e-4) for the generator and one for the discriminator."""
    return keras.optimizers.Adam(LEARNING_RATE), keras.optimizers.Adam(LEARNING_RATE)


def make_step(generator, discriminator, g_optimizer, d_optimizer, noise_dim: int = NOISE_DIM):
    """The tutorial's train step: one forward pass under two tapes, BCE from logits, both updates.

    Returns:
        ``step(images [batch, 28, 28, 1]) -> (g_loss, d_loss)``, a plain ``tf.function``.
    """
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(images):
        noise = tf.random.normal([tf.shape(images)[0], noise_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_logits = discriminator(images, training=True)
            fake_logits = discriminator(fake, training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits)
            d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return g_loss, d_loss

    return step


def make_dataset(images: np.ndarray, batch_size: int = BATCH_SIZE) -> tf.data.Dataset:
    """The tutorial's pipeline: shuffle all images, batch (keeping the short last batch)."""
    return tf.data.Dataset.from_tensor_slices(images).shuffle(len(images)).batch(batch_size)
