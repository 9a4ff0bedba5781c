"""Image grids, training GIFs, MP4 videos, loss plots and nearest-neighbour pairs: the project's only matplotlib and imageio user.

Figures are drawn on matplotlib's object-oriented ``Figure`` (no pyplot state),
so the training loop can write one per epoch without leaking memory, and every
file is written atomically (to a temporary name, then renamed). The frames of a
training GIF (:func:`save_frame`) are drawn with Pillow instead: a labelled grid
takes about a millisecond, so a run can afford dozens of them.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ganlib.train.runs import atomic_write


def image_grid(images: np.ndarray, *, padding: int = 2, cols: int | None = None) -> np.ndarray:
    """Tile images ``[N, H, W, 1]`` in [-1, 1] into one grey image in [0, 1], row by row.

    Args:
        images: float ``[N, H, W]`` or ``[N, H, W, 1]``, values in [-1, 1] (clipped).
        padding: pixels of white between tiles.
        cols: tiles per row; None: ``ceil(sqrt(N))`` (a square grid). A conditional GAN's
            grid uses one row per class.

    Returns:
        float32 ``[rows*(H+p)+p, cols*(W+p)+p]``, ``rows = ceil(N / cols)``.

    Raises:
        ValueError: images not of rank 3 or rank 4 with one channel, N == 0, or ``cols`` < 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"Expected images of shape [N, H, W, 1] with N >= 1. Received: shape={list(np.shape(images))}")
    n, h, w = images.shape
    if cols is not None and (not isinstance(cols, (int, np.integer)) or cols < 1):
        raise ValueError(f"cols must be a positive integer or None. Received: cols={cols!r}")
    cols = math.ceil(math.sqrt(n)) if cols is None else int(cols)
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + padding) + padding, cols * (w + padding) + padding), np.float32)
    for i, img in enumerate(np.clip((images + 1.0) / 2.0, 0.0, 1.0)):
        r, c = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + c * (w + padding)
        grid[y : y + h, x : x + w] = img
    return grid


def save_image_grid(
    images: np.ndarray, path: str | os.PathLike, *, title: str | None = None, cols: int | None = None
) -> Path:
    """Save a grid of images ``[N, 28, 28, 1]`` in [-1, 1] as a PNG with an optional title.

    Every call with the same N gives a PNG of the same pixel size (4 x 4.4 inches
    at 100 dpi), so grids of successive epochs can be assembled into a GIF.

    Args:
        images: float ``[N, H, W, 1]`` in [-1, 1].
        path: the PNG to write; parent folders are created.
        title: text above the grid, for example ``"epoch 3"``.
        cols: tiles per row (see :func:`image_grid`); None for a square grid.

    Returns:
        The path written.

    Raises:
        ValueError: see :func:`image_grid`.
    """
    from matplotlib.figure import Figure

    grid = image_grid(images, cols=cols)
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


def labelled_grid(
    images: np.ndarray, *, label: str = "", cols: int | None = None, scale: int = 2, font_size: int = 15
) -> np.ndarray:
    """A grid of images with a line of text above it, as one uint8 grey image (a GIF frame).

    Args:
        images: float ``[N, 28, 28, 1]`` in [-1, 1].
        label: the text of the strip above the grid, for example ``"step 1,152 (epoch 1.23)"``;
            empty: no strip.
        cols: tiles per row (see :func:`image_grid`).
        scale: integer upscaling of the grid (nearest neighbour: pixels stay sharp), >= 1.
        font_size: text height in pixels.

    Returns:
        uint8 ``[strip + scale * grid_height, scale * grid_width]``, 0 = black, 255 = white.

    Raises:
        ValueError: bad images or ``cols`` (see :func:`image_grid`), ``scale`` < 1.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer. Received: scale={scale!r}")
    grid = np.round(image_grid(images, cols=cols) * 255.0).astype(np.uint8)
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    if not label:
        return grid
    strip = Image.new("L", (grid.shape[1], font_size + 10), 255)
    try:
        font = ImageFont.load_default(size=font_size)
    except (TypeError, OSError):  # Pillow without FreeType: its small bitmap font
        font = ImageFont.load_default()
    ImageDraw.Draw(strip).text((6, 4), label, fill=0, font=font)
    return np.concatenate([np.asarray(strip), grid], axis=0)


def save_frame(
    images: np.ndarray, path: str | os.PathLike, *, label: str = "", cols: int | None = None, scale: int = 2
) -> Path:
    """Save :func:`labelled_grid` as a greyscale PNG (one frame of a training GIF).

    Raises:
        ValueError: see :func:`labelled_grid`.
    """
    import imageio.v3 as iio

    frame = labelled_grid(images, label=label, cols=cols, scale=scale)
    return atomic_write(path, lambda tmp: iio.imwrite(tmp, frame, extension=".png"))


ANIMATION_FORMATS = (".gif", ".mp4")


def save_animation(
    frames: Sequence[str | os.PathLike | np.ndarray],
    path: str | os.PathLike,
    *,
    fps: float = 8.0,
    loop: int = 0,
    hold_last: float = 2.0,
    scale: float = 1.0,
    grey_levels: int | None = 32,
) -> Path:
    """Write frames (image files or uint8 arrays) as an animated GIF or, for a ``.mp4`` path, an H.264 video.

    A GIF compresses runs of equal pixels (LZW); a generator's grey tones have hundreds of
    distinct values and compress badly. Greyscale frames are therefore rounded to
    ``grey_levels`` evenly spaced tones (the default 32: docs/decisions/011-gif-grey-levels.md).

    Args:
        frames: PNG files or uint8 arrays ``[H, W]`` (grey) / ``[H, W, 3|4]`` of equal size, in display order.
        path: the file to write; its suffix chooses the format: ``.gif`` or ``.mp4``.
        fps: frames per second, > 0.
        loop: how many times a GIF plays; 0 loops forever (an MP4 plays once). The GIF's NETSCAPE2.0 block
            counts the repetitions after the first play, so ``loop = k > 1`` is written as ``k - 1`` and
            ``loop = 1`` (play once) as no block at all, which every browser plays once.
        hold_last: seconds the last frame stays on screen (at least one frame's time), so the end result is visible.
        scale: resize factor of every frame, > 0 (integers keep pixels sharp).
        grey_levels: tones of a greyscale GIF, 2..256 (None: 256); colour frames and MP4s are not rounded.

    Returns:
        The path written.

    Raises:
        ValueError: no frames, fps <= 0, loop < 0, hold_last < 0, scale <= 0, grey_levels outside
            2..256, frames of different sizes, or a suffix other than ``.gif`` / ``.mp4``.
        RuntimeError: an MP4 was asked for and the ``imageio-ffmpeg`` package is not installed.
    """
    import imageio.v3 as iio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        raise ValueError(f"Expected a .gif or .mp4 file name. Received: path={str(path)!r}")
    if not len(frames):
        raise ValueError("Expected at least one frame to build an animation. Received: 0 frames")
    if not fps > 0:
        raise ValueError(f"fps must be positive. Received: fps={fps}")
    if loop < 0:
        raise ValueError(f"loop must be >= 0 (0: forever). Received: loop={loop}")
    if not hold_last >= 0:
        raise ValueError(f"hold_last must be >= 0 seconds. Received: hold_last={hold_last}")
    if not scale > 0:
        raise ValueError(f"scale must be positive. Received: scale={scale}")
    if grey_levels is not None and not (isinstance(grey_levels, int) and 2 <= grey_levels <= 256):
        raise ValueError(f"grey_levels must be an integer in 2..256 or None. Received: grey_levels={grey_levels!r}")
    images = [_as_uint8(iio.imread(f) if isinstance(f, (str, os.PathLike)) else f) for f in frames]
    if any(im.ndim == 3 for im in images):  # colour somewhere: everything RGB
        images = [np.repeat(im[..., None], 3, axis=2) if im.ndim == 2 else im for im in images]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        names = [str(f) if isinstance(f, (str, os.PathLike)) else "array" for f in frames]
        raise ValueError(f"Expected frames of one size. Received sizes {sorted(shapes)} from {names[:10]}")
    if scale != 1:
        images = [_resize(im, scale) for im in images]
    if suffix == ".mp4":
        return _write_mp4(images, path, fps=fps, hold_last=hold_last)
    if grey_levels is not None and images[0].ndim == 2:
        step = 255.0 / (grey_levels - 1)
        images = [(np.round(im / step) * step).astype(np.uint8) for im in images]
    frame_ms = 1000.0 / fps
    durations: float | list[float] = [frame_ms] * (len(images) - 1) + [max(frame_ms, 1000.0 * hold_last)]
    if len(images) == 1:
        durations = durations[0]  # Pillow takes a list only for several frames
    repeats = {} if loop == 1 else {"loop": 0 if loop == 0 else loop - 1}
    return atomic_write(
        path, lambda tmp: iio.imwrite(tmp, np.stack(images), extension=".gif", duration=durations, **repeats)
    )


def make_gif(
    frames: Sequence[str | os.PathLike | np.ndarray], path: str | os.PathLike, *, fps: float = 2.0, loop: int = 0,
    hold_last: float = 2.0, scale: float = 1.0,
) -> Path:
    """Assemble frames (for example a run's training frames or one sample grid per epoch) into an animated GIF.

    :func:`save_animation` for a GIF; see it for the arguments.

    Raises:
        ValueError: no frames, fps <= 0, loop < 0, or frames of different sizes.
    """
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"Expected a .gif file name (save_animation also writes .mp4). Received: path={str(path)!r}")
    return save_animation(frames, path, fps=fps, loop=loop, hold_last=hold_last, scale=scale)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise ValueError(
            f"Expected frames of shape [H, W], [H, W, 3] or [H, W, 4]. Received: shape={list(image.shape)}"
        )
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and image.size and image.max() <= 1.0:
            image = np.round(np.clip(image, 0.0, 1.0) * 255.0)
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if float(scale).is_integer():
        k = int(scale)
        return np.repeat(np.repeat(image, k, axis=0), k, axis=1)
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def _write_mp4(images: list[np.ndarray], path: Path, *, fps: float, hold_last: float) -> Path:
    try:
        import imageio.v2 as iio2
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()  # the FFMPEG plugin's binary
    except ImportError as err:
        raise RuntimeError(
            f"Writing {path.name} needs the imageio-ffmpeg package (an ffmpeg binary for imageio): "
            "pip install imageio-ffmpeg, or write a .gif instead."
        ) from err
    # H.264 with yuv420p needs even sizes, and most players want multiples of 16: pad with white.
    h, w = images[0].shape[:2]
    ph, pw = -h % 16, -w % 16
    rgb = [np.pad(np.repeat(im[..., None], 3, axis=2) if im.ndim == 2 else im, ((0, ph), (0, pw), (0, 0)),
                  constant_values=255) for im in images]
    rgb += [rgb[-1]] * max(0, round(hold_last * fps) - 1)

    def write(tmp: str) -> None:
        named = f"{tmp}.mp4"  # the FFMPEG plugin picks the container from the file name
        try:
            with iio2.get_writer(named, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=8,
                                 pixelformat="yuv420p", macro_block_size=16) as writer:
                for frame in rgb:
                    writer.append_data(frame)
            os.replace(named, tmp)
        finally:
            Path(named).unlink(missing_ok=True)

    return atomic_write(path, write)


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
