"""What every benchmark script shares: the common command-line options, the machine record and the results files.

* :func:`parent_parser`: an ``argparse`` parent with ``--data-dir``, ``--seed`` and ``--json``.
  ``--json`` alone appends the script's rows to ``benchmarks/results/<experiment>.jsonl``;
  ``--json FILE`` appends them to ``FILE`` instead.
* :func:`machine`: the conditions of a measurement (CPU model, cores, load average, Python,
  TensorFlow and Keras versions, UTC date), added to every row written by :func:`append_rows`.
* :func:`append_rows`: append rows to a JSON-lines file, one object per line.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"


def default_data_dir() -> str | None:
    """``$GANLIB_DATA_DIR``, else None (tfds downloads and caches the data)."""
    return os.environ.get("GANLIB_DATA_DIR") or None


def results_path(experiment: str) -> Path:
    """The results file of an experiment: ``benchmarks/results/<experiment>.jsonl``."""
    return RESULTS / f"{experiment}.jsonl"


def parent_parser(experiment: str, *, seed: bool = True, data_dir: bool = True) -> argparse.ArgumentParser:
    """An ``argparse`` parent (``parents=[...]``) with the options every benchmark shares.

    Args:
        experiment: the name of the results file that ``--json`` alone writes to.
        seed: add ``--seed`` (default 0); scripts that loop over ``--seeds`` leave it out.
        data_dir: add ``--data-dir``.
    """
    p = argparse.ArgumentParser(add_help=False)
    if data_dir:
        p.add_argument("--data-dir", default=default_data_dir(),
                       help="offline MNIST directory (default: $GANLIB_DATA_DIR, else tfds)")
    if seed:
        p.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    p.add_argument("--json", nargs="?", type=Path, const=results_path(experiment), default=None, metavar="FILE",
                   help=f"append every result row, with the machine record, to FILE "
                        f"(without FILE: benchmarks/results/{experiment}.jsonl)")
    return p


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages, rounded to 0.01."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """The conditions of a measurement, taken now."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load": load_average(),
        "python": platform.python_version(),
        "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
        "keras": _version("keras"),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def append_rows(path: str | os.PathLike, rows: Iterable[dict[str, Any]], *, experiment: str | None = None) -> Path:
    """Append ``rows`` to the JSON-lines file ``path``, each with ``"machine"`` (:func:`machine`) added.

    A row's own keys win over the added ones; ``experiment`` (when given) is stored in every row.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = machine()
    with path.open("a") as f:
        for row in rows:
            row = dict(row)
            if experiment is not None:
                row.setdefault("experiment", experiment)
            row.setdefault("machine", record)
            f.write(json.dumps(row) + "\n")
    return path
