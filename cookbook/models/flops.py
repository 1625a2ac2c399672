"""Counting a model's arithmetic: floating-point operations of one forward pass."""

import math

import keras


def count_flops(model):
    """FLOPs of one example's forward pass through the convolutions and dense layers.

    A multiply-add counts as 2 FLOPs, the usual convention (so a dense layer with
    `n` inputs and `m` outputs costs `2 n m`). Activations, pooling and
    normalization are left out: next to the matrix products they are small.
    """
    return sum(layer_flops(layer) for layer in leaf_layers(model))


def layer_flops(layer):
    """FLOPs of one example's forward pass through `layer` (a built one): its multiply-adds
    if it is a convolution or a dense layer, else 0 (see `count_flops`)."""
    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, in_channels, out_channels = layer.kernel.shape
        out_h, out_w = layer.output.shape[1:3] if layer.data_format == "channels_last" else layer.output.shape[2:4]
        return int(2 * out_h * out_w * out_channels * kernel_h * kernel_w * in_channels // layer.groups)
    if isinstance(layer, keras.layers.Dense):
        inputs, outputs = layer.kernel.shape
        positions = math.prod(layer.output.shape[1:-1])  # dense on a sequence or map
        return int(2 * inputs * outputs * positions)
    return 0


def leaf_layers(model):
    """`model`'s layers, those of the models nested in it listed in their place."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer
