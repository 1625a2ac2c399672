"""An AlexNet-style network: a plain stack of convolutions and pooling, then big dense layers."""

import keras

from cookbook import layers
from cookbook.models.blocks import conv_unit
from cookbook.models.blocks import is_large
from cookbook.models.blocks import max_pool
from cookbook.models.blocks import scaled

ALEXNET_FILTERS = (96, 256, 384, 384, 256)
ALEXNET_DENSE_UNITS = 4096


def alexnet_style(input_shape, num_classes, *, width=0.25, dropout=0.5, name="alexnet_style"):
    """Five convolutions and three dense layers, 8 weight layers as in Krizhevsky et al. 2012.

    Filters and dense units are AlexNet's times `width` (0.25 by default, 1.0 for
    the paper's sizes). Overlapping 3x3 max pools with stride 2 follow the first,
    second and fifth convolutions, and dropout (`cookbook.layers.Dropout`) the
    two hidden dense layers. Inputs of 64 pixels or more start with AlexNet's
    11x11 stride-4 convolution; smaller ones with a 3x3 stride-1 one, so 8x8
    digits keep their detail. No batch normalization: AlexNet predates it.
    """
    filters = [scaled(count, width) for count in ALEXNET_FILTERS]
    dense_units = scaled(ALEXNET_DENSE_UNITS, width)
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    large = is_large(x)
    for index, count in enumerate(filters, start=1):
        kernel, strides = (11, 4) if index == 1 and large else (5 if index == 2 else 3, 1)
        x = conv_unit(x, count, kernel, strides=strides, batch_norm=False, name=f"conv_{index}")
        if index in (1, 2, 5):
            x = max_pool(x, name=f"max_pool_{index}")
    x = keras.layers.Flatten(name="flatten")(x)
    for index in (6, 7):
        x = keras.layers.Dense(dense_units, activation="relu", name=f"dense_{index}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)
