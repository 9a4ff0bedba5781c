"""Loading MNIST-style data sets and building tf.data input pipelines.

Two sources give the same examples (tfds stores them in its own fixed order, so
the arrays hold the same image/label pairs in a different order):

* **tfds** (the default for users with internet): ``tfds.load`` downloads and
  caches the data set on first use.
* **offline IDX files**: a data directory holding one folder per data set
  (``mnist/``, ``fashion_mnist/``), each with the four original IDX ``.gz``
  files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
  ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``). The directory
  comes from the ``data_dir`` argument or the ``GANLIB_DATA_DIR`` environment
  variable.

Images come back as float32 ``[N, 28, 28, 1]`` in ``[-1, 1]`` (the range of a
tanh generator), labels as int64 ``[N]`` in ``0..9``.

References:
    MNIST: LeCun, Cortes and Burges, http://yann.lecun.com/exdb/mnist/ (CC BY-SA 3.0).
    Fashion-MNIST: Xiao, Rasul and Vollgraf 2017, https://arxiv.org/abs/1708.07747 (MIT).
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import sys
import urllib.error
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from ganlib.errors import IDXError

DATASETS = ("mnist", "fashion_mnist")
SPLITS = ("train", "test")
DATA_DIR_ENV = "GANLIB_DATA_DIR"
IMAGE_SHAPE = (28, 28, 1)  # every image ganlib trains on or evaluates: [28, 28, 1], values in [-1, 1]
NUM_CLASSES = 10

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class Dataset(NamedTuple):
    """Images and labels of one split.

    Attributes:
        images: float32 ``[N, 28, 28, 1]`` in ``[-1, 1]``.
        labels: int64 ``[N]`` class indices in ``0..9``.
    """

    images: np.ndarray
    labels: np.ndarray


def read_idx(path: str | os.PathLike, *, expected_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a uint8 array.

    The IDX format (big-endian) starts with a magic number whose low byte is the
    number of dimensions, then one uint32 size per dimension, then the data.

    Args:
        path: a ``.gz`` or uncompressed IDX file.
        expected_magic: if given, the magic number the file must carry
            (2051 for images, 2049 for labels).

    Returns:
        uint8 array of the shape stored in the header: ``[N, rows, cols]`` for
        images, ``[N]`` for labels.

    Raises:
        IDXError: the file is missing, not gzip when named ``.gz``, has a wrong
            magic number, or its length does not match its header. The message
            names the file and says what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise IDXError(f"IDX file not found: {path}. Expected an IDX file at that path.")
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise IDXError(
            f"Cannot read {path}: expected a gzip-compressed IDX file. Received a file that "
            f"failed to decompress ({err}). Re-download it or check its MD5 sum."
        ) from err
    if len(raw) < 4:
        raise IDXError(f"{path} is truncated: expected at least a 4-byte IDX header, received {len(raw)} bytes.")
    magic = struct.unpack(">I", raw[:4])[0]
    zero, dtype_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(
            f"{path} has the wrong IDX magic number: expected {expected_magic} "
            f"({'images' if expected_magic == IMAGES_MAGIC else 'labels'}), received {magic}."
        )
    if zero != 0 or dtype_code != 0x08 or ndim == 0:
        raise IDXError(
            f"{path} is not an unsigned-byte IDX file: expected magic 2051 or 2049, received {magic}."
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise IDXError(
            f"{path} is truncated: expected a {header_len}-byte header for {ndim} dimensions, "
            f"received {len(raw)} bytes."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected_len = header_len + int(np.prod(shape))
    if len(raw) != expected_len:
        raise IDXError(
            f"{path} has the wrong length for its header {tuple(shape)}: expected {expected_len} bytes, "
            f"received {len(raw)} ({'truncated' if len(raw) < expected_len else 'trailing data'})."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """Map uint8 pixels ``[N, 28, 28]`` or ``[N, 28, 28, 1]`` in 0..255 to float32 ``[N, 28, 28, 1]`` in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return (images.astype(np.float32) - 127.5) / 127.5


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The offline data directory: the argument, else ``$GANLIB_DATA_DIR``, else None (use tfds)."""
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(DATA_DIR_ENV) or None
    return Path(data_dir).expanduser() if data_dir is not None else None


def _check_name_split(name: str, split: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"Unknown data set: expected one of {', '.join(DATASETS)}. Received: name={name!r}")
    if split not in SPLITS:
        raise ValueError(f"Unknown split: expected one of {', '.join(SPLITS)}. Received: split={split!r}")


def load_idx_dataset(name: str, split: str, data_dir: str | os.PathLike) -> Dataset:
    """Load one split from the original IDX files in ``data_dir/name/``.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        data_dir: the folder holding ``mnist/`` and/or ``fashion_mnist/``.

    Returns:
        A :class:`Dataset` with float32 images ``[N, 28, 28, 1]`` in [-1, 1] and int64 labels ``[N]``.

    Raises:
        ValueError: unknown ``name`` or ``split``.
        FileNotFoundError: ``data_dir/name`` does not exist; the message says how to provide it.
        IDXError: a file is missing, truncated or of the wrong kind, or images and labels disagree.
    """
    _check_name_split(name, split)
    folder = Path(data_dir) / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Data set {name!r} not found offline: expected a folder {folder} holding "
            f"{', '.join(_FILES['train'] + _FILES['test'])}. Download them from the data set's "
            f"home page into that folder, point --data-dir / ${DATA_DIR_ENV} at its parent, "
            f"or leave both unset to download through tensorflow-datasets."
        )
    images_file, labels_file = (folder / f for f in _FILES[split])
    images = read_idx(images_file, expected_magic=IMAGES_MAGIC)
    labels = read_idx(labels_file, expected_magic=LABELS_MAGIC)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IDXError(f"{images_file}: expected images of shape [N, 28, 28], received {list(images.shape)}.")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise IDXError(
            f"{labels_file}: expected {images.shape[0]} labels to match {images_file}, "
            f"received shape {list(labels.shape)}."
        )
    return Dataset(to_unit_range(images), labels.astype(np.int64))


def load_tfds_dataset(name: str, split: str, *, tfds_data_dir: str | None = None) -> Dataset:
    """Load one split through ``tensorflow_datasets`` (downloads and prepares it on first use).

    tfds writes the examples in its own fixed order (shuffled by a hash of each example's key), so the
    arrays hold the same image/label pairs as :func:`load_idx_dataset` in a different order, and
    ``load_dataset(..., limit=k)`` keeps a different ``k`` examples from each source.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` or ``"test"``.
        tfds_data_dir: where tfds keeps its files (tfds's default when None: ``$TFDS_DATA_DIR``,
            else ``~/tensorflow_datasets``).

    Returns:
        A :class:`Dataset`: float32 images ``[N, 28, 28, 1]`` in [-1, 1], int64 labels ``[N]``.

    Raises:
        ValueError: unknown ``name`` or ``split``.
        RuntimeError: tfds could not download, prepare or read the data. The message names the
            exception (and the missing module when one is missing); for a network failure it says
            how to use offline IDX files instead.
    """
    _check_name_split(name, split)
    try:
        import tensorflow_datasets as tfds

        # Batches of 10,000 rather than batch_size=-1, which aborts the process on data sets of
        # unknown length (tfds.testing.mock_data's, with TF 2.21).
        ds = tfds.load(name, split=split, as_supervised=True, data_dir=tfds_data_dir).batch(10_000)
        batches = list(tfds.as_numpy(ds))
        images = np.concatenate([b[0] for b in batches])
        labels = np.concatenate([b[1] for b in batches])
    except Exception as err:  # tfds raises many kinds of network and preparation errors
        raise RuntimeError(_tfds_failure_message(name, err)) from err
    return Dataset(to_unit_range(images), np.asarray(labels, dtype=np.int64))


def _exception_chain(err: BaseException) -> list[BaseException]:
    """``err`` and the exceptions it was raised from or during, outermost first."""
    chain: list[BaseException] = []
    while err is not None and err not in chain:
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def _describe(err: BaseException) -> str:
    kind = type(err)
    where = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"{where}{kind.__qualname__}: {err}"


def _is_network_error(err: BaseException) -> bool:
    kinds: list[type] = [ConnectionError, TimeoutError, socket.gaierror, urllib.error.URLError]
    # Looked up only when already imported: a failure that came from them has imported them.
    requests_exceptions = sys.modules.get("requests.exceptions")
    tfds_download = getattr(sys.modules.get("tensorflow_datasets"), "download", None)
    for kind in (
        getattr(requests_exceptions, "RequestException", None),  # DNS, connection, timeout, bad HTTP status
        getattr(tfds_download, "DownloadError", None),  # tfds: the server answered with an HTTP error
    ):
        if isinstance(kind, type):
            kinds.append(kind)
    return isinstance(err, tuple(kinds))


def _tfds_failure_message(name: str, err: BaseException) -> str:
    """Say what made tfds fail: a missing module, the network, or something else, and what to do."""
    offline = (
        f"put the original IDX files in DIR/{name}/ and pass --data-dir DIR "
        f"(or data_dir=DIR, or set {DATA_DIR_ENV}=DIR)"
    )
    # The outermost missing module or network error in the chain names the cause.
    for cause in _exception_chain(err):
        if isinstance(cause, ImportError):
            missing = isinstance(cause, ModuleNotFoundError)
            what = f"the Python module {cause.name!r} is not installed" if missing else "an import failed"
            known = (
                "; tensorflow-datasets 4.9.x imports it without declaring it, "
                "https://github.com/tensorflow/datasets/issues/11212"
                if cause.name == "importlib_resources"
                else ""
            )
            return (
                f"tensorflow-datasets could not prepare {name!r}: {what} ({_describe(cause)}). This is not a "
                f"network problem: install ganlib's dependencies into this environment (`pip install -r "
                f"requirements.txt`{known}), or bypass tensorflow-datasets: {offline}."
            )
        if _is_network_error(cause):
            return (
                f"tensorflow-datasets could not download {name!r} ({_describe(cause)}). "
                f"Without internet, use the original IDX files: {offline}."
            )
    return (
        f"tensorflow-datasets failed to load or prepare {name!r} with {_describe(err)}. This is not a "
        f"network error; the traceback above shows where it was raised. To bypass tensorflow-datasets, "
        f"{offline}."
    )


def load_dataset(
    name: str = "mnist",
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load MNIST or Fashion-MNIST, offline from IDX files when a data directory is set, else via tfds.

    Example:
        >>> train = load_dataset("mnist", "train")  # doctest: +SKIP
        >>> train.images.shape, train.images.dtype, train.images.min(), train.images.max()  # doctest: +SKIP
        ((60000, 28, 28, 1), dtype('float32'), -1.0, 1.0)

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        data_dir: offline data directory holding ``name/`` with the four IDX ``.gz``
            files; defaults to ``$GANLIB_DATA_DIR``; when neither is set, tfds is used.
        limit: keep only the first ``limit`` examples (for quick runs); None keeps all.

    Returns:
        A :class:`Dataset`: float32 images ``[N, 28, 28, 1]`` in [-1, 1], int64 labels ``[N]``.

    Raises:
        ValueError: unknown name or split, or ``limit`` < 1.
        FileNotFoundError, IDXError: offline files missing or broken.
        RuntimeError: tfds could not load the data (no internet and no data directory, or a
            missing dependency; the message says which).
    """
    _check_name_split(name, split)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of examples or None. Received: limit={limit}")
    resolved = resolve_data_dir(data_dir)
    data = load_idx_dataset(name, split, resolved) if resolved is not None else load_tfds_dataset(name, split)
    if limit is not None:
        data = Dataset(data.images[:limit], data.labels[:limit])
    return data


def make_pipeline(
    images: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    epoch: int = 0,
    labels: np.ndarray | None = None,
):
    """Build the tf.data pipeline for one epoch: cache, seeded shuffle, batch (dropping the remainder), prefetch.

    The shuffle seed is derived from ``(seed, epoch)``, so the order of every epoch
    is fixed by the run's seed alone: a run resumed at epoch ``k`` sees the same
    batches as an uninterrupted run does at epoch ``k``. The shuffle buffer holds the
    whole data set (a uniform permutation); the last short batch is dropped, so every
    step sees ``batch_size`` examples and the train step is traced once.

    Args:
        images: float32 ``[N, H, W, C]`` in [-1, 1].
        batch_size: examples per batch, ``1 <= batch_size <= N``. A generator iteration
            of a critic trained ``n_critic`` times takes ``n_critic`` real batches, so the
            loop asks for batches of ``n_critic * config.batch_size`` images.
        seed: the run's seed.
        epoch: 0-based epoch index, mixed into the shuffle seed.
        labels: optional int ``[N]`` class labels (conditional GANs), shuffled with their images.

    Returns:
        A ``tf.data.Dataset`` of float32 batches ``[batch_size, H, W, C]``; with ``labels``,
        of dicts ``{"real": [batch_size, H, W, C], "labels": int32 [batch_size]}``.

    Raises:
        ValueError: empty ``images``, ``batch_size`` < 1, fewer images than one batch, or
            ``labels`` not of shape ``[N]``.
    """
    import tensorflow as tf

    n = len(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size}")
    if n == 0:
        raise ValueError("Expected at least one image to build a pipeline. Received: 0 images")
    if n < batch_size:
        raise ValueError(
            f"The data set is smaller than one batch: expected at least batch_size={batch_size} images, "
            f"received {n}. Use a smaller --batch-size or a larger --train-size."
        )
    if labels is None:
        ds = tf.data.Dataset.from_tensor_slices(images)
    else:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"Expected one label per image, shape [{n}]. Received: labels.shape={list(labels.shape)}")
        ds = tf.data.Dataset.from_tensor_slices({"real": images, "labels": labels.astype(np.int32)})
    ds = ds.cache().shuffle(n, seed=_epoch_seed(seed, epoch), reshuffle_each_iteration=False)
    # The data sit in memory, so there is nothing for tf.data's autotuner to tune; with it on, deleting an
    # exhausted shuffle+prefetch iterator blocked once per epoch (docs/decisions/010-data-pipeline-autotune.md).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.batch(batch_size, drop_remainder=True).prefetch(2).with_options(options)


def _epoch_seed(seed: int, epoch: int) -> int:
    # A fixed mixing of (seed, epoch) into one 63-bit int, independent of Python's hash randomization.
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0] >> 1)


def latent_batch(num: int | tuple[int, ...], latent_dim: int, seed: int | Sequence[int]) -> np.ndarray:
    """Latent vectors ``z ~ N(0, I)``, float32 ``[*num, latent_dim]``, from ``numpy.random.default_rng(seed)``.

    The one place a seeded latent batch is drawn (fixed sample grids, evaluations, walks,
    the ``sample`` command): the same ``seed`` gives the same vectors on every machine.

    Example:
        >>> latent_batch(4, 100, seed=0).shape
        (4, 100)

    Args:
        num: the number of vectors, or a shape ``(a, b, ...)`` of them.
        latent_dim: the generator's latent dimension, >= 1.
        seed: a NumPy seed (an integer >= 0, or a sequence of them).

    Raises:
        ValueError: ``num`` or ``latent_dim`` is not a positive integer.
    """
    shape = (num,) if isinstance(num, (int, np.integer)) and not isinstance(num, bool) else tuple(num)
    for name, value in (("num", shape), ("latent_dim", (latent_dim,))):
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in value):
            raise ValueError(f"{name} must be a positive integer (or, for num, a shape of them). "
                             f"Received: {name}={num if name == 'num' else latent_dim!r}")
    shape = tuple(int(v) for v in shape) + (int(latent_dim),)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check_images(images: Any, *, min_images: int = 1) -> np.ndarray:
    """Validate images for training or evaluation: float ``[N, 28, 28, 1]`` in [-1, 1], finite, N >= ``min_images``.

    The one image check of ganlib: the training loop and the metrics both call it.

    Args:
        images: array-like to check.
        min_images: the fewest images accepted (2 for a covariance).

    Returns:
        The images as a float32 array.

    Raises:
        ValueError: wrong rank or shape, non-float dtype (for example uint8 0..255), NaN or
            infinite values, values outside [-1, 1], or fewer than ``min_images`` images;
            the message says what was expected and what was received.
    """
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"Expected images of shape [N, 28, 28, 1]. Received: shape={list(arr.shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        hint = " (uint8 pixels in 0..255? convert with ganlib.data.to_unit_range)" if arr.dtype == np.uint8 else ""
        raise ValueError(f"Expected float images in [-1, 1]. Received: dtype={arr.dtype}{hint}")
    if len(arr) < min_images:
        raise ValueError(f"Expected at least {min_images} images. Received: {len(arr)} images")
    if arr.size:
        if not np.isfinite(arr).all():
            raise ValueError("Expected finite images in [-1, 1]. Received: images containing NaN or infinity")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
            raise ValueError(
                f"Expected images with values in [-1, 1]. Received values in [{lo:g}, {hi:g}]"
                + (" (0..255 pixels? use ganlib.data.to_unit_range)" if hi > 1.5 else "")
            )
    return arr.astype(np.float32, copy=False)
