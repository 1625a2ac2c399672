"""Dropout: the mask's statistics, its scaling, inference, and seeds."""

import keras
import numpy as np
import pytest

from cookbook.layers import Dropout
from tests.backend import forward_and_gradients
from tests.backend import ones


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.7])
def test_drops_about_rate_and_scales_the_rest(rate):
    x = np.ones((200, 500), "float32")
    y = np.asarray(Dropout(rate, seed=1)(x, training=True))
    dropped = np.mean(y == 0)
    # Binomial standard error over 100,000 units is below 0.002.
    assert abs(dropped - rate) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation


def test_identity_at_inference_and_at_rate_zero():
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    np.testing.assert_array_equal(Dropout(0.5)(x, training=False), x)
    np.testing.assert_array_equal(Dropout(0.5)(x), x)
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)


def test_a_seed_reproduces_the_sequence_and_successive_masks_differ():
    x = np.ones((8, 64), "float32")
    first, second = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    a1, a2 = np.asarray(first(x, training=True)), np.asarray(first(x, training=True))
    b1, b2 = np.asarray(second(x, training=True)), np.asarray(second(x, training=True))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)
    other = np.asarray(Dropout(0.5, seed=8)(x, training=True))
    assert not np.array_equal(a1, other)


def test_noise_shape_drops_whole_channels():
    x = np.ones((4, 5, 5, 16), "float32")
    y = np.asarray(Dropout(0.5, noise_shape=(None, 1, 1, None), seed=0)(x, training=True))
    per_channel = y.reshape(4, 25, 16)
    assert (per_channel.min(axis=1) == per_channel.max(axis=1)).all()  # all or nothing
    assert 0 < np.mean(per_channel[:, 0, :] == 0) < 1


def test_gradient_is_the_mask_times_the_scale():
    y, (grad,) = forward_and_gradients(Dropout(0.4, seed=3), np.ones((3, 50), "float32"), ones, training=True)
    np.testing.assert_allclose(grad, y, rtol=1e-6)  # x = 1, so y = mask / keep
    assert 0 < np.mean(y == 0) < 1


def test_keras_dropout_has_the_same_statistics():
    """Same contract as the built-in: the masks differ (separate random streams), not the law."""
    x = np.ones((200, 500), "float32")
    ours = np.asarray(Dropout(0.3, seed=1)(x, training=True))
    theirs = np.asarray(keras.layers.Dropout(0.3, seed=1)(x, training=True))
    assert abs(np.mean(ours == 0) - np.mean(theirs == 0)) < 0.01
    assert set(np.unique(ours)) == set(np.unique(theirs))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half", True])
def test_bad_rate_fails_at_construction(rate):
    with pytest.raises(ValueError, match="rate"):
        Dropout(rate)


def test_noise_shape_of_the_wrong_rank_is_refused():
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 1))(np.ones((2, 3, 4), "float32"), training=True)


def test_a_mask_passes_through_as_in_keras():
    x = np.ones((2, 5, 3), "float32")
    mask = np.array([[True, True, False, False, False], [True, False, False, False, False]])
    ours, theirs = Dropout(0.5), keras.layers.Dropout(0.5)
    np.testing.assert_array_equal(ours.compute_mask(x, mask), theirs.compute_mask(x, mask))
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 2, 0]]))
    assert ours(embedded, training=True)._keras_mask is not None
