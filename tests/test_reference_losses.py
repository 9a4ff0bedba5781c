"""The default runs train exactly as before the family seam: the first steps' losses against a stored reference.

``tests/data/reference_losses.json`` holds the per-step ``d_loss`` and ``g_loss`` that the loop wrote before the
training core was reshaped (its ``source`` field says how they were made), once per machine it was made on: oneDNN
picks its kernels by CPU, so float round-off, and with it every later step, differs between CPU models. On a machine
of the reference (same CPU model name and TensorFlow version) each case must match it to 1e-6. On another machine
the first three steps (initial networks, first updates) must match to 1e-4, and every step to 5%: round-off grows
over the steps, and the two stored machines differ by that much at most (the last test). pggan's ``d_loss`` is not
compared: it then included the drift term, which is now a critic term reported under its own name; its ``g_loss``,
which depends on every earlier update, is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import cpu_model
from ganlib.config import get_config
from ganlib.data import load_dataset
from ganlib.train import train
from ganlib.train.runs import RunDir, read_csv

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_losses.json").read_text())


def _reference() -> tuple[dict, bool]:
    """The stored reference of this machine if there is one (and True), else the first one (and False)."""
    import tensorflow as tf

    for ref in REFERENCE["references"]:
        if ref["machine"] == cpu_model() and ref["tensorflow"] == tf.__version__:
            return ref, True
    return REFERENCE["references"][0], False


def _mnist_or_skip():
    try:
        return load_dataset("mnist", "train")
    except Exception as err:  # no offline data directory and no download
        pytest.skip(f"the MNIST training split is needed (set GANLIB_DATA_DIR): {err}")


def _assert_close(actual: list[float], desired: list[float], same_machine: bool) -> None:
    if same_machine:
        np.testing.assert_allclose(actual, desired, rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(actual[:3], desired[:3], rtol=0, atol=1e-4)
        np.testing.assert_allclose(actual, desired, rtol=0.05, atol=1e-3)


@pytest.mark.parametrize("case", sorted(REFERENCE["references"][0]["cases"]))
def test_first_steps_match_the_reference(case, tmp_path):
    data = _mnist_or_skip()
    reference, same_machine = _reference()
    ref = reference["cases"][case]
    preset = case.split("-conditional")[0]
    config = get_config(preset, epochs=1, eval_every=0, **ref["overrides"])
    size = ref["steps"] * config.n_critic * config.batch_size
    config = get_config(preset, epochs=1, eval_every=0, train_size=size, **ref["overrides"])
    labels = data.labels if config.conditional else None
    train(config, tmp_path / case, images=data.images, labels=labels, progress=False, tensorboard=False)
    rows = read_csv(RunDir(tmp_path / case).steps)
    assert len(rows) == ref["steps"]
    _assert_close([r["g_loss"] for r in rows], ref["g_loss"], same_machine)
    if preset != "pggan":
        _assert_close([r["d_loss"] for r in rows], ref["d_loss"], same_machine)


def test_the_stored_machines_differ_only_by_round_off():
    """The tolerance used on other machines holds between the two stored ones."""
    first, second = REFERENCE["references"][:2]
    for case, ref in first["cases"].items():
        for key in ("g_loss", "d_loss"):
            _assert_close(second["cases"][case][key], ref[key], same_machine=False)
