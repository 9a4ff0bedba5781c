"""Layers that several families' networks share: the minibatch standard deviation.

Karras et al. 2018 (https://arxiv.org/abs/1710.10196), section 3: "We first compute the
standard deviation for each feature in each spatial location over the minibatch. We then
average these estimates over all features and spatial locations to arrive at a single value.
We replicate the value and concatenate it to all spatial locations and over the minibatch,
yielding one additional (constant) feature map." The authors' code
(``minibatch_stddev_layer`` in ``networks.py``) computes it over groups of ``G`` images
instead of the whole minibatch; ``group_size`` chooses between the two.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers

EPSILON = 1e-8  # under the square root, as in the paper's code


def minibatch_stddev(x: tf.Tensor, group_size: int | None = None, epsilon: float = EPSILON) -> tf.Tensor:
    """Append the minibatch standard deviation, averaged over features, as one extra, constant feature.

    Within each group of ``G`` examples: ``s = mean_f sqrt(Var_group[x_f] + epsilon)``, the
    standard deviation of every feature ``f`` (every channel at every position) over the group
    (population variance, divided by G), averaged to one scalar, which is appended to every
    example of the group as a constant feature on the last axis. A discriminator that sees ``s``
    can tell a batch of near-identical samples (a collapsed generator) from a real batch.

    Groups, as in the paper's code: ``G = min(group_size, batch)`` and example ``n`` belongs to
    group ``n mod (batch / G)``; ``group_size=None`` takes the whole minibatch as one group (the
    paper's text). ganlib's train step calls the discriminator separately on the real and the
    generated batch, so the two never share a group.

    Example:
        >>> minibatch_stddev(tf.constant([[0.0, 1.0], [2.0, 1.0]])).shape
        TensorShape([2, 3])

    Args:
        x: float ``[batch, ..., C]``, rank >= 2 (``[batch, C]`` features or ``[batch, H, W, C]`` maps).
        group_size: examples per group, >= 2, or None for the whole batch. The batch must be a
            multiple of ``min(group_size, batch)``.
        epsilon: added to the variance under the square root, >= 0.

    Returns:
        ``[batch, ..., C + 1]`` in ``x``'s dtype (computed in float32), the last feature holding the
        group's mean standard deviation.

    Raises:
        ValueError: ``group_size`` is not None or an integer >= 2; ``epsilon`` < 0; ``x`` has rank < 2;
            a static batch size not divisible by the group size.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 3.
    """
    if group_size is not None and (not isinstance(group_size, int) or isinstance(group_size, bool) or group_size < 2):
        raise ValueError(
            f"group_size must be an integer >= 2 or None (whole batch). Received: group_size={group_size!r}"
        )
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be >= 0. Received: epsilon={epsilon!r}")
    x = tf.convert_to_tensor(x)
    if x.shape.rank is None or x.shape.rank < 2:
        raise ValueError(f"Expected features of shape [batch, ..., C] (rank >= 2). Received: shape={x.shape}")
    batch, static_batch = tf.shape(x)[0], x.shape[0]
    if group_size is None:
        group = batch
    else:
        if static_batch is not None and static_batch % min(group_size, static_batch):
            raise ValueError(
                f"Expected a batch size divisible by the group size {min(group_size, static_batch)}. "
                f"Received: batch={static_batch}"
            )
        group = tf.minimum(group_size, batch)
    feature_shape = x.shape[1:].as_list()
    y = tf.reshape(tf.cast(x, tf.float32), [group, -1, *feature_shape])  # [G, M, ...], example n = g * M + m
    y = y - tf.reduce_mean(y, axis=0, keepdims=True)
    std = tf.sqrt(tf.reduce_mean(tf.square(y), axis=0) + epsilon)  # [M, ...]
    s = tf.reduce_mean(std, axis=list(range(1, len(feature_shape) + 1)))  # [M]
    # Example n = g * M + m gets its group's value s[m]: broadcast over g, then flatten [G, M] -> [batch].
    s = tf.reshape(tf.broadcast_to(s[None, :], [group, tf.shape(s)[0]]), [-1] + [1] * len(feature_shape))
    extra = tf.ones_like(x[..., :1]) * tf.cast(s, x.dtype)
    return tf.concat([x, extra], axis=-1)


@keras.saving.register_keras_serializable(package="ganlib")
class MinibatchStdDev(layers.Layer):
    """:func:`minibatch_stddev` as a Keras layer (no weights): ``[batch, ..., C]`` to ``[batch, ..., C + 1]``.

    Example:
        >>> MinibatchStdDev()(tf.constant([[0.0, 1.0], [2.0, 1.0]])).shape
        TensorShape([2, 3])

    Args:
        group_size: examples per group, >= 2, or None for the whole batch (the paper's text);
            the paper's code uses 4.
        epsilon: added to the variance under the square root, >= 0.

    Raises:
        ValueError: as :func:`minibatch_stddev`, when built or called.

    References:
        Karras et al. 2018, https://arxiv.org/abs/1710.10196, section 3.
    """

    def __init__(self, group_size: int | None = None, epsilon: float = EPSILON, **kwargs):
        super().__init__(**kwargs)
        if not epsilon >= 0:
            raise ValueError(f"epsilon must be >= 0. Received: epsilon={epsilon!r}")
        self.group_size, self.epsilon = group_size, float(epsilon)

    def call(self, x):
        return minibatch_stddev(x, self.group_size, self.epsilon)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] + 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


__all__ = ["EPSILON", "MinibatchStdDev", "minibatch_stddev"]
