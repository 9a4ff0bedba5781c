"""CycleGAN on unpaired thin and bold MNIST digits: translation error against the true dilation, class kept, cycle error.

Usage (from the repository root):

    python -m benchmarks.experiments.cyclegan_strokes --seed 0 --train-size 20000 --json

Trains the ``cyclegan`` preset (Zhu et al. 2017: least squares, lambda = 10, identity 0.5 lambda)
with ``ganlib.train.train`` for ``--epochs`` epochs on the first ``--train-size`` training
digits, split into two disjoint halves (X thin, Y = 3x3 dilation of the other half:
``ganlib.translate.tasks.stroke_domains``), then measures on the first ``--test-size`` test
digits (``ganlib.translate.cyclegan.evaluate_strokes``): the L1 of G(x) to dilate(x) and of
F(dilate(x)) to x, the share of G(x) and F(dilate(x)) that the shipped classifier labels as the
true digit, the cycle error L1(F(G(x)), x), and for scale the L1 of x to dilate(x) (a translator that
changes nothing). One JSON row; the results: ``benchmarks/results/cyclegan_strokes.jsonl`` and
docs/decisions/016-inpainting-and-strokes.md. ``--train-size 320 --test-size 200`` checks the script quickly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("cyclegan_strokes")])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=20_000, help="first N training digits (two halves)")
    parser.add_argument("--test-size", type=int, default=10_000, help="first N test digits measured")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/cyclegan-strokes-sSEED)")
    args = parser.parse_args()

    import numpy as np

    from ganlib.config import get_config
    from ganlib.data import load_dataset
    from ganlib.train import train
    from ganlib.train.state import load_run
    from ganlib.translate.cyclegan import evaluate_strokes

    out = args.out or Path("runs") / f"cyclegan-strokes-s{args.seed}"
    config = get_config("cyclegan", epochs=args.epochs, seed=args.seed, train_size=args.train_size)
    t0 = time.perf_counter()
    history = train(config, out, data_dir=args.data_dir, overwrite=True, progress=False)
    train_seconds = time.perf_counter() - t0
    gan, _ = load_run(out)
    test = load_dataset("mnist", "test", data_dir=args.data_dir, limit=args.test_size)
    figures = evaluate_strokes(gan, test.images, np.asarray(test.labels))
    row = {"seed": args.seed, "epochs": args.epochs, "train_size": args.train_size, "test_size": len(test.labels),
           "steps": sum(1 for _ in open(out / "steps.csv")) - 1, "train_seconds": round(train_seconds, 1),
           "epoch_seconds": [r["seconds"] for r in history],
           "last_epoch": {k: round(history[-1][k], 4) for k in ("d_loss", "g_loss", "g_adv", "cycle", "identity")},
           "config": {k: getattr(config, k) for k in ("cycle_weight", "identity_weight", "g_filters", "d_filters",
                                                     "batch_size", "dropout", "discriminator_loss")},
           **{k: round(v, 4) for k, v in figures.items()},
           "load_average": [round(x, 2) for x in os.getloadavg()]}
    if args.json is not None:
        append_rows(args.json, [row], experiment="cyclegan_strokes")
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
