"""Run settings: presets, validation that says what was expected, and names that agree with the losses."""

from __future__ import annotations

import numpy as np
import pytest

from ganlib.config import DISCRIMINATOR_LOSS_NAMES, GENERATOR_LOSS_NAMES, PRESETS, TrainConfig, get_config


def test_loss_names_agree_with_the_loss_functions():
    from ganlib import losses

    assert tuple(losses.DISCRIMINATOR_LOSSES) == DISCRIMINATOR_LOSS_NAMES
    assert tuple(losses.GENERATOR_LOSSES) == GENERATOR_LOSS_NAMES


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_is_valid_and_round_trips(preset):
    config = get_config(preset)
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(gp_weight=10.0, d_batch_norm=True), "needs a critic without batch normalization"),
        (dict(n_critic=2, simultaneous_update=True), "needs n_critic=1. Received: n_critic=2"),
        (dict(precision="float16"), "Received: precision='float16'"),
        (dict(num_replicas=0), "num_replicas must be a positive integer"),
        (dict(beta_1=1.0), r"beta_1 must be in \[0, 1\)"),
    ],
)
def test_invalid_settings_are_refused_with_what_was_expected(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_config("dcgan", **overrides)


def test_every_field_documents_itself_and_numpy_scalars_become_python_numbers():
    import dataclasses

    for f in dataclasses.fields(TrainConfig):
        assert len(f.metadata.get("help", "")) > 10, f.name
    assert "n_critic * batch_size" in TrainConfig.field_help("n_critic")
    with pytest.raises(ValueError, match="Unknown config field"):
        TrainConfig.field_help("n_critics")
    config = get_config("dcgan", epochs=np.int64(3), ema=np.float32(0.5))
    assert type(config.epochs) is int and type(config.ema) is float


@pytest.mark.parametrize(
    "check,message",
    [
        (lambda c: c.positive_int("batch_size", 0), "batch_size must be a positive integer. Received: batch_size=0"),
        (lambda c: c.positive_int("epochs", True), "epochs must be a positive integer. Received: epochs=True"),
        (lambda c: c.non_negative_int("eval_every", -1, note="0: never"),
         r"eval_every must be an integer >= 0 \(0: never\). Received: eval_every=-1"),
        (lambda c: c.number_in("real_label", 0, 0, 1, low_open=True),
         r"real_label must be a number in \(0, 1\]. Received: real_label=0"),
        (lambda c: c.positive_number("lr", float("nan")), "lr must be a positive number. Received: lr=nan"),
        (lambda c: c.class_labels([1, 12, 3], 3), r"labels must be class labels in 0..9. Received: labels=\[12\]"),
        (lambda c: c.class_labels(np.zeros((3, 1), int), 3), r"shape \[3\]. Received: labels.shape=\[3, 1\]"),
        (lambda c: c.class_labels([0.5, 1, 2], 3), "labels.dtype must be an integer type"),
        (lambda c: c.class_labels(None, 3), "for a conditional model. Received: labels=None"),
        (lambda c: c.class_labels([1, 2], 2, conditional=False), "must be None for an unconditional model"),
    ],
)
def test_checks_say_what_was_expected_in_the_house_form(check, message):
    from ganlib import checks

    with pytest.raises(checks.CheckError, match=message):
        check(checks)


def test_checks_accept_in_range_values_and_import_no_tensorflow():
    import subprocess
    import sys

    from ganlib import checks

    assert checks.class_labels(np.array([0, 9]), 2).tolist() == [0, 9]
    assert checks.class_labels(None, 4, conditional=False) is None
    assert checks.class_labels(np.zeros(0, np.float32), 0).shape == (0,)
    assert checks.number_in("beta_1", 0.0, 0, 1, high_open=True) == 0.0
    assert checks.positive_int("n", np.int64(3)) == 3
    code = "import sys, ganlib.checks, ganlib.config; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
