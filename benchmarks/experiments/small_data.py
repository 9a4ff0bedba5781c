"""Small data with and without DiffAugment: FCD and the discriminator's overfitting at an equal number of steps.

The ``dcgan`` preset trained on the first 600 (1%) and 6,000 (10%) MNIST training images
(``train_size``), with ``diffaugment=""`` and ``diffaugment="translation,cutout"`` (Zhao et al.
2020, https://arxiv.org/abs/2006.10738), for the same number of generator steps, over several
seeds. After training, each run reports:

* ``fcd``, ``classifier_score``, ``classes_covered`` of ``--eval-samples`` generated images
  (:func:`ganlib.metrics.evaluate_images`, the 10,000 test images as the real set);
* the discriminator's accuracy on real images it trained on (``d_acc_train``: the fraction with
  ``D(x) > 0``, i.e. ``sigmoid(D(x)) > 0.5``, over up to ``--d-images`` training images) and on
  held-out real images (``d_acc_test``: as many test images), and on generated ones
  (``d_acc_fake``: the fraction with ``D(G(z)) < 0``). A discriminator that memorises its
  training set calls its training images real and the held-out ones fake: the gap
  ``d_acc_train - d_acc_test`` measures it (the paper's figure 1 shows the same on CIFAR-10).
  The discriminator scores the images without augmentation, in training mode on batches of 64
  (batch norm then uses batch statistics, as in its updates, where real and generated images go
  through it in separate batches).

The step is :meth:`ganlib.train.state.GAN.train_step` compiled with XLA, fed by
:func:`ganlib.data.make_pipeline` (one seeded shuffle per epoch), as the CLI trains. One row per
run is appended to the results file as soon as it is done.

Usage::

    python -m benchmarks.experiments.small_data run --sizes 600 6000 --seeds 0 1 2 --steps 1500 --json
    python -m benchmarks.experiments.small_data table benchmarks/results/small_data.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import append_rows, load_average, parent_parser, results_path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EXPERIMENT = "small_data"
POLICIES = ("", "translation,cutout")


def discriminator_accuracy(gan, images, *, real: bool, batch: int = 64) -> tuple[float, float]:
    """``(accuracy, mean logit)`` of the discriminator on ``images``; accuracy = fraction on the right side of 0."""
    import numpy as np

    logits = []
    for i in range(0, len(images) - batch + 1, batch):  # full batches: batch statistics as in training
        logits.append(np.asarray(gan.discriminator(images[i : i + batch], training=True)).ravel())
    logits = np.concatenate(logits)
    accuracy = float(np.mean(logits > 0) if real else np.mean(logits < 0))
    return round(accuracy, 4), round(float(np.mean(logits)), 4)


def run_one(train_images, test_images, *, size: int, policy: str, seed: int, steps: int, eval_samples: int,
            d_images: int, data_dir) -> dict:
    """Train one run and measure it (see the module docstring)."""
    import numpy as np

    from ganlib.config import get_config
    from ganlib.data import make_pipeline
    from ganlib.metrics import evaluate_images
    from ganlib.train.state import build_gan

    config = get_config("dcgan", train_size=size, seed=seed, diffaugment=policy)
    gan = build_gan(config)
    step = gan.train_step(jit_compile=True)
    images = train_images[:size]
    load_before, start, done, epoch = load_average(), time.perf_counter(), 0, 0
    while done < steps:
        for real in make_pipeline(images, config.batch_size * config.n_critic, seed=seed, epoch=epoch):
            stats = step(real)
            done += 1
            if done == steps:
                break
        epoch += 1
    train_seconds = time.perf_counter() - start
    generated, _ = gan.evaluation_samples(eval_samples, seed=10_000 + seed)
    metrics = evaluate_images(generated, dataset="mnist", data_dir=data_dir, metrics=("fcd",))
    n = min(d_images, size)
    acc_train, logit_train = discriminator_accuracy(gan, images[:n], real=True)
    acc_test, logit_test = discriminator_accuracy(gan, test_images[:n], real=True)
    acc_fake, logit_fake = discriminator_accuracy(gan, generated[:n], real=False)
    return {
        "size": size, "diffaugment": policy, "seed": seed, "steps": steps, "epochs": round(steps * 64 / size, 1),
        "fcd": round(metrics["fcd"], 3), "classifier_score": round(metrics["classifier_score"], 3),
        "classes_covered": metrics["classes_covered"], "eval_samples": len(generated),
        "d_acc_train": acc_train, "d_acc_test": acc_test, "d_acc_fake": acc_fake,
        "d_gap": round(acc_train - acc_test, 4), "d_logit_train": logit_train, "d_logit_test": logit_test,
        "d_logit_fake": logit_fake, "d_images": n, "last_d_loss": round(float(stats["d_loss"]), 4),
        "last_g_loss": round(float(stats["g_loss"]), 4), "train_seconds": round(train_seconds, 1),
        "load_before": load_before, "load_after": load_average(),
        "config": {"preset": "dcgan", "train_size": size, "diffaugment": policy, "seed": seed,
                   "batch_size": config.batch_size},
    }


def run(args) -> None:
    from ganlib.data import load_dataset

    train = load_dataset("mnist", "train", data_dir=args.data_dir).images
    test = load_dataset("mnist", "test", data_dir=args.data_dir).images
    for seed in args.seeds:
        for size in args.sizes:
            for policy in args.policies:
                row = run_one(train, test, size=size, policy=policy, seed=seed, steps=args.steps,
                              eval_samples=args.eval_samples, d_images=args.d_images, data_dir=args.data_dir)
                print(json.dumps(row), flush=True)
                if args.json:
                    append_rows(args.json, [row], experiment=EXPERIMENT)


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of every (size, policy, steps)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["diffaugment"], r["steps"]), []).append(r)
    out = []
    for (size, policy, steps), rs in sorted(groups.items()):
        entry = {"size": size, "diffaugment": policy or "none", "steps": steps, "seeds": len(rs)}
        for key in ("fcd", "classifier_score", "d_acc_train", "d_acc_test", "d_gap", "d_acc_fake"):
            values = [r[key] for r in rs]
            entry[key] = (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
        out.append(entry)
    return out


def markdown_table(rows: list[dict]) -> str:
    """The summary as a Markdown table (mean ± sd over seeds)."""
    lines = ["| training images | DiffAugment | steps | seeds | FCD | D acc. train reals | D acc. test reals "
             "| gap | D acc. fakes |", "|---|---|---|---|---|---|---|---|---|"]
    for e in summarise(rows):
        cells = [f"{e[k][0]:.2f} ± {e[k][1]:.2f}" if k == "fcd" else f"{e[k][0]:.3f} ± {e[k][1]:.3f}"
                 for k in ("fcd", "d_acc_train", "d_acc_test", "d_gap", "d_acc_fake")]
        lines.append(f"| {e['size']:,} | {e['diffaugment']} | {e['steps']:,} | {e['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", parents=[parent_parser(EXPERIMENT, seed=False)], help="train and measure")
    p.add_argument("--sizes", type=int, nargs="+", default=[600, 6000], help="training images (train_size)")
    p.add_argument("--policies", nargs="+", default=list(POLICIES), help="diffaugment values ('' for none)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1500, help="generator steps of every run")
    p.add_argument("--eval-samples", type=int, default=10_000, help="generated images for FCD")
    p.add_argument("--d-images", type=int, default=1024, help="real images (train and test) the discriminator scores")
    t = sub.add_parser("table", help="mean and standard deviation over seeds")
    t.add_argument("file", nargs="?", type=Path, default=results_path(EXPERIMENT))
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args)
    else:
        rows = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
        print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
