"""What max and average pooling share: arguments, output shapes, and the windows themselves."""

import math

import keras
from keras import ops


def _pair(name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 1 for v in pair):
        raise ValueError(f"{name} must be a positive integer or a pair of them, got {value!r}.")
    return pair


def output_length(length, pool, stride, padding):
    """TensorFlow's rule: "valid" keeps whole windows only, "same" gives ceil(length / stride)."""
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return max((length - pool) // stride + 1, 0)


def same_padding(length, pool, stride):
    """(before, after) padding for "same"; TensorFlow puts the odd cell at the end."""
    total = max((output_length(length, pool, stride, "same") - 1) * stride + pool - length, 0)
    return total // 2, total - total // 2


class BasePooling2D(keras.layers.Layer):
    """Slides a `pool_size` window over height and width with `strides`; subclasses say
    how a window becomes one number (`_combine`).

    The windows are taken as `pool_height * pool_width` strided slices of the
    input, one per position inside the window, so each output cell combines the
    same cell of every slice. Slicing keeps the backward pass a plain
    scatter of the output gradient, which is what keeps these layers fast.
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _pair("strides", strides)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
        self.padding = padding
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}."
            )
        self.data_format = data_format
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _spatial_axes(self):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _pad_value(self):
        raise NotImplementedError

    def _combine(self, windows, inputs):
        """`windows`: the strided slices, one per position in the window."""
        raise NotImplementedError

    def _pad(self, inputs, value):
        height_axis, width_axis = self._spatial_axes()
        pads = [[0, 0]] * 4
        for axis, pool, stride in zip((height_axis, width_axis), self.pool_size, self.strides):
            pads[axis] = list(same_padding(inputs.shape[axis], pool, stride))
        if not any(any(p) for p in pads):
            return inputs
        return ops.pad(inputs, pads, constant_values=value)

    def _windows(self, inputs):
        height_axis, width_axis = self._spatial_axes()
        out_height, out_width = (
            output_length(inputs.shape[axis], pool, stride, self.padding)
            for axis, pool, stride in zip((height_axis, width_axis), self.pool_size, self.strides)
        )
        if self.padding == "same":
            inputs = self._pad(inputs, self._pad_value())
        (pool_h, pool_w), (stride_h, stride_w) = self.pool_size, self.strides
        windows = []
        for row in range(pool_h):  # Row-major, so ties resolve as in TensorFlow's pooling.
            for column in range(pool_w):
                index = [slice(None)] * 4
                index[height_axis] = slice(row, row + (out_height - 1) * stride_h + 1, stride_h)
                index[width_axis] = slice(column, column + (out_width - 1) * stride_w + 1, stride_w)
                windows.append(inputs[tuple(index)])
        return windows

    def call(self, inputs):
        return self._combine(self._windows(inputs), inputs)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, pool, stride in zip(self._spatial_axes(), self.pool_size, self.strides):
            shape[axis] = output_length(shape[axis], pool, stride, self.padding)
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }
