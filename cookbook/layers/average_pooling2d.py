"""Average pooling: each window becomes its mean."""

import keras
import numpy as np
from keras import ops

from cookbook.layers.base_pooling import BasePooling2D
from cookbook.layers.base_pooling import same_padding


@keras.saving.register_keras_serializable(package="cookbook")
class AveragePooling2D(BasePooling2D):
    """The mean over each `pool_size` window, moved by `strides`.

        y[i, j] = sum over the window's input cells of x / number of those cells

    With `padding="same"` the windows at the border overhang the input; like
    Keras (and TensorFlow's `avg_pool`), the mean counts only the cells that lie
    inside the input, so a border value is not diluted by padding zeros. The
    textbook "pad with zeros and divide by the window size" differs at the
    border only (see the tests).

    Args:
        pool_size: int or (height, width). Defaults to (2, 2).
        strides: int or pair; defaults to `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" (default) or "channels_first".
    """

    def _pad_value(self):
        return 0.0

    def _combine(self, a, b):
        return ops.add(a, b)

    def _finish(self, total, inputs):
        return ops.divide(total, ops.cast(self._cells_per_window(inputs), total.dtype))

    def _cells_per_window(self, inputs):
        """How many real input cells each window covers, as a constant broadcastable array."""
        height_axis, width_axis = self._spatial_axes()
        counts = []
        for axis, pool, stride in zip((height_axis, width_axis), self.pool_size, self.strides):
            ones = np.ones(inputs.shape[axis], dtype="float32")
            if self.padding == "same":
                before, after = same_padding(inputs.shape[axis], pool, stride)
                ones = np.pad(ones, (before, after))
            positions = np.arange(0, len(ones) - pool + 1, stride)
            counts.append(np.array([ones[p : p + pool].sum() for p in positions]))
        cells = np.outer(counts[0], counts[1])
        shape = [1, 1, 1, 1]
        shape[height_axis], shape[width_axis] = cells.shape
        return cells.reshape(shape)
