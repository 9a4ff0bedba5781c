"""The command line: help, argument errors (exit 2), train / sample / gif end to end on tiny IDX data."""

from __future__ import annotations

import os
import subprocess
import sys

import imageio.v3 as iio
import pytest

from conftest import REPO
from ganlib.cli import build_parser, main, train_config
from ganlib.runs import RunDir


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "ganlib", *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_documents_every_train_flag_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = [a.option_strings[-1] for a in train_parser._actions if a.option_strings and a.dest != "help"]
    for flag in ["--out", "--epochs", "--batch-size", "--latent-dim", "--data-dir", "--dataset", "--train-size",
                 "--seed", "--preset"]:
        assert flag in flags
    for flag in flags:
        assert flag in text
    assert "(100 for every preset)" in text and "(default: dcgan)" in text  # latent_dim
    assert "wgan: 5e-05" in text and "wgan: 16" in text  # per-preset defaults: learning rate, batch size
    assert "dcgan: 5," in text and "pggan: 2)" in text  # epochs


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["--preset", "wgan"], dict(batch_size=16, d_learning_rate=5e-5, n_critic=5, clip_value=0.01)),
        (["--preset", "wgan", "--batch-size", "64", "--n-critic", "2"], dict(batch_size=64, n_critic=2)),
        (["--preset", "dcgan"], dict(batch_size=64, n_critic=1, clip_value=None)),
        (["--preset", "wgan-gp", "--d-lr", "3e-4"], dict(batch_size=64, d_learning_rate=3e-4, gp_weight=10.0)),
        (["--preset", "wgan", "--clip-value", "none", "--optimizer", "adam"], dict(clip_value=None, optimizer="adam")),
        (["--preset", "dcgan", "--no-d-batch-norm", "--simultaneous-update", "--precision", "mixed_bfloat16"],
         dict(d_batch_norm=False, simultaneous_update=True, precision="mixed_bfloat16")),
    ],
)
def test_flags_override_the_preset_and_omitted_flags_keep_it(argv, expected):
    config = train_config(build_parser().parse_args(["train", *argv]))
    assert {k: getattr(config, k) for k in expected} == expected


def test_every_config_field_has_a_train_flag():
    import dataclasses

    from ganlib.cli import NO_FLAG_FIELDS
    from ganlib.config import TrainConfig

    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train_parser._actions}
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields - NO_FLAG_FIELDS <= dests, sorted(fields - NO_FLAG_FIELDS - dests)
    assert NO_FLAG_FIELDS <= fields  # no stale exclusion


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--epochs", "-1"], "--epochs: expected a positive integer, received -1"),
        (["train", "--batch-size", "0"], "--batch-size: expected a positive integer, received 0"),
        (["train", "--preset", "vae"], "invalid choice: 'vae'"),
        (["train", "--dataset", "cifar10"], "invalid choice: 'cifar10'"),
        (["train", "--g-lr", "fast"], "expected a positive number, received 'fast'"),
        (["train", "--num-samples", "10"], "num_samples must be a square number"),
        (["train", "--preset", "wgan-gp", "--d-batch-norm"], "Received: gp_weight=10.0, d_batch_norm=True"),
        (["train", "--beta-1", "1"], "--beta-1: expected a number in [0, 1), received 1.0"),
        (["fly"], "invalid choice: 'fly'"),
        ([], "required"),
    ],
)
def test_wrong_arguments_exit_2_with_usage(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err


def test_train_sample_gif_end_to_end(tmp_path, fake_data_dir, capsys):
    out = tmp_path / "run"
    common = ["--out", str(out), "--data-dir", str(fake_data_dir), "--train-size", "64", "--batch-size", "32",
              "--latent-dim", "8", "--num-samples", "4", "--no-progress", "--no-jit", "--seed", "3"]
    assert main(["train", "--epochs", "1", *common]) == 0
    assert main(["train", "--epochs", "2", *common]) == 0  # resumes
    assert "Resuming" in capsys.readouterr().out
    run = RunDir(out)
    assert len(run.sample_grids()) == 2 and run.loss_plot.exists() and run.history.exists()

    assert main(["sample", str(out), "-n", "9", "--seed", "1", "--out", str(tmp_path / "s.png")]) == 0
    assert iio.imread(tmp_path / "s.png").ndim == 3

    assert main(["gif", str(out), "--fps", "5", "--loop", "1", "--out", str(tmp_path / "t.gif")]) == 0
    assert len(iio.imread(tmp_path / "t.gif", index=None)) == 3  # the frames of steps 0, 2, 4 (ganlib.frames)
    meta = iio.immeta(tmp_path / "t.gif", index=0)
    assert meta["duration"] == 200 and "loop" not in meta  # --loop 1 plays once: no NETSCAPE2.0 block

    # The same directory with another configuration is refused with a how-to, exit status 2.
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "2", *common[:-1], "4"])
    assert exit_info.value.code == 2
    assert "holds another run (seed: run has 3, received 4)" in capsys.readouterr().err


def test_missing_data_exits_1_with_how_to(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--data-dir", str(tmp_path / "nowhere"), "--no-progress"]) == 1
    assert "not found offline" in capsys.readouterr().err


def test_sample_without_run_is_an_input_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "is not a ganlib run" in capsys.readouterr().err


def test_module_entry_point_exit_status():
    bad = run_cli("train", "--epochs", "zero")
    assert bad.returncode == 2 and "usage: python -m ganlib train" in bad.stderr
    assert run_cli("--help").returncode == 0


def test_divergence_exits_3_naming_epoch_step_and_kept_checkpoint(tmp_path, fake_data_dir, capsys, monkeypatch):
    import numpy as np
    import tensorflow as tf

    from ganlib import losses
    from ganlib.state import load_run

    out = tmp_path / "run"
    common = ["--out", str(out), "--data-dir", str(fake_data_dir), "--train-size", "64", "--batch-size", "32",
              "--latent-dim", "8", "--g-filters", "8", "--d-filters", "8", "--num-samples", "4", "--no-progress",
              "--no-jit"]
    assert main(["train", "--epochs", "1", *common]) == 0
    monkeypatch.setitem(losses.DISCRIMINATOR_LOSSES, "minimax", lambda real, fake: tf.reduce_mean(real) * np.inf)
    assert main(["train", "--epochs", "3", *common]) == 3
    err = capsys.readouterr().err
    assert "diverged at epoch 2, step 1: d_loss=" in err
    assert any(f"d_loss={v}" in err for v in ("nan", "inf", "-inf"))
    assert "last good checkpoint is" in err and "ckpt-1" in err
    gan, run = load_run(out)
    assert int(gan.epoch.numpy()) == 1 and len(run.sample_grids()) == 1
