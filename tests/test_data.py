from __future__ import annotations

import gzip

import numpy as np
import pytest

from conftest import SHARED_DATA, write_idx
from ganlib.data import IDXError, load_dataset, make_pipeline, read_idx, to_unit_range


def test_read_idx_roundtrip_gz_and_raw(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.gz", images)), images)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", images, compress=False)), images)


def test_wrong_magic_names_file_and_expectation(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(7), magic=2049)
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte.gz.*expected 2051.*received 2049"):
        read_idx(path, expected_magic=2051)


def test_truncated_file(tmp_path):
    path = tmp_path / "x.gz"
    raw = b"\x00\x00\x08\x03" + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(28 * 28 * 2)
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(IDXError, match=r"x.gz.*expected 2368 bytes, received 1584 \(truncated\)"):
        read_idx(path)


def test_truncated_header_and_trailing_data(tmp_path):
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IDXError, match="expected a 16-byte header"):
        read_idx(short)
    long = tmp_path / "long"
    long.write_bytes(b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + b"\x01\x02\x03")
    with pytest.raises(IDXError, match="trailing data"):
        read_idx(long)


def test_not_gzip_and_not_idx(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"this is not gzip")
    with pytest.raises(IDXError, match="bad.gz.*gzip-compressed IDX"):
        read_idx(bad)
    text = tmp_path / "text"
    text.write_bytes(b"<html>not found</html>")
    with pytest.raises(IDXError, match="not an unsigned-byte IDX file"):
        read_idx(text)


def test_missing_file_and_folder(tmp_path, fake_data_dir):
    (fake_data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(IDXError, match="IDX file not found: .*t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", "test", data_dir=fake_data_dir)
    with pytest.raises(FileNotFoundError, match=r"fashion_mnist.*--data-dir"):
        load_dataset("fashion_mnist", "train", data_dir=fake_data_dir)


def test_labels_must_match_images(tmp_path, fake_data_dir):
    write_idx(fake_data_dir / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(3))
    with pytest.raises(IDXError, match="expected 96 labels"):
        load_dataset("mnist", "train", data_dir=fake_data_dir)


def test_load_offline_shapes_range_and_env(fake_data_dir, monkeypatch):
    monkeypatch.setenv("GANLIB_DATA_DIR", str(fake_data_dir))
    data = load_dataset("mnist", "train")
    assert data.images.shape == (96, 28, 28, 1) and data.images.dtype == np.float32
    assert data.images.min() >= -1.0 and data.images.max() <= 1.0
    np.testing.assert_array_equal(data.labels, np.arange(96) % 10)
    assert load_dataset("mnist", "test", limit=5).images.shape == (5, 28, 28, 1)


def test_unknown_names_and_bad_limit(fake_data_dir):
    with pytest.raises(ValueError, match="Received: name='cifar10'"):
        load_dataset("cifar10", data_dir=fake_data_dir)
    with pytest.raises(ValueError, match="Received: split='validation'"):
        load_dataset("mnist", "validation", data_dir=fake_data_dir)
    with pytest.raises(ValueError, match="limit=0"):
        load_dataset("mnist", data_dir=fake_data_dir, limit=0)


def test_to_unit_range_endpoints():
    out = to_unit_range(np.array([[[0, 255]]], dtype=np.uint8))
    assert out.shape == (1, 1, 2, 1)
    np.testing.assert_allclose(out.ravel(), [-1.0, 1.0])


def test_tfds_path_with_mock_data(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.delenv("GANLIB_DATA_DIR", raising=False)
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("fashion_mnist", "test")
    assert data.images.shape == (12, 28, 28, 1) and data.images.dtype == np.float32
    assert data.images.min() >= -1.0 and data.images.max() <= 1.0
    assert data.labels.shape == (12,) and set(data.labels) <= set(range(10))


def test_tfds_failure_says_how_to_go_offline(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.delenv("GANLIB_DATA_DIR", raising=False)

    def no_network(*args, **kwargs):
        raise ConnectionError("no internet")

    monkeypatch.setattr(tfds, "load", no_network)
    with pytest.raises(RuntimeError, match=r"without internet.*--data-dir DIR|Without internet.*--data-dir DIR"):
        load_dataset("mnist")


# The published label counts of MNIST (train / test).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="real MNIST files not present")
def test_real_mnist():
    train = load_dataset("mnist", "train", data_dir=SHARED_DATA)
    test = load_dataset("mnist", "test", data_dir=SHARED_DATA)
    assert train.images.shape == (60_000, 28, 28, 1) and test.images.shape == (10_000, 28, 28, 1)
    assert train.images.min() == -1.0 and train.images.max() == 1.0
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS


@pytest.mark.skipif(not (SHARED_DATA / "fashion_mnist").is_dir(), reason="real Fashion-MNIST files not present")
def test_real_fashion_mnist():
    train = load_dataset("fashion_mnist", "train", data_dir=SHARED_DATA)
    assert train.images.shape == (60_000, 28, 28, 1)
    assert np.bincount(train.labels).tolist() == [6000] * 10


def _order(ds):
    return np.concatenate([b.numpy()[:, 0, 0, 0] for b in ds])


def test_pipeline_is_seeded_per_epoch():
    images = np.arange(40, dtype=np.float32).reshape(40, 1, 1, 1).repeat(2, 1)
    a = _order(make_pipeline(images, 8, seed=3, epoch=0))
    assert sorted(a.tolist()) == list(range(40))
    np.testing.assert_array_equal(a, _order(make_pipeline(images, 8, seed=3, epoch=0)))
    assert not np.array_equal(a, _order(make_pipeline(images, 8, seed=3, epoch=1)))
    assert not np.array_equal(a, _order(make_pipeline(images, 8, seed=4, epoch=0)))


def test_pipeline_batches_and_drops_remainder():
    images = np.zeros((21, 28, 28, 1), np.float32)
    shapes = [tuple(b.shape) for b in make_pipeline(images, 8, seed=0)]
    assert shapes == [(8, 28, 28, 1), (8, 28, 28, 1)]
    with pytest.raises(ValueError, match="smaller than one batch.*batch_size=32.*received 21"):
        make_pipeline(images, 32, seed=0)
    with pytest.raises(ValueError, match="batch_size=0"):
        make_pipeline(images, 0, seed=0)


def test_latent_batch_is_numpys_seeded_standard_normal():
    from ganlib.data import latent_batch

    z = latent_batch(5, 3, seed=7)
    assert z.dtype == np.float32 and z.shape == (5, 3)
    np.testing.assert_array_equal(z, np.random.default_rng(7).standard_normal((5, 3)).astype(np.float32))
    assert latent_batch((2, 4), 3, seed=[7, 1]).shape == (2, 4, 3)
    assert not np.array_equal(latent_batch(5, 3, seed=8), z)
    with pytest.raises(ValueError, match="latent_dim must be a positive integer.*Received: latent_dim=0"):
        latent_batch(5, 0, seed=0)
    with pytest.raises(ValueError, match=r"num must be.*Received: num=\(2, 0\)"):
        latent_batch((2, 0), 3, seed=0)
