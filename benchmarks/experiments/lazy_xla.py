"""The cost of a train step with R1 and R2, every step or lazily, with and without XLA.

Times ``GAN.train_step`` of the ``dcgan`` networks (batch 64) with the relativistic pairing loss and no batch
norm in the discriminator: without penalties, with R1 + R2 (gamma 1) in every critic update, and with them
every 4th step (``reg_interval=4``, a separate conditional critic update), each compiled with XLA and without.
``GAN.train_step`` itself never compiles a lazy step with XLA; here the step is built directly for both.
Median milliseconds per step over ``--repeats`` interleaved rounds of ``--steps`` steps, after 4 warm-up steps.

Usage::

    python -m benchmarks.experiments.lazy_xla [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from benchmarks.common import append_rows, load_average, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RPGAN = dict(discriminator_loss="relativistic", generator_loss="relativistic", d_batch_norm=False)
VARIANTS = {
    "relativistic, no penalty": RPGAN,
    "relativistic + R1 + R2 every step": dict(RPGAN, r1_gamma=1.0, r2_gamma=1.0),
    "relativistic + R1 + R2 every 4th step": dict(RPGAN, r1_gamma=1.0, r2_gamma=1.0, reg_interval=4),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("lazy_xla", seed=False)])
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from ganlib import losses as L
    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.penalties import critic_terms
    from ganlib.train.state import build_gan
    from ganlib.train.step import make_train_step

    images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=64 * (args.steps + 4)).images
    batches = list(make_pipeline(images, 64, seed=0).take(args.steps + 4))
    steps = {}
    for name, overrides in VARIANTS.items():
        for jit in (False, True):
            gan = build_gan(get_config("dcgan", **overrides))
            d_loss, g_loss = L.for_config(gan.config)
            step = make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer,
                                   discriminator_loss=d_loss, generator_loss=g_loss, latent_dim=gan.config.latent_dim,
                                   simultaneous=gan.config.simultaneous_update, critic_terms=critic_terms(gan.config),
                                   noise=gan.noise, jit_compile=jit)
            for b in batches[:4]:
                step(b)
            steps[(name, jit)] = step
    times = {key: [] for key in steps}
    load_before = load_average()
    for _ in range(args.repeats):
        for key, step in steps.items():
            t0 = time.perf_counter()
            for b in batches[4:]:
                stats = step(b)
            float(stats["d_loss"])
            times[key].append(1000 * (time.perf_counter() - t0) / args.steps)
    rows = [{"variant": name, "xla": jit, "ms_per_step": round(statistics.median(t), 1), "batch": 64,
             "steps": args.steps, "repeats": args.repeats, "load_before": load_before, "load_after": load_average()}
            for (name, jit), t in times.items()]
    for r in rows:
        print(r)
    if args.json:
        append_rows(args.json, rows, experiment="lazy_xla")
        print(f"appended to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
