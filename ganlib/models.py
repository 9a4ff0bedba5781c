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

Spectral normalization (Miyato et al. 2018, https://arxiv.org/abs/1802.05957)
is an option of :func:`build_discriminator`: every kernel of the critic is
divided by an estimate of its largest singular value, so that each layer, and
with 1-Lipschitz activations the whole network, is (close to) 1-Lipschitz.
:func:`power_iteration` writes the estimate out in NumPy and
:func:`largest_singular_values` checks a model's kernels by SVD.
"""

from __future__ import annotations

import keras
import numpy as np
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
    return keras.Model(z, _generator_layers(z, filters), name=name)


def _generator_layers(x, filters: int):
    """The DCGAN generator's layers on a vector ``x``: dense to 7x7x(2f), then 7 -> 14 -> 28, tanh."""
    x = layers.Dense(7 * 7 * 2 * filters, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * filters))(x)  # (7, 7, 2f)
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)  # (14, 14, f)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    # float32 output under any mixed-precision policy: images leave the model in float32.
    return layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", dtype="float32")(x)  # (28, 28, 1)


def build_discriminator(
    filters: int = 64, *, batch_norm: bool = True, spectral_norm: bool = False, name: str = "discriminator"
) -> keras.Model:
    """DCGAN discriminator: images ``[batch, 28, 28, 1]`` in [-1, 1] to one logit ``[batch, 1]``.

    Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2), batch norm on
    the second (DCGAN puts none on the first layer), then a dense logit. The
    output is a raw score: a logit for the minimax/non-saturating losses, the
    critic value f(x) for the Wasserstein and hinge losses.

    With ``spectral_norm=True`` each of the three layers (both convolutions and
    the dense logit) is wrapped in ``keras.layers.SpectralNormalization``, which replaces the kernel W by
    ``W / sigma(W)``, ``sigma`` the largest singular value of the kernel reshaped
    to ``[kh * kw * c_in, c_out]`` (the paper's reshape; it bounds that matrix,
    not the convolution operator, whose norm can be larger). LeakyReLU is
    1-Lipschitz, so the network is then close to 1-Lipschitz.

    How Keras's layer differs from the paper's algorithm 1 (read in
    ``keras/src/layers/normalization/spectral_normalization.py``, Keras 3.15):

    * It normalises only when called with ``training=True``; with
      ``training=False`` the stored kernel is used as it is. ganlib's train step
      calls the critic with ``training=True`` (every call, the gradient penalty's
      too).
    * It runs one power iteration per *call*; the step calls the critic on the
      real and on the generated batch, so there are two per update (the paper:
      one per update). More iterations only sharpen the estimate.
    * It does not keep W and compute ``W / sigma(W)`` on the fly: each training
      call runs the power iteration on the stored kernel (``v = normalize(u W^T)``,
      ``u = normalize(v W)``, ``sigma = v W u^T``, ``u`` a persistent
      non-trainable ``[1, c_out]`` vector) and *assigns* ``W / sigma`` to the
      kernel variable, then applies the layer with it. The gradient is therefore
      taken with respect to the normalised kernel treated as a free variable: the
      term that the paper's gradient gets from differentiating through sigma
      (``-(dL/dW_SN . W_SN) u v^T / sigma``, the paper's section 2.2, which penalises
      the first singular direction) is missing, and the optimizer's update is
      added to ``W / sigma``, not to an unnormalised W. After an update the
      stored kernel's largest singular value is 1 plus the update's effect
      until the next training call divides it again (how far, measured:
      docs/decisions/002-sngan-settings.md). A kernel of all zeros is
      left as it is.

    A batch-normalization layer after a normalised layer rescales its
    activations by ``1 / std`` and undoes the bound, so the two exclude each
    other here, as in the paper's SN-GANs.

    Example:
        >>> d = build_discriminator(filters=8)
        >>> tuple(d(keras.ops.zeros((2, 28, 28, 1))).shape)
        (2, 1)
        >>> c = build_discriminator(filters=8, batch_norm=False, spectral_norm=True)
        >>> tuple(c(keras.ops.zeros((2, 28, 28, 1)), training=True).shape)
        (2, 1)

    Args:
        filters: channels of the first convolution; the second has twice as many.
        batch_norm: batch normalization after the second convolution; switch it
            off for a WGAN-GP critic and with spectral normalization.
        spectral_norm: wrap every convolution and the dense layer in
            ``keras.layers.SpectralNormalization``; call the model with
            ``training=True`` when training it.
        name: the model's name.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: ``filters`` is not a positive integer, or ``batch_norm`` and
            ``spectral_norm`` are both set.

    References:
        Radford et al. 2016, https://arxiv.org/abs/1511.06434, section 3;
        Miyato et al. 2018, https://arxiv.org/abs/1802.05957, section 2.1 and algorithm 1.
    """
    _check_positive(filters=filters)
    if spectral_norm and batch_norm:
        raise ValueError(
            "Spectral normalization needs a discriminator without batch normalization (batch norm rescales "
            "the activations and undoes the Lipschitz bound). Received: batch_norm=True, spectral_norm=True"
        )

    def sn(layer: layers.Layer) -> layers.Layer:
        # The wrapper computes in the wrapped layer's dtype, so the float32 logits stay float32.
        return layers.SpectralNormalization(layer, dtype=layer.dtype_policy) if spectral_norm else layer

    x_in = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = sn(layers.Conv2D(filters, 4, strides=2, padding="same"))(x_in)  # (14, 14, f)
    x = layers.LeakyReLU(0.2)(x)
    x = sn(layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=not batch_norm))(x)  # (7, 7, 2f)
    if batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    logits = sn(layers.Dense(1, dtype="float32"))(x)  # float32 logits under any mixed-precision policy
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


# Spectral normalization, written out.
# Miyato et al. 2018, "Spectral Normalization for GANs", https://arxiv.org/abs/1802.05957


def _as_matrix(kernel) -> np.ndarray:
    w = np.asarray(kernel, dtype=np.float64)
    if w.ndim < 2:
        raise ValueError(f"Expected a kernel of rank >= 2 ([..., c_out]). Received: kernel.shape={w.shape}")
    return w.reshape(-1, w.shape[-1])


def power_iteration(
    kernel, u: np.ndarray | None = None, *, iterations: int = 1, seed: int = 0
) -> tuple[float, np.ndarray, np.ndarray]:
    """Estimate a kernel's largest singular value by power iteration, as ``keras.layers.SpectralNormalization`` does.

    The kernel is reshaped to ``W`` of shape ``[m, n] = [prod(shape[:-1]), c_out]``
    (``[kh * kw * c_in, c_out]`` for a convolution, ``[d_in, d_out]`` for a dense
    layer). Starting from ``u`` (``[1, n]``), each iteration computes

        v <- u W^T / ||u W^T||,    u <- v W / ||v W||,

    and the estimate is ``sigma = v W u^T`` (<= the largest singular value, and
    equal to it once ``u`` and ``v`` are the top singular vectors). The paper
    runs one iteration per training step and carries ``u`` over to the next
    step, so that the estimate follows the slowly changing W. ``W / sigma`` is
    the spectrally normalised kernel.

    Example:
        >>> w = np.diag([3.0, 1.0])
        >>> round(power_iteration(w, iterations=20)[0], 6)
        3.0

    Args:
        kernel: array of rank >= 2, last axis the output channels.
        u: float ``[1, n]`` or ``[n]`` start vector (a layer's ``vector_u``); None
            draws one from N(0, 1) with ``seed``.
        iterations: power iterations, >= 1.
        seed: seed of the start vector when ``u`` is None.

    Returns:
        ``(sigma, u, v)``: the estimate (float), the updated ``u`` ``[1, n]`` and
        ``v`` ``[1, m]``, both of unit norm, float64.

    Raises:
        ValueError: kernel of rank < 2, ``u`` of the wrong size, or ``iterations < 1``.

    References:
        Miyato et al. 2018, https://arxiv.org/abs/1802.05957, algorithm 1 (with
        the roles of u and v swapped by the transposed layout of Keras kernels).
    """
    w = _as_matrix(kernel)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer. Received: iterations={iterations!r}")
    if u is None:
        u = np.random.default_rng(seed).standard_normal((1, w.shape[1]))
    u = np.asarray(u, dtype=np.float64).reshape(1, -1)
    if u.shape[1] != w.shape[1]:
        raise ValueError(f"Expected u with {w.shape[1]} entries (the kernel's last axis). Received: u.shape={u.shape}")
    for _ in range(iterations):
        v = u @ w.T
        v = v / max(np.linalg.norm(v), 1e-12)
        u = v @ w
        u = u / max(np.linalg.norm(u), 1e-12)
    sigma = float((v @ w @ u.T)[0, 0])
    return sigma, u, v


def largest_singular_values(model: keras.Model) -> dict[str, float]:
    """The largest singular value (NumPy SVD) of every spectrally normalised kernel of a model.

    Each kernel is reshaped to ``[prod(shape[:-1]), c_out]``, the matrix that
    ``keras.layers.SpectralNormalization`` normalises. After training steps
    (calls with ``training=True``) every value is close to 1.

    Args:
        model: a Keras model, for example from ``build_discriminator(..., spectral_norm=True)``.

    Returns:
        ``{layer name: sigma}`` for every ``SpectralNormalization`` layer, in
        layer order; empty when the model has none.
    """
    return {
        layer.name: float(np.linalg.svd(_as_matrix(layer.kernel.numpy()), compute_uv=False)[0])
        for layer in model.layers
        if isinstance(layer, layers.SpectralNormalization)
    }


# Class-conditional networks (Mirza & Osindero 2014, https://arxiv.org/abs/1411.1784): G(z, y) and D(x, y).
# The defaults (a learned embedding in G, projection in D): docs/decisions/004-conditional-label-inputs.md.

LABEL_EMBEDDING_DIM = 50  # size of the generator's learned label vector (g_label_input="embedding")


def build_conditional_generator(
    latent_dim: int = 100,
    filters: int = 64,
    *,
    num_classes: int = 10,
    label_input: str = "embedding",
    embedding_dim: int = LABEL_EMBEDDING_DIM,
    name: str = "generator",
) -> keras.Model:
    """Class-conditional DCGAN generator: ``[z [batch, latent_dim], labels int [batch]]`` to ``[batch, 28, 28, 1]``.

    The label is encoded as a vector ``e(y)`` and concatenated to ``z``; the rest is the
    network of :func:`build_generator` on ``[z, e(y)]``::

        G(z, y) = body(concat(z, e(y)))

    * ``label_input="embedding"``: ``e(y) = E[y]``, a learned table ``E`` of ``num_classes``
      vectors of size ``embedding_dim`` (layer ``"label_embedding"``);
    * ``label_input="one_hot"``: ``e(y)`` is the one-hot vector of ``y`` (the same layer, a
      fixed identity table), as keras-io's conditional GAN and Mirza & Osindero do.

    Both add a learned vector per class to the first dense layer (``W [z; e(y)] = W_z z + W_e e(y)``);
    the embedding is the default (docs/decisions/004-conditional-label-inputs.md). The projection
    discriminator's paper conditions its ResNet generator by class-conditional batch normalization instead;
    ganlib keeps the DCGAN generator and conditions its input, as Mirza & Osindero do.

    The two pieces are reachable by name, for morphing between classes in label space
    (:func:`ganlib.walks.class_morph`): ``generator.get_layer("label_embedding")`` maps labels
    ``[batch]`` to ``e(y)`` ``[batch, e]`` and ``generator.get_layer("generator_body")`` maps
    ``[z, e]`` to images, so ``body([z, (1 - t) e(a) + t e(b)])`` draws between classes a and b.

    Example:
        >>> g = build_conditional_generator(latent_dim=16, filters=8)
        >>> tuple(g([keras.random.normal((2, 16)), keras.ops.array([3, 7])]).shape)
        (2, 28, 28, 1)

    Args:
        latent_dim: size of ``z``.
        filters: channels of the last hidden layer (as :func:`build_generator`).
        num_classes: number of classes, labels in ``0..num_classes - 1``.
        label_input: ``"embedding"`` or ``"one_hot"``.
        embedding_dim: size of the learned label vector (``"embedding"`` only).
        name: the model's name.

    Returns:
        A ``keras.Model`` with inputs ``[z, labels]``.

    Raises:
        ValueError: a size is not a positive integer, or an unknown ``label_input``.

    References:
        Mirza & Osindero 2014, https://arxiv.org/abs/1411.1784, section 3.2.
        Radford et al. 2016, https://arxiv.org/abs/1511.06434.
    """
    _check_positive(latent_dim=latent_dim, filters=filters, num_classes=num_classes, embedding_dim=embedding_dim)
    if label_input == "embedding":
        embed = layers.Embedding(num_classes, embedding_dim, name="label_embedding")
    elif label_input == "one_hot":
        embed = layers.Embedding(num_classes, num_classes, embeddings_initializer="identity", trainable=False,
                                 name="label_embedding")
        embedding_dim = num_classes
    else:
        raise ValueError(
            f"Unknown label_input: expected 'embedding' or 'one_hot'. Received: label_input={label_input!r}"
        )
    z_body = keras.Input(shape=(latent_dim,), name="z")
    e_body = keras.Input(shape=(embedding_dim,), name="label_vector")
    x = layers.Concatenate()([z_body, e_body])  # (latent_dim + e)
    body = keras.Model([z_body, e_body], _generator_layers(x, filters), name="generator_body")

    z = keras.Input(shape=(latent_dim,), name="z")
    y = keras.Input(shape=(), dtype="int32", name="label")
    return keras.Model([z, y], body([z, embed(y)]), name=name)


def build_conditional_discriminator(
    filters: int = 64,
    *,
    num_classes: int = 10,
    label_input: str = "projection",
    batch_norm: bool = True,
    name: str = "discriminator",
) -> keras.Model:
    """Class-conditional DCGAN discriminator: ``[x [batch, 28, 28, 1], labels int [batch]]`` to logits ``[batch, 1]``.

    * ``label_input="projection"`` (Miyato & Koyama 2018): with ``phi(x)`` the features that
      :func:`build_discriminator` feeds its last dense layer (the flattened ``(7, 7, 2f)`` map)
      and ``psi`` that layer,

          D(x, y) = psi(phi(x)) + <V[y], phi(x)>,

      where ``V`` is a learned table of one vector per class (layer ``"label_projection"``). It is
      the form of the logit when log p(y|x) is log-linear in ``phi(x)``, and it
      makes the label act on what the network has learned about the image, not on raw pixels.
      The unconditional part is :func:`build_discriminator` itself (nested as ``"unconditional"``).
    * ``label_input="concat"``: the one-hot label, repeated over 28x28, is concatenated to the
      image's channels (``[28, 28, 1 + num_classes]``) and goes through the same two
      convolutions, as keras-io's conditional GAN does.

    Projection is the default (docs/decisions/004-conditional-label-inputs.md). Departures from the paper: ``phi`` is the
    DCGAN discriminator's flattened feature map, not a sum-pooled ResNet feature, and the network
    keeps batch normalization instead of spectral normalization (as ganlib's unconditional
    discriminator does).

    Example:
        >>> d = build_conditional_discriminator(filters=8)
        >>> tuple(d([keras.ops.zeros((2, 28, 28, 1)), keras.ops.array([0, 9])]).shape)
        (2, 1)

    Args:
        filters: channels of the first convolution.
        num_classes: number of classes, labels in ``0..num_classes - 1``.
        label_input: ``"projection"`` or ``"concat"``.
        batch_norm: batch normalization after the second convolution (off for a WGAN-GP critic).
        name: the model's name.

    Returns:
        A ``keras.Model`` with inputs ``[images, labels]`` and float32 logits.

    Raises:
        ValueError: a size is not a positive integer, or an unknown ``label_input``.

    References:
        Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637, equation (3).
        Mirza & Osindero 2014, https://arxiv.org/abs/1411.1784, section 3.2.
    """
    _check_positive(filters=filters, num_classes=num_classes)
    x_in = keras.Input(shape=IMAGE_SHAPE, name="image")
    y = keras.Input(shape=(), dtype="int32", name="label")
    if label_input == "projection":
        base = build_discriminator(filters, batch_norm=batch_norm, name="unconditional")
        head = base.layers[-1]  # psi: the dense logit; its input is phi(x)
        trunk = keras.Model(base.input, [head.input, base.output], name="unconditional")
        phi, psi = trunk(x_in)
        v = layers.Embedding(num_classes, phi.shape[-1], embeddings_initializer="glorot_uniform", dtype="float32",
                             name="label_projection")(y)  # (phi's size,), initialised like psi's kernel
        inner = layers.Dot(axes=1, dtype="float32")([v, phi])  # <V[y], phi(x)>, [batch, 1]
        logits = layers.Add(dtype="float32")([psi, inner])
    elif label_input == "concat":
        def label_maps(labels):
            one_hot = keras.ops.one_hot(labels, num_classes)[:, None, None, :]
            return keras.ops.broadcast_to(one_hot, (keras.ops.shape(labels)[0], *IMAGE_SHAPE[:2], num_classes))

        maps = layers.Lambda(label_maps, name="label_maps")(y)  # (28, 28, num_classes)
        x = layers.Concatenate()([x_in, maps])  # (28, 28, 1 + num_classes)
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)  # (14, 14, f)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=not batch_norm)(x)  # (7, 7, 2f)
        if batch_norm:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Flatten()(x)
        logits = layers.Dense(1, dtype="float32")(x)
    else:
        raise ValueError(
            f"Unknown label_input: expected 'projection' or 'concat'. Received: label_input={label_input!r}"
        )
    return keras.Model([x_in, y], logits, name=name)
