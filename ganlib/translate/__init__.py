"""Image-to-image translation at 28x28: pix2pix inpainting and CycleGAN thin <-> bold strokes.

Two model families that plug into the training engine through the family seam
(:mod:`ganlib.train.family`: one registry entry each, selected by ``TrainConfig.pix2pix`` and
``TrainConfig.cyclegan``, the ``pix2pix`` and ``cyclegan`` presets):

=====================  ==========================================================================
module                 what it holds
=====================  ==========================================================================
``networks``           the U-Net generator and the PatchGAN discriminator, :func:`receptive_field`
``tasks``              the inpainting masks and masked input, the dilation and the stroke domains
``losses``             L1 (pix2pix eq. 3), pix2pix's generator objective (eq. 4), cycle
                       consistency (CycleGAN eq. 2) and the identity loss (CycleGAN sec. 5.2)
``family``             what both families share at the seam (a grid of fixed input images)
``pix2pix``            :class:`~ganlib.translate.pix2pix.Pix2PixFamily` and its step
``cyclegan``           :class:`~ganlib.translate.cyclegan.CycleGANFamily` and its step
``metrics``            L1 and PSNR on the mask, FCD and classifier accuracy of completions,
                       translation and cycle errors
=====================  ==========================================================================

Apply a trained translator with ``python -m ganlib translate RUN --input FILE.npy --out OUT.png``.
Importing this package imports neither TensorFlow nor Keras.

References:
    Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks",
    https://arxiv.org/abs/1611.07004.
    Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", https://arxiv.org/abs/1703.10593.
"""
