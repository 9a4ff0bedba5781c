"""The rules of ``doctor``: one function per training problem, each reading an :class:`Evidence` and its summary.

Every rule is ``rule(evidence, summary) -> list[Finding]`` (empty when it finds nothing), where ``summary`` is
:func:`ganlib.doctor.evidence.signal_summary` of the evidence; :data:`RULES` lists them in the order their
findings are reported within a severity. Each threshold is a named constant whose comment gives its source: a
paper, float32 arithmetic, or ganlib's own measurement on the runs recorded in
``benchmarks/results/doctor_calibration.jsonl`` (``benchmarks/experiments/doctor_calibration.py``).

Severities (:mod:`ganlib.doctor.report`): serious for what stops a run from learning the data (divergence, a
discriminator that has won, the generator's gradient vanishing, mode collapse, a label ignored); warnings for
what costs quality or time but leaves a run learning (oscillation, images in the wrong range, a quality
plateau, Keras's default optimizer settings).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ganlib.doctor.evidence import TAIL_FRACTION, Evidence
from ganlib.doctor.report import Finding, course_section

Summary = dict[str, Any]
Rule = Callable[[Evidence, Summary], list[Finding]]

# Readout losses (minimax, least squares, hinge) report the discriminator's accuracy; critics (Wasserstein,
# relativistic) report the score gap instead (ganlib.train.health).
CRITIC_LOSSES = ("wasserstein", "relativistic")

# -- discriminator_wins --------------------------------------------------------------------------------------
D_WIN_ACCURACY = 0.95
"""Tail mean of both ``d_acc_real`` and ``d_acc_fake`` at or above which the discriminator separates real from
generated images almost perfectly. ganlib's own: the healthy tiny dcgan run of the calibration file ends with
``d_acc_real`` 0.997 but ``d_acc_fake`` 0.65; a discriminator trained 5000x faster than its generator reaches
1.0 and 1.0; the real 10-epoch dcgan run (row ``dcgan-mnist``) ends at 0.86 and 0.87. Accuracy alone does not
decide: the Keras-default run reaches 0.99 and 0.99 with 2% saturated."""

D_WIN_SATURATION = 0.5
"""Tail mean of ``d_saturated`` (the share of generated images rejected with certainty, ``D(G(z)) < 0.01``)
at or above which the discriminator has won: at least half the generator's batch gets (nearly) no gradient
from the saturating loss (Goodfellow et al. 2014, section 3, https://arxiv.org/abs/1406.2661). ganlib's own
calibration: 0 in the healthy tiny dcgan run, 0.011 in the real 10-epoch dcgan run, 0.02 in the Keras-default
run, 0.29 (the most) in the healthy hinge run, 1.0 in the three runs whose discriminator won."""

LS_WIN_LOSS = 0.02
"""Least squares (no certainty level): a tail mean ``d_loss`` below this, with both accuracies above
:data:`D_WIN_ACCURACY`, counts as a won game (ganlib's own: the healthy lsgan run ends at 0.18; 0 is perfect)."""

SCORE_GAP_GROWTH = 50.0
"""A critic's score gap (tail median) this many times its early median, and still rising over the tail, is a
critic that keeps winning (ganlib's own: 8.2x in the healthy tiny wgan-gp run, negative in the healthy
relativistic one, 613x for an unconstrained critic against a frozen generator)."""

# -- vanishing_generator_gradient ----------------------------------------------------------------------------
VANISHING_RATIO = 0.05
"""The generator's gradient norm (tail median) below this share of its early median, while the
discriminator is saturated (:data:`D_WIN_SATURATION`), is a vanishing gradient: more than an order of
magnitude lost (Goodfellow et al. 2014, section 3; Arjovsky & Bottou 2017, section 2.2.1,
https://arxiv.org/abs/1701.04862). ganlib's own calibration: 0.019 for the saturating loss against a strong
discriminator; at least 1.4 (the norm grows) in every other run, the non-saturating loss against the same
discriminator included."""

# -- oscillation ---------------------------------------------------------------------------------------------
OSCILLATION_AMPLITUDE = 0.5
"""The swing of the smoothed ``d_loss`` or ``g_loss`` over the tail (5th to 95th percentile around its trend),
relative to the loss's median size, at or above which the losses oscillate (ganlib's own: at most 0.29 in the
healthy tiny runs of the calibration file, 0.21 in the real 10-epoch dcgan run, 0.34 in the Keras-default run)."""

OSCILLATION_CYCLES = 2.0
"""At least this many swings around the trend over the tail: a single jump is not an oscillation."""

OSCILLATION_TREND = 1.0
"""The trend's rise over the tail, in units of the swing, at or below which the losses have no trend."""

# -- divergence ----------------------------------------------------------------------------------------------
LOSS_LIMIT = -math.log(float(np.finfo(np.float32).tiny))
"""87.3: a readout loss (minimax, least squares, hinge) above it has left float32: ``-log D(G(z)) > 87.3``
means ``D(G(z))`` below float32's smallest normal number, 1.2e-38 (a healthy loss is about log 2 = 0.69,
Goodfellow et al. 2014, Theorem 1)."""

GRADIENT_GROWTH = 1000.0
"""A gradient norm whose tail maximum is this many times its early median has exploded: three orders of
magnitude (ganlib's own: at most 9.4x in the runs of the calibration file that did not diverge, 666x for an
unconstrained critic, which the score-gap rule reports)."""

# -- mode_collapse -------------------------------------------------------------------------------------------
COLLAPSE_CLASSES = 5
"""At most this many classes covered (each holding 2.5% of the samples, the threshold of
:func:`ganlib.metrics.fidelity.mode_coverage`) is mode collapse (ganlib's own: a trained MNIST generator
covers 10; notebook 06 shows a collapsed one)."""

COLLAPSE_SHARE = 0.5
"""One class holding this share of the samples or more (five times the uniform 0.1) is mode collapse."""

COLLAPSE_DUPLICATES = 0.2
"""This share of samples or more with a near-duplicate among the samples (:data:`ganlib.doctor.evidence.
DUPLICATE_DISTANCE`) is mode collapse within classes (ganlib's own: below 0.1% among 2000 MNIST test images, 100% for a constant
generator)."""

PARTIAL_CLASSES = 9
"""Fewer classes covered than this (two or more of 10 missing, but more than :data:`COLLAPSE_CLASSES` covered) is
a warning: partial collapse (ganlib's own: one class can fall under 2.5% by chance in a weak but varied run)."""

# -- label_ignored -------------------------------------------------------------------------------------------
LABEL_ACCURACY = 0.2
"""Class accuracy (the classifier agreeing with the class asked for) below twice chance (0.1 for 10 classes)
is a generator that ignores its label (ganlib's own: 0.103 with the label embedding zeroed; trained conditional
runs reach 0.99 per class after 5 epochs, ``benchmarks/results/conditional_default.jsonl``)."""

# -- input_range ---------------------------------------------------------------------------------------------
GENERATOR_RANGE = (-1.0, 1.0)
"""The output range of ganlib's generators (a tanh output layer; Radford et al. 2016, section 3,
https://arxiv.org/abs/1511.06434)."""

RANGE_USED = 0.75
"""The training images' span (max - min) below this share of the generator's range is the wrong input range:
[0, 1] data uses half of tanh's range (ganlib's own; MNIST scaled by ganlib spans [-1, 1] exactly)."""

# -- quality_plateau -----------------------------------------------------------------------------------------
PLATEAU_EVALUATIONS = 2
"""Evaluations after the best FCD without a better one: FCD has stopped improving (ganlib's own)."""

PLATEAU_TOLERANCE = 0.05
"""The last FCD within this share above the best still counts as the plateau, not a regression."""

# -- optimizer_defaults --------------------------------------------------------------------------------------
KERAS_ADAM = (1e-3, 0.9)
"""Keras's default Adam: learning rate 1e-3, beta_1 0.9 (``keras.optimizers.Adam``)."""

GAN_ADAM = (2e-4, 0.5)
"""The GAN setting: learning rate 2e-4, beta_1 0.5 (Radford et al. 2016, section 4: beta_1 0.9 "resulted in
training oscillation and instability")."""


def _signal(summary: Summary, key: str, stat: str) -> float | None:
    return summary["signals"].get(key, {}).get(stat)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _tail_text(summary: Summary, key: str) -> str:
    signal = summary["signals"].get(key, {})
    unit, count = signal.get("unit", "step"), signal.get("count", summary["steps"])
    means = " (epoch means)" if unit == "epoch" else ""
    return f"over the last {TAIL_FRACTION:.0%} of {count} {unit}s{means}"


def divergence(evidence: Evidence, summary: Summary) -> list[Finding]:
    """NaN or inf in a loss or gradient norm, a readout loss beyond float32 (:data:`LOSS_LIMIT`), or a gradient
    norm grown by :data:`GRADIENT_GROWTH`."""
    section = course_section(5, "Divergence: NaN and exploding losses")
    bad = {k: v["first_nonfinite"] for k, v in summary["signals"].items() if v["first_nonfinite"] is not None}
    if bad:
        key, step = min(bad.items(), key=lambda kv: kv[1])
        epoch = evidence.steps["epoch"][step] if "epoch" in evidence.steps and step < len(evidence.steps["epoch"]) \
            else None
        where = f"step {step + 1}" + (f" (epoch {epoch:.3f})" if epoch is not None else "")
        return [Finding("divergence", "serious", "Training diverged: a loss or gradient became NaN or infinite",
                        f"{key} is not finite at {where}; also non-finite: {', '.join(sorted(bad)) or 'none'}. "
                        f"The run stopped there (exit status 3 of 'train') and keeps the last good checkpoint.",
                        "Lower both learning rates (2e-4 with Adam beta_1 0.5 for dcgan), then resume or start over "
                        "with --overwrite; a gradient penalty or spectral normalization (notebook 07) bounds the "
                        "critic's gradients.", section)]
    findings = []
    if evidence.config.discriminator_loss not in CRITIC_LOSSES:
        for key in ("d_loss", "g_loss"):
            peak = _signal(summary, key, "tail_max")
            if peak is not None and abs(peak) > LOSS_LIMIT:
                findings.append(Finding(
                    "divergence", "serious", "The losses exploded",
                    f"{key} reaches {peak:.3g} {_tail_text(summary, key)}, above {LOSS_LIMIT:.1f} (-log of "
                    f"float32's smallest normal number; a healthy loss is near log 2 = 0.69).",
                    "Lower both learning rates (Adam 2e-4, beta_1 0.5, Radford et al. 2016) and start over with "
                    "--overwrite.", section))
                return findings
    for key in ("g_grad_norm", "d_grad_norm"):
        early, peak = _signal(summary, key, "early"), _signal(summary, key, "tail_max")
        if early and peak is not None and early > 0 and peak / early >= GRADIENT_GROWTH:
            findings.append(Finding(
                "divergence", "serious", "The gradients exploded",
                f"{key} grew from {early:.3g} (median of the first steps) to {peak:.3g} "
                f"{_tail_text(summary, key)}: {peak / early:.0f}x, at least {GRADIENT_GROWTH:.0f}x.",
                "Lower the learning rates; for a critic, constrain it (gradient penalty, --gp-weight 10, or "
                "spectral normalization, notebook 07).", section))
            break
    return findings


def discriminator_wins(evidence: Evidence, summary: Summary) -> list[Finding]:
    """The discriminator overpowers the generator: both accuracies near 1 and most fakes rejected with
    certainty (readout losses), or a critic's score gap that keeps growing."""
    section = course_section(1, "The discriminator wins too early")
    remedy = ("Weaken the discriminator or strengthen the generator: equal learning rates (--g-lr and --d-lr "
              "2e-4), the non-saturating generator loss (--generator-loss non_saturating), one-sided label "
              "smoothing (--real-label 0.9), a narrower discriminator (--d-filters).")
    if evidence.config.discriminator_loss in CRITIC_LOSSES:
        early, tail = _signal(summary, "score_gap", "early"), _signal(summary, "score_gap", "tail_median")
        values = evidence.series("score_gap")
        if early is None or tail is None or values is None:
            return []
        from ganlib.doctor.evidence import swing

        rising = swing(values[-max(8, int(len(values) * TAIL_FRACTION)):])
        growth = tail / max(abs(early), 1e-12)
        if tail > 0 and growth >= SCORE_GAP_GROWTH and rising is not None and rising["trend"] >= OSCILLATION_TREND:
            return [Finding("discriminator_wins", "serious", "The critic keeps winning: its score gap keeps growing",
                            f"score_gap (mean D(x) - mean D(G(z))) grew from {early:.3g} to {tail:.3g} "
                            f"{_tail_text(summary, 'score_gap')} ({growth:.0f}x, at least {SCORE_GAP_GROWTH:.0f}x) and "
                            f"is still rising.",
                            "Constrain the critic (a gradient penalty, --gp-weight 10, or weight clipping, "
                            "--clip-value 0.01; Gulrajani et al. 2017) and check the generator's learning rate.",
                            section)]
        return []
    real, fake = _signal(summary, "d_acc_real", "tail"), _signal(summary, "d_acc_fake", "tail")
    if real is None or fake is None or real < D_WIN_ACCURACY or fake < D_WIN_ACCURACY:
        return []
    saturated = _signal(summary, "d_saturated", "tail")
    if saturated is not None:
        if saturated < D_WIN_SATURATION:
            return []
        how = f"and rejects {saturated:.0%} of generated images with certainty (at least {D_WIN_SATURATION:.0%})"
    else:
        d_loss = _signal(summary, "d_loss", "tail")
        if d_loss is None or d_loss >= LS_WIN_LOSS:
            return []
        how = f"with d_loss {d_loss:.3g} (below {LS_WIN_LOSS})"
    lr = f" (d_lr {evidence.config.d_learning_rate:g} vs g_lr {evidence.config.g_learning_rate:g})" \
        if evidence.config.d_learning_rate > evidence.config.g_learning_rate else ""
    return [Finding("discriminator_wins", "serious", "The discriminator wins: the generator gets no useful signal",
                    f"The discriminator classifies {real:.0%} of real and {fake:.0%} of generated images correctly "
                    f"{_tail_text(summary, 'd_acc_fake')} (at least {D_WIN_ACCURACY:.0%} both) {how}{lr}.",
                    remedy, section)]


def vanishing_generator_gradient(evidence: Evidence, summary: Summary) -> list[Finding]:
    """The generator's gradient norm collapses (below :data:`VANISHING_RATIO` of its early value) while the
    discriminator is saturated: the saturating minimax loss ``log(1 - D(G(z)))`` against a confident D."""
    early, tail = _signal(summary, "g_grad_norm", "early"), _signal(summary, "g_grad_norm", "tail_median")
    saturated = _signal(summary, "d_saturated", "tail")
    if not early or tail is None or saturated is None or early <= 0:
        return []
    if tail / early >= VANISHING_RATIO or saturated < D_WIN_SATURATION:
        return []
    loss = evidence.config.generator_loss
    cause = ("the saturating minimax generator loss log(1 - D(G(z))) has no gradient where D is certain "
             "(Goodfellow et al. 2014, section 3)") if loss == "minimax" else f"the generator loss is {loss}"
    return [Finding("vanishing_generator_gradient", "serious", "The generator's gradient has vanished",
                    f"g_grad_norm fell from {early:.3g} (median of the first steps) to {tail:.3g} "
                    f"{_tail_text(summary, 'g_grad_norm')} ({tail / early:.3f} of it, below {VANISHING_RATIO}), while "
                    f"the discriminator rejects {saturated:.0%} of generated images with certainty; {cause}.",
                    "Use the non-saturating generator loss -log D(G(z)) (--generator-loss non_saturating, the "
                    "dcgan preset) and keep the discriminator from racing ahead (equal learning rates).",
                    course_section(1, "The discriminator wins too early"))]


def oscillation(evidence: Evidence, summary: Summary) -> list[Finding]:
    """The losses swing widely (:data:`OSCILLATION_AMPLITUDE`), repeatedly (:data:`OSCILLATION_CYCLES`) and
    without a trend (:data:`OSCILLATION_TREND`) over the tail."""
    for key, s in summary["swing"].items():
        if s is None:
            continue
        if (s["relative_amplitude"] >= OSCILLATION_AMPLITUDE and s["cycles"] >= OSCILLATION_CYCLES
                and s["trend"] <= OSCILLATION_TREND):
            c = evidence.config
            return [Finding("oscillation", "warning", "The losses oscillate without settling",
                            f"{key} swings by {s['amplitude']:.3g} ({s['relative_amplitude']:.0%} of its size, at "
                            f"least {OSCILLATION_AMPLITUDE:.0%}) {s['cycles']:.1f} times "
                            f"{_tail_text(summary, key)}, with no trend (rise {s['trend']:.2f} of the swing).",
                            f"Lower the learning rates (now g {c.g_learning_rate:g}, d {c.d_learning_rate:g}) or "
                            f"Adam's beta_1 (now {c.beta_1:g}; 0.5 in Radford et al. 2016); an EMA of the "
                            "generator's weights (--ema 0.999, notebook 07) smooths what the swings leave.",
                            course_section(7, "Oscillation"))]
    return []


def mode_collapse(evidence: Evidence, summary: Summary) -> list[Finding]:
    """Samples concentrated on few classes (:data:`COLLAPSE_CLASSES`, :data:`COLLAPSE_SHARE`) or full of
    near-duplicates (:data:`COLLAPSE_DUPLICATES`); partial collapse (:data:`PARTIAL_CLASSES`) is a warning."""
    s = evidence.samples
    if s is None:
        return []
    section = course_section(3, "Mode collapse")
    seen = (f"Of {s.num_samples} samples of {s.checkpoint} (epoch {s.epoch}), the shipped classifier covers "
            f"{s.classes_covered}/10 classes (2.5% each); class {s.largest_class} holds {s.largest_share:.0%}; "
            f"{s.duplicate_share:.0%} have a near-duplicate among the samples")
    remedy = ("Make the discriminator see diversity: minibatch standard deviation or a gradient penalty "
              "(wgan-gp), an EMA generator, lower learning rates; resume from an earlier checkpoint if an earlier "
              "epoch's grid looked varied (notebook 06 measures coverage).")
    if (s.classes_covered <= COLLAPSE_CLASSES or s.largest_share >= COLLAPSE_SHARE
            or s.duplicate_share >= COLLAPSE_DUPLICATES):
        return [Finding("mode_collapse", "serious", "Mode collapse: the generator draws few distinct images",
                        f"{seen} (collapse: at most {COLLAPSE_CLASSES} classes, a class of {COLLAPSE_SHARE:.0%} or "
                        f"{COLLAPSE_DUPLICATES:.0%} near-duplicates).", remedy, section)]
    if s.classes_covered < PARTIAL_CLASSES:
        return [Finding("mode_collapse", "warning", "Partial mode collapse: some classes are missing",
                        f"{seen} (fewer than {PARTIAL_CLASSES} classes covered).", remedy, section)]
    return []


def label_ignored(evidence: Evidence, summary: Summary) -> list[Finding]:
    """A conditional generator whose samples match the class asked for about as often as chance."""
    s = evidence.samples
    if s is None or s.class_accuracy is None or s.class_accuracy >= LABEL_ACCURACY:
        return []
    return [Finding("label_ignored", "serious", "The conditional generator ignores its label",
                    f"The shipped classifier agrees with the class asked for in {s.class_accuracy:.0%} of "
                    f"{s.num_samples} samples ({s.num_samples // 10} per class; chance is 10%, the threshold "
                    f"{LABEL_ACCURACY:.0%}).",
                    "Check that the labels reach both networks and match the images (the data pipeline's labels, "
                    "not a shuffled copy), train longer, or give the discriminator a projection label input "
                    "(--d-label-input projection, Miyato & Koyama 2018; notebook 08).",
                    course_section(4, "A conditional generator that ignores its label"))]


def input_range(evidence: Evidence, summary: Summary) -> list[Finding]:
    """The training images span less than :data:`RANGE_USED` of the generator's [-1, 1] (``data.json``)."""
    d = evidence.data
    if d is None:
        return []
    low, high = GENERATOR_RANGE
    span = d["max"] - d["min"]
    if span >= RANGE_USED * (high - low):
        return []
    return [Finding("input_range", "warning", "The training images do not span the generator's output range",
                    f"The {d['count']} training images span [{d['min']:.3g}, {d['max']:.3g}] (mean {d['mean']:.3g}): "
                    f"{span / (high - low):.0%} of the tanh generator's [{low:g}, {high:g}] (at least "
                    f"{RANGE_USED:.0%} expected). Its output's lower part is never asked for, and the background "
                    f"it must learn ({d['min']:.3g}) is not tanh's end (-1).",
                    "Scale pixels to [-1, 1]: x / 127.5 - 1 for uint8 images, 2 * x - 1 for [0, 1] images "
                    "(ganlib.data.load_dataset does this for MNIST), and start over with --overwrite.",
                    course_section(2, "Images in the wrong range"))]


def quality_plateau(evidence: Evidence, summary: Summary) -> list[Finding]:
    """FCD (history.csv, ``--eval-every``) has not improved for :data:`PLATEAU_EVALUATIONS` evaluations."""
    f = summary["fcd"]
    if f is None or f["evaluations_since_best"] < PLATEAU_EVALUATIONS:
        return []
    best = f["best_epoch"]
    if best in evidence.checkpoints:
        keep = f"keep checkpoints/ckpt-{best} (python -m ganlib export {evidence.run_dir}/checkpoints/ckpt-{best})"
    else:
        kept = ", ".join(f"ckpt-{e}" for e in evidence.checkpoints) or "none"
        keep = (f"its checkpoint ckpt-{best} is no longer kept (kept: {kept}); the nearest kept one is the best "
                f"available, and --eval-every with a larger max_to_keep keeps the best next time")
    trend = "regressed" if f["last"] > f["best"] * (1 + PLATEAU_TOLERANCE) else "stayed level"
    return [Finding("quality_plateau", "warning", "Sample quality stopped improving",
                    f"The best FCD, {f['best']:.3g}, was reached at epoch {best}; the {f['evaluations_since_best']} "
                    f"evaluations since did not improve on it (the last, epoch {f['last_epoch']}: {f['last']:.3g}, "
                    f"{trend}).",
                    f"Stop training (more epochs cost time without quality) and {keep}.",
                    course_section(10, "When to stop and which checkpoint to keep"))]


def optimizer_defaults(evidence: Evidence, summary: Summary) -> list[Finding]:
    """Adam with Keras's defaults (:data:`KERAS_ADAM`) instead of the GAN setting (:data:`GAN_ADAM`)."""
    c = evidence.config
    lr, beta_1 = KERAS_ADAM
    if c.optimizer != "adam" or c.beta_1 < beta_1 or max(c.g_learning_rate, c.d_learning_rate) < lr:
        return []
    return [Finding("optimizer_defaults", "warning", "The optimizer is left at Keras's defaults",
                    f"Adam with beta_1 {c.beta_1:g} and learning rates g {c.g_learning_rate:g}, "
                    f"d {c.d_learning_rate:g}: Keras's defaults ({lr:g}, {beta_1:g}), not the GAN setting "
                    f"({GAN_ADAM[0]:g}, {GAN_ADAM[1]:g}; Radford et al. 2016, section 4, found beta_1 0.9 unstable).",
                    f"Train with --g-lr {GAN_ADAM[0]:g} --d-lr {GAN_ADAM[0]:g} --beta-1 {GAN_ADAM[1]:g} "
                    "(the dcgan preset's values).",
                    course_section(6, "Optimizer settings left at Keras defaults"))]


RULES: tuple[Rule, ...] = (divergence, discriminator_wins, vanishing_generator_gradient, mode_collapse, label_ignored,
                           input_range, optimizer_defaults, oscillation, quality_plateau)
"""Every rule, in the order their findings are listed within a severity."""


__all__ = [
    "COLLAPSE_CLASSES", "COLLAPSE_DUPLICATES", "COLLAPSE_SHARE", "D_WIN_ACCURACY", "D_WIN_SATURATION", "GAN_ADAM",
    "GENERATOR_RANGE", "GRADIENT_GROWTH", "KERAS_ADAM", "LABEL_ACCURACY", "LOSS_LIMIT", "LS_WIN_LOSS",
    "OSCILLATION_AMPLITUDE", "OSCILLATION_CYCLES", "OSCILLATION_TREND", "PARTIAL_CLASSES", "PLATEAU_EVALUATIONS",
    "PLATEAU_TOLERANCE", "RANGE_USED", "RULES", "SCORE_GAP_GROWTH", "VANISHING_RATIO", "discriminator_wins",
    "divergence", "input_range", "label_ignored", "mode_collapse", "optimizer_defaults", "oscillation",
    "quality_plateau", "vanishing_generator_gradient",
]
