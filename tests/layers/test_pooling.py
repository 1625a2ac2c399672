"""Max and average pooling against Keras's built-ins, and against the textbook."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook.layers import AveragePooling2D
from cookbook.layers import MaxPooling2D

PAIRS = {
    "max": (MaxPooling2D, keras.layers.MaxPooling2D),
    "average": (AveragePooling2D, keras.layers.AveragePooling2D),
}
GRID = list(
    itertools.product(
        [(8, 8), (7, 9), (5, 6)],  # input height, width: even, odd, mixed
        [((2, 2), None), ((3, 3), (2, 2)), ((2, 3), (1, 2)), ((3, 2), (2, 1)), ((1, 1), None), ((4, 4), (3, 3))],
        ["valid", "same"],
    )
)


def forward_and_gradient(layer, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        # A non-uniform upstream gradient, so that any misrouted gradient shows.
        upstream = tf.reshape(tf.sin(tf.range(tf.size(y), dtype=y.dtype) * 0.37 + 1.0), tf.shape(y))
        loss = tf.reduce_sum(y * upstream)
    return y.numpy(), tape.gradient(loss, x).numpy()


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("size, window, padding", GRID)
def test_matches_keras_forward_and_gradient(kind, size, window, padding):
    ours, theirs = PAIRS[kind]
    pool_size, strides = window
    x = np.random.default_rng(sum(size)).normal(size=(2, *size, 3)).astype("float32")
    layer = ours(pool_size, strides, padding)
    y, grad = forward_and_gradient(layer, x)
    y_ref, grad_ref = forward_and_gradient(theirs(pool_size, strides, padding), x)
    assert y.shape == y_ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, y_ref, atol=1e-5)
    np.testing.assert_allclose(grad, grad_ref, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_channels_first_matches_channels_last(kind, padding):
    ours, _ = PAIRS[kind]
    x = np.random.default_rng(0).normal(size=(2, 7, 9, 4)).astype("float32")
    last = ours(3, 2, padding, data_format="channels_last")(x)
    first = ours(3, 2, padding, data_format="channels_first")(np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last, atol=1e-6)


def test_max_pooling_gradient_goes_to_the_first_of_tied_maxima():
    """After a ReLU whole windows are 0: Keras and we give the gradient to one cell."""
    x = np.zeros((1, 4, 4, 1), "float32")
    _, grad = forward_and_gradient(MaxPooling2D(2), x)
    _, grad_ref = forward_and_gradient(keras.layers.MaxPooling2D(2), x)
    np.testing.assert_array_equal(grad, grad_ref)
    assert np.count_nonzero(grad) == 4


def textbook_average(x, pool, stride):
    """Zero padding ("same"), then every window divided by its full size."""
    size = x.shape[1]
    out = -(-size // stride)
    total = max((out - 1) * stride + pool - size, 0)
    padded = np.pad(x, ((0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2), (0, 0)))
    return np.array(
        [
            [
                padded[:, i * stride : i * stride + pool, j * stride : j * stride + pool].mean(axis=(1, 2))
                for j in range(out)
            ]
            for i in range(out)
        ]
    ).transpose(2, 0, 1, 3)


def test_same_average_pooling_excludes_padding_unlike_the_textbook():
    x = np.random.default_rng(0).uniform(1, 2, size=(1, 7, 7, 2)).astype("float32")
    ours = AveragePooling2D(3, 2, "same")(x).numpy()
    textbook = textbook_average(x, 3, 2)
    # 7 cells, windows of 3 every 2: one padding cell on each side. Interior windows agree;
    # border windows overhang by a zero row or column, which the textbook counts and Keras
    # does not, so the textbook mean there is smaller.
    np.testing.assert_allclose(ours[:, 1:-1, 1:-1], textbook[:, 1:-1, 1:-1], rtol=1e-6)
    for border in (0, -1):
        assert (textbook[:, border, :] < ours[:, border, :] - 0.1).all()
        assert (textbook[:, :, border] < ours[:, :, border] - 0.1).all()


def test_default_strides_equal_the_pool_and_halve_the_image():
    layer = MaxPooling2D()
    assert layer.strides == (2, 2)
    assert layer.compute_output_shape((None, 224, 224, 3)) == (None, 112, 112, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pool_size": 0}, "pool_size"),
        ({"pool_size": (2, 2, 2)}, "pool_size"),
        ({"strides": -1}, "strides"),
        ({"padding": "full"}, "padding must be 'valid' or 'same'"),
        ({"data_format": "channels_middle"}, "data_format"),
    ],
)
@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_bad_arguments_fail_at_construction(kind, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PAIRS[kind][0](**kwargs)
