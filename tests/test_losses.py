"""Every loss against a hand-computed NumPy reference, eagerly and inside tf.function."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


REAL = {
    "rank1": np.array([2.0, -1.0, 0.5, 3.0], np.float32),
    "rank2": np.array([[2.0, -1.0, 0.0], [0.5, 3.0, -2.0]], np.float32),
}
FAKE = {
    "rank1": np.array([-2.0, 0.3, 1.5, -0.7], np.float32),
    "rank2": np.array([[-0.5, 1.0, -3.0], [0.2, -1.2, 2.5]], np.float32),
}

D_CASES = {
    "minimax": (L.minimax_discriminator_loss, lambda r, f: -log_sigmoid(r).mean() - log_sigmoid(-f).mean()),
    "least_squares": (L.least_squares_discriminator_loss, lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean()),
    "wasserstein": (L.wasserstein_discriminator_loss, lambda r, f: f.mean() - r.mean()),
    "hinge": (L.hinge_discriminator_loss, lambda r, f: np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean()),
}
G_CASES = {
    "minimax": (L.minimax_generator_loss, lambda f: log_sigmoid(-f).mean()),
    "non_saturating": (L.non_saturating_generator_loss, lambda f: -log_sigmoid(f).mean()),
    "least_squares": (L.least_squares_generator_loss, lambda f: 0.5 * ((f - 1) ** 2).mean()),
    "wasserstein": (L.wasserstein_generator_loss, lambda f: -f.mean()),
    "hinge": (L.hinge_generator_loss, lambda f: -f.mean()),
}


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
@pytest.mark.parametrize("rank", ["rank1", "rank2"])
@pytest.mark.parametrize("name", list(D_CASES))
def test_discriminator_losses_match_numpy(name, rank, graph):
    fn, ref = D_CASES[name]
    f = tf.function(fn) if graph else fn
    out = f(tf.constant(REAL[rank]), tf.constant(FAKE[rank]))
    assert out.shape == () and out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(REAL[rank].astype(np.float64), FAKE[rank].astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
@pytest.mark.parametrize("rank", ["rank1", "rank2"])
@pytest.mark.parametrize("name", list(G_CASES))
def test_generator_losses_match_numpy(name, rank, graph):
    fn, ref = G_CASES[name]
    f = tf.function(fn) if graph else fn
    out = f(tf.constant(FAKE[rank]))
    assert out.shape == () and out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(FAKE[rank].astype(np.float64)), rtol=1e-6)


def test_least_squares_custom_labels():
    r, f = REAL["rank1"], FAKE["rank1"]
    out = L.least_squares_discriminator_loss(r, f, real_label=0.9, fake_label=-1.0)
    np.testing.assert_allclose(out, 0.5 * ((r - 0.9) ** 2).mean() + 0.5 * ((f + 1) ** 2).mean(), rtol=1e-6)
    np.testing.assert_allclose(L.least_squares_generator_loss(f, real_label=0.0), 0.5 * (f**2).mean(), rtol=1e-6)


@pytest.mark.parametrize("name", list(D_CASES))
def test_discriminator_gradients_finite_at_extreme_logits(name):
    fn, _ = D_CASES[name]
    real = tf.Variable([100.0, -100.0, 100.0])
    fake = tf.Variable([-100.0, 100.0, 100.0])
    with tf.GradientTape() as tape:
        loss = fn(real, fake)
    grads = tape.gradient(loss, [real, fake])
    assert np.isfinite(loss.numpy())
    assert all(np.isfinite(g.numpy()).all() for g in grads)


@pytest.mark.parametrize("name", list(G_CASES))
def test_generator_gradients_finite_at_extreme_logits(name):
    fn, _ = G_CASES[name]
    fake = tf.Variable([-100.0, 100.0])
    with tf.GradientTape() as tape:
        loss = fn(fake)
    assert np.isfinite(loss.numpy()) and np.isfinite(tape.gradient(loss, fake).numpy()).all()


def test_minimax_loss_is_stable_where_naive_log_sigmoid_is_not():
    # log(1 - sigmoid(100)) is -inf in float32; the log-sigmoid form gives -100.
    np.testing.assert_allclose(L.minimax_generator_loss(tf.constant([100.0])), -100.0, rtol=1e-6)
    np.testing.assert_allclose(L.non_saturating_generator_loss(tf.constant([-100.0])), 100.0, rtol=1e-6)


@pytest.mark.parametrize("name", list(D_CASES))
def test_mismatched_shapes_raise(name):
    fn, _ = D_CASES[name]
    with pytest.raises(ValueError, match=r"same shape.*real_logits.shape=\(4,\).*fake_logits.shape=\(3,\)"):
        fn(tf.zeros([4]), tf.zeros([3]))


def test_non_float_and_scalar_logits_raise():
    with pytest.raises(ValueError, match="floating-point"):
        L.non_saturating_generator_loss(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="scalar"):
        L.wasserstein_generator_loss(tf.constant(1.0))


def test_gradient_penalty_of_linear_critic():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(28 * 28,)).astype(np.float32)

    def critic(x):
        return tf.reduce_sum(tf.reshape(x, [-1, 28 * 28]) * w, axis=1, keepdims=True)

    real = tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)), tf.float32)
    fake = tf.constant(rng.uniform(-1, 1, (6, 28, 28, 1)), tf.float32)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(L.gradient_penalty(critic, real, fake).numpy(), expected, rtol=1e-4)
    graph = tf.function(lambda r, f: L.gradient_penalty(critic, r, f, seed=tf.constant([1, 2])))
    np.testing.assert_allclose(graph(real, fake).numpy(), expected, rtol=1e-4)


def test_gradient_penalty_interpolates_per_example_uniformly():
    # With critic f(x) = 0.5 * ||x||^2, grad = x_hat; real = 1, fake = 0, so the norm is u * sqrt(n):
    # recover each example's u and check it is in [0, 1] and differs between examples.
    real, fake = tf.ones([256, 2, 2, 1]), tf.zeros([256, 2, 2, 1])
    seen = []

    def critic(x):
        seen.append(x)
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])

    L.gradient_penalty(critic, real, fake, seed=tf.constant([3, 4]))
    u = seen[0].numpy()
    assert np.allclose(u, u[:, :1, :1, :1])  # one weight per example
    u = u[:, 0, 0, 0]
    assert u.min() >= 0.0 and u.max() <= 1.0 and 0.4 < u.mean() < 0.6 and u.std() > 0.2


def test_gradient_penalty_finite_at_zero_gradient():
    real, fake = tf.zeros([4, 28, 28, 1]), tf.zeros([4, 28, 28, 1])
    with tf.GradientTape() as tape:
        w = tf.Variable(0.0)
        tape.watch(w)
        gp = L.gradient_penalty(lambda x: w * tf.reduce_sum(x, axis=[1, 2, 3]), real, fake)
    assert np.isclose(gp.numpy(), 1.0, atol=1e-5)
    assert np.isfinite(tape.gradient(gp, w).numpy())


def test_gradient_penalty_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        L.gradient_penalty(lambda x: x, tf.zeros([2, 28, 28, 1]), tf.zeros([3, 28, 28, 1]))


def test_clip_weights():
    v = tf.Variable([-1.0, 0.005, 2.0])
    L.clip_weights([v], 0.01)
    np.testing.assert_allclose(v.numpy(), [-0.01, 0.005, 0.01])
    with pytest.raises(ValueError, match="clip_value=0"):
        L.clip_weights([v], 0)


# One-sided label smoothing and the losses of a config.


def _smoothed_minimax(r, f, alpha):
    return -(alpha * log_sigmoid(r) + (1 - alpha) * log_sigmoid(-r)).mean() - log_sigmoid(-f).mean()


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
@pytest.mark.parametrize("rank", ["rank1", "rank2"])
def test_label_smoothing_matches_numpy(rank, graph):
    fn = lambda r, f: L.minimax_discriminator_loss(r, f, real_label=0.9)  # noqa: E731
    f = tf.function(fn) if graph else fn
    r64, f64 = REAL[rank].astype(np.float64), FAKE[rank].astype(np.float64)
    out = f(tf.constant(REAL[rank]), tf.constant(FAKE[rank]))
    np.testing.assert_allclose(out.numpy(), _smoothed_minimax(r64, f64, 0.9), rtol=1e-6)


def test_label_smoothing_changes_only_the_real_term():
    r = REAL["rank1"].astype(np.float64)
    # Hand-computed: at alpha = 0.9 the real term gains 0.1 * mean[log D(x) - log(1 - D(x))] = 0.1 * mean(r).
    expected_shift = 0.1 * r.mean()
    for fake in (FAKE["rank1"], -3.0 * FAKE["rank1"], np.zeros(4, np.float32)):
        shift = L.minimax_discriminator_loss(REAL["rank1"], fake, real_label=0.9) - L.minimax_discriminator_loss(
            REAL["rank1"], fake
        )
        np.testing.assert_allclose(shift.numpy(), expected_shift, rtol=1e-5)
    # The gradient with respect to the fake logits is unchanged; the real one is sigmoid(r) - alpha per element / n.
    real, fake = tf.Variable(REAL["rank1"]), tf.Variable(FAKE["rank1"])
    with tf.GradientTape(persistent=True) as tape:
        plain = L.minimax_discriminator_loss(real, fake)
        smooth = L.minimax_discriminator_loss(real, fake, real_label=0.9)
    np.testing.assert_allclose(tape.gradient(smooth, fake).numpy(), tape.gradient(plain, fake).numpy(), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(smooth, real).numpy(), (1 / (1 + np.exp(-r)) - 0.9) / 4, rtol=1e-5)
    np.testing.assert_allclose(L.minimax_discriminator_loss(REAL["rank1"], FAKE["rank1"], real_label=1.0),
                               D_CASES["minimax"][1](r, FAKE["rank1"].astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.1, True, "0.9", None])
def test_label_smoothing_refuses_labels_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"real_label must be a number in \(0, 1\].*Received: real_label="):
        L.minimax_discriminator_loss(REAL["rank1"], FAKE["rank1"], real_label=bad)


def test_for_config_returns_the_configured_losses():
    from types import SimpleNamespace

    from ganlib.config import get_config

    assert L.for_config(get_config("dcgan")) == (L.minimax_discriminator_loss, L.non_saturating_generator_loss)
    assert L.for_config(get_config("wgan-gp")) == (L.wasserstein_discriminator_loss, L.wasserstein_generator_loss)
    d_loss, g_loss = L.for_config(get_config("dcgan", real_label=0.9))
    assert g_loss is L.non_saturating_generator_loss
    r, f = REAL["rank2"], FAKE["rank2"]
    expected = _smoothed_minimax(r.astype(np.float64), f.astype(np.float64), 0.9)
    np.testing.assert_allclose(d_loss(r, f), expected, rtol=1e-6)
    # Objects other than TrainConfig (which refuses these itself) get the same checks.
    with pytest.raises(ValueError, match="minimax discriminator loss only.*'hinge'"):
        L.for_config(SimpleNamespace(discriminator_loss="hinge", generator_loss="hinge", real_label=0.9))
    with pytest.raises(ValueError, match="Unknown discriminator_loss.*'bce'"):
        L.for_config(SimpleNamespace(discriminator_loss="bce", generator_loss="hinge"))
    with pytest.raises(ValueError, match="Unknown generator_loss.*'bce'"):
        L.for_config(SimpleNamespace(discriminator_loss="hinge", generator_loss="bce"))


@pytest.mark.parametrize("overrides,match", [
    (dict(real_label=1.5), r"real_label must be a number in \(0, 1\]"),
    (dict(real_label=0.0), r"real_label must be a number in \(0, 1\]"),
    (dict(real_label=0.9, discriminator_loss="least_squares"), "minimax discriminator loss only"),
])
def test_config_validates_real_label(overrides, match):
    from ganlib.config import get_config

    with pytest.raises(ValueError, match=match):
        get_config("dcgan", **overrides)
