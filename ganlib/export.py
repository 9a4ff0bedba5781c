"""Export a trained generator for use without ganlib: a ``.keras`` file and a TensorFlow SavedModel.

``python -m ganlib export RUN_DIR --out generator.keras`` writes

* ``generator.keras``: the generator (architecture, weights, batch-norm statistics),
  loadable with ``keras.models.load_model`` by any program with Keras 3 and
  TensorFlow, without ganlib;
* ``generator_savedmodel/``: a SavedModel (Keras's ``ExportArchive``) whose
  ``serve`` function takes the same inputs, for TensorFlow Serving, TFLite
  conversion or ``tf.saved_model.load`` (keep the loaded object alive while
  calling ``serve``: its variables belong to it).

Both compute what ganlib's :meth:`ganlib.train.state.GAN.generate` computes (the
generator in inference mode), so the same ``z`` gives the same images::

    import keras, numpy as np
    generator = keras.models.load_model("generator.keras")
    z = np.random.default_rng(0).standard_normal((16, generator.inputs[0].shape[1])).astype("float32")
    images = generator.predict(z)  # [16, 28, 28, 1] in [-1, 1]; (images + 1) / 2 is in [0, 1]

This works because ganlib's generators are built from Keras's own layers only;
:func:`check_portable` refuses a model that holds a class Keras could not
rebuild without its defining code (a custom layer), instead of writing a file
that only loads where that code is importable.

Other generators export through the same function, :func:`export_generator`,
which takes any ``keras.Model``:

* a conditional generator (inputs ``[z, labels]``, as ganlib's conditional builder
  makes it) keeps both inputs: ``load_model(path)([z, labels])``, and the
  SavedModel's ``serve(z, labels)``;
* an averaged (EMA) generator is a copy of the generator with other weights: the
  run exports it by handing it to :func:`export_generator` in
  :func:`sampling_generator`, the one place that picks the network to export.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from ganlib.train.state import GAN, load_run


def sampling_generator(gan: GAN) -> keras.Model:
    """The network that ``export`` writes: the one ganlib samples from, as its family exports it.

    That is :attr:`ganlib.train.state.GAN.sampling_generator` (the averaged generator when the
    run keeps an EMA of the generator's weights, ``config.ema > 0``, so that exports carry the
    averaged weights; otherwise ``gan.generator``), passed through the family's
    :meth:`~ganlib.train.family.Family.portable_generator` (a progressive generator is rebuilt
    from Keras's own layers at its current stage and alpha).
    """
    return gan.family.portable_generator(gan, gan.sampling_generator)


def check_portable(model: keras.Model) -> None:
    """Check that a model's saved config names only Keras's own classes, so that it loads without ganlib.

    Raises:
        ValueError: the model holds a layer (or another object) defined outside Keras,
            which ``keras.models.load_model`` could only rebuild where its code is imported.
    """
    foreign: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "class_name" in node and "module" in node:
                module = node["module"]
                if not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
                    foreign.add(f"{node.get('registered_name') or node['class_name']} (module {module})")
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(keras.saving.serialize_keras_object(model))
    if foreign:
        raise ValueError(
            "Expected a model made of Keras's own layers, which loads without the code that built it. "
            f"Received: a model holding {', '.join(sorted(foreign))}"
        )


def export_generator(
    generator: keras.Model,
    path: str | os.PathLike,
    *,
    saved_model: str | os.PathLike | None = None,
) -> Path:
    """Save a generator as a ``.keras`` file, and optionally as a SavedModel for serving.

    Example:
        >>> from ganlib.models import build_generator
        >>> export_generator(build_generator(8, 8), "/tmp/g.keras").name  # doctest: +SKIP
        'g.keras'

    Args:
        generator: a ``keras.Model`` mapping ``z`` ``[N, latent_dim]`` (or ``[z, labels]``
            with labels int ``[N]`` for a conditional generator) to images ``[N, 28, 28, 1]``.
        path: the file to write; must end in ``.keras``. Parent folders are created.
        saved_model: a directory for the SavedModel, whose ``serve`` function takes
            one argument per model input (``serve(z)``, or ``serve(z, labels)`` for a
            conditional generator) and runs the model in inference mode; None writes none.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: ``path`` does not end in ``.keras``, or the generator holds a
            class defined outside Keras (see :func:`check_portable`).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"Expected a file name ending in .keras. Received: path={str(path)!r}")
    check_portable(generator)
    path.parent.mkdir(parents=True, exist_ok=True)
    generator.save(path)
    if saved_model is not None:
        _write_saved_model(generator, Path(saved_model))
    return path


def _write_saved_model(generator: keras.Model, path: Path) -> None:
    # One positional argument per model input, named after it (``serve(z)``, ``serve(z, label)``), rather than
    # the single list argument that ``model.export`` gives a model with several inputs.
    import tensorflow as tf

    specs = [tf.TensorSpec(x.shape, x.dtype, name=x.name) for x in generator.inputs]

    def serve(*inputs):
        return generator(list(inputs) if len(inputs) > 1 else inputs[0], training=False)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serve", serve, input_signature=specs)
    path.parent.mkdir(parents=True, exist_ok=True)
    archive.write_out(str(path), verbose=False)


def export_run(
    run: str | os.PathLike,
    path: str | os.PathLike | None = None,
    *,
    saved_model: str | os.PathLike | bool = True,
) -> dict[str, Any]:
    """Export the generator of a run's checkpoint (see :func:`export_generator`).

    Args:
        run: a run directory (its latest checkpoint) or a checkpoint prefix such as
            ``RUN_DIR/checkpoints/ckpt-3``.
        path: the ``.keras`` file; None: ``RUN_DIR/export/generator.keras``.
        saved_model: True: a SavedModel beside ``path``, named ``<stem>_savedmodel``;
            False: none; or its directory.

    Returns:
        A dict: ``path``, ``saved_model`` (or None), ``checkpoint`` (the prefix restored),
        ``epoch``, ``latent_dim`` and ``inputs`` (``"z"`` or ``"[z, labels]"``).

    Raises:
        The errors of :func:`ganlib.train.state.load_run` and :func:`export_generator`.
    """
    gan, run_dir = load_run(run)
    path = Path(path) if path is not None else run_dir.root / "export" / "generator.keras"
    if saved_model is True:
        saved_model = path.with_name(f"{path.stem}_savedmodel")
    elif saved_model is False:
        saved_model = None
    generator = sampling_generator(gan)
    export_generator(generator, path, saved_model=saved_model)
    return {
        "path": str(path),
        "saved_model": None if saved_model is None else str(saved_model),
        "checkpoint": gan.restored_from,
        "epoch": int(gan.epoch.numpy()),
        "latent_dim": gan.config.latent_dim,
        "inputs": "[z, labels]" if len(generator.inputs) > 1 else "z",
    }


__all__ = ["check_portable", "export_generator", "export_run", "sampling_generator"]
