"""Every optimizer and option against its Keras built-in: same model, data and steps."""

import keras
import numpy as np
import pytest

from cookbook import optimizers
from tests.backend import differs_from_keras_by

STEPS = 120


def relative_error(actual, expected):
    return np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-12)


def train(optimizer, steps=STEPS, jit_compile=False, model_fn=None):
    """Trains a fixed small CNN on fixed data, one batch per step, and returns its weights."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.normal(size=(steps * 8, 6, 6, 2)).astype("float32")
    labels = rng.integers(0, 3, size=steps * 8)
    model = (model_fn or small_cnn)()
    model.compile(optimizer, "sparse_categorical_crossentropy", jit_compile=jit_compile)
    model.fit(images, labels, batch_size=8, epochs=1, shuffle=False, verbose=0)
    if not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        assert int(model.optimizer.iterations.numpy()) == steps  # float16 may skip overflows
    return [w.numpy() for w in model.weights]


def small_cnn():
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(4, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def assert_same_training(ours, theirs, allowed=None, **kwargs):
    allowed = allowed or differs_from_keras_by(1e-6, torch=2e-5)
    for actual, expected in zip(train(ours, **kwargs), train(theirs, **kwargs), strict=True):
        assert relative_error(actual, expected) < allowed


CASES = {
    "gradient_descent": (lambda: optimizers.GradientDescent(0.05), lambda: keras.optimizers.SGD(0.05)),
    "momentum": (
        lambda: optimizers.Momentum(0.02, momentum=0.9),
        lambda: keras.optimizers.SGD(0.02, momentum=0.9),
    ),
    "momentum_nesterov": (
        lambda: optimizers.Momentum(0.02, momentum=0.8, nesterov=True),
        lambda: keras.optimizers.SGD(0.02, momentum=0.8, nesterov=True),
    ),
    "adagrad": (lambda: optimizers.AdaGrad(0.05), lambda: keras.optimizers.Adagrad(0.05)),
    "adagrad_options": (
        lambda: optimizers.AdaGrad(0.05, initial_accumulator_value=0.5, epsilon=1e-3),
        lambda: keras.optimizers.Adagrad(0.05, initial_accumulator_value=0.5, epsilon=1e-3),
    ),
    "rmsprop": (lambda: optimizers.RMSProp(0.003), lambda: keras.optimizers.RMSprop(0.003)),
    "rmsprop_rho": (
        lambda: optimizers.RMSProp(0.003, rho=0.8, epsilon=1e-4),
        lambda: keras.optimizers.RMSprop(0.003, rho=0.8, epsilon=1e-4),
    ),
    "rmsprop_centered": (
        lambda: optimizers.RMSProp(0.003, centered=True),
        lambda: keras.optimizers.RMSprop(0.003, centered=True),
    ),
    "rmsprop_momentum": (
        lambda: optimizers.RMSProp(0.001, momentum=0.5),
        lambda: keras.optimizers.RMSprop(0.001, momentum=0.5),
    ),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSProp(0.001, momentum=0.5, centered=True),
        lambda: keras.optimizers.RMSprop(0.001, momentum=0.5, centered=True),
    ),
    "adam": (lambda: optimizers.Adam(0.003), lambda: keras.optimizers.Adam(0.003)),
    "adam_betas": (
        lambda: optimizers.Adam(0.003, beta_1=0.5, beta_2=0.9, epsilon=1e-5),
        lambda: keras.optimizers.Adam(0.003, beta_1=0.5, beta_2=0.9, epsilon=1e-5),
    ),
    "adam_amsgrad": (
        lambda: optimizers.Adam(0.003, amsgrad=True),
        lambda: keras.optimizers.Adam(0.003, amsgrad=True),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras_over_many_steps(case):
    ours, theirs = CASES[case]
    assert_same_training(ours(), theirs())


INHERITED = {
    "clipnorm": {"clipnorm": 0.1},
    "clipvalue": {"clipvalue": 0.01},
    "weight_decay": {"weight_decay": 0.05},
    "schedule": {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.8)},
}
PAIRS = {
    "gradient_descent": (optimizers.GradientDescent, keras.optimizers.SGD, {}),
    "momentum": (optimizers.Momentum, keras.optimizers.SGD, {"momentum": 0.9}),
    "adagrad": (optimizers.AdaGrad, keras.optimizers.Adagrad, {}),
    "rmsprop": (optimizers.RMSProp, keras.optimizers.RMSprop, {}),
    "adam": (optimizers.Adam, keras.optimizers.Adam, {}),
}


@pytest.mark.parametrize("feature", sorted(INHERITED))
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_inherited_features_match_keras(pair, feature):
    ours, theirs, options = PAIRS[pair]
    kwargs = {"learning_rate": 0.01, **options, **INHERITED[feature]}
    assert_same_training(ours(**kwargs), theirs(**kwargs), steps=40)


@pytest.mark.parametrize("pair", ["momentum", "adam"])
def test_jit_compiled_training_matches_keras(pair):
    ours, theirs, options = PAIRS[pair]
    assert_same_training(ours(0.01, **options), theirs(0.01, **options), steps=30, jit_compile=True)


def embedding_model():
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Flatten(),
            keras.layers.Lambda(lambda x: keras.ops.cast(keras.ops.abs(x[:, :4]) * 10, "int32")),
            keras.layers.Embedding(64, 5),  # sparse (IndexedSlices) gradients on TensorFlow
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_sparse_embedding_gradients_match_keras(pair):
    ours, theirs, options = PAIRS[pair]
    assert_same_training(ours(0.01, **options), theirs(0.01, **options), steps=30, model_fn=embedding_model)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("pair", ["momentum", "adam"])
def test_mixed_precision_matches_keras(pair, policy):
    ours, theirs, options = PAIRS[pair]
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        # float16 rounds each gradient to 11 bits: torch's other order moves 30 steps further
        allowed = differs_from_keras_by(1e-6, torch=1e-3 if policy == "mixed_float16" else 1e-4)
        assert_same_training(ours(0.01, **options), theirs(0.01, **options), allowed, steps=30)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
