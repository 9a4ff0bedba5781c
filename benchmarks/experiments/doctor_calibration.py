"""The runs that calibrate ``doctor``'s thresholds: tiny runs made to fail on purpose, one healthy, and their signal summaries.

Each recipe of :data:`RECIPES` trains a tiny network pair (8 filters, latent size 8, batch 32) for 3 epochs of
1024 MNIST training images (96 steps, seconds on a CPU) with one thing wrong: a discriminator learning 5000x
faster than its generator, the saturating minimax generator loss against a strong discriminator, learning
rates of 50, [0, 1]-scaled images, Keras's default Adam, an unconstrained critic against a frozen generator,
a generator whose output layer is zeroed after every epoch (constant output), a conditional generator whose
label embedding is zeroed, a generator weight set to NaN mid-run; and healthy dcgan, lsgan, hinge, wgan-gp and
relativistic runs (healthy by their signals: after 96 steps their samples are blobs, not yet digits, which the
classifier calls one or two classes, so ``fired_without_samples`` is their verdict). ``tests/test_doctor.py`` trains the same recipes. For each run the script writes one row:
the recipe, :func:`ganlib.doctor.evidence.signal_summary`, the samples' summary and the rules that fired.
A row ``mnist-test`` records the nearest-neighbour pixel distances among 2000 MNIST test images (the
near-duplicate threshold's source), and a row ``dcgan-mnist`` the real 10-epoch default run when
``--real-run`` names one (such as ``runs/dcgan-mnist``, trained by ``make demo``).

Usage::

    python -m benchmarks.experiments.doctor_calibration [--json] [--real-run runs/dcgan-mnist] [--samples 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BASE = dict(epochs=3, batch_size=32, latent_dim=8, g_filters=8, d_filters=8, num_samples=4, frames_per_decade=0)
"""The tiny run every recipe starts from (with 1024 training images: 32 steps per epoch)."""

TRAIN_IMAGES = 1024


def _zero_output_layer(gan, row):
    """After every epoch (before its checkpoint): the generator's output layer zeroed, so G(z) = tanh(0)."""
    last = gan.generator.layers[-1]
    for weight in last.weights:
        weight.assign(weight * 0.0)


def _zero_label_embedding(gan, row):
    """After every epoch: the generator's label embedding zeroed, so G(z, y) does not depend on y."""
    layer = gan.generator.get_layer("label_embedding")
    for weight in layer.weights:
        weight.assign(weight * 0.0)


def _poison_at(step: int):
    """A step callback that sets a generator weight to NaN at ``step``: the next step's losses are NaN."""

    def on_step_end(gan, at, stats):
        if at == step:
            weight = gan.generator.layers[-1].weights[0]
            weight.assign(weight * float("nan"))

    return on_step_end


SAMPLE_RULES = ("mode_collapse", "label_ignored")
"""The rules that read the samples (the others read the signals and the config)."""

RECIPES: dict[str, dict[str, Any]] = {
    "healthy": dict(preset="dcgan", overrides={}, expect=()),
    "healthy-lsgan": dict(preset="lsgan", overrides={}, expect=()),
    "healthy-hinge": dict(preset="hinge", overrides={}, expect=()),
    "healthy-wgan-gp": dict(preset="wgan-gp", overrides=dict(n_critic=2), expect=()),
    "healthy-relativistic": dict(preset="dcgan", overrides=dict(discriminator_loss="relativistic",
                                                                generator_loss="relativistic"), expect=()),
    "d-lr-5000x": dict(preset="dcgan", overrides=dict(d_learning_rate=5e-3, g_learning_rate=1e-6),
                       expect=("discriminator_wins",)),
    "saturating-strong-d": dict(preset="gan", overrides=dict(d_learning_rate=5e-3),
                                expect=("discriminator_wins", "vanishing_generator_gradient")),
    "lr-50": dict(preset="dcgan", overrides=dict(g_learning_rate=50.0, d_learning_rate=50.0),
                  expect=("divergence",)),
    "nan-weight": dict(preset="dcgan", overrides={}, step_callback=_poison_at(40), expect=("divergence",)),
    "unit-interval-data": dict(preset="dcgan", overrides={}, unit_interval=True, expect=("input_range",)),
    "keras-default-adam": dict(preset="dcgan", overrides=dict(g_learning_rate=1e-3, d_learning_rate=1e-3,
                                                              beta_1=0.9), expect=("optimizer_defaults",)),
    "unconstrained-critic": dict(preset="wgan-gp", overrides=dict(gp_weight=0.0, n_critic=1, g_learning_rate=1e-6,
                                                                  d_learning_rate=1e-3),
                                 expect=("discriminator_wins",)),
    "constant-generator": dict(preset="dcgan", overrides={}, epoch_callback=_zero_output_layer,
                               expect=("mode_collapse",)),
    "label-ignored": dict(preset="dcgan", overrides=dict(conditional=True), epoch_callback=_zero_label_embedding,
                          expect=("label_ignored",)),
}
"""name -> ``preset``, ``overrides`` of :data:`BASE`, optional ``epoch_callback`` / ``step_callback`` (what is
broken on purpose), ``unit_interval`` (train on ``(x + 1) / 2``), and ``expect``: the rules that should fire."""


class _Hook:
    """A :class:`ganlib.train.callbacks.Callback` from a recipe's functions (built lazily: it imports TensorFlow)."""

    @staticmethod
    def make(epoch_callback: Callable | None, step_callback: Callable | None):
        from ganlib.train.callbacks import Callback

        class Hook(Callback):
            def on_step_end(self, gan, step, stats):
                if step_callback is not None:
                    step_callback(gan, step, stats)

            def on_epoch_end(self, gan, row):
                if epoch_callback is not None:
                    epoch_callback(gan, row)

        return Hook()


def training_data(data_dir: str | os.PathLike | None = None):
    """The first :data:`TRAIN_IMAGES` MNIST training images in [-1, 1] and their labels."""
    from ganlib.data import load_dataset

    data = load_dataset("mnist", "train", data_dir=data_dir, limit=TRAIN_IMAGES)
    return data.images, data.labels


def make_run(name: str, out_dir: str | os.PathLike, *, data_dir: str | os.PathLike | None = None,
             images=None, labels=None) -> Path:
    """Train recipe ``name`` of :data:`RECIPES` into ``out_dir`` (overwritten); a :class:`DivergenceError` is the
    recipe's expected end and is swallowed. Returns the run directory."""
    from ganlib.config import get_config
    from ganlib.errors import DivergenceError
    from ganlib.train import train

    recipe = RECIPES[name]
    if images is None:
        images, labels = training_data(data_dir)
    if recipe.get("unit_interval"):
        images = (images + 1.0) / 2.0
    config = get_config(recipe["preset"], **{**BASE, **recipe["overrides"]})
    hook = _Hook.make(recipe.get("epoch_callback"), recipe.get("step_callback"))
    try:
        train(config, out_dir, images=images, labels=labels if config.conditional else None, overwrite=True,
              progress=False, tensorboard=False, callbacks=[hook])
    except DivergenceError:
        pass
    return Path(out_dir)


def nearest_test_distances(data_dir: str | os.PathLike | None, n: int = 2000) -> dict[str, Any]:
    """Percentiles of the nearest-other-image pixel distance among the first ``n`` MNIST test images."""
    import numpy as np

    from ganlib.data import load_dataset

    x = load_dataset("mnist", "test", data_dir=data_dir, limit=n).images.reshape(n, -1).astype(np.float32)
    norms = (x * x).sum(1)
    d2 = norms[:, None] + norms[None, :] - 2 * x @ x.T
    np.fill_diagonal(d2, np.inf)
    nn = np.sqrt(np.maximum(d2.min(1), 0))
    q = [0.1, 1, 5, 50]
    return {"num_images": n, "nn_distance_percentiles": dict(zip(map(str, q), np.percentile(nn, q).round(3).tolist()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("doctor_calibration", seed=False)])
    parser.add_argument("--out", type=Path, default=Path("runs/doctor_calibration"),
                        help="folder of the tiny runs (one sub-folder per recipe)")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES),
                        help="the recipes to train (none: only --real-run)")
    parser.add_argument("--samples", type=int, default=2000, help="samples doctor draws from each run")
    parser.add_argument("--real-run", type=Path, default=None, help="a real run to add (e.g. runs/dcgan-mnist)")
    args = parser.parse_args(argv)

    from ganlib.doctor import diagnose

    rows = []
    if args.recipes:
        images, labels = training_data(args.data_dir)
        rows.append({"experiment": "doctor_calibration", "run": "mnist-test", **nearest_test_distances(args.data_dir)})
    runs = [(name, RECIPES[name]) for name in args.recipes]
    for name, recipe in runs:
        start = time.perf_counter()
        run_dir = make_run(name, args.out / name, images=images, labels=labels)
        seconds = time.perf_counter() - start
        report = diagnose(run_dir, samples=args.samples)
        rows.append(_row(name, report, recipe=recipe, train_seconds=seconds))
        print(f"{name}: {rows[-1]['fired']}, without samples {rows[-1]['fired_without_samples']} "
              f"(expected {list(recipe['expect'])})", flush=True)
    if args.real_run is not None and (args.real_run / "config.json").is_file():
        report = diagnose(args.real_run, samples=args.samples)
        rows.append(_row(args.real_run.name, report, recipe=None, train_seconds=None))
        print(f"{args.real_run}: {[f.rule for f in report.findings if f.severity != 'note']}", flush=True)
    if args.json:
        append_rows(args.json, rows)
        print(f"Appended {len(rows)} rows to {args.json}")
    return 0


def _row(name: str, report, *, recipe: dict | None, train_seconds: float | None) -> dict[str, Any]:
    row = {"experiment": "doctor_calibration", "run": name,
           "preset": report.summary["run"]["preset"],
           "fired": [f.rule for f in report.findings if f.severity != "note"],
           # the verdict of the signals and the config alone (doctor --samples 0): a 3-epoch tiny run draws blobs
           # that the classifier calls one or two classes, so its samples say "not yet digits", not "collapse"
           "fired_without_samples": [f.rule for f in report.findings
                                     if f.severity != "note" and f.rule not in SAMPLE_RULES],
           "severities": {f.rule: f.severity for f in report.findings if f.severity != "note"},
           "summary": {k: v for k, v in report.summary.items() if k != "run"}}
    samples = row["summary"].get("samples")
    if samples:  # the checkpoint within its run, not the machine's path to it
        samples["checkpoint"] = str(Path(samples["checkpoint"]).relative_to(report.run_dir))
    if recipe is not None:
        row.update(overrides=recipe["overrides"], expected=list(recipe["expect"]), base=BASE,
                   train_images=TRAIN_IMAGES, train_seconds=round(train_seconds, 1))
    return row


if __name__ == "__main__":
    sys.exit(main())
