"""Shared fixtures: tiny IDX data sets written by the tests themselves, and a small GAN config."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GANLIB_DATA_DIR") or REPO.parent / "shared" / "data")


def write_idx(path: Path, array: np.ndarray, *, magic: int | None = None, compress: bool = True) -> Path:
    """Write a uint8 array as an IDX file (gzip-compressed when ``compress``)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 | array.ndim
    raw = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def write_fake_dataset(root: Path, name: str = "mnist", n_train: int = 96, n_test: int = 32, seed: int = 0) -> Path:
    """A data directory holding ``name/`` with the four IDX files of a small random data set."""
    rng = np.random.default_rng(seed)
    folder = root / name
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return root


@pytest.fixture
def fake_data_dir(tmp_path: Path) -> Path:
    return write_fake_dataset(tmp_path / "data")


@pytest.fixture
def tiny_config():
    """A DCGAN config small enough to train in seconds."""
    from ganlib.config import get_config

    return get_config("dcgan", epochs=2, batch_size=16, latent_dim=8, g_filters=8, d_filters=8, num_samples=4)


@pytest.fixture
def tiny_images() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.uniform(-1, 1, (48, 28, 28, 1)).astype(np.float32)
