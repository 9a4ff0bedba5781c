"""ganlib: learn, teach and demonstrate GANs in TensorFlow/Keras.

Flat modules, one idea each: :mod:`ganlib.data` (MNIST-style data, tf.data pipelines, the
seeded latent batch), :mod:`ganlib.models` (generator, discriminator, critic),
:mod:`ganlib.layers` (layers shared by several families), :mod:`ganlib.losses` (the GAN
objective family), :mod:`ganlib.penalties` (critic terms: gradient penalty, drift),
:mod:`ganlib.config` (run settings and presets), :mod:`ganlib.checks` and
:mod:`ganlib.errors` (boundary checks and exception types, without TensorFlow),
:mod:`ganlib.conditional` (the conditional family, class-conditional sampling),
:mod:`ganlib.ring` (the 8-Gaussian ring), :mod:`ganlib.walks` (latent walks, slerp, class
morphs), :mod:`ganlib.viz` (grids, GIFs, MP4s, plots), :mod:`ganlib.export` (a portable
generator), :mod:`ganlib.cli` (``python -m ganlib``).

Four packages: :mod:`ganlib.train` (the training engine: step, state, family seam, EMA,
loop, callbacks, frames, TensorBoard, run directories, tf.distribute, Keras ``fit()``, and
``train``), :mod:`ganlib.metrics` (sample quality, one module per metric family) and
:mod:`ganlib.progressive` (progressive growing: layers, networks, schedule, its family, its
export) and :mod:`ganlib.doctor` (what is wrong with a training run: evidence, rules, report).
"""


__version__ = "0.2.0"
