"""Run settings: presets, validation that says what was expected, and names that agree with the losses."""

from __future__ import annotations

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
