"""Max pooling: each window becomes its largest value."""

import keras
from keras import ops

from cookbook.layers.base_pooling import BasePooling2D


@keras.saving.register_keras_serializable(package="cookbook")
class MaxPooling2D(BasePooling2D):
    """The maximum over each `pool_size` window, moved by `strides`.

        y[i, j] = max over (a, b) in the window of x[i * stride_h + a, j * stride_w + b]

    Halves height and width with the defaults (2x2 windows, stride 2), keeping the
    strongest response in each neighbourhood. With `padding="same"` the input is
    padded with -infinity, so padding never wins. The gradient flows to the
    first maximum of each window, as in Keras's `MaxPooling2D`, on every backend.

    Args:
        pool_size: int or (height, width). Defaults to (2, 2).
        strides: int or pair; defaults to `pool_size`.
        padding: "valid" (whole windows only) or "same" (output size ceil(input / stride)).
        data_format: "channels_last" (default) or "channels_first".
    """

    def _pad_value(self):
        return float("-inf")

    def _combine(self, a, b):
        # Not `ops.maximum`: on JAX and torch its gradient splits a tie between both cells (a
        # ReLU's zeros tie whole windows). `where` sends it to the first, on every backend,
        # and keeps a NaN from either side as `maximum` does.
        return ops.where((a >= b) | ops.isnan(a), a, b)
