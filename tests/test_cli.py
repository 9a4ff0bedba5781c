"""The command line: help, argument errors (exit 2), train / sample / gif end to end on tiny IDX data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest

from conftest import REPO
from ganlib.cli import build_parser, main, train_config
from ganlib.train.runs import RunDir


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
        (["sample", "runs/x", "--truncation", "0"], "--truncation: expected a positive number, received 0.0"),
        (["sample", "runs/x", "--truncation", "-0.5"], "--truncation: expected a positive number, received -0.5"),
        (["sample", "runs/x", "--truncation", "none"], "--truncation: expected a positive number, received 'none'"),
        (["sample", "runs/x", "--truncation", "inf"], "--truncation must be a finite positive number"),
        (["fly"], "invalid choice: 'fly'"),
        ([], "required"),
    ],
)
def test_wrong_arguments_exit_2_with_one_line_and_a_pointer_to_help(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage:" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("python -m ganlib") and ": error: " in lines[0], err
    assert lines[1].startswith("Run 'python -m ganlib") and lines[1].endswith("--help' for the flags and their meaning.")


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
    # --truncation 1 is the default (z unchanged); 0.5 scales z and says so.
    assert main(["sample", str(out), "-n", "9", "--seed", "1", "--truncation", "1", "--out", str(tmp_path / "s1.png")]) == 0
    assert (iio.imread(tmp_path / "s1.png") == iio.imread(tmp_path / "s.png")).all()
    capsys.readouterr()
    assert main(["sample", str(out), "-n", "9", "--seed", "1", "--truncation", "0.5", "--out", str(tmp_path / "t.png")]) == 0
    assert "z scaled by 0.5" in capsys.readouterr().out
    assert not (iio.imread(tmp_path / "t.png") == iio.imread(tmp_path / "s.png")).all()

    assert main(["gif", str(out), "--fps", "5", "--loop", "1", "--out", str(tmp_path / "t.gif")]) == 0
    assert len(iio.imread(tmp_path / "t.gif", index=None)) == 3  # the frames of steps 0, 2, 4 (ganlib.train.frames)
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
    assert bad.returncode == 2 and "python -m ganlib train: error: argument --epochs" in bad.stderr
    assert run_cli("--help").returncode == 0


def test_divergence_exits_3_naming_epoch_step_and_kept_checkpoint(tmp_path, fake_data_dir, capsys, monkeypatch):
    import numpy as np
    import tensorflow as tf

    from ganlib import losses
    from ganlib.train.state import load_run

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


def test_a_config_field_with_flag_metadata_gets_its_flag_without_a_cli_edit(capsys):
    import argparse
    import dataclasses

    from ganlib.cli import add_config_arguments
    from ganlib.config import TrainConfig, _field

    @dataclasses.dataclass(frozen=True)
    class Extended(TrainConfig):
        warmup_steps: int = _field(7, "steps of a learning-rate warm-up, >= 0", "--warmup-steps", type=int)
        mirror: bool = _field(False, "mirror the training images", "--mirror")

    parser = argparse.ArgumentParser(prog="x")
    dests = add_config_arguments(parser, Extended)
    assert {"warmup_steps", "mirror", "batch_size", "clip_value"} <= set(dests)
    args = parser.parse_args(["--warmup-steps", "3", "--mirror"])
    assert args.warmup_steps == 3 and args.mirror is True and args.batch_size is None
    assert parser.parse_args(["--no-mirror"]).mirror is False
    parser.print_help()
    text = " ".join(capsys.readouterr().out.split())
    assert "steps of a learning-rate warm-up, >= 0 (default: the preset's (7 for every preset))" in text

    # And every TrainConfig field with a flag in its metadata is in 'train --help', with its help.
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(TrainConfig):
        if "flag" in f.metadata:
            assert f.metadata["flag"] in text and " ".join(f.metadata["help"].split())[:40] in text, f.name


def test_config_flags_keep_their_names_nargs_and_none_text():
    parse = build_parser().parse_args
    args = parse(["train", "--loss", "hinge", "--generator-loss", "hinge", "--g-lr", "1e-3", "--no-conditional",
                  "--stabilize-images", "1", "2", "3", "--fade-images", "4", "5", "--clip-value", "None"])
    config = train_config(args)
    assert (config.discriminator_loss, config.g_learning_rate, config.conditional) == ("hinge", 1e-3, False)
    assert (config.stabilize_images, config.fade_images, config.clip_value) == ((1, 2, 3), (4, 5), None)
    assert train_config(parse(["train", "--preset", "dcgan", "--clip-value", "0.5"])).clip_value == 0.5


def test_truncated_idx_file_exits_1_naming_the_file(tmp_path, fake_data_dir):
    images = fake_data_dir / "mnist" / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:40])  # a gzip stream cut short
    result = run_cli("train", "--out", str(tmp_path / "r"), "--data-dir", str(fake_data_dir), "--epochs", "1",
                     "--train-size", "64", "--no-progress")
    assert result.returncode == 1, result.stderr
    assert "error:" in result.stderr and str(images) in result.stderr and "usage:" not in result.stderr


def _main_in_subprocess(argv: list[str]) -> dict:
    """Run ``ganlib.cli.main(argv)`` in a fresh interpreter; its exit status and whether TensorFlow got imported."""
    import json

    code = ("import json, sys\nfrom ganlib.cli import main\ntry:\n    status = main(sys.argv[1:])\n"
            "except SystemExit as exit:\n    status = exit.code\n"
            "print(json.dumps({'status': status, 'tf': 'tensorflow' in sys.modules}))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=120)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}


def test_gif_help_and_argument_errors_do_not_import_tensorflow(tmp_path):
    import numpy as np

    from ganlib.config import get_config
    from ganlib.train.runs import prepare_run_dir

    run = prepare_run_dir(tmp_path / "run", get_config("dcgan", num_samples=4))  # writes config.json, no TF
    run.frames.mkdir()
    for step, shade in ((0, 0), (10, 200)):
        iio.imwrite(run.frame(step), np.full((62, 62), shade, np.uint8))
    gif = _main_in_subprocess(["gif", str(run.root), "--fps", "4"])
    assert gif["status"] == 0 and not gif["tf"], gif
    assert len(iio.imread(run.gif, index=None)) == 2

    for argv, status in ((["train", "--help"], 0), (["--help"], 0), (["train", "--batch-size", "0"], 2),
                         (["train", "--num-samples", "10"], 2), (["gif", str(tmp_path / "nowhere")], 2)):
        result = _main_in_subprocess(argv)
        assert result["status"] == status and not result["tf"], (argv, result)


@pytest.mark.skipif(os.name != "posix", reason="the run lock is flock")
def test_train_on_a_locked_or_unreadable_run_is_refused_before_tensorflow_is_imported(tmp_path):
    from ganlib.config import get_config
    from ganlib.train.runs import RunLock, prepare_run_dir

    run = prepare_run_dir(tmp_path / "run", get_config("dcgan", num_samples=4))
    train = ["train", "--out", str(run.root), "--num-samples", "4"]
    with RunLock(run.root):
        locked = _main_in_subprocess(train)
    assert locked["status"] == 1 and not locked["tf"], locked
    assert f"error: {run.root} is being trained by another process (pid {os.getpid()} on host" in locked["stderr"]

    run.config.write_text(run.config.read_text()[:30])
    corrupt = _main_in_subprocess(train)
    assert corrupt["status"] == 2 and not corrupt["tf"], corrupt
    assert f"{run.config} is truncated or corrupt" in corrupt["stderr"]


def test_evaluate_keeps_to_the_cli_what_is_the_cli_s(tmp_path, monkeypatch, capsys):
    """The CLI's part of 'evaluate' around ganlib.metrics.evaluate_run (a stand-in here): run_dir, JSON, print."""
    import json
    import types

    import numpy as np

    import ganlib.metrics
    import ganlib.train.state

    gan = types.SimpleNamespace(config=types.SimpleNamespace(dataset="mnist", preset="dcgan"))
    monkeypatch.setattr(ganlib.train.state, "load_run", lambda path: (gan, RunDir(tmp_path)))
    calls = []

    def evaluate_run(g, *, num_samples, seed, metrics, data_dir, memorisation_samples, weights_dir=None):
        calls.append(dict(num_samples=num_samples, seed=seed, metrics=metrics, data_dir=data_dir,
                          memorisation_samples=memorisation_samples))
        return ({"metrics": ["fcd"], "fcd": 1.5, "classifier_score": 2.0, "classes_covered": 10,
                 "kl_to_uniform": 0.01, "num_samples": num_samples, "seed": seed, "epoch": 3,
                 "checkpoint": "ckpt-3", "preset": "dcgan", "timings": {"generate": 0.1, "fcd": 0.2},
                 "seconds": 0.3}, np.zeros((num_samples, 28, 28, 1), np.float32))

    monkeypatch.setattr(ganlib.metrics, "evaluate_run", evaluate_run, raising=False)
    assert main(["evaluate", str(tmp_path), "--num-samples", "20", "--seed", "4", "--metrics", "fcd"]) == 0
    assert calls == [dict(num_samples=20, seed=4, metrics=["fcd"], data_dir=None, memorisation_samples=calls[0][
        "memorisation_samples"])]
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["run_dir"] == str(tmp_path) and written["fcd"] == 1.5
    out = capsys.readouterr().out
    assert "ckpt-3 (epoch 3, 20 samples, seed 4)" in out and "FCD 1.500" in out


def test_evaluate_end_to_end_through_the_library(tmp_path, fake_data_dir, capsys):
    """Needs ganlib.metrics.evaluate_run (the metrics branch); not skipped on purpose."""
    import json

    import tensorflow as tf

    from ganlib.config import get_config
    from ganlib.train.runs import prepare_run_dir
    from ganlib.train.state import build_gan

    config = get_config("dcgan", latent_dim=8, g_filters=8, d_filters=8, num_samples=4, conditional=True)
    run = prepare_run_dir(tmp_path / "run", config)
    tf.train.CheckpointManager(build_gan(config).checkpoint(), run.checkpoints, max_to_keep=1).save(0)
    assert main(["evaluate", str(run.root), "--num-samples", "20", "--metrics", "fcd", "--data-dir",
                 str(fake_data_dir)]) == 0
    metrics = json.loads((run.root / "metrics.json").read_text())
    assert metrics["run_dir"] == str(run.root) and metrics["num_samples"] == 20
    assert "class_accuracy" in metrics and list(metrics["timings"])[0] == "generate"
    assert "class accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("argv,hint", [
    (["train", "--preset", "dcgn"], "did you mean 'dcgan'?"),
    (["train", "--preset", "wgangp"], "did you mean 'wgan-gp'?"),
    (["samle", "run"], "did you mean 'sample'?"),
])
def test_a_mistyped_choice_gets_a_did_you_mean(argv, hint, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and hint in capsys.readouterr().err


def test_config_errors_name_the_flags_of_the_fields(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--preset", "wgan-gp", "--d-batch-norm"])
    err = capsys.readouterr().err
    assert "Received: gp_weight=10.0, d_batch_norm=True" in err
    flags = err.split("(flags: ")[1].split(")")[0]
    assert sorted(flags.split(", ")) == ["d_batch_norm is --d-batch-norm", "gp_weight is --gp-weight"]


@pytest.mark.parametrize("argv,status,message", [
    (["sample", "{run}", "--out", "{tmp}/missing/s.png"], 1, "The folder of --out does not exist: {tmp}/missing"),
    (["sample", "{run}", "--out", "{tmp}/s.txt"], 2, "--out must name a .png or .jpg or .jpeg or .pdf or .svg file"),
    (["sample", "{run}", "--out", "{tmp}"], 2, "--out must name a .png"),
    (["sample", "{run}", "-n", "100000"], 2, "-n/--num must be at most 1024"),
    (["gif", "{run}", "--out", "{tmp}/t.png"], 2, "--out must name a .gif or .mp4 file. Received: --out {tmp}/t.png"),
    (["interpolate", "{run}", "--out", "{tmp}/w.avi"], 2, "--out must name a .gif or .mp4 file"),
    (["evaluate", "{run}", "--out", "{tmp}/m.csv"], 2, "--out must name a .json file"),
    (["export", "{run}", "--out", "{tmp}/nope/g.keras"], 1, "The folder of --out does not exist"),
    (["train", "--out", "{tmp}/file.txt"], 2, "--out must be a run directory; {tmp}/file.txt is a file"),
    (["train", "--out", "{ro}/run"], 1, "Cannot write to {ro}: the folder is not writable"),
])
def test_output_paths_are_checked_before_tensorflow_is_imported(tmp_path, argv, status, message):
    (tmp_path / "file.txt").write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root writes to a mode-555 folder; not to /proc/1 (Linux)
        ro = Path("/proc/1")
        if not ro.is_dir() or os.access(ro, os.W_OK):
            pytest.skip("no folder that this user cannot write to")
    try:
        fill = {"{run}": str(tmp_path / "run"), "{tmp}": str(tmp_path), "{ro}": str(ro)}
        for key, value in fill.items():
            argv, message = [a.replace(key, value) for a in argv], message.replace(key, value)
        result = _main_in_subprocess(argv)
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert result["status"] == status and not result["tf"], result
    assert message in result["stderr"], result["stderr"]


def test_loading_a_model_keeps_tensorflow_start_up_lines_off_stderr(tmp_path, fake_data_dir):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--data-dir", str(fake_data_dir), "--train-size", "32", "--batch-size",
                 "32", "--latent-dim", "8", "--num-samples", "4", "--no-progress", "--no-jit", "--epochs", "1",
                 "--eval-every", "0", "--no-tensorboard"]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    quiet = subprocess.run([sys.executable, "-m", "ganlib", "sample", str(out), "-n", "4"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.strip() == "", quiet.stderr  # no oneDNN notice, no cuInit error, nothing
    loud = subprocess.run([sys.executable, "-m", "ganlib", "--debug", "sample", str(out), "-n", "4"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert loud.returncode == 0 and "oneDNN" in loud.stderr  # --debug shows them
