"""Stabilisers on MNIST at an equal wall-clock budget: dcgan, + EMA, + TTUR, sngan, RpGAN + R1 + R2 and combinations.

Every variant is a preset plus overrides (``VARIANTS``). Three parts:

``costs``
    Seconds per generator iteration of every variant, timed in interleaved rounds in
    one process (XLA on, as the CLI trains). Run it on an idle machine: these costs turn
    the wall-clock budget into a number of iterations.
``run VARIANT --seed S --budget SECONDS``
    Trains the variant for ``budget / cost`` generator iterations (the iterations an
    idle 2-core machine does in ``budget`` seconds, so the result does not depend on the
    load while it runs) and evaluates FCD, classifier score and classes covered over
    ``--eval-samples`` images at fractions of the budget. Besides the raw generator it
    keeps exponential moving averages of the generator's weights at the decays of
    ``--ema`` (the update of :meth:`ganlib.train.ema.GeneratorEMA.update`, applied after every
    generator update; it does not change training) and evaluates them at the iteration
    counts their own idle cost allows (an EMA update makes an iteration slightly dearer).
``table``
    Mean and standard deviation over seeds of every (variant, generator, mark).

Usage::

    python -m benchmarks.experiments.stabilisers costs --json bench_costs.json
    python -m benchmarks.experiments.stabilisers run dcgan --seed 0 --budget 180 --costs bench_costs.json --out results.jsonl
    python -m benchmarks.experiments.stabilisers table results.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import append_rows, default_data_dir, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: name -> (preset, overrides). TTUR uses the two-time-scale rates and Adam betas of
#: Zhang et al. 2019 (SAGAN), https://arxiv.org/abs/1805.08318, section 5 (D 4e-4, G 1e-4, betas (0, 0.9)).
TTUR = dict(g_learning_rate=1e-4, d_learning_rate=4e-4, beta_1=0.0, beta_2=0.9)
RPGAN = dict(discriminator_loss="relativistic", generator_loss="relativistic", d_batch_norm=False)
VARIANTS: dict[str, tuple[str, dict]] = {
    "dcgan": ("dcgan", {}),
    "ttur": ("dcgan", TTUR),
    "sngan": ("sngan", {}),
    "sngan-ttur": ("sngan", TTUR),
    "dcgan-nobn": ("dcgan", dict(d_batch_norm=False)),
    "dcgan-b32": ("dcgan", dict(batch_size=32)),
    "dcgan-b128": ("dcgan", dict(batch_size=128, g_learning_rate=4e-4, d_learning_rate=4e-4)),
    "hinge": ("hinge", {}),
    "dcgan-ls": ("dcgan", dict(real_label=0.9)),
    # The relativistic pairing loss with zero-centred R1 and R2 and no normalisation in the discriminator
    # (Huang et al. 2025, R3GAN, https://arxiv.org/abs/2501.05441, section 2), on the DCGAN networks.
    "rpgan-r1r2-g1": ("dcgan", dict(RPGAN, r1_gamma=1.0, r2_gamma=1.0)),
    "rpgan-r1r2-g0.1": ("dcgan", dict(RPGAN, r1_gamma=0.1, r2_gamma=0.1)),
    "rpgan-r1r2-g1-lazy4": ("dcgan", dict(RPGAN, r1_gamma=1.0, r2_gamma=1.0, reg_interval=4)),
}
#: Variants whose iteration costs the same as another's (the change is a constant in the loss).
SAME_COST = {"dcgan-ls": "dcgan"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def config_of(variant: str, seed: int = 0, **extra):
    from ganlib.config import get_config

    preset, overrides = VARIANTS[variant]
    return get_config(preset, seed=seed, **{**overrides, **extra})


def costs(images, variants: list[str], rounds: int, steps: int) -> dict[str, float]:
    """Median seconds per generator iteration of each variant (and with one EMA), interleaved rounds."""
    from ganlib.data import make_pipeline
    from ganlib.train.state import build_gan
    from benchmarks.harness.timing import interleaved_step_seconds

    runners = {}
    for name in variants:
        for ema in (0.0, 0.999):
            gan = build_gan(config_of(name, ema=ema))
            step = gan.train_step(jit_compile=True)
            c = gan.config
            batches = [b for b, _ in zip(make_pipeline(images, c.batch_size * c.n_critic, seed=0), range(steps))]
            for b in batches[:3]:
                step(b)  # trace and compile
            runners[name + ("+ema" if ema else "")] = (step, batches)
    def report(r: int, seconds: dict) -> None:
        print("round", r, {k: round(v, 4) for k, v in seconds.items()}, "load", load(), flush=True)

    return interleaved_step_seconds(runners, rounds, on_round=report)


def run(images, variant: str, seed: int, budget: float, cost: dict[str, float], marks: list[float],
        emas: list[float], eval_samples: int, data_dir) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    from ganlib.data import make_pipeline
    from ganlib.metrics import evaluate_images
    from ganlib.train.state import build_gan

    gan = build_gan(config_of(variant, seed=seed))
    c = gan.config
    step = gan.train_step(jit_compile=True)
    averages = {d: [tf.Variable(w) for w in gan.generator.weights] for d in emas}

    @tf.function(jit_compile=True)
    def update_averages():
        for d, vs in averages.items():
            for v, w in zip(vs, gan.generator.weights):
                v.assign(d * v + (1.0 - d) * w)

    timed = SAME_COST.get(variant, variant)
    raw_total = int(budget / cost[timed])
    ema_total = int(budget / cost[timed + "+ema"])
    stops = {}  # iteration -> list of (generator name, mark)
    for m in marks:
        stops.setdefault(max(1, round(m * raw_total)), []).append(("raw", m))
        for d in emas:
            stops.setdefault(max(1, round(m * ema_total)), []).append((f"ema{d:g}", m))
    z = np.random.default_rng(10_000 + seed).standard_normal((eval_samples, c.latent_dim)).astype(np.float32)

    def evaluate(which: str) -> dict:
        if which == "raw":
            images_ = gan.generate(z)
        else:
            saved = [w.numpy() for w in gan.generator.weights]
            for w, v in zip(gan.generator.weights, averages[float(which[3:])]):
                w.assign(v)
            images_ = gan.generate(z)
            for w, s in zip(gan.generator.weights, saved):
                w.assign(s)
        return evaluate_images(images_, dataset="mnist", data_dir=data_dir)

    rows, done, epoch, t_start = [], 0, 0, time.perf_counter()
    last = max(stops)
    while done < last:
        for real in make_pipeline(images, c.batch_size * c.n_critic, seed=seed, epoch=epoch):
            step(real)
            update_averages()
            done += 1
            for which, mark in stops.get(done, []):
                m = evaluate(which)
                rows.append({"variant": variant, "seed": seed, "generator": which, "mark": mark,
                             "budget_seconds": round(mark * budget, 1), "iterations": done,
                             "fcd": round(m["fcd"], 3), "classifier_score": round(m["classifier_score"], 3),
                             "classes_covered": m["classes_covered"], "eval_samples": eval_samples,
                             "wall_seconds": round(time.perf_counter() - t_start, 1), "load": load()})
                print(json.dumps(rows[-1]), flush=True)
            if done >= last:
                break
        epoch += 1
    return rows


def table(paths: list[Path]) -> str:
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line.strip()]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["variant"], r["generator"], r["budget_seconds"]), []).append(r)
    out = ["| variant | generator | budget (s) | iterations | seeds | FCD mean ± std | classes covered (per seed) |",
           "|---|---|---|---|---|---|---|"]
    for (v, g, m), rs in sorted(groups.items()):
        f = [r["fcd"] for r in rs]
        sd = statistics.stdev(f) if len(f) > 1 else float("nan")
        out.append(f"| {v} | {g} | {rs[0]['budget_seconds']:g} | {rs[0]['iterations']} | "
                   f"{','.join(str(r['seed']) for r in rs)} | {statistics.mean(f):.1f} ± {sd:.1f} | "
                   f"{','.join(str(r['classes_covered']) for r in rs)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    p = sub.add_parser("costs")
    p.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v not in SAME_COST])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--json", type=Path, required=True)
    p = sub.add_parser("run", parents=[parent_parser("stabilisers", data_dir=False)])
    p.add_argument("variant", choices=list(VARIANTS))
    p.add_argument("--budget", type=float, required=True, help="idle 2-core seconds of training")
    p.add_argument("--costs", type=Path, required=True)
    p.add_argument("--marks", type=float, nargs="+", default=[0.5, 1.0])
    p.add_argument("--ema", type=float, nargs="*", default=[0.99, 0.999])
    p.add_argument("--eval-samples", type=int, default=10_000)
    p.add_argument("--out", type=Path, default=None, help="JSON lines, appended (the same as --json FILE)")
    p = sub.add_parser("table")
    p.add_argument("paths", type=Path, nargs="+")
    for p in sub.choices.values():
        p.add_argument("--data-dir", default=default_data_dir())
    args = parser.parse_args(argv)
    if args.part == "table":
        print(table(args.paths))
        return 0

    from ganlib.data import load_dataset

    images = load_dataset("mnist", "train", data_dir=args.data_dir).images
    if args.part == "costs":
        result = {"load_before": load(), "seconds_per_iteration": costs(images, args.variants, args.rounds, args.steps)}
        result["load_after"] = load()
        args.json.write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        return 0
    cost = json.loads(args.costs.read_text())["seconds_per_iteration"]
    rows = run(images, args.variant, args.seed, args.budget, cost, args.marks, args.ema, args.eval_samples,
               args.data_dir)
    for path in {args.out, args.json} - {None}:
        append_rows(path, rows, experiment="stabilisers")
    if args.out is None and args.json is None:
        print("\n".join(json.dumps(r) for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
