"""Pieces the model builders share: conv + norm + activation, the stem, and halving the map."""

import keras

from cookbook import layers

LARGE_INPUT = 64  # inputs at least this wide get the ImageNet-style stem that shrinks them early
# The papers trained in Torch, whose batch norm keeps 0.9 of its moving averages per step; Keras's
# 0.99 averages over ~100 steps, longer than a few epochs of a small dataset, so inference would
# use statistics still far from the data's.
BATCH_NORM_MOMENTUM = 0.9


def is_large(x):
    return min(x.shape[1:3]) >= LARGE_INPUT


def can_halve(x):
    return min(x.shape[1:3]) >= 2


def scaled(count, width):
    """A paper's filter or unit count times `width`, never below 1."""
    return max(1, round(count * width))


def conv_unit(x, filters, kernel_size, *, strides=1, batch_norm=True, activation="relu", name):
    """A convolution, then batch normalization (which makes its bias redundant), then the activation."""
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=not batch_norm, name=name)(
        x
    )
    if batch_norm:
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def max_pool(x, *, pool_size=3, name):
    """Halves the map with an overlapping max pool (AlexNet's and GoogLeNet's 3x3, stride 2);
    once the map is 1 cell wide there is nothing left to halve and the map passes through."""
    if not can_halve(x):
        return x
    return layers.MaxPooling2D(pool_size, strides=2, padding="same", name=name)(x)
