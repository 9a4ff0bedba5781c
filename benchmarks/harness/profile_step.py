"""Where the train step's time goes: a TensorFlow profiler trace of a few steps, summarised by op type.

Usage (from the repository root):

    python -m benchmarks.harness.profile_step                    # default preset (dcgan, batch 64), XLA off and on
    python -m benchmarks.harness.profile_step --config tutorial  # the tutorial's networks at batch 256
    python -m benchmarks.harness.profile_step --steps 20 --logdir /tmp/ganlib-profile   # keep the trace for TensorBoard

The trace (``tf.profiler.experimental.start/stop``) is written to ``--logdir``
and read back from its ``.xplane.pb`` (TensorFlow's own protobuf, no TensorBoard
plugin needed). Every op event on the host's threads is grouped by op type
(``Conv2DBackpropFilter``, ``FusedBatchNormV3``, an XLA cluster's kernels, ...);
the table shows each type's share of the summed op time. Op times of
parallel threads add up, so the sum can exceed the wall time.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import default_data_dir

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def summarise(logdir: Path, top: int = 15) -> list[tuple[str, float, int]]:
    """Total microseconds and count per op type in the newest trace under ``logdir``.

    Returns:
        ``[(op_type, total_us, count), ...]``, largest first.

    Raises:
        FileNotFoundError: no ``.xplane.pb`` under ``logdir``.
    """
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(logdir.glob("plugins/profile/*/*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise FileNotFoundError(f"No .xplane.pb trace under {logdir}/plugins/profile/.")
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    totals: dict[str, float] = collections.defaultdict(float)
    counts: dict[str, int] = collections.defaultdict(int)
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                kind = op_type(name)
                if kind is None:
                    continue
                totals[kind] += event.duration_ps / 1e6
                counts[kind] += 1
    rows = sorted(((k, v, counts[k]) for k, v in totals.items()), key=lambda r: -r[1])
    return rows[:top] if top else rows


_WRAPPERS = re.compile(r"^(run|EagerLocalExecute|TFE_|Iterator|Prefetch|BlockUntilReady|tf_data|MemoryAllocation)")


def op_type(name: str) -> str | None:
    """The op type of a trace event, or None for the runtime's wrapper events around ops.

    TensorFlow ops: ``"model/conv/Conv2D:Conv2D#id=1#"`` -> ``"Conv2D"``. XLA CPU kernels:
    ``"convolution-base-dilated.3"`` -> ``"xla:convolution-base-dilated"`` (XLA's names:
    ``convolution`` a forward convolution, ``-base-dilated`` one over a dilated input, that
    is a transposed convolution or an input gradient, ``-window-dilated`` a filter gradient;
    ``*_fusion`` fused element-wise ops).
    """
    name = name.split("#", 1)[0].strip()
    if not name or "::" in name or _WRAPPERS.match(name):
        return None
    if ":" in name:
        return name.rsplit(":", 1)[1].strip() or None
    if re.fullmatch(r"[a-z][\w\-]*(\.\d+)?", name):
        return "xla:" + re.sub(r"\.\d+$", "", name)
    return None


def profile(config_name: str, jit: bool, steps: int, logdir: Path, data_dir: str) -> tuple[float, list]:
    import numpy as np
    import tensorflow as tf

    from ganlib import losses as L
    from ganlib.config import get_config
    from ganlib.data import load_dataset, make_pipeline
    from ganlib.train.state import build_gan
    from ganlib.train.step import make_train_function, make_train_step

    images = load_dataset("mnist", "train", data_dir=data_dir, limit=20_000).images
    if config_name == "tutorial":
        from run import _tutorial_models

        g, d, g_opt, d_opt = _tutorial_models()
        batch = 256
    else:
        gan = build_gan(get_config("dcgan"))
        g, d, g_opt, d_opt, batch = gan.generator, gan.discriminator, gan.g_optimizer, gan.d_optimizer, 64
    step = make_train_step(g, d, g_opt, d_opt, discriminator_loss=L.minimax_discriminator_loss,
                           generator_loss=L.non_saturating_generator_loss, latent_dim=100, jit_compile=jit)
    run = make_train_function(step)
    iterator = iter(make_pipeline(images, batch, seed=0).repeat())
    for _ in range(3):
        np.asarray(run(iterator)["g_loss"])
    tf.profiler.experimental.start(str(logdir))
    t0 = time.perf_counter()
    for _ in range(steps):
        np.asarray(run(iterator)["g_loss"])
    wall = (time.perf_counter() - t0) / steps
    tf.profiler.experimental.stop()
    return wall, summarise(logdir, top=12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", choices=["default", "tutorial"], default="default")
    parser.add_argument("--steps", type=int, default=10, help="profiled steps (after 3 warm-up steps)")
    parser.add_argument("--logdir", type=Path, default=None, help="where to keep the traces (default: a temp dir)")
    parser.add_argument("--data-dir", default=default_data_dir())
    args = parser.parse_args()
    root = args.logdir or Path(tempfile.mkdtemp(prefix="ganlib-profile-"))
    for jit in (False, True):
        logdir = root / f"{args.config}-{'xla' if jit else 'noxla'}"
        wall, rows = profile(args.config, jit, args.steps, logdir, args.data_dir)
        total = sum(r[1] for r in summarise(logdir, top=0))
        print(f"\n{args.config}, XLA {'on' if jit else 'off'}: {1000 * wall:.1f} ms/step wall "
              f"(load {os.getloadavg()[0]:.2f}); op time summed over threads {total / 1000 / args.steps:.1f} ms/step; "
              f"trace in {logdir}")
        print(f"  {'op type':40s} {'share':>6s} {'ms/step':>8s} {'count/step':>10s}")
        for kind, us, count in rows:
            print(f"  {kind:40s} {100 * us / total:5.1f}% {us / 1000 / args.steps:8.2f} {count / args.steps:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
