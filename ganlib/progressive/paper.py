"""The progressive GAN's settings as the paper gives them (Karras et al. 2018, appendix A.1), at MNIST size.

Plain constants, importable without TensorFlow: the ``pggan`` preset of :mod:`ganlib.config`
is built from them, and the layers and networks of :mod:`ganlib.progressive` use them.

References:
    Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
    Variation", https://arxiv.org/abs/1710.10196, appendix A.1.
"""

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

__all__ = ["ADAM", "DRIFT_WEIGHT", "FULL_RESOLUTION", "GP_WEIGHT", "INPUT_DOWNSAMPLING", "LEAKY_SLOPE",
           "MBSTD_EPSILON", "MBSTD_GROUP_SIZE", "NUM_STAGES", "N_CRITIC", "PIXEL_NORM_EPSILON", "RESOLUTIONS"]
