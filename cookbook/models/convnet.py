"""The lecture notes' "ConvNet": convolution + downsampling blocks, then fully connected layers."""

import keras

from cookbook import layers
from cookbook.models.blocks import BATCH_NORM_MOMENTUM
from cookbook.models.blocks import can_halve

DOWNSAMPLING = ("max", "average", "strided", None)


def small_convnet(
    input_shape,
    num_classes,
    *,
    filters=(16, 32),
    dense_units=64,
    activation="relu",
    downsampling="max",
    batch_norm=False,
    batch_norm_momentum=BATCH_NORM_MOMENTUM,
    dropout=0.0,
    name="small_convnet",
):
    """One block per entry of `filters`, a hidden dense layer, optional dropout, a softmax.

    A block is a 3x3 convolution (then batch normalization if `batch_norm`, then
    the activation) followed by halving the resolution with `downsampling`:
    `"max"` or `"average"` 2x2 pooling, `"strided"` (the convolution itself
    moves 2 cells at a time, the "all convolutional net"), or `None` (keep the
    resolution). Blocks stop downsampling once the map is 1x1, so 8x8 inputs
    work with any number of blocks. With `batch_norm`, the hidden dense layer's
    outputs are normalized too, so every layer gets normalized inputs (as in
    Ioffe & Szegedy); `batch_norm_momentum` is the moving averages' decay
    (0.9, as in the papers' Torch code: see `blocks.BATCH_NORM_MOMENTUM`).
    Pooling, batch normalization and dropout are the explicit layers of
    `cookbook.layers`.
    """
    if downsampling not in DOWNSAMPLING:
        raise ValueError(f"downsampling must be one of {DOWNSAMPLING}, got {downsampling!r}.")
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index, width in enumerate(filters, start=1):
        halvable = can_halve(x)
        stride = 2 if downsampling == "strided" and halvable else 1
        x = keras.layers.Conv2D(
            width, 3, strides=stride, padding="same", use_bias=not batch_norm, name=f"conv_{index}"
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"batch_norm_{index}")(x)
        x = keras.layers.Activation(activation, name=f"{activation}_{index}")(x)
        if downsampling in ("max", "average") and halvable:
            pool = layers.MaxPooling2D if downsampling == "max" else layers.AveragePooling2D
            x = pool(2, name=f"{downsampling}_pool_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, use_bias=not batch_norm, name="dense_1")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name="batch_norm_dense")(x)
    x = keras.layers.Activation(activation, name=f"{activation}_dense")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)
