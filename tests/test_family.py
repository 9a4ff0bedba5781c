"""The family seam: a family that the training core has never heard of plugs in through the registry alone.

A toy family (a config field, a registry entry, a class) is trained by the real loop; the loop builds its
networks, runs its callbacks, logs its description and labels the GIF frames with its text, and the core modules
are unchanged (``tests/test_layout.py`` checks that they name no family).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ganlib.config import TrainConfig, get_config
from ganlib.train import family as F
from ganlib.train.callbacks import Callback


@dataclasses.dataclass(frozen=True)
class ToyConfig(TrainConfig):
    """A TrainConfig with one more field, the toy family's switch."""

    toy: bool = False


class _Recorder(Callback):
    def __init__(self):
        self.epochs: list[int] = []

    def on_epoch_end(self, gan, row):
        self.epochs.append(int(row["epoch"]))
        return {"toy_metric": float(len(self.epochs))}


class ToyFamily(F.Family):
    """The standard networks at a tiny width, named so that the test can see they were used."""

    name = "toy"
    # What the runs did, across the instances (the loop and build_gan each ask the registry for the family).
    recorder = _Recorder()
    labels_drawn: list[int] = []

    def build_networks(self):
        from ganlib.models import build_discriminator, build_generator

        c = self.config
        return (build_generator(c.latent_dim, 4, name="toy_generator"),
                build_discriminator(4, batch_norm=True, name="toy_discriminator"), {})

    def describe_run(self, gan, steps):
        return f"Toy family: {steps} steps"

    def callbacks(self):
        return [self.recorder]

    def frame_label(self, gan):
        ToyFamily.labels_drawn.append(int(gan.g_optimizer.iterations.numpy()))
        return "  toy"


@pytest.fixture
def toy_registry(monkeypatch):
    ToyFamily.recorder, ToyFamily.labels_drawn = _Recorder(), []
    monkeypatch.setattr(F, "REGISTRY", (F.Entry("toy", "toy", f"{__name__}:ToyFamily"), *F.REGISTRY))
    return ToyFamily


def _toy_config(**overrides):
    base = get_config("dcgan", batch_size=8, latent_dim=8, num_samples=4, eval_every=0, epochs=2, **overrides)
    return ToyConfig(**{**dataclasses.asdict(base), "toy": True})


def test_the_registry_selects_the_family_by_its_config_field(toy_registry):
    assert F.family_name(_toy_config()) == "toy"
    assert isinstance(F.family_for(_toy_config()), ToyFamily)
    assert F.family_name(get_config("dcgan")) == "standard" and type(F.family_for(get_config("dcgan"))) is F.Family
    assert F.family_name(get_config("dcgan", conditional=True)) == "conditional"
    assert F.family_name(get_config("pggan")) == "progressive"


def test_the_loop_trains_a_family_it_does_not_know(toy_registry, tmp_path, capsys):
    from ganlib.train.loop import train_loop
    from ganlib.train.runs import RunDir, read_csv

    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    history = train_loop(_toy_config(), tmp_path / "run", images=images, progress=True)
    family = ToyFamily
    assert family.recorder.epochs == [1, 2]
    assert [row["toy_metric"] for row in history] == [1.0, 2.0]
    assert [row["toy_metric"] for row in read_csv(RunDir(tmp_path / "run").history)] == [1.0, 2.0]
    assert "Toy family: 8 steps" in capsys.readouterr().out  # 2 epochs of 32 images in batches of 8, n_critic 1
    assert family.labels_drawn and family.labels_drawn[-1] == 8  # the last GIF frame, after the last step
    assert (tmp_path / "run" / "training.gif").stat().st_size > 0


def test_the_gan_holds_the_family_networks(toy_registry):
    from ganlib.train.state import build_gan

    gan = build_gan(_toy_config())
    assert isinstance(gan.family, ToyFamily)
    assert (gan.generator.name, gan.discriminator.name) == ("toy_generator", "toy_discriminator")
    assert gan.generate(np.zeros((2, 8), np.float32)).shape == (2, 28, 28, 1)
    with pytest.raises(ValueError, match="unconditional"):
        gan.generate(np.zeros((2, 8), np.float32), labels=np.zeros(2, np.int32))
