"""CycleGAN for unpaired style transfer on MNIST: thin strokes (X) <-> bold strokes (Y).

Two generators, ``G: X -> Y`` (the GAN's ``generator``) and ``F: Y -> X`` (``generator_f``), and
two discriminators, ``D_Y`` (the GAN's ``discriminator``) and ``D_X`` (``discriminator_x``),
trained on the unpaired domains of :func:`ganlib.translate.tasks.stroke_domains`: X the first
half of the training digits as they are, Y the second half dilated (a 3x3 max filter on the
[-1, 1] image), so no pair (x, dilate(x)) is seen in training. The objective (Zhu et al. 2017,
eq. 3, with the identity loss of sec. 5.2)::

    L(G, F, D_X, D_Y) = L_GAN(G, D_Y, X, Y) + L_GAN(F, D_X, Y, X) + lambda L_cyc(G, F)
                        + 0.5 lambda L_identity(G, F)
    L_cyc(G, F) = E_x[ ||F(G(x)) - x||_1 ] + E_y[ ||G(F(y)) - y||_1 ]                  (eq. 2)
    L_identity(G, F) = E_y[ ||G(y) - y||_1 ] + E_x[ ||F(x) - x||_1 ]                    (sec. 5.2)

with the least-squares adversarial losses of sec. 4 ("Training details"): G minimises
``E_x[(D_Y(G(x)) - 1)^2]`` and D_Y minimises ``E_y[(D_Y(y) - 1)^2] + E_x[D_Y(G(x))^2]``, divided
by 2 ("we divide the objective by 2 while optimizing D"); lambda = ``config.cycle_weight`` (10)
and the identity weight ``config.identity_weight * lambda`` (0.5 lambda). ganlib's least-squares
generator loss carries a factor 1/2 (:func:`ganlib.losses.least_squares_generator_loss`), so the
step doubles it to give the paper's weight relative to lambda. Each step updates G and F
together (one Adam each, on one objective), then D_Y and D_X on the same fakes, as the
authors' code does. Adam(2e-4, beta_1 0.5) as in the paper.

Departures, for 28x28 digits on a CPU: the generators are the U-Net of
:func:`ganlib.translate.networks.build_unet` (dropout 0 by default) and the discriminators
the 18x18 PatchGAN, both with batch norm, instead of the paper's ResNet generator with
instance norm and 70x70 PatchGAN; batch 16 instead of 1; no history buffer of 50 generated
images for D; a constant learning rate (no linear decay). An epoch is ``N // batch_size`` steps,
each taking ``batch_size`` images of each domain (each half of the training set is seen twice
per epoch, in a new seeded order each pass).

References:
    Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", https://arxiv.org/abs/1703.10593.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ganlib.translate import tasks
from ganlib.translate.family import TranslationFamily, predict

if TYPE_CHECKING:  # annotations only
    from ganlib.train.state import GAN

STROKE_SIZE = 3  # the dilation's neighbourhood: Y = dilate(X, 3)


class StrokeEpochs:
    """The steps of a CycleGAN run's epochs: batches of (x, y) pairs of unpaired images, on channels.

    Each step's input is float32 ``[batch, 28, 28, 2]``: channel 0 a batch of domain X, channel 1 an
    independent batch of domain Y. The order of each domain in epoch ``e`` is the concatenation of
    permutations drawn by ``default_rng([seed, e, domain, pass])``, so a resumed run sees the same batches.
    """

    def __init__(self, family: "CycleGANFamily", images: np.ndarray, steps_per_epoch: int, make_runner):
        self.config = family.config
        self.x, self.y = tasks.stroke_domains(images, STROKE_SIZE)
        self.steps_per_epoch = steps_per_epoch
        self._run = make_runner()
        self.images_this_epoch = 2 * steps_per_epoch * self.config.batch_size

    def order(self, epoch: int, domain: int, count: int) -> np.ndarray:
        n = len(self.x)
        passes = -(-count // n)
        return np.concatenate([np.random.default_rng([self.config.seed, epoch, domain, p]).permutation(n)
                               for p in range(passes)])[:count]

    def run_epoch(self, epoch: int, skip: int = 0):
        """The steps of epoch ``epoch`` (1-based); ``skip``: steps already trained (a resume within the epoch)."""
        import tensorflow as tf

        count = self.steps_per_epoch * self.config.batch_size
        pairs = np.concatenate([self.x[self.order(epoch, 0, count)], self.y[self.order(epoch, 1, count)]], axis=-1)
        dataset = tf.data.Dataset.from_tensor_slices(pairs).batch(self.config.batch_size, drop_remainder=True)
        return self._run(dataset.skip(skip).prefetch(2), self.steps_per_epoch - skip)


class CycleGANFamily(TranslationFamily):
    """The CycleGAN family (``config.cyclegan``, the ``cyclegan`` preset): see the module docstring.

    Extras: ``generator_f`` (F: Y -> X), ``discriminator_x`` (D_X), their optimizers ``f_optimizer``
    and ``dx_optimizer``, ``grid_pairs`` and ``dropout_seeds``. The fixed grid shows, per group of ``grid_columns``
    training digits, rows x, G(x), y and F(y).
    """

    name = "cyclegan"
    extra_names = ("generator_f", "discriminator_x", "f_optimizer", "dx_optimizer", "grid_pairs", "dropout_seeds")
    grid_channels = 2  # x, y
    rows_per_item = 4
    accepted_inputs = "images [N, 28, 28] or [N, 28, 28, 1], values in [-1, 1] or uint8 0..255"

    def build_networks(self):
        from ganlib.train.precision import make_optimizer
        from ganlib.translate.networks import build_patchgan, build_unet

        c = self.config
        generator = build_unet(1, c.g_filters, dropout=c.dropout, name="generator")
        discriminator = build_patchgan(1, c.d_filters, batch_norm=c.d_batch_norm, name="discriminator")
        generator_f = build_unet(1, c.g_filters, dropout=c.dropout, name="generator_f")
        discriminator_x = build_patchgan(1, c.d_filters, batch_norm=c.d_batch_norm, name="discriminator_x")
        f_optimizer, dx_optimizer = make_optimizer(c, c.g_learning_rate), make_optimizer(c, c.d_learning_rate)
        f_optimizer.build(generator_f.trainable_variables)
        dx_optimizer.build(discriminator_x.trainable_variables)
        return generator, discriminator, {
            "generator_f": generator_f, "discriminator_x": discriminator_x, "f_optimizer": f_optimizer,
            "dx_optimizer": dx_optimizer, "grid_pairs": self.grid_variable(math.isqrt(c.num_samples)),
            "dropout_seeds": self.dropout_seeds(generator, generator_f)}

    def grid_pairs_from(self, images: np.ndarray, n: int) -> np.ndarray:
        x, y = tasks.stroke_domains(images, STROKE_SIZE)
        x, y = np.resize(x[:n], (n, 28, 28, 1)), np.resize(y[:n], (n, 28, 28, 1))
        return np.concatenate([x, y], axis=-1)

    def grid_from_pairs(self, gan: GAN, pairs: np.ndarray) -> list[np.ndarray]:
        x, y = pairs[..., :1], pairs[..., 1:]
        return [x, predict(gan.sampling_generator, x), y, predict(gan.generator_f, y)]

    def translate(self, gan: GAN, images: np.ndarray, *, direction: str = "forward", **options: Any) -> np.ndarray:
        """``G(images)`` (``direction="forward"``, thin -> bold) or ``F(images)`` (``"backward"``), inference mode.

        Raises:
            ValueError: another direction.
        """
        if direction not in ("forward", "backward"):
            raise ValueError(f"Expected direction 'forward' (G: X -> Y) or 'backward' (F: Y -> X). "
                             f"Received: direction={direction!r}")
        return predict(gan.sampling_generator if direction == "forward" else gan.generator_f, images)

    def epoch_runner(self, gan: GAN, images, labels, steps_per_epoch: int, make_runner) -> StrokeEpochs:
        gan.grid_pairs.assign(self.grid_pairs_from(images, int(gan.grid_pairs.shape[0])))
        return StrokeEpochs(self, images, steps_per_epoch, make_runner)

    def wrap_step(self, gan: GAN, step):
        """The CycleGAN step (the module docstring), in place of the generic step (which it does not call)."""
        import tensorflow as tf

        from ganlib import losses as L
        from ganlib.translate.losses import cycle_consistency_loss, identity_loss

        c = self.config
        d_loss_fn, g_loss_fn = L.for_config(c)
        adv_scale = 2.0 if c.generator_loss == "least_squares" else 1.0  # the paper's E[(D(G(x)) - 1)^2]
        G, F, D_Y, D_X = gan.generator, gan.generator_f, gan.discriminator, gan.discriminator_x
        g_opt, f_opt, dy_opt, dx_opt = gan.g_optimizer, gan.f_optimizer, gan.d_optimizer, gan.dx_optimizer
        lam, lam_id = c.cycle_weight, c.identity_weight * c.cycle_weight
        after = [comp.update for comp in gan.components if hasattr(comp, "update")]

        def cyclegan_step(real, z=None, labels=None):
            if labels is not None or z is not None:
                raise ValueError("A CycleGAN step takes (x, y) image pairs only: expected z=None and labels=None. "
                                 "Received: z or labels")
            real = tf.cast(real, tf.float32)
            x, y = real[..., :1], real[..., 1:]
            with tf.GradientTape(persistent=True) as tape:
                fake_y, fake_x = G(x, training=True), F(y, training=True)
                cycled_x, cycled_y = F(fake_y, training=True), G(fake_x, training=True)
                adv = adv_scale * (g_loss_fn(D_Y(fake_y, training=True)) + g_loss_fn(D_X(fake_x, training=True)))
                cyc = cycle_consistency_loss(x, cycled_x, y, cycled_y)
                idt = identity_loss(x, F(x, training=True), y, G(y, training=True)) if lam_id else tf.constant(0.0)
                g_loss = adv + lam * cyc + lam_id * idt
            for net, opt in ((G, g_opt), (F, f_opt)):
                opt.apply_gradients(zip(tape.gradient(g_loss, net.trainable_variables), net.trainable_variables))
            del tape
            with tf.GradientTape(persistent=True) as tape:
                real_y, real_x = D_Y(y, training=True), D_X(x, training=True)
                d_y = d_loss_fn(real_y, D_Y(tf.stop_gradient(fake_y), training=True))
                d_x = d_loss_fn(real_x, D_X(tf.stop_gradient(fake_x), training=True))
            for net, opt, loss in ((D_Y, dy_opt, d_y), (D_X, dx_opt, d_x)):
                opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
            del tape
            for update in after:
                update()
            return {"d_loss": d_y + d_x, "g_loss": g_loss, "g_adv": adv, "cycle": cyc, "identity": idt,
                    "real_score": 0.5 * (tf.reduce_mean(real_y) + tf.reduce_mean(real_x))}

        return cyclegan_step


def evaluate_strokes(gan: GAN, test_images: np.ndarray, test_labels: np.ndarray, *,
                     weights_dir: str | None = None) -> dict[str, float]:
    """CycleGAN's figures on test digits, where the true translation ``dilate(x)`` is known.

    Args:
        gan: a GAN of the CycleGAN family.
        test_images: thin digits, float ``[N, 28, 28, 1]`` in [-1, 1].
        test_labels: their classes, ints ``[N]``.

    Returns:
        ``translation_error`` (L1 of G(x) to dilate(x)), ``backward_error`` (L1 of F(dilate(x)) to x),
        ``class_kept`` (the shipped classifier's accuracy on G(x)), ``class_kept_backward`` (on
        F(dilate(x))), ``cycle_error`` (L1 of F(G(x)) to x) and, for scale, ``identity_error`` (L1 of x to
        dilate(x): the error of a translator that changes nothing); errors in [0, 2], shares in [0, 1].
    """
    from ganlib.translate import metrics

    x = np.asarray(test_images, np.float32)
    y = tasks.dilate(x, STROKE_SIZE)
    g_x = predict(gan.sampling_generator, x)
    f_y = predict(gan.generator_f, y)
    return {"translation_error": metrics.translation_error(y, g_x),
            "backward_error": metrics.translation_error(x, f_y),
            "class_kept": metrics.class_kept(g_x, test_labels, weights_dir=weights_dir),
            "class_kept_backward": metrics.class_kept(f_y, test_labels, weights_dir=weights_dir),
            "cycle_error": metrics.translation_error(x, predict(gan.generator_f, g_x)),
            "identity_error": metrics.translation_error(y, x)}


__all__ = ["CycleGANFamily", "STROKE_SIZE", "StrokeEpochs", "evaluate_strokes"]
