"""The 2-D ring: a mixture of 8 Gaussians on which a plain GAN visibly collapses, its measures and remedies.

The data set of Metz et al. 2017 (unrolled GANs, https://arxiv.org/abs/1611.02163,
section 3.1 and appendix A): 8 Gaussians of standard deviation 0.02 whose means
are equally spaced on a circle of radius 2, picked with equal probability. The
networks follow the same appendix: a generator with two hidden ReLU layers of
128 units from ``z ~ N(0, I_256)``, a discriminator that scales its input by
1/4 and has one hidden ReLU layer of 128 units, all kernels orthogonal with
gain 0.8, Adam(1e-4, beta_1=0.5) for both. They plug into ganlib's train
step (:func:`ganlib.train.make_train_step`), so every objective of
:mod:`ganlib.losses`, the gradient penalty and ``n_critic`` work unchanged.

Departures from the paper: the generator's loss is the non-saturating one
(the paper's plain GAN used the saturating minimax loss), since that is the
GAN practitioners train, and it collapses all the same; one step is one
discriminator update and one generator update (ganlib's step); the batch is
256 (the paper's is 512); and both learning rates are 1e-3 instead of 1e-4,
so that runs of a few thousand steps fit in a minute on a CPU and still show
the collapse (docs/decisions/012-ring-settings.md).

The measures are those of VEEGAN (Srivastava et al. 2017,
https://arxiv.org/abs/1705.07761, section 5.1), also used by PacGAN (Lin et al.
2018, https://arxiv.org/abs/1712.04086): a sample is *high quality* when it
lies within 3 standard deviations of its nearest mode; a mode is *covered*
when at least one high-quality sample is nearest to it. VEEGAN and PacGAN use
radius 1 and standard deviation 0.01, the same ratio as here.

:func:`train_ring` trains one :class:`RingConfig` and records scatter
snapshots from a fixed latent batch; :data:`RING_VARIANTS` names the plain GAN
and the remedies that ``benchmarks/experiments/ring_collapse.py`` compares over seeds
(the results: docs/decisions/012-ring-settings.md).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from ganlib.data import latent_batch
from ganlib.layers import MinibatchStdDev

NUM_MODES = 8
RADIUS = 2.0
STD = 0.02
HIGH_QUALITY_STDS = 3.0


def ring_means(num_modes: int = NUM_MODES, radius: float = RADIUS) -> np.ndarray:
    """The modes' means ``mu_k = radius * (cos(2 pi k / K), sin(2 pi k / K))``, float64 ``[K, 2]``.

    Raises:
        ValueError: ``num_modes < 1`` or ``radius <= 0``.
    """
    if isinstance(num_modes, bool) or not isinstance(num_modes, int) or num_modes < 1:
        raise ValueError(f"num_modes must be a positive integer. Received: num_modes={num_modes!r}")
    if not radius > 0:
        raise ValueError(f"radius must be positive. Received: radius={radius!r}")
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(
    n: int,
    *,
    num_modes: int = NUM_MODES,
    radius: float = RADIUS,
    std: float = STD,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Draw ``n`` points of the ring: a mode ``k ~ U{0..K-1}``, then ``x ~ N(mu_k, std^2 I_2)``.

    Example:
        >>> sample_ring(4, seed=0).shape
        (4, 2)

    Args:
        n: number of points, >= 1.
        num_modes: K (paper: 8).
        radius: radius of the circle of means (paper: 2).
        std: standard deviation of each Gaussian, > 0 (paper: 0.02).
        seed: an int seed or a ``numpy.random.Generator``.

    Returns:
        float32 ``[n, 2]``.

    Raises:
        ValueError: ``n < 1``, ``std <= 0``, or invalid ``num_modes`` / ``radius``.

    References:
        Metz et al. 2017, https://arxiv.org/abs/1611.02163, appendix A.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer. Received: n={n!r}")
    if not std > 0:
        raise ValueError(f"std must be positive. Received: std={std!r}")
    means = ring_means(num_modes, radius)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    modes = rng.integers(0, num_modes, int(n))
    return (means[modes] + std * rng.standard_normal((int(n), 2))).astype(np.float32)


class ModeStatistics(NamedTuple):
    """What :func:`mode_statistics` measures on a set of 2-D samples."""

    modes_covered: int
    """Modes with at least one high-quality sample nearest to them, 0..K."""
    high_quality_share: float
    """Share of the samples within ``threshold`` standard deviations of their nearest mode, in [0, 1]."""
    counts: np.ndarray
    """int ``[K]``: high-quality samples per mode."""


def mode_statistics(
    samples: Any,
    *,
    num_modes: int = NUM_MODES,
    radius: float = RADIUS,
    std: float = STD,
    threshold: float = HIGH_QUALITY_STDS,
) -> ModeStatistics:
    """Modes covered and share of high-quality samples, as defined by VEEGAN and PacGAN.

    A sample ``x`` is high quality when ``min_k ||x - mu_k|| < threshold * std``;
    mode k is covered when at least one high-quality sample has k as its nearest
    mode. For samples of the ring itself the expected share is
    ``P(chi^2_2 < 9) = 1 - exp(-9/2) = 0.9889`` and all modes are covered; a
    generator collapsed onto one mode has 1 mode and a share that can be close
    to 1. Non-finite samples count as not high quality.

    Example:
        >>> s = mode_statistics(np.array([[2.0, 0.0], [2.01, 0.0], [0.0, 0.0]]))
        >>> s.modes_covered, round(s.high_quality_share, 3)
        (1, 0.667)

    Args:
        samples: float ``[N, 2]``, N >= 1.
        num_modes, radius, std: the ring's parameters (see :func:`sample_ring`).
        threshold: the high-quality radius in standard deviations (VEEGAN: 3).

    Returns:
        A :class:`ModeStatistics`.

    Raises:
        ValueError: samples not of shape ``[N, 2]`` with N >= 1.

    References:
        Srivastava et al. 2017, https://arxiv.org/abs/1705.07761, section 5.1;
        Lin et al. 2018, https://arxiv.org/abs/1712.04086, section 5.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"Expected samples of shape [N, 2] with N >= 1. Received: shape={list(x.shape)}")
    distances = np.linalg.norm(x[:, None, :] - ring_means(num_modes, radius)[None], axis=-1)  # [N, K]
    nearest = np.argmin(np.nan_to_num(distances, nan=np.inf), axis=1)
    good = np.min(np.nan_to_num(distances, nan=np.inf), axis=1) < threshold * std
    counts = np.bincount(nearest[good], minlength=num_modes)
    return ModeStatistics(int(np.count_nonzero(counts)), float(good.mean()), counts)


def _check_sizes(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def _kernel_init() -> keras.initializers.Initializer:
    return keras.initializers.Orthogonal(gain=0.8)  # Metz et al., appendix A


def build_ring_generator(
    latent_dim: int = 256, hidden: int = 128, depth: int = 2, *, name: str = "generator"
) -> keras.Model:
    """MLP generator: ``z`` ``[batch, latent_dim]`` to points ``[batch, 2]`` (unbounded).

    ``depth`` hidden ReLU layers of ``hidden`` units, then a linear layer to 2
    outputs; kernels orthogonal with gain 0.8.

    Example:
        >>> build_ring_generator(8, 16)(np.zeros((3, 8), "float32")).shape
        TensorShape([3, 2])

    Raises:
        ValueError: a size is not a positive integer.

    References:
        Metz et al. 2017, https://arxiv.org/abs/1611.02163, appendix A.
    """
    _check_sizes(latent_dim=latent_dim, hidden=hidden, depth=depth)
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for _ in range(depth):
        x = layers.Dense(hidden, activation="relu", kernel_initializer=_kernel_init())(x)  # (hidden,)
    points = layers.Dense(2, kernel_initializer=_kernel_init(), dtype="float32")(x)  # (2,)
    return keras.Model(z, points, name=name)


def build_ring_discriminator(
    hidden: int = 128,
    depth: int = 1,
    *,
    input_scale: float = 0.25,
    spectral_norm: bool = False,
    minibatch_std: bool = False,
    name: str = "discriminator",
) -> keras.Model:
    """MLP discriminator: points ``[batch, 2]`` to one logit (or critic score) ``[batch, 1]``.

    Multiplies its input by ``input_scale`` (the paper's 1/4 brings the ring to
    about [-0.5, 0.5]), then ``depth`` hidden ReLU layers of ``hidden`` units
    and a linear logit; kernels orthogonal with gain 0.8.

    Args:
        hidden: units per hidden layer.
        depth: hidden layers (paper: 1).
        input_scale: factor applied to the input, > 0.
        spectral_norm: wrap every dense layer in ``keras.layers.SpectralNormalization``
            (see :func:`ganlib.models.build_discriminator` for how it differs from
            the paper; call the model with ``training=True`` when training).
        minibatch_std: a :class:`MinibatchStdDev` feature after the last hidden layer.
        name: the model's name.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: a size is not a positive integer, or ``input_scale <= 0``.

    References:
        Metz et al. 2017, https://arxiv.org/abs/1611.02163, appendix A;
        Miyato et al. 2018, https://arxiv.org/abs/1802.05957;
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 3.
    """
    _check_sizes(hidden=hidden, depth=depth)
    if not input_scale > 0:
        raise ValueError(f"input_scale must be positive. Received: input_scale={input_scale!r}")

    def sn(layer: layers.Layer) -> layers.Layer:
        return layers.SpectralNormalization(layer, dtype=layer.dtype_policy) if spectral_norm else layer

    x_in = keras.Input(shape=(2,), name="point")
    x = layers.Rescaling(input_scale)(x_in)
    for _ in range(depth):
        x = sn(layers.Dense(hidden, activation="relu", kernel_initializer=_kernel_init()))(x)  # (hidden,)
    if minibatch_std:
        x = MinibatchStdDev()(x)  # (hidden + 1,): whole-batch statistic, the paper's text
    logits = sn(layers.Dense(1, kernel_initializer=_kernel_init(), dtype="float32"))(x)  # (1,)
    return keras.Model(x_in, logits, name=name)


@dataclass(frozen=True)
class RingConfig:
    """Every setting of one ring run. The defaults are the plain (non-saturating) GAN.

    Attributes:
        discriminator_loss / generator_loss: keys of ``ganlib.losses.DISCRIMINATOR_LOSSES`` /
            ``GENERATOR_LOSSES``.
        real_label: one-sided label smoothing of the minimax loss, in (0, 1].
        g_learning_rate / d_learning_rate: Adam learning rates (paper: 1e-4 both; here 1e-3, see the module).
        beta_1 / beta_2: Adam's decay rates (paper: 0.5, Adam's default 0.999).
        n_critic: discriminator updates per generator update.
        gp_weight: gradient-penalty weight lambda (WGAN-GP: 10), 0 for none.
        spectral_norm / minibatch_std: the discriminator's options (see :func:`build_ring_discriminator`).
        latent_dim, g_hidden, d_hidden: network sizes (paper: 256, 128, 128).
        d_depth: hidden layers of the discriminator (paper: 1).
        batch_size: real points per step; the noise batch has the same size.
        steps: train steps (each ``n_critic`` discriminator updates and one generator update).
        seed: seeds the weights, the data, the noise and the evaluation.
    """

    discriminator_loss: str = "minimax"
    generator_loss: str = "non_saturating"
    real_label: float = 1.0
    g_learning_rate: float = 1e-3
    d_learning_rate: float = 1e-3
    beta_1: float = 0.5
    beta_2: float = 0.999
    n_critic: int = 1
    gp_weight: float = 0.0
    spectral_norm: bool = False
    minibatch_std: bool = False
    latent_dim: int = 256
    g_hidden: int = 128
    d_hidden: int = 128
    d_depth: int = 1
    batch_size: int = 256
    steps: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        from ganlib.losses import for_config

        _check_sizes(n_critic=self.n_critic, latent_dim=self.latent_dim, g_hidden=self.g_hidden,
                     d_hidden=self.d_hidden, d_depth=self.d_depth, batch_size=self.batch_size, steps=self.steps)
        for_config(self)  # unknown losses or an invalid real_label raise here
        for name in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive. Received: {name}={getattr(self, name)!r}")
        if not self.gp_weight >= 0:
            raise ValueError(f"gp_weight must be >= 0. Received: gp_weight={self.gp_weight!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer. Received: seed={self.seed!r}")

    def replace(self, **changes: Any) -> "RingConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# The plain GAN and one remedy per row, each a change of the default RingConfig.
RING_VARIANTS: dict[str, dict[str, Any]] = {
    "gan (non-saturating)": {},
    "+ minibatch std": dict(minibatch_std=True),
    "+ spectral norm": dict(spectral_norm=True),
    "+ label smoothing 0.9": dict(real_label=0.9),
    "hinge": dict(discriminator_loss="hinge", generator_loss="hinge"),
    "least squares": dict(discriminator_loss="least_squares", generator_loss="least_squares"),
    "wgan-gp": dict(discriminator_loss="wasserstein", generator_loss="wasserstein", gp_weight=10.0, n_critic=5,
                    beta_2=0.9),
}


@dataclass
class RingResult:
    """The record of one :func:`train_ring` run.

    Attributes:
        config: the run's settings.
        snapshot_steps: int ``[S]``, the steps at which snapshots were taken (0 = before training).
        snapshots: float32 ``[S, n, 2]``, the generator's points for one fixed latent batch.
        snapshot_stats: one :class:`ModeStatistics` per snapshot (on the snapshot's n points).
        final: :class:`ModeStatistics` of ``eval_samples`` points from fresh ``z`` after training.
        d_loss / g_loss: float32 ``[steps]``, the losses of every step.
        seconds: wall-clock training time, tracing and compilation included.
    """

    config: RingConfig
    snapshot_steps: np.ndarray
    snapshots: np.ndarray
    snapshot_stats: list[ModeStatistics]
    final: ModeStatistics
    d_loss: np.ndarray
    g_loss: np.ndarray
    seconds: float

    def dominant_modes(self) -> list[int]:
        """The mode holding most high-quality points of each snapshot (-1 when none has any)."""
        return [int(np.argmax(s.counts)) if s.counts.any() else -1 for s in self.snapshot_stats]


def train_ring(
    config: RingConfig,
    *,
    snapshot_every: int = 500,
    snapshot_samples: int = 512,
    eval_samples: int = 2500,
    jit_compile: bool = True,
) -> RingResult:
    """Train a GAN on the ring with ganlib's train step, recording scatter snapshots from a fixed ``z``.

    The real points of all steps are drawn up front (``steps * batch_size``
    points, seeded by ``config.seed``) and fed through
    :func:`ganlib.train.make_train_function`, ``snapshot_every`` steps per call.
    The final statistics use ``eval_samples`` points (VEEGAN: 2,500) from a
    latent batch seeded by ``config.seed``.

    Example:
        >>> r = train_ring(RingConfig(steps=20, batch_size=32, latent_dim=8, g_hidden=16, d_hidden=16),
        ...                snapshot_every=10)  # doctest: +SKIP
        >>> r.snapshots.shape  # doctest: +SKIP
        (3, 512, 2)

    Args:
        config: the run's settings.
        snapshot_every: steps between snapshots, >= 1, dividing ``config.steps``.
        snapshot_samples: points per snapshot, >= 1.
        eval_samples: points for the final statistics, >= 1.
        jit_compile: compile the train step with XLA.

    Returns:
        A :class:`RingResult`.

    Raises:
        ValueError: ``snapshot_every`` does not divide ``config.steps``, or a size is not positive.
    """
    from ganlib.losses import for_config
    from ganlib.train.step import make_train_function, make_train_step

    _check_sizes(snapshot_every=snapshot_every, snapshot_samples=snapshot_samples, eval_samples=eval_samples)
    if config.steps % snapshot_every:
        raise ValueError(
            f"snapshot_every must divide steps. Received: snapshot_every={snapshot_every}, steps={config.steps}"
        )
    c = config
    t0 = time.perf_counter()
    keras.utils.set_random_seed(c.seed)
    generator = build_ring_generator(c.latent_dim, c.g_hidden)
    discriminator = build_ring_discriminator(c.d_hidden, c.d_depth, spectral_norm=c.spectral_norm,
                                             minibatch_std=c.minibatch_std)
    g_optimizer = keras.optimizers.Adam(c.g_learning_rate, beta_1=c.beta_1, beta_2=c.beta_2)
    d_optimizer = keras.optimizers.Adam(c.d_learning_rate, beta_1=c.beta_1, beta_2=c.beta_2)
    discriminator_loss, generator_loss = for_config(c)
    step = make_train_step(
        generator, discriminator, g_optimizer, d_optimizer,
        discriminator_loss=discriminator_loss, generator_loss=generator_loss, latent_dim=c.latent_dim,
        n_critic=c.n_critic, gp_weight=c.gp_weight, noise=tf.random.Generator.from_seed(c.seed),
        jit_compile=jit_compile,
    )
    run = make_train_function(step, steps_per_execution=snapshot_every)
    rng = np.random.default_rng(c.seed)
    real = sample_ring(c.steps * c.batch_size, seed=rng)
    batches = iter(tf.data.Dataset.from_tensor_slices(real).batch(c.batch_size, drop_remainder=True))
    fixed_z = rng.standard_normal((snapshot_samples, c.latent_dim)).astype(np.float32)

    def generate(z: np.ndarray) -> np.ndarray:
        return generator(z, training=False).numpy()

    steps_done, snapshots, d_losses, g_losses = [0], [generate(fixed_z)], [], []
    for done in range(snapshot_every, c.steps + 1, snapshot_every):
        out = run(batches)
        d_losses.append(out["d_loss"].numpy())
        g_losses.append(out["g_loss"].numpy())
        steps_done.append(done)
        snapshots.append(generate(fixed_z))
    seconds = time.perf_counter() - t0
    eval_z = latent_batch(eval_samples, c.latent_dim, [c.seed, 1])
    return RingResult(
        config=c,
        snapshot_steps=np.asarray(steps_done),
        snapshots=np.stack(snapshots),
        snapshot_stats=[mode_statistics(s) for s in snapshots],
        final=mode_statistics(generate(eval_z)),
        d_loss=np.concatenate(d_losses),
        g_loss=np.concatenate(g_losses),
        seconds=seconds,
    )


def summarize(results: list[RingResult]) -> dict[str, float]:
    """Mean and standard deviation over runs (seeds) of the final modes covered and high-quality share.

    Returns:
        ``{"runs", "modes_mean", "modes_std", "modes_min", "high_quality_mean",
        "high_quality_std", "all_modes_runs", "seconds_mean"}``; standard deviations
        are the population ones (``ddof=0``) over the runs.

    Raises:
        ValueError: no results.
    """
    if not results:
        raise ValueError("Expected at least one RingResult. Received: an empty list")
    modes = np.array([r.final.modes_covered for r in results], dtype=float)
    share = np.array([r.final.high_quality_share for r in results])
    return {
        "runs": len(results),
        "modes_mean": float(modes.mean()),
        "modes_std": float(modes.std()),
        "modes_min": float(modes.min()),
        "high_quality_mean": float(share.mean()),
        "high_quality_std": float(share.std()),
        "all_modes_runs": int(np.sum(modes == NUM_MODES)),
        "seconds_mean": float(np.mean([r.seconds for r in results])),
    }


__all__ = [
    "HIGH_QUALITY_STDS", "NUM_MODES", "RADIUS", "RING_VARIANTS", "STD", "MinibatchStdDev", "ModeStatistics",
    "RingConfig", "RingResult", "build_ring_discriminator", "build_ring_generator", "mode_statistics", "ring_means",
    "sample_ring", "summarize", "train_ring",
]
