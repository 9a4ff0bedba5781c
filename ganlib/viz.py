"""Image grids, training GIFs, loss plots and nearest-neighbour pairs: the project's only matplotlib and imageio user.

Figures are drawn on matplotlib's object-oriented ``Figure`` (no pyplot state),
so the training loop can write one per epoch without leaking memory, and every
file is written atomically (to a temporary name, then renamed).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ganlib.runs import atomic_write


def image_grid(images: np.ndarray, *, padding: int = 2) -> np.ndarray:
    """Tile images ``[N, H, W, 1]`` in [-1, 1] into one grey image in [0, 1].

    Args:
        images: float ``[N, H, W]`` or ``[N, H, W, 1]``, values in [-1, 1] (clipped).
        padding: pixels of white between tiles.

    Returns:
        float32 ``[rows*(H+p)+p, cols*(W+p)+p]`` with ``cols = ceil(sqrt(N))``.

    Raises:
        ValueError: images not of rank 3 or rank 4 with one channel, or N == 0.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"Expected images of shape [N, H, W, 1] with N >= 1. Received: shape={list(np.shape(images))}")
    n, h, w = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + padding) + padding, cols * (w + padding) + padding), np.float32)
    for i, img in enumerate(np.clip((images + 1.0) / 2.0, 0.0, 1.0)):
        r, c = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + c * (w + padding)
        grid[y : y + h, x : x + w] = img
    return grid


def save_image_grid(images: np.ndarray, path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Save a square grid of images ``[N, 28, 28, 1]`` in [-1, 1] as a PNG with an optional title.

    Every call with the same N gives a PNG of the same pixel size (4 x 4.4 inches
    at 100 dpi), so grids of successive epochs can be assembled into a GIF.

    Args:
        images: float ``[N, H, W, 1]`` in [-1, 1].
        path: the PNG to write; parent folders are created.
        title: text above the grid, for example ``"epoch 3"``.

    Returns:
        The path written.

    Raises:
        ValueError: see :func:`image_grid`.
    """
    from matplotlib.figure import Figure

    grid = image_grid(images)
    fig = Figure(figsize=(4, 4.4), dpi=100)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.88))
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, y=0.97, fontsize=13)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def save_nearest_neighbours(
    samples: np.ndarray,
    neighbours: Mapping[str, np.ndarray],
    path: str | os.PathLike,
    *,
    captions: Mapping[str, Sequence[str]] | None = None,
    title: str | None = None,
) -> Path:
    """Save generated samples above their nearest training images, one column per sample, as a PNG.

    Args:
        samples: float ``[n, 28, 28, 1]`` in [-1, 1], n >= 1 (the top row).
        neighbours: row label -> images ``[n, 28, 28, 1]`` in [-1, 1] in the samples' order, for example
            ``{"nearest in pixels": ..., "nearest in features": ...}``.
        path: the PNG to write.
        captions: row label -> n short texts under the images (for example distances).
        title: text above the figure.

    Returns:
        The path written.

    Raises:
        ValueError: no samples, or a row whose number of images differs from the samples'.
    """
    from matplotlib.figure import Figure

    rows = {"generated": np.asarray(samples), **{k: np.asarray(v) for k, v in neighbours.items()}}
    n = len(rows["generated"])
    if n == 0 or any(len(v) != n for v in rows.values()):
        raise ValueError(f"Expected n >= 1 samples and n images in every row. "
                         f"Received: {', '.join(f'{k}: {len(v)}' for k, v in rows.items())}")
    fig = Figure(figsize=(1.1 * n + 1.6, 1.35 * len(rows) + (0.4 if title else 0.1)), dpi=100)
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(np.clip((images[c].reshape(images.shape[1], images.shape[2]) + 1) / 2, 0, 1),
                      cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if captions and label in captions:
                ax.set_xlabel(captions[label][c], fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def make_gif(
    frames: Sequence[str | os.PathLike], path: str | os.PathLike, *, fps: float = 2.0, loop: int = 0,
    hold_last: float = 2.0,
) -> Path:
    """Assemble PNG frames (for example one sample grid per epoch) into an animated GIF with imageio.

    Args:
        frames: PNG files of equal size, in display order.
        path: the GIF to write.
        fps: frames per second, > 0.
        loop: how many times the GIF plays; 0 loops forever.
        hold_last: seconds the last frame stays on screen (>= 1/fps), so the end result is visible.

    Returns:
        The path written.

    Raises:
        ValueError: no frames, fps <= 0, loop < 0, or frames of different sizes.
    """
    import imageio.v3 as iio

    if not frames:
        raise ValueError("Expected at least one frame to build a GIF. Received: 0 frames")
    if not fps > 0:
        raise ValueError(f"fps must be positive. Received: fps={fps}")
    if loop < 0:
        raise ValueError(f"loop must be >= 0 (0: forever). Received: loop={loop}")
    images = [iio.imread(f)[..., :3] for f in frames]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"Expected frames of one size. Received sizes {sorted(shapes)} from {list(map(str, frames))}")
    frame_ms = 1000.0 / fps
    durations: float | list[float] = [frame_ms] * (len(images) - 1) + [max(frame_ms, 1000.0 * hold_last)]
    if len(images) == 1:
        durations = durations[0]  # Pillow takes a list only for several frames
    return atomic_write(
        path, lambda tmp: iio.imwrite(tmp, np.stack(images), extension=".gif", duration=durations, loop=loop)
    )


def plot_losses(
    history: Sequence[Mapping[str, float]],
    path: str | os.PathLike,
    *,
    steps: Sequence[Mapping[str, float]] = (),
    title: str = "Training losses",
) -> Path:
    """Plot discriminator and generator losses against epochs to a PNG.

    Args:
        history: one mapping per epoch with keys ``epoch``, ``d_loss``, ``g_loss``
            (per-epoch means), in epoch order.
        path: the PNG to write.
        steps: optional per-step records with keys ``epoch`` (fractional), ``d_loss``,
            ``g_loss``; drawn faintly behind the epoch means.
        title: the plot's title.

    Returns:
        The path written.

    Raises:
        ValueError: ``history`` is empty.
    """
    from matplotlib.figure import Figure

    if not history:
        raise ValueError("Expected at least one epoch of history to plot. Received: 0 epochs")
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    for key, label, colour in (("d_loss", "discriminator", "tab:blue"), ("g_loss", "generator", "tab:orange")):
        if steps:
            ax.plot([s["epoch"] for s in steps], [s[key] for s in steps], color=colour, alpha=0.25, lw=0.8)
        ax.plot([h["epoch"] for h in history], [h[key] for h in history], "o-", color=colour, label=f"{label} (epoch mean)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
