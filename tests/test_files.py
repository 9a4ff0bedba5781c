"""What ganlib writes as a user sees it: file modes, GIF loop counts, exit status on bad data, no TensorFlow for `gif`."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from ganlib.train.runs import atomic_write_text
from ganlib.viz import save_animation

REPO = Path(__file__).resolve().parents[1]


def test_atomic_write_gives_the_mode_of_an_ordinary_file(tmp_path):
    previous = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "shared.txt", "x")
        assert path.stat().st_mode & 0o777 == 0o644  # 0o666 less the umask, as open() gives; not mkstemp's 0o600
        os.umask(0o077)
        assert atomic_write_text(tmp_path / "private.txt", "x").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)


@pytest.mark.parametrize("loop, netscape", [(0, 0), (1, None), (2, 1), (5, 4)])
def test_gif_plays_as_many_times_as_asked(tmp_path, loop, netscape):
    frames = list(np.random.default_rng(0).integers(0, 256, (3, 16, 16), dtype=np.uint8))
    path = save_animation(frames, tmp_path / "a.gif", fps=10, loop=loop)
    raw = path.read_bytes()
    # NETSCAPE2.0 counts repetitions after the first play; without the block a GIF plays once.
    assert (b"NETSCAPE2.0" in raw) == (netscape is not None)
    assert iio.immeta(path, index=0).get("loop") == netscape


def test_a_truncated_idx_file_exits_1_naming_the_file(tmp_path):
    data = tmp_path / "data" / "mnist"
    data.mkdir(parents=True)
    with gzip.open(data / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes.fromhex("00000803") + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100))
    with gzip.open(data / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes.fromhex("00000801") + (60000).to_bytes(4, "big") + bytes(60000))
    result = subprocess.run(
        [sys.executable, "-m", "ganlib", "train", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "r"),
         "--epochs", "1", "--train-size", "64", "--no-progress"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 1, result.stderr
    assert "train-images-idx3-ubyte.gz" in result.stderr and "usage:" not in result.stderr


def _imports_tensorflow(code: str) -> bool:
    probe = f"import sys\n{code}\nprint('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1] == "True"


def test_gif_and_help_do_not_import_tensorflow(tmp_path):
    run = tmp_path / "run"
    (run / "frames").mkdir(parents=True)
    for step, value in ((0, 0), (10, 255)):
        iio.imwrite(run / "frames" / f"step_{step:07d}.png", np.full((8, 8), value, np.uint8))
    gif = f"from ganlib.cli import main\nassert main(['gif', {str(run)!r}, '--out', {str(tmp_path / 'g.gif')!r}]) == 0"
    assert not _imports_tensorflow(gif)
    assert (tmp_path / "g.gif").exists()
    assert not _imports_tensorflow("from ganlib.cli import main\ntry:\n    main(['train', '--help'])\n"
                                   "except SystemExit as e:\n    assert e.code == 0")


def test_a_failed_atomic_write_names_the_file_and_leaves_no_temporary_file(tmp_path):
    import errno

    from ganlib.train.runs import atomic_write

    def full(tmp):
        Path(tmp).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write() reports it: no file name

    with pytest.raises(OSError) as failed:
        atomic_write(tmp_path / "history.csv", full)
    assert failed.value.errno == errno.ENOSPC and failed.value.filename == str(tmp_path / "history.csv")
    assert list(tmp_path.iterdir()) == []
