"""Progressive growing: every ingredient against a direct NumPy computation, the fade-in at alpha 0 and 1,
the schedule, and a checkpoint round trip in the middle of a fade-in."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib import progressive as P

LATENT_DIM, FILTERS = 8, 4


def small_schedule() -> P.GrowthSchedule:
    return P.GrowthSchedule(stabilize_images=(40, 40, 40), fade_images=(20, 40), batch_sizes=(8, 4, 4))


@pytest.fixture(scope="module")
def nets():
    keras.utils.set_random_seed(3)
    growth = P.Growth(small_schedule())
    g = P.build_progressive_generator(growth, LATENT_DIM, FILTERS)
    d = P.build_progressive_discriminator(growth, FILTERS)
    return growth, g, d


def numpy_upsample(x: np.ndarray, factor: int) -> np.ndarray:
    return x.repeat(factor, axis=1).repeat(factor, axis=2)


def numpy_downsample(x: np.ndarray, factor: int) -> np.ndarray:
    n, h, w, c = x.shape
    return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


# Resampling and fade-in.


def test_upsample_downsample_and_full_resolution_match_numpy():
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(P.upsample(x).numpy(), numpy_upsample(x, 2))
    big = numpy_upsample(x, 4)
    np.testing.assert_allclose(P.downsample(big, 4).numpy(), x, rtol=1e-6)
    y = np.random.default_rng(1).normal(size=(2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(P.downsample(y).numpy(), numpy_downsample(y, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(P.to_full_resolution(x[..., :1]).numpy(), numpy_upsample(x[..., :1], 4))
    np.testing.assert_allclose(P.to_resolution(y, 7).numpy(), numpy_downsample(y, 4), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Received: shape"):
        P.to_full_resolution(np.zeros((1, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="Received: resolution=28"):
        P.to_resolution(x, 28)


def test_fade_in_formula():
    old, new = np.full((2, 3), 2.0, np.float32), np.full((2, 3), -6.0, np.float32)
    np.testing.assert_array_equal(P.fade_in(0.0, old, new).numpy(), old)
    np.testing.assert_array_equal(P.fade_in(1.0, old, new).numpy(), new)
    np.testing.assert_allclose(P.fade_in(tf.Variable(0.25), old, new).numpy(), 0.75 * 2.0 + 0.25 * -6.0)
    with pytest.raises(ValueError, match="Received: old.shape"):
        P.fade_in(0.5, old, new[:, :2])


def test_prepare_reals_downsamples_and_blends():
    x = np.random.default_rng(2).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    at7 = numpy_upsample(numpy_downsample(x, 4), 4)
    at14 = numpy_upsample(numpy_downsample(x, 2), 2)
    np.testing.assert_allclose(P.prepare_reals(x, 0, 0.3).numpy(), at7, atol=1e-6)  # no fade at stage 0
    np.testing.assert_allclose(P.prepare_reals(x, 1, 0.0).numpy(), at7, atol=1e-6)
    np.testing.assert_allclose(P.prepare_reals(x, 1, 1.0).numpy(), at14, atol=1e-6)
    np.testing.assert_allclose(P.prepare_reals(x, 2, 0.25).numpy(), 0.75 * at14 + 0.25 * x, atol=1e-6)
    # Through the growth state inside a traced function: alpha is read at run time.
    growth = P.Growth(small_schedule())
    growth.set_images_seen(50)  # stage 1, alpha 0.5
    f = tf.function(growth.prepare_reals)
    np.testing.assert_allclose(f(x).numpy(), 0.5 * at7 + 0.5 * at14, atol=1e-6)
    growth.set_images_seen(55)  # alpha 0.75, same stage: the same trace
    np.testing.assert_allclose(f(x).numpy(), 0.25 * at7 + 0.75 * at14, atol=1e-6)
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match="Received: stage=3"):
        P.prepare_reals(x, 3, 1.0)


# Pixel norm, minibatch standard deviation, equalized learning rate.


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    a = np.random.default_rng(3).normal(0, 5, (3, 4, 4, 6)).astype(np.float32)
    b = P.PixelNorm()(a).numpy()
    np.testing.assert_allclose((b**2).mean(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(b, a / np.sqrt((a**2).mean(axis=-1, keepdims=True) + 1e-8), rtol=1e-5)
    z = np.random.default_rng(4).normal(size=(5, 8)).astype(np.float32)
    np.testing.assert_allclose((P.pixel_norm(z).numpy() ** 2).mean(axis=-1), 1.0, rtol=1e-5)


def test_minibatch_stddev_extra_map_is_the_batch_mean_standard_deviation():
    x = np.random.default_rng(5).normal(0, 2, (6, 3, 3, 5)).astype(np.float32)
    y = P.MinibatchStdDev(group_size=None)(x).numpy()
    assert y.shape == (6, 3, 3, 6)
    np.testing.assert_array_equal(y[..., :5], x)
    expected = np.sqrt(x.astype(np.float64).var(axis=0) + 1e-8).mean()  # population std per feature and pixel
    np.testing.assert_allclose(y[..., 5], expected, rtol=1e-5)


def test_minibatch_stddev_groups_as_in_the_papers_code():
    x = np.random.default_rng(6).normal(size=(8, 2, 2, 3)).astype(np.float32)
    y = P.minibatch_stddev(x, 4).numpy()
    for m in range(2):  # image n is in group n mod 2
        members = x[m::2].astype(np.float64)
        np.testing.assert_allclose(y[m::2, ..., 3], np.sqrt(members.var(axis=0) + 1e-8).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="Received: batch=6"):
        P.minibatch_stddev(x[:6], 4)
    with pytest.raises(ValueError, match="Received: group_size=1"):
        P.minibatch_stddev(x, 1)


def test_equalized_dense_scales_a_unit_normal_kernel_at_run_time():
    keras.utils.set_random_seed(7)
    layer = P.EqualizedDense(300)
    x = np.random.default_rng(8).normal(size=(3, 200)).astype(np.float32)
    layer.build(x.shape)
    w = layer.kernel.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02  # stored weights ~ N(0, 1)
    assert layer.scale == pytest.approx(math.sqrt(2.0 / 200))
    np.testing.assert_allclose(layer.effective_kernel.numpy(), w * math.sqrt(2.0 / 200), rtol=1e-6)
    layer.bias.assign(np.linspace(-1, 1, 300).astype(np.float32))
    expected = x.astype(np.float64) @ (w * math.sqrt(2.0 / 200)) + np.linspace(-1, 1, 300)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-4)
    score = P.EqualizedDense(1, gain=1.0)  # a linear output: gain 1
    score.build((None, 16))
    assert score.scale == pytest.approx(0.25)


def test_equalized_conv_matches_a_direct_convolution():
    keras.utils.set_random_seed(9)
    layer = P.EqualizedConv2D(4, 3)
    x = np.random.default_rng(10).normal(size=(2, 5, 5, 3)).astype(np.float32)
    layer.build(x.shape)
    layer.bias.assign(np.array([0.5, -0.5, 1.0, 0.0], np.float32))
    c = math.sqrt(2.0 / (3 * 3 * 3))
    assert layer.scale == pytest.approx(c)
    w = layer.kernel.numpy().astype(np.float64) * c
    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.zeros((2, 5, 5, 4))
    for i in range(5):
        for j in range(5):
            expected[:, i, j] = np.einsum("nabc,abcf->nf", padded[:, i : i + 3, j : j + 3], w)
    expected += layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-4)
    to_rgb = P.EqualizedConv2D(1, 1, gain=1.0)
    to_rgb.build((None, 7, 7, 16))
    assert to_rgb.scale == pytest.approx(1.0 / 4.0)
    with pytest.raises(ValueError, match="Received: kernel_size=2"):
        P.EqualizedConv2D(4, 2)


def test_drift_penalty_matches_numpy():
    real = np.array([[2.0], [-1.0], [0.5]], np.float32)
    for fn in (L.drift_penalty, tf.function(L.drift_penalty)):
        np.testing.assert_allclose(fn(tf.constant(real)).numpy(), (real.astype(np.float64) ** 2).mean(), rtol=1e-6)
    with pytest.raises(ValueError, match="Received a scalar"):
        L.drift_penalty(tf.constant(1.0))


# The growing networks.


def test_generator_fade_in_at_alpha_0_is_the_old_path_and_at_1_the_new_path(nets):
    _, g, _ = nets
    z = tf.random.normal([4, LATENT_DIM], seed=11)
    h7 = g.blocks[0](z)
    h14 = g.blocks[1](h7)
    old14, new14 = P.upsample(g.to_rgb[0](h7)), g.to_rgb[1](h14)
    old28, new28 = P.upsample(g.to_rgb[1](h14)), g.to_rgb[2](g.blocks[2](h14))
    np.testing.assert_allclose(g.forward(z, stage=0).numpy(), g.to_rgb[0](h7).numpy(), atol=1e-6)
    np.testing.assert_allclose(g.forward(z, stage=1, alpha=0.0).numpy(), old14.numpy(), atol=1e-6)
    np.testing.assert_allclose(g.forward(z, stage=1, alpha=1.0).numpy(), new14.numpy(), atol=1e-6)
    np.testing.assert_allclose(g.forward(z, stage=2, alpha=0.0).numpy(), old28.numpy(), atol=1e-6)
    np.testing.assert_allclose(g.forward(z, stage=2, alpha=1.0).numpy(), new28.numpy(), atol=1e-6)
    assert not np.allclose(old28.numpy(), new28.numpy())  # the two paths differ, so the checks above can fail


def test_discriminator_fade_in_at_alpha_0_is_the_old_path_and_at_1_the_new_path(nets):
    _, _, d = nets
    x28 = tf.random.uniform([4, 28, 28, 1], -1, 1, seed=12)
    x14 = P.downsample(x28)
    old14 = d.blocks[0](d.from_rgb[0](P.downsample(x14)))
    new14 = d.blocks[0](d.blocks[1](d.from_rgb[1](x14)))
    np.testing.assert_allclose(d.forward(x14, stage=1, alpha=0.0).numpy(), old14.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d.forward(x14, stage=1, alpha=1.0).numpy(), new14.numpy(), rtol=1e-5, atol=1e-5)
    old28 = d.blocks[0](d.blocks[1](d.from_rgb[1](x14)))
    new28 = d.blocks[0](d.blocks[1](d.blocks[2](d.from_rgb[2](x28))))
    np.testing.assert_allclose(d.forward(x28, stage=2, alpha=0.0).numpy(), old28.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d.forward(x28, stage=2, alpha=1.0).numpy(), new28.numpy(), rtol=1e-5, atol=1e-5)
    assert not np.allclose(old28.numpy(), new28.numpy())


def test_networks_take_and_give_28x28_at_the_growth_stage(nets):
    growth, g, d = nets
    z = tf.random.normal([4, LATENT_DIM], seed=13)
    x = tf.random.uniform([4, 28, 28, 1], -1, 1, seed=14)
    for images_seen, (stage, alpha) in [(0, (0, 1.0)), (50, (1, 0.5)), (100, (2, 0.0)), (130, (2, 0.75))]:
        assert growth.set_images_seen(images_seen)[1:3] == (stage, alpha)
        raw = g(z, training=True).numpy()
        assert raw.shape == (4, 28, 28, 1)
        expected = P.to_full_resolution(g.forward(z, stage=stage, alpha=alpha)).numpy()
        np.testing.assert_allclose(raw, expected, atol=1e-6)
        np.testing.assert_allclose(g(z).numpy(), np.clip(expected, -1, 1), atol=1e-6)  # inference mode clips
        x_r = P.to_resolution(x, P.RESOLUTIONS[stage])
        scores = d(P.to_full_resolution(x_r)).numpy()  # 28x28, constant on blocks, as in training
        assert scores.shape == (4, 1)
        expected_scores = d.forward(x_r, stage=stage, alpha=alpha).numpy()
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    growth.set_images_seen(0)


def test_discriminator_input_subsampling_keeps_the_gradient_norm_of_the_stage_resolution(nets):
    growth, _, d = nets
    average = P.build_progressive_discriminator(growth, FILTERS, input_downsampling="average")
    average.set_weights(d.get_weights())
    growth.set_images_seen(0)  # 7x7: k = 4
    x7 = tf.random.uniform([4, 7, 7, 1], -1, 1, seed=19)
    x28 = P.to_full_resolution(x7)

    def input_gradient(fn, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = fn(x)
        return scores.numpy(), tape.gradient(scores, x).numpy()

    native_scores, native_grad = input_gradient(lambda x: d.forward(x, stage=0), x7)
    for model, norm_factor in ((d, 1.0), (average, 0.25)):
        scores, grad = input_gradient(model, x28)
        np.testing.assert_allclose(scores, native_scores, rtol=1e-5, atol=1e-5)  # the same scores in training
        np.testing.assert_allclose(np.sqrt((grad**2).sum(axis=(1, 2, 3))),
                                   norm_factor * np.sqrt((native_grad**2).sum(axis=(1, 2, 3))), rtol=1e-4)
    with pytest.raises(ValueError, match="Received: input_downsampling='max'"):
        P.build_progressive_discriminator(growth, FILTERS, input_downsampling="max")


@pytest.mark.filterwarnings("ignore:Gradients do not exist for variables")  # blocks not in use: None, skipped
def test_optimizers_built_once_train_every_stage_and_a_stale_trace_fails(nets):
    growth, g, d = nets
    g_opt, d_opt = P.make_optimizer(), P.make_optimizer()
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    to_rgb_28 = g.to_rgb[2].kernel  # not in use before stage 2

    def step(real, z):
        real = growth.prepare_reals(real)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(z, training=True)
            real_scores, fake_scores = d(real, training=True), d(fake, training=True)
            gp = L.gradient_penalty(lambda x: d(x, training=True), real, fake)
            d_loss = (L.wasserstein_discriminator_loss(real_scores, fake_scores) + P.GP_WEIGHT * gp
                      + P.DRIFT_WEIGHT * L.drift_penalty(real_scores))
            g_loss = L.wasserstein_generator_loss(fake_scores)
        g_grads = g_tape.gradient(g_loss, g.trainable_variables)
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        g_opt.apply_gradients(zip(g_grads, g.trainable_variables))
        return d_loss, g_loss

    real = tf.random.uniform([4, 28, 28, 1], -1, 1, seed=15)
    z = tf.random.normal([4, LATENT_DIM], seed=16)
    before = to_rgb_28.numpy().copy()
    growth.set_images_seen(0)
    stale = tf.function(step)
    assert all(np.isfinite(v.numpy()) for v in stale(real, z))
    np.testing.assert_array_equal(to_rgb_28.numpy(), before)  # not in use at stage 0: no gradient, no step
    growth.set_images_seen(50)  # stage 1, alpha 0.5
    with pytest.raises(tf.errors.InvalidArgumentError, match="trace the train step again"):
        stale(real, z)
    to_rgb_14 = g.to_rgb[1].kernel.numpy().copy()
    fresh = tf.function(step)
    assert all(np.isfinite(v.numpy()) for v in fresh(real, z))
    assert not np.array_equal(g.to_rgb[1].kernel.numpy(), to_rgb_14)  # the new block trains
    np.testing.assert_array_equal(to_rgb_28.numpy(), before)
    growth.set_images_seen(0)


def test_reset_optimizer_state_zeroes_moments_and_step_but_keeps_the_learning_rate():
    v = keras.Variable(np.ones(3, np.float32))
    opt = P.make_optimizer()
    opt.apply_gradients([(tf.constant([1.0, 2.0, 3.0]), v)])
    moments = [w for w in opt.variables if w is not opt.learning_rate and w is not opt.iterations]
    assert int(opt.iterations.numpy()) == 1 and all(np.any(w.numpy() != 0) for w in moments)
    P.reset_optimizer_state(opt)
    assert int(opt.iterations.numpy()) == 0
    assert not any(np.any(w.numpy()) for w in moments)
    assert float(opt.learning_rate.numpy()) == pytest.approx(1e-3)


# Schedule and checkpoint.


def test_schedule_gives_stage_alpha_and_batch_size_from_images_seen():
    s = small_schedule()
    assert s.total_images == 180
    assert [(p.stage, p.fading, p.start, p.end, p.batch_size) for p in s.phases()] == [
        (0, False, 0, 40, 8), (1, True, 40, 60, 4), (1, False, 60, 100, 4), (2, True, 100, 140, 4),
        (2, False, 140, 180, 4)]
    cases = {0: (0, 1.0), 39: (0, 1.0), 40: (1, 0.0), 45: (1, 0.25), 59: (1, 0.95), 60: (1, 1.0), 100: (2, 0.0),
             130: (2, 0.75), 179: (2, 1.0), 500: (2, 1.0)}
    for n, (stage, alpha) in cases.items():
        p = s.progress(n)
        assert (p.stage, p.resolution) == (stage, P.RESOLUTIONS[stage]) and p.alpha == pytest.approx(alpha)
        assert p.done == (n >= 180) and p.batch_size == (8 if stage == 0 else 4)
    no_fade = P.GrowthSchedule((10, 10, 10), (0, 0), (2, 2, 2))
    assert [(p.stage, p.fading) for p in no_fade.phases()] == [(0, False), (1, False), (2, False)]
    assert no_fade.progress(10)[1:3] == (1, 1.0)
    assert P.GrowthSchedule.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@pytest.mark.parametrize("kwargs,match", [
    ({"fade_images": (10,)}, "fade_images must be 2 integers >= 0"),
    ({"stabilize_images": (10, -1, 10)}, "stabilize_images must be 3 integers >= 0"),
    ({"batch_sizes": (16, 0, 16)}, "batch_sizes must be 3 integers >= 1"),
    ({"stabilize_images": (0, 0, 0), "fade_images": (0, 0)}, "at least one image"),
])
def test_invalid_schedules_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.GrowthSchedule(**kwargs)
    with pytest.raises(ValueError, match="Received: images_seen=-1"):
        small_schedule().progress(-1)


def test_checkpoint_in_the_middle_of_a_fade_in_restores_stage_alpha_and_outputs(nets, tmp_path):
    growth, g, d = nets
    growth.set_images_seen(0)
    assert growth.advance(8).stage == 0
    progress = growth.advance(42)  # 50 images: halfway through the fade-in of 14x14
    assert (progress.stage, progress.alpha) == (1, 0.5)
    z = tf.random.normal([4, LATENT_DIM], seed=17)
    x = tf.random.uniform([4, 28, 28, 1], -1, 1, seed=18)
    images, scores = g(z, training=True).numpy(), d(x).numpy()
    path = tf.train.Checkpoint(generator=g, discriminator=d, growth=growth).save(str(tmp_path / "ckpt"))

    keras.utils.set_random_seed(99)  # other initial weights
    fresh_growth = P.Growth(small_schedule())
    fresh_g = P.build_progressive_generator(fresh_growth, LATENT_DIM, FILTERS)
    fresh_d = P.build_progressive_discriminator(fresh_growth, FILTERS)
    assert not np.allclose(fresh_g(z, training=True).numpy(), images)
    tf.train.Checkpoint(generator=fresh_g, discriminator=fresh_d, growth=fresh_growth).restore(
        path).assert_consumed()
    assert int(fresh_growth.images_seen.numpy()) == 50
    assert int(fresh_growth.stage.numpy()) == 1 and float(fresh_growth.alpha.numpy()) == 0.5
    np.testing.assert_array_equal(fresh_g(z, training=True).numpy(), images)
    np.testing.assert_array_equal(fresh_d(x).numpy(), scores)
    assert fresh_growth.progress() == growth.progress()
    growth.set_images_seen(0)
