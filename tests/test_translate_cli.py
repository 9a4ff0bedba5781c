"""``python -m ganlib translate``: a trained pix2pix run completes digits; bad input exits 2 naming the flag."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest

from ganlib.cli import main
from ganlib.config import get_config


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    from ganlib.train import train

    out = tmp_path_factory.mktemp("runs") / "p2p"
    digits = np.random.default_rng(0).uniform(-1, 1, [16, 28, 28, 1]).astype(np.float32)
    train(get_config("pix2pix", epochs=1, batch_size=8, g_filters=4, d_filters=4, num_samples=9), out, images=digits,
          progress=False)
    return out


def _digits(n=5):
    return np.random.default_rng(1).uniform(-1, 1, [n, 28, 28]).astype(np.float32)


def test_translate_writes_a_grid_and_the_completions(pix2pix_run, tmp_path, capsys):
    np.save(tmp_path / "in.npy", _digits())
    assert main(["translate", str(pix2pix_run), "--input", str(tmp_path / "in.npy"),
                 "--out", str(tmp_path / "out.png")]) == 0
    completions = np.load(tmp_path / "out.npy")
    assert completions.shape == (5, 28, 28, 1) and completions.dtype == np.float32
    assert np.abs(completions).max() <= 1
    np.testing.assert_array_equal(completions[:, :14, :, 0], _digits()[:, :14])  # the visible upper half is kept
    assert iio.imread(tmp_path / "out.png").ndim == 3
    assert "5 images translated" in capsys.readouterr().out
    # A folder of PNGs and masked pairs [N, 28, 28, 2] are read too.
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(3):
        iio.imwrite(folder / f"{i}.png", np.full([28, 28], 40 * i, np.uint8))
    assert main(["translate", str(pix2pix_run), "--input", str(folder), "--out", str(tmp_path / "f.png")]) == 0
    assert np.load(tmp_path / "f.npy").shape == (3, 28, 28, 1)
    pairs = np.concatenate([_digits(2)[..., None], np.ones([2, 28, 28, 1], np.float32)], axis=-1)
    np.save(tmp_path / "pairs.npy", pairs)
    assert main(["translate", str(pix2pix_run), "--input", str(tmp_path / "pairs.npy"), "--out",
                 str(tmp_path / "p.png")]) == 0


@pytest.mark.parametrize("case,message", [
    ("shape", "--input: expected digits [N, 28, 28] or [N, 28, 28, 1]"),
    ("range", "--input: expected image values in [-1, 1] (or uint8 0..255). Received values in [-2.99"),
    ("mask", "--input: Expected the mask channel of --input in {0, 1}"),
    ("missing", "--input: "),
    ("not_npy", "--input: expected a .npy file or a folder of 28x28 grey PNG images. Received: --input"),
    ("generation_run", "RUN must be a translation run"),
    ("no_run", "RUN must be a run directory written by 'train'"),
])
def test_bad_input_exits_2_naming_the_flag_and_keeps_what_was_written(pix2pix_run, tmp_path, capsys, case,
                                                                     message):
    from ganlib.train.runs import config_record

    run, inputs = pix2pix_run, tmp_path / "in.npy"
    if case == "shape":
        np.save(inputs, np.zeros([4, 32, 32], np.float32))
    elif case == "range":
        np.save(inputs, 3 * _digits())
    elif case == "mask":
        np.save(inputs, np.concatenate([_digits(2)[..., None], np.full([2, 28, 28, 1], 0.5, np.float32)], -1))
    elif case == "not_npy":
        inputs = tmp_path / "in.txt"
        inputs.write_text("1 2 3")
    elif case == "generation_run":
        np.save(inputs, _digits())
        run = tmp_path / "dcgan"
        run.mkdir()
        (run / "config.json").write_text(json.dumps(config_record(get_config("dcgan"))))
    elif case == "no_run":
        np.save(inputs, _digits())
        run = tmp_path / "absent"
    out = tmp_path / "out.png"
    out.write_bytes(b"an earlier grid")
    out.with_suffix(".npy").write_bytes(b"earlier outputs")
    with pytest.raises(SystemExit) as exit_:
        main(["translate", str(run), "--input", str(inputs), "--out", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Received" in err, err
    if case == "missing":
        assert "does not exist" in err and str(inputs) in err
    assert out.read_bytes() == b"an earlier grid" and out.with_suffix(".npy").read_bytes() == b"earlier outputs"


def test_train_cli_has_the_translation_flags(capsys):
    from ganlib.cli import build_parser, train_config

    args = build_parser().parse_args(["train", "--preset", "pix2pix", "--mask", "square", "--adv-weight", "0",
                                      "--l1-weight", "50"])
    config = train_config(args)
    assert (config.pix2pix, config.mask, config.adv_weight, config.l1_weight) == (True, "square", 0.0, 50.0)
    args = build_parser().parse_args(["train", "--preset", "cyclegan", "--cycle-weight", "5"])
    assert train_config(args).cycle_weight == 5.0 and train_config(args).cyclegan
