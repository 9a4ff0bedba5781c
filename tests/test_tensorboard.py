"""TensorBoard event files of a run, read back with TensorBoard's own reader, across an interrupted and resumed run."""

from __future__ import annotations

import struct

import numpy as np
import pytest


def _raw_steps(log_dir, tag: str) -> list[int]:
    """Every step at which ``tag`` was written, over all event files in file order, duplicates included."""
    import tensorflow as tf

    steps = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            steps += [event.step for v in event.summary.value if v.tag == tag]
    return steps


def test_run_logs_losses_metrics_and_grids_and_a_resume_continues_without_overlap(tmp_path, tiny_config, tiny_images):
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from ganlib.train import Callback
    from ganlib.train.runs import RunDir, read_csv
    from ganlib.train.tensorboard import TensorBoardLogger
    from ganlib.train import train

    out = tmp_path / "run"
    log_dir = out / "tensorboard"

    class Metrics(Callback):  # stands for the evaluator's per-epoch metrics
        def on_epoch_end(self, gan, row):
            return {"fcd": 10.0 * row["epoch"]}

    class Crash(Callback):
        def on_step_end(self, gan, step, stats):
            if step == 5:
                raise KeyboardInterrupt

    # Interrupted in epoch 2 (3 steps per epoch) after logging steps 4 and 5, which no checkpoint covers.
    logger = TensorBoardLogger()
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config, out, images=tiny_images, progress=False, tensorboard=False,
              callbacks=[Metrics(), logger, Crash()])
    logger.writer.flush()
    assert _raw_steps(log_dir, "step/d_loss") == [1, 2, 3, 4, 5]

    train(tiny_config, out, images=tiny_images, progress=False, callbacks=[Metrics()])
    assert _raw_steps(log_dir, "step/d_loss") == [1, 2, 3, 4, 5, 6]

    events = EventAccumulator(str(log_dir), size_guidance={"tensors": 0}, purge_orphaned_data=False)
    events.Reload()
    steps_csv = read_csv(RunDir(out).steps)
    logged = events.Tensors("step/d_loss")
    assert [e.step for e in logged] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([tf.make_ndarray(e.tensor_proto) for e in logged], [r["d_loss"] for r in steps_csv],
                               rtol=1e-6)
    assert [e.step for e in events.Tensors("step/g_loss")] == [1, 2, 3, 4, 5, 6]
    for key in ("g_grad_norm", "d_grad_norm", "d_acc_real", "d_acc_fake", "d_saturated"):  # the health signals
        np.testing.assert_allclose([tf.make_ndarray(e.tensor_proto) for e in events.Tensors(f"step/{key}")],
                                   [r[key] for r in steps_csv], rtol=1e-6, err_msg=key)
    history = read_csv(RunDir(out).history)
    for key in ("d_loss", "g_grad_norm", "d_acc_fake", "fcd", "images_per_second"):
        tag = f"epoch/{key}"
        values = events.Tensors(tag)
        assert [e.step for e in values] == [3, 6]
        np.testing.assert_allclose([tf.make_ndarray(e.tensor_proto) for e in values], [r[key] for r in history],
                                   rtol=1e-6)
    grids = events.Tensors("samples")
    assert [e.step for e in grids] == [3, 6]
    width, height, png = tf.make_ndarray(grids[-1].tensor_proto)[:3]
    image = tf.io.decode_png(png).numpy()
    assert image.shape[:2] == (int(height), int(width))
    assert image.shape[:2] == tf.io.decode_png(RunDir(out).sample_grid(2).read_bytes()).shape[:2]


def test_drop_events_after(tmp_path):
    import tensorflow as tf

    from ganlib.train.tensorboard import drop_events_after

    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(1, 6):
            tf.summary.scalar("x", float(step), step=step)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    # An incomplete last record (a crash while writing) is dropped too.
    path.write_bytes(path.read_bytes() + struct.pack("<Q", 100) + b"\0" * 20)
    assert drop_events_after(tmp_path, 3) == 2
    assert _raw_steps(tmp_path, "x") == [1, 2, 3]
    assert drop_events_after(tmp_path, 3) == 0
    drop_events_after(tmp_path, 0)
    assert not list(tmp_path.glob("events.out.tfevents.*"))
    drop_events_after(tmp_path / "missing", 2)
    with pytest.raises(ValueError, match="Received: step=-1"):
        drop_events_after(tmp_path, -1)


def test_tensorboard_flag():
    from ganlib.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["train"]).tensorboard is True
    assert parse(["train", "--no-tensorboard"]).tensorboard is False
