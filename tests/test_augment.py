"""DiffAugment: the transforms against NumPy, their gradients, the config check, and training through the real path."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ganlib import augment as A
from ganlib import losses as L
from ganlib.cli import main
from ganlib.config import DIFFAUGMENT_POLICIES, TrainConfig, get_config
from ganlib.train import load_run, train
from ganlib.train.state import build_gan
from ganlib.train.step import make_train_step


def _with(config: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**config.to_dict(), **changes})


def _numpy_shift(x: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    out = np.full_like(x, fill)
    h, w = x.shape[1:3]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[:, max(-dy, 0):h - max(dy, 0),
                                                                     max(-dx, 0):w - max(dx, 0)]
    return out


def test_the_config_and_the_module_name_the_same_policies():
    assert tuple(A.POLICIES) == DIFFAUGMENT_POLICIES


@pytest.mark.parametrize("dy, dx", [(0, 0), (3, -2), (-3, 3), (1, 0)])
def test_translation_equals_a_numpy_shift_with_the_background_fill(dy, dx):
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    out = A.translate(tf.constant(x), tf.constant([[dy, dx]] * 2)).numpy()
    np.testing.assert_array_equal(out, _numpy_shift(x, dy, dx, -1.0))
    np.testing.assert_array_equal(A.translate(tf.constant(x), tf.constant([[dy, dx]] * 2), fill=0.0).numpy(),
                                  _numpy_shift(x, dy, dx, 0.0))


def test_random_translation_shifts_by_at_most_an_eighth_of_the_side():
    x = np.full((64, 28, 28, 1), 1.0, np.float32)  # all foreground: the fill shows the shift
    out = A.random_translation(tf.constant(x), tf.random.Generator.from_seed(0)).numpy()[..., 0]
    filled_rows = (out == -1).all(axis=2).sum(axis=1)
    filled_cols = (out == -1).all(axis=1).sum(axis=1)
    assert filled_rows.max() == filled_cols.max() == 4  # int(28 / 8 + 0.5), as the paper's code rounds
    assert set(filled_rows) == set(filled_cols) == {0, 1, 2, 3, 4}
    assert set(np.unique(out)) == {-1.0, 1.0}


def test_cutout_fills_a_half_side_square_clipped_by_the_border():
    x = np.ones((3, 28, 28, 1), np.float32)
    out = A.cut_out(tf.constant(x), tf.constant([[14, 14], [0, 0], [27, 5]]), 14).numpy()[..., 0]
    assert (out == -1).sum(axis=(1, 2)).tolist() == [14 * 14, 7 * 7, 8 * 12]  # rows 20..27, columns 0..11
    assert (out[0, 7:21, 7:21] == -1).all()
    random = A.random_cutout(tf.constant(np.ones((200, 28, 28, 1), np.float32)),
                             tf.random.Generator.from_seed(1)).numpy()
    areas = (random == -1).sum(axis=(1, 2, 3))
    assert areas.max() == 14 * 14 and areas.min() >= 7 * 7  # a centre on the image keeps a quarter in view
    assert 0.15 < areas.mean() / (28 * 28) < 0.25  # mean about 0.19 of the image for a uniform centre


def test_augmented_images_keep_shape_and_range_and_pass_gradients():
    augment = A.make_augment("translation,cutout")
    x = tf.Variable(np.random.default_rng(2).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        y = augment(x, tf.random.Generator.from_seed(3))
        loss = tf.reduce_sum(y * y)  # x has no pixel equal to the fill, -1
    assert y.shape == x.shape and -1 <= float(tf.reduce_min(y)) and float(tf.reduce_max(y)) <= 1
    grad = tape.gradient(loss, x).numpy()
    # d sum(y^2) / dx = 2 x on each input pixel still in view, 0 on the shifted-out and cut-out ones
    in_view = grad != 0
    np.testing.assert_allclose(grad[in_view], 2 * x.numpy()[in_view], rtol=1e-6)
    assert in_view.sum() == (y.numpy() != -1).sum() > 0.5 * grad.size
    assert A.make_augment("") is None


def test_the_same_generator_seed_gives_the_same_transform_inside_a_tf_function():
    augment = A.make_augment(["translation", "cutout"])
    x = tf.random.uniform([4, 14, 14, 1], -1, 1, seed=0)  # any size: a progressive stage's
    runs = []
    for _ in range(2):
        rng = tf.random.Generator.from_seed(7)
        f = tf.function(lambda images: augment(images, rng))
        runs.append([f(x).numpy() for _ in range(2)])
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][0], runs[0][1])  # each call draws anew


@pytest.mark.parametrize("text", ["flip", "translation,translation", "translation;cutout"])
def test_an_unknown_policy_is_refused_naming_the_flag(text):
    with pytest.raises(ValueError, match=r"--diffaugment.*Received: diffaugment="):
        get_config("dcgan", diffaugment=text)


def test_the_flag_is_checked_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--diffaugment", "rotate", "--out", "unused"])
    assert exit_info.value.code == 2
    assert "--diffaugment" in capsys.readouterr().err


def test_the_step_augments_every_image_the_discriminator_sees(tiny_config, tiny_images):
    seen = []

    def spy(images, rng):
        seen.append(images)
        return images

    for simultaneous, calls in ((True, 2), (False, 3)):  # real + fake; alternating: + the generator update's fake
        seen.clear()
        gan = build_gan(_with(tiny_config, simultaneous_update=simultaneous))
        step = make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer,
                               discriminator_loss=L.minimax_discriminator_loss,
                               generator_loss=L.non_saturating_generator_loss, latent_dim=8,
                               simultaneous=simultaneous, noise=gan.noise, augment=spy)
        step(tf.constant(tiny_images[:16]))
        assert len(seen) == calls
    seen.clear()
    gp = get_config("wgan-gp", batch_size=8, n_critic=1, latent_dim=8, g_filters=8, d_filters=8, num_samples=4)
    gan = build_gan(gp)
    step = make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer,
                           discriminator_loss=L.wasserstein_discriminator_loss,
                           generator_loss=L.wasserstein_generator_loss, latent_dim=8, gp_weight=10.0,
                           noise=gan.noise, augment=spy)
    stats = step(tf.constant(tiny_images[:8]))
    assert len(seen) == 4 and np.isfinite(float(stats["gradient_penalty"]))  # + the interpolates


def test_a_seeded_run_with_diffaugment_trains_repeats_and_resumes_exactly(tmp_path, tiny_config, tiny_images):
    config = _with(tiny_config, diffaugment="translation,cutout")
    gan = build_gan(config)
    assert [type(c).__name__ for c in gan.components] == ["DiffAugment"]
    train(config, tmp_path / "a", images=tiny_images, progress=False)
    train(config, tmp_path / "b", images=tiny_images, progress=False)
    train(_with(config, epochs=1), tmp_path / "split", images=tiny_images, progress=False)
    train(config, tmp_path / "split", images=tiny_images, progress=False)
    plain = tmp_path / "plain"
    train(tiny_config, plain, images=tiny_images, progress=False)
    runs = [load_run(tmp_path / name)[0] for name in ("a", "b", "split", "plain")]
    for other in runs[1:3]:
        for x, y in zip(runs[0].generator.weights, other.generator.weights):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(runs[0].generator.weights[0].numpy(), runs[3].generator.weights[0].numpy())


def test_the_cli_trains_with_diffaugment(tmp_path, fake_data_dir):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--data-dir", str(fake_data_dir), "--train-size", "64",
                 "--batch-size", "32", "--latent-dim", "8", "--num-samples", "4", "--no-progress", "--no-jit",
                 "--diffaugment", "translation,cutout"]) == 0
    gan, _ = load_run(out)
    assert gan.config.diffaugment == "translation,cutout"
    assert all(np.isfinite(w.numpy()).all() for w in gan.generator.weights)


def test_conditional_and_progressive_steps_take_the_transform(tiny_images):
    labels = np.arange(16) % 10
    cond = build_gan(get_config("dcgan", conditional=True, batch_size=16, latent_dim=8, g_filters=8, d_filters=8,
                                num_samples=4, diffaugment="translation,cutout"))
    stats = cond.train_step()(tf.constant(tiny_images[:16]), labels=tf.constant(labels, tf.int32))
    assert np.isfinite(float(stats["d_loss"]))
    grow = build_gan(get_config("pggan", batch_size=8, stage_batch_sizes=(8, 8, 8), latent_dim=8, g_filters=4,
                                d_filters=4, num_samples=4, diffaugment="translation,cutout"))
    stats = grow.train_step()(tf.constant(tiny_images[:8]))
    assert np.isfinite(float(stats["d_loss"])) and np.isfinite(float(stats["gradient_penalty"]))
