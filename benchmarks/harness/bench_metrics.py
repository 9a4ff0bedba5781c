"""How long evaluating N = 10,000 generated samples with every metric takes on this machine (printed, not asserted).

Usage (from the repository root):

    python -m benchmarks.harness.bench_metrics --data-dir DIR [--run RUN_DIR] [--num-samples 10000] [--repeats 2]

Prints the wall time of each part of ``ganlib.metrics.evaluate_images`` (every metric group), as
``python -m ganlib evaluate`` pays it in a fresh process (the "first call" column: the test split's
features and k-NN radii, the training split's features and the test-to-training distances are computed
then and cached), and as ``--eval-every`` pays it afterwards (the "later calls" column, best of
``--repeats``). Parts:

* generate: N images from the run's generator (``--run``; default: an untrained DCGAN generator, which
  costs the same);
* test_split: the classifier's features of the 10,000 test images (first call only);
* classify: features and logits of the N images;
* fcd: FCD, classifier score and mode coverage;
* pr_dc: precision, recall, density and coverage (one pass over 10,000 x N distances, one over N x N for
  the generated k-NN radii, and on the first call one over 10,000 x 10,000 for the test split's radii);
* kid: 100 subsets of 1,000;
* memorisation: nearest training images (60,000) of 2,000 samples, in pixels and features; on the first
  call also the 60,000 training images' features and the same search for 2,000 test images.

The load average (1 minute) is printed before and after: other processes on the machine slow every part.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from benchmarks.common import default_data_dir

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument("--run", type=Path, default=None,
                        help="a run directory to sample from (default: an untrained DCGAN)")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2, help="later calls timed (best of)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    t_start = time.perf_counter()
    import numpy as np
    import tensorflow as tf

    from ganlib.metrics import evaluate_images, sample_images
    from ganlib.train.state import build_gan, load_run

    if args.run is not None:
        gan, _ = load_run(args.run)
    else:
        from ganlib.config import get_config

        gan = build_gan(get_config("dcgan"))
    startup = time.perf_counter() - t_start

    t0 = time.perf_counter()
    images = sample_images(gan.generate, num_samples=args.num_samples, seed=0, latent_dim=gan.config.latent_dim)
    generate = time.perf_counter() - t0
    first = evaluate_images(images, dataset=gan.config.dataset, data_dir=args.data_dir, metrics="all")["timings"]
    later: dict[str, float] = {}
    for _ in range(args.repeats):
        timings = evaluate_images(images, dataset=gan.config.dataset, data_dir=args.data_dir, metrics="all")["timings"]
        later = {k: min(v, later.get(k, np.inf)) for k, v in timings.items()}
    load_after = os.getloadavg()[0]

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, N = {args.num_samples}, load average "
          f"{load_before:.1f} before, {load_after:.1f} after:")
    print(f"  {'part':14s} {'first call (s)':>15s} {'later calls (s)':>16s}")
    print(f"  {'import+model':14s} {startup:15.2f} {'':>16s}")
    print(f"  {'generate':14s} {generate:15.2f} {'':>16s}")
    for part, seconds in first.items():
        print(f"  {part:14s} {seconds:15.2f} {later.get(part, float('nan')):16.2f}")
    print(f"  {'total':14s} {generate + sum(first.values()):15.2f} {generate + sum(later.values()):16.2f}"
          "   (generate + metrics; 'evaluate' adds import+model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
