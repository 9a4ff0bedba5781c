"""ganlib.doctor and ``python -m ganlib doctor``: each rule on a tiny run made to fail on purpose, and a healthy run.

The runs are the recipes of ``benchmarks/experiments/doctor_calibration.py`` (3 epochs of 1024 MNIST images,
8-filter networks: seconds each), trained once per module. Where a tiny run cannot show a symptom in seconds
(oscillation, an FCD plateau), the test writes the CSV evidence into a copy of a real run and says so.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SHARED_DATA

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="real MNIST files not present")

RUN_RECIPES = ("healthy", "d-lr-5000x", "saturating-strong-d", "lr-50", "nan-weight", "unit-interval-data",
               "keras-default-adam", "unconstrained-critic", "constant-generator", "label-ignored")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Every recipe trained once: name -> run directory."""
    from benchmarks.experiments.doctor_calibration import make_run, training_data

    root = tmp_path_factory.mktemp("doctor_runs")
    images, labels = training_data(SHARED_DATA)
    return {name: make_run(name, root / name, images=images, labels=labels) for name in RUN_RECIPES}


def _rules(report, *severities: str) -> set[str]:
    severities = severities or ("serious", "warning")
    return {f.rule for f in report.findings if f.severity in severities}


def test_a_healthy_run_is_healthy(runs):
    """dcgan's settings on the tiny networks, signals and config only: the tiny run's blurry samples are not
    yet digits (the classifier would call that collapse), so no sample is drawn."""
    from ganlib.doctor import diagnose

    report = diagnose(runs["healthy"], samples=0)
    assert report.healthy and report.exit_code == 0, str(report)
    assert _rules(report) == set()
    assert "Healthy" in str(report)
    assert all(f.severity == "note" for f in report.findings)


def test_the_run_records_its_training_data_and_every_step_signal(runs):
    from ganlib.train.runs import RunDir, read_csv, read_data_record

    run = RunDir(runs["healthy"])
    record = read_data_record(run)
    assert record["count"] == 1024 and record["min"] == -1.0 and record["max"] == 1.0 and -1 < record["mean"] < 0
    steps = read_csv(run.steps)
    assert len(steps) == 96
    assert {"d_loss", "g_loss", "g_grad_norm", "d_grad_norm", "d_acc_real", "d_acc_fake", "d_saturated"} <= set(steps[0])


def test_a_discriminator_far_faster_than_its_generator_wins(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["d-lr-5000x"], samples=0)
    assert "discriminator_wins" in _rules(report, "serious")
    assert "vanishing_generator_gradient" not in _rules(report)  # the non-saturating loss keeps its gradient
    assert report.exit_code == 4 and not report.healthy
    assert report.findings[0].severity == "serious"
    finding = next(f for f in report.findings if f.rule == "discriminator_wins")
    assert "section 1 (The discriminator wins too early)" in finding.section


def test_the_saturating_loss_against_a_strong_discriminator_loses_its_gradient(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["saturating-strong-d"], samples=0)
    assert {"vanishing_generator_gradient", "discriminator_wins"} <= _rules(report, "serious")
    finding = next(f for f in report.findings if f.rule == "vanishing_generator_gradient")
    assert "saturating minimax" in finding.evidence and "non_saturating" in finding.remedy


def test_exploding_losses_are_divergence(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["lr-50"], samples=0)
    assert "divergence" in _rules(report, "serious")
    assert "exploded" in next(f for f in report.findings if f.rule == "divergence").title


def test_a_run_stopped_by_divergence_leaves_its_nan_step(runs):
    """A generator weight set to NaN at step 40 (of 96): the loop raises DivergenceError at step 41 and writes
    the epoch's steps, the NaN one last, to steps.csv; the run has its epoch-1 checkpoint."""
    from ganlib.doctor import diagnose
    from ganlib.train.runs import RunDir, read_csv

    steps = read_csv(RunDir(runs["nan-weight"]).steps)
    assert len(steps) == 41 and math.isnan(steps[-1]["g_loss"])
    report = diagnose(runs["nan-weight"], samples=0)
    finding = next(f for f in report.findings if f.rule == "divergence")
    assert finding.severity == "serious" and "step 41" in finding.evidence
    assert "section 5" in finding.section


def test_unit_interval_data_is_the_wrong_input_range(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["unit-interval-data"], samples=0)
    finding = next(f for f in report.findings if f.rule == "input_range")
    assert finding.severity == "warning" and "[0, 1]" in finding.evidence
    assert "section 2 (Images in the wrong range)" in finding.section
    assert "input_range" not in _rules(diagnose(runs["healthy"], samples=0))


def test_keras_default_adam_is_a_warning(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["keras-default-adam"], samples=0)
    assert _rules(report, "warning") >= {"optimizer_defaults"}
    finding = next(f for f in report.findings if f.rule == "optimizer_defaults")
    assert "Radford et al. 2016, section 4" in finding.evidence and "--beta-1 0.5" in finding.remedy


def test_an_unconstrained_critic_keeps_winning(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["unconstrained-critic"], samples=0)
    finding = next(f for f in report.findings if f.rule == "discriminator_wins")
    assert finding.severity == "serious" and "score gap" in finding.title


def test_a_constant_generator_is_mode_collapse(runs):
    """The generator's output layer is zeroed after every epoch (before its checkpoint): every sample is tanh(0)."""
    from ganlib.doctor import diagnose

    report = diagnose(runs["constant-generator"], samples=300)
    finding = next(f for f in report.findings if f.rule == "mode_collapse")
    assert finding.severity == "serious" and "100% have a near-duplicate" in finding.evidence
    assert report.summary["samples"]["classes_covered"] == 1


def test_a_conditional_generator_with_a_zeroed_label_embedding_ignores_its_label(runs):
    from ganlib.doctor import diagnose

    report = diagnose(runs["label-ignored"], samples=300)
    finding = next(f for f in report.findings if f.rule == "label_ignored")
    assert finding.severity == "serious" and "section 4" in finding.section
    assert report.summary["samples"]["class_accuracy"] < 0.2


@pytest.mark.parametrize("histogram, duplicates, accuracy, expected", [
    ((0.1,) * 10, 0.0, 0.97, {}),  # a trained conditional generator: every class, no duplicates, labels followed
    ((0.125,) * 8 + (0.0, 0.0), 0.0, None, {"mode_collapse": "warning"}),  # 8 classes: partial collapse
    ((0.1,) * 10, 0.5, None, {"mode_collapse": "serious"}),  # every class, but half the samples near-duplicates
    ((0.1,) * 10, 0.0, 0.11, {"label_ignored": "serious"}),
])
def test_the_sample_rules_on_written_sample_evidence(runs, histogram, duplicates, accuracy, expected):
    """Written evidence: the healthy run's signals with the sample summary a trained generator would give; a tiny
    run's samples are not yet digits."""
    import dataclasses

    from ganlib.doctor.evidence import SampleEvidence, read_evidence, signal_summary
    from ganlib.doctor.rules import label_ignored, mode_collapse

    samples = SampleEvidence(num_samples=2000, checkpoint="ckpt-3", epoch=3, histogram=histogram,
                             classes_covered=sum(h >= 0.025 for h in histogram), duplicate_share=duplicates,
                             class_accuracy=accuracy)
    evidence = dataclasses.replace(read_evidence(runs["healthy"], samples=0), samples=samples)
    summary = signal_summary(evidence)
    found = {f.rule: f.severity for rule in (mode_collapse, label_ignored) for f in rule(evidence, summary)}
    assert found == expected


def _copy_with(run: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(".lock"))
    return copy


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_an_fcd_that_bottoms_out_is_a_plateau(runs, tmp_path):
    """Written evidence: the healthy run's history.csv with an ``fcd`` column (as --eval-every adds) that is best
    at epoch 2 of 5; a real run would need minutes of evaluation to show it."""
    from ganlib.doctor import diagnose
    from ganlib.train.runs import read_csv

    run = _copy_with(runs["healthy"], tmp_path, "plateau")
    history = read_csv(run / "history.csv")
    extra = [dict(history[-1], epoch=e) for e in (4, 5)]
    rows = [dict(r, fcd=fcd) for r, fcd in zip(history + extra, (40.0, 12.0, 13.0, 12.5, 14.0))]
    _write_csv(run / "history.csv", rows)
    report = diagnose(run, samples=0)
    finding = next(f for f in report.findings if f.rule == "quality_plateau")
    assert finding.severity == "warning" and "epoch 2" in finding.evidence and "ckpt-2" in finding.remedy
    assert "section 10" in finding.section


def test_swinging_losses_are_oscillation(runs, tmp_path):
    """Written evidence: the healthy run's steps.csv with g_loss and d_loss replaced by sine waves (12 cycles
    in 96 steps, 3 in the tail); a tiny real run diverges or settles before it oscillates."""
    from ganlib.doctor import diagnose
    from ganlib.train.runs import read_csv

    run = _copy_with(runs["healthy"], tmp_path, "oscillation")
    steps = read_csv(run / "steps.csv")
    t = np.arange(len(steps))
    wave = np.sin(2 * np.pi * 12 * t / len(steps))
    _write_csv(run / "steps.csv", [dict(r, g_loss=1.5 + 1.2 * w, d_loss=1.0 - 0.6 * w) for r, w in zip(steps, wave)])
    report = diagnose(run, samples=0)
    finding = next(f for f in report.findings if f.rule == "oscillation")
    assert finding.severity == "warning" and "section 7 (Oscillation)" in finding.section
    assert "oscillation" not in _rules(diagnose(runs["healthy"], samples=0))


def test_a_run_being_trained_is_read_without_its_lock(runs):
    from ganlib.doctor import diagnose
    from ganlib.train.runs import RunLock

    with RunLock(runs["healthy"]):
        report = diagnose(runs["healthy"], samples=0)
    assert report.healthy and any("being trained" in f.title for f in report.findings)


def test_the_report_is_json_and_findings_check_their_severity(runs):
    from ganlib.doctor import Finding, diagnose

    data = json.loads(json.dumps(diagnose(runs["d-lr-5000x"], samples=0).to_dict()))
    assert data["exit_code"] == 4 and not data["healthy"] and data["counts"]["serious"] >= 1
    assert set(data["findings"][0]) == {"rule", "severity", "title", "evidence", "remedy", "section"}
    with pytest.raises(ValueError, match="Expected severity"):
        Finding("x", "fatal", "t", "e", "r", "")


def test_diagnose_refuses_what_is_not_a_run(tmp_path):
    from ganlib.doctor import diagnose
    from ganlib.errors import RunDirError

    with pytest.raises(RunDirError, match="not a ganlib run"):
        diagnose(tmp_path, samples=0)
    with pytest.raises(ValueError, match="samples"):
        diagnose(tmp_path, samples=-1)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganlib", "doctor", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_exit_statuses(runs, tmp_path):
    healthy = _cli(str(runs["healthy"]), "--samples", "0", "--json")
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["healthy"] is True
    serious = _cli(str(runs["saturating-strong-d"]), "--samples", "0")
    assert serious.returncode == 4 and "SERIOUS" in serious.stdout
    missing = _cli(str(tmp_path / "nope"), "--samples", "0")
    assert missing.returncode == 2 and "RUN" in missing.stderr and "Received" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 2  # the error and the pointer to --help
    negative = _cli(str(runs["healthy"]), "--samples", "-1")
    assert negative.returncode == 2 and "--samples" in negative.stderr
    not_a_run = _cli(str(tmp_path))
    assert not_a_run.returncode == 1 and "not a ganlib run" in not_a_run.stderr


def test_importing_doctor_and_reading_signals_imports_no_tensorflow(runs):
    code = ("import sys; from ganlib.doctor import diagnose; r = diagnose(sys.argv[1], samples=0); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; print(r.exit_code)")
    out = subprocess.run([sys.executable, "-c", code, str(runs["healthy"])], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stderr
