"""pix2pix for inpainting MNIST digits: a U-Net completes the masked region, a PatchGAN judges the pair.

The objective (Isola et al. 2017, eq. 4)::

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G)
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))]      (eq. 1)
    L_L1(G)      = E_{x,y}[ ||y - G(x)||_1 ]                              (eq. 3)

with ``x`` the masked input (:func:`ganlib.translate.tasks.masked_input`: the channel pair
(masked image, mask)), ``y`` the whole digit, lambda = ``config.l1_weight`` (the paper: 100)
and the adversarial term weighted by ``config.adv_weight`` (1; 0 is the paper's "L1 only"
baseline: the same U-Net and the same step, the discriminator not updated). No noise ``z``
beyond the U-Net's dropout, as in the paper. Adam(2e-4, beta_1 0.5) for both networks, batch
norm, LeakyReLU 0.2 in D (the ``pix2pix`` preset). Each step (one call) takes a batch of
digits, draws a mask per digit from the run's checkpointed noise generator (so a resumed run
draws the same masks), updates D once, then G once against the updated D (the paper's
alternation: "one gradient descent step on D, then one step on G", sec. 3.3), on the same
forward pass of G (its weights have not changed in between).

The completion of a digit is :func:`ganlib.translate.tasks.paste`: the input's visible pixels
and the generator's output on the hidden ones. The fixed sample grid shows, for
``grid_columns`` training digits per group, a row of masked inputs (hidden pixels black), a row
of completions and a row of the true digits.

References:
    Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks",
    https://arxiv.org/abs/1611.07004.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ganlib.translate import tasks
from ganlib.translate.family import TranslationFamily, predict

if TYPE_CHECKING:  # annotations only
    from ganlib.train.state import GAN

STAT_KEYS = ("d_loss", "g_loss", "g_adv", "g_l1", "real_score", "fake_score")
"""The statistics of a pix2pix step: D's loss, G's total (eq. 4), its two terms unweighted, D's mean logits."""


def tf_masks(kind: str, size: int, rng, batch):
    """Masks for a batch inside the step: float32 ``[batch, 28, 28, 1]``, 1 on the hidden pixels.

    ``"square"``: corners drawn by ``rng`` (a ``tf.random.Generator``) uniformly in ``0 .. 28 - size``;
    ``"lower_half"``: rows 14-27. Matches :func:`ganlib.translate.tasks.square_masks` and
    :func:`~ganlib.translate.tasks.lower_half_mask`.
    """
    import tensorflow as tf

    r = tf.range(tasks.IMAGE_SIZE)
    if kind == "lower_half":
        rows = tf.cast(r >= tasks.IMAGE_SIZE // 2, tf.float32)
        return tf.ones([batch, 1, 1, 1]) * tf.reshape(rows, [1, tasks.IMAGE_SIZE, 1, 1]) * tf.ones(
            [1, 1, tasks.IMAGE_SIZE, 1])
    corners = rng.uniform([batch, 2], 0, tasks.IMAGE_SIZE - size + 1, dtype=tf.int32)
    top, left = corners[:, :1], corners[:, 1:]
    rows = (r[None, :] >= top) & (r[None, :] < top + size)
    cols = (r[None, :] >= left) & (r[None, :] < left + size)
    return tf.cast(rows[:, :, None] & cols[:, None, :], tf.float32)[..., None]


class Pix2PixFamily(TranslationFamily):
    """The pix2pix family (``config.pix2pix``, the ``pix2pix`` preset): see the module docstring.

    Its generator is :func:`ganlib.translate.networks.build_unet` on the 2-channel masked input,
    its discriminator :func:`~ganlib.translate.networks.build_patchgan` on the 3-channel pair
    (masked image, mask, image); its step is its own (:meth:`wrap_step`); extras: ``grid_pairs`` and
    ``dropout_seeds``.
    """

    name = "pix2pix"
    extra_names = ("grid_pairs", "dropout_seeds")
    grid_channels = 3  # masked image, mask, true image
    rows_per_item = 3

    def build_networks(self):
        from ganlib.translate.networks import build_patchgan, build_unet

        c = self.config
        generator = build_unet(2, c.g_filters, dropout=c.dropout, name="generator")
        discriminator = build_patchgan(3, c.d_filters, batch_norm=c.d_batch_norm, name="discriminator")
        return generator, discriminator, {"grid_pairs": self.grid_variable(math.isqrt(c.num_samples)),
                                          "dropout_seeds": self.dropout_seeds(generator)}

    # -- data --------------------------------------------------------------------------------------------------------

    def masks(self, n: int, seed: int) -> np.ndarray:
        """``n`` masks of the run's kind and size (square positions drawn by ``default_rng(seed)``)."""
        return tasks.make_masks(self.config.mask, n, size=self.config.mask_size, seed=seed)

    def grid_pairs_from(self, images: np.ndarray, n: int) -> np.ndarray:
        x = images[:n]
        if len(x) < n:  # fewer training images than grid items: repeat them
            x = np.resize(x, (n, 28, 28, 1))
        pairs = tasks.masked_input(x, self.masks(n, self.config.seed))
        return np.concatenate([pairs, x], axis=-1)

    def grid_from_pairs(self, gan: GAN, pairs: np.ndarray) -> list[np.ndarray]:
        masked, completion, truth = pairs[..., :1], complete(gan, pairs[..., :2]), pairs[..., 2:]
        shown = masked * (1 - pairs[..., 1:2]) + (-1.0) * pairs[..., 1:2]
        return [shown, completion, truth]

    accepted_inputs = ("digits [N, 28, 28] or [N, 28, 28, 1] (the run's mask is applied) or masked inputs "
                       "[N, 28, 28, 2] (masked image, mask in {0, 1}), values in [-1, 1] or uint8 0..255")

    def translation_inputs(self, images, *, flag: str = "images", seed: int = 0) -> np.ndarray:
        """Masked inputs ``[N, 28, 28, 2]``: given as such, or made from digits with the run's mask.

        Digits ``[N, 28, 28(, 1)]`` get the run's mask (``config.mask``; a square's positions drawn
        by ``default_rng(seed)``); pairs ``[N, 28, 28, 2]`` are checked (:func:`check_pairs`).

        Raises:
            ValueError: another shape or range (the message names ``flag``).
        """
        from ganlib.translate.family import check_translation_images

        x = check_translation_images(images, flag=flag, accepted=self.accepted_inputs, channels=(1, 2))
        if x.shape[-1] == 2:
            if np.asarray(images).dtype == np.uint8:
                x[..., 1] = (x[..., 1] > 0).astype(np.float32)
            try:
                return check_pairs(x, flag)
            except ValueError as err:
                raise ValueError(f"{flag}: {err}") from err
        return tasks.masked_input(x, self.masks(len(x), seed))

    def shown_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """The masked images of the inputs (hidden pixels at the background, -1)."""
        return inputs[..., :1]

    def translate(self, gan: GAN, images: np.ndarray, **options: Any) -> np.ndarray:
        """Completions of masked inputs ``[N, 28, 28, 2]`` (see :func:`complete`)."""
        return complete(gan, images)

    # -- training ----------------------------------------------------------------------------------------------------

    def wrap_step(self, gan: GAN, step):
        """The pix2pix step (the module docstring), in place of the generic step (which it does not call)."""
        import tensorflow as tf

        from ganlib import losses as L
        from ganlib.translate.losses import pix2pix_generator_loss

        c = self.config
        d_loss_fn, g_loss_fn = L.for_config(c)
        G, D, rng = gan.generator, gan.discriminator, gan.noise
        g_opt, d_opt = gan.g_optimizer, gan.d_optimizer
        after = [comp.update for comp in gan.components if hasattr(comp, "update")]

        def pix2pix_step(real, z=None, labels=None):
            if labels is not None or z is not None:
                raise ValueError("A pix2pix step takes the real digits only: expected z=None and labels=None. "
                                 "Received: z or labels")
            real = tf.cast(real, tf.float32)
            m = tf_masks(c.mask, c.mask_size, rng, tf.shape(real)[0])
            x = tasks.masked_input(real, m)
            with tf.GradientTape() as g_tape:
                fake = G(x, training=True)
                with g_tape.stop_recording():
                    with tf.GradientTape() as d_tape:
                        real_logits = D(tf.concat([x, real], -1), training=True)
                        fake_logits = D(tf.concat([x, tf.stop_gradient(fake)], -1), training=True)
                        d_loss = d_loss_fn(real_logits, fake_logits)
                    if c.adv_weight:  # the L1-only baseline leaves D untrained
                        grads = d_tape.gradient(d_loss, D.trainable_variables)
                        d_opt.apply_gradients(zip(grads, D.trainable_variables))
                g_logits = D(tf.concat([x, fake], -1), training=True) if c.adv_weight else fake_logits
                g_loss, adv, l1 = pix2pix_generator_loss(g_logits, real, fake, adversarial=g_loss_fn,
                                                         adv_weight=c.adv_weight, l1_weight=c.l1_weight)
            grads = g_tape.gradient(g_loss, G.trainable_variables)
            g_opt.apply_gradients(zip(grads, G.trainable_variables))
            for update in after:
                update()
            return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": adv, "g_l1": l1,
                    "real_score": tf.reduce_mean(real_logits), "fake_score": tf.reduce_mean(fake_logits)}

        return pix2pix_step


def check_pairs(pairs: Any, name: str = "images") -> np.ndarray:
    """Check masked inputs: float ``[N, 28, 28, 2]``, channel 0 in [-1, 1], channel 1 (the mask) in {0, 1}.

    Raises:
        ValueError: another shape, non-finite values, or values out of range; the message names ``name``.
    """
    x = np.asarray(pairs)
    if x.ndim != 4 or x.shape[1:] != (28, 28, 2):
        raise ValueError(f"Expected {name} of shape [N, 28, 28, 2] (masked image, mask). "
                         f"Received: shape={list(x.shape)}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"Expected finite {name}. Received: values containing NaN or infinity")
    if len(x) and (x[..., 0].min() < -1 or x[..., 0].max() > 1):
        raise ValueError(f"Expected the masked image of {name} in [-1, 1]. "
                         f"Received values in [{x[..., 0].min():.3g}, {x[..., 0].max():.3g}]")
    if len(x) and not np.isin(x[..., 1], (0.0, 1.0)).all():
        raise ValueError(f"Expected the mask channel of {name} in {{0, 1}}. Received other values, e.g. "
                         f"{x[..., 1][~np.isin(x[..., 1], (0.0, 1.0))][:3].tolist()}")
    return x


def complete(gan: GAN, pairs: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Complete masked digits with a pix2pix run's generator (inference mode, the sampling generator).

    Args:
        gan: a GAN of the pix2pix family.
        pairs: float ``[N, 28, 28, 2]`` of :func:`ganlib.translate.tasks.masked_input`.
        batch_size: images per forward pass.

    Returns:
        float32 ``[N, 28, 28, 1]`` in [-1, 1]: :func:`ganlib.translate.tasks.paste` of the input and ``G(input)``.

    Raises:
        ValueError: pairs of another shape or range (see :func:`check_pairs`).
    """
    pairs = check_pairs(pairs)
    return tasks.paste(pairs, predict(gan.sampling_generator, pairs, batch_size))


__all__ = ["Pix2PixFamily", "STAT_KEYS", "check_pairs", "complete", "tf_masks"]
