"""Classification Accuracy Score: real images score near the shipped classifier, shuffled labels near chance; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganlib.cli import main
from ganlib.metrics import classification_accuracy_score, classifier_info

from conftest import SHARED_DATA

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="needs the MNIST IDX files")


@pytest.fixture(scope="module")
def mnist():
    from ganlib.data import load_dataset

    train = load_dataset("mnist", "train", data_dir=SHARED_DATA, limit=2000)
    test = load_dataset("mnist", "test", data_dir=SHARED_DATA, limit=2000)
    return train.images, train.labels.astype(np.int64), test.images, test.labels.astype(np.int64)


@needs_mnist
def test_real_images_as_the_generator_score_near_the_real_classifier(mnist):
    images, labels, test_images, test_labels = mnist
    score = classification_accuracy_score(images, labels, test_images, test_labels, seed=0)
    # 2,000 real images for CAS_EPOCHS epochs (80 updates) reach about 0.87 (0.872 here); the shipped classifier's
    # 4,690 updates on 60,000 images reach 0.993. At evaluate's 10,000 samples CAS takes 395 updates.
    assert classifier_info("mnist")["test_accuracy"] - 0.2 < score["cas"] <= 1.0, score
    assert score["train_accuracy"] > 0.85
    assert score["num_train"] == 2000 and score["num_test"] == 2000 and score["epochs"] == 5
    assert set(score["per_class"]) == set(range(10))


@needs_mnist
def test_shuffled_labels_score_near_chance(mnist):
    images, labels, test_images, test_labels = mnist
    shuffled = np.random.default_rng(0).permutation(labels)
    score = classification_accuracy_score(images, shuffled, test_images, test_labels, seed=0, epochs=2)
    assert 0.03 < score["cas"] < 0.2, score


def test_labels_are_checked():
    images = np.zeros((4, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"labels of shape \[4\]"):
        classification_accuracy_score(images, np.zeros(3, int), images, np.zeros(4, int))
    with pytest.raises(ValueError, match="Expected test_labels in 0..9"):
        classification_accuracy_score(images, np.zeros(4, int), images, np.full(4, 10))


def _run(tmp_path, **overrides):
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.train.runs import prepare_run_dir
    from ganlib.train.state import build_gan

    config = get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8, num_samples=4, **overrides)
    run = prepare_run_dir(tmp_path / "run", config)
    tf.train.CheckpointManager(build_gan(config).checkpoint(), run.checkpoints, max_to_keep=1).save(0)
    return run


def test_evaluate_cas_on_an_unconditional_run_exits_2_naming_the_flag(tmp_path, fake_data_dir, capsys):
    run = _run(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(run.root), "--cas", "--metrics", "fcd", "--data-dir", str(fake_data_dir)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--cas" in err and "conditional run" in err
    assert not (run.root / "metrics.json").exists()


def test_evaluate_cas_on_a_conditional_run(tmp_path, fake_data_dir, capsys):
    run = _run(tmp_path, conditional=True)
    assert main(["evaluate", str(run.root), "--cas", "--num-samples", "20", "--metrics", "fcd", "--data-dir",
                 str(fake_data_dir)]) == 0
    metrics = json.loads((run.root / "metrics.json").read_text())
    assert 0 <= metrics["cas"] <= 1 and metrics["cas_epochs"] == 5 and "cas" in metrics["timings"]
    assert "CAS" in capsys.readouterr().out
