"""Simultaneous against alternating update for n_critic = 1: generator iterations and time to a given FCD.

The *simultaneous* update takes both gradients from one forward pass (the
TensorFlow DCGAN tutorial); the *alternating* one updates the discriminator,
then the generator with fresh noise against the updated discriminator
(Algorithm 1 of Goodfellow et al. 2014). See ``ganlib.train.step.make_train_step``.

For each seed and each update rule this trains the ``dcgan`` preset on real
MNIST (batch 64, XLA on) for ``--steps`` generator iterations and records the
FCD over ``--eval-samples`` images every ``--eval-every`` iterations, with the
training time so far (evaluation not counted). On a shared machine wall times
drift with the load, so the cost of one iteration of each rule is also timed in
interleaved rounds in one process (their ratio is robust to the load), and the
time to an FCD is reported both as measured and as iterations x idle cost.

Usage::

    python -m benchmarks.experiments.update_rule --seeds 0 1 --steps 1500 --json update_rule.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from benchmarks.common import append_rows, load_average as load, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def step_costs(images, rounds: int = 5, steps: int = 30) -> dict[str, float]:
    """Median seconds per generator iteration of each rule, timed in interleaved rounds."""
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.data import make_pipeline
    from ganlib.train.state import build_gan
    from benchmarks.harness.timing import interleaved_step_seconds

    runners = {}
    for name, simultaneous in (("simultaneous", True), ("alternating", False)):
        gan = build_gan(get_config("dcgan", simultaneous_update=simultaneous))
        step = gan.train_step(jit_compile=True)
        batches = [b for b, _ in zip(make_pipeline(images, 64, seed=0), range(steps))]
        for b in batches[:3]:
            step(b)  # trace and compile
        runners[name] = (step, batches)
    del tf
    return interleaved_step_seconds(runners, rounds)


def run(images, simultaneous: bool, seed: int, steps: int, eval_every: int, eval_samples: int, data_dir) -> list:
    import numpy as np

    from ganlib.config import get_config
    from ganlib.data import make_pipeline
    from ganlib.metrics import evaluate_images
    from ganlib.train.state import build_gan

    gan = build_gan(get_config("dcgan", seed=seed, simultaneous_update=simultaneous))
    step = gan.train_step(jit_compile=True)
    z = np.random.default_rng(seed).standard_normal((eval_samples, gan.config.latent_dim)).astype(np.float32)
    curve, done, train_s, epoch = [], 0, 0.0, 0
    while done < steps:
        for real in make_pipeline(images, 64, seed=seed, epoch=epoch):
            t0 = time.perf_counter()
            out = step(real)
            float(out["g_loss"])
            train_s += time.perf_counter() - t0
            done += 1
            if done % eval_every == 0:
                m = evaluate_images(gan.generate(z), dataset="mnist", data_dir=data_dir)
                curve.append({"iterations": done, "train_seconds": round(train_s, 1), "fcd": round(m["fcd"], 2),
                              "classes_covered": m["classes_covered"], "load": load()})
                print(("simultaneous" if simultaneous else "alternating"), seed, curve[-1], flush=True)
            if done >= steps:
                break
        epoch += 1
    return curve


def update_rule_rows(result: dict, args) -> list[dict]:
    """One row per rule, seed and evaluation: the rows of ``benchmarks/results/update_rule.jsonl``."""
    rows = []
    for key, curve in result["runs"].items():
        rule, seed = key.split("/")
        for point in curve:
            rows.append({"rule": rule, "seed": int(seed), "preset": "dcgan", "batch_size": 64,
                         "eval_samples": args.eval_samples,
                         "seconds_per_iteration": round(result["step_seconds"][rule], 3), **point})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("update_rule", seed=False)])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=1500, help="generator iterations per run")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-samples", type=int, default=5000)
    args = parser.parse_args(argv)

    from ganlib.data import load_dataset

    images = load_dataset("mnist", "train", data_dir=args.data_dir).images
    result = {"load_before": load(), "step_seconds": step_costs(images), "runs": {}}
    print("seconds per iteration (interleaved):", result["step_seconds"], "load", load(), flush=True)
    for seed in args.seeds:
        for name, simultaneous in (("simultaneous", True), ("alternating", False)):
            result["runs"][f"{name}/{seed}"] = run(images, simultaneous, seed, args.steps, args.eval_every,
                                                   args.eval_samples, args.data_dir)
    result["load_after"] = load()
    if args.json is not None:
        append_rows(args.json, update_rule_rows(result, args), experiment="update_rule")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
