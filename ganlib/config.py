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
           gradient penalty lambda=10, Adam(1e-4, 0.5, 0.9), n_critic=5, each critic update on
           its own real batch, critic without batch norm, batch 64, as in the paper's Algorithm 1.
           [DCGAN-style networks for 28x28 instead of the paper's ResNets and MLPs.]
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
           28x28 with fade-ins (``progressive=True``; ``ganlib.progressive``, ``ganlib.growing``),
           pixel norm, minibatch standard deviation, equalized learning rate, WGAN-GP lambda=10 with
           the drift term epsilon_drift=0.001, Adam(1e-3, 0, 0.99, eps 1e-8), n_critic=1, batch 16,
           both optimizers reset at every phase change. [Resolutions 7-14-28 and widths 64/32/16
           (``g_filters = d_filters = 16``) instead of 4-8-...-1024 and 512 maps; a shorter schedule
           (``stabilize_images``, ``fade_images``) than the paper's 800k images per phase; no weight
           averaging by default (``ema``); the other departures are listed in ganlib.progressive.]
           Measurement: docs/decisions/009-pggan-preset.md.
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

import dataclasses
from dataclasses import dataclass
from typing import Any

from ganlib.data import DATASETS

OPTIMIZERS = ("adam", "rmsprop")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
G_LABEL_INPUTS = ("embedding", "one_hot")  # how a conditional generator takes its label (ganlib.models)
D_LABEL_INPUTS = ("projection", "concat")  # how a conditional discriminator takes it
# The keys of ganlib.losses.DISCRIMINATOR_LOSSES / GENERATOR_LOSSES (tests/test_config.py checks that they agree),
# named here so that validating a config does not import TensorFlow.
DISCRIMINATOR_LOSS_NAMES = ("minimax", "least_squares", "wasserstein", "hinge")
GENERATOR_LOSS_NAMES = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. Build one with :func:`get_config`.

    Attributes:
        preset: name of the preset the values came from (informative).
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        epochs: passes over the training data, >= 1 (a resumed run continues up to it).
        batch_size: real images per step, >= 1; the noise batch has the same size.
        train_size: use only the first N training images; None uses all 60,000.
        latent_dim: size of the latent vector z.
        seed: seeds initial weights, the fixed latent batch, data order and noise.
        discriminator_loss: a key of ``ganlib.losses.DISCRIMINATOR_LOSSES``.
        generator_loss: a key of ``ganlib.losses.GENERATOR_LOSSES``.
        real_label: target of the real images in the minimax discriminator loss, in (0, 1]; 0.9 is
            one-sided label smoothing (Salimans et al. 2016), 1 none. Only with ``discriminator_loss="minimax"``.
        optimizer: ``"adam"`` or ``"rmsprop"``, one instance per network.
        g_learning_rate / d_learning_rate: learning rates, > 0.
        beta_1 / beta_2: Adam's moment decay rates (ignored by RMSprop).
        n_critic: discriminator (critic) updates per generator update, >= 1; each takes its own
            real batch, so one generator iteration reads ``n_critic * batch_size`` images.
        simultaneous_update: for ``n_critic = 1``, take both gradients from one forward pass (as the
            TensorFlow DCGAN tutorial does) instead of updating the generator after the discriminator
            against its new weights (Algorithm 1); see :func:`ganlib.step.make_train_step`.
        clip_value: clip every critic weight to [-c, c] after each critic update; None for no clipping.
        gp_weight: gradient-penalty weight lambda; 0 for none.
        g_filters / d_filters: width of the generator / discriminator.
        d_batch_norm: batch normalization in the discriminator (off for a WGAN-GP critic; refused with
            a gradient penalty, see :func:`_validate`).
        spectral_norm: spectral normalization of every discriminator layer (Miyato et al. 2018,
            see :func:`ganlib.models.build_discriminator`); needs ``d_batch_norm=False``.
        num_samples: images in the fixed-z sample grid (a square number).
        eval_every: evaluate sample quality every K epochs (0: never): FCD, classifier score and
            classes covered (see :mod:`ganlib.metrics`) go into the epoch's history row.
        eval_samples: generated images per evaluation, >= 2. FCD depends on it (it is biased
            upward for small N), so compare only figures taken with the same N; 10,000 matches
            ``python -m ganlib evaluate`` and the README's table.
        ema: decay of an exponential moving average of the generator's weights, in [0, 1); 0 for none.
            With it, grids, the GIF, ``sample`` and ``evaluate`` use the averaged generator.
        precision: ``"float32"``; ``"mixed_float16"`` (GPUs: float16 computations, float32 weights, loss
            scaling); ``"mixed_bfloat16"`` (TPUs and recent CPUs: bfloat16 computations, float32 weights).
        num_replicas: replicas of the ``tf.distribute.Strategy`` the run trains on; set by the training
            loop from the strategy and recorded in ``config.json``, so that a run resumes only on as many
            replicas (each replica's batch-norm statistics and noise stream depend on it).
        conditional: class-conditional networks (Mirza & Osindero 2014, https://arxiv.org/abs/1411.1784):
            the generator draws ``G(z, y)`` for a requested class ``y``, the discriminator judges ``D(x, y)``;
            the training labels flow through the data pipeline (see :mod:`ganlib.models`).
        g_label_input: how a conditional generator takes ``y``: ``"embedding"`` (a learned 50-d vector
            concatenated to ``z``) or ``"one_hot"`` (the one-hot vector concatenated to ``z``).
        d_label_input: how a conditional discriminator takes ``y``: ``"projection"`` (Miyato & Koyama 2018,
            https://arxiv.org/abs/1802.05637) or ``"concat"`` (one-hot label maps concatenated to the image's
            channels, as keras-io's conditional GAN does).
        frames_per_decade: training-GIF frames per factor of 10 in ``step + frame_offset`` (0: none): the
            fixed-z grid is drawn at step 0 (the untrained generator) and at the steps
            ``round(frame_offset * 10 ** (k / frames_per_decade)) - frame_offset``, k = 1, 2, ..., dense
            early and sparser later; 24 gives 46 frames over the default 5 epochs of 937 steps
            (see :mod:`ganlib.frames`, which also gives the measurement behind the defaults).
        frame_offset: steps added before the logarithm, >= 0: the first frames are about
            ``frame_offset * ln(10) / frames_per_decade`` steps apart (10 for the defaults), later ones
            about 10% of their step apart (0: pure log spacing, a frame at each of the first steps).
        frame_every: also draw a frame every K generator steps (0: never).
        drift_weight: epsilon_drift >= 0, the weight of the drift term ``mean[D(x)^2]`` added to a Wasserstein
            critic's loss (Karras et al. 2018, appendix A.1: 0.001; see :func:`ganlib.losses.drift_penalty`); 0: none.
        progressive: grow both networks 7x7 -> 14x14 -> 28x28 (Karras et al. 2018,
            https://arxiv.org/abs/1710.10196; :mod:`ganlib.progressive`, :mod:`ganlib.growing`). Then an epoch is
            ``N // (n_critic * batch_size)`` generator iterations, each taking ``n_critic *
            stage_batch_sizes[stage]`` real images, and ``g_filters`` / ``d_filters`` are the widths at 28x28.
        stabilize_images: progressive only: real images shown at ``alpha = 1`` at 7x7, 14x14 and 28x28
            (each >= 0); after the schedule, training goes on at 28x28.
        fade_images: progressive only: real images shown while 14x14 and 28x28 fade in (each >= 0; 0: no fade-in).
        stage_batch_sizes: progressive only: real images per critic update at 7x7, 14x14 and 28x28 (each >= 1).
    """

    preset: str = "dcgan"
    dataset: str = "mnist"
    epochs: int = 5
    batch_size: int = 64
    train_size: int | None = None
    latent_dim: int = 100
    seed: int = 0
    discriminator_loss: str = "minimax"
    generator_loss: str = "non_saturating"
    real_label: float = 1.0
    optimizer: str = "adam"
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    n_critic: int = 1
    clip_value: float | None = None
    gp_weight: float = 0.0
    g_filters: int = 64
    d_filters: int = 64
    d_batch_norm: bool = True
    spectral_norm: bool = False
    num_samples: int = 64
    eval_every: int = 0
    eval_samples: int = 10_000
    simultaneous_update: bool = False
    ema: float = 0.0
    precision: str = "float32"
    num_replicas: int = 1
    conditional: bool = False
    g_label_input: str = "embedding"
    d_label_input: str = "projection"
    frames_per_decade: int = 24
    frame_offset: int = 100
    frame_every: int = 0
    drift_weight: float = 0.0
    progressive: bool = False
    stabilize_images: tuple[int, int, int] = (20_000, 15_000, 25_000)
    fade_images: tuple[int, int] = (15_000, 15_000)
    stage_batch_sizes: tuple[int, int, int] = (16, 16, 16)

    def __post_init__(self) -> None:
        # Lists (from config.json or the command line) become tuples, so that equal configs compare equal.
        for name in ("stabilize_images", "fade_images", "stage_batch_sizes"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        _validate(self)

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
    def positive_int(name: str, value: Any, allow_none: bool = False) -> None:
        if allow_none and value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")

    for name in ("epochs", "batch_size", "latent_dim", "n_critic", "g_filters", "d_filters", "num_samples",
                 "num_replicas"):
        positive_int(name, getattr(c, name))
    positive_int("train_size", c.train_size, allow_none=True)
    if not isinstance(c.seed, int) or c.seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={c.seed!r}")
    if not isinstance(c.eval_every, int) or c.eval_every < 0:
        raise ValueError(f"eval_every must be an integer >= 0 (0: never). Received: eval_every={c.eval_every!r}")
    if not isinstance(c.eval_samples, int) or isinstance(c.eval_samples, bool) or c.eval_samples < 2:
        raise ValueError(
            f"eval_samples must be an integer >= 2 (a covariance needs 2 images). Received: eval_samples={c.eval_samples!r}"
        )
    if c.dataset not in DATASETS:
        raise ValueError(f"Unknown data set: expected one of {', '.join(DATASETS)}. Received: dataset={c.dataset!r}")
    if c.discriminator_loss not in DISCRIMINATOR_LOSS_NAMES:
        raise ValueError(
            f"Unknown discriminator_loss: expected one of {', '.join(DISCRIMINATOR_LOSS_NAMES)}. "
            f"Received: discriminator_loss={c.discriminator_loss!r}"
        )
    if c.generator_loss not in GENERATOR_LOSS_NAMES:
        raise ValueError(
            f"Unknown generator_loss: expected one of {', '.join(GENERATOR_LOSS_NAMES)}. "
            f"Received: generator_loss={c.generator_loss!r}"
        )
    if c.optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer: expected one of {', '.join(OPTIMIZERS)}. Received: optimizer={c.optimizer!r}")
    for name in ("g_learning_rate", "d_learning_rate"):
        value = getattr(c, name)
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    for name in ("beta_1", "beta_2"):
        value = getattr(c, name)
        if not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1). Received: {name}={value!r}")
    if c.clip_value is not None and not c.clip_value > 0:
        raise ValueError(f"clip_value must be positive or None (no clipping). Received: clip_value={c.clip_value!r}")
    if not isinstance(c.gp_weight, (int, float)) or c.gp_weight < 0:
        raise ValueError(f"gp_weight must be >= 0 (0: no penalty). Received: gp_weight={c.gp_weight!r}")
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
    if not isinstance(c.ema, (int, float)) or isinstance(c.ema, bool) or not 0 <= c.ema < 1:
        raise ValueError(f"ema must be a decay in [0, 1) (0: no moving average). Received: ema={c.ema!r}")
    if c.precision not in PRECISIONS:
        raise ValueError(f"Unknown precision: expected one of {', '.join(PRECISIONS)}. Received: precision={c.precision!r}")
    if not isinstance(c.spectral_norm, bool):
        raise ValueError(f"spectral_norm must be True or False. Received: spectral_norm={c.spectral_norm!r}")
    if c.spectral_norm and c.d_batch_norm:
        raise ValueError(
            "spectral_norm=True needs d_batch_norm=False (batch norm undoes the Lipschitz bound). "
            f"Received: spectral_norm={c.spectral_norm!r}, d_batch_norm={c.d_batch_norm!r}"
        )
    if isinstance(c.real_label, bool) or not isinstance(c.real_label, (int, float)) or not 0 < c.real_label <= 1:
        raise ValueError(
            f"real_label must be a number in (0, 1] (1: no smoothing). Received: real_label={c.real_label!r}"
        )
    if c.real_label != 1 and c.discriminator_loss != "minimax":
        raise ValueError(
            "real_label (one-sided label smoothing) applies to the minimax discriminator loss only. "
            f"Received: real_label={c.real_label!r}, discriminator_loss={c.discriminator_loss!r}"
        )
    for name in ("frames_per_decade", "frame_offset", "frame_every"):
        value = getattr(c, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0 (0: none). Received: {name}={value!r}")
    if not isinstance(c.conditional, bool):
        raise ValueError(f"conditional must be True or False. Received: conditional={c.conditional!r}")
    if c.conditional and c.spectral_norm:
        raise ValueError(
            "spectral_norm is not available for the conditional networks yet (ganlib.models."
            "build_conditional_discriminator has no spectral-norm option). Received: conditional=True, spectral_norm=True"
        )
    if c.g_label_input not in G_LABEL_INPUTS:
        raise ValueError(
            f"Unknown g_label_input: expected one of {', '.join(G_LABEL_INPUTS)}. "
            f"Received: g_label_input={c.g_label_input!r}"
        )
    if c.d_label_input not in D_LABEL_INPUTS:
        raise ValueError(
            f"Unknown d_label_input: expected one of {', '.join(D_LABEL_INPUTS)}. "
            f"Received: d_label_input={c.d_label_input!r}"
        )
    if c.conditional and c.eval_every:
        # The evaluation hook draws unlabelled samples; a conditional run is measured after training instead.
        raise ValueError(
            "eval_every is not available for a conditional run (the per-epoch evaluation draws samples without "
            "labels). Train with eval_every=0, then run 'python -m ganlib evaluate RUN_DIR', which draws every "
            f"class equally and also reports the class accuracy. Received: conditional=True, eval_every={c.eval_every}"
        )
    if isinstance(c.drift_weight, bool) or not isinstance(c.drift_weight, (int, float)) or c.drift_weight < 0:
        raise ValueError(f"drift_weight must be a number >= 0 (0: no drift term). Received: drift_weight={c.drift_weight!r}")
    if c.drift_weight and c.discriminator_loss != "wasserstein":
        raise ValueError(
            "drift_weight adds epsilon_drift * mean[D(x)^2] to a Wasserstein critic's loss (Karras et al. 2018). "
            f"Received: drift_weight={c.drift_weight!r}, discriminator_loss={c.discriminator_loss!r}"
        )
    if not isinstance(c.progressive, bool):
        raise ValueError(f"progressive must be True or False. Received: progressive={c.progressive!r}")
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
    if int(c.num_samples**0.5) ** 2 != c.num_samples:
        raise ValueError(f"num_samples must be a square number (the grid is square). Received: num_samples={c.num_samples}")


def _validate_schedule(c: TrainConfig) -> None:
    for name, length, minimum in (("stabilize_images", 3, 0), ("fade_images", 2, 0), ("stage_batch_sizes", 3, 1)):
        value = getattr(c, name)
        if not (isinstance(value, tuple) and len(value) == length
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in value)):
            raise ValueError(f"{name} must be {length} integers >= {minimum}. Received: {name}={value!r}")
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
    "pggan": dict(
        progressive=True,
        discriminator_loss="wasserstein",
        generator_loss="wasserstein",
        gp_weight=10.0,
        drift_weight=1e-3,
        d_batch_norm=False,
        g_learning_rate=1e-3,
        d_learning_rate=1e-3,
        beta_1=0.0,
        beta_2=0.99,
        n_critic=1,
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
        preset: one of ``gan, dcgan, lsgan, wgan, wgan-gp, hinge, sngan, pggan``.
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
