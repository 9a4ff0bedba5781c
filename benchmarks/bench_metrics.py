"""How long evaluating 10,000 generated samples takes on this machine (printed, not asserted).

Usage (from the repository root):

    python benchmarks/bench_metrics.py --data-dir ../shared/data [--num-samples 10000] [--repeats 3]

Times, each the best of ``--repeats``:

* reference: the test split's feature statistics (10,000 images), paid once per process (cached);
* generate: N images from the default DCGAN generator (untrained: the cost does not depend on the weights);
* metrics: classifier features, FCD, classifier score and mode coverage of those N images;
* total: generate + metrics, what ``python -m ganlib evaluate`` and ``--eval-every`` add after the first call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("GANLIB_DATA_DIR") or str(REPO.parent / "shared" / "data"))
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.metrics import evaluate_images, reference_statistics
    from ganlib.state import build_gan

    t0 = time.perf_counter()
    reference_statistics("mnist", data_dir=args.data_dir)
    reference = time.perf_counter() - t0

    gan = build_gan(get_config("dcgan"))
    z = np.random.default_rng(0).standard_normal((args.num_samples, gan.config.latent_dim)).astype(np.float32)
    generate, metrics = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        images = gan.generate(z)
        generate.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        evaluate_images(images, data_dir=args.data_dir)
        metrics.append(time.perf_counter() - t0)

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, N = {args.num_samples}, best of {args.repeats}:")
    print(f"  reference statistics (first call only): {reference:6.2f} s")
    print(f"  generate N images (default DCGAN):      {min(generate):6.2f} s")
    print(f"  metrics of N images:                    {min(metrics):6.2f} s")
    print(f"  total per evaluation:                   {min(generate) + min(metrics):6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
