"""Which of the SN-GAN paper's Adam settings to use for the ``sngan`` preset: equal training time, then FCD.

Usage (from the repository root):

    python -m benchmarks.experiments.sngan_settings                          # C, A and the authors' code, 300 CPU-s each
    python -m benchmarks.experiments.sngan_settings --settings C dcgan --budget 60
    python -m benchmarks.experiments.sngan_settings --budget 10 --train-size 640 --eval-samples 500   # a smoke run

Each setting trains the ``sngan`` preset (hinge loss, spectral normalization on every critic
layer, no critic batch norm, batch 64, seed 0) with its learning rate, Adam betas and n_critic
for ``--budget`` seconds of training on MNIST (XLA-compiled train step, one epoch after another; the
first call, which traces and compiles, is not counted). The budget is counted in CPU seconds of the
process (all its threads) by default, so that other processes on a shared machine change the result
less than they change wall-clock time; ``--clock wall`` counts wall-clock seconds. Then it prints the
FCD, classifier score and classes covered of ``--eval-samples`` generated images (``ganlib.metrics``),
the generator updates done, and the largest |sigma - 1| over the critic's kernels (SVD of the
stored kernels, ``ganlib.models.largest_singular_values``).

Settings (Miyato et al. 2018, https://arxiv.org/abs/1802.05957, table 1; the authors' code is
https://github.com/pfnet-research/sngan_projection, ``configs/sn_cifar10_unconditional.yml``):

    A      Adam(1e-4, beta_1=0.5, beta_2=0.9),   n_critic 5   (WGAN-GP's)
    B      Adam(1e-4, beta_1=0.5, beta_2=0.999), n_critic 1
    C      Adam(2e-4, beta_1=0.5, beta_2=0.999), n_critic 1   (DCGAN's)
    code   Adam(2e-4, beta_1=0,   beta_2=0.9),   n_critic 5   (the authors' CIFAR-10 code)
    dcgan  the ``dcgan`` preset itself (no spectral normalization), for reference
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SETTINGS = {
    "A": dict(g_learning_rate=1e-4, d_learning_rate=1e-4, beta_1=0.5, beta_2=0.9, n_critic=5),
    "B": dict(g_learning_rate=1e-4, d_learning_rate=1e-4, beta_1=0.5, beta_2=0.999, n_critic=1),
    "C": dict(g_learning_rate=2e-4, d_learning_rate=2e-4, beta_1=0.5, beta_2=0.999, n_critic=1),
    "code": dict(g_learning_rate=2e-4, d_learning_rate=2e-4, beta_1=0.0, beta_2=0.9, n_critic=5),
}


def build(config):
    """``ganlib.train.state.build_gan`` (it builds a spectrally normalised critic when the config asks for one)."""
    from ganlib.train.state import build_gan

    return build_gan(config)


def run(name: str, args) -> dict:
    from ganlib import metrics
    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.models import largest_singular_values

    if name == "dcgan":
        config = get_config("dcgan", seed=args.seed)
    else:
        config = get_config("sngan", seed=args.seed, **SETTINGS[name])
    gan = build(config)
    images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=args.train_size).images
    step = gan.train_step(jit_compile=True)
    t0 = time.perf_counter()
    step(images[: config.batch_size])  # trace and compile
    compile_seconds = time.perf_counter() - t0
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    updates, epoch, spent, stats = 1, 0, 0.0, {}
    t0, c0 = time.perf_counter(), clock()
    while spent < args.budget:
        for real in make_pipeline(images, config.batch_size, seed=config.seed, epoch=epoch):
            stats = step(real)
            updates += 1
            spent = clock() - c0
            if spent >= args.budget:
                break
        epoch += 1
    float(stats["d_loss"])  # wait for the last step
    seconds, cpu_seconds = time.perf_counter() - t0, clock() - c0
    m = metrics.evaluate_generator(gan, num_samples=args.eval_samples, seed=0, data_dir=args.data_dir)
    sigmas = largest_singular_values(gan.discriminator)
    return {
        "setting": name, **{k: getattr(config, k) for k in ("g_learning_rate", "beta_1", "beta_2", "n_critic")},
        "generator_updates": updates, "epochs": round(updates * config.batch_size / len(images), 2),
        "train_seconds": round(seconds, 1), "budget_seconds": round(cpu_seconds, 1),
        "clock": args.clock, "compile_seconds": round(compile_seconds, 1),
        "fcd": round(m["fcd"], 1), "classifier_score": round(m["classifier_score"], 2),
        "classes_covered": m["classes_covered"], "d_loss": round(float(stats["d_loss"]), 3),
        "max_abs_sigma_minus_1": round(max((abs(s - 1) for s in sigmas.values()), default=float("nan")), 4),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("sngan_settings")])
    parser.add_argument("--settings", nargs="+", default=["C", "A", "code"], choices=[*SETTINGS, "dcgan"])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per setting (see --clock)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="budget in CPU seconds of this process (all its threads; less sensitive to other "
                             "processes on a shared machine) or in wall-clock seconds")
    parser.add_argument("--eval-samples", type=int, default=5000, help="generated images for the metrics")
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (a quick check)")
    args = parser.parse_args()

    results = []
    print(f"{'setting':8} {'lr':>7} {'b1':>4} {'b2':>6} {'n_crit':>6} {'G upd':>6} {'epochs':>6} {'wall s':>7} "
          f"{'clock s':>7} {'FCD':>6} {'score':>5} {'classes':>7} {'|s-1|':>6}  load", flush=True)
    for name in args.settings:
        r = run(name, args)
        results.append(r)
        print(f"{name:8} {r['g_learning_rate']:7.0e} {r['beta_1']:4.1f} {r['beta_2']:6.3f} {r['n_critic']:6d} "
              f"{r['generator_updates']:6d} {r['epochs']:6.2f} {r['train_seconds']:7.1f} {r['budget_seconds']:7.1f} "
              f"{r['fcd']:6.1f} "
              f"{r['classifier_score']:5.2f} {r['classes_covered']:7d} {r['max_abs_sigma_minus_1']:6.4f}  "
              f"{r['load_average']}", flush=True)
        if args.json is not None:
            append_rows(args.json, [r], experiment="sngan_settings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
