import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook.layers import Dropout
from cookbook.tracing import build_training_state


class CountCalls(keras.layers.Layer):
    """Identity that counts how often its `call` runs: once per trace in graph mode."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, inputs):
        self.calls += 1
        return inputs


def data(size=96):
    rng = np.random.default_rng(0)
    x = rng.random((size, 6), dtype=np.float32)
    y = (x.sum(axis=1) > 3).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


def model_with_counter(metrics=("accuracy",)):
    keras.utils.set_random_seed(1)
    counter = CountCalls()
    model = keras.Sequential(
        [
            keras.Input((6,)),
            counter,
            keras.layers.Dense(8, activation="relu"),
            Dropout(0.3, seed=2),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=list(metrics))
    return model, counter


def test_fit_traces_its_training_step_once_after_building_the_state():
    model, counter = model_with_counter()
    build_training_state(model, next(iter(data())))
    calls_before_fit = counter.calls
    model.fit(data(), epochs=2, verbose=0)
    assert counter.calls - calls_before_fit == 1


@pytest.mark.parametrize("metrics", [("accuracy",), ("accuracy", "sparse_top_k_categorical_accuracy"), ()])
def test_training_is_unchanged_by_building_the_state_first(metrics):
    plain, _ = model_with_counter(metrics)
    plain_history = plain.fit(data(), validation_data=data(), epochs=3, verbose=0).history
    built, _ = model_with_counter(metrics)
    build_training_state(built, next(iter(data())))
    built_history = built.fit(data(), validation_data=data(), epochs=3, verbose=0).history
    assert built_history == plain_history
    for a, b in zip(plain.get_weights(), built.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_metrics_start_from_zero_and_a_second_call_does_nothing():
    model, counter = model_with_counter()
    batch = next(iter(data()))
    build_training_state(model, batch)
    assert model.optimizer.built
    assert all(float(v.numpy()) == 0.0 for metric in model.metrics for v in metric.variables)
    calls = counter.calls
    build_training_state(model, batch)
    assert counter.calls == calls
