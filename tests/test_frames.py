"""The training GIF's frame schedule: from step 0, dense early, labelled, and the same after a resume."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from ganlib.config import TrainConfig
from ganlib.train.frames import frame_label, frame_steps
from ganlib.train.runs import RunDir, frame_step
from ganlib.train.state import build_gan
from ganlib.train import train
from ganlib.viz import labelled_grid, save_animation


def test_default_run_gets_at_least_40_frames_from_step_0_dense_early():
    steps_per_epoch = 60_000 // 64  # the default main job: 937 generator steps per epoch, 5 epochs
    defaults = TrainConfig()
    steps = frame_steps(5 * steps_per_epoch, frames_per_decade=defaults.frames_per_decade,
                        offset=defaults.frame_offset, steps_per_epoch=steps_per_epoch)
    assert len(steps) == 46 and steps[:5] == [0, 10, 21, 33, 47] and steps[-1] == 5 * steps_per_epoch
    assert steps == sorted(set(steps))
    assert {steps_per_epoch * e for e in range(1, 6)} <= set(steps)  # every epoch's end
    gaps = np.diff(steps)
    assert gaps[:10].max() <= 25 and steps[-10] > 2000  # dense early (10-24 steps apart), sparse late


def test_schedule_does_not_depend_on_the_number_of_epochs():
    # A resumed run that raises --epochs keeps every frame it already has.
    short = frame_steps(3 * 250, frames_per_decade=24, offset=100, steps_per_epoch=250)
    longer = frame_steps(7 * 250, frames_per_decade=24, offset=100, steps_per_epoch=250)
    assert longer[: len(short)] == short


def test_schedule_options():
    assert frame_steps(100, frames_per_decade=4) == [0, 1, 2, 3, 6, 10, 18, 32, 56, 100]
    assert frame_steps(300, frames_per_decade=4, offset=100) == [0, 78, 216]  # 100 * 10^(k/4) - 100
    assert frame_steps(10, frames_per_decade=0, every=4) == [0, 4, 8]
    assert frame_steps(10, frames_per_decade=0, steps_per_epoch=5) == [0, 5, 10]
    assert frame_steps(0, frames_per_decade=16) == [0]
    with pytest.raises(ValueError, match="frames_per_decade must be an integer >= 0. Received: frames_per_decade=-1"):
        frame_steps(10, frames_per_decade=-1)
    with pytest.raises(ValueError, match="Received: steps_per_epoch=0"):
        frame_steps(10, frames_per_decade=1, steps_per_epoch=0)


def test_config_refuses_a_negative_schedule(tiny_config):
    with pytest.raises(ValueError, match="frame_every must be an integer >= 0"):
        TrainConfig(**{**tiny_config.to_dict(), "frame_every": -2})


def test_frames_from_step_0_survive_a_resume_without_duplicates_or_gaps(tmp_path, tiny_config, tiny_images):
    config = TrainConfig(**{**tiny_config.to_dict(), "epochs": 1, "frames_per_decade": 4, "frame_offset": 0})
    out = tmp_path / "run"
    train(config, out, images=tiny_images, progress=False)
    run = RunDir(out)
    assert [frame_step(f) for f in run.frame_files()] == [0, 1, 2, 3]  # 3 steps per epoch
    # A frame left by a crash after the last checkpoint (step 3) is drawn again, not kept.
    stale = run.frame(4)
    iio.imwrite(stale, np.zeros((8, 8), np.uint8), extension=".png")
    train(TrainConfig(**{**config.to_dict(), "epochs": 3}), out, images=tiny_images, progress=False)
    expected = frame_steps(9, frames_per_decade=4, offset=0, steps_per_epoch=3)
    assert [frame_step(f) for f in run.frame_files()] == expected == [0, 1, 2, 3, 6, 9]
    assert len(iio.imread(run.gif, index=None)) == len(expected)
    assert len(run.sample_grids()) == 3  # the per-epoch grids stay

    # Frame 0 is the untrained generator's fixed-z grid, labelled with its step and epoch.
    untrained = build_gan(config)
    first = iio.imread(run.frame(0))
    np.testing.assert_array_equal(first, labelled_grid(untrained.fixed_grid(), cols=2, scale=2,
                                                       label=frame_label("dcgan", 0, 3)))
    assert frame_label("dcgan", 1152, 937) == "dcgan  step 1,152  epoch 1.23"
    label_rows = first[: first.shape[0] - 2 * (2 * 30 + 2)]  # the strip above the 2x2 grid
    assert label_rows.shape[0] > 10 and label_rows.min() < 128  # text drawn on it


def test_no_frames_gives_the_per_epoch_gif(tmp_path, tiny_config):
    from ganlib.train.frames import TrainingFrames

    assert TrainingFrames.from_config(TrainConfig(**{**tiny_config.to_dict(), "frames_per_decade": 0})) is None
    run = RunDir(tmp_path)
    for epoch in (1, 2):
        run.sample_grid(epoch).parent.mkdir(exist_ok=True)
        run.sample_grid(epoch).write_bytes(b"")
    assert run.gif_frames(2, steps_per_epoch=3) == run.sample_grids()  # no step frames: one per epoch
    for step in (0, 3, 6):
        run.frame(step).parent.mkdir(exist_ok=True)
        run.frame(step).write_bytes(b"")
    assert [frame_step(f) for f in run.gif_frames(1, steps_per_epoch=3)] == [0, 3]


def test_animation_options(tmp_path):
    frames = [np.full((20, 30), v, np.uint8) for v in (0, 120, 255)]
    gif = save_animation(frames, tmp_path / "a.gif", fps=5, loop=2, hold_last=1.5, scale=2)
    assert iio.imread(gif, index=None).shape[:3] == (3, 40, 60)
    durations = [iio.immeta(gif, index=i)["duration"] for i in range(3)]
    assert durations == [200, 200, 1500] and iio.immeta(gif, index=0)["loop"] == 1  # plays twice: one repetition
    mp4 = save_animation(frames, tmp_path / "a.mp4", fps=5, hold_last=1.0)
    assert mp4.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    with pytest.raises(ValueError, match=r"Expected a .gif or .mp4 file name. Received: path=.*a.png"):
        save_animation(frames, tmp_path / "a.png")
    with pytest.raises(ValueError, match="Expected frames of one size"):
        save_animation([np.zeros((4, 4), np.uint8), np.zeros((5, 4), np.uint8)], tmp_path / "b.gif")
