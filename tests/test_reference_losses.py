"""The default runs train exactly as before the family seam: the first steps' losses against a stored reference.

``tests/data/reference_losses.json`` holds the per-step ``d_loss`` and ``g_loss`` that the loop wrote before the
training core was reshaped (its ``source`` field says how they were made). Each case is trained again here on the
real MNIST training split and compared to 1e-6. pggan's ``d_loss`` is not compared: it then included the drift term,
which is now a critic term reported under its own name; its ``g_loss``, which depends on every earlier update, is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ganlib.config import get_config
from ganlib.data import load_dataset
from ganlib.train import train
from ganlib.train.runs import RunDir, read_csv

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_losses.json").read_text())


def _mnist_or_skip():
    try:
        return load_dataset("mnist", "train")
    except Exception as err:  # no offline data directory and no download
        pytest.skip(f"the MNIST training split is needed (set GANLIB_DATA_DIR): {err}")


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_first_steps_match_the_reference(case, tmp_path):
    data = _mnist_or_skip()
    ref = REFERENCE["cases"][case]
    preset = case.split("-conditional")[0]
    config = get_config(preset, epochs=1, eval_every=0, **ref["overrides"])
    size = ref["steps"] * config.n_critic * config.batch_size
    config = get_config(preset, epochs=1, eval_every=0, train_size=size, **ref["overrides"])
    labels = data.labels if config.conditional else None
    train(config, tmp_path / case, images=data.images, labels=labels, progress=False, tensorboard=False)
    rows = read_csv(RunDir(tmp_path / case).steps)
    assert len(rows) == ref["steps"]
    np.testing.assert_allclose([r["g_loss"] for r in rows], ref["g_loss"], rtol=0, atol=1e-6)
    if preset != "pggan":
        np.testing.assert_allclose([r["d_loss"] for r in rows], ref["d_loss"], rtol=0, atol=1e-6)
