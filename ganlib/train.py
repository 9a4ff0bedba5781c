"""The public entry point for training: the loop with sample-quality evaluation, and the pieces it is made of.

Each idea has its own module; this one puts them together and re-exports them,
so that ``from ganlib.train import train, make_train_step, build_gan, load_run``
keeps working:

* :mod:`ganlib.step`: the ``tf.function`` train step (:func:`make_train_step`) and
  its multi-step, multi-replica wrapper (:func:`make_train_function`);
* :mod:`ganlib.state`: the GAN's networks, optimizers and counters with their
  checkpoint (:class:`GAN`, :func:`build_gan`, :func:`load_run`);
* :mod:`ganlib.loop`: the training loop (:func:`ganlib.loop.train`), which knows
  nothing of evaluation;
* :mod:`ganlib.metrics`: sample quality, attached to the loop here as an
  ``on_epoch_end`` hook every ``config.eval_every`` epochs.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

from ganlib import loop
from ganlib.config import TrainConfig
from ganlib.data import check_images
from ganlib.loop import Callback, DivergenceError, EpochHook
from ganlib.state import GAN, build_gan, load_run
from ganlib.step import STEP_KEYS, make_train_function, make_train_step, xla_supported


def epoch_evaluator(
    *, every: int, num_samples: int, seed: int, data_dir: str | os.PathLike | None = None
) -> EpochHook:
    """An ``on_epoch_end`` hook that adds FCD, classifier score and classes covered to every ``every``-th epoch's row.

    The same ``z`` (drawn from ``numpy.random.default_rng(seed)``) is evaluated at
    every epoch, so epochs differ only by the generator. See :mod:`ganlib.metrics`.

    Args:
        every: evaluate after epochs ``every, 2 * every, ...``; >= 1.
        num_samples: generated images per evaluation, >= 2.
        seed: seed of the latent vectors.
        data_dir: offline data directory holding the test split (see :func:`ganlib.data.load_dataset`).

    Returns:
        ``hook(gan, row) -> dict | None``.

    Raises:
        ValueError: ``every`` < 1.
    """
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive integer. Received: every={every!r}")

    def hook(gan: GAN, row: dict[str, Any]) -> dict[str, float] | None:
        if int(row["epoch"]) % every:
            return None
        # Imported here: ganlib.metrics loads its classifier only for runs that evaluate.
        from ganlib.metrics import evaluate_images

        z = np.random.default_rng(seed).standard_normal((num_samples, gan.config.latent_dim)).astype(np.float32)
        m = evaluate_images(gan.generate(z), dataset=gan.config.dataset, data_dir=data_dir)
        return {"fcd": m["fcd"], "classifier_score": m["classifier_score"], "classes_covered": m["classes_covered"]}

    return hook


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    on_epoch_end: EpochHook | Iterable[EpochHook] | None = None,
    **options: Any,
) -> list[dict[str, float]]:
    """Train a GAN with :func:`ganlib.loop.train`, evaluating sample quality every ``config.eval_every`` epochs.

    Example:
        >>> from ganlib.config import get_config
        >>> history = train(get_config("dcgan", epochs=5), "runs/dcgan", data_dir="../shared/data")  # doctest: +SKIP

    Args:
        config: the run's settings (see :func:`ganlib.config.get_config`).
        out_dir: the run directory; running again on it resumes.
        data_dir: offline data directory, for the training images and the evaluation's test split.
        on_epoch_end: further hooks, run after the evaluation.
        **options: the other keyword arguments of :func:`ganlib.loop.train` (``images``,
            ``overwrite``, ``progress``, ``jit_compile``, ``steps_per_execution``, ``strategy``,
            ``gif_fps``, ``max_to_keep``, ``callbacks``).

    Returns:
        The history (see :func:`ganlib.loop.train`); every ``config.eval_every`` epochs its rows
        also hold ``fcd``, ``classifier_score`` and ``classes_covered`` of
        ``config.eval_samples`` generated images against the test split of ``config.dataset``.

    Raises:
        The errors of :func:`ganlib.loop.train`.
    """
    hooks: list[EpochHook] = []
    if config.eval_every:
        hooks.append(epoch_evaluator(every=config.eval_every, num_samples=config.eval_samples, seed=config.seed,
                                     data_dir=data_dir))
    if on_epoch_end is not None:
        hooks += [on_epoch_end] if callable(on_epoch_end) else list(on_epoch_end)
    return loop.train(config, out_dir, data_dir=data_dir, on_epoch_end=hooks, **options)


__all__ = ["GAN", "Callback", "STEP_KEYS", "DivergenceError", "build_gan", "check_images", "epoch_evaluator", "load_run",
           "make_train_function", "make_train_step", "train", "xla_supported"]
