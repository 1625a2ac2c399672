"""A GoogLeNet-style network of Inception modules: the notes' "sparse structure"."""

import keras

from cookbook import layers
from cookbook.models.blocks import conv_unit
from cookbook.models.blocks import is_large
from cookbook.models.blocks import max_pool
from cookbook.models.blocks import scaled

# GoogLeNet's table (Szegedy et al. 2015): 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection.
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
POOL_AFTER = ("3b", "4e")  # GoogLeNet halves the map between its stages 3, 4 and 5


def inception_module(x, filters, *, batch_norm=True, name):
    """Four parallel branches, concatenated along channels.

    `filters` = (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection): the
    1x1 "reduce" convolutions shrink the channels before the costly 3x3 and 5x5
    ones, which is what keeps the module's compute affordable.
    """
    one, three_reduce, three, five_reduce, five, pool_projection = filters

    def unit(y, count, kernel, branch):
        return conv_unit(y, count, kernel, batch_norm=batch_norm, name=f"{name}_{branch}")

    branches = [
        unit(x, one, 1, "1x1"),
        unit(unit(x, three_reduce, 1, "3x3_reduce"), three, 3, "3x3"),
        unit(unit(x, five_reduce, 1, "5x5_reduce"), five, 5, "5x5"),
        unit(
            layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x),
            pool_projection,
            1,
            "pool_projection",
        ),
    ]
    return keras.layers.Concatenate(name=f"{name}_concat")(branches)


def googlenet_style(input_shape, num_classes, *, modules=9, width=0.125, batch_norm=True, dropout=0.4, name=None):
    """The first `modules` Inception modules of GoogLeNet, their filters times `width`.

    Depth, counted as the paper counts it (weight layers on the longest path):
    each module adds 2, the classifier 1, and the stem 3 for inputs of 64 pixels
    or more (GoogLeNet's 7x7 stride-2 convolution, pool, 1x1, 3x3, pool) or 1 for
    smaller ones (a 3x3 convolution). So `modules=9` on a 224x224 input is the
    paper's 22-layer network (at `width=1`). Global average pooling replaces the
    big dense layers, as in the paper, then dropout and the softmax. With
    `batch_norm` every convolution is followed by batch normalization (as in
    BN-Inception), which GoogLeNet's auxiliary classifiers stood in for.
    """
    if not 1 <= modules <= len(GOOGLENET_MODULES):
        raise ValueError(f"modules must be between 1 and {len(GOOGLENET_MODULES)}, got {modules}.")
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    large = is_large(inputs)
    if large:
        x = conv_unit(x, scaled(64, width), 7, strides=2, batch_norm=batch_norm, name="stem_conv_7x7")
        x = max_pool(x, name="stem_pool_1")
        x = conv_unit(x, scaled(64, width), 1, batch_norm=batch_norm, name="stem_conv_1x1")
        x = conv_unit(x, scaled(192, width), 3, batch_norm=batch_norm, name="stem_conv_3x3")
        x = max_pool(x, name="stem_pool_2")
    else:
        x = conv_unit(x, scaled(192, width), 3, batch_norm=batch_norm, name="stem_conv_3x3")
    for module_name in list(GOOGLENET_MODULES)[:modules]:
        filters = [scaled(count, width) for count in GOOGLENET_MODULES[module_name]]
        x = inception_module(x, filters, batch_norm=batch_norm, name=f"inception_{module_name}")
        if module_name in POOL_AFTER:
            x = max_pool(x, name=f"pool_after_{module_name}")
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    stem_depth = 3 if large else 1
    return keras.Model(inputs, outputs, name=name or f"googlenet_style_{stem_depth + 2 * modules + 1}")
