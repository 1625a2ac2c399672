"""ResNet-style networks of residual blocks, and their "plain" twins without shortcuts."""

import keras
from keras import ops

from cookbook.models.blocks import can_halve
from cookbook.models.blocks import conv_unit
from cookbook.models.blocks import is_large
from cookbook.models.blocks import max_pool

SHORTCUTS = ("identity", "projection", None)


@keras.saving.register_keras_serializable(package="cookbook")
class ZeroPaddedIdentity(keras.layers.Layer):
    """The parameter-free shortcut of He et al.'s CIFAR nets (their "option A").

    Where a block halves the map and doubles the channels, the identity cannot
    be added as is: this takes every `strides`-th cell and pads the new
    channels with zeros, so the shortcut still carries no weights.
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides

    def call(self, inputs):
        x = inputs[:, :: self.strides, :: self.strides, :]
        missing = self.filters - x.shape[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, missing]])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        halve = lambda size: None if size is None else -(-size // self.strides)  # noqa: E731
        return (batch, halve(height), halve(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def residual_block(x, filters, *, strides=1, shortcut="identity", name):
    """Two 3x3 convolutions with batch normalization; the input is added back before the last ReLU.

    `shortcut`: `"identity"` adds the input itself (zero-padded where the shape
    changes, so no weights), `"projection"` uses a 1x1 convolution where the
    shape changes (He et al.'s "option B") and the identity elsewhere, `None`
    adds nothing: the plain block, with exactly the identity block's weights.
    """
    if shortcut not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of {SHORTCUTS}, got {shortcut!r}.")
    y = conv_unit(x, filters, 3, strides=strides, name=f"{name}_conv_1")
    y = conv_unit(y, filters, 3, activation=None, name=f"{name}_conv_2")
    if shortcut is not None:
        reshaped = strides != 1 or x.shape[-1] != filters
        if reshaped and shortcut == "projection":
            x = conv_unit(x, filters, 1, strides=strides, activation=None, name=f"{name}_projection")
        elif reshaped:
            x = ZeroPaddedIdentity(filters, strides, name=f"{name}_identity")(x)
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.Activation("relu", name=f"{name}_relu")(y)


def resnet_style(input_shape, num_classes, *, depth=20, width=16, shortcut="identity", name=None):
    """He et al.'s CIFAR design: `depth` = 6n + 2 weight layers (8, 14, 20, 32, 44, 56, 110...).

    A 3x3 stem convolution, three stages of n residual blocks with `width`,
    2 `width` and 4 `width` filters (the second and third halve the map),
    global average pooling and the softmax. `shortcut=None` gives the plain twin:
    the same layers and, with the default parameter-free identity shortcuts,
    the same number of parameters. Inputs of 64 pixels or more first shrink 4x
    through ImageNet ResNet's 7x7 stride-2 convolution and 3x3 max pool, which
    then count as the stem's one weight layer.
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56...), got {depth}.")
    blocks_per_stage = (depth - 2) // 6
    inputs = keras.Input(input_shape, name="image")
    if is_large(inputs):
        x = conv_unit(inputs, width, 7, strides=2, name="stem_conv_7x7")
        x = max_pool(x, name="stem_pool")
    else:
        x = conv_unit(inputs, width, 3, name="stem_conv_3x3")
    for stage in range(3):
        for block in range(blocks_per_stage):
            halve = stage > 0 and block == 0 and can_halve(x)
            x = residual_block(
                x,
                width * 2**stage,
                strides=2 if halve else 1,
                shortcut=shortcut,
                name=f"stage_{stage + 1}_block_{block + 1}",
            )
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    kind = "plain" if shortcut is None else "resnet"
    return keras.Model(inputs, outputs, name=name or f"{kind}_{depth}")
