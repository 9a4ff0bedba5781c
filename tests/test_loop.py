"""The training loop: artefacts on disk, resume, the config guard, bad input, divergence."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.train.runs import RunDir, RunDirError, read_csv
from ganlib.train import DivergenceError, load_run, train


def _with(config: TrainConfig, **changes) -> TrainConfig:
    return TrainConfig(**{**config.to_dict(), **changes})


def test_loop_writes_every_artefact(tmp_path, tiny_config, tiny_images):
    history = train(tiny_config, tmp_path / "run", images=tiny_images, progress=False)
    run = RunDir(tmp_path / "run")
    assert [int(r["epoch"]) for r in history] == [1, 2]
    assert [p.name for p in run.sample_grids()] == ["epoch_0001.png", "epoch_0002.png"]
    assert run.loss_plot.stat().st_size > 0
    assert json.loads(run.config.read_text())["batch_size"] == 16
    rows = read_csv(run.history)
    assert [r["epoch"] for r in rows] == [1, 2] and all(np.isfinite(r["d_loss"]) for r in rows)
    assert len(read_csv(run.steps)) == 2 * (48 // 16)
    frames = iio.imread(run.gif, index=None)
    # The frames of ganlib.train.frames: step 0 (untrained) and the ends of the two 3-step epochs.
    assert frames.shape[0] == 3 and not np.array_equal(frames[0], frames[-1])
    assert tf.train.latest_checkpoint(run.checkpoints).endswith("ckpt-2")


def test_rerun_resumes_and_extends(tmp_path, tiny_config, tiny_images):
    out = tmp_path / "run"
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    gan, _ = load_run(out)
    assert int(gan.epoch.numpy()) == 1
    history = train(_with(tiny_config, epochs=3), out, images=tiny_images, progress=False)
    assert [int(r["epoch"]) for r in history] == [1, 2, 3]
    assert len(iio.imread(RunDir(out).gif, index=None)) == 4  # the frames of steps 0, 3, 6, 9 (ganlib.train.frames)
    # Running the finished command again trains nothing and keeps the history as it is.
    again = train(_with(tiny_config, epochs=3), out, images=tiny_images, progress=False)
    assert again == read_csv(RunDir(out).history) and len(again) == 3


def test_resumed_run_equals_uninterrupted_run(tmp_path, tiny_config, tiny_images):
    straight = tmp_path / "straight"
    train(tiny_config, straight, images=tiny_images, progress=False)
    split = tmp_path / "split"
    train(_with(tiny_config, epochs=1), split, images=tiny_images, progress=False)
    train(tiny_config, split, images=tiny_images, progress=False)
    a, _ = load_run(straight)
    b, _ = load_run(split)
    for x, y in zip(a.generator.weights + a.discriminator.weights, b.generator.weights + b.discriminator.weights):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=0, atol=1e-6)


def test_config_guard_refuses_another_run(tmp_path, tiny_config, tiny_images):
    out = tmp_path / "run"
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    with pytest.raises(RunDirError, match=r"holds another run \(seed: run has 0, received 7\).*--overwrite"):
        train(_with(tiny_config, epochs=1, seed=7), out, images=tiny_images, progress=False)
    history = train(_with(tiny_config, epochs=1, seed=7), out, images=tiny_images, progress=False, overwrite=True)
    assert len(history) == 1 and json.loads(RunDir(out).config.read_text())["seed"] == 7


def test_foreign_directory_is_refused(tmp_path, tiny_config, tiny_images):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not empty and holds no ganlib run"):
        train(tiny_config, tmp_path, images=tiny_images, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "images,message",
    [
        (np.zeros((48, 28, 28), np.float32), r"shape \[N, 28, 28, 1\]. Received: shape=\[48, 28, 28\]"),
        (np.zeros((48, 28, 28, 1), np.uint8), "Received: dtype=uint8"),
        (np.full((48, 28, 28, 1), 255.0, np.float32), r"values in \[-1, 1\]. Received values in \[255, 255\]"),
        (np.zeros((8, 28, 28, 1), np.float32), r"smaller than one generator iteration.*= 1 \* 16 = 16 images, received 8"),
    ],
)
def test_bad_images_are_refused(tmp_path, tiny_config, images, message):
    with pytest.raises(ValueError, match=message):
        train(tiny_config, tmp_path / "run", images=images, progress=False)


def test_divergence_stops_with_message_and_keeps_checkpoint(tmp_path, tiny_config, tiny_images, monkeypatch):
    from ganlib import losses

    out = tmp_path / "run"
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    monkeypatch.setitem(losses.GENERATOR_LOSSES, "non_saturating", lambda fake: tf.reduce_mean(fake) * np.nan)
    with pytest.raises(DivergenceError, match=r"diverged at epoch 2, step 1: .*g_loss=nan.*checkpoint is .*ckpt-1"):
        train(_with(tiny_config, epochs=2), out, images=tiny_images, progress=False)
    gan, _ = load_run(out)
    assert int(gan.epoch.numpy()) == 1
    assert [int(r["epoch"]) for r in read_csv(RunDir(out).history)] == [1]
    assert all(np.isfinite(w.numpy()).all() for w in gan.generator.weights)


@pytest.mark.parametrize("change,message", [(dict(precision="mixed_bfloat16"), "precision: run has 'float32'"),
                                            (dict(num_replicas=2), "num_replicas: run has 1")])
def test_resume_under_another_precision_or_replica_count_is_refused(tmp_path, tiny_config, change, message):
    from ganlib.train.runs import prepare_run_dir

    out = tmp_path / "run"
    prepare_run_dir(out, tiny_config)
    assert json.loads(RunDir(out).config.read_text())["precision"] == "float32"
    with pytest.raises(RunDirError, match=message):
        prepare_run_dir(out, _with(tiny_config, **change))


def test_an_epoch_is_one_critic_pass_over_the_data(tmp_path, tiny_images):
    from ganlib.config import get_config

    config = get_config("wgan-gp", epochs=1, batch_size=8, latent_dim=8, g_filters=8, d_filters=8, num_samples=4,
                        n_critic=3)
    history = train(config, tmp_path / "run", images=tiny_images, progress=False)
    # 48 images, 3 critic updates of 8 images per generator iteration: 2 generator iterations per epoch.
    assert len(read_csv(RunDir(tmp_path / "run").steps)) == 48 // (3 * 8)
    assert history[0]["images_per_second"] > 0
    with pytest.raises(ValueError, match=r"n_critic \* batch_size = 3 \* 32 = 96 images, received 48"):
        train(_with(config, batch_size=32), tmp_path / "other", images=tiny_images, progress=False)


def test_callbacks_see_every_step_once_across_a_resume(tmp_path, tiny_config, tiny_images):
    from ganlib.train import Callback

    class Recorder(Callback):
        def __init__(self):
            self.begins, self.steps, self.epochs, self.ends = [], [], [], 0

        def on_train_begin(self, gan, run, step, steps_per_epoch):
            self.begins.append((step, steps_per_epoch, run.root.name))

        def on_step_end(self, gan, step, stats):
            self.steps.append(step)
            assert np.isfinite(stats["g_loss"])

        def on_epoch_end(self, gan, row):
            self.epochs.append(int(row["epoch"]))
            return {"recorded": len(self.steps)}

        def on_train_end(self, gan, history):
            self.ends += 1

    out, rec = tmp_path / "run", Recorder()
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False, callbacks=[rec])
    history = train(tiny_config, out, images=tiny_images, progress=False, callbacks=[rec])
    assert rec.begins == [(0, 3, "run"), (3, 3, "run")]
    assert rec.steps == [1, 2, 3, 4, 5, 6] and rec.epochs == [1, 2] and rec.ends == 2
    assert [r["recorded"] for r in history] == [3, 6]


def test_config_json_records_the_ganlib_version_and_schema_and_load_config_leaves_them_out(tmp_path, tiny_config):
    import ganlib
    from ganlib.train.runs import RUN_SCHEMA, load_config, prepare_run_dir

    run = prepare_run_dir(tmp_path / "run", tiny_config)
    stored = json.loads(run.config.read_text())
    assert (stored["schema"], stored["ganlib_version"]) == (RUN_SCHEMA, ganlib.__version__) == (1, ganlib.__version__)
    assert load_config(run) == tiny_config
    prepare_run_dir(run.root, _with(tiny_config, epochs=9))  # the guard compares config fields only


def test_a_config_json_of_an_older_ganlib_resumes_as_schema_1(tmp_path, tiny_config, tiny_images):
    out = tmp_path / "run"
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    config = RunDir(out).config
    old = {k: v for k, v in json.loads(config.read_text()).items() if k not in ("schema", "ganlib_version")}
    config.write_text(json.dumps(old))
    history = train(tiny_config, out, images=tiny_images, progress=False)
    assert [int(r["epoch"]) for r in history] == [1, 2]
    assert json.loads(config.read_text())["schema"] == 1  # rewritten by this ganlib


@pytest.mark.parametrize("schema,message", [
    (2, r"written by ganlib 9\.0\.0 with run-directory schema 2; this ganlib \(0\.\d+\.\d+\) reads run-directory "
        r"schema 1\. Upgrade ganlib"),
    ("one", r"unknown run-directory schema 'one' \(written by ganlib 9\.0\.0\)"),
])
def test_a_run_of_a_newer_or_unknown_schema_is_refused_naming_both(tmp_path, tiny_config, schema, message):
    from ganlib.train.runs import load_config, prepare_run_dir

    run = prepare_run_dir(tmp_path / "run", tiny_config)
    run.config.write_text(json.dumps({**json.loads(run.config.read_text()), "schema": schema,
                                      "ganlib_version": "9.0.0"}))
    with pytest.raises(RunDirError, match=message):
        prepare_run_dir(run.root, tiny_config)
    with pytest.raises(RunDirError, match=message):
        load_config(run)  # readers too


def test_a_truncated_config_json_is_refused_and_overwrite_starts_over(tmp_path, tiny_config, tiny_images):
    out = tmp_path / "run"
    train(_with(tiny_config, epochs=1), out, images=tiny_images, progress=False)
    config = RunDir(out).config
    config.write_text(config.read_text()[:40])
    with pytest.raises(RunDirError, match=r"config\.json is truncated or corrupt: it is not valid JSON .*Fix it.*"
                                          r"'train --overwrite'"):
        train(tiny_config, out, images=tiny_images, progress=False)
    config.write_text("[1, 2]")
    with pytest.raises(RunDirError, match="expected a JSON object of config fields, received a list"):
        train(tiny_config, out, images=tiny_images, progress=False)
    history = train(tiny_config, out, images=tiny_images, progress=False, overwrite=True)
    assert [int(r["epoch"]) for r in history] == [1, 2]
