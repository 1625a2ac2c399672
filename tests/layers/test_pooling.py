"""Max and average pooling against Keras's built-ins, and against the textbook."""

import itertools

import keras
import numpy as np
import pytest

from cookbook.layers import AveragePooling2D
from cookbook.layers import MaxPooling2D
from cookbook.layers.base_pooling import same_padding
from tests.backend import BACKEND
from tests.backend import forward_and_gradients
from tests.backend import sine

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
    y, (grad,) = forward_and_gradients(layer, x, sine)
    return y, grad


def reference_pool(x, kind, pool_size, strides, padding):
    """NumPy, channels last: "same" pads as TensorFlow does (the odd cell at the end), with
    cells that never win (max) or do not count (average: the mean of the real cells only)."""
    strides = strides or pool_size
    pads = [same_padding(n, p, s) if padding == "same" else (0, 0) for n, p, s in zip(x.shape[1:3], pool_size, strides)]
    padded = np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-np.inf if kind == "max" else np.nan)
    rows, cols = ((n - p) // s + 1 for n, p, s in zip(padded.shape[1:3], pool_size, strides))
    reduce = np.max if kind == "max" else np.nanmean
    return np.stack(
        [
            np.stack(
                [
                    reduce(
                        padded[
                            :,
                            i * strides[0] : i * strides[0] + pool_size[0],
                            j * strides[1] : j * strides[1] + pool_size[1],
                        ],
                        axis=(1, 2),
                    )
                    for j in range(cols)
                ],
                axis=1,
            )
            for i in range(rows)
        ],
        axis=1,
    )


def uneven_same_padding(size, pool_size, strides):
    strides = strides or pool_size
    return any(np.diff(same_padding(n, p, s))[0] != 0 for n, p, s in zip(size, pool_size, strides))


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("size, window, padding", GRID)
def test_matches_keras_and_numpy_forward_and_gradient(kind, size, window, padding):
    ours, theirs = PAIRS[kind]
    pool_size, strides = window
    x = np.random.default_rng(sum(size)).normal(size=(2, *size, 3)).astype("float32")
    layer = ours(pool_size, strides, padding)
    y, grad = forward_and_gradient(layer, x)
    assert y.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(
        y, reference_pool(x, kind, layer.pool_size, strides and layer.strides, padding), atol=1e-5
    )
    if (
        BACKEND == "torch"
        and kind == "average"
        and padding == "same"
        and uneven_same_padding(size, layer.pool_size, strides and layer.strides)
    ):
        # Keras's own AveragePooling2D on torch pads evenly and so averages the last row or
        # column over other cells (keras-team/keras#18452); ours follows TensorFlow and JAX,
        # and the NumPy reference above.
        return
    y_ref, grad_ref = forward_and_gradient(theirs(pool_size, strides, padding), x)
    assert y.shape == y_ref.shape
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
    ours = keras.ops.convert_to_numpy(AveragePooling2D(3, 2, "same")(x))
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
