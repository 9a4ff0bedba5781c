"""How the label enters a conditional DCGAN: projection vs concatenated label maps (D), embedding vs one-hot (G).

Usage (from the repository root; one epoch on all 60,000 MNIST images takes 2-4 minutes on 2 CPU cores):

    python -m benchmarks.experiments.conditional_ablation --d-label-input projection --g-label-input embedding
    python -m benchmarks.experiments.conditional_ablation --d-label-input concat --g-label-input embedding
    python -m benchmarks.experiments.conditional_ablation --d-label-input projection --g-label-input one_hot

Each run trains ``get_config("dcgan", conditional=True, ...)`` (seed 0, XLA on) with
``ganlib.train.train`` for ``--epochs`` epochs, then draws ``--per-class`` samples of every
class (the same ``z``, seed 0, for every variant) and prints (and writes to
``OUT/result.json``) the class accuracy of ganlib's classifier (mean over classes and per
class), FCD, classifier score and classes covered over those samples, the epoch times
and the load average. ``--train-size 640 --per-class 20`` checks the script in under a minute.
The results: ``benchmarks/results/conditional_ablation.jsonl`` and docs/decisions/004-conditional-label-inputs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("conditional_ablation")])
    parser.add_argument("--d-label-input", choices=["projection", "concat"], default="projection")
    parser.add_argument("--g-label-input", choices=["embedding", "one_hot"], default="embedding")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (a quick check)")
    parser.add_argument("--per-class", type=int, default=500, help="samples per class for the metrics")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/cond-D-G)")
    args = parser.parse_args()

    from ganlib.conditional import evaluate_conditional
    from ganlib.config import get_config
    from ganlib.train import train

    out = args.out or Path("runs") / f"cond-{args.d_label_input}-{args.g_label_input}"
    config = get_config("dcgan", conditional=True, d_label_input=args.d_label_input, g_label_input=args.g_label_input,
                        epochs=args.epochs, seed=args.seed, train_size=args.train_size)
    history = train(config, out, data_dir=args.data_dir, overwrite=True, jit_compile=True, progress=False)
    from ganlib.train.state import load_run

    gan, _ = load_run(out)
    m = evaluate_conditional(gan, per_class=args.per_class, seed=0, data_dir=args.data_dir)
    result = {"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "epoch_seconds": [row["seconds"] for row in history],
              "class_accuracy": round(m["class_accuracy"], 4),
              "per_class_accuracy": {k: round(v, 3) for k, v in m["per_class_accuracy"].items()},
              "fcd": round(m["fcd"], 2), "classifier_score": round(m["classifier_score"], 2),
              "classes_covered": m["classes_covered"], "num_samples": m["num_samples"],
              "load_average": os.getloadavg()}
    (out / "result.json").write_text(json.dumps(result, indent=2))
    if args.json is not None:
        append_rows(args.json, [result], experiment="conditional_ablation")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
