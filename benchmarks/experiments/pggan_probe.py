"""Train the progressive GAN on MNIST through 7x7, 14x14 and 28x28 with a small schedule: an end-to-end check.

Usage (from the repository root; about 15 minutes of training on 2 CPU cores):

    python -m benchmarks.experiments.pggan_probe --out pggan_probe
    python -m benchmarks.experiments.pggan_probe --stabilize 400 400 400 --fade 400 400 --eval-samples 500   # a smoke run

It uses the pieces of :mod:`ganlib.progressive` the way a training loop would: one
:class:`~ganlib.progressive.Growth` shared by both networks, each optimizer built once on all
variables, ganlib's ordinary train step (WGAN-GP, lambda 10, n_critic 1) with the drift term
``0.001 * mean[D(x)^2]`` added to the critic loss, real images passed through
``growth.prepare_reals`` inside the step, a new traced step at each stage, both optimizers reset
at every phase change (as in the paper's code), Adam(1e-3, 0, 0.99, eps 1e-8). The schedule
(real images per phase, batch size per resolution) comes from the command line.

Printed and written to ``--out/result.json``: per phase its images, steps, training seconds
(the train steps only; the first step of a stage includes tracing, reported apart too), images per second, the load
average and the mean losses; at the end of each resolution the FCD, classifier score and
classes covered of ``--eval-samples`` generated images against the MNIST test split
(:mod:`ganlib.metrics`; evaluation time is reported apart). Also written: a 28x28 grid of a
fixed latent batch at the end of every phase (``grid_*.png``), every ``--frame-every`` images
a GIF frame (``growth.gif``), and the real images as the discriminator sees them at each stage
(``reals_*.png``).

The results: ``benchmarks/results/pggan_probe.jsonl`` and docs/decisions/007-pggan-critic-input.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STEP_KEYS = ("d_loss", "g_loss", "real_score", "fake_score", "gradient_penalty")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("pggan_probe")])
    parser.add_argument("--out", type=Path, default=Path("pggan_probe"))
    parser.add_argument("--stabilize", type=int, nargs=3, default=[20_000, 15_000, 25_000], metavar="N",
                        help="real images at alpha 1 at 7x7, 14x14, 28x28")
    parser.add_argument("--fade", type=int, nargs=2, default=[15_000, 15_000], metavar="N",
                        help="real images while fading in 14x14 and 28x28")
    parser.add_argument("--batch-sizes", type=int, nargs=3, default=[16, 16, 16], metavar="B")
    parser.add_argument("--filters", type=int, default=16, help="feature maps at 28x28 (14x14: 2f, 7x7: 4f)")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--input-downsampling", choices=("subsample", "average"), default="subsample",
                        help="how the discriminator reads its resolution from 28x28 images ('average': the "
                             "paper's code)")
    parser.add_argument("--eval-samples", type=int, default=5_000)
    parser.add_argument("--frame-every", type=int, default=2_500, help="real images between GIF frames")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from ganlib import losses as L
    from ganlib import metrics
    from ganlib import progressive as P
    from ganlib.data import load_dataset
    from ganlib.viz import make_gif, save_image_grid

    try:
        from ganlib.train.step import make_train_step
    except ImportError:
        from ganlib.train import make_train_step

    # The blocks not in use at a stage get no gradient; Keras's optimizer skips them and says so once per trace.
    warnings.filterwarnings("ignore", message="Gradients do not exist for variables")

    schedule = P.GrowthSchedule(tuple(args.stabilize), tuple(args.fade), tuple(args.batch_sizes))
    args.out.mkdir(parents=True, exist_ok=True)
    images = load_dataset("mnist", "train", data_dir=args.data_dir).images
    print(f"Schedule: {schedule.to_dict()}; {schedule.total_images:,} real images; filters {args.filters}; "
          f"discriminator input {args.input_downsampling}; "
          f"load average {os.getloadavg()}", flush=True)

    keras.utils.set_random_seed(args.seed)
    growth = P.Growth(schedule)
    generator = P.build_progressive_generator(growth, args.latent_dim, args.filters)
    discriminator = P.build_progressive_discriminator(growth, args.filters,
                                                      input_downsampling=args.input_downsampling)
    g_optimizer, d_optimizer = P.make_optimizer(), P.make_optimizer()
    g_optimizer.build(generator.trainable_variables)
    d_optimizer.build(discriminator.trainable_variables)
    noise = tf.random.Generator.from_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    fixed_z = tf.constant(rng.standard_normal((64, args.latent_dim)), tf.float32)
    eval_z = np.random.default_rng(args.seed + 1).standard_normal((args.eval_samples, args.latent_dim))
    eval_z = eval_z.astype(np.float32)
    print(f"generator {generator.count_params():,} parameters, discriminator {discriminator.count_params():,}",
          flush=True)

    def critic_loss(real_scores, fake_scores):
        wasserstein = L.wasserstein_discriminator_loss(real_scores, fake_scores)
        return wasserstein + P.DRIFT_WEIGHT * L.drift_penalty(real_scores)

    def make_step():
        inner = make_train_step(generator, discriminator, g_optimizer, d_optimizer,
                                discriminator_loss=critic_loss, generator_loss=L.wasserstein_generator_loss,
                                latent_dim=args.latent_dim, n_critic=P.N_CRITIC, gp_weight=P.GP_WEIGHT, noise=noise)
        return tf.function(lambda real: inner(growth.prepare_reals(real)))

    order, position = rng.permutation(len(images)), 0

    def next_batch(size: int):
        nonlocal order, position
        if position + size > len(order):  # a new epoch in a new order
            order, position = rng.permutation(len(images)), 0
        position += size
        return tf.constant(images[order[position - size : position]])

    def samples(z):
        return np.concatenate([generator(z[i : i + 500], training=False).numpy() for i in range(0, len(z), 500)])

    def label(phase):
        r = phase.resolution
        return f"{'fade-in' if phase.fading else 'stable'} {r}x{r}"

    reals = tf.constant(images[:16])
    for stage, r in enumerate(P.RESOLUTIONS):
        save_image_grid(P.prepare_reals(reals, stage, 1.0).numpy(), args.out / f"reals_{r}.png",
                        title=f"reals at {r}x{r}")
    save_image_grid(P.prepare_reals(reals, 2, 0.5).numpy(), args.out / "reals_28_alpha_0.5.png",
                    title="reals, 28x28 fade, alpha 0.5")

    frames = []
    phases, evals = [], []
    progress = growth.progress()
    step, traced_stage = make_step(), progress.stage
    sums, steps, seconds = dict.fromkeys(STEP_KEYS, 0.0), 0, 0.0
    load_start = os.getloadavg()[0]
    next_frame, last_print = 0, time.perf_counter()
    run_start = time.perf_counter()
    while not progress.done:
        if progress.images_seen >= next_frame:
            frames.append(save_image_grid(samples(fixed_z), args.out / "frames" / f"{progress.images_seen:07d}.png",
                                          title=f"{progress.images_seen:,} images, {progress.resolution}x"
                                                f"{progress.resolution}, alpha {progress.alpha:.2f}"))
            next_frame += args.frame_every
        real = next_batch(progress.batch_size)
        t0 = time.perf_counter()
        stats = {k: float(v) for k, v in step(real).items()}
        seconds += time.perf_counter() - t0
        if steps == 0:
            first_step = time.perf_counter() - t0
        if not all(np.isfinite(list(stats.values()))):
            print(f"Diverged at {progress.images_seen:,} images: {stats}", flush=True)
            return 1
        for k in STEP_KEYS:
            sums[k] += stats[k]
        steps += 1
        new = growth.advance(progress.batch_size)
        if time.perf_counter() - last_print > 60:
            last_print = time.perf_counter()
            print(f"  {new.images_seen:,} images, {label(new.phase)}, alpha {new.alpha:.2f}, "
                  f"d_loss {stats['d_loss']:.3f}, g_loss {stats['g_loss']:.3f}, load {os.getloadavg()[0]:.1f}",
                  flush=True)
        if new.phase.index != progress.phase.index or new.done:
            phase = progress.phase
            row = {"phase": phase.index, "stage": phase.stage, "resolution": phase.resolution, "fading": phase.fading,
                   "images": new.images_seen - phase.start, "steps": steps, "batch_size": phase.batch_size,
                   "train_seconds": round(seconds, 1), "first_step_seconds": round(first_step, 1),
                   "images_per_second": round((new.images_seen - phase.start) / seconds, 1),
                   "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
                   **{f"mean_{k}": round(v / steps, 4) for k, v in sums.items()}}
            phases.append(row)
            print(f"phase {phase.index} ({label(phase)}): {row['images']:,} images, {steps} steps, "
                  f"{row['train_seconds']} s (first step {row['first_step_seconds']} s), "
                  f"{row['images_per_second']} images/s, load {load_start:.1f}-"
                  f"{row['load_average_end']:.1f}, mean d_loss {row['mean_d_loss']:.3f}, "
                  f"g_loss {row['mean_g_loss']:.3f}, gp {row['mean_gradient_penalty']:.3f}", flush=True)
            save_image_grid(samples(fixed_z), args.out / f"grid_{phase.index}_{label(phase).replace(' ', '_')}.png",
                            title=f"end of {label(phase)}")
            if not phase.fading:  # the end of a resolution
                t0 = time.perf_counter()
                m = metrics.evaluate_images(samples(eval_z), dataset="mnist", data_dir=args.data_dir)
                evals.append({"resolution": phase.resolution, "images_seen": new.images_seen,
                              "fcd": round(m["fcd"], 2), "classifier_score": round(m["classifier_score"], 3),
                              "classes_covered": m["classes_covered"], "num_samples": m["num_samples"],
                              "eval_seconds": round(time.perf_counter() - t0, 1)})
                print(f"  end of {phase.resolution}x{phase.resolution}: {evals[-1]}", flush=True)
            if not new.done:
                # The paper's code resets Adam when a fade-in starts and when it ends.
                P.reset_optimizer_state(g_optimizer)
                P.reset_optimizer_state(d_optimizer)
                if new.stage != traced_stage:  # the networks read the stage when the step is traced
                    step, traced_stage = make_step(), new.stage
            sums, steps, seconds = dict.fromkeys(STEP_KEYS, 0.0), 0, 0.0
            load_start = os.getloadavg()[0]
        progress = new

    frames.append(save_image_grid(samples(fixed_z), args.out / "frames" / f"{progress.images_seen:07d}.png",
                                  title=f"{progress.images_seen:,} images, 28x28"))
    make_gif(frames, args.out / "growth.gif", fps=4)
    total = time.perf_counter() - run_start
    result = {"schedule": schedule.to_dict(), "filters": args.filters, "latent_dim": args.latent_dim, "seed": args.seed,
              "input_downsampling": args.input_downsampling,
              "phases": phases, "evaluations": evals, "wall_seconds": round(total, 1),
              "train_seconds": round(sum(p["train_seconds"] for p in phases), 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "tensorflow": tf.__version__,
              "keras": keras.__version__, "cpus": os.cpu_count()}
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    if args.json is not None:
        append_rows(args.json, [result], experiment="pggan_probe")
    print(f"Training {result['train_seconds']} s of {result['wall_seconds']} s wall; outputs in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
