"""ganlib: learn, teach and demonstrate GANs in TensorFlow/Keras.

Modules, one idea each: :mod:`ganlib.data` (MNIST-style data, tf.data pipelines),
:mod:`ganlib.models` (generator, discriminator, critic), :mod:`ganlib.losses`
(the GAN objective family), :mod:`ganlib.config` (run settings and presets),
:mod:`ganlib.train.step` (the tf.function train step), :mod:`ganlib.train.state` (networks,
optimizers and their checkpoint), :mod:`ganlib.train.loop` (the training loop),
:mod:`ganlib.train` (the public training entry: loop plus evaluation), :mod:`ganlib.train.runs` (run
directories), :mod:`ganlib.metrics` (sample quality: FCD, classifier score,
mode coverage), :mod:`ganlib.train.frames` (the training GIF's frame schedule),
:mod:`ganlib.conditional` (class-conditional sampling and class accuracy),
:mod:`ganlib.walks` (latent walks, slerp, class morphs), :mod:`ganlib.viz` (grids,
GIFs, MP4s, plots), :mod:`ganlib.cli` (``python -m ganlib``).
"""

__version__ = "0.2.0"
