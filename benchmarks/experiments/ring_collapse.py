"""Mode collapse on the 2-D ring and its remedies: modes covered and high-quality share over seeds.

Usage (from the repository root):

    python -m benchmarks.experiments.ring_collapse                                   # every variant, seeds 0 1 2
    python -m benchmarks.experiments.ring_collapse --variants "gan (non-saturating)" --seeds 0 --plot ring.png
    python -m benchmarks.experiments.ring_collapse --steps 200 --snapshot-every 100 --seeds 0   # a smoke run

Each run trains one variant of ``ganlib.ring.RING_VARIANTS`` (the plain non-saturating GAN of
Metz et al. 2017's ring experiment, then one remedy per row) for ``--steps`` steps of batch
``--batch-size`` with ganlib's train step (XLA), and measures the final generator on 2,500
points from fresh z: modes covered (of 8) and the share of high-quality points (within 3
standard deviations of a mode), as defined by VEEGAN (Srivastava et al. 2017). Each run's line
also shows the mode holding most points of each snapshot (every ``--snapshot-every`` steps, 512
points from one fixed z): a collapsed generator hops from mode to mode. The table gives the
mean and standard deviation over seeds, the runs that covered all 8 modes, and the wall-clock
seconds per run (tracing and compilation included) beside the machine's load average.
``--plot FILE`` draws the snapshots of the first variant's first seed and the last snapshot of
every variant's first seed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganlib.ring import ring_means

    names = list(results)
    first = results[names[0]][0]
    rows = [(f"{names[0]}, step {s}", x) for s, x in zip(first.snapshot_steps, first.snapshots)]
    rows += [(f"{name}, step {r[0].snapshot_steps[-1]}", r[0].snapshots[-1]) for name, r in results.items()]
    cols = min(len(rows), 6)
    fig, axes = plt.subplots(-(-len(rows) // cols), cols, figsize=(2.6 * cols, 2.8 * -(-len(rows) // cols)),
                             squeeze=False)
    means = ring_means()
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, x) in zip(axes.flat, rows):
        ax.axis("on")
        ax.scatter(means[:, 0], means[:, 1], s=30, c="tab:red", marker="x")
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4)
        ax.set(xlim=(-3, 3), ylim=(-3, 3), xticks=[], yticks=[], aspect="equal")
        ax.set_title(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    from ganlib.ring import RING_VARIANTS, RingConfig, summarize, train_ring

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     parents=[parent_parser("ring_collapse", seed=False, data_dir=False)])
    parser.add_argument("--variants", nargs="+", default=list(RING_VARIANTS), choices=list(RING_VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--snapshot-every", type=int, default=500)
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True, help="compile the step with XLA")
    parser.add_argument("--plot", type=Path, default=None, help="save scatter snapshots to this image")
    args = parser.parse_args()

    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, load average {os.getloadavg()}; "
          f"{args.steps} steps of batch {args.batch_size}, XLA {'on' if args.jit else 'off'}", flush=True)
    results, rows = {}, []
    for name in args.variants:
        results[name] = []
        for seed in args.seeds:
            config = RingConfig(steps=args.steps, batch_size=args.batch_size, seed=seed, **RING_VARIANTS[name])
            r = train_ring(config, snapshot_every=args.snapshot_every, jit_compile=args.jit)
            results[name].append(r)
            hops = " ".join("-" if m < 0 else str(m) for m in r.dominant_modes())
            print(f"  {name:24} seed {seed}: {r.final.modes_covered} modes, "
                  f"high quality {r.final.high_quality_share:.3f}, {r.seconds:5.1f} s; "
                  f"main mode per snapshot: {hops}", flush=True)
            rows.append({"variant": name, "seed": seed, "modes_covered": r.final.modes_covered,
                         "high_quality_share": r.final.high_quality_share, "counts": r.final.counts.tolist(),
                         "seconds": r.seconds, "main_modes": r.dominant_modes(),
                         "snapshot_modes": [s.modes_covered for s in r.snapshot_stats]})
    print("\n| variant | modes covered (of 8), mean ± std | runs with all 8 | high-quality share, mean ± std "
          "| s per run |\n|---|---|---|---|---|")
    for name, runs in results.items():
        s = summarize(runs)
        print(f"| {name} | {s['modes_mean']:.1f} ± {s['modes_std']:.1f} | {s['all_modes_runs']}/{s['runs']} "
              f"| {s['high_quality_mean']:.3f} ± {s['high_quality_std']:.3f} | {s['seconds_mean']:.0f} |")
    print(f"\nload average at the end {os.getloadavg()}")
    if args.json is not None:
        settings = {"steps": args.steps, "batch_size": args.batch_size, "jit": args.jit}
        append_rows(args.json, [{**settings, **row} for row in rows], experiment="ring_collapse")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
