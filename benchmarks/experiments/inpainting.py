"""Inpainting MNIST digits: pix2pix against the same U-Net trained with L1 only and against the masked input itself.

Usage (from the repository root; one epoch of 60,000 digits takes about 3-4 minutes for pix2pix
and 2-3 for L1 only on 2 CPU cores):

    python -m benchmarks.experiments.inpainting --variant masked --mask square --json
    python -m benchmarks.experiments.inpainting --variant pix2pix --mask square --seed 0 --json
    python -m benchmarks.experiments.inpainting --variant l1 --mask square --seed 0 --json

Variants: ``pix2pix`` (the ``pix2pix`` preset: cGAN + lambda L1, lambda = 100, Isola et al. 2017
eq. 4), ``l1`` (the same preset with ``adv_weight=0``: the same U-Net, L1 only), ``masked`` (no
generator: the completion is the masked input, hidden pixels at the background -1) and
``truth`` (the test digits themselves: the classifier's ceiling and FCD 0). Each trained
variant runs ``ganlib.train.train`` for ``--epochs`` epochs (``--train-size`` digits) and is
then measured on the first ``--test-size`` test digits (default all 10,000), each with the
same mask for every variant (``ganlib.translate.tasks.make_masks`` with seed 2017): L1 and PSNR on the
hidden pixels, FCD of the completions against the test split, and the share of completions
that the shipped classifier labels as the true digit. One JSON row per run; the results:
``benchmarks/results/inpainting.jsonl`` and docs/decisions/016-inpainting-and-strokes.md.
``--train-size 640 --test-size 500`` checks the script in about a minute.
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

EVAL_MASK_SEED = 2017  # the test masks: the same for every variant and training seed


def evaluate(complete, test_images, test_labels, masks, data_dir) -> dict:
    """The metrics of ``complete(pairs) -> completions`` on the test digits and masks."""
    from ganlib.translate import metrics, tasks

    pairs = tasks.masked_input(test_images, masks)
    t0 = time.perf_counter()
    completions = complete(pairs)
    seconds = time.perf_counter() - t0
    return {"l1": round(metrics.masked_l1(test_images, completions, masks), 4),
            "psnr": round(metrics.masked_psnr(test_images, completions, masks), 3),
            "fcd": round(metrics.completion_fcd(completions, data_dir=data_dir), 3),
            "class_kept": round(metrics.class_kept(completions, test_labels), 4),
            "complete_seconds": round(seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("inpainting")])
    parser.add_argument("--variant", choices=["pix2pix", "l1", "masked", "truth"], required=True)
    parser.add_argument("--mask", choices=["square", "lower_half"], default="square")
    parser.add_argument("--mask-size", type=int, default=14)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=None, help="first N training digits (default: all)")
    parser.add_argument("--test-size", type=int, default=10_000, help="first N test digits measured")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/inpainting-VARIANT-MASK-sSEED)")
    args = parser.parse_args()

    import numpy as np

    from ganlib.data import load_dataset
    from ganlib.translate import tasks

    test = load_dataset("mnist", "test", data_dir=args.data_dir, limit=args.test_size)
    labels = np.asarray(test.labels)
    masks = tasks.make_masks(args.mask, len(test.images), size=args.mask_size, seed=EVAL_MASK_SEED)
    row: dict = {"variant": args.variant, "mask": args.mask, "mask_size": args.mask_size, "test_size": len(labels),
                 "hidden_ink": round(float(((test.images > 0) * masks).sum() / (test.images > 0).sum()), 4)}
    if args.variant in ("masked", "truth"):
        complete = (lambda pairs: pairs[..., :1].copy()) if args.variant == "masked" else (lambda pairs: test.images)
        row.update(evaluate(complete, test.images, labels, masks, args.data_dir))
    else:
        from ganlib.config import get_config
        from ganlib.train import train
        from ganlib.train.state import load_run
        from ganlib.translate.pix2pix import complete as complete_with

        out = args.out or Path("runs") / f"inpainting-{args.variant}-{args.mask}-s{args.seed}"
        config = get_config("pix2pix", mask=args.mask, mask_size=args.mask_size, epochs=args.epochs, seed=args.seed,
                            train_size=args.train_size, adv_weight=1.0 if args.variant == "pix2pix" else 0.0)
        t0 = time.perf_counter()
        history = train(config, out, data_dir=args.data_dir, overwrite=True, progress=False)
        train_seconds = time.perf_counter() - t0
        gan, _ = load_run(out)
        row.update({"seed": args.seed, "epochs": args.epochs, "train_size": args.train_size,
                    "steps": sum(1 for _ in open(out / "steps.csv")) - 1, "train_seconds": round(train_seconds, 1),
                    "epoch_seconds": [r["seconds"] for r in history],
                    "last_epoch": {k: round(history[-1][k], 4) for k in ("d_loss", "g_loss", "g_adv", "g_l1")},
                    "config": {k: getattr(config, k) for k in ("adv_weight", "l1_weight", "g_filters", "d_filters",
                                                              "batch_size", "dropout")}})
        row.update(evaluate(lambda pairs: complete_with(gan, pairs), test.images, labels, masks, args.data_dir))
    row["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json is not None:
        append_rows(args.json, [row], experiment="inpainting")
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
