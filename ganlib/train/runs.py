"""A training run's output directory: its layout, atomic writes, history files and the config guard.

Layout of ``RUN_DIR``::

    config.json        the run's TrainConfig (written once, checked on resume)
    checkpoints/       tf.train.CheckpointManager files (networks, optimizers, epoch, RNG state)
    samples/epoch_0001.png ...   the fixed-z sample grid after each epoch
    frames/step_0000000.png ...  the fixed-z grid at the steps of the frame schedule (ganlib.train.frames)
    training.gif       the frames (or, without frames, the sample grids) as an animation
    losses.png         loss curves
    history.csv        one row of epoch means per epoch
    steps.csv          per-step losses (for the loss plot)
    tensorboard/       TensorBoard event files (per-step losses, epoch metrics, sample grids)

Every file is written to a temporary name in the same folder and renamed into
place (``os.replace`` is atomic on POSIX and Windows), so a crash mid-write
leaves either the old file or the new one, never a broken one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ganlib.config import RESUMABLE_CHANGES, TrainConfig
from ganlib.errors import RunDirError


def atomic_write(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)`` and rename the temporary file onto ``path`` once it is complete.

    Args:
        path: the final file; its parent folders are created.
        write: writes the whole file at the temporary path it is given.

    The file gets the mode an ordinary ``open(path, "w")`` would give it (``0o666`` less the umask),
    not the ``0o600`` of the temporary file, so a GIF or a grid can be shared as any other file.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_csv(path: str | os.PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write dict rows to a CSV atomically; columns are the union of keys in first-seen order."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def read_csv(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read a CSV written by :func:`write_csv` into dict rows of floats (``epoch`` as int); [] if absent."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            parsed: dict[str, float] = {k: float(v) for k, v in row.items() if v not in ("", None)}
            if "epoch" in parsed and parsed["epoch"].is_integer():
                parsed["epoch"] = int(parsed["epoch"])
            rows.append(parsed)
        return rows


@dataclass(frozen=True)
class RunDir:
    """Paths of one run's output directory (see the module docstring for the layout)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def gif(self) -> Path:
        return self.root / "training.gif"

    @property
    def loss_plot(self) -> Path:
        return self.root / "losses.png"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def steps(self) -> Path:
        return self.root / "steps.csv"

    def sample_grid(self, epoch: int) -> Path:
        """The fixed-z sample grid written after ``epoch`` (1-based)."""
        return self.samples / f"epoch_{epoch:04d}.png"

    def sample_grids(self, up_to_epoch: int | None = None) -> list[Path]:
        """The saved sample grids in epoch order, optionally only those of epochs <= ``up_to_epoch``."""
        grids = sorted(self.samples.glob("epoch_[0-9][0-9][0-9][0-9].png"))
        if up_to_epoch is not None:
            grids = [g for g in grids if int(g.stem.split("_")[1]) <= up_to_epoch]
        return grids

    @property
    def frames(self) -> Path:
        return self.root / "frames"

    def frame(self, step: int) -> Path:
        """The training-GIF frame of generator step ``step`` (0: the untrained generator)."""
        return self.frames / f"step_{step:07d}.png"

    def frame_files(self, up_to_step: int | None = None) -> list[Path]:
        """The saved training-GIF frames in step order, optionally only those of steps <= ``up_to_step``."""
        frames = sorted(self.frames.glob("step_[0-9][0-9][0-9][0-9][0-9][0-9][0-9].png"))
        if up_to_step is not None:
            frames = [f for f in frames if frame_step(f) <= up_to_step]
        return frames

    def gif_frames(self, up_to_epoch: int, steps_per_epoch: int) -> list[Path]:
        """The frames of ``training.gif`` up to the end of ``up_to_epoch``: the step frames if the run
        has any, else the per-epoch sample grids."""
        return self.frame_files(up_to_epoch * steps_per_epoch) or self.sample_grids(up_to_epoch)

    def artefacts(self) -> list[Path]:
        """Everything a run writes, for ``--overwrite``."""
        return [self.config, self.checkpoints, self.samples, self.frames, self.gif, self.loss_plot, self.history,
                self.steps, self.root / "metrics.json", self.root / "tensorboard"]


def frame_step(path: str | os.PathLike) -> int:
    """The generator step of a frame file named by :meth:`RunDir.frame`."""
    return int(Path(path).stem.split("_")[1])


def load_config(run: RunDir) -> TrainConfig:
    """Read a run's saved config.

    Raises:
        RunDirError: no ``config.json`` in the directory, or it is not a valid config.
    """
    if not run.config.is_file():
        raise RunDirError(f"{run.root} is not a ganlib run: expected {run.config}, which does not exist.")
    try:
        return TrainConfig.from_dict(json.loads(run.config.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as err:
        raise RunDirError(f"{run.config} is not a valid ganlib config: {err}") from err


def prepare_run_dir(out_dir: str | os.PathLike, config: TrainConfig, *, overwrite: bool = False) -> RunDir:
    """Create or check a run directory for ``config``; the config guard.

    * An empty or new directory: ``config.json`` is written.
    * A directory holding a run with the same config (``epochs`` and
      ``eval_every`` may differ): accepted, the caller resumes it, and the new
      config is saved.
    * A directory holding a run with another config, or files that are not a
      ganlib run: refused, unless ``overwrite`` deletes the previous run's files
      (other files are left alone).

    Returns:
        The :class:`RunDir`.

    Raises:
        RunDirError: the directory holds another run (the message lists the
            differences and says how to resume or overwrite), holds foreign files,
            or cannot be created or written.
    """
    run = RunDir(Path(out_dir))
    if overwrite:
        for path in run.artefacts():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    try:
        run.root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunDirError(f"Cannot create the output directory {run.root}: {err}. Choose a writable --out.") from err
    if not os.access(run.root, os.W_OK):
        raise RunDirError(f"The output directory {run.root} is not writable. Choose a writable --out.")
    if run.config.is_file():
        previous = load_config(run)
        old, new = previous.to_dict(), config.to_dict()
        diffs = {k: (old.get(k), new[k]) for k in new if k not in RESUMABLE_CHANGES and old.get(k) != new[k]}
        if diffs:
            listed = ", ".join(f"{k}: run has {a!r}, received {b!r}" for k, (a, b) in diffs.items())
            raise RunDirError(
                f"{run.root} holds another run ({listed}). To resume it, repeat its settings (they are in "
                f"{run.config}; --epochs may be raised to train longer). To start over, pass --overwrite "
                f"(deletes its checkpoints, samples and history), or choose another --out."
            )
    elif not overwrite and any(p for p in run.root.iterdir() if not p.name.startswith(".")):
        raise RunDirError(
            f"{run.root} is not empty and holds no ganlib run (no config.json). Choose an empty or new --out, "
            f"or pass --overwrite to write a run there anyway."
        )
    try:
        atomic_write_text(run.config, json.dumps(config.to_dict(), indent=2) + "\n")
    except OSError as err:
        raise RunDirError(f"Cannot write to the output directory {run.root}: {err}. Choose a writable --out.") from err
    return run
