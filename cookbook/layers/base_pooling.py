"""What max and average pooling share: arguments, output shapes, and the windows themselves."""

import functools
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
    how the cells of a window combine (`_combine`, pairwise) and finish (`_finish`).

    Non-overlapping windows (`strides == pool_size`, the common case) are cut
    out by a reshape: each window's rows and columns become axes of their own,
    which are unstacked and combined pairwise. Other windows are taken as
    `pool_height * pool_width` strided slices of the input, one per position
    in the window. Either way the backward pass stays a few cheap ops (a
    stack, or a scatter per slice), which is what keeps these layers fast.
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
            raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")
        self.data_format = data_format
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _spatial_axes(self):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _pad_value(self):
        raise NotImplementedError

    def _combine(self, a, b):
        """Combines two cells of a window (or two partial results)."""
        raise NotImplementedError

    def _finish(self, combined, inputs):
        return combined

    def _output_lengths(self, inputs):
        return [
            output_length(inputs.shape[axis], pool, stride, self.padding)
            for axis, pool, stride in zip(self._spatial_axes(), self.pool_size, self.strides)
        ]

    def _pad(self, inputs):
        pads = [[0, 0]] * 4
        for axis, pool, stride in zip(self._spatial_axes(), self.pool_size, self.strides):
            pads[axis] = list(same_padding(inputs.shape[axis], pool, stride))
        if not any(any(pad) for pad in pads):
            return inputs
        return ops.pad(inputs, pads, constant_values=self._pad_value())

    def call(self, inputs):
        padded = self._pad(inputs) if self.padding == "same" else inputs
        if self.strides == self.pool_size:
            combined = self._combine_blocks(padded, self._output_lengths(inputs))
        else:
            combined = functools.reduce(self._combine, self._windows(padded, self._output_lengths(inputs)))
        return self._finish(combined, inputs)

    def _combine_blocks(self, inputs, output_lengths):
        (out_h, out_w), (pool_h, pool_w) = output_lengths, self.pool_size
        height_axis, width_axis = self._spatial_axes()
        if (inputs.shape[height_axis], inputs.shape[width_axis]) != (out_h * pool_h, out_w * pool_w):
            index = [slice(None)] * 4  # "valid" drops the cells no whole window covers
            index[height_axis], index[width_axis] = slice(0, out_h * pool_h), slice(0, out_w * pool_w)
            inputs = inputs[tuple(index)]
        channels = inputs.shape[3] if self.data_format == "channels_last" else inputs.shape[1]
        if self.data_format == "channels_last":
            blocks = ops.reshape(inputs, (-1, out_h, pool_h, out_w, pool_w, channels))
            column_axis, row_axis = 4, 2
        else:
            blocks = ops.reshape(inputs, (-1, channels, out_h, pool_h, out_w, pool_w))
            column_axis, row_axis = 5, 3
        # Columns within each row first, then rows: ties resolve in row-major order, as in
        # TensorFlow's max pooling.
        rows = functools.reduce(self._combine, ops.unstack(blocks, axis=column_axis))
        return functools.reduce(self._combine, ops.unstack(rows, axis=row_axis))

    def _windows(self, inputs, output_lengths):
        height_axis, width_axis = self._spatial_axes()
        (out_h, out_w), (pool_h, pool_w) = output_lengths, self.pool_size
        stride_h, stride_w = self.strides
        for row in range(pool_h):  # row-major, so ties resolve as in TensorFlow's pooling
            for column in range(pool_w):
                index = [slice(None)] * 4
                index[height_axis] = slice(row, row + (out_h - 1) * stride_h + 1, stride_h)
                index[width_axis] = slice(column, column + (out_w - 1) * stride_w + 1, stride_w)
                yield inputs[tuple(index)]

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
