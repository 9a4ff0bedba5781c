"""What ``doctor`` knows about a run: its files read into one typed record, and the signal summaries the rules test.

:func:`read_evidence` reads a run directory (:mod:`ganlib.train.runs`) without taking its lock, so a run
being trained can be examined: ``config.json``, ``data.json`` (the training images' range), ``history.csv``
(epoch means, and ``fcd`` in the epochs evaluated with ``--eval-every``), ``steps.csv`` (every statistic of
every step, the health signals of :mod:`ganlib.train.health` included) and, when ``samples`` > 0, images
drawn from the latest checkpoint and classified by the shipped classifier (:mod:`ganlib.metrics`). Only the
sampling imports TensorFlow.

:func:`signal_summary` turns the per-step series into the few numbers the rules (:mod:`ganlib.doctor.rules`)
compare with their thresholds: medians of the first steps, means of the last part of training, the swing of
the losses there. ``benchmarks/experiments/doctor_calibration.py`` records the same summaries for the runs
that calibrate the thresholds.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganlib.config import TrainConfig
from ganlib.errors import RunDirError
from ganlib.train.runs import RunDir, load_config, locked_by, read_csv, read_data_record

EARLY_FRACTION = 0.1
"""The first share of the steps whose medians are the run's "early" values (ganlib's own choice)."""

MIN_EARLY_STEPS = 5
"""At least this many steps count as early (or every step, in a shorter run)."""

TAIL_FRACTION = 0.25
"""The last share of the steps that is "the last part of training" for every rule (ganlib's own choice)."""

MIN_TAIL_STEPS = 8
"""At least this many steps form the tail (or every step, in a shorter run)."""

MIN_EARLY_EPOCHS, MIN_TAIL_EPOCHS = 1, 2
"""The same minimums when a run's signals are only epoch means (``history.csv`` of a run whose ``steps.csv``
holds the losses alone, written by an older ganlib)."""

SMOOTHING_STEPS = 20
"""Steps averaged before measuring a swing: a moving average over ``min(this, tail // 8)`` steps keeps the
slow swings of an oscillation and removes most of the minibatch noise."""

DUPLICATE_DISTANCE = 1.0
"""Two samples closer than this (pixel L2 distance of images in [-1, 1], 784 pixels) are near-duplicates.

Source: ganlib's own; among 2000 MNIST test images the nearest other image is never closer than 2.59 at the
0.1th percentile (3.12 at the 1st, 10.8 at the median; ``benchmarks/results/doctor_calibration.jsonl``, row
``mnist-test``)."""

SIGNALS = ("d_loss", "g_loss", "g_grad_norm", "d_grad_norm", "d_acc_real", "d_acc_fake", "d_saturated", "score_gap")
"""The per-step statistics the summaries describe (those the run reports)."""


@dataclass(frozen=True)
class SampleEvidence:
    """Generated images of the latest checkpoint, through the shipped classifier.

    Attributes:
        num_samples: images drawn (a conditional run draws ``max(1, samples // 10)`` of every class).
        checkpoint: the checkpoint prefix sampled.
        epoch: its epoch.
        histogram: the share of the samples the classifier puts in each class, 10 floats summing to 1.
        classes_covered: classes holding at least 2.5% of them (:func:`ganlib.metrics.fidelity.mode_coverage`).
        duplicate_share: the share of samples with another sample closer than :data:`DUPLICATE_DISTANCE`.
        class_accuracy: conditional runs: how often the classifier agrees with the class asked for, in [0, 1]
            (chance: 0.1); None for an unconditional run.
    """

    num_samples: int
    checkpoint: str
    epoch: int
    histogram: tuple[float, ...]
    classes_covered: int
    duplicate_share: float
    class_accuracy: float | None = None

    @property
    def largest_class(self) -> int:
        """The class the classifier sees most often."""
        return int(np.argmax(self.histogram))

    @property
    def largest_share(self) -> float:
        """The share of the samples in :attr:`largest_class`, in [0.1, 1]."""
        return float(max(self.histogram))


@dataclass(frozen=True)
class Evidence:
    """Everything a run directory says about its training (see :func:`read_evidence`).

    Attributes:
        run_dir: the run directory.
        config: its :class:`ganlib.config.TrainConfig` (from ``config.json``).
        history: the rows of ``history.csv`` (epoch means; ``fcd`` in evaluated epochs).
        steps: the columns of ``steps.csv``: name -> float64 ``[steps]`` (NaN where a step has no value).
        data: ``data.json`` (``count``, ``min``, ``max``, ``mean`` of the training images), or None for a run
            written before ganlib recorded it.
        samples: the :class:`SampleEvidence`, or None when no sample was drawn.
        checkpoints: the epochs whose checkpoints the run still keeps (``checkpoints/ckpt-N``), ascending.
        locked_by: who is training the run now (the lock file's ``pid``, ``host``, ``started``), or None.
        skipped: why a check could not be made (``"samples: the run has no checkpoint yet"``), for the report.
    """

    run_dir: Path
    config: TrainConfig
    history: list[dict[str, float]]
    steps: dict[str, np.ndarray]
    data: dict[str, float] | None = None
    samples: SampleEvidence | None = None
    checkpoints: tuple[int, ...] = ()
    locked_by: dict[str, Any] | None = None
    skipped: tuple[str, ...] = field(default=())

    def series(self, key: str) -> np.ndarray | None:
        """The per-step values of ``key`` (float64 ``[steps]``), else its epoch means from ``history.csv``
        (a run written before ``steps.csv`` held every statistic), else None."""
        if key in self.steps:
            return self.steps[key]
        values = [row.get(key, math.nan) for row in self.history]
        if values and not all(math.isnan(v) for v in values):
            return np.asarray(values, np.float64)
        return None

    @property
    def epochs_done(self) -> int:
        """Epochs completed (rows of ``history.csv``)."""
        return len(self.history)


def check_run_dir(run_dir: str | os.PathLike) -> TrainConfig:
    """Check that ``run_dir`` is a ganlib run this ganlib reads, without TensorFlow; returns its config.

    Raises:
        RunDirError: no ``config.json``; it is truncated, corrupt or of a newer schema
            (see :func:`ganlib.train.runs.load_config`).
        OSError: it cannot be read.
    """
    return load_config(RunDir(Path(run_dir)))


def read_evidence(run_dir: str | os.PathLike, *, samples: int = 2000, data_dir: str | os.PathLike | None = None,
                  seed: int = 0) -> Evidence:
    """Read a run directory into an :class:`Evidence` record; takes no lock (a run being trained can be read).

    Args:
        run_dir: a run directory written by ``train``.
        samples: images to draw from the latest checkpoint and classify, >= 0; 0 draws none (signals and
            config only; no TensorFlow is imported).
        data_dir: offline data directory; the checks of this version need none (the classifier ships with
            ganlib, and the training data's range is in ``data.json``), so it is accepted for a later check.
        seed: seed of the latent vectors of the samples.

    Returns:
        The :class:`Evidence`.

    Raises:
        RunDirError: ``run_dir`` is not a ganlib run, or its ``config.json`` cannot be used.
        ValueError: ``samples`` or ``seed`` is not a non-negative integer.
        OSError: a file of the run cannot be read.
    """
    for name, value in (("samples", samples), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer. Expected {name} >= 0. Received: "
                             f"{name}={value!r}")
    run = RunDir(Path(run_dir))
    if not run.root.is_dir():
        raise RunDirError(f"{run.root} is not a ganlib run: expected a run directory written by 'train'. "
                          f"Received: {run.root}, which is not a directory.")
    config = load_config(run)
    history = read_csv(run.history)
    steps = _columns(read_csv(run.steps))
    checkpoints = tuple(sorted(int(m.group(1)) for p in run.checkpoints.glob("ckpt-*.index")
                               if (m := re.fullmatch(r"ckpt-(\d+)\.index", p.name))))
    skipped: list[str] = []
    drawn = None
    if samples:
        if not checkpoints:
            skipped.append("samples: the run has no checkpoint yet, so no sample was drawn (mode collapse and "
                           "label checks skipped)")
        else:
            drawn = draw_samples(run, samples, seed=seed, data_dir=data_dir)
    else:
        skipped.append("samples: none drawn (samples=0): mode collapse and label checks skipped")
    return Evidence(run_dir=run.root, config=config, history=history, steps=steps, data=read_data_record(run),
                    samples=drawn, checkpoints=checkpoints, locked_by=locked_by(run.root), skipped=tuple(skipped))


def _columns(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return {k: np.asarray([row.get(k, math.nan) for row in rows], np.float64) for k in keys}


def draw_samples(run: RunDir, num_samples: int, *, seed: int = 0,
                 data_dir: str | os.PathLike | None = None) -> SampleEvidence:
    """Draw ``num_samples`` images from the run's latest checkpoint and classify them (imports TensorFlow).

    The images are the run's evaluation samples (:meth:`ganlib.train.state.GAN.evaluation_samples`: seeded
    ``z``, and every class equally for a conditional run), as ``python -m ganlib evaluate`` draws them.

    Args:
        run: the run directory.
        num_samples: images to draw, >= 1.
        seed: seed of the latent vectors.
        data_dir: offline data directory (not needed by the classifier, which ships with ganlib).

    Returns:
        The :class:`SampleEvidence`.

    Raises:
        FileNotFoundError: the run has no checkpoint.
        StorageError: no checkpoint of the run can be read.
    """
    from ganlib.metrics.classifier import classify
    from ganlib.metrics.fidelity import mode_coverage
    from ganlib.train.state import load_run

    del data_dir  # the shipped classifier needs no data
    gan, _ = load_run(run.root)
    images, labels = gan.evaluation_samples(num_samples, seed=seed)
    _, logits = classify(images, gan.config.dataset)
    predicted = np.argmax(logits, axis=1)
    coverage = mode_coverage(predicted)
    accuracy = None
    if labels is not None:
        per_class = [float(np.mean(predicted[labels == c] == c)) for c in np.unique(labels)]
        accuracy = float(np.mean(per_class))
    return SampleEvidence(num_samples=len(images), checkpoint=str(gan.restored_from), epoch=int(gan.epoch.numpy()),
                          histogram=tuple(float(h) for h in coverage.histogram),
                          classes_covered=coverage.classes_covered,
                          duplicate_share=duplicate_share(images), class_accuracy=accuracy)


def duplicate_share(images: np.ndarray, *, distance: float = DUPLICATE_DISTANCE) -> float:
    """The share of ``images`` with another image closer than ``distance`` (pixel L2), in [0, 1].

    Each image's nearest other image is :func:`ganlib.metrics.neighbours.knn_radii` with ``k = 1``.

    Args:
        images: float ``[N, ...]``, N >= 1 (flattened per image).
        distance: the near-duplicate distance (:data:`DUPLICATE_DISTANCE` for images in [-1, 1]).

    Returns:
        The share; 0 for a single image, or when an image is not finite (no distance can be measured).
    """
    from ganlib.metrics.neighbours import knn_radii

    x = np.asarray(images, np.float32).reshape(len(images), -1)
    if len(x) < 2 or not np.isfinite(x).all():
        return 0.0
    return float(np.mean(knn_radii(x, k=1) < distance))


def _span(n: int, fraction: float, minimum: int) -> int:
    return min(n, max(minimum, int(round(n * fraction))))


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _median(values: np.ndarray) -> float | None:
    values = _finite(values)
    return float(np.median(values)) if values.size else None


def _mean(values: np.ndarray) -> float | None:
    values = _finite(values)
    return float(np.mean(values)) if values.size else None


def swing(values: np.ndarray, smoothing: int = SMOOTHING_STEPS) -> dict[str, float] | None:
    """How a series swings around its trend over the steps given (the tail of training).

    The series is smoothed by a moving average of ``min(smoothing, len // 8)`` steps (at least 1) and a
    straight line is fitted to it.

    Args:
        values: float ``[n]``; non-finite values are dropped.
        smoothing: the moving average's steps.

    Returns:
        ``{"amplitude", "relative_amplitude", "cycles", "trend"}``: the 5th-to-95th percentile range of the
        smoothed series around its line; that range over the median absolute value of the series (0.1 at least,
        so a loss near 0 does not make every swing large); the crossings of the line divided by 2; and the
        line's rise over the steps given, in units of ``amplitude`` (0: flat). None for fewer than 8 values.
    """
    x = _finite(np.asarray(values, np.float64))
    if x.size < 8:
        return None
    window = max(1, min(smoothing, x.size // 8))
    smooth = np.convolve(x, np.ones(window) / window, mode="valid")
    t = np.arange(smooth.size, dtype=np.float64)
    slope, intercept = np.polyfit(t, smooth, 1)
    residual = smooth - (slope * t + intercept)
    low, high = np.percentile(residual, [5, 95])
    amplitude = float(high - low)
    signs = np.sign(residual[np.abs(residual) > 0.1 * amplitude]) if amplitude > 0 else np.zeros(0)
    crossings = int(np.sum(signs[1:] != signs[:-1])) if signs.size > 1 else 0
    scale = max(float(np.median(np.abs(x))), 0.1)
    rise = float(slope * max(smooth.size - 1, 1))
    return {"amplitude": amplitude, "relative_amplitude": amplitude / scale, "cycles": crossings / 2,
            "trend": abs(rise) / amplitude if amplitude > 0 else 0.0}


def signal_summary(evidence: Evidence) -> dict[str, Any]:
    """The numbers the rules test, from the per-step series (or, for an older run, the epoch means).

    For each statistic of :data:`SIGNALS` the run reports: ``early`` (median of the first
    :data:`EARLY_FRACTION` of the steps), ``tail`` (mean of the last :data:`TAIL_FRACTION`), ``tail_median``,
    ``tail_max``, the index of the first non-finite value (``first_nonfinite``, or None) and the ``unit`` of the
    series (``"step"``, or ``"epoch"`` for the epoch means of an older run). Also the swing of
    ``d_loss`` and ``g_loss`` over the tail (:func:`swing`), the FCD history (``fcd``: best epoch and value,
    last value, evaluations since the best) and the training data's record.

    Returns:
        A JSON-able dict: ``{"steps": n, "epochs": ..., "signals": {key: {...}}, "swing": {...},
        "fcd": {...} or None, "data": {...} or None}``.
    """
    signals: dict[str, dict[str, Any]] = {}
    n_steps = 0
    for key in SIGNALS:
        values = evidence.series(key)
        if values is None or values.size == 0:
            continue
        n = values.size
        per_step = key in evidence.steps
        n_steps = max(n_steps, n if per_step else 0)
        min_early, min_tail = (MIN_EARLY_STEPS, MIN_TAIL_STEPS) if per_step else (MIN_EARLY_EPOCHS, MIN_TAIL_EPOCHS)
        early, tail = values[:_span(n, EARLY_FRACTION, min_early)], values[-_span(n, TAIL_FRACTION, min_tail):]
        bad = np.flatnonzero(~np.isfinite(values))
        finite_tail = _finite(tail)
        signals[key] = {
            "early": _median(early), "tail": _mean(tail), "tail_median": _median(tail),
            "tail_max": float(finite_tail.max()) if finite_tail.size else None,
            "first_nonfinite": int(bad[0]) if bad.size else None, "count": int(n),
            "unit": "step" if per_step else "epoch",
        }
    swings = {}
    for key in ("d_loss", "g_loss"):
        values = evidence.series(key)
        if values is not None:
            tail = values[-_span(values.size, TAIL_FRACTION, MIN_TAIL_STEPS):]
            swings[key] = swing(tail)
    return {"steps": n_steps, "epochs": evidence.epochs_done, "signals": signals, "swing": swings,
            "fcd": fcd_summary(evidence.history), "data": evidence.data}


def fcd_summary(history: list[dict[str, float]]) -> dict[str, Any] | None:
    """The FCD of the evaluated epochs: ``{"evaluations", "best_epoch", "best", "last_epoch", "last",
    "evaluations_since_best"}``, or None when no epoch has a finite ``fcd``."""
    evaluated = [(int(r["epoch"]), float(r["fcd"])) for r in history if math.isfinite(r.get("fcd", math.nan))]
    if not evaluated:
        return None
    best_index = min(range(len(evaluated)), key=lambda i: evaluated[i][1])
    return {"evaluations": len(evaluated), "best_epoch": evaluated[best_index][0], "best": evaluated[best_index][1],
            "last_epoch": evaluated[-1][0], "last": evaluated[-1][1],
            "evaluations_since_best": len(evaluated) - 1 - best_index}


__all__ = ["DUPLICATE_DISTANCE", "EARLY_FRACTION", "Evidence", "MIN_EARLY_EPOCHS", "MIN_EARLY_STEPS", "MIN_TAIL_EPOCHS",
           "MIN_TAIL_STEPS", "SIGNALS",
           "SMOOTHING_STEPS", "SampleEvidence", "TAIL_FRACTION", "check_run_dir", "draw_samples", "duplicate_share",
           "fcd_summary", "read_evidence", "signal_summary", "swing"]
