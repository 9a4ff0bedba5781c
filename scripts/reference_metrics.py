"""Print the reference rows of README.md's "Measuring sample quality" table: real data and degenerate samples.

Each row evaluates 10,000 images (``--num-samples``) against the TEST split with
``ganlib.metrics.evaluate_images``:

* test split vs itself (FCD ~ 0 by construction: a check, not a floor);
* the real-data floor: the first N TRAINING images (real images the classifier
  never scored on the test split; what a perfect generator would reach at this N);
* uniform noise in [-1, 1] (seeded);
* one class only: the first N training images of class ``--one-class`` (repeated if
  the class has fewer than N).

Usage (from the repository root):

    python scripts/reference_metrics.py --data-dir ../shared/data [--dataset mnist]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from ganlib.data import DATASETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="mnist")
    parser.add_argument("--data-dir", default=None, help="offline data directory (default: $GANLIB_DATA_DIR, else tfds)")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--one-class", type=int, default=1, help="the class of the one-class row")
    parser.add_argument("--seed", type=int, default=0, help="seed of the uniform noise")
    args = parser.parse_args()

    import numpy as np

    from ganlib.data import load_dataset
    from ganlib.metrics import evaluate_images

    n = args.num_samples
    train = load_dataset(args.dataset, "train", data_dir=args.data_dir)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir)
    one = train.images[train.labels == args.one_class]
    rows = {
        "test split vs itself (10,000)": test.images,
        f"real-data floor: {n:,} training images": train.images[:n],
        f"uniform noise in [-1, 1] ({n:,}, seed {args.seed})": np.random.default_rng(args.seed)
        .uniform(-1, 1, (n, 28, 28, 1))
        .astype(np.float32),
        f"one class only: {n:,} training images of class {args.one_class}": one[np.arange(n) % len(one)],
    }
    print(f"{args.dataset}, against the test split:")
    print("| sample | FCD | classifier score | classes covered | KL to uniform (nats) |")
    print("|---|---|---|---|---|")
    for name, images in rows.items():
        m = evaluate_images(images, dataset=args.dataset, data_dir=args.data_dir)
        print(f"| {name} | {m['fcd']:.3f} | {m['classifier_score']:.2f} | {m['classes_covered']}/10 | "
              f"{m['kl_to_uniform']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
