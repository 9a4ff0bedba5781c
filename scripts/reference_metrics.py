"""Print the reference rows of docs/evaluation.md's tables of sample quality: real data and degenerate samples.

Each row evaluates 10,000 images (``--num-samples``) against the TEST split with
``ganlib.metrics.evaluate_images`` and every metric (``--metrics``; the memorisation check
searches all training images for the first 2,000 of them):

* test split vs itself (FCD ~ 0, precision = recall = 1 by construction: a check, not a floor);
* the real-data floor: the first N TRAINING images (real images the classifier never scored on
  the test split; what a perfect generator would reach at this N). They ARE training images, so
  the memorisation check flags them, as it would a generator that returns its training set;
* uniform noise in [-1, 1] (seeded);
* one class only: the first N training images of class ``--one-class`` (repeated if the class has
  fewer than N);
* noise blended into real digits: 0.7 x the real-data floor + 0.3 x the uniform noise;
* a copier of 30 training images (the first 30, drawn N times with a seeded generator);
* blurry but diverse: the test images blurred by a Gaussian of standard deviation 0.8 pixel.

Prints two Markdown tables: FCD, classifier score and mode coverage; then precision, recall,
density, coverage, KID and the memorised share.

Usage (from the repository root):

    python scripts/reference_metrics.py --data-dir DIR [--dataset mnist]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    from ganlib.data import DATASETS
    from ganlib.metrics import METRICS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="mnist")
    parser.add_argument("--data-dir", default=None, help="offline data directory (default: $GANLIB_DATA_DIR, else tfds)")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--one-class", type=int, default=1, help="the class of the one-class row")
    parser.add_argument("--seed", type=int, default=0, help="seed of the uniform noise and of the copier's draws")
    parser.add_argument("--metrics", nargs="+", choices=METRICS, default=list(METRICS), help="metric groups")
    args = parser.parse_args()

    import numpy as np
    from scipy.ndimage import gaussian_filter

    from ganlib.data import load_dataset
    from ganlib.metrics import evaluate_images

    n = args.num_samples
    train = load_dataset(args.dataset, "train", data_dir=args.data_dir)
    test = load_dataset(args.dataset, "test", data_dir=args.data_dir)
    one = train.images[train.labels == args.one_class]
    rng = np.random.default_rng(args.seed)
    noise = rng.uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)
    floor = train.images[:n]
    rows = {
        "test split vs itself (10,000)": test.images,
        f"real-data floor: {n:,} training images": floor,
        f"uniform noise in [-1, 1] ({n:,}, seed {args.seed})": noise,
        f"one class only: {n:,} training images of class {args.one_class}": one[np.arange(n) % len(one)],
        "noise blended into digits: 0.7 x floor + 0.3 x noise": (0.7 * floor + 0.3 * noise).astype(np.float32),
        f"copier: {n:,} draws from the first 30 training images": train.images[rng.integers(0, 30, n)],
        "blurry but diverse: test images, Gaussian blur 0.8 pixel": np.stack(
            [gaussian_filter(image[..., 0], 0.8) for image in test.images])[..., None].astype(np.float32),
    }
    results = {}
    for name, images in rows.items():
        results[name] = evaluate_images(images, dataset=args.dataset, data_dir=args.data_dir, metrics=args.metrics)
        print(f"{name}: {results[name]['timings']}", file=sys.stderr, flush=True)

    print(f"{args.dataset}, against the test split:")
    if "fcd" in args.metrics:
        print("| sample | FCD | classifier score | classes covered | KL to uniform (nats) |")
        print("|---|---|---|---|---|")
        for name, m in results.items():
            print(f"| {name} | {m['fcd']:.3f} | {m['classifier_score']:.2f} | {m['classes_covered']}/10 | "
                  f"{m['kl_to_uniform']:.3f} |")
    print("| sample | precision | recall | density | coverage | KID | memorised share (flagged) |")
    print("|---|---|---|---|---|---|---|")
    for name, m in results.items():
        cells = [f"{m['precision']:.3f}" if "precision" in m else "—", f"{m['recall']:.3f}" if "recall" in m else "—",
                 f"{m['density']:.3f}" if "density" in m else "—", f"{m['coverage']:.3f}" if "coverage" in m else "—",
                 f"{m['kid']:.2f} ± {m['kid_std']:.2f}" if "kid" in m else "—",
                 f"{m['memorised_share']:.3f} ({'yes' if m['memorisation_flagged'] else 'no'})"
                 if "memorised_share" in m else "—"]
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
