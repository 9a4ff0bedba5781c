"""The conditional GAN: networks, labels through the loop, generate(z, labels), class accuracy, sample --digit."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from conftest import SHARED_DATA
from ganlib.cli import main
from ganlib.config import get_config
from ganlib.models import build_conditional_discriminator, build_conditional_generator
from ganlib.train.runs import RunDir, prepare_run_dir
from ganlib.train.state import build_gan, load_run
from ganlib.train import train

TINY = dict(latent_dim=8, g_filters=8, d_filters=8, num_samples=4)


def untrained_run(out, **overrides) -> RunDir:
    """A run directory holding the untrained GAN of a tiny config as its checkpoint (no training needed)."""
    config = get_config("dcgan", **{**TINY, **overrides})
    run = prepare_run_dir(out, config)
    tf.train.CheckpointManager(build_gan(config).checkpoint(), run.checkpoints, max_to_keep=1).save(0)
    return run


def test_projection_discriminator_is_psi_plus_inner_product():
    d = build_conditional_discriminator(filters=4, label_input="projection")
    x = tf.random.stateless_normal([3, 28, 28, 1], seed=[1, 2])
    y = tf.constant([0, 4, 9], tf.int32)
    phi, psi = d.get_layer("unconditional")(x, training=False)
    v = d.get_layer("label_projection").embeddings.numpy()
    expected = psi.numpy()[:, 0] + np.sum(v[y.numpy()] * phi.numpy(), axis=1)
    np.testing.assert_allclose(d([x, y], training=False).numpy()[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_concat_discriminator_sees_the_label():
    d = build_conditional_discriminator(filters=4, label_input="concat", batch_norm=False)
    x = tf.zeros([2, 28, 28, 1])
    out = d([x, tf.constant([1, 2], tf.int32)]).numpy()
    assert out.shape == (2, 1) and out[0, 0] != out[1, 0]  # the same image, two labels, two logits


@pytest.mark.parametrize("label_input", ["embedding", "one_hot"])
def test_conditional_generator_draws_per_label(label_input):
    g = build_conditional_generator(8, 4, label_input=label_input)
    embed = g.get_layer("label_embedding")
    if label_input == "one_hot":
        np.testing.assert_array_equal(embed.embeddings.numpy(), np.eye(10))
        assert not embed.trainable
    z = np.tile(np.random.default_rng(0).standard_normal((1, 8)).astype(np.float32), (2, 1))
    images = g([z, np.array([3, 7], np.int32)], training=False).numpy()
    assert images.shape == (2, 28, 28, 1) and np.abs(images[0] - images[1]).max() > 0
    # The generator is its body applied to [z, e(y)], so class morphs can feed e directly.
    body = g.get_layer("generator_body")
    direct = body([tf.constant(z), embed(np.array([3, 7]))], training=False).numpy()
    np.testing.assert_allclose(direct, images, atol=1e-6)
    with pytest.raises(ValueError, match="Unknown label_input"):
        build_conditional_generator(8, 4, label_input="film")


def test_generate_refuses_bad_labels_with_clear_errors():
    conditional = build_gan(get_config("dcgan", conditional=True, **TINY))
    z = np.zeros((3, 8), np.float32)
    assert conditional.generate(z, labels=np.array([0, 5, 9])).shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match=r"This GAN is conditional: expected labels, ints \[N\] in 0..9.*labels=None"):
        conditional.generate(z)
    with pytest.raises(ValueError, match=r"Expected class labels in 0..9. Received: labels=\[12\]"):
        conditional.generate(z, labels=[1, 12, 3])
    with pytest.raises(ValueError, match=r"shape \[3\]. Received: labels.shape=\[3, 1\]"):
        conditional.generate(z, labels=np.zeros((3, 1), int))
    with pytest.raises(ValueError, match="Expected integer class labels"):
        conditional.generate(z, labels=[0.5, 1, 2])
    unconditional = build_gan(get_config("dcgan", **TINY))
    with pytest.raises(ValueError, match="This GAN is unconditional"):
        unconditional.generate(z, labels=[1, 2, 3])


def test_conditional_grid_has_one_row_per_class_and_one_z_per_column():
    gan = build_gan(get_config("dcgan", conditional=True, **TINY))
    grid = gan.fixed_grid()
    assert gan.grid_columns == 2 and grid.shape == (20, 28, 28, 1)
    z = gan.fixed_z.numpy()[:2]
    np.testing.assert_allclose(grid[14:16], gan.generate(z, labels=[7, 7]), atol=1e-6)  # row 7


def test_loop_checks_labels(tmp_path, tiny_config, tiny_images):
    conditional = get_config("dcgan", conditional=True, epochs=1, batch_size=16, **TINY)
    with pytest.raises(ValueError, match="A conditional config trains on labelled images: expected labels"):
        train(conditional, tmp_path / "a", images=tiny_images, progress=False)
    with pytest.raises(ValueError, match=r"Expected labels in 0..9. Received values in \[0, 10\]"):
        train(conditional, tmp_path / "b", images=tiny_images, labels=np.arange(48) % 11, progress=False)
    with pytest.raises(ValueError, match="Labels are for a conditional config"):
        train(tiny_config, tmp_path / "c", images=tiny_images, labels=np.arange(48) % 10, progress=False)
    with pytest.raises(ValueError, match="eval_every is not available for a conditional run"):
        get_config("dcgan", conditional=True, eval_every=1)


def test_train_conditional_then_sample_digits_end_to_end(tmp_path, fake_data_dir, capsys):
    out = tmp_path / "run"
    assert main(["train", "--conditional", "--out", str(out), "--data-dir", str(fake_data_dir), "--epochs", "1",
                 "--train-size", "64", "--batch-size", "32", "--latent-dim", "8", "--g-filters", "8",
                 "--d-filters", "8", "--num-samples", "4", "--frames-per-decade", "2", "--no-progress",
                 "--no-jit"]) == 0
    run = RunDir(out)
    grid = iio.imread(run.frame(2))
    assert grid.shape == (25 + 2 * (10 * 30 + 2), 2 * (2 * 30 + 2))  # label strip, 10 class rows of 2 columns
    gan, _ = load_run(out)
    assert gan.config.conditional and gan.config.d_label_input == "projection"

    assert main(["sample", str(out), "--digit", "3", "-n", "9", "--out", str(tmp_path / "threes.png")]) == 0
    assert iio.imread(tmp_path / "threes.png").ndim == 3
    assert main(["sample", str(out), "-n", "20", "--out", str(tmp_path / "all.png")]) == 0  # a column per class
    assert "Wrote 20 samples" in capsys.readouterr().out

    for argv, message in [(["--digit", "12"], "--digit/--label: expected a class in 0..9, received 12"),
                          (["--digit", "-1"], "--digit/--label: expected an integer >= 0, received -1")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["sample", str(out), *argv])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_digit_on_an_unconditional_run_exits_2(tmp_path, capsys):
    run = untrained_run(tmp_path / "run")
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run.root), "--digit", "3"])
    assert exit_info.value.code == 2
    assert "--digit needs a conditional run (trained with --conditional)" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="real MNIST files not present")
def test_class_accuracy_agrees_with_true_labels_and_not_with_wrong_ones():
    from ganlib.conditional import class_accuracy
    from ganlib.data import load_dataset

    test = load_dataset("mnist", "test", data_dir=SHARED_DATA, limit=1000)
    right = class_accuracy(test.images, test.labels)
    assert right["accuracy"] > 0.97 and set(right["per_class"]) == set(range(10))
    assert np.trace(right["confusion"]) / right["num_samples"] > 0.97
    wrong = class_accuracy(test.images, (test.labels + 1) % 10)
    assert wrong["accuracy"] < 0.05
    with pytest.raises(ValueError, match=r"Expected labels in 0..9. Received values in \[0, 10\]"):
        class_accuracy(test.images[:3], np.array([0, 1, 10]))


def test_evaluate_reports_class_accuracy_for_a_conditional_run(tmp_path, fake_data_dir, capsys):
    import json

    run = untrained_run(tmp_path / "run", conditional=True)
    assert main(["evaluate", str(run.root), "--num-samples", "40", "--data-dir", str(fake_data_dir)]) == 0
    printed = capsys.readouterr().out
    assert "class accuracy" in printed and "4 per class" in printed
    metrics = json.loads((run.root / "metrics.json").read_text())
    assert metrics["num_samples"] == 40 and len(metrics["per_class_accuracy"]) == 10
    assert 0.0 <= metrics["class_accuracy"] <= 1.0
