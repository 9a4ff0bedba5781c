"""One figure with each preset's fixed-z samples after one epoch: docs/one_epoch_presets.png in docs/evaluation.md.

Usage (from the repository root), after training each preset for one epoch as in docs/evaluation.md's
table (``python -m ganlib train --preset P --epochs 1 --out runs/P-1``):

    python scripts/preset_gallery.py runs/gan-1 runs/dcgan-1 runs/lsgan-1 runs/wgan-1 runs/wgan-gp-1 runs/hinge-1

Each panel is the run's own ``samples/epoch_0001.png`` redrawn from the latest checkpoint
(the same 64 fixed latent vectors, seeded by the run's seed), titled with the preset, its
batch size and, when ``RUN_DIR/metrics.json`` exists (``python -m ganlib evaluate``), its FCD.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, help="run directories, one panel each, in this order")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "one_epoch_presets.png")
    parser.add_argument("--columns", type=int, default=3)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganlib.train.state import load_run
    from ganlib.viz import image_grid

    rows = -(-len(args.run_dirs) // args.columns)
    fig, axes = plt.subplots(rows, args.columns, figsize=(3.2 * args.columns, 3.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, run_dir in zip(axes.flat, args.run_dirs):
        gan, _ = load_run(run_dir)
        title = f"{gan.config.preset}, batch {gan.config.batch_size}, epoch {int(gan.epoch.numpy())}"
        metrics_file = run_dir / "metrics.json"
        if metrics_file.exists():
            title += f"\nFCD {json.loads(metrics_file.read_text())['fcd']:.1f}"
        ax.imshow(image_grid(gan.generate(gan.fixed_z)), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
