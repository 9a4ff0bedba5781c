"""Speed and time-to-quality of ganlib against the TensorFlow DCGAN tutorial's configuration, on this machine.

Usage (from the repository root; MNIST from --data-dir, default $GANLIB_DATA_DIR, else tfds):

    python -m benchmarks.harness.run                       # everything: throughput, then 2 x 15 min of training
    python -m benchmarks.harness.run --budget 0.5          # smoke run: 30 s of training per configuration
    python -m benchmarks.harness.run --parts throughput    # only the images/s tables (a few minutes)
    python -m benchmarks.harness.run --parts quality --budget 5 --json results.json

Parts:

* ``throughput``: images/s of (a) the reference loop (``benchmarks/harness/tutorial.py``: plain
  ``tf.function``, tutorial networks, losses, Adam(1e-4), batch 256, the tutorial's
  pipeline) and ganlib's ``make_train_step`` on the same networks and batch, with and
  without XLA, and their ratio; (b) ganlib's default preset (dcgan, batch 64) with each
  speed option on and off: XLA, steps per ``tf.function`` call, and the input pipeline
  (the real ``make_pipeline`` against one batch held in memory). The variants of a
  table are timed in interleaved rounds (the median round counts), so a change of
  load on a shared machine hits them all alike.
* ``quality``: trains the tutorial configuration and ganlib's default preset (XLA on,
  the CLI's default) for the same wall-clock ``--budget`` each, one after the other,
  each in its own process, and prints the FCD (``ganlib.metrics``; ``--eval-samples``
  images against the MNIST test split) at several marks of training time
  (evaluation time is not counted), the peak resident memory of each process, and
  how much sooner ganlib reaches the tutorial's final FCD.

Every figure depends on the load of the machine: the load average is printed next to each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_MARKS = "0.5,1,2,3,5,10,15"  # minutes for a 15-minute budget; scaled with --budget


def load() -> str:
    """The 1-, 5- and 15-minute load averages, for printing beside a figure."""
    return "load %.2f %.2f %.2f" % os.getloadavg()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, which starts afresh in a new program. Not
    ``ru_maxrss``: it survives ``execve``, so a worker started by this script would report the
    parent's peak whenever that is higher (it did: every process showed the throughput part's
    2,426 MiB). Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS) is the fallback.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def device_memory_mb() -> float | None:
    """Peak memory of the first GPU in MiB, or None where TensorFlow cannot report it (the CPU)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if not gpus:
        return None
    return tf.config.experimental.get_memory_info(gpus[0].name)["peak"] / 2**20


# ----------------------------------------------------------------------------------------------------------------
# Throughput


def _tutorial_models(seed: int = 0):
    import keras
    from benchmarks.harness import tutorial

    keras.utils.set_random_seed(seed)
    g, d = tutorial.build_generator(), tutorial.build_discriminator()
    g_opt, d_opt = tutorial.make_optimizers()
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    return g, d, g_opt, d_opt


def _timed_variants(variants: dict, batch_size: int, steps: int, rounds: int) -> dict[str, dict]:
    """Warm up every variant, then time ``rounds`` x ``steps`` steps of each, interleaved.

    A variant is ``run() -> float``: one call trains ``k`` steps (its ``k`` attribute) and returns after
    the results reached the host, as a training loop needs them.
    """
    for name, fn in variants.items():
        t0 = time.perf_counter()
        for _ in range(2):
            fn()
        print(f"  warm-up {name}: {time.perf_counter() - t0:.1f} s (tracing, compiling)", flush=True)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            calls = max(1, steps // fn.k)
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - t0) / (calls * fn.k))
    return {name: {"seconds_per_step": statistics.median(t), "images_per_second": batch_size / statistics.median(t),
                   "rounds": [round(x, 4) for x in t]} for name, t in times.items()}


def _variant(fn, k: int = 1):
    fn.k = k
    return fn


def _reference_variant(images, batch_size: int):
    from benchmarks.harness import tutorial

    g, d, g_opt, d_opt = _tutorial_models()
    step = tutorial.make_step(g, d, g_opt, d_opt)
    iterator = iter(tutorial.make_dataset(images, batch_size).repeat())

    def run():
        g_loss, _ = step(next(iterator))
        return float(g_loss)  # the tutorial's loop never reads the losses; one read per step costs little

    return _variant(run)


def _ganlib_variant(g, d, g_opt, d_opt, images, batch_size: int, *, latent_dim: int, jit: bool, k: int,
                    in_memory: bool = False):
    import numpy as np
    import tensorflow as tf

    from ganlib import losses as L
    from ganlib.data import make_pipeline
    from ganlib.train.step import make_train_function, make_train_step

    step = make_train_step(g, d, g_opt, d_opt, discriminator_loss=L.minimax_discriminator_loss,
                           generator_loss=L.non_saturating_generator_loss, latent_dim=latent_dim, jit_compile=jit)
    if in_memory:
        # One batch held in memory, repeated: no tf.data work at all; the difference to the pipeline
        # variant is what the input pipeline costs the step.
        dataset = tf.data.Dataset.from_tensors(tf.constant(images[:batch_size])).repeat()
    else:
        dataset = make_pipeline(images, batch_size, seed=0).repeat()
    iterator = iter(dataset)
    run_k = make_train_function(step, steps_per_execution=k)

    def run():
        out = run_k(iterator)
        return [float(v) for v in np.asarray(out["g_loss"])]  # per-step losses to the host, as train() does

    return _variant(run, k)


def throughput(images, args) -> dict:
    """Images/s tables: tutorial vs ganlib at batch 256, and the default preset's options."""
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.train.state import build_gan

    results: dict = {"machine": machine()}
    print(f"\n== Throughput: tutorial configuration, batch 256 ({load()}) ==", flush=True)
    b = 256
    variants = {"reference (tutorial loop)": _reference_variant(images, b)}
    for name, jit in (("ganlib make_train_step", False), ("ganlib make_train_step + XLA", True)):
        g, d, g_opt, d_opt = _tutorial_models()
        variants[name] = _ganlib_variant(g, d, g_opt, d_opt, images, b, latent_dim=100, jit=jit, k=1)
    table = _timed_variants(variants, b, args.steps_256, args.rounds)
    ref = table["reference (tutorial loop)"]["images_per_second"]
    for row in table.values():
        row["ratio_to_reference"] = row["images_per_second"] / ref
    results["tutorial_batch_256"] = {"table": table, "load_after": load()}
    _print_table(table, "ratio to reference")

    print(f"\n== Throughput: ganlib default preset (dcgan, batch 64) and its options ({load()}) ==", flush=True)
    config = get_config("dcgan")
    b = config.batch_size
    options = {
        "XLA off, 1 step/call": dict(jit=False, k=1),
        "XLA on, 1 step/call (default)": dict(jit=True, k=1),
        f"XLA on, {args.k} steps/call": dict(jit=True, k=args.k),
        "XLA on, 1 step/call, batch in memory (no pipeline)": dict(jit=True, k=1, in_memory=True),
    }
    variants = {}
    for name, kw in options.items():
        gan = build_gan(config)
        variants[name] = _ganlib_variant(gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer, images,
                                         b, latent_dim=config.latent_dim, **kw)
    table = _timed_variants(variants, b, args.steps_64, args.rounds)
    default = table["XLA on, 1 step/call (default)"]["images_per_second"]
    for row in table.values():
        row["ratio_to_default"] = row["images_per_second"] / default
    results["default_preset"] = {"table": table, "load_after": load()}
    _print_table(table, "ratio to default")
    results["peak_rss_mb_throughput_process"] = peak_rss_mb()
    results["device_peak_mb"] = device_memory_mb()
    print(f"peak resident memory of this process (all variants above built): "
          f"{results['peak_rss_mb_throughput_process']:.0f} MiB; device memory: {results['device_peak_mb']}")
    del tf
    return results


def _print_table(table: dict, ratio_label: str) -> None:
    key = [k for k in next(iter(table.values())) if k.startswith("ratio")][0]
    print(f"  {'variant':55s} {'ms/step':>8s} {'images/s':>9s} {ratio_label:>18s}")
    for name, row in table.items():
        print(f"  {name:55s} {1000 * row['seconds_per_step']:8.1f} {row['images_per_second']:9.1f} {row[key]:18.2f}")


# ----------------------------------------------------------------------------------------------------------------
# Time to quality


def _quality_worker(which: str, budget_s: float, marks_s: list[float], args) -> dict:
    """Train ``which`` ("tutorial" or "ganlib") for ``budget_s`` seconds of training time; FCD at each mark."""
    import numpy as np
    import tensorflow as tf

    from ganlib.data import load_dataset
    from ganlib.metrics import evaluate_images

    images = load_dataset("mnist", "train", data_dir=args.data_dir).images
    z_eval = np.random.default_rng(0).standard_normal((args.eval_samples, 100)).astype(np.float32)

    if which == "tutorial":
        from benchmarks.harness import tutorial

        g, d, g_opt, d_opt = _tutorial_models(seed=args.seed)
        step = tutorial.make_step(g, d, g_opt, d_opt)
        dataset = tutorial.make_dataset(images)
        batch_size, k = tutorial.BATCH_SIZE, 1

        def epochs():
            while True:
                it = iter(dataset)
                for batch in it:
                    yield lambda batch=batch: step(batch), 1

        generator = g
    else:
        from ganlib.config import get_config
        from ganlib.data import make_pipeline
        from ganlib.train.state import build_gan
        from ganlib.train.step import make_train_function

        config = get_config("dcgan", seed=args.seed)
        gan = build_gan(config)
        k, batch_size = args.quality_k, config.batch_size
        step = gan.train_step(jit_compile=True)
        run_k = make_train_function(step, steps_per_execution=k)
        run_1 = make_train_function(step) if k > 1 else run_k
        steps_per_epoch = len(images) // batch_size

        def epochs():
            epoch = 0
            while True:
                it = iter(make_pipeline(images, batch_size, seed=config.seed, epoch=epoch))
                done = 0
                while done < steps_per_epoch:
                    fn, n = (run_k, k) if steps_per_epoch - done >= k else (run_1, 1)
                    yield lambda fn=fn, it=it: fn(it), n
                    done += n
                epoch += 1

        generator = gan.generator

    def fcd() -> float:
        fake = np.concatenate([generator(z_eval[i:i + 1000], training=False).numpy()
                               for i in range(0, len(z_eval), 1000)])
        return float(evaluate_images(np.clip(fake, -1, 1), dataset="mnist", data_dir=args.data_dir)["fcd"])

    fcd_at_start = fcd()  # also loads the classifier and the reference statistics before the clock starts
    rows = [{"minutes": 0.0, "steps": 0, "images_seen": 0, "fcd": fcd_at_start, "load": load()}]
    print(f"  [{which}] 0.0 min: FCD {fcd_at_start:.2f} ({load()})", flush=True)
    trained, steps, pending = 0.0, 0, list(marks_s)
    t0 = time.perf_counter()
    for call, n in epochs():
        out = call()
        tf.nest.map_structure(lambda t: t.numpy(), out)  # wait for the step, as a loop reading losses does
        steps += n
        now = time.perf_counter()
        if now - t0 < pending[0]:
            continue
        trained = now - t0
        value = fcd()
        rows.append({"minutes": round(trained / 60, 3), "steps": steps, "images_seen": steps * batch_size,
                     "fcd": value, "load": load()})
        print(f"  [{which}] {trained / 60:.2f} min, {steps} steps, {steps * batch_size} images: FCD {value:.2f} "
              f"({load()})", flush=True)
        while pending and trained >= pending[0] - 1e-9:
            pending.pop(0)
        if not pending:
            break
        t0 = time.perf_counter() - trained  # the clock resumes where it stopped, evaluation not counted
    return {"which": which, "marks": rows, "peak_rss_mb": peak_rss_mb(), "device_peak_mb": device_memory_mb(),
            "images_per_second": steps * batch_size / trained}


def quality(args) -> dict:
    budget_s = args.budget * 60
    marks = sorted({min(float(m) * args.budget / 15 * 60, budget_s) for m in args.marks.split(",")} | {budget_s})
    results: dict = {"budget_minutes": args.budget, "eval_samples": args.eval_samples}
    print(f"\n== Time to quality: {args.budget:g} min of training each, FCD ({args.eval_samples} samples) at "
          f"{', '.join(f'{m / 60:.2f}' for m in marks)} min ({load()}) ==", flush=True)
    for which in ("tutorial", "ganlib"):
        cmd = [sys.executable, "-m", "benchmarks.harness.run", "--_quality-worker", which, "--budget", str(args.budget),
               "--marks", ",".join(str(m / 60 * 15 / args.budget) for m in marks),
               "--eval-samples", str(args.eval_samples), "--data-dir", str(args.data_dir), "--seed", str(args.seed),
               "--quality-k", str(args.quality_k)]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
            last = ""
            for line in proc.stdout:  # progress lines live, the JSON report last
                if line.startswith("{"):
                    last = line
                else:
                    print(line, end="", flush=True)
        if proc.returncode != 0 or not last:
            raise RuntimeError(f"The {which} training process failed (exit status {proc.returncode}).")
        results[which] = json.loads(last)
    ref_final = results["tutorial"]["marks"][-1]
    reached = [r for r in results["ganlib"]["marks"] if r["minutes"] > 0 and r["fcd"] <= ref_final["fcd"]]
    for which in ("tutorial", "ganlib"):
        print(f"\n  {which}: {'minutes':>8s} {'steps':>7s} {'images':>9s} {'FCD':>8s}")
        for r in results[which]["marks"]:
            print(f"  {'':{len(which)}s}  {r['minutes']:8.2f} {r['steps']:7d} {r['images_seen']:9d} {r['fcd']:8.2f}"
                  f"   ({r['load']})")
    for which in ("tutorial", "ganlib"):
        r = results[which]
        print(f"  {which}: {r['images_per_second']:.0f} images/s while training, peak resident memory "
              f"{r['peak_rss_mb']:.0f} MiB, device peak {r['device_peak_mb']}")
    if results["ganlib"]["marks"][0]["fcd"] <= ref_final["fcd"]:
        results["speedup"] = None
        print(f"  The tutorial's final FCD ({ref_final['fcd']:.2f}) is no better than ganlib's untrained generator's "
              f"({results['ganlib']['marks'][0]['fcd']:.2f}): the budget is too short to compare time to quality.")
    elif reached:
        t = reached[0]["minutes"]
        results["speedup"] = ref_final["minutes"] / t
        print(f"  ganlib reaches the tutorial's {ref_final['minutes']:.2f}-min FCD ({ref_final['fcd']:.2f}) by its "
              f"{t:.2f}-min mark (FCD {reached[0]['fcd']:.2f}): at least {results['speedup']:.1f}x sooner "
              f"(resolution: the marks).")
    else:
        results["speedup"] = None
        print(f"  ganlib did not reach the tutorial's final FCD ({ref_final['fcd']:.2f}) within the budget.")
    return results


# ----------------------------------------------------------------------------------------------------------------


def machine() -> dict:
    import platform

    import keras
    import tensorflow as tf

    return {"cpu_cores": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "gpus": len(tf.config.list_physical_devices("GPU")), "tensorflow": tf.__version__,
            "keras": keras.__version__, "python": platform.python_version(), "load_at_start": load()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("run")],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--parts", default="throughput,quality",
                        help="comma-separated: throughput, quality")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="minutes of training per configuration in the quality part")
    parser.add_argument("--marks", default=DEFAULT_MARKS,
                        help="FCD marks in minutes for a 15-minute budget, scaled to --budget")
    parser.add_argument("--eval-samples", type=int, default=5000, help="generated images per FCD evaluation")
    parser.add_argument("--steps-256", type=int, default=6, help="timed steps per round at batch 256")
    parser.add_argument("--steps-64", type=int, default=40, help="timed steps per round for the default preset")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (the median counts)")
    parser.add_argument("--k", type=int, default=8, help="steps per tf.function call for the option table")
    parser.add_argument("--quality-k", type=int, default=1,
                        help="steps per tf.function call of ganlib in the quality part")
    parser.add_argument("--_quality-worker", dest="worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget must be a positive number of minutes, received {args.budget}")

    if args.worker:
        budget_s = args.budget * 60
        marks = sorted({min(float(m) * args.budget / 15 * 60, budget_s) for m in args.marks.split(",")} | {budget_s})
        print(json.dumps(_quality_worker(args.worker, budget_s, marks, args)))
        return 0

    parts = set(args.parts.split(","))
    unknown = parts - {"throughput", "quality"}
    if unknown:
        parser.error(f"unknown --parts {sorted(unknown)}: expected throughput and/or quality")
    results: dict = {"machine": machine()}
    print(f"Machine: {results['machine']}")
    if "throughput" in parts:
        from ganlib.data import load_dataset

        images = load_dataset("mnist", "train", data_dir=args.data_dir).images
        results["throughput"] = throughput(images, args)
    if "quality" in parts:
        results["quality"] = quality(args)
    results["load_at_end"] = load()
    print(f"\nDone ({load()}).")
    if args.json is not None:
        append_rows(args.json, [results], experiment="run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
