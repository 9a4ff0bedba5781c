"""The cost of a checkpoint within an epoch: seconds per save against the train step, per preset.

For each preset, builds its GAN (networks, optimizers after one step, so Adam's moments exist; the EMA generator for
``--ema``), then alternates ``--repeats`` rounds of ``--steps`` train steps and one within-epoch checkpoint save
(:class:`ganlib.train.within_epoch.WithinEpochCheckpoints`, into a temporary run directory, as the loop writes it).
The figures: the median seconds per save and milliseconds per step, the checkpoint's size, and the share of
training time that a save every ``checkpoint_every`` seconds costs (save seconds / interval), for the intervals
given.

Usage::

    python -m benchmarks.experiments.checkpoint_cost [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import append_rows, load_average, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRESETS = ("dcgan", "pggan", "wgan-gp")
INTERVALS = (60.0, 300.0, 900.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("checkpoint_cost", seed=False)])
    parser.add_argument("--steps", type=int, default=10, help="train steps per round")
    parser.add_argument("--repeats", type=int, default=7, help="rounds (one save each)")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--ema", type=float, default=0.999, help="EMA decay of the generator (0: none)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.train.runs import RunDir
    from ganlib.train.state import build_gan
    from ganlib.train.within_epoch import WithinEpochCheckpoints

    rows = []
    for preset in args.presets:
        config = get_config(preset, ema=args.ema)
        per_step = config.batch_size * config.n_critic
        images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=per_step * (args.steps + 2)).images
        batches = list(make_pipeline(images, per_step, seed=0).take(args.steps + 1))
        gan = build_gan(config)
        step = gan.train_step()
        if config.progressive:  # the batch of the growth's first stage (7x7)
            batches = [b[: config.stage_batch_sizes[0] * config.n_critic] for b in batches]
        step(batches[0])
        load_before = load_average()
        saves, steps = [], []
        with tempfile.TemporaryDirectory() as tmp:
            run = RunDir(Path(tmp))
            run.checkpoints.mkdir(parents=True)
            within = WithinEpochCheckpoints(gan, run, steps_per_epoch=10**6)
            for r in range(args.repeats):
                t0 = time.perf_counter()
                for b in batches[1:]:
                    out = step(b)
                float(out["d_loss"])
                steps.append((time.perf_counter() - t0) / args.steps)
                t0 = time.perf_counter()
                prefix = within.save(epoch=1, position=r + 1, epoch_seconds=0.0)
                saves.append(time.perf_counter() - t0)
            size = sum(p.stat().st_size for p in Path(prefix).parent.glob(Path(prefix).name + ".*"))
        save_s = statistics.median(saves)
        row = {"preset": preset, "ema": args.ema, "save_seconds": round(save_s, 4),
               "save_spread": [round(min(saves), 4), round(max(saves), 4)],
               "ms_per_step": round(1000 * statistics.median(steps), 2), "checkpoint_mb": round(size / 2**20, 2),
               "share_of_training": {f"{int(i)} s": round(save_s / i, 6) for i in INTERVALS},
               "steps": args.steps, "repeats": args.repeats, "load_before": load_before, "load_after": load_average(),
               "tensorflow": tf.__version__}
        rows.append(row)
        print(row, flush=True)
    if args.json:
        append_rows(args.json, rows, experiment="checkpoint_cost")
        print(f"appended to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
