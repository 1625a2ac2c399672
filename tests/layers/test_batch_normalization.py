"""Batch normalization against `keras.layers.BatchNormalization`, and the paper's variance."""

import keras
import numpy as np
import pytest

from cookbook.layers import BatchNormalization
from tests.backend import cosine
from tests.backend import forward_and_gradients

numpy = keras.ops.convert_to_numpy

CONFIGS = [
    # (input shape, keyword arguments)
    ((16, 5, 5, 3), {}),
    ((16, 5, 5, 3), {"axis": 1}),  # channels-first convolutions
    ((16, 7), {}),  # dense inputs
    ((16, 4, 6), {"axis": 1}),
    ((16, 5, 5, 3), {"momentum": 0.5, "epsilon": 1e-5}),
    ((16, 5, 5, 3), {"center": False}),
    ((16, 5, 5, 3), {"scale": False}),
    ((8, 3, 3, 4), {"gamma_initializer": "random_normal", "beta_initializer": "random_uniform"}),
]


def twin_layers(shape, kwargs):
    ours, theirs = BatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    ours.build(shape)
    theirs.build(shape)
    # Same starting values, including non-trivial moving statistics.
    rng = np.random.default_rng(1)
    for weight, reference in zip(ours.weights, theirs.weights, strict=True):
        assert weight.name == reference.name
        value = rng.uniform(0.5, 1.5, size=weight.shape).astype("float32")
        weight.assign(value)
        reference.assign(value)
    return ours, theirs


def step(layer, x, training, mask=None):
    return forward_and_gradients(layer, x, cosine, training=training, mask=mask)


@pytest.mark.parametrize("shape, kwargs", CONFIGS)
@pytest.mark.parametrize("training", [True, False])
def test_matches_keras_over_several_steps(shape, kwargs, training):
    ours, theirs = twin_layers(shape, kwargs)
    rng = np.random.default_rng(0)
    for _ in range(4):  # moving statistics accumulate over steps
        x = rng.normal(2.0, 3.0, size=shape).astype("float32")
        y, grads = step(ours, x, training)
        y_ref, grads_ref = step(theirs, x, training)
        np.testing.assert_allclose(y, y_ref, atol=1e-5, rtol=1e-5)
        for g, g_ref in zip(grads, grads_ref, strict=True):
            # gamma's and beta's gradients sum hundreds of terms, which round differently in
            # another order: hold them to 1e-5 of the tensor's own scale.
            scale = max(1.0, float(np.abs(g_ref).max()))
            np.testing.assert_allclose(g, g_ref, atol=1e-5 * scale, rtol=1e-5)
        np.testing.assert_allclose(ours.moving_mean.numpy(), theirs.moving_mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.moving_variance.numpy(), theirs.moving_variance.numpy(), rtol=1e-6)


@pytest.mark.parametrize("shape", [(6, 5, 3), (4, 3, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_a_mask_limits_the_statistics_to_the_kept_positions_as_in_keras(shape, training):
    ours, theirs = twin_layers(shape, {})
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=shape).astype("float32")
        mask = keras.ops.convert_to_tensor(rng.random(shape[:-1]) < 0.6)
        y, grads = step(ours, x, training, mask)
        y_ref, grads_ref = step(theirs, x, training, mask)
        np.testing.assert_allclose(y, y_ref, atol=1e-5, rtol=1e-5)
        for g, g_ref in zip(grads, grads_ref, strict=True):
            np.testing.assert_allclose(g, g_ref, atol=1e-5 * max(1.0, float(np.abs(g_ref).max())), rtol=1e-5)
        np.testing.assert_allclose(ours.moving_mean.numpy(), theirs.moving_mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.moving_variance.numpy(), theirs.moving_variance.numpy(), rtol=1e-6)


def test_a_padding_mask_flows_through_a_model_and_changes_the_statistics():
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]])  # 0 is padding
    embedding = keras.layers.Embedding(10, 4, mask_zero=True)
    embedding.build()
    embedding.embeddings.assign(np.concatenate([np.full((1, 4), 5.0), np.ones((9, 4))]).astype("float32"))
    layer = BatchNormalization(momentum=0.0)
    layer(embedding(tokens), training=True)
    # Every kept position embeds to ones: mean 1, variance 0; the padding (fives) is left out.
    np.testing.assert_allclose(layer.moving_mean.numpy(), np.ones(4), atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), np.zeros(4), atol=1e-6)


def test_training_normalizes_each_feature_over_the_batch():
    x = np.random.default_rng(0).normal(5.0, 4.0, size=(64, 3, 3, 2)).astype("float32")
    layer = BatchNormalization(epsilon=1e-6)
    y = numpy(layer(x, training=True))
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1, atol=1e-4)


def test_frozen_layer_uses_moving_statistics_even_in_training():
    shape = (16, 5, 5, 3)
    ours, theirs = twin_layers(shape, {})
    ours.trainable = theirs.trainable = False
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    before = ours.moving_mean.numpy()
    np.testing.assert_allclose(numpy(ours(x, training=True)), numpy(theirs(x, training=True)), atol=1e-5)
    np.testing.assert_allclose(numpy(ours(x, training=True)), numpy(ours(x, training=False)), atol=1e-6)
    np.testing.assert_array_equal(ours.moving_mean.numpy(), before)


def test_textbook_moving_variance_is_the_unbiased_estimate():
    x = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    keras_form = BatchNormalization(momentum=0.0)  # moving stats = the last batch's
    textbook = BatchNormalization(momentum=0.0, textbook=True)
    y_keras, y_textbook = keras_form(x, training=True), textbook(x, training=True)
    np.testing.assert_allclose(numpy(y_keras), numpy(y_textbook), atol=1e-6)  # training output is the same
    np.testing.assert_allclose(keras_form.moving_variance.numpy(), x.var(axis=0), rtol=1e-5)
    np.testing.assert_allclose(textbook.moving_variance.numpy(), x.var(axis=0, ddof=1), rtol=1e-5)


def test_mixed_precision_keeps_statistics_in_float32():
    layer = BatchNormalization(dtype="mixed_float16")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float16")
    y = layer(x, training=True)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    assert layer.moving_mean.dtype == "float32" and layer.gamma.dtype == "float32"
    reference = keras.layers.BatchNormalization(dtype="mixed_float16")
    np.testing.assert_allclose(
        numpy(y).astype("float32"), numpy(reference(x, training=True)).astype("float32"), atol=1e-2
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"epsilon": 0}, "epsilon"),
        ({"axis": (1, 2)}, "axis must be an integer"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchNormalization(**kwargs)


def test_axis_out_of_range_fails_at_build():
    with pytest.raises(ValueError, match="out of range"):
        BatchNormalization(axis=3).build((None, 4))
