"""The cost of the step's training-health signals: the same step with and without them, interleaved.

Times ``make_train_step`` on the networks of a preset (``dcgan``: batch 64, the simultaneous update;
``wgan-gp``: n_critic 5, the alternating update with the gradient penalty), once with
``health_signals=True`` (the default: gradient norms of both updates, the discriminator's accuracy and
saturation, or the critic's score gap; :mod:`ganlib.train.health`) and once without, each with and
without XLA. The two steps of a pair share nothing but the data. Rounds are interleaved (every variant
runs ``--steps`` steps, then the next; ``--repeats`` rounds), so a change of the machine's load falls on
all variants alike; the figure is the median milliseconds per step over the rounds, after 4 warm-up steps.

Usage::

    python -m benchmarks.experiments.health_cost [--json]
"""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.common import append_rows, load_average, parent_parser
from benchmarks.harness.timing import interleaved_step_seconds

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRESETS = ("dcgan", "wgan-gp")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("health_cost", seed=False)])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    args = parser.parse_args(argv)

    from ganlib import losses as L
    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.penalties import critic_terms
    from ganlib.train.state import build_gan
    from ganlib.train.step import make_train_step

    steps, batches = {}, {}
    for preset in args.presets:
        config = get_config(preset)
        rows_per_step = config.batch_size * config.n_critic
        images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=rows_per_step * (args.steps + 4)).images
        batches[preset] = list(make_pipeline(images, rows_per_step, seed=0).take(args.steps + 4))
        for jit in (False, True):
            for signals in (False, True):
                gan = build_gan(config)
                d_loss, g_loss = L.for_config(config)
                step = make_train_step(
                    gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer, discriminator_loss=d_loss,
                    generator_loss=g_loss, latent_dim=config.latent_dim, n_critic=config.n_critic,
                    simultaneous=config.simultaneous_update, clip_value=config.clip_value,
                    critic_terms=critic_terms(config), noise=gan.noise, health_signals=signals, jit_compile=jit)
                for b in batches[preset][:4]:
                    step(b)
                steps[(preset, jit, signals)] = step
    runners = {key: (step, batches[key[0]][4:]) for key, step in steps.items()}
    rounds: dict = {key: [] for key in steps}
    load_before = load_average()

    def record(_round, seconds):  # every round's milliseconds per step, for the spread
        for key, value in seconds.items():
            rounds[key].append(1000 * value)

    medians = interleaved_step_seconds(runners, args.repeats, on_round=record)
    load_after = load_average()
    rows = []
    for (preset, jit, signals), t in rounds.items():
        ms, base = 1000 * medians[(preset, jit, signals)], 1000 * medians[(preset, jit, False)]
        rows.append({"preset": preset, "xla": jit, "health_signals": signals, "ms_per_step": round(ms, 2),
                     "ms_spread": [round(min(t), 2), round(max(t), 2)], "ratio_to_without": round(ms / base, 4),
                     "steps": args.steps, "repeats": args.repeats,
                     "load_before": load_before, "load_after": load_after})
    for r in rows:
        print(r)
    if args.json:
        append_rows(args.json, rows, experiment="health_cost")
        print(f"appended to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
