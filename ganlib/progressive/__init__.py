"""Progressive growing of GANs (PGGAN) for 28x28 images: its layers, networks, schedule, family and export.

Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation", https://arxiv.org/abs/1710.10196. Training starts with a generator and a
discriminator at a low resolution and adds a block to both at each step up (section 2);
each new block is faded in while ``alpha`` rises linearly from 0 to 1 and is then trained
at ``alpha = 1`` (stabilisation). The paper's other ingredients each have a small named
piece here:

==========================  ====================================================  ==============
ingredient                  piece                                                 paper
==========================  ====================================================  ==============
fade-in of a new block      :func:`fade_in`                                       section 2, fig. 2
pixelwise feature norm      :func:`pixel_norm`, :class:`PixelNorm`                section 4.2
minibatch standard dev.     :func:`minibatch_stddev`, :class:`MinibatchStdDev`    section 3
equalized learning rate     :class:`EqualizedDense`, :class:`EqualizedConv2D`     section 4.1
resampling                  :func:`upsample` (nearest), :func:`downsample` (mean) section 2, fig. 2
toRGB / fromRGB             1x1 :class:`EqualizedConv2D` per resolution           section 2, fig. 2
real images at resolution   :func:`prepare_reals`                                 fig. 2 caption
drift term                  :func:`ganlib.losses.drift_penalty`                   appendix A.1
schedule                    :class:`GrowthSchedule`, :class:`Growth`              appendix A.1
==========================  ====================================================  ==============

Resolutions: 7 -> 14 -> 28, not 4 -> 8 -> 16 -> 32. MNIST images are 28x28 = 7 * 2^2, so
three stages reach the native size exactly by doubling: no padding, whose border pixels a
32x32 generator would have to learn to keep at -1 and which would have to be cropped
before the 28x28 classifier of :mod:`ganlib.metrics` sees them; 22% fewer pixels at the top
stage (784 against 1,024); and one phase pair fewer in the schedule. The paper's 4x4 first
block (a dense layer to 4x4 maps, a 3x3 convolution) becomes the same at 7x7. 7 is odd,
which costs nothing: nearest-neighbour doubling and 2x2 average pooling map 7 <-> 14 <-> 28
exactly.

Networks (appendix A.1, table 2, at MNIST size; ``f = filters``):

* generator: ``z`` -> pixel norm -> dense to 7x7x4f -> LReLU -> PN -> conv3x3 4f -> LReLU -> PN
  [7x7]; each further block: upsample x2 -> conv3x3 -> LReLU -> PN -> conv3x3 -> LReLU -> PN with
  2f maps at 14x14 and f at 28x28; toRGB is a linear 1x1 convolution. No tanh: the output is
  linear as in the paper, and clipped to [-1, 1] only in inference mode (``training=False``),
  as the paper's code does when it turns samples into images.
* discriminator: fromRGB (1x1 conv, LReLU) at the input resolution; each block: conv3x3 ->
  LReLU -> conv3x3 (to the next lower resolution's width) -> LReLU -> average pool x2; last
  block at 7x7: minibatch stddev -> conv3x3 -> LReLU -> dense 4f -> LReLU -> dense 1 (linear).
  No normalization layers (it is trained as a WGAN-GP critic).

Every layer uses the equalized learning rate and leaky ReLU with slope 0.2; biases start at 0.

Design: like the paper's code, both networks always work at 28x28. The generator's image at
its current resolution is upsampled (nearest neighbour) to 28x28, :func:`prepare_reals`
gives real images the same form, and the discriminator reads its current resolution back
from its 28x28 input, which undoes that upsampling exactly. So ``G(z) -> [batch, 28, 28, 1]``
and ``D(x) -> [batch, 1]`` at every stage, and an ordinary train step, gradient penalty,
sample grid, GIF or metric works unchanged. The stage
and ``alpha`` are non-trainable ``tf.Variable`` s in one :class:`Growth` object shared by both
networks; the checkpoint of :class:`Growth` resumes a run in the middle of a fade-in exactly.
All layers of all resolutions exist from the start, so each optimizer is built once on all
trainable variables (Keras 3.15 refuses variables an optimizer was not built with). The
variables of blocks not in use get no gradient (None), which Keras's optimizer skips with a
"Gradients do not exist" warning once per trace. (``tape.gradient(...,
unconnected_gradients=ZERO)`` fails on Keras 3 variables with TF 2.21; zeros filled in by
hand would do, and Adam with ``beta_1 = 0`` turns a zero gradient into a zero step.)

The gradient penalty is taken on the 28x28 images the networks see, as in the paper's code,
and by default it measures the gradient norm at the stage's own resolution: the
discriminator reads its ``r x r`` image as every k-th pixel of the 28x28 input (k = 28 / r).
Every image it sees in training is constant on ``k x k`` blocks (generated, prepared real,
and their interpolations), where this equals the paper's average pooling, so scores and the
generator's gradients are the same; only the gradient with respect to the 28x28 input
differs. Average pooling spreads it over the k x k pixels of a block, which divides its norm
by k: the paper's code (``input_downsampling="average"``) asks for norm 4 at 7x7 and 2 at
14x14. With average pooling the 7x7 critic never met its penalty and the generator collapsed,
so subsampling is the default (docs/decisions/007-pggan-critic-input.md).

``alpha`` is read at run time, so one traced train step serves a whole stage, fade-in and
stabilisation. The stage is read when a function is traced (a Python int: only that stage's
layers enter the graph), so a train step must be traced again when the stage changes; a step
traced at another stage fails with ``InvalidArgumentError`` instead of training the wrong
network. Selecting the stage at run time instead (``tf.switch_case`` on the variable) was rejected: the gradient
penalty differentiates through the switch twice, which made tracing and every step much slower
(docs/decisions/007-pggan-critic-input.md).

Departures from the paper, each small: resolutions 7 -> 14 -> 28 with widths 4f, 2f, f (the
paper: 512 maps up to 32x32); the first dense layer's gain is sqrt(2)/7, the rule of the
paper's code (sqrt(2)/4 = the He constant of the 4x4 convolution it stands for) at 7x7;
alpha follows every step (the paper's code updates it every 4 minibatches); the gradient
penalty's norm measured at the stage's resolution (above); no generator weight averaging by
default (the paper samples from an exponential moving average, decay 0.999; the ``pggan`` preset
offers it with ``ema=0.999``, off by default: docs/decisions/009-pggan-preset.md).

Modules: :mod:`~ganlib.progressive.paper` (the paper's settings, importable without
TensorFlow), :mod:`~ganlib.progressive.layers`, :mod:`~ganlib.progressive.schedule`
(:class:`GrowthSchedule`, :class:`Growth`), :mod:`~ganlib.progressive.networks`,
:mod:`~ganlib.progressive.family` (training it with ganlib's loop: the ``pggan`` preset,
resuming, the CLI) and :mod:`~ganlib.progressive.export` (the generator as Keras's own layers).
Every public name is importable from the package (``from ganlib import progressive as P;
P.Growth``), each module loaded on first use.
"""
from __future__ import annotations

from ganlib._lazy import lazy_exports

_EXPORTS = {
    "ADAM": "paper", "DRIFT_WEIGHT": "paper", "FULL_RESOLUTION": "paper", "GP_WEIGHT": "paper", "INPUT_DOWNSAMPLING": "paper", "LEAKY_SLOPE": "paper", "MBSTD_EPSILON": "paper", "MBSTD_GROUP_SIZE": "paper", "NUM_STAGES": "paper", "N_CRITIC": "paper", "PIXEL_NORM_EPSILON": "paper", "RESOLUTIONS": "paper",
    "EqualizedConv2D": "layers", "EqualizedDense": "layers", "MinibatchStdDev": "ganlib.layers", "PixelNorm": "layers", "downsample": "layers", "fade_in": "layers", "he_constant": "layers", "minibatch_stddev": "ganlib.layers", "pixel_norm": "layers", "prepare_reals": "layers", "to_full_resolution": "layers", "to_resolution": "layers", "upsample": "layers",
    "Growth": "schedule", "GrowthSchedule": "schedule", "Phase": "schedule", "Progress": "schedule", "make_optimizer": "schedule", "reset_optimizer_state": "schedule",
    "ProgressiveDiscriminator": "networks", "ProgressiveGenerator": "networks", "build_progressive_discriminator": "networks", "build_progressive_generator": "networks",
    "GrowthLog": "family", "ProgressiveEpochs": "family", "ProgressiveFamily": "family", "Segment": "family", "describe_plan": "family", "phase_label": "family", "plan_steps": "family", "stream_indices": "family",
    "portable_generator": "export",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
