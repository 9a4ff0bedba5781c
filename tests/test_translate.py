"""Image-to-image translation (ganlib.translate): networks, receptive field, losses, masks, metrics, training, resume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ganlib.config import get_config
from ganlib.translate import metrics, tasks

TINY = dict(epochs=2, batch_size=8, g_filters=4, d_filters=4, num_samples=9)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """32 blocky "digits" in [-1, 1]: a bright bar at a different place in each image."""
    x = -np.ones([32, 28, 28, 1], np.float32)
    for i in range(32):
        x[i, 4 + i % 16: 10 + i % 16, 6:22] = 1.0
    return x


# -- networks -------------------------------------------------------------------------------------------------------


def test_unet_and_patchgan_shapes_and_skips():
    import keras

    from ganlib.translate.networks import build_patchgan, build_unet

    g = build_unet(2, 8)
    out = g(np.random.default_rng(0).uniform(-1, 1, [3, 28, 28, 2]).astype(np.float32), training=False)
    assert tuple(out.shape) == (3, 28, 28, 1) and float(np.abs(out).max()) <= 1.0
    # Two skip connections: the decoder concatenates the 7x7 and the 14x14 encoder maps.
    concats = [layer for layer in g.layers if isinstance(layer, keras.layers.Concatenate)]
    assert [tuple(c.output.shape[1:3]) for c in concats] == [(7, 7), (14, 14)]
    d = build_patchgan(3, 8)
    assert tuple(d(np.zeros([2, 28, 28, 3], np.float32)).shape) == (2, 7, 7, 1)
    assert tuple(build_unet(1, 4)(np.zeros([1, 28, 28, 1], np.float32)).shape) == (1, 28, 28, 1)
    with pytest.raises(ValueError, match="filters must be a positive integer"):
        build_unet(2, 0)


def test_receptive_field_by_hand_and_by_gradient():
    import tensorflow as tf

    from ganlib.translate.networks import PATCHGAN_LAYERS, build_patchgan, receptive_field

    # By hand: r = 1 + (4-1)*1 = 4, + (4-1)*2 = 10, + (3-1)*4 = 18.
    assert receptive_field([(4, 2), (4, 2), (3, 1)]) == 18
    assert receptive_field([(k, s) for k, s, *_ in PATCHGAN_LAYERS]) == 18
    assert receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70  # the paper's 70x70 PatchGAN
    assert receptive_field([]) == 1
    with pytest.raises(ValueError, match="positive integers"):
        receptive_field([(0, 1)])
    # The input pixels that move one interior logit span exactly 18 rows and 18 columns.
    d = build_patchgan(1, 4, batch_norm=False)
    x = tf.Variable(tf.random.normal([1, 28, 28, 1], seed=1))
    with tf.GradientTape() as tape:
        logit = d(x)[0, 3, 3, 0]
    support = np.argwhere(np.abs(tape.gradient(logit, x).numpy()[0, ..., 0]) > 0)
    assert support[:, 0].max() - support[:, 0].min() + 1 == 18
    assert support[:, 1].max() - support[:, 1].min() + 1 == 18


# -- losses ---------------------------------------------------------------------------------------------------------


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def test_pix2pix_generator_loss_is_eq_4_computed_directly():
    import tensorflow as tf

    from ganlib.losses import non_saturating_generator_loss
    from ganlib.translate.losses import pix2pix_generator_loss

    rng = np.random.default_rng(0)
    logits = rng.normal(size=[4, 7, 7, 1]).astype(np.float32)
    y, g = (rng.uniform(-1, 1, [4, 28, 28, 1]).astype(np.float32) for _ in range(2))
    adv_np = _softplus(-logits).mean()  # -log sigmoid(D(x, G(x))), averaged over the patches
    l1_np = np.abs(y - g).mean()
    for adv_weight, l1_weight in ((1.0, 100.0), (0.0, 100.0), (2.0, 0.5)):
        total, adv, l1 = pix2pix_generator_loss(logits, y, g, adversarial=non_saturating_generator_loss,
                                                adv_weight=adv_weight, l1_weight=l1_weight)
        np.testing.assert_allclose(float(l1), l1_np, rtol=1e-5)
        np.testing.assert_allclose(float(total), adv_weight * adv_np + l1_weight * l1_np, rtol=1e-5)
        if adv_weight:
            np.testing.assert_allclose(float(adv), adv_np, rtol=1e-5)
    traced = tf.function(lambda a, b, c: pix2pix_generator_loss(a, b, c, adversarial=non_saturating_generator_loss)[0])
    np.testing.assert_allclose(float(traced(logits, y, g)), adv_np + 100 * l1_np, rtol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        pix2pix_generator_loss(logits, y, g[:, :14], adversarial=non_saturating_generator_loss)


def test_cycle_and_identity_losses_against_numpy():
    from ganlib.translate.losses import cycle_consistency_loss, identity_loss

    rng = np.random.default_rng(1)
    x, xc, y, yc = (rng.uniform(-1, 1, [3, 28, 28, 1]).astype(np.float32) for _ in range(4))
    np.testing.assert_allclose(float(cycle_consistency_loss(x, xc, y, yc)),
                               np.abs(xc - x).mean() + np.abs(yc - y).mean(), rtol=1e-5)
    np.testing.assert_allclose(float(identity_loss(x, xc, y, yc)), np.abs(yc - y).mean() + np.abs(xc - x).mean(),
                               rtol=1e-5)
    assert float(cycle_consistency_loss(x, x, y, y)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        identity_loss(x, xc[:2, :5], y, yc)


# -- tasks ----------------------------------------------------------------------------------------------------------


def test_masks_masked_input_and_paste():
    import tensorflow as tf

    from ganlib.translate.pix2pix import tf_masks

    half = tasks.lower_half_mask(2)
    assert half[:, :14].max() == 0 and half[:, 14:].min() == 1
    np.testing.assert_array_equal(tf_masks("lower_half", 14, None, 2).numpy(), half)
    squares = tf_masks("square", 10, tf.random.Generator.from_seed(0), 50).numpy()
    assert (squares.reshape(50, -1).sum(axis=1) == 100).all()
    rows = np.argwhere(squares[0, ..., 0].any(axis=1))[:, 0]
    assert rows.max() - rows.min() == 9  # one contiguous 10x10 square
    np.testing.assert_array_equal(tasks.square_masks(np.array([[3, 5]]), 4)[0, 3:7, 5:9, 0], np.ones([4, 4]))
    with pytest.raises(ValueError, match="corners in 0..24"):
        tasks.square_masks(np.array([[25, 0]]), 4)
    x = np.random.default_rng(2).uniform(-1, 1, [2, 28, 28, 1]).astype(np.float32)
    pairs = tasks.masked_input(x, half)
    assert pairs.shape == (2, 28, 28, 2)
    np.testing.assert_array_equal(pairs[:, :14, :, 0], x[:, :14, :, 0])
    assert (pairs[:, 14:, :, 0] == tasks.FILL).all()
    np.testing.assert_array_equal(tasks.paste(pairs, x), x)  # a perfect output restores the digit


def test_dilation_and_disjoint_stroke_domains(digits):
    point = -np.ones([1, 28, 28, 1], np.float32)
    point[0, 0, 0] = 1.0
    point[0, 10, 10] = 0.5
    bold = tasks.dilate(point)
    assert (bold[0, :2, :2] == 1.0).all() and (bold > -1).sum() == 4 + 9  # the corner pixel: a 2x2 block
    assert (bold[0, 9:12, 9:12] == 0.5).all()
    x, y = tasks.stroke_domains(digits)
    assert len(x) == len(y) == 16
    np.testing.assert_array_equal(x, digits[:16])
    np.testing.assert_array_equal(y, tasks.dilate(digits[16:]))
    with pytest.raises(ValueError, match="odd positive"):
        tasks.dilate(point, 2)


# -- metrics --------------------------------------------------------------------------------------------------------


def test_metrics_on_trivial_cases(digits):
    m = tasks.lower_half_mask(len(digits))
    assert metrics.masked_l1(digits, digits, m) == 0.0
    assert metrics.masked_psnr(digits, digits, m) == metrics.PSNR_CAP
    # Every hidden pixel off by the full range: L1 2, MSE 4, PSNR 10 log10(4 / 4) = 0 dB.
    target, wrong = np.ones([2, 28, 28, 1]), -np.ones([2, 28, 28, 1])
    assert metrics.masked_l1(target, wrong, m[:2]) == 2.0 and metrics.masked_psnr(target, wrong, m[:2]) == 0.0
    # The masked-input baseline: its error is the hidden ink's distance to the background only.
    baseline = tasks.masked_input(digits, m)[..., :1]
    expected = np.abs(digits - baseline)[:, 14:].mean()
    np.testing.assert_allclose(metrics.masked_l1(digits, baseline, m), expected, rtol=1e-6)
    one_off = digits.copy()
    one_off[0, 20, 20, 0] += 0.5 if one_off[0, 20, 20, 0] < 0.5 else -0.5
    mse = 0.25 / (14 * 28)
    np.testing.assert_allclose(metrics.masked_psnr(digits, one_off, m),
                               (10 * np.log10(4 / mse) + (len(digits) - 1) * metrics.PSNR_CAP) / len(digits))
    assert metrics.translation_error(digits, digits) == 0.0
    with pytest.raises(ValueError, match="hide at least one pixel"):
        metrics.masked_l1(digits, digits, np.zeros_like(digits))


def test_classifier_metrics_on_real_digits():
    from conftest import SHARED_DATA

    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip("needs the MNIST test split")
    from ganlib.data import load_dataset

    test = load_dataset("mnist", "test", data_dir=SHARED_DATA, limit=200)
    assert metrics.class_kept(test.images, test.labels) > 0.95
    assert metrics.class_kept(test.images, (np.asarray(test.labels) + 1) % 10) < 0.05
    blank = -np.ones([200, 28, 28, 1], np.float32)
    blank[:, 5:20, 13:15] = 1
    assert metrics.completion_fcd(test.images, data_dir=SHARED_DATA) < metrics.completion_fcd(blank, data_dir=SHARED_DATA)


# -- config and family ----------------------------------------------------------------------------------------------


def test_config_refuses_what_the_translation_families_cannot_do():
    assert get_config("pix2pix").mask == "lower_half" and get_config("pix2pix").l1_weight == 100.0
    c = get_config("cyclegan")
    assert (c.cycle_weight, c.identity_weight, c.discriminator_loss) == (10.0, 0.5, "least_squares")
    with pytest.raises(ValueError, match="Received: pix2pix=True, conditional=True"):
        get_config("pix2pix", conditional=True)
    with pytest.raises(ValueError, match="at most one of them"):
        get_config("pix2pix", cyclegan=True)
    with pytest.raises(ValueError, match="discriminator_loss='wasserstein'"):
        get_config("cyclegan", discriminator_loss="wasserstein", generator_loss="wasserstein")
    with pytest.raises(ValueError, match="mask_size must be at most 28"):
        get_config("pix2pix", mask_size=29)


def test_fit_is_refused_and_sampling_from_z_too():
    from ganlib.train.family import family_for, family_name
    from ganlib.train.state import build_gan

    assert family_name(get_config("pix2pix")) == "pix2pix" and family_name(get_config("cyclegan")) == "cyclegan"
    gan = build_gan(get_config("pix2pix", **TINY))
    with pytest.raises(ValueError, match="fit\\(\\) adapter cannot drive"):
        family_for(gan.config).check_fit(gan)
    with pytest.raises(ValueError, match="draws nothing from latent vectors"):
        gan.generate(np.zeros([2, gan.config.latent_dim]))


# -- training through ganlib.train ----------------------------------------------------------------------------------


def _weights(gan, names=()):
    nets = [gan.generator, gan.discriminator] + [gan.extras[n] for n in names]
    return [w.numpy() for net in nets for w in net.weights]


def test_pix2pix_trains_and_resumes_exactly(tmp_path, digits):
    from ganlib.train import train
    from ganlib.train.runs import RunDir
    from ganlib.train.state import build_gan, load_run

    config = get_config("pix2pix", mask="square", mask_size=10, **TINY)
    history = train(config, tmp_path / "straight", images=digits, progress=False)
    assert len(history) == 2 and all(np.isfinite([r["d_loss"], r["g_loss"], r["g_l1"]]).all() for r in history)
    train(dataclasses.replace(config, epochs=1), tmp_path / "split", images=digits, progress=False)
    train(config, tmp_path / "split", images=digits, progress=False)
    a, _ = load_run(tmp_path / "straight")
    b, run = load_run(tmp_path / "split")
    for x, y in zip(_weights(a) + [a.grid_pairs.numpy()], _weights(b) + [b.grid_pairs.numpy()], strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)
    assert [p.name for p in run.sample_grids()] == ["epoch_0001.png", "epoch_0002.png"]
    assert RunDir(tmp_path / "split").gif.is_file()
    grid = a.fixed_grid()  # 3 digits per row: masked input, completion, truth
    assert grid.shape == (9, 28, 28, 1)
    np.testing.assert_array_equal(grid[6:9], digits[:3])
    untrained = build_gan(config)
    assert not all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(untrained)))


def test_l1_only_baseline_leaves_the_discriminator_untrained(tmp_path, digits):
    from ganlib.train import train
    from ganlib.train.state import build_gan, load_run

    config = get_config("pix2pix", adv_weight=0.0, **{**TINY, "epochs": 1})
    history = train(config, tmp_path / "l1", images=digits, progress=False)
    trained, fresh = load_run(tmp_path / "l1")[0], build_gan(config)
    for x, y in zip(trained.discriminator.trainable_weights, fresh.discriminator.trainable_weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(trained.generator.trainable_weights[0].numpy(),
                              fresh.generator.trainable_weights[0].numpy())
    assert history[0]["g_adv"] == 0.0 and history[0]["g_loss"] == pytest.approx(100 * history[0]["g_l1"], rel=1e-5)


def test_cyclegan_trains_and_resumes_exactly_with_its_extras(tmp_path, digits):
    from ganlib.train import train
    from ganlib.train.state import load_run
    from ganlib.translate.cyclegan import evaluate_strokes

    config = get_config("cyclegan", **TINY)
    history = train(config, tmp_path / "straight", images=digits, progress=False)
    assert {"cycle", "identity"} <= set(history[-1]) and np.isfinite(history[-1]["g_loss"])
    train(dataclasses.replace(config, epochs=1), tmp_path / "split", images=digits, progress=False)
    train(config, tmp_path / "split", images=digits, progress=False)
    a, b = load_run(tmp_path / "straight")[0], load_run(tmp_path / "split")[0]
    names = ("generator_f", "discriminator_x")
    for x, y in zip(_weights(a, names), _weights(b, names), strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)
    for x, y in zip(a.f_optimizer.variables + a.dx_optimizer.variables,
                    b.f_optimizer.variables + b.dx_optimizer.variables, strict=True):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=0, atol=1e-6)
    assert int(a.f_optimizer.iterations.numpy()) == 2 * (len(digits) // TINY["batch_size"])
    assert a.fixed_grid().shape == (12, 28, 28, 1)  # 3 digits: x, G(x), y, F(y)
    figures = evaluate_strokes(a, digits[:4], np.zeros(4, np.int64))
    assert figures["identity_error"] == pytest.approx(metrics.translation_error(tasks.dilate(digits[:4]), digits[:4]))
    assert 0 <= figures["cycle_error"] <= 2
