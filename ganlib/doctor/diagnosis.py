"""The orchestration of ``doctor``: read the evidence, run every rule, collect the findings into a report."""

from __future__ import annotations

import os
from typing import Sequence

from ganlib.doctor.evidence import read_evidence, signal_summary
from ganlib.doctor.report import Finding, Report
from ganlib.doctor.rules import RULES, Rule


def diagnose(run_dir: str | os.PathLike, *, samples: int = 2000, data_dir: str | os.PathLike | None = None,
             seed: int = 0, rules: Sequence[Rule] = RULES) -> Report:
    """Examine a training run and say what is wrong with it, with evidence and a remedy.

    Reads ``RUN_DIR`` (``config.json``, ``data.json``, ``history.csv``, ``steps.csv``; no lock is taken, so a
    run being trained can be examined) and, when ``samples`` > 0, draws that many images from its latest
    checkpoint and classifies them with the shipped classifier (:func:`ganlib.doctor.evidence.read_evidence`).
    Each rule of :data:`ganlib.doctor.rules.RULES` then tests the evidence against its thresholds.

    Example:
        >>> from ganlib.doctor import diagnose  # doctest: +SKIP
        >>> report = diagnose("runs/dcgan-mnist", samples=2000)  # doctest: +SKIP
        >>> print(report)  # doctest: +SKIP
        >>> report.healthy, report.exit_code  # doctest: +SKIP
        (True, 0)

    Args:
        run_dir: a run directory written by ``train``.
        samples: images to draw and classify, >= 0 (2000 takes a few seconds on a CPU); 0 draws none: the
            signals and the config only, without TensorFlow (the mode-collapse and label checks are skipped).
        data_dir: offline data directory (see :func:`ganlib.data.load_dataset`); no check of this version
            needs the data, whose range the run records in ``data.json``.
        seed: seed of the samples' latent vectors.
        rules: the rules to apply (default: all of them).

    Returns:
        The :class:`ganlib.doctor.report.Report`: its findings most serious first, ``healthy`` (no serious
        finding and no warning), ``exit_code`` (4 when a finding is serious, else 0), ``str(report)`` the text,
        ``report.to_dict()`` the JSON.

    Raises:
        RunDirError: ``run_dir`` is not a ganlib run, or its ``config.json`` is truncated, corrupt or of a
            newer schema.
        ValueError: ``samples`` or ``seed`` is negative or not an integer.
        OSError: a file of the run cannot be read.
        StorageError: ``samples`` > 0 and none of the run's checkpoints can be read.
    """
    evidence = read_evidence(run_dir, samples=samples, data_dir=data_dir, seed=seed)
    summary = signal_summary(evidence)
    findings: list[Finding] = []
    for rule in rules:
        findings += rule(evidence, summary)
    if evidence.locked_by is not None:
        who = evidence.locked_by
        findings.append(Finding("doctor", "note", "The run is being trained now",
                                f"pid {who.get('pid', '?')} on {who.get('host', '?')} holds its lock (started "
                                f"{who.get('started', '?')}); this report reads the {evidence.epochs_done} epochs "
                                "written so far.", "Run doctor again when training has finished.", ""))
    if not evidence.steps:
        findings.append(Finding("doctor", "note", "No step has been recorded yet",
                                f"{evidence.run_dir} has no steps.csv: the signal checks had nothing to read.",
                                "Train at least one epoch.", ""))
    elif "g_grad_norm" not in evidence.steps and "g_grad_norm" not in (evidence.history[0] if evidence.history else {}):
        findings.append(Finding("doctor", "note", "The run has no health signals",
                                "steps.csv and history.csv hold no gradient norms or discriminator accuracies (a "
                                "run written by an older ganlib): the discriminator and gradient checks were "
                                "skipped.", "Train with this ganlib to record them.", ""))
    if evidence.data is None:
        findings.append(Finding("doctor", "note", "The run has no record of its training data",
                                "No data.json (a run written by an older ganlib): the input-range check was skipped.",
                                "", ""))
    for reason in evidence.skipped:
        findings.append(Finding("doctor", "note", "A check was skipped", reason, "", ""))
    c = evidence.config
    summary["run"] = {
        "preset": c.preset, "epochs": evidence.epochs_done, "epochs_planned": c.epochs,
        "description": f"{c.preset}, {evidence.epochs_done} of {c.epochs} epochs, {summary['steps']} steps"
                       + (f", {evidence.samples.num_samples} samples drawn" if evidence.samples else ""),
    }
    if evidence.samples is not None:
        s = evidence.samples
        summary["samples"] = {"num_samples": s.num_samples, "checkpoint": s.checkpoint, "epoch": s.epoch,
                              "histogram": list(s.histogram), "classes_covered": s.classes_covered,
                              "largest_share": s.largest_share, "duplicate_share": s.duplicate_share,
                              "class_accuracy": s.class_accuracy}
    return Report(run_dir=str(evidence.run_dir), findings=findings, summary=summary)


__all__ = ["diagnose"]
