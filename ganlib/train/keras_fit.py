"""Train a ganlib GAN with Keras's ``fit()``: a ``keras.Model`` whose ``train_step`` is ganlib's step.

keras-io's GAN examples subclass ``keras.Model`` and override ``train_step``, so
that ``model.fit(dataset, epochs=..., callbacks=[...])`` trains both networks and
every Keras callback works. :class:`GANModel` does the same around ganlib's own
state and step: one ``fit`` batch is one generator iteration of
:func:`ganlib.train.step.make_train_step` (``n_critic`` critic updates on its
``n_critic * batch_size`` real images, then one generator update), with the
networks, optimizers and noise generator of :func:`ganlib.train.state.build_gan`::

    model = build_gan_model(get_config("dcgan", epochs=5))
    model.compile()
    model.fit(fit_dataset(images, model.gan.config), epochs=5, callbacks=[
        keras.callbacks.TensorBoard("logs/fit"),
        keras.callbacks.BackupAndRestore("backup/fit"),
        keras.callbacks.TerminateOnNaN(),
        SampleGrid("samples/fit"),
    ])

``fit`` or ganlib's loop (:func:`ganlib.train.train`)? Both run the same step on
the same state. The loop writes a complete run directory (sample grids, GIF,
loss plots, history, TensorBoard, checkpoints), evaluates sample quality, and
resumes exactly: a resumed run is the uninterrupted run, data order and noise
included. ``fit`` plugs into the Keras ecosystem instead: any Keras callback, the
``History`` object, ``steps_per_execution`` and ``jit_compile`` from ``compile``.
``BackupAndRestore`` resumes a ``fit`` from its last completed epoch with the
networks, both optimizers and the noise generator restored, but a shuffled
``tf.data`` pipeline starts its order again in the new process, so a resumed
``fit`` sees other batches than an uninterrupted one would. Speed: see
``benchmarks/harness/bench_fit.py`` and the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ganlib.config import TrainConfig
from ganlib.data import check_images
from ganlib.train.distribute import config_for_strategy
from ganlib.train.state import GAN, build_gan

_NOISE_STATE = "noise_state"


class GANModel(keras.Model):
    """A ``keras.Model`` around a :class:`ganlib.train.state.GAN` whose ``train_step`` is ganlib's train step.

    Compile it without arguments (the losses and optimizers come from the GAN's
    config): ``model.compile()``; ``steps_per_execution``, ``jit_compile`` and
    ``run_eagerly`` are passed on to Keras. Keras's ``model.optimizer`` is the
    generator's optimizer, so ``model.optimizer.iterations`` counts generator
    iterations (the batches trained).

    Each ``fit`` batch is the step's ``real`` ``[n_critic * batch_size, 28, 28, 1]``
    in [-1, 1] (see :func:`fit_dataset`), or a dict of the step's keyword arguments
    (``{"real": ..., "labels": ...}`` for a family that trains on labels). The logs hold the epoch's
    running means of the step's statistics (``gan.stat_keys``: ``d_loss``, ``g_loss``, ``d_real``,
    ``d_fake``, ``real_score``, ``fake_score`` and each critic term, such as ``gradient_penalty``)
    and ``loss = d_loss + g_loss``,
    which exists so that Keras's callbacks that read ``loss``, such as
    ``TerminateOnNaN``, see a non-finite value as soon as either loss is one; it is
    not an objective to monitor for early stopping.

    The saved weights (``save_weights``, hence ``BackupAndRestore``) hold both
    networks, both optimizers and the state of the noise generator.

    Calling the model, ``model(z)``, runs the generator in inference mode.

    Args:
        gan: the state to train, from :func:`ganlib.train.state.build_gan`; create the
            model under the same strategy scope (as :func:`build_gan_model` does).
        jit_compile_step: compile ganlib's step itself with XLA (independent of
            ``compile(jit_compile=...)``, which compiles Keras's train function around it).

    Raises:
        ValueError: a GAN whose family only ganlib's loop can train (a progressive GAN,
            :meth:`ganlib.train.family.Family.check_fit`).
    """

    def __init__(self, gan: GAN, *, jit_compile_step: bool = False, **kwargs):
        gan.family.check_fit(gan)
        super().__init__(**kwargs)
        self.gan = gan
        self.generator = gan.generator
        self.discriminator = gan.discriminator
        self.g_optimizer = gan.g_optimizer
        self.d_optimizer = gan.d_optimizer
        self._step = gan.train_step(jit_compile=jit_compile_step)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in gan.stat_keys}
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True  # every variable exists: the networks and optimizers were built by build_gan

    def compile(self, *, steps_per_execution: int = 1, jit_compile: bool | str = "auto",
                run_eagerly: bool = False, **keras_arguments: Any) -> None:
        """Configure ``fit``; the losses and optimizers are the GAN config's.

        Args:
            steps_per_execution: batches per call of Keras's train function.
            jit_compile: Keras's XLA setting for its train function (``"auto"`` is off on a CPU).
            run_eagerly: run ``train_step`` eagerly (debugging).

        Raises:
            ValueError: an ``optimizer``, ``loss`` or other ``Model.compile`` argument: a GAN trains each
                network with its own optimizer and its own loss (one optimizer given to ``compile`` would be
                shared by both networks), set by the config (``g_lr``, ``d_lr``, ``discriminator_loss``, ...).
        """
        if keras_arguments:
            given = ", ".join(f"{k}={type(v).__name__}" if isinstance(v, keras.optimizers.Optimizer) else f"{k}={v!r}"
                              for k, v in keras_arguments.items())
            raise ValueError(
                "GANModel.compile takes no optimizer or loss: each network has its own optimizer and loss, made from "
                "the config (g_lr, d_lr, beta_1, discriminator_loss, generator_loss); change those with "
                "get_config(..., g_lr=...) before build_gan_model. Expected only steps_per_execution, jit_compile, "
                f"run_eagerly. Received: {given}")
        super().compile(optimizer=self.g_optimizer, steps_per_execution=steps_per_execution,
                        jit_compile=jit_compile, run_eagerly=run_eagerly)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        # Listed here so that Keras resets them at the start of every epoch.
        return [*self.trackers.values(), self.loss_tracker]

    def call(self, z, training: bool = False):
        return self.generator(z, training=training)

    def train_step(self, data) -> dict[str, tf.Tensor]:
        if isinstance(data, dict):
            stats = self._step(**data)
        else:
            stats = self._step(data[0] if isinstance(data, (tuple, list)) else data)
        for key, tracker in self.trackers.items():
            tracker.update_state(stats[key])
        self.loss_tracker.update_state(stats["d_loss"] + stats["g_loss"])
        return {m.name: m.result() for m in self.metrics}

    def save_own_variables(self, store) -> None:
        super().save_own_variables(store)
        store[_NOISE_STATE] = self.gan.noise.state.numpy()

    def load_own_variables(self, store) -> None:
        own = self._trainable_variables + self._non_trainable_variables
        for i, variable in enumerate(own):
            variable.assign(store[f"{i}"])
        if _NOISE_STATE in store.keys():
            self.gan.noise.state.assign(np.asarray(store[_NOISE_STATE]))


def build_gan_model(config: TrainConfig, *, strategy: tf.distribute.Strategy | None = None,
                    jit_compile_step: bool = False) -> GANModel:
    """Build a config's GAN (:func:`ganlib.train.state.build_gan`) wrapped in a :class:`GANModel`, under ``strategy``.

    Example:
        >>> from ganlib.config import get_config
        >>> config = get_config("dcgan", batch_size=16, latent_dim=8, g_filters=8, d_filters=8)
        >>> model = build_gan_model(config)
        >>> model.compile()
        >>> history = model.fit(fit_dataset(np.zeros([32, 28, 28, 1], np.float32), config), epochs=2, verbose=0)
        >>> int(model.optimizer.iterations.numpy())
        4

    Args:
        config: the run's settings; ``epochs`` is not used (pass ``epochs`` to ``fit``).
        strategy: a ``tf.distribute.Strategy``; ``config.batch_size`` is the global batch
            and must be a multiple of its replicas. None: the current strategy.
        jit_compile_step: see :class:`GANModel`.

    Raises:
        ValueError: a batch size not divisible by the number of replicas, or the errors
            of :func:`ganlib.train.state.build_gan`.
    """
    strategy = strategy if strategy is not None else tf.distribute.get_strategy()
    config = config_for_strategy(config, strategy)
    gan = build_gan(config, strategy=strategy)
    with strategy.scope():
        return GANModel(gan, jit_compile_step=jit_compile_step)


def fit_dataset(images: np.ndarray, config: TrainConfig, *, shuffle: bool = True) -> tf.data.Dataset:
    """The ``fit`` input for a config: batches of ``n_critic * batch_size`` real images, reshuffled every epoch.

    Args:
        images: float32 ``[N, 28, 28, 1]`` in [-1, 1], N >= ``n_critic * batch_size``.
        config: gives ``n_critic``, ``batch_size``, ``seed`` and ``train_size`` (the first
            ``train_size`` images are used when it is set).
        shuffle: shuffle the images, in a new order every epoch (seeded by ``config.seed``).

    Returns:
        A ``tf.data.Dataset`` of float32 ``[n_critic * batch_size, 28, 28, 1]`` batches (the last
        incomplete one dropped): ``N // (n_critic * batch_size)`` batches per epoch, as in the loop.

    Raises:
        ValueError: images of the wrong shape, dtype or range, or fewer than one batch.
    """
    images = check_images(images)
    if config.train_size is not None:
        images = images[: config.train_size]
    per_iteration = config.n_critic * config.batch_size
    if len(images) < per_iteration:
        raise ValueError(
            f"Expected at least n_critic * batch_size = {config.n_critic} * {config.batch_size} = {per_iteration} "
            f"images. Received: {len(images)} images"
        )
    ds = tf.data.Dataset.from_tensor_slices(images).cache()
    if shuffle:
        ds = ds.shuffle(len(images), seed=config.seed, reshuffle_each_iteration=True)
    return ds.batch(per_iteration, drop_remainder=True).prefetch(2)


class SampleGrid(keras.callbacks.Callback):
    """A Keras callback that saves the fixed-z sample grid after every epoch, and the training GIF at the end.

    The grid is ``model.gan.generate(model.gan.fixed_z)``: the same latent batch every
    epoch, so the GIF shows the generator learning (``epoch_0001.png``, ... and
    ``training.gif`` in ``out_dir``). With ``log_dir`` the grid is also logged to
    TensorBoard as ``samples`` at step ``epoch`` (1-based, the x-axis of Keras's
    ``TensorBoard`` epoch charts), for example ``log_dir="logs/fit/train"``.

    Args:
        out_dir: folder of the PNGs and the GIF.
        log_dir: optional TensorBoard folder for the grids.
        fps: frames per second of the GIF.
    """

    def __init__(self, out_dir: str | os.PathLike, *, log_dir: str | os.PathLike | None = None, fps: float = 2.0):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.fps = fps
        self._writer = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        from ganlib.viz import save_image_grid

        gan = self.model.gan
        path = save_image_grid(gan.generate(gan.fixed_z), self.out_dir / f"epoch_{epoch + 1:04d}.png",
                               title=f"{gan.config.preset} - epoch {epoch + 1}")
        if self.log_dir is not None:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.log_dir))
            with self._writer.as_default(step=epoch + 1):
                tf.summary.image("samples", tf.io.decode_png(path.read_bytes())[None])
            self._writer.flush()

    def on_train_end(self, logs=None) -> None:
        from ganlib.viz import make_gif

        frames = sorted(self.out_dir.glob("epoch_[0-9][0-9][0-9][0-9].png"))
        if frames:
            make_gif(frames, self.out_dir / "training.gif", fps=self.fps)
        if self._writer is not None:
            self._writer.close()
            self._writer = None


__all__ = ["GANModel", "SampleGrid", "build_gan_model", "fit_dataset"]
