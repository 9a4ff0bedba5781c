"""tensorflow-datasets' own preparation of MNIST and Fashion-MNIST, run offline and read back through ganlib.data.

``download_and_prepare`` runs for real: download manager, checksum validation against the checksums tfds
registers for these URLs, gzip extraction, example generation, PNG encoding and TFRecord writing. Only the
HTTP request is replaced: each URL is answered with the bytes of the same-named IDX file of the data
directory. This is the path a first ``tfds.load("mnist")`` takes and that ``tfds.testing.mock_data`` skips,
so a dependency tfds imports there without declaring it (``importlib_resources`` with tfds 4.9.x, see
https://github.com/tensorflow/datasets/issues/11212) or a change of its API fails here.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from ganlib.data import Dataset, load_dataset, load_idx_dataset, load_tfds_dataset

tfds = pytest.importorskip("tensorflow_datasets")

IDX_NAMES = {
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
}


def _needs_idx(name: str):
    return pytest.mark.skipif(
        not (SHARED_DATA / name).is_dir(),
        reason=f"needs the original {name} IDX files in {SHARED_DATA / name} (set GANLIB_DATA_DIR to their parent)",
    )


class _LocalResponse:
    """The part of a ``requests.Response`` that tfds's downloader reads."""

    def __init__(self, url: str, size: int):
        self.url = url
        self.headers = {"Content-length": str(size)}


def _serve_from(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer tfds's HTTP requests with the same-named files of ``folder``; returns the URLs requested."""
    from tensorflow_datasets.core.download import downloader

    requested: list[str] = []

    @contextlib.contextmanager
    def open_local(url: str, **kwargs):
        requested.append(url)
        path = folder / posixpath.basename(urllib.parse.urlparse(url).path)
        with path.open("rb") as f:
            yield _LocalResponse(url, path.stat().st_size), iter(lambda: f.read(io.DEFAULT_BUFFER_SIZE), b"")

    # raising=True (the default): if tfds renames its downloader's entry point, this test fails instead of
    # silently reaching for the network.
    monkeypatch.setattr(downloader, "_open_url", open_local)
    return requested


def _sorted_pairs(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each example's image and label bytes as one opaque row, sorted: equal for equal multisets of pairs."""
    n = len(labels)
    rows = np.concatenate(
        [images.reshape(n, -1).view(np.uint8), labels.astype("<i8").reshape(n, 1).view(np.uint8)], axis=1
    )
    return np.sort(np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1]))).ravel())


@pytest.mark.parametrize(
    "name, max_examples",
    [
        # All 70,000 examples: both sources must hold exactly the same pairs.
        pytest.param("mnist", None, marks=_needs_idx("mnist")),
        # The first 1,000 of each split: the full preparation would double this test's time.
        pytest.param("fashion_mnist", 1000, marks=_needs_idx("fashion_mnist")),
    ],
)
def test_tfds_prepares_offline_and_matches_idx_reader(name, max_examples, tmp_path, monkeypatch):
    requested = _serve_from(SHARED_DATA / name, monkeypatch)
    tfds_dir = tmp_path / "tensorflow_datasets"
    builder = tfds.builder(name, data_dir=tfds_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(
            try_download_gcs=False, force_checksums_validation=True, max_examples_per_split=max_examples
        )
    )
    assert sorted(posixpath.basename(url) for url in requested) == sorted(IDX_NAMES)
    assert list((tfds_dir / name).glob("*/*.tfrecord-*")), "tfds wrote no TFRecords"

    for split in ("train", "test"):
        from_tfds = load_tfds_dataset(name, split, tfds_data_dir=str(tfds_dir))
        from_idx = load_idx_dataset(name, split, SHARED_DATA)
        if max_examples is not None:
            # tfds keeps the first max_examples examples its generator yields, i.e. the IDX files' first ones.
            from_idx = Dataset(from_idx.images[:max_examples], from_idx.labels[:max_examples])
        assert from_tfds.images.shape == from_idx.images.shape and from_tfds.images.dtype == np.float32
        assert from_tfds.labels.dtype == np.int64
        np.testing.assert_array_equal(np.bincount(from_tfds.labels), np.bincount(from_idx.labels))
        # tfds stores the examples in its own (hashed-key) order; the pairs must be the same.
        same = _sorted_pairs(from_tfds.images, from_tfds.labels) == _sorted_pairs(from_idx.images, from_idx.labels)
        assert same.all(), f"{name} {split}: {np.count_nonzero(~same)} of {len(same)} sorted pairs differ"
    assert len(requested) == len(IDX_NAMES), "reading the prepared data set downloaded again"


def _failing_load(error: BaseException):
    def load(*args, **kwargs):
        raise error

    return load


def test_missing_module_is_named_not_blamed_on_the_network(monkeypatch):
    monkeypatch.delenv("GANLIB_DATA_DIR", raising=False)
    missing = ModuleNotFoundError("No module named 'importlib_resources'", name="importlib_resources")
    monkeypatch.setattr(tfds, "load", _failing_load(missing))
    with pytest.raises(RuntimeError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "the Python module 'importlib_resources' is not installed" in message
    assert "(ModuleNotFoundError: No module named 'importlib_resources')" in message
    assert "not a network problem" in message and "datasets/issues/11212" in message
    assert "--data-dir DIR" in message and "Without internet" not in message
    assert info.value.__cause__ is missing


def test_missing_module_found_behind_a_wrapping_error(monkeypatch):
    try:
        try:
            raise ModuleNotFoundError("No module named 'somepkg'", name="somepkg")
        except ModuleNotFoundError as err:
            raise ValueError("while preparing") from err
    except ValueError as wrapped:
        monkeypatch.setattr(tfds, "load", _failing_load(wrapped))
    with pytest.raises(RuntimeError, match=r"module 'somepkg' is not installed") as info:
        load_tfds_dataset("fashion_mnist", "test")
    assert "11212" not in str(info.value)


def test_network_error_keeps_the_offline_advice(monkeypatch):
    requests = pytest.importorskip("requests")
    monkeypatch.delenv("GANLIB_DATA_DIR", raising=False)
    # The error tfds 4.9.10 raised here without network (after its retries), as requests reports it.
    no_dns = requests.exceptions.ConnectionError("Failed to resolve 'storage.googleapis.com'")
    monkeypatch.setattr(tfds, "load", _failing_load(no_dns))
    with pytest.raises(RuntimeError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "could not download 'mnist' (requests.exceptions.ConnectionError: Failed to resolve" in message
    assert "Without internet, use the original IDX files: put the original IDX files in DIR/mnist/" in message
    assert "--data-dir DIR" in message and "GANLIB_DATA_DIR=DIR" in message


def test_other_errors_are_named_and_not_blamed_on_the_network(monkeypatch):
    monkeypatch.setattr(tfds, "load", _failing_load(OSError("Not enough disk space.")))
    with pytest.raises(RuntimeError) as info:
        load_tfds_dataset("mnist", "train")
    message = str(info.value)
    assert "failed to load or prepare 'mnist' with OSError: Not enough disk space." in message
    assert "not a network error" in message and "Without internet" not in message
    assert "--data-dir DIR" in message
