"""The pggan preset in ganlib's loop: the step plan and data stream, the growth through every stage with
optimizer resets and phase grids, an exact resume after a crash in the middle of a fade-in, and the CLI
(train, sample, interpolate, evaluate) on a progressive run."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ganlib import losses as L
from ganlib import progressive as P
from ganlib.train.callbacks import Callback
from ganlib.cli import main
from ganlib.config import get_config
from ganlib.progressive import describe_plan, plan_steps, stream_indices
from ganlib.train.runs import RunDir, read_csv
from ganlib.train import load_run, train

# 8 generator iterations of 16 images per epoch. The schedule: stable 7x7 [0, 64), fade-in 14x14 [64, 160),
# stable 14x14 [160, 192), fade-in 28x28 [192, 256), stable 28x28 [256, 288): epoch 1 ends at 128 images,
# two thirds into the fade-in of 14x14; epoch 2 ends at 256, at the end of the fade-in of 28x28.
N, BATCH = 128, 16
TINY = dict(train_size=N, batch_size=BATCH, stage_batch_sizes=(BATCH, BATCH, BATCH), latent_dim=8, g_filters=4,
            d_filters=4, num_samples=4, stabilize_images=(64, 32, 32), fade_images=(96, 64), frames_per_decade=4,
            frame_offset=0)


def tiny_config(**overrides):
    return get_config("pggan", **{**TINY, **overrides})


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 1, (N, 28, 28, 1)).astype(np.float32)


def test_plan_splits_steps_at_stage_ends_with_each_stages_batch_size():
    schedule = P.GrowthSchedule((64, 64, 64), (64, 64), (16, 8, 4))
    # 7x7 ends at 64 (4 steps of 16), 14x14 at 192 (16 steps of 8), then 28x28 for the rest.
    assert plan_steps(schedule, 0, 30) == [(0, 16, 4), (1, 8, 16), (2, 4, 10)]
    assert plan_steps(schedule, 100, 5) == [(1, 8, 5)]
    assert plan_steps(schedule, 100, 20) == [(1, 8, 12), (2, 4, 8)]
    assert plan_steps(schedule, 0, 3, n_critic=2) == [(0, 32, 2), (1, 16, 1)]  # a step straddling 64 finishes at 7x7
    assert plan_steps(schedule, 10_000, 7) == [(2, 4, 7)]  # after the schedule: 28x28
    # Each planned step starts at the stage the schedule gives for its first image.
    seen = 0
    for stage, per_step, steps in plan_steps(schedule, 0, 60):
        for _ in range(steps):
            assert schedule.progress(seen).stage == stage
            seen += per_step
    text = describe_plan(schedule, 30)
    assert "7x7: steps 1-4 (16 images each); 14x14: steps 5-20 (8 images each); 28x28: steps 21-30" in text
    assert "ends before the schedule" in describe_plan(schedule, 10)


def test_stream_is_a_new_permutation_each_pass_and_continues_across_calls():
    whole = stream_indices(10, 3, 0, 35)
    for j in range(3):
        assert sorted(whole[10 * j : 10 * j + 10]) == list(range(10))
    assert not np.array_equal(whole[:10], whole[10:20])
    np.testing.assert_array_equal(np.concatenate([stream_indices(10, 3, 0, 13), stream_indices(10, 3, 13, 22)]),
                                  whole)
    assert not np.array_equal(stream_indices(10, 4, 0, 10), whole[:10])  # the seed matters
    with pytest.raises(ValueError, match="Received: num_images=0"):
        stream_indices(0, 0, 0, 1)


def test_pggan_preset_is_the_papers_setting_and_refuses_what_its_networks_cannot_do():
    c = get_config("pggan")
    assert (c.progressive, c.discriminator_loss, c.generator_loss, c.gp_weight, c.drift_weight) == (
        True, "wasserstein", "wasserstein", 10.0, 1e-3)
    assert (c.g_learning_rate, c.d_learning_rate, c.beta_1, c.beta_2, c.n_critic) == (1e-3, 1e-3, 0.0, 0.99, 1)
    assert c.stage_batch_sizes == (16, 16, 16) and not c.d_batch_norm
    # config.json stores lists; they come back as the same config.
    assert type(c).from_dict(__import__("json").loads(__import__("json").dumps(c.to_dict()))) == c
    with pytest.raises(ValueError, match="Received: conditional=True"):
        get_config("pggan", conditional=True)
    with pytest.raises(ValueError, match="Received: d_batch_norm=True"):
        get_config("pggan", d_batch_norm=True, gp_weight=0.0)
    with pytest.raises(ValueError, match="Received: precision='mixed_bfloat16'"):
        get_config("pggan", precision="mixed_bfloat16")
    with pytest.raises(ValueError, match=r"fade_images must be 2 integers >= 0. Received: fade_images=\(1, -1\)"):
        get_config("pggan", fade_images=(1, -1))
    with pytest.raises(ValueError, match="Received: drift_weight=0.001, discriminator_loss='hinge'"):
        get_config("pggan", discriminator_loss="hinge")


def test_drift_term_is_added_to_the_critic_loss():
    from ganlib.penalties import critic_terms

    config = get_config("pggan")
    d_loss, _ = L.for_config(config)
    terms = {t.name: t for t in critic_terms(config)}
    assert list(terms) == ["gradient_penalty", "drift"] and terms["drift"].weight == 0.001
    real, fake = tf.constant([[2.0], [0.0]]), tf.constant([[1.0], [-1.0]])
    drift = terms["drift"].fn(None, None, None, real, fake, None)
    # -(mean real - mean fake) + 0.001 * mean real^2 = -(1 - 0) + 0.001 * 2
    assert float(d_loss(real, fake) + terms["drift"].weight * drift) == pytest.approx(-1.0 + 0.002)
    assert float(d_loss(real, fake)) == pytest.approx(-1.0)  # the loss itself: the drift is a term of its own
    with pytest.raises(ValueError, match="Received: drift_weight=0"):
        L.with_drift(L.wasserstein_discriminator_loss, 0)


RESUME_CONFIG = dict(epochs=3, ema=0.9)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, images):
    """An uninterrupted run of 3 epochs, with what each step's callback saw of the growth and of Adam."""
    seen = []

    class Watch(Callback):
        def on_step_end(self, gan, step, stats):
            seen.append((int(gan.growth.images_seen.numpy()), gan.growth.current_stage(),
                         float(gan.growth.alpha.numpy()), int(gan.g_optimizer.iterations.numpy())))

    out = tmp_path_factory.mktemp("straight") / "run"
    history = train(tiny_config(**RESUME_CONFIG), out, images=images, progress=False, callbacks=[Watch()])
    return out, history, seen


def test_training_grows_through_every_stage_resets_optimizers_and_writes_phase_grids(straight_run):
    out, history, seen_alphas = straight_run
    schedule = P.GrowthSchedule(TINY["stabilize_images"], TINY["fade_images"], TINY["stage_batch_sizes"])
    assert [(r["images_seen"], r["stage"]) for r in history] == [(128, 1), (256, 2), (384, 2)]
    assert history[0]["alpha"] == pytest.approx(64 / 96)
    for images_seen, stage, alpha, iterations in seen_alphas:
        progress = schedule.progress(images_seen)
        assert (stage, alpha) == (progress.stage, pytest.approx(progress.alpha))
        # Adam restarts at every phase change: its step count is the steps since the phase began.
        since = images_seen - progress.phase.start
        assert iterations == (since // BATCH if not progress.done else (images_seen - 256) // BATCH), images_seen
    run = RunDir(out)
    assert sorted(p.name for p in (out / "phases").glob("*.png")) == [
        "phase_0_stable_7x7.png", "phase_1_fade-in_14x14.png", "phase_2_stable_14x14.png",
        "phase_3_fade-in_28x28.png", "phase_4_stable_28x28.png"]
    assert run.gif.is_file() and len(run.sample_grids()) == 3
    gan, _ = load_run(out)
    assert gan.growth.progress().done and gan.growth.current_stage() == 2
    samples = gan.generate(np.random.default_rng(0).standard_normal((5, 8)))
    assert samples.shape == (5, 28, 28, 1) and samples.min() >= -1 and samples.max() <= 1
    # At 7x7 every generated image is constant on 4x4 blocks (the upsampled 7x7 image).
    gan.growth.set_images_seen(0)
    coarse = gan.generate(np.random.default_rng(0).standard_normal((2, 8)))
    np.testing.assert_array_equal(coarse, P.upsample(coarse[:, ::4, ::4], 4).numpy())


def test_resume_after_a_crash_in_the_middle_of_a_fade_in_matches_an_uninterrupted_run(tmp_path, images, straight_run):
    class Crash(Callback):
        def on_step_end(self, gan, step, stats):
            if step == 13:  # images_seen 208: inside the fade-in of 28x28, after epoch 1's checkpoint
                raise KeyboardInterrupt

    config = tiny_config(**RESUME_CONFIG)
    crashed, straight = tmp_path / "crashed", straight_run[0]
    with pytest.raises(KeyboardInterrupt):
        train(config, crashed, images=images, progress=False, callbacks=[Crash()])
    gan, _ = load_run(crashed)
    # The last checkpoint is epoch 1's, two thirds into the fade-in of 14x14.
    assert int(gan.epoch.numpy()) == 1 and gan.growth.current_stage() == 1
    assert float(gan.growth.alpha.numpy()) == pytest.approx(64 / 96)

    train(config, crashed, images=images, progress=False)
    a, _ = load_run(crashed)
    b, _ = load_run(straight)
    assert int(a.growth.images_seen.numpy()) == int(b.growth.images_seen.numpy()) == 3 * N
    for x, y in zip(a.generator.weights + a.discriminator.weights + a.ema_generator.weights + a.g_optimizer.variables
                    + a.d_optimizer.variables,
                    b.generator.weights + b.discriminator.weights + b.ema_generator.weights + b.g_optimizer.variables
                    + b.d_optimizer.variables, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    assert [r["d_loss"] for r in read_csv(RunDir(crashed).steps)] == [r["d_loss"] for r in read_csv(RunDir(straight).steps)]


def test_cli_trains_samples_interpolates_and_evaluates_a_pggan_run(tmp_path, fake_data_dir):
    out = tmp_path / "run"
    assert main(["train", "--preset", "pggan", "--out", str(out), "--data-dir", str(fake_data_dir), "--train-size", "64",
                 "--epochs", "1", "--stabilize-images", "16", "16", "16", "--fade-images", "16", "0",
                 "--latent-dim", "8", "--g-filters", "4", "--d-filters", "4", "--num-samples", "4",
                 "--no-progress", "--no-tensorboard"]) == 0
    gan, _ = load_run(out)
    assert gan.config.fade_images == (16, 0) and gan.growth.progress().done
    assert main(["sample", str(out), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert main(["interpolate", str(out), "--walks", "4", "--keys", "2", "--frames", "2",
                 "--out", str(tmp_path / "walk.gif")]) == 0
    assert main(["evaluate", str(out), "--num-samples", "12", "--metrics", "fcd", "--data-dir", str(fake_data_dir),
                 "--out", str(tmp_path / "m.json")]) == 0
    assert (tmp_path / "s.png").is_file() and (tmp_path / "walk.gif").is_file() and (tmp_path / "m.json").is_file()


def test_keras_fit_refuses_a_progressive_gan():
    from ganlib.train.keras_fit import build_gan_model

    with pytest.raises(ValueError, match="Received: a GAN with growth stage 0"):
        build_gan_model(tiny_config())
