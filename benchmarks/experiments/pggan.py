"""The ``pggan`` preset on MNIST: time per phase, and FCD at the end of each resolution and of the run.

Usage (from the repository root; about 10 minutes on 2 idle CPU cores)::

    python -m benchmarks.experiments.pggan --out runs/pggan-bench --seed 0 --json benchmarks/results/pggan.jsonl

It trains ``get_config("pggan", seed=...)`` (plus ``--set FIELD=VALUE`` overrides) with
:func:`ganlib.train.train`, exactly as ``python -m ganlib train --preset pggan`` does, and a
callback that notes the wall-clock seconds of every phase of the growth schedule (train steps
plus the loop's per-epoch work: grids, GIF, checkpoint; evaluation excluded) and, at the end of
each resolution (the end of a stable phase) and of the run, evaluates FCD, classifier score,
classes covered and coverage of ``--eval-samples`` generated images (of the raw generator, and of
the EMA generator too when ``--set ema=0.999``) against the MNIST test split
(:func:`ganlib.metrics.evaluate_images`, the same latent vectors each time). The load average
is recorded with every phase. One JSON line per run is appended to ``--json``.

``--costs`` instead times one generator iteration of the preset at each stage (7x7, 14x14 and
28x28; a fade-in costs what the stable phase of its resolution costs: the same traced step, with
another alpha), of the 28x28 step compiled with XLA, and of ``dcgan`` (XLA on, as the CLI trains it), in interleaved rounds in one
process, so that their ratios hold under any load; multiplied by dcgan's idle cost
(``benchmarks/results/stabilisers.jsonl``'s conditions: 57.5 ms per iteration, idle 2-core machine)
they give the preset's idle seconds per iteration and so the idle training time of any schedule.

Compare with ``dcgan`` at the same wall-clock budget with ``benchmarks/experiments/stabilisers.py run dcgan
--budget SECONDS`` (it converts the budget into iterations from dcgan's idle cost per iteration).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("pggan")])
    p.add_argument("--out", type=Path, default=Path("runs/pggan-bench"), help="run directory (overwritten)")
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                   help="TrainConfig overrides, values as JSON (e.g. epochs=3 'fade_images=[0,0]')")
    p.add_argument("--eval-samples", type=int, default=10_000)
    p.add_argument("--costs", action="store_true", help="time an iteration at each stage against dcgan's instead")
    p.add_argument("--rounds", type=int, default=5, help="--costs: interleaved rounds")
    p.add_argument("--steps", type=int, default=30, help="--costs: iterations per runner per round")
    args = p.parse_args(argv)
    if args.costs:
        return costs(args)

    import keras
    import numpy as np
    import tensorflow as tf

    from ganlib.train.callbacks import Callback
    from ganlib.config import get_config
    from ganlib.progressive import phase_label
    from ganlib.metrics import evaluate_images
    from ganlib.train import train

    overrides = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    config = get_config("pggan", seed=args.seed, **overrides)
    z = np.random.default_rng(10_000 + args.seed).standard_normal((args.eval_samples, config.latent_dim))
    z = z.astype(np.float32)
    phases, evaluations = [], []

    def evaluate(gan, where: str, images_seen: int) -> None:
        # With --set ema=D the EMA generator is scored too (it does not change training).
        for averaged in ([False, True] if gan.ema_generator is not None else [False]):
            t0 = time.perf_counter()
            m = evaluate_images(gan.generate(z, averaged=averaged), dataset="mnist", data_dir=args.data_dir,
                                metrics=("fcd", "dc"))
            row = {"at": where, "generator": "ema" if averaged else "raw", "images_seen": images_seen,
                   "fcd": round(m["fcd"], 2), "classifier_score": round(m["classifier_score"], 3),
                   "classes_covered": m["classes_covered"], "coverage": round(m["coverage"], 3),
                   "num_samples": m["num_samples"], "eval_seconds": round(time.perf_counter() - t0, 1)}
            evaluations.append(row)
            print(f"  {where}: {row}", flush=True)

    class Marks(Callback):
        def on_train_begin(self, gan, run, step, steps_per_epoch):
            self.phase = gan.growth.progress().phase
            self.start, self.first_step, self.load = time.perf_counter(), step, os.getloadavg()[0]

        def on_step_end(self, gan, step, stats):
            seen = int(gan.growth.images_seen.numpy())
            all_phases = gan.growth.schedule.phases()
            while self.phase is not None and seen >= self.phase.end:
                phase = self.phase
                seconds = time.perf_counter() - self.start
                phases.append({"phase": phase.index, "label": phase_label(phase),
                               "images": phase.end - phase.start, "steps": step - self.first_step,
                               "seconds": round(seconds, 1), "images_per_second": round((seen - phase.start) / seconds, 1),
                               "load_average": [round(self.load, 2), round(os.getloadavg()[0], 2)]})
                print(f"phase {phases[-1]}", flush=True)
                if not phase.fading:
                    evaluate(gan, f"end of {phase.resolution}x{phase.resolution}", seen)
                following = phase.index + 1
                self.phase = all_phases[following] if following < len(all_phases) else None
                self.start, self.first_step, self.load = time.perf_counter(), step, os.getloadavg()[0]

        def on_train_end(self, gan, history):
            self.gan = gan

    marks = Marks()
    t0 = time.perf_counter()
    load_start = os.getloadavg()
    history = train(config, args.out, data_dir=args.data_dir, overwrite=True, progress=False, callbacks=[marks])
    wall = time.perf_counter() - t0
    eval_seconds = sum(e["eval_seconds"] for e in evaluations)
    evaluate(marks.gan, "end of run", int(marks.gan.growth.images_seen.numpy()))
    result = {
        "preset": "pggan", "seed": args.seed, "overrides": overrides, "epochs": config.epochs,
        "schedule": {"stabilize_images": config.stabilize_images, "fade_images": config.fade_images,
                     "stage_batch_sizes": config.stage_batch_sizes},
        "phases": phases, "evaluations": evaluations,
        "train_seconds": round(wall - eval_seconds, 1), "epoch_seconds": [r["seconds"] for r in history],
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "tensorflow": tf.__version__,
        "keras": keras.__version__, "cpus": os.cpu_count(),
    }
    print(json.dumps(result), flush=True)
    if args.json is not None:
        append_rows(args.json, [result], experiment="pggan")
    return 0


def costs(args) -> int:
    """Seconds per generator iteration at each stage of the preset and of dcgan, interleaved rounds."""
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.train.state import build_gan

    from benchmarks.harness.timing import interleaved_step_seconds

    images = load_dataset("mnist", "train", data_dir=args.data_dir, limit=4096).images
    runners = {}
    for stage, images_seen in enumerate((0, 40_000, 80_000)):  # inside stable 7x7, stable 14x14, fade-in 28x28
        gan = build_gan(get_config("pggan"))
        gan.growth.set_images_seen(images_seen)
        assert gan.growth.current_stage() == stage
        step = gan.train_step()
        batches = [tf.constant(b) for b, _ in zip(make_pipeline(images, 16, seed=0), range(args.steps))]
        for b in batches[:3]:
            step(b)  # trace
        runners[f"pggan {7 * 2 ** stage}x{7 * 2 ** stage}"] = (step, batches)
        if stage == 2:  # the same step compiled with XLA, which the loop does not use for a progressive run
            from ganlib import losses as L
            from ganlib.train.step import make_train_step

            d_loss, g_loss = L.for_config(gan.config)
            inner = make_train_step(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer,
                                    discriminator_loss=d_loss, generator_loss=g_loss,
                                    latent_dim=gan.config.latent_dim, gp_weight=gan.config.gp_weight,
                                    noise=gan.noise, jit_compile=True)
            xla = tf.function(lambda real, inner=inner, growth=gan.growth: inner(growth.prepare_reals(real)))
            for b in batches[:3]:
                xla(b)
            runners["pggan 28x28 XLA"] = (xla, batches)
    gan = build_gan(get_config("dcgan"))
    step = gan.train_step(jit_compile=True)
    batches = [b for b, _ in zip(make_pipeline(images, 64, seed=0), range(args.steps))]
    for b in batches[:3]:
        step(b)  # trace and compile
    runners["dcgan"] = (step, batches)

    def report(r, seconds):
        print("round", r, {k: round(v, 4) for k, v in seconds.items()}, "load", os.getloadavg()[0], flush=True)

    load_start = os.getloadavg()
    seconds = interleaved_step_seconds(runners, args.rounds, on_round=report)
    ratios = {k: round(v / seconds["dcgan"], 3) for k, v in seconds.items()}
    result = {"costs_seconds": {k: round(v, 5) for k, v in seconds.items()}, "ratio_to_dcgan": ratios,
              "idle_seconds_from_dcgan_57.5ms": {k: round(r * 0.0575, 5) for k, r in ratios.items()},
              "rounds": args.rounds, "steps": args.steps, "load_average_start": load_start,
              "load_average_end": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(json.dumps(result), flush=True)
    if args.json is not None:
        append_rows(args.json, [result], experiment="pggan")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
