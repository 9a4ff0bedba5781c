"""Speed of Keras ``fit()`` (``ganlib.train.keras_fit.GANModel``) against ganlib's loop on the same config, on this machine.

Usage (from the repository root; MNIST from --data-dir, default $GANLIB_DATA_DIR, else tfds):

    python -m benchmarks.harness.bench_fit                       # dcgan, 6,400 images (100 steps per epoch)
    python -m benchmarks.harness.bench_fit --train-size 3200 --epochs 2 --passes 1 --json fit.json

Variants, all on the same config, data and machine:

* ``loop``: ``ganlib.train.train`` with XLA (the CLI's default) and TensorBoard logging (the default);
* ``loop, no TensorBoard``: the same with ``tensorboard=False`` (the cost of the per-step events);
* ``loop, no XLA``: ``jit_compile=False``;
* ``fit``: ``GANModel.compile()`` and ``fit`` (Keras's ``jit_compile="auto"``, which is off on a CPU);
* ``fit, XLA``: ``compile(jit_compile=True)`` (Keras compiles its whole train function);
* ``fit, XLA step only``: ``build_gan_model(config, jit_compile_step=True)``: ganlib's step
  compiled with XLA as the loop compiles it, Keras's function around it not.

Each variant trains ``1 + --epochs`` epochs in one call (one ``train`` call, one ``fit``
call); the first epoch (tracing, compilation) is not counted. Images/s = real images
through the critic per second of an epoch's train steps (the loop's
``images_per_second``; for ``fit`` the time from ``on_epoch_begin`` to ``on_epoch_end``), so
neither counts sample grids or checkpoints. With ``--passes 2`` the variants run a second
time in the reverse order, so that a steady change of load on a shared machine hits them
alike; the median epoch of each variant is printed, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import append_rows, parent_parser

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[parent_parser("bench_fit", seed=False)])
    parser.add_argument("--preset", default="dcgan")
    parser.add_argument("--train-size", type=int, default=6400)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per variant and pass")
    parser.add_argument("--passes", type=int, default=2, help="2: a second pass in the reverse order")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.data import load_dataset
    from ganlib.train.keras_fit import build_gan_model, fit_dataset
    from ganlib.train import train

    config = get_config(args.preset, train_size=args.train_size)
    images = load_dataset(config.dataset, "train", data_dir=args.data_dir, limit=args.train_size).images
    per_iteration = config.n_critic * config.batch_size
    steps = len(images) // per_iteration
    print(f"{args.preset}, {len(images)} images, {steps} steps of {per_iteration} images per epoch; "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs; {load()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_fit-"))

    def loop_variant(name: str, **options):
        def run(epochs: int, tag: str) -> list[float]:
            history = train(get_config(args.preset, train_size=args.train_size, epochs=epochs), tmp / tag,
                            images=images, progress=False, **options)
            return [row["images_per_second"] for row in history[1:]]

        return run

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.t0)

    def fit_variant(jit_compile_step: bool = False, **compile_options):
        def run(epochs: int, tag: str) -> list[float]:
            model = build_gan_model(config, jit_compile_step=jit_compile_step)
            model.compile(**compile_options)
            timer = EpochTimer()
            model.fit(fit_dataset(images, config), epochs=epochs, callbacks=[timer], verbose=0)
            return [round(steps * per_iteration / s, 1) for s in timer.seconds[1:]]

        return run

    variants = {
        "loop": loop_variant("loop", jit_compile=True),
        "loop, no TensorBoard": loop_variant("loop no tb", jit_compile=True, tensorboard=False),
        "loop, no XLA": loop_variant("loop no xla", jit_compile=False),
        "fit": fit_variant(),
        "fit, XLA": fit_variant(jit_compile=True),
        "fit, XLA step only": fit_variant(jit_compile_step=True),
    }
    results: dict[str, list] = {name: [] for name in variants}
    order = list(variants)
    for p in range(args.passes):
        for i, name in enumerate(order if p % 2 == 0 else order[::-1]):
            before = os.getloadavg()[0]
            epochs = variants[name](1 + args.epochs, f"pass{p}-{i}")
            results[name] += epochs
            print(f"  pass {p + 1}  {name:22s} " + " ".join(f"{x:7.1f}" for x in epochs)
                  + f" images/s   load {before:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    print("\nmedian epoch:")
    base = statistics.median(results["loop"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:22s} {median:8.1f} images/s  ({median / base:.2f} x loop)")
    print(load())
    if args.json is not None:
        append_rows(args.json, [{"preset": args.preset, "images": len(images), "images_per_second": results,
                                 "load_at_end": os.getloadavg()}], experiment="bench_fit")


if __name__ == "__main__":
    main()
