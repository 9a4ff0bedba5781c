"""Sample-quality metrics: the maths against closed forms, bad input, the shipped classifier on real data,
the train loop's evaluation and the ``evaluate`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg

from conftest import SHARED_DATA
from ganlib.config import TrainConfig
from ganlib.metrics import (
    DEFAULT_COVERAGE_THRESHOLD,
    check_images,
    classifier_info,
    classifier_score,
    classify,
    evaluate_images,
    feature_statistics,
    frechet_distance,
    mode_coverage,
)

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="real MNIST files not present")
needs_fashion = pytest.mark.skipif(
    not (SHARED_DATA / "fashion_mnist").is_dir(), reason="real Fashion-MNIST files not present"
)


def _with(config: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**config.to_dict(), **changes})


# --- The maths, without the classifier -------------------------------------------------------------------------


def _scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    s1, s2 = feature_statistics(a), feature_statistics(b)
    root = scipy.linalg.sqrtm(s1.cov @ s2.cov).real
    return float(np.sum((s1.mean - s2.mean) ** 2) + np.trace(s1.cov + s2.cov - 2 * root))


@pytest.mark.parametrize("dim", [1, 5, 64])
def test_frechet_distance_matches_scipy_sqrtm(dim):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(400, dim))
    b = rng.normal(size=(300, dim)) @ rng.normal(size=(dim, dim)) * 0.5 + 1.0
    s1, s2 = feature_statistics(a), feature_statistics(b)
    assert frechet_distance(s1.mean, s1.cov, s2.mean, s2.cov) == pytest.approx(_scipy_frechet(a, b), rel=1e-6)


def test_frechet_distance_closed_forms():
    # One dimension: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)
    # Identical statistics: 0; a shift of the mean by v adds ||v||^2, even for singular covariances.
    f = np.random.default_rng(0).normal(size=(3, 128))  # 3 vectors in 128-d: covariance of rank 2
    s = feature_statistics(f)
    assert s.cov.shape == (128, 128)
    assert frechet_distance(s.mean, s.cov, s.mean, s.cov) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(s.mean, s.cov, s.mean + 0.5, s.cov) == pytest.approx(128 * 0.25, rel=1e-6)


def test_classifier_score_closed_forms():
    balanced_certain = np.eye(10)[np.arange(1000) % 10]
    assert classifier_score(balanced_certain) == pytest.approx(10.0)
    assert classifier_score(np.tile(np.eye(10)[3], (50, 1))) == pytest.approx(1.0)  # one class only
    assert classifier_score(np.full((20, 10), 0.1)) == pytest.approx(1.0)  # no confidence
    two_classes = np.eye(10)[np.arange(100) % 2]
    assert classifier_score(two_classes) == pytest.approx(2.0)


def test_mode_coverage_counts_classes_above_threshold():
    one = mode_coverage(np.full(500, 7))
    assert one.classes_covered == 1 and one.histogram[7] == 1.0
    assert one.kl_to_uniform == pytest.approx(math.log(10))
    balanced = mode_coverage(np.arange(1000) % 10)
    assert balanced.classes_covered == 10 and balanced.kl_to_uniform == pytest.approx(0.0, abs=1e-12)
    assert DEFAULT_COVERAGE_THRESHOLD == 0.025
    # 1000 labels: class 9 with 25 (2.5%) is covered, class 8 with 24 (2.4%) is not.
    labels = np.concatenate([np.full(25, 9), np.full(24, 8), np.arange(951) % 8])
    cover = mode_coverage(labels)
    assert cover.histogram.sum() == pytest.approx(1.0)
    assert cover.classes_covered == 9 and cover.histogram[9] == 0.025 and cover.histogram[8] == 0.024


@pytest.mark.parametrize(
    "images,message",
    [
        (np.zeros((8, 28, 28), np.float32), r"shape \[N, 28, 28, 1\]. Received: shape=\[8, 28, 28\]"),
        (np.zeros((8, 32, 32, 3), np.float32), r"Received: shape=\[8, 32, 32, 3\]"),
        (np.zeros((8, 28, 28, 1), np.uint8), "float images in \\[-1, 1\\]. Received: dtype=uint8"),
        (np.full((8, 28, 28, 1), 255.0, np.float32), r"values in \[-1, 1\]. Received values in \[255, 255\]"),
        (np.full((8, 28, 28, 1), np.nan, np.float32), "Received: images containing NaN"),
        (np.zeros((1, 28, 28, 1), np.float32), "at least 2 images.*Received: 1 images"),
        (np.zeros((0, 28, 28, 1), np.float32), "at least 2 images.*Received: 0 images"),
    ],
)
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        evaluate_images(images)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Unknown data set.*Received: dataset='cifar10'"):
        evaluate_images(np.zeros((4, 28, 28, 1), np.float32), dataset="cifar10")
    with pytest.raises(ValueError, match=r"at least 2 feature vectors.*Received: 1"):
        feature_statistics(np.zeros((1, 128)))
    with pytest.raises(ValueError, match=r"shape \[N, D\]. Received: shape=\[128\]"):
        feature_statistics(np.zeros(128))
    with pytest.raises(ValueError, match=r"Received: mu1=\[3\], sigma1=\[3, 3\], mu2=\[4\], sigma2=\[4, 4\]"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="finite means and covariances"):
        frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"rows that sum to 1.*row sums in \[2, 2\]"):
        classifier_score(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"shape \[N, K\]"):
        classifier_score(np.ones(10) / 10)
    with pytest.raises(ValueError, match="integer class labels.*dtype=float64"):
        mode_coverage(np.zeros(5))
    with pytest.raises(ValueError, match=r"labels in 0..9. Received labels in 0..10"):
        mode_coverage(np.arange(11))
    with pytest.raises(ValueError, match=r"threshold must be a fraction in \(0, 1\]. Received: threshold=0"):
        mode_coverage(np.arange(10), threshold=0)
    assert check_images(np.zeros((2, 28, 28, 1), np.float64)).dtype == np.float32


def test_classifier_computes_in_float32_under_a_mixed_precision_policy():
    import keras

    from ganlib.metrics import classifier as metrics  # the module that holds the classifier's cache

    previous = keras.config.dtype_policy()
    metrics._classifier.cache_clear()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = metrics.load_classifier("mnist")
        features, logits = classify(np.zeros((2, 28, 28, 1), np.float32))
    finally:
        keras.config.set_dtype_policy(previous)
        metrics._classifier.cache_clear()
    assert {layer.compute_dtype for layer in model.layers[1:]} == {"float32"}
    assert features.shape == (2, 128) and logits.dtype == np.float32


# --- The shipped classifier on real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    from ganlib.data import load_dataset

    return load_dataset("mnist", "train", data_dir=SHARED_DATA), load_dataset("mnist", "test", data_dir=SHARED_DATA)


@needs_mnist
def test_shipped_mnist_weights_reach_their_recorded_accuracy(mnist):
    info = classifier_info("mnist")
    assert info["dataset"] == "mnist" and info["test_accuracy"] >= 0.99 and info["seed"] == 0
    _, test = mnist
    features, logits = classify(test.images[:2000])
    assert features.shape == (2000, 128) and logits.shape == (2000, 10) and features.min() >= 0
    assert np.mean(np.argmax(logits, axis=1) == test.labels[:2000]) >= 0.985


@needs_fashion
def test_shipped_fashion_weights_reach_their_recorded_accuracy():
    from ganlib.data import load_dataset

    info = classifier_info("fashion_mnist")
    assert info["dataset"] == "fashion_mnist" and info["test_accuracy"] >= 0.88
    test = load_dataset("fashion_mnist", "test", data_dir=SHARED_DATA, limit=2000)
    _, logits = classify(test.images, "fashion_mnist")
    assert np.mean(np.argmax(logits, axis=1) == test.labels) >= info["test_accuracy"] - 0.02


@needs_mnist
def test_real_data_scores_well_and_degenerate_samples_score_badly(mnist):
    train, test = mnist
    itself = evaluate_images(test.images, data_dir=SHARED_DATA)
    assert itself["fcd"] == pytest.approx(0.0, abs=1e-3)
    assert itself["classifier_score"] > 9 and itself["classes_covered"] == 10

    real = evaluate_images(train.images[:2000], data_dir=SHARED_DATA)
    assert real["classifier_score"] > 9 and real["classes_covered"] == 10 and real["kl_to_uniform"] < 0.02
    assert real["num_samples"] == 2000 and len(real["class_histogram"]) == 10

    noise = np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype(np.float32)
    ones = train.images[train.labels == 1][:1000]
    by_noise = evaluate_images(noise, data_dir=SHARED_DATA)
    by_ones = evaluate_images(ones, data_dir=SHARED_DATA)
    # Real images sit far below both degenerate samples.
    assert by_noise["fcd"] > 20 * real["fcd"] and by_ones["fcd"] > 20 * real["fcd"]
    assert by_ones["classes_covered"] == 1 and by_ones["classifier_score"] < 1.5
    assert by_ones["kl_to_uniform"] == pytest.approx(math.log(10), abs=0.05)
    json.dumps(real)  # JSON-serialisable as the evaluate command writes it


@needs_mnist
def test_fcd_grows_as_real_images_are_blended_with_noise(mnist):
    train, _ = mnist
    real = train.images[:1000]
    noise = np.random.default_rng(1).uniform(-1, 1, real.shape).astype(np.float32)
    fcds = [evaluate_images((1 - a) * real + a * noise, data_dir=SHARED_DATA)["fcd"] for a in (0.0, 0.3, 0.6)]
    assert fcds[0] < fcds[1] < fcds[2], fcds


# --- The train loop and the command line -----------------------------------------------------------------------


def test_train_loop_records_metrics_every_k_epochs(tmp_path, tiny_config, tiny_images, fake_data_dir):
    from ganlib.train.runs import RunDir, read_csv
    from ganlib.train import train

    config = _with(tiny_config, epochs=2, eval_every=2, eval_samples=32)
    history = train(config, tmp_path / "run", images=tiny_images, data_dir=fake_data_dir, progress=False)
    assert "fcd" not in history[0]
    assert history[1]["fcd"] >= 0 and 1 <= history[1]["classifier_score"] <= 10
    assert 0 <= history[1]["classes_covered"] <= 10
    assert all(0 <= history[1][k] <= 1 for k in ("precision", "recall", "coverage")) and "kid" in history[1]
    rows = read_csv(RunDir(tmp_path / "run").history)
    assert "fcd" not in rows[0] and rows[1]["fcd"] == pytest.approx(history[1]["fcd"])


def test_evaluate_command_writes_metrics_json(tmp_path, tiny_config, tiny_images, fake_data_dir, capsys):
    from ganlib.cli import main
    from ganlib.train import train

    out = tmp_path / "run"
    train(tiny_config, out, images=tiny_images, progress=False)
    args = ["--num-samples", "40", "--data-dir", str(fake_data_dir), "--seed", "1"]
    assert main(["evaluate", str(out), *args]) == 0
    printed = capsys.readouterr().out
    assert all(word in printed for word in ("FCD", "precision", "density", "KID", "memorisation"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_samples"] == 40 and metrics["epoch"] == 2 and metrics["seed"] == 1
    assert metrics["checkpoint"].endswith("ckpt-2") and metrics["fcd"] >= 0
    assert {"classifier_score", "classes_covered", "kl_to_uniform", "class_histogram", "precision", "recall",
            "density", "coverage", "kid", "kid_std", "memorised_share", "memorisation_flagged"} <= set(metrics)
    assert metrics["metrics"] == ["fcd", "pr", "dc", "kid", "memorisation"]
    assert set(metrics["timings"]) >= {"generate", "classify", "fcd", "pr_dc", "kid", "memorisation"}
    assert (out / "nearest_neighbours.png").read_bytes()[:4] == b"\x89PNG"

    # A given checkpoint, some metrics only, written elsewhere.
    early_args = ["--out", str(tmp_path / "m1.json"), "--metrics", "kid", "fcd"]
    assert main(["evaluate", str(out / "checkpoints" / "ckpt-1"), *args, *early_args]) == 0
    early = json.loads((tmp_path / "m1.json").read_text())
    assert early["epoch"] == 1 and early["checkpoint"].endswith("ckpt-1") and early["metrics"] == ["fcd", "kid"]
    assert "precision" not in early and not (tmp_path / "nearest_neighbours.png").exists()


@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_evaluate_run_reports_the_run_and_matches_evaluate_images(conditional, fake_data_dir):
    from ganlib.config import get_config
    from ganlib.metrics import evaluate_run
    from ganlib.train.state import build_gan

    gan = build_gan(get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8, conditional=conditional))
    result, images = evaluate_run(gan, num_samples=20, seed=3, metrics=("fcd",), data_dir=fake_data_dir)
    assert images.shape == (20, 28, 28, 1) and result["num_samples"] == 20 and result["metrics"] == ["fcd"]
    assert list(result["timings"])[0] == "generate" and set(result["timings"]) >= {"classify", "fcd"}
    assert result["seed"] == 3 and result["epoch"] == 0 and result["checkpoint"] is None
    assert result["preset"] == "dcgan" and 0.99 <= result["classifier_test_accuracy"] <= 1
    assert result["seconds"] >= 0 and round(result["seconds"], 1) == result["seconds"]
    assert ("class_accuracy" in result) == conditional
    if conditional:
        assert 0 <= result["class_accuracy"] <= 1 and len(result["confusion"]) == 10
        assert sum(map(sum, result["confusion"])) == 20 and set(result["per_class_accuracy"]) == set(range(10))
    again, _ = gan.evaluation_samples(20, seed=3)
    direct = evaluate_images(again, dataset="mnist", data_dir=fake_data_dir, metrics=("fcd",))
    assert result["fcd"] == direct["fcd"] and result["classifier_score"] == direct["classifier_score"]
    json.dumps(result)


def test_the_metrics_package_has_no_import_cycle_and_knows_nothing_of_training():
    # tests/test_layout.py walks the flat modules of ganlib/; this walks the modules of ganlib/metrics/.
    import ast
    from pathlib import Path

    import ganlib.metrics

    folder = Path(ganlib.metrics.__file__).parent
    graph = {}
    for path in folder.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ganlib"):
                found |= {f"{node.module}.{a.name}" for a in node.names} if node.module == "ganlib" else {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("ganlib")}
        graph[path.stem] = found
    assert not {"ganlib.train", "ganlib.train.loop", "ganlib.train.state"} & set().union(*graph.values())
    inside = {name: {m.rsplit(".", 1)[1] for m in mods if m.startswith("ganlib.metrics.")}
              for name, mods in graph.items()}
    done: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, " -> ".join((*stack, node))
        if node not in done:
            for nxt in sorted(inside[node]):
                visit(nxt, (*stack, node))
            done.add(node)

    for name in sorted(inside):
        visit(name, ())


def test_importing_metrics_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import ganlib.metrics, sys; assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["evaluate", "{tmp}", "--num-samples", "1"], "--num-samples: expected an integer >= 2"),
        (["evaluate", "{tmp}", "--seed", "-3"], "--seed: expected an integer >= 0"),
        (["evaluate", "{tmp}"], "is not a ganlib run"),
        (["evaluate", "{tmp}", "--metrics", "fid"], "--metrics: invalid choice: 'fid'"),
        (["evaluate", "{tmp}", "--memorisation-samples", "0"], "--memorisation-samples: expected a positive integer"),
        (["evaluate", "{tmp}/nowhere/ckpt-9"], "Expected a run directory written by 'train' or a checkpoint path"),
        (["evaluate"], "required: RUN_DIR"),
        (["train", "--eval-samples", "1"], "--eval-samples: expected an integer >= 2"),
        (["train", "--eval-every", "-1"], "--eval-every: expected an integer >= 0"),
    ],
)
def test_evaluate_wrong_arguments_exit_2(tmp_path, argv, message, capsys):
    from ganlib.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err
