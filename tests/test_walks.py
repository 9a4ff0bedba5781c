"""Latent walks: slerp against its definition, smooth walks, class morphs, and the interpolate command."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from ganlib.cli import main
from ganlib.config import get_config
from ganlib.train.state import build_gan
from ganlib.walks import class_morph, frame_changes, latent_walk, lerp, slerp, truncate, walk_frames
from test_conditional import TINY, untrained_run


def test_slerp_follows_the_great_circle():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    t = np.linspace(0, 1, 7)
    path = slerp(z0, z1, t)
    np.testing.assert_allclose(path, np.stack([np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)], axis=1), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0)
    np.testing.assert_allclose(slerp(z0, 3 * z0, 0.5), 2 * z0)  # parallel: the linear interpolation
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 16))
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-12)
    assert slerp(a, b, t).shape == (7, 5, 16)
    with pytest.raises(ValueError, match=r"shapes \[5, 16\] and \[5, 15\]"):
        slerp(a, b[:, :15], 0.5)


def test_slerp_keeps_gaussian_latents_at_their_typical_norm():
    # For z ~ N(0, I_100), |z| is about 10; the linear midpoint of two has norm about sqrt(50) = 7.1.
    z0, z1 = np.random.default_rng(1).standard_normal((2, 2000, 100))
    lerp_norm = np.linalg.norm(lerp(z0, z1, 0.5), axis=-1)
    slerp_norm = np.linalg.norm(slerp(z0, z1, 0.5), axis=-1)
    ends = (np.linalg.norm(z0, axis=-1) + np.linalg.norm(z1, axis=-1)) / 2
    assert abs(lerp_norm.mean() - np.sqrt(50)) < 0.1
    assert abs(slerp_norm.mean() - 10.0) < 0.1 and np.abs(slerp_norm - ends).max() < 0.3


def test_truncate_scales_z_toward_zero_by_psi():
    z = np.random.default_rng(2).standard_normal((3000, 100))
    np.testing.assert_array_equal(truncate(z, 1.0), z)  # psi = 1: no truncation
    norms = np.linalg.norm(z, axis=-1)
    for psi in (0.25, 0.5, 1.5):
        out = truncate(z, psi)
        assert out.shape == z.shape
        np.testing.assert_allclose(np.linalg.norm(out, axis=-1), psi * norms)  # every norm scaled by psi
        np.testing.assert_allclose(out / np.linalg.norm(out, axis=-1, keepdims=True),
                                   z / norms[:, None])  # directions kept
    # The lerp midpoint of two independent N(0, I) vectors is distributed as psi = 1/sqrt(2) truncation.
    z0, z1 = np.random.default_rng(3).standard_normal((2, 3000, 100))
    midpoint = np.linalg.norm(lerp(z0, z1, 0.5), axis=-1)
    truncated = np.linalg.norm(truncate(z0, 2 ** -0.5), axis=-1)
    assert abs(midpoint.mean() - truncated.mean()) < 0.05 and abs(midpoint.std() - truncated.std()) < 0.05
    for bad, message in ((0, "psi must be a positive number"), (-0.5, "Received: psi=-0.5"),
                         (float("inf"), "psi must be a finite positive number"), ("1", "Received: psi='1'")):
        with pytest.raises(ValueError, match=message):
            truncate(z, bad)


def test_latent_walk_visits_its_keys_and_closes_the_loop():
    keys = np.random.default_rng(2).standard_normal((3, 4, 8))
    closed = latent_walk(keys, 5)
    assert closed.shape == (15, 4, 8)
    for j in range(3):
        np.testing.assert_allclose(closed[5 * j], keys[j], atol=1e-6)
    np.testing.assert_allclose(closed[-1], slerp(keys[2], keys[0], 0.8), atol=1e-6)  # heading back to key 0
    opened = latent_walk(keys, 5, closed=False)
    assert opened.shape == (11, 4, 8)
    np.testing.assert_allclose(opened[-1], keys[-1], atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 key vectors"):
        latent_walk(keys[:1], 5)


def test_walks_are_smooth_and_morphs_hold_z():
    gan = build_gan(get_config("dcgan", conditional=True, **TINY))
    frames = walk_frames(gan, num_walks=4, num_keys=3, frames_per_segment=16)
    assert frames.shape == (48, 4, 28, 28, 1)
    independent = np.abs(frames[:, :, None] - frames[:, None, :]).mean()  # between different walks (other z, class)
    assert frame_changes(frames).max() < 0.2 * independent
    images, position = class_morph(gan, frames_per_class=4, num_columns=3)
    assert images.shape == (37, 3, 28, 28, 1) and position[4] == 1.0 and position[-1] == 9.0
    z = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(images[0], gan.generate(z, labels=[0, 0, 0]), atol=1e-5)
    np.testing.assert_allclose(images[-1], gan.generate(z, labels=[9, 9, 9]), atol=1e-5)
    # Each frame moves a fraction of the way from one class's image to the next class's.
    steps = frame_changes(images).reshape(9, 4)
    direct = frame_changes(images[::4])
    assert (steps.max(axis=1) < 0.5 * direct).all()
    with pytest.raises(ValueError, match="Expected classes in 0..9"):
        class_morph(gan, classes=[3, 10])


def test_interpolate_command(tmp_path, capsys):
    plain = untrained_run(tmp_path / "plain")
    assert main(["interpolate", str(plain.root), "--walks", "4", "--keys", "2", "--frames", "3", "--fps", "10"]) == 0
    walk = iio.imread(plain.root / "walk.gif", index=None)
    assert walk.shape[0] == 2 * 3 and walk.shape[2] == 2 * (2 * 30 + 2)  # 2x2 walks, frames scaled 2x
    for argv, message in [(["--morph"], "A class morph needs a conditional GAN"),
                          (["--out", str(tmp_path / "walk.png")], "--out must name a .gif or .mp4 file")]:
        with pytest.raises(SystemExit) as exit_info:
            main(["interpolate", str(plain.root), "--frames", "2", *argv])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err

    conditional = untrained_run(tmp_path / "conditional", conditional=True)
    assert main(["interpolate", str(conditional.root), "--morph", "--walks", "3", "--frames", "2"]) == 0
    assert len(iio.imread(conditional.root / "morph.gif", index=None)) == 9 * 2 + 1
