"""One config object for a training run, and the presets of the GAN objective family.

Everything a GAN variant needs beyond its loss functions (n_critic, weight
clipping, gradient-penalty weight, optimizer settings, critic architecture) is
data in :class:`TrainConfig`; a preset is a named set of those values. Any
field can be overridden: ``get_config("wgan-gp", epochs=3, n_critic=3)``.

Presets and their papers (ganlib's departures in brackets):

=========  ===============================================================================
gan        Goodfellow et al. 2014 (https://arxiv.org/abs/1406.2661): minimax D loss with the
           *saturating* generator loss log(1 - D(G(z))). [The paper used MLPs and SGD with
           momentum; ganlib uses the DCGAN networks and Adam(2e-4, 0.5) so that the only
           difference from ``dcgan`` is the generator loss. The simultaneous update (below)
           instead of the paper's Algorithm 1, which updates G after D with fresh noise.]
dcgan      Radford et al. 2016 (https://arxiv.org/abs/1511.06434): minimax D loss, non-saturating
           G loss, Adam(2e-4, beta_1=0.5), batch norm. [Smaller networks for 28x28; batch 64
           instead of 128, which gives twice the updates per epoch on a CPU; the simultaneous
           update.]
lsgan      Mao et al. 2017 (https://arxiv.org/abs/1611.04076): least squares with a=0, b=c=1,
           Adam(2e-4, beta_1=0.5) as in the paper. [DCGAN networks instead of the paper's; the
           simultaneous update.]
wgan       Arjovsky et al. 2017 (https://arxiv.org/abs/1701.07875): Wasserstein loss, weight
           clipping c=0.01 (before and after every critic update), RMSprop(5e-5), n_critic=5,
           each critic update on its own real batch, as in the paper's Algorithm 1.
           [Batch 16 instead of the paper's 64: at RMSprop(5e-5) the generator
           moves slowly per update, and batch 16 gives four times the generator updates per
           epoch (750 at batch 16) for little more time per update; Keras's RMSprop and
           initialisers instead of the paper code's warm-up, N(0, 0.02) initialisation and
           rho 0.99. Measurement: docs/decisions/003-wgan-batch-and-algorithm.md.]
wgan-gp    Gulrajani et al. 2017 (https://arxiv.org/abs/1704.00028): Wasserstein loss plus
           gradient penalty lambda=10, Adam lr 1e-4 and beta_2 0.9, n_critic=5, batch 64, each critic
           update on its own real batch, critic without batch norm: the defaults of the paper's
           Algorithm 1 ("lambda = 10, n_critic = 5, alpha = 0.0001, beta_1 = 0, beta_2 = 0.9", m = 64).
           [beta_1 = 0.5 instead of Algorithm 1's 0, as in the authors' MNIST script (gan_mnist.py
           of igul222/improved_wgan_training, which also uses batch 50); DCGAN-style networks for
           28x28 instead of the paper's ResNets and MLPs.]
hinge      Lim & Ye 2017 (https://arxiv.org/abs/1705.02894), Miyato et al. 2018
           (https://arxiv.org/abs/1802.05957): hinge D loss, G loss -D(G(z)), Adam(2e-4, 0.5),
           n_critic=1. [No spectral normalization (see ``sngan``); the discriminator keeps batch
           norm; the simultaneous update.]
sngan      Miyato et al. 2018 (https://arxiv.org/abs/1802.05957): hinge loss, spectral normalization
           of every critic layer (both convolutions and the dense logit), no batch norm in the
           critic, Adam(2e-4, beta_1=0.5, beta_2=0.999), n_critic=1: the paper's setting C (its
           table 1), chosen against setting A and the authors' code's Adam(2e-4, 0, 0.9) with
           n_critic=5 (docs/decisions/002-sngan-settings.md). [DCGAN networks instead of the paper's;
           keras.layers.SpectralNormalization differs from the paper's algorithm 1, see
           ganlib.models.build_discriminator; Algorithm 1's alternating update, as measured.]
pggan      Karras et al. 2018 (https://arxiv.org/abs/1710.10196): progressive growing 7x7 -> 14x14 ->
           28x28 with fade-ins (``progressive=True``; ``ganlib.progressive``, ``ganlib.progressive.family``),
           pixel norm, minibatch standard deviation, equalized learning rate, WGAN-GP lambda=10 with
           the drift term epsilon_drift=0.001, Adam(1e-3, 0, 0.99, eps 1e-8), n_critic=1, batch 16,
           both optimizers reset at every phase change. [Resolutions 7-14-28 and widths 64/32/16
           (``g_filters = d_filters = 16``) instead of 4-8-...-1024 and 512 maps; a shorter schedule
           (``stabilize_images``, ``fade_images``) than the paper's 800k images per phase; no weight
           averaging by default (``ema``); the other departures are listed in ganlib.progressive.]
           Measurement: docs/decisions/009-pggan-preset.md.
pix2pix    Isola et al. 2017 (https://arxiv.org/abs/1611.07004): inpainting MNIST digits
           (``pix2pix=True``; ``ganlib.translate``): a U-Net generator on the masked input (masked image,
           mask), a PatchGAN discriminator on the (input, output) pair, G* = arg min_G max_D L_cGAN + lambda
           L_L1 (eq. 4) with lambda = 100, Adam(2e-4, 0.5), batch norm, dropout 0.5, no noise z. [28 -> 14 -> 7
           U-Net and an 18x18 PatchGAN instead of the 256x256 networks; the lower-half mask; batch 64
           instead of 1-10; inference with moving statistics and no dropout. Measurement:
           docs/decisions/016-inpainting-and-strokes.md.]
cyclegan   Zhu et al. 2017 (https://arxiv.org/abs/1703.10593): thin <-> bold digits (``cyclegan=True``;
           ``ganlib.translate.cyclegan``), least-squares adversarial losses (sec. 4), cycle consistency
           lambda = 10 (eq. 2-3), identity loss 0.5 lambda (sec. 5.2), Adam(2e-4, 0.5). [U-Net generators and
           18x18 PatchGANs with batch norm instead of ResNets with instance norm and 70x70 PatchGANs; batch 16
           instead of 1; no history buffer of generated images; no learning-rate decay.]
=========  ===============================================================================

The simultaneous update (``simultaneous_update=True``, the n_critic = 1 presets) takes the
discriminator's and the generator's gradients from one forward pass at the same parameters,
as the TensorFlow DCGAN tutorial does, instead of updating the generator against the
updated discriminator with fresh noise (``False``, the papers' Algorithm 1). It is the
default of the n_critic = 1 presets because it reaches a given FCD sooner in wall time:
docs/decisions/001-update-rule.md.

Stabilisers, none on by default, because none beat plain ``dcgan`` on MNIST at an equal
wall-clock budget (docs/decisions/008-stabilisers-off.md):

* TTUR (Heusel et al. 2017, https://arxiv.org/abs/1706.08500): the settings of Zhang et al.
  2019 (SAGAN, https://arxiv.org/abs/1805.08318), ``g_learning_rate=1e-4,
  d_learning_rate=4e-4, beta_1=0.0, beta_2=0.9``, on the dcgan networks;
* ``ema`` (Karras et al. 2018; Yazici et al. 2019): decays 0.99 and 0.999;
* ``real_label=0.9``: one-sided label smoothing (Salimans et al. 2016);
* ``sngan``: spectral normalization with the hinge loss (Miyato et al. 2018).

``make demo`` trains ``dcgan`` for 10 epochs instead of the 5 of ``epochs``' default: training
longer is what lowers its FCD (docs/decisions/008-stabilisers-off.md).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganlib import checks
from ganlib.checks import argparse_type
from ganlib.data import DATASETS
from ganlib.progressive import paper as PGGAN

OPTIMIZERS = ("adam", "rmsprop")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
G_LABEL_INPUTS = ("embedding", "one_hot")  # how a conditional generator takes its label (ganlib.models)
D_LABEL_INPUTS = ("projection", "concat")  # how a conditional discriminator takes it
MASKS = ("square", "lower_half")  # the regions a pix2pix run hides (ganlib.translate.tasks)
# The keys of ganlib.losses.DISCRIMINATOR_LOSSES / GENERATOR_LOSSES (tests/test_config.py checks that they agree),
# named here so that validating a config does not import TensorFlow.
DISCRIMINATOR_LOSS_NAMES = ("minimax", "least_squares", "wasserstein", "hinge", "relativistic")
GENERATOR_LOSS_NAMES = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge", "relativistic")
# The policies of ganlib.augment.POLICIES (tests/test_augment.py checks that they agree), named here for the same reason.
DIFFAUGMENT_POLICIES = ("translation", "cutout")


def diffaugment_policies(text: str) -> tuple[str, ...]:
    """The policy names of a ``diffaugment`` text, in order: ``"translation,cutout"`` -> ``("translation", "cutout")``.

    Spaces around names are ignored; ``""`` gives ``()`` (no augmentation).

    Raises:
        ValueError: not a string, an unknown name or a name given twice; the message names ``--diffaugment``.
    """
    if not isinstance(text, str):
        raise checks.CheckError("diffaugment", "a comma-separated string of " + ", ".join(DIFFAUGMENT_POLICIES)
                                + " (--diffaugment)", text)
    names = tuple(part.strip() for part in text.split(",")) if text.strip() else ()
    unknown = [n for n in names if n not in DIFFAUGMENT_POLICIES]
    if unknown or len(set(names)) != len(names):
        raise checks.CheckError("diffaugment", "comma-separated names of " + ", ".join(DIFFAUGMENT_POLICIES)
                                + ", each at most once (--diffaugment translation,cutout; '': none)", text)
    return names


def _parse_diffaugment(text: str) -> str:
    """The argparse type of ``--diffaugment``: the text, checked (argparse's message names the flag)."""
    try:
        diffaugment_policies(text)
    except checks.CheckError as err:
        raise argparse.ArgumentTypeError(f"expected {err.expected}, received {text!r}") from None
    return text


# argparse types of the train command's config flags (see _field): a check of ganlib.checks on the parsed text.
_POSITIVE_INT = argparse_type(checks.positive_int)
_NON_NEGATIVE_INT = argparse_type(checks.non_negative_int)
_AT_LEAST_TWO = argparse_type(checks.int_at_least, minimum=2, note="a covariance needs 2 images")
_POSITIVE_NUMBER = argparse_type(checks.positive_number, float)
_NON_NEGATIVE_NUMBER = argparse_type(checks.non_negative_number, float)
_UNIT_INTERVAL = argparse_type(checks.number_in, float, low=0, high=1, high_open=True)


def _field(default: Any, help: str, flag: str | None = None, **argparse_kwargs: Any) -> Any:
    """A :class:`TrainConfig` field whose meaning is written once, in ``help``.

    ``python -m ganlib train`` adds one flag per field with a ``flag`` (:mod:`ganlib.cli`): its argparse
    ``help`` is ``help``, its ``dest`` the field's name and its default None (the preset's value); the other
    keywords go to ``add_argument`` (``type``, ``choices``, ``nargs``, ``metavar``, ``action``). A field with a
    bool default gets ``--flag/--no-flag``. ``none_text="none"`` lets the flag's text ``none`` stand for the
    field's None. ``TrainConfig.field_help(name)`` returns ``help``.
    """
    metadata = {"help": help, **({"flag": flag} if flag else {}), **argparse_kwargs}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. Build one with :func:`get_config`.

    Each field's meaning, range, units and paper are in its help, written once: read it with
    ``TrainConfig.field_help("n_critic")``, ``dataclasses.fields(TrainConfig)[i].metadata["help"]`` or
    ``python -m ganlib train --help`` (which has a flag per field, see :mod:`ganlib.cli`). Invalid values and
    combinations are refused on construction with a ``ValueError`` that says what was expected
    (see :func:`_validate`).
    """

    preset: str = _field("dcgan", "name of the preset the values came from (informative; 'train --preset' "
                         "chooses it)")
    dataset: str = _field("mnist", "training data set: MNIST or Fashion-MNIST (28x28 grey images, 10 classes)",
                          "--dataset", choices=DATASETS)
    epochs: int = _field(5, "passes over the training data, >= 1 (a resumed run continues up to it)", "--epochs",
                         type=_POSITIVE_INT)
    batch_size: int = _field(64, "real images per critic update, >= 1 (the noise batch matches it)",
                             "--batch-size", type=_POSITIVE_INT)
    train_size: int | None = _field(None, "use only the first N training images, >= 1 (None: all 60,000)",
                                    "--train-size", type=_POSITIVE_INT)
    latent_dim: int = _field(100, "size of the latent vector z, >= 1", "--latent-dim", type=_POSITIVE_INT)
    seed: int = _field(0, "seed of the initial weights, the fixed latent batch, the data order and the noise, >= 0",
                       "--seed", type=_NON_NEGATIVE_INT)
    discriminator_loss: str = _field("minimax", "discriminator/critic loss (the keys of "
                                     "ganlib.losses.DISCRIMINATOR_LOSSES)", "--loss",
                                     choices=DISCRIMINATOR_LOSS_NAMES)
    generator_loss: str = _field("non_saturating", "generator loss (the keys of ganlib.losses.GENERATOR_LOSSES)",
                                 "--generator-loss", choices=GENERATOR_LOSS_NAMES)
    real_label: float = _field(1.0, "one-sided label smoothing (Salimans et al. 2016): target of the real images "
                               "in the minimax discriminator loss, in (0, 1]; 0.9 smooths, 1 does not. Only with "
                               "discriminator_loss minimax", "--real-label", type=_POSITIVE_NUMBER)
    optimizer: str = _field("adam", "optimizer of both networks, one instance each", "--optimizer",
                            choices=OPTIMIZERS)
    g_learning_rate: float = _field(2e-4, "generator learning rate, > 0", "--g-lr", type=_POSITIVE_NUMBER)
    d_learning_rate: float = _field(2e-4, "discriminator/critic learning rate, > 0", "--d-lr", type=_POSITIVE_NUMBER)
    beta_1: float = _field(0.5, "Adam's first-moment decay rate beta_1, in [0, 1) (ignored by RMSprop)", "--beta-1",
                           type=_UNIT_INTERVAL)
    beta_2: float = _field(0.999, "Adam's second-moment decay rate beta_2, in [0, 1) (ignored by RMSprop)",
                           "--beta-2", type=_UNIT_INTERVAL)
    n_critic: int = _field(1, "critic updates per generator update, >= 1, each on its own real batch: one "
                           "generator iteration reads n_critic * batch_size images", "--n-critic", type=_POSITIVE_INT)
    clip_value: float | None = _field(None, "WGAN weight clipping: every critic weight is clipped to [-c, c] after "
                                      "each critic update (Arjovsky et al. 2017: c = 0.01); c > 0, or None ('none') "
                                      "for no clipping", "--clip-value", type=_POSITIVE_NUMBER, none_text="none")
    gp_weight: float = _field(0.0, "gradient-penalty weight lambda >= 0 (Gulrajani et al. 2017: 10; 0: none); "
                              "needs d_batch_norm off", "--gp-weight", type=_NON_NEGATIVE_NUMBER)
    r1_gamma: float = _field(0.0, "R1 penalty weight gamma >= 0: (gamma / 2) * mean ||grad_x D(x)||^2 on real "
                             "images (Mescheder et al. 2018, eq. 9; 0: none); needs d_batch_norm off", "--r1-gamma",
                             type=_NON_NEGATIVE_NUMBER)
    r2_gamma: float = _field(0.0, "R2 penalty weight gamma >= 0: the same on generated images (Mescheder et al. "
                             "2018, eq. 10; 0: none); needs d_batch_norm off", "--r2-gamma", type=_NON_NEGATIVE_NUMBER)
    reg_interval: int = _field(1, "lazy regularisation: apply R1 and R2 on every k-th step only, as a separate critic "
                               "update with their weight multiplied by k (Karras et al. 2020, section 3.1: k = 16; "
                               "one replica only); 1: in every critic update",
                               "--reg-interval", type=_POSITIVE_INT)
    g_filters: int = _field(64, "width of the generator: channels of its last hidden layer, >= 1", "--g-filters",
                            type=_POSITIVE_INT)
    d_filters: int = _field(64, "width of the discriminator: channels of its first layer, >= 1", "--d-filters",
                            type=_POSITIVE_INT)
    d_batch_norm: bool = _field(True, "batch normalization in the discriminator (refused with a gradient penalty: "
                                "off for a WGAN-GP critic)", "--d-batch-norm")
    spectral_norm: bool = _field(False, "spectral normalization of every discriminator layer (Miyato et al. 2018; "
                                 "see ganlib.models.build_discriminator); needs d_batch_norm off (--no-d-batch-norm)",
                                 "--spectral-norm")
    num_samples: int = _field(64, "images in each epoch's fixed-z sample grid, a square number", "--num-samples",
                              type=_POSITIVE_INT)
    eval_every: int = _field(0, "every K epochs, add FCD, classifier score and classes covered (ganlib.metrics) to "
                             "the epoch's row of history.csv (0: never; see 'evaluate')", "--eval-every",
                             type=_NON_NEGATIVE_INT)
    eval_samples: int = _field(10_000, "generated images per evaluation, >= 2; FCD is biased upward for small N, "
                               "so compare only figures taken with the same N (10,000 matches 'evaluate' and the "
                               "README's table)", "--eval-samples", type=_AT_LEAST_TWO)
    simultaneous_update: bool = _field(False, "n_critic = 1 only: take both gradients from one forward pass (as the "
                                       "TensorFlow DCGAN tutorial does) instead of updating G after D against its "
                                       "new weights (Algorithm 1; see ganlib.train.step.make_train_step)",
                                       "--simultaneous-update")
    ema: float = _field(0.0, "decay of an exponential moving average of the generator's weights, in [0, 1) "
                        "(0: none); grids, the GIF, 'sample' and 'evaluate' then use the averaged generator", "--ema",
                        type=_UNIT_INTERVAL)
    precision: str = _field("float32", "float32; mixed_float16 (GPUs: float16 computations, float32 weights, loss "
                            "scaling); mixed_bfloat16 (TPUs and recent CPUs: bfloat16 computations, float32 "
                            "weights; see benchmarks/README.md for a CPU)", "--precision", choices=PRECISIONS)
    num_replicas: int = _field(1, "replicas of the tf.distribute.Strategy the run trains on, >= 1: set by the "
                               "training loop from the strategy and recorded in config.json, so that a run resumes "
                               "only on as many replicas (each replica's batch-norm statistics and noise stream "
                               "depend on it)")
    conditional: bool = _field(False, "class-conditional networks (Mirza & Osindero 2014, "
                               "https://arxiv.org/abs/1411.1784): the generator draws G(z, y) for a requested class "
                               "y, the discriminator judges D(x, y), the training labels flow through the data "
                               "pipeline (ganlib.models); ask for a digit with 'sample --digit', morph between "
                               "classes with 'interpolate --morph'", "--conditional")
    g_label_input: str = _field("embedding", "how a conditional generator takes y: embedding (a learned 50-d "
                                "vector) or one_hot (the one-hot vector), concatenated to z", "--g-label-input",
                                choices=G_LABEL_INPUTS)
    d_label_input: str = _field("projection", "how a conditional discriminator takes y: projection (Miyato & "
                                "Koyama 2018, https://arxiv.org/abs/1802.05637) or concat (one-hot label maps "
                                "concatenated to the image's channels, as keras-io's conditional GAN does)",
                                "--d-label-input", choices=D_LABEL_INPUTS)
    frames_per_decade: int = _field(24, "training-GIF frames per factor of 10 in step + frame_offset, >= 0: the "
                                    "fixed-z grid is drawn at step 0 (the untrained generator) and at the steps "
                                    "round(frame_offset * 10 ** (k / frames_per_decade)) - frame_offset, k = 1, 2, "
                                    "..., dense early and sparser later; 24 gives 46 frames over the default 5 "
                                    "epochs of 937 steps (the measurement behind the defaults: docs/decisions/005-frame-schedule.md). "
                                    "0: none; then one frame per epoch unless frame_every", "--frames-per-decade",
                                    type=_NON_NEGATIVE_INT)
    frame_offset: int = _field(100, "steps added before the logarithm of the frame schedule, >= 0: the first frames "
                               "are about frame_offset * ln(10) / frames_per_decade steps apart (10 for the "
                               "defaults), later ones about 10% of their step apart (0: pure log spacing, a frame "
                               "at each of the first steps)", "--frame-offset", type=_NON_NEGATIVE_INT)
    frame_every: int = _field(0, "also a training-GIF frame every K generator steps, >= 0 (0: never)",
                              "--frame-every", type=_NON_NEGATIVE_INT)
    drift_weight: float = _field(0.0, "epsilon_drift >= 0: weight of the drift term mean[D(x)^2] added to a "
                                 "Wasserstein critic's loss (Karras et al. 2018, appendix A.1: 0.001; "
                                 "a critic term of ganlib.penalties; 0: none)", "--drift-weight", type=_NON_NEGATIVE_NUMBER)
    progressive: bool = _field(False, "grow both networks 7x7 -> 14x14 -> 28x28 (Karras et al. 2018, "
                               "https://arxiv.org/abs/1710.10196; ganlib.progressive; preset "
                               "pggan): an epoch is then N // (n_critic * batch_size) generator iterations, each "
                               "taking n_critic * stage_batch_sizes[stage] real images, and g_filters / d_filters "
                               "are the widths at 28x28", "--progressive")
    stabilize_images: tuple[int, int, int] = _field(
        (20_000, 15_000, 25_000), "progressive: real images shown at alpha = 1 at 7x7, 14x14 and 28x28 (each >= 0); "
        "after the schedule, training goes on at 28x28", "--stabilize-images", type=_NON_NEGATIVE_INT, nargs=3,
        metavar=("N7", "N14", "N28"))
    fade_images: tuple[int, int] = _field(
        (15_000, 15_000), "progressive: real images shown while 14x14 and 28x28 fade in (each >= 0; 0: no fade-in)",
        "--fade-images", type=_NON_NEGATIVE_INT, nargs=2, metavar=("N14", "N28"))
    stage_batch_sizes: tuple[int, int, int] = _field(
        (16, 16, 16), "progressive: real images per critic update at 7x7, 14x14 and 28x28 (each >= 1)",
        "--stage-batch-sizes", type=_POSITIVE_INT, nargs=3, metavar=("B7", "B14", "B28"))
    # Image-to-image translation (ganlib.translate): pix2pix inpainting and CycleGAN thin <-> bold strokes.
    pix2pix: bool = _field(False, "pix2pix (Isola et al. 2017, https://arxiv.org/abs/1611.07004; ganlib.translate; "
                           "preset pix2pix): a U-Net generator completes digits whose masked region is hidden, "
                           "a PatchGAN discriminator judges (masked input, completion) pairs; g_filters / "
                           "d_filters are their widths", "--pix2pix")
    mask: str = _field("lower_half", "pix2pix: the region hidden from the generator: square (a mask_size x mask_size "
                       "square at a random position, a new one per image and step) or lower_half (rows 14-27; the default, "
                       "docs/decisions/016-inpainting-and-strokes.md)",
                       "--mask", choices=MASKS)
    mask_size: int = _field(14, "pix2pix: side of the square mask in pixels, 1..28", "--mask-size",
                            type=_POSITIVE_INT)
    l1_weight: float = _field(100.0, "pix2pix: lambda, the weight of the L1 term of the generator's objective, >= 0 "
                              "(Isola et al. 2017, eq. 4: lambda = 100)", "--l1-weight", type=_NON_NEGATIVE_NUMBER)
    adv_weight: float = _field(1.0, "pix2pix: lambda_adv, the weight of the generator's adversarial (cGAN) term, "
                               ">= 0; 0 trains the same U-Net with L1 only (the paper's 'L1' baseline) and skips the "
                               "discriminator's updates", "--adv-weight", type=_NON_NEGATIVE_NUMBER)
    dropout: float = _field(0.5, "pix2pix and CycleGAN: dropout rate of the U-Net's first decoder layers in "
                            "training, in [0, 1) (Isola et al. 2017, sec. 3.2.1 and 6.1.1: 0.5; 0: none)",
                            "--dropout", type=_UNIT_INTERVAL)
    cyclegan: bool = _field(False, "CycleGAN (Zhu et al. 2017, https://arxiv.org/abs/1703.10593; ganlib.translate; "
                            "preset cyclegan): generators G: thin -> bold and F: bold -> thin and a PatchGAN "
                            "discriminator per domain, trained on unpaired images of disjoint halves of the "
                            "training set", "--cyclegan")
    cycle_weight: float = _field(10.0, "CycleGAN: lambda, the weight of the cycle-consistency loss, >= 0 (Zhu et "
                                 "al. 2017, eq. 3: lambda = 10)", "--cycle-weight", type=_NON_NEGATIVE_NUMBER)
    identity_weight: float = _field(0.5, "CycleGAN: weight of the identity loss as a fraction of cycle_weight, >= 0 "
                                    "(Zhu et al. 2017, sec. 5.2: 0.5 lambda; 0: none)", "--identity-weight",
                                    type=_NON_NEGATIVE_NUMBER)
    # Data-efficient training (ganlib.augment): a component every family can use.
    diffaugment: str = _field(
        "", "DiffAugment policy (Zhao et al. 2020, https://arxiv.org/abs/2006.10738): comma-separated transforms "
        "of " + ", ".join(DIFFAUGMENT_POLICIES) + " applied, differentiably, to every real and generated image the "
        "discriminator sees, in both updates (ganlib.augment; '': none)", "--diffaugment", type=_parse_diffaugment,
        metavar="POLICY")

    def __post_init__(self) -> None:
        # Lists (from config.json or the command line) become tuples, so that equal configs compare equal;
        # numpy scalars become Python numbers, so that the config stays JSON-serialisable.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            elif isinstance(value, np.generic):
                object.__setattr__(self, f.name, value.item())
        _validate(self)

    @classmethod
    def field_help(cls, name: str) -> str:
        """The help of field ``name``: its meaning, range and units, as ``train --help`` shows it.

        Raises:
            ValueError: ``name`` is not a field of TrainConfig.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        checks.one_of("name", name, list(fields), what="config field")
        return fields[name].metadata["help"]

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown config fields: {sorted(unknown)}. Expected fields of TrainConfig.")
        return cls(**values)


# Fields that may change between a run and its resumption without changing what the run is.
RESUMABLE_CHANGES = frozenset({"epochs", "eval_every", "eval_samples"})

PROGRESSIVE_REFUSED = {"conditional": True, "spectral_norm": True, "d_batch_norm": True, "simultaneous_update": True}
"""Settings a progressive config refuses: its networks (:mod:`ganlib.progressive`) have no label input, no
spectral or batch normalization, and its step alternates the updates as the paper does."""


def _validate(c: TrainConfig) -> None:
    """Refuse an invalid value or combination with a ``ValueError`` that says what was expected.

    Single values are checked by :mod:`ganlib.checks` (``"<name> must be ... Received: <name>=<value>"``);
    combinations (a gradient penalty with batch norm, ``simultaneous_update`` with ``n_critic > 1``, ...) here.
    """
    for name in ("epochs", "batch_size", "latent_dim", "n_critic", "g_filters", "d_filters", "num_samples",
                 "num_replicas"):
        checks.positive_int(name, getattr(c, name))
    checks.positive_int("train_size", c.train_size, allow_none=True, note="None: every training image")
    checks.non_negative_int("seed", c.seed)
    checks.non_negative_int("eval_every", c.eval_every, note="0: never")
    checks.int_at_least("eval_samples", c.eval_samples, 2, note="a covariance needs 2 images")
    checks.one_of("dataset", c.dataset, DATASETS, what="data set")
    checks.one_of("discriminator_loss", c.discriminator_loss, DISCRIMINATOR_LOSS_NAMES)
    checks.one_of("generator_loss", c.generator_loss, GENERATOR_LOSS_NAMES)
    checks.one_of("optimizer", c.optimizer, OPTIMIZERS)
    for name in ("g_learning_rate", "d_learning_rate"):
        checks.positive_number(name, getattr(c, name))
    for name in ("beta_1", "beta_2"):
        checks.number_in(name, getattr(c, name), 0, 1, high_open=True, kind=None)
    checks.positive_number("clip_value", c.clip_value, allow_none=True, note="None: no clipping")
    checks.non_negative_number("gp_weight", c.gp_weight, note="0: no penalty")
    if c.simultaneous_update and c.n_critic != 1:
        raise ValueError(
            "simultaneous_update takes both gradients from one forward pass, so it needs n_critic=1. "
            f"Received: n_critic={c.n_critic}, simultaneous_update=True (pass simultaneous_update=False, "
            "--no-simultaneous-update, for several critic updates per generator update)"
        )
    if c.gp_weight > 0 and c.d_batch_norm:
        raise ValueError(
            "A gradient penalty needs a critic without batch normalization: the penalty constrains the "
            "gradient norm of each example's score, and batch norm makes each score depend on the other "
            "examples of the batch (Gulrajani et al. 2017, section 4). Expected d_batch_norm=False with "
            f"gp_weight > 0. Received: gp_weight={c.gp_weight!r}, d_batch_norm=True"
        )
    for name in ("r1_gamma", "r2_gamma"):
        checks.non_negative_number(name, getattr(c, name), note="0: no penalty")
        if getattr(c, name) > 0 and c.d_batch_norm:
            raise ValueError(
                f"{name} penalises the gradient of each example's score, and batch normalization makes each "
                f"score depend on the other examples of the batch: expected d_batch_norm=False (--no-d-batch-norm) "
                f"with {name} > 0. Received: {name}={getattr(c, name)!r}, d_batch_norm=True"
            )
    checks.positive_int("reg_interval", c.reg_interval, note="1: every critic update")
    checks.number_in("ema", c.ema, 0, 1, high_open=True, kind="a decay", note="0: no moving average")
    checks.one_of("precision", c.precision, PRECISIONS)
    checks.boolean("spectral_norm", c.spectral_norm)
    if c.spectral_norm and c.d_batch_norm:
        raise ValueError(
            "spectral_norm=True needs d_batch_norm=False (batch norm undoes the Lipschitz bound). "
            f"Received: spectral_norm={c.spectral_norm!r}, d_batch_norm={c.d_batch_norm!r}"
        )
    checks.number_in("real_label", c.real_label, 0, 1, low_open=True, note="1: no smoothing")
    if c.real_label != 1 and c.discriminator_loss != "minimax":
        raise ValueError(
            "real_label (one-sided label smoothing) applies to the minimax discriminator loss only. "
            f"Received: real_label={c.real_label!r}, discriminator_loss={c.discriminator_loss!r}"
        )
    for name in ("frames_per_decade", "frame_offset", "frame_every"):
        checks.non_negative_int(name, getattr(c, name), note="0: none")
    checks.boolean("conditional", c.conditional)
    if c.conditional and c.spectral_norm:
        raise ValueError(
            "spectral_norm is not available for the conditional networks yet (ganlib.models."
            "build_conditional_discriminator has no spectral-norm option). Received: conditional=True, spectral_norm=True"
        )
    checks.one_of("g_label_input", c.g_label_input, G_LABEL_INPUTS)
    checks.one_of("d_label_input", c.d_label_input, D_LABEL_INPUTS)
    if c.conditional and c.eval_every:
        # The evaluation hook draws unlabelled samples; a conditional run is measured after training instead.
        raise ValueError(
            "eval_every is not available for a conditional run (the per-epoch evaluation draws samples without "
            "labels). Train with eval_every=0, then run 'python -m ganlib evaluate RUN_DIR', which draws every "
            f"class equally and also reports the class accuracy. Received: conditional=True, eval_every={c.eval_every}"
        )
    checks.non_negative_number("drift_weight", c.drift_weight, note="0: no drift term")
    if c.drift_weight and c.discriminator_loss != "wasserstein":
        raise ValueError(
            "drift_weight adds epsilon_drift * mean[D(x)^2] to a Wasserstein critic's loss (Karras et al. 2018). "
            f"Received: drift_weight={c.drift_weight!r}, discriminator_loss={c.discriminator_loss!r}"
        )
    checks.boolean("progressive", c.progressive)
    diffaugment_policies(c.diffaugment)
    _validate_schedule(c)
    if c.progressive:
        refused = {k: getattr(c, k) for k, v in PROGRESSIVE_REFUSED.items() if getattr(c, k) == v}
        if refused:
            raise ValueError(
                "A progressive config (progressive=True) trains ganlib.progressive's networks, which have no label "
                "input, no batch or spectral normalization, and alternate the updates (Algorithm 1). Expected "
                + ", ".join(f"{k}={not v}" for k, v in PROGRESSIVE_REFUSED.items())
                + ". Received: " + ", ".join(f"{k}={v!r}" for k, v in refused.items())
            )
        if c.optimizer != "adam":
            raise ValueError(f"A progressive config trains with Adam, as the paper does. Received: optimizer={c.optimizer!r}")
        if c.precision != "float32" or c.num_replicas != 1:
            raise ValueError(
                "A progressive config trains in float32 on one device (its train step is traced again at each "
                "stage, outside tf.distribute). Expected precision='float32' and one replica. "
                f"Received: precision={c.precision!r}, num_replicas={c.num_replicas}"
            )
    _validate_translation(c)
    if int(c.num_samples**0.5) ** 2 != c.num_samples:
        raise ValueError(f"num_samples must be a square number (the grid is square). Received: num_samples={c.num_samples}")


TRANSLATION_REFUSED = {"conditional": True, "progressive": True, "spectral_norm": True, "simultaneous_update": True}
"""Settings a translation config (pix2pix, cyclegan) refuses: its networks (:mod:`ganlib.translate.networks`) take
no label, do not grow, and its own step alternates the updates."""


def _validate_translation(c: TrainConfig) -> None:
    for name in ("pix2pix", "cyclegan"):
        checks.boolean(name, getattr(c, name))
    checks.one_of("mask", c.mask, MASKS)
    checks.positive_int("mask_size", c.mask_size)
    if c.mask_size > 28:
        raise ValueError(f"mask_size must be at most 28 (the image's side). Received: mask_size={c.mask_size}")
    for name in ("l1_weight", "adv_weight", "cycle_weight", "identity_weight"):
        checks.non_negative_number(name, getattr(c, name))
    checks.number_in("dropout", c.dropout, 0, 1, high_open=True, kind=None)
    if not (c.pix2pix or c.cyclegan):
        return
    if c.pix2pix and c.cyclegan:
        raise ValueError("pix2pix and cyclegan are two model families: expected at most one of them. "
                         "Received: pix2pix=True, cyclegan=True")
    which = "pix2pix" if c.pix2pix else "cyclegan"
    refused = {k: getattr(c, k) for k, v in TRANSLATION_REFUSED.items() if getattr(c, k) == v}
    if refused:
        raise ValueError(
            f"A {which} config trains image-to-image networks (ganlib.translate) without labels, growth or spectral "
            "normalization, with its own alternating step. Expected "
            + ", ".join(f"{k}={not v}" for k, v in TRANSLATION_REFUSED.items())
            + f". Received: {which}=True, " + ", ".join(f"{k}={v!r}" for k, v in refused.items()))
    if c.discriminator_loss not in ("minimax", "least_squares") or c.generator_loss not in (
            "non_saturating", "minimax", "least_squares"):
        raise ValueError(
            f"A {which} config takes a discriminator loss of patch logits, minimax or least_squares, and a generator "
            "loss of the fake logits alone (non_saturating, minimax or least_squares). Received: "
            f"discriminator_loss={c.discriminator_loss!r}, generator_loss={c.generator_loss!r}")
    if c.gp_weight or c.r1_gamma or c.r2_gamma or c.drift_weight or c.clip_value is not None:
        raise ValueError(
            f"A {which} config has no critic terms or weight clipping (its step is its own). Expected gp_weight=0, "
            f"r1_gamma=0, r2_gamma=0, drift_weight=0, clip_value=None. Received: gp_weight={c.gp_weight!r}, "
            f"r1_gamma={c.r1_gamma!r}, r2_gamma={c.r2_gamma!r}, drift_weight={c.drift_weight!r}, "
            f"clip_value={c.clip_value!r}")
    if c.n_critic != 1 or c.eval_every:
        raise ValueError(
            f"A {which} config updates each network once per step and is measured after training "
            "(benchmarks/experiments, ganlib.translate.metrics), not by the per-epoch evaluation of generated "
            f"samples. Expected n_critic=1, eval_every=0. Received: n_critic={c.n_critic}, eval_every={c.eval_every}")
    if c.diffaugment:
        raise ValueError(
            f"A {which} config's step is its own and does not augment what its discriminator sees. Expected "
            f"diffaugment=''. Received: diffaugment={c.diffaugment!r}")
    if c.precision != "float32" or c.num_replicas != 1:
        raise ValueError(
            f"A {which} config trains in float32 on one device. Expected precision='float32' and one replica. "
            f"Received: precision={c.precision!r}, num_replicas={c.num_replicas}")


def _validate_schedule(c: TrainConfig) -> None:
    for name, length, minimum in (("stabilize_images", 3, 0), ("fade_images", 2, 0), ("stage_batch_sizes", 3, 1)):
        checks.int_sequence(name, getattr(c, name), length, minimum)
    if c.progressive and sum(c.stabilize_images) + sum(c.fade_images) < 1:
        raise ValueError(
            "A progressive schedule must show at least one image. Received: "
            f"stabilize_images={c.stabilize_images!r}, fade_images={c.fade_images!r}"
        )


PRESETS: dict[str, dict[str, Any]] = {
    # n_critic = 1: the simultaneous update reaches a given FCD sooner in wall time (docs/decisions/001-update-rule.md).
    "gan": dict(discriminator_loss="minimax", generator_loss="minimax", simultaneous_update=True),
    "dcgan": dict(discriminator_loss="minimax", generator_loss="non_saturating", simultaneous_update=True),
    "lsgan": dict(discriminator_loss="least_squares", generator_loss="least_squares", simultaneous_update=True),
    "wgan": dict(
        discriminator_loss="wasserstein",
        generator_loss="wasserstein",
        optimizer="rmsprop",
        g_learning_rate=5e-5,
        d_learning_rate=5e-5,
        n_critic=5,
        clip_value=0.01,
        batch_size=16,
    ),
    "wgan-gp": dict(
        discriminator_loss="wasserstein",
        generator_loss="wasserstein",
        g_learning_rate=1e-4,
        d_learning_rate=1e-4,
        beta_1=0.5,
        beta_2=0.9,
        n_critic=5,
        gp_weight=10.0,
        d_batch_norm=False,
    ),
    "hinge": dict(discriminator_loss="hinge", generator_loss="hinge", simultaneous_update=True),
    "sngan": dict(
        discriminator_loss="hinge",
        generator_loss="hinge",
        spectral_norm=True,
        d_batch_norm=False,
        g_learning_rate=2e-4,
        d_learning_rate=2e-4,
        beta_1=0.5,
        beta_2=0.999,
        n_critic=1,
    ),
    "pix2pix": dict(  # Isola et al. 2017: cGAN + lambda L1 (eq. 4), lambda = 100, Adam(2e-4, 0.5), batch norm
        pix2pix=True,
        discriminator_loss="minimax",
        generator_loss="non_saturating",
        l1_weight=100.0,
        g_filters=32,
        d_filters=32,
        batch_size=64,
        epochs=2,
    ),
    "cyclegan": dict(  # Zhu et al. 2017: least squares (sec. 4), lambda = 10 (eq. 3), identity 0.5 lambda (sec. 5.2)
        cyclegan=True,
        discriminator_loss="least_squares",
        generator_loss="least_squares",
        cycle_weight=10.0,
        identity_weight=0.5,
        dropout=0.0,
        g_filters=32,
        d_filters=32,
        batch_size=16,
        epochs=2,
    ),
    "pggan": dict(  # the paper's settings (ganlib.progressive.paper), at MNIST size
        progressive=True,
        discriminator_loss="wasserstein",
        generator_loss="wasserstein",
        gp_weight=PGGAN.GP_WEIGHT,
        drift_weight=PGGAN.DRIFT_WEIGHT,
        d_batch_norm=False,
        g_learning_rate=PGGAN.ADAM["learning_rate"],
        d_learning_rate=PGGAN.ADAM["learning_rate"],
        beta_1=PGGAN.ADAM["beta_1"],
        beta_2=PGGAN.ADAM["beta_2"],
        n_critic=PGGAN.N_CRITIC,
        batch_size=16,
        g_filters=16,
        d_filters=16,
        epochs=2,
    ),
}


def get_config(preset: str = "dcgan", **overrides: Any) -> TrainConfig:
    """A :class:`TrainConfig` for a preset, with any field overridden.

    Example:
        >>> get_config("wgan-gp", epochs=2).n_critic
        5

    Args:
        preset: one of ``gan, dcgan, lsgan, wgan, wgan-gp, hinge, sngan, pix2pix, cyclegan, pggan``.
        **overrides: TrainConfig fields that replace the preset's values.

    Returns:
        A validated, frozen TrainConfig.

    Raises:
        ValueError: unknown preset, unknown field, or an invalid value.
    """
    if preset not in PRESETS:
        raise ValueError(f"Unknown preset: expected one of {', '.join(PRESETS)}. Received: preset={preset!r}")
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"Unknown config fields {sorted(unknown)}: expected fields of TrainConfig ({', '.join(sorted(names))}).")
    return TrainConfig(**{"preset": preset, **PRESETS[preset], **overrides})
