"""Precision/recall, density/coverage, KID and the memorisation check: against an independent brute-force
implementation (scipy's cdist, full matrices) on random features, against the papers' closed forms, and on the
papers' reference cases with real MNIST features."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.spatial.distance import cdist

from conftest import SHARED_DATA
from ganlib.metrics import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    classify,
    density_coverage,
    evaluate_generator,
    evaluate_images,
    kernel_distance,
    knn_radii,
    memorisation_summary,
    nearest_neighbours,
    polynomial_mmd2,
    precision_recall,
    reference_features,
)

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="real MNIST files not present")


# --- An independent implementation: every distance at once, in float64, by scipy ---------------------------------


def _brute_radii(x: np.ndarray, k: int) -> np.ndarray:
    d = cdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def _brute_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    d = cdist(real, fake)  # [M, N]
    real_pr, fake_pr, real_dc = _brute_radii(real, k_pr), _brute_radii(fake, k_pr), _brute_radii(real, k_dc)
    return {
        "precision": float(np.mean([np.any(d[:, j] <= real_pr) for j in range(len(fake))])),
        "recall": float(np.mean([np.any(d[i, :] <= fake_pr) for i in range(len(real))])),
        "density": float(np.sum(d <= real_dc[:, None]) / (k_dc * len(fake))),
        "coverage": float(np.mean(d.min(axis=1) <= real_dc)),
    }


def _brute_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    def kernel(a, b):
        return (a @ b.T / a.shape[1] + 1.0) ** 3

    off_x, off_y = ~np.eye(len(x), dtype=bool), ~np.eye(len(y), dtype=bool)
    return float(kernel(x, x)[off_x].mean() + kernel(y, y)[off_y].mean() - 2 * kernel(x, y).mean())


@pytest.fixture(scope="module")
def random_features():
    # ReLU-like features (>= 0) for two different distributions, as a small classifier would give.
    rng = np.random.default_rng(0)
    real = np.abs(rng.normal(size=(1200, 32)))
    fake = np.abs(rng.normal(0.2, 1.3, size=(1000, 32)))
    return real, fake


def test_manifold_metrics_agree_with_a_brute_force_implementation(random_features):
    real, fake = random_features
    expected = _brute_prdc(real, fake, PRECISION_RECALL_K, DENSITY_COVERAGE_K)
    pr, dc = precision_recall(real, fake), density_coverage(real, fake)
    got = {"precision": pr.precision, "recall": pr.recall, "density": dc.density, "coverage": dc.coverage}
    assert got == pytest.approx(expected, abs=0.01), (got, expected)
    assert 0.05 < expected["precision"] < 0.95 and 0.05 < expected["coverage"] < 0.95  # not a degenerate case
    np.testing.assert_allclose(knn_radii(real, k=3), _brute_radii(real, 3), rtol=1e-5)
    nn = nearest_neighbours(fake, real)
    d = cdist(fake, real)
    np.testing.assert_allclose(nn.distances, d.min(axis=1), rtol=1e-9)
    assert np.mean(nn.indices == d.argmin(axis=1)) == 1.0


def test_kid_agrees_with_a_brute_force_mmd(random_features):
    real, fake = random_features
    x, y = real[:300], fake[:400]
    assert polynomial_mmd2(x, y) == pytest.approx(_brute_mmd2(x, y), rel=1e-5)
    # One subset holding every sample is the full-sample estimate (MMD^2_u does not depend on the order).
    full = kernel_distance(real[:500], fake[:500], num_subsets=1, subset_size=500)
    assert full.kid == pytest.approx(_brute_mmd2(real[:500], fake[:500]), rel=1e-5) and full.std == 0.0
    # Unbiased: the mean over small subsets estimates the same quantity as the full samples.
    subsets = kernel_distance(real, fake, num_subsets=50, subset_size=200, seed=1)
    assert subsets.subset_size == 200 and subsets.kid == pytest.approx(_brute_mmd2(real, fake), rel=0.1)


def test_identical_distributions_match_the_papers_expectations():
    # Naeem et al.: E[density] = 1 and E[coverage] = 1 - C(M-1, k) / C(M+N-1, k) for identical distributions;
    # the unbiased MMD^2 is 0 in expectation (Binkowski et al.).
    rng = np.random.default_rng(3)
    m = n = 1000
    real, fake = rng.normal(size=(m, 16)), rng.normal(size=(n, 16))
    dc = density_coverage(real, fake)
    expected_coverage = 1 - math.comb(m - 1, 5) / math.comb(m + n - 1, 5)
    assert expected_coverage == pytest.approx(1 - 2**-5, abs=0.002)
    assert dc.coverage == pytest.approx(expected_coverage, abs=0.03) and dc.density == pytest.approx(1.0, abs=0.1)
    kid = kernel_distance(real, fake, num_subsets=20, subset_size=500)
    assert abs(kid.kid) < kid.std
    far = kernel_distance(real, fake + 1.0, num_subsets=20, subset_size=500)
    assert far.kid > 10 * far.std


def test_memorisation_summary_definitions():
    test = np.linspace(1.0, 2.0, 101)  # 1st percentile: 1.01, median 1.5
    copies = memorisation_summary(np.zeros(50), test)
    assert copies.share == 1.0 and copies.median_ratio == 0.0 and copies.threshold == pytest.approx(1.01)
    new = memorisation_summary(test[::-1].copy(), test)
    assert new.share == pytest.approx(1 / 101) and new.median_ratio == pytest.approx(1.0)
    assert new.expected_share == 0.01


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: precision_recall(np.zeros((10, 4)), np.zeros((10, 5))), r"fake_features of shape \[N, 4\]"),
        (lambda: precision_recall(np.zeros((10, 4)), np.zeros((3, 4))), "at least 4 rows of fake_features"),
        (lambda: density_coverage(np.zeros((10, 4)), np.zeros((3, 4)), k=0), "k must be a positive integer"),
        (lambda: knn_radii(np.full((10, 2), np.nan), k=1), "finite features"),
        (lambda: kernel_distance(np.zeros((10, 4)), np.zeros((10, 4)), subset_size=1), "subset_size must be"),
        (lambda: memorisation_summary(np.ones(3), np.ones(3), percentile=100), "percentile must be in"),
        (lambda: memorisation_summary(-np.ones(3), np.ones(3)), "finite distances >= 0"),
        (lambda: evaluate_images(np.zeros((3, 28, 28, 1), np.float32), metrics="all"), "at least 4 images for prec"),
        (lambda: evaluate_images(np.zeros((8, 28, 28, 1), np.float32), metrics=("fid",)), "metric names among"),
        (lambda: evaluate_generator(lambda z: z, num_samples=8), "Expected latent_dim"),
    ],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- The wiring: any sampling function, the JSON, the figure (tiny fake data) --------------------------------------


def test_evaluate_generator_needs_only_a_sampling_function(fake_data_dir):
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(4, 784)).astype(np.float32)

    def sample(z):  # latent vectors [n, 4] -> images [n, 28, 28, 1] in [-1, 1]
        return np.tanh(z @ weights).reshape(-1, 28, 28, 1)

    m = evaluate_generator(sample, latent_dim=4, num_samples=40, seed=1, data_dir=fake_data_dir, metrics="all")
    assert m["metrics"] == ["fcd", "pr", "dc", "kid", "memorisation"] and m["seed"] == 1 and "epoch" not in m
    assert 0 <= m["precision"] <= 1 and 0 <= m["coverage"] <= 1 and m["kid_subset_size"] == 32  # the 32 test images
    assert m["memorisation_samples"] == 40 and len(m["memorisation_closest"]) == 8
    json.dumps(m)

    class Trained:  # duck-typed like a trained GAN: generate(z), config, epoch
        class config:
            latent_dim, dataset = 4, "mnist"

        epoch = np.int64(7)

        def generate(self, z):
            return sample(z)

    again = evaluate_generator(Trained(), num_samples=40, seed=1, data_dir=fake_data_dir, metrics=["kid", "fcd"])
    assert again["epoch"] == 7 and again["metrics"] == ["fcd", "kid"] and "precision" not in again
    assert again["kid"] == pytest.approx(m["kid"]) and again["fcd"] == pytest.approx(m["fcd"])
    assert evaluate_generator(Trained(), num_samples=40, data_dir=fake_data_dir)["metrics"] == ["fcd"]  # default


def test_memorisation_flags_copies_of_training_images(fake_data_dir):
    from ganlib.data import load_dataset

    train = load_dataset("mnist", "train", data_dir=fake_data_dir)
    copies = evaluate_images(train.images[:40], data_dir=fake_data_dir, metrics=("memorisation",))
    assert copies["memorised_share"] == 1.0 and copies["memorisation_flagged"] is True
    assert copies["nn_median_ratio"] == 0.0 and copies["memorised_share_features"] == 1.0
    assert copies["memorisation_closest"][0]["distance"] == 0.0


def test_nearest_neighbour_figure(tmp_path):
    from ganlib.viz import save_nearest_neighbours

    images = np.zeros((3, 28, 28, 1), np.float32)
    path = save_nearest_neighbours(images, {"nearest in pixels": images}, tmp_path / "nn.png",
                                   captions={"nearest in pixels": ["0.0", "1.0", "2.0"]}, title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="n images in every row"):
        save_nearest_neighbours(images, {"nearest": images[:2]}, tmp_path / "bad.png")


# --- The papers' reference cases on real MNIST features -------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_small():
    from ganlib.data import load_dataset

    return (load_dataset("mnist", "train", data_dir=SHARED_DATA, limit=10_000),
            load_dataset("mnist", "test", data_dir=SHARED_DATA, limit=2000))


@needs_mnist
def test_reference_cases_on_mnist_features(mnist_small):
    train, _ = mnist_small
    rng = np.random.default_rng(0)
    cases = {
        "real": train.images[:2000],  # real digits the test split does not contain
        "one class": train.images[train.labels == 1][:1000],
        "noise": rng.uniform(-1, 1, (1000, 28, 28, 1)).astype(np.float32),
    }
    m = {name: evaluate_images(images, data_dir=SHARED_DATA, metrics=("pr", "dc")) for name, images in cases.items()}
    # Real vs real: high precision and recall, density about 1.
    assert m["real"]["precision"] > 0.8 and m["real"]["recall"] > 0.8 and 0.8 < m["real"]["density"] < 1.2
    # One class: every sample realistic, most of the real manifold missed.
    assert m["one class"]["precision"] > 0.8 and m["one class"]["recall"] < 0.2
    assert m["one class"]["coverage"] < m["real"]["coverage"] / 3
    # Noise: precision far below real digits' (not 0: outlying real digits' large balls swallow noise); coverage ~ 0.
    assert m["noise"]["precision"] < m["real"]["precision"] - 0.25 and m["noise"]["coverage"] < 0.02
    assert m["noise"]["recall"] < 0.01 and m["noise"]["density"] < m["real"]["density"] / 2

    real = reference_features(data_dir=SHARED_DATA)
    kid = {name: kernel_distance(real, classify(images)[0], num_subsets=10) for name, images in cases.items()}
    assert abs(kid["real"].kid) < 3 * kid["real"].std  # about 0
    assert kid["real"].kid < 0.05 * min(kid["one class"].kid, kid["noise"].kid)


@needs_mnist
def test_memorisation_check_on_mnist(mnist_small):
    # The first 10,000 training images play the training set: a copier returns some of them; held-out test
    # images and blurred test images are new, and are not flagged.
    train, test = mnist_small
    rng = np.random.default_rng(1)
    order = rng.permutation(len(test.images))
    reference, held_out = test.images[order[:1000]], test.images[order[1000:1500]]
    blurred = np.stack([gaussian_filter(im[..., 0], 1.0) for im in held_out])[..., None]
    copier = train.images[rng.choice(len(train.images), 500, replace=False)]
    train_pixels, train_features = train.images.reshape(len(train.images), -1), classify(train.images)[0]
    train_sets = {"pixels": train_pixels, "features": train_features}

    def embed(images, space):
        return images.reshape(len(images), -1) if space == "pixels" else classify(images)[0]

    reference_distances = {space: nearest_neighbours(embed(reference, space), train_sets[space]).distances
                           for space in train_sets}

    def summary(images, space):
        distances = nearest_neighbours(embed(images, space), train_sets[space]).distances
        return memorisation_summary(distances, reference_distances[space])

    for space in ("pixels", "features"):
        copies, new, blur = summary(copier, space), summary(held_out, space), summary(blurred, space)
        assert copies.share == 1.0 and copies.median_ratio < 0.01, (space, copies)
        assert new.share < 0.05 and 0.85 < new.median_ratio < 1.15, (space, new)
        assert blur.share < 0.05, (space, blur)
