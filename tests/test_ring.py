"""The 2-D ring: the sampler's statistics, mode counting on hand-made points, the minibatch-std layer, a short run."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ganlib import ring as R


def test_ring_sampler_statistics():
    x = R.sample_ring(16_000, seed=0)
    assert x.shape == (16_000, 2) and x.dtype == np.float32
    means = R.ring_means()
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0)
    np.testing.assert_allclose(np.linalg.norm(means[1] - means[0]), 2 * 2.0 * np.sin(np.pi / 8))
    mode = np.argmin(np.linalg.norm(x[:, None] - means[None], axis=-1), axis=1)
    shares = np.bincount(mode, minlength=8) / len(x)
    assert np.abs(shares - 1 / 8).max() < 0.015  # binomial standard error 0.0026
    residual = x - means[mode]
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=0.001)
    np.testing.assert_allclose(residual.std(axis=0), 0.02, rtol=0.03)
    np.testing.assert_array_equal(R.sample_ring(5, seed=3), R.sample_ring(5, seed=3))


def test_statistics_of_the_ring_itself():
    # For a 2-D isotropic Gaussian, P(||x - mu|| < 3 sigma) = P(chi2_2 < 9) = 1 - exp(-4.5).
    s = R.mode_statistics(R.sample_ring(20_000, seed=1))
    assert s.modes_covered == 8
    assert abs(s.high_quality_share - (1 - np.exp(-4.5))) < 0.004  # standard error 0.0007
    assert s.counts.sum() == round(s.high_quality_share * 20_000)


def test_mode_counting_on_hand_made_points():
    m = R.ring_means()
    d = np.array([0.0, 1.0])  # a unit direction, perpendicular to mode 0's radius
    points = np.stack([
        m[0], m[0] + 2.9 * 0.02 * d,  # mode 0: two high-quality points (2.9 sigma < 3 sigma)
        m[3] + 3.1 * 0.02 * d,  # near mode 3 but outside 3 sigma: not high quality
        m[5],  # mode 5
        [0.0, 0.0], [np.nan, 1.0],  # the centre of the ring and a non-finite point: not high quality
    ])
    s = R.mode_statistics(points)
    assert s.modes_covered == 2
    assert s.high_quality_share == pytest.approx(3 / 6)
    np.testing.assert_array_equal(s.counts, [2, 0, 0, 0, 0, 1, 0, 0])
    collapsed = R.mode_statistics(np.repeat(m[2:3], 10, axis=0))
    assert collapsed.modes_covered == 1 and collapsed.high_quality_share == 1.0
    with pytest.raises(ValueError, match=r"shape \[N, 2\].*Received: shape=\[4, 3\]"):
        R.mode_statistics(np.zeros((4, 3)))


def test_minibatch_std_layer():
    x = np.random.default_rng(0).normal(size=(16, 5)).astype(np.float32)
    y = R.MinibatchStdDev()(x).numpy()
    assert y.shape == (16, 6)
    np.testing.assert_array_equal(y[:, :5], x)
    np.testing.assert_allclose(y[:, 5], x.std(axis=0).mean(), rtol=1e-5)
    # A collapsed batch: every example the same, so the appended feature is sqrt(epsilon) ~ 0.
    same = R.MinibatchStdDev()(np.repeat(x[:1], 16, axis=0)).numpy()
    np.testing.assert_allclose(same[:, 5], 1e-4, rtol=1e-3)
    images = np.random.default_rng(1).normal(size=(4, 3, 3, 2)).astype(np.float32)
    assert R.MinibatchStdDev()(images).shape == (4, 3, 3, 3)


@pytest.fixture
def eager():
    # Tracing the step and the K-step loop costs far more than 20 eager steps of these tiny networks.
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def test_a_short_run_finishes_finite(eager):
    # Every option of the ring's discriminator at once, on the path with the most steps (n_critic, penalty).
    tiny = R.RingConfig(steps=4, batch_size=32, latent_dim=8, g_hidden=16, d_hidden=16)
    config = tiny.replace(**R.RING_VARIANTS["wgan-gp"], spectral_norm=True, minibatch_std=True).replace(n_critic=2)
    r = R.train_ring(config, snapshot_every=2, snapshot_samples=64, eval_samples=100, jit_compile=False)
    assert r.snapshots.shape == (3, 64, 2) and np.isfinite(r.snapshots).all()
    np.testing.assert_array_equal(r.snapshot_steps, [0, 2, 4])
    assert r.d_loss.shape == r.g_loss.shape == (4,)
    assert np.isfinite(r.d_loss).all() and np.isfinite(r.g_loss).all()
    assert not np.array_equal(r.snapshots[0], r.snapshots[-1])  # the generator moved
    assert 0 <= r.final.modes_covered <= 8 and len(r.dominant_modes()) == 3
    summary = R.summarize([r, r])
    assert summary["runs"] == 2 and summary["modes_std"] == 0.0
    with pytest.raises(ValueError, match="snapshot_every must divide steps"):
        R.train_ring(tiny, snapshot_every=3)
    with pytest.raises(ValueError, match="minimax discriminator loss only"):
        R.RingConfig(discriminator_loss="hinge", generator_loss="hinge", real_label=0.9)
