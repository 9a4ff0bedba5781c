"""One epoch of the clipped WGAN with one change at a time: which change buys digit-like samples in one epoch.

Usage (from the repository root; about 7-10 minutes per run on 2 CPU cores):

    python -m benchmarks.experiments.wgan_ablation --batch-size 16                  # the preset
    python -m benchmarks.experiments.wgan_ablation --batch-size 8
    python -m benchmarks.experiments.wgan_ablation --batch-size 16 --warmup          # the paper code's critic warm-up
    python -m benchmarks.experiments.wgan_ablation --batch-size 16 --dcgan-init      # N(0, 0.02) kernels, N(1, 0.02) BN scales
    python -m benchmarks.experiments.wgan_ablation --batch-size 16 --rho 0.99        # PyTorch's RMSprop default
    python -m benchmarks.experiments.wgan_ablation --batch-size 16 --no-critic-bn

Each run trains the ``wgan`` preset (RMSprop 5e-5, clip 0.01, n_critic 5, seed 0) for one
epoch on all 60,000 MNIST training images with ganlib's XLA-compiled train step, in the
order of ``python -m ganlib train``, then prints (and writes to ``--out``) the epoch's time,
FCD, classifier score and classes covered over 10,000 samples, and saves the fixed-z grid.
``--train-size 320 --eval-samples 500`` checks the script in under a minute.

The warm-up is the one in the WGAN authors' code (Arjovsky et al. 2017,
https://github.com/martinarjovsky/WassersteinGAN): 100 critic updates instead of n_critic
for the first 25 generator updates and every 500th; the extra updates draw their real
batches at random from the training set. The results: ``benchmarks/results/wgan_ablation.jsonl`` and
docs/decisions/003-wgan-batch-and-algorithm.md.
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

WARMUP_CRITIC_UPDATES, WARMUP_FIRST, WARMUP_EVERY = 100, 25, 500  # the WGAN authors' code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("wgan_ablation")])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", action="store_true", help="the paper code's critic warm-up")
    parser.add_argument("--dcgan-init", action="store_true", help="N(0, 0.02) kernels and N(1, 0.02) batch-norm scales")
    parser.add_argument("--rho", type=float, default=None, help="RMSprop's decay rate (Keras default 0.9)")
    parser.add_argument("--no-critic-bn", action="store_true", help="a critic without batch normalization")
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (a quick check)")
    parser.add_argument("--eval-samples", type=int, default=10_000, help="generated images for the metrics")
    parser.add_argument("--out", type=Path, default=Path("wgan_ablation"), help="directory for result.json and grid.png")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from ganlib import losses, metrics
    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.train.state import build_gan
    from ganlib.viz import save_image_grid

    config = get_config("wgan", batch_size=args.batch_size, epochs=1, d_batch_norm=not args.no_critic_bn,
                        seed=args.seed)
    gan = build_gan(config)
    if args.rho is not None:  # read when the update is traced, so setting it before the first step is enough
        gan.g_optimizer.rho = gan.d_optimizer.rho = args.rho
    if args.dcgan_init:
        rng = np.random.default_rng(config.seed)
        for variable in gan.generator.trainable_variables + gan.discriminator.trainable_variables:
            if variable.path.endswith("kernel"):
                variable.assign(rng.normal(0.0, 0.02, variable.shape).astype(np.float32))
            elif variable.path.endswith("gamma"):
                variable.assign(rng.normal(1.0, 0.02, variable.shape).astype(np.float32))
    images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=args.train_size).images
    step = gan.train_step(jit_compile=True)
    critic, generator, optimizer = gan.discriminator, gan.generator, gan.d_optimizer

    @tf.function(jit_compile=True)
    def critic_update(real):
        fake = generator(gan.noise.normal([tf.shape(real)[0], config.latent_dim]), training=True)
        with tf.GradientTape() as tape:
            loss = losses.wasserstein_discriminator_loss(critic(real, training=True), critic(fake, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, critic.trainable_variables), critic.trainable_variables))
        losses.clip_weights(critic.trainable_variables, config.clip_value)

    warmup_rng = np.random.default_rng(config.seed + 1)
    t0, updates, extra = time.perf_counter(), 0, 0
    for real in make_pipeline(images, config.n_critic * config.batch_size, seed=config.seed, epoch=0):
        if args.warmup and (updates < WARMUP_FIRST or updates % WARMUP_EVERY == 0):
            for _ in range(WARMUP_CRITIC_UPDATES - config.n_critic):
                critic_update(tf.constant(images[warmup_rng.integers(0, len(images), config.batch_size)]))
                extra += 1
        stats = step(real)
        updates += 1
        if updates % 500 == 0:
            print(f"{updates} generator updates, {time.perf_counter() - t0:.0f} s, critic estimate "
                  f"{-float(stats['d_loss']):.4f}", flush=True)
    seconds = time.perf_counter() - t0

    args.out.mkdir(parents=True, exist_ok=True)
    save_image_grid(gan.generate(gan.fixed_z), args.out / "grid.png", title="wgan ablation")
    m = metrics.evaluate_generator(gan, num_samples=args.eval_samples, seed=0, data_dir=args.data_dir)
    result = {"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "generator_updates": updates, "extra_critic_updates": extra, "epoch_seconds": round(seconds, 1),
              "fcd": round(m["fcd"], 1), "classifier_score": round(m["classifier_score"], 2),
              "classes_covered": m["classes_covered"], "load_average": os.getloadavg()}
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    if args.json is not None:
        append_rows(args.json, [result], experiment="wgan_ablation")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
