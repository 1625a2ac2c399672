"""The optimizers inside Keras's machinery: saving, custom loops, several devices."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from cookbook import optimizers
from tests.backend import tensorflow_only

ROOT = Path(__file__).resolve().parents[2]
ALL = {
    "gradient_descent": lambda: optimizers.GradientDescent(0.05, clipnorm=1.0),
    "momentum": lambda: optimizers.Momentum(0.02, momentum=0.8, nesterov=True),
    "adagrad": lambda: optimizers.AdaGrad(0.05, textbook=True),
    "rmsprop": lambda: optimizers.RMSProp(0.003, momentum=0.5, centered=True),
    "adam": lambda: optimizers.Adam(0.003, amsgrad=True, weight_decay=0.01),
}


def data(n=64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 5)).astype("float32"), rng.integers(0, 3, n)


def model_with(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize("name", sorted(ALL))
def test_keras_file_round_trip_restores_config_and_slots(name, tmp_path):
    x, y = data()
    model = model_with(ALL[name]())
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)

    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for restored, original in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(restored.numpy(), original.numpy())
    # Training on continues identically from the restored state.
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(ALL))
def test_from_config_rebuilds_the_same_optimizer(name):
    optimizer = ALL[name]()
    clone = type(optimizer).from_config(optimizer.get_config())
    assert clone.get_config() == optimizer.get_config()


@tensorflow_only
@pytest.mark.parametrize("name", sorted(ALL))
def test_custom_gradient_tape_loop_equals_fit(name):
    import tensorflow as tf

    x, y = data()
    by_fit = model_with(ALL[name]())
    by_fit.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)

    model = model_with(ALL[name]())
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))

    for start in range(0, len(x), 16):
        train_step(x[start : start + 16], y[start : start + 16])
    for a, b in zip(model.weights, by_fit.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@tensorflow_only
def test_mirrored_strategy_on_two_logical_cpus_matches_keras():
    """In a fresh process: logical devices must be set before TensorFlow runs anything."""
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras
        from cookbook import optimizers

        pairs = {
            "momentum": (
                lambda: optimizers.Momentum(0.02, momentum=0.9),
                lambda: keras.optimizers.SGD(0.02, momentum=0.9),
            ),
            "adagrad": (lambda: optimizers.AdaGrad(0.05), lambda: keras.optimizers.Adagrad(0.05)),
            "rmsprop": (
                lambda: optimizers.RMSProp(0.003, centered=True),
                lambda: keras.optimizers.RMSprop(0.003, centered=True),
            ),
            "adam": (lambda: optimizers.Adam(0.003), lambda: keras.optimizers.Adam(0.003)),
        }
        rng = np.random.default_rng(0)
        x = rng.normal(size=(256, 5)).astype("float32"); y = rng.integers(0, 3, 256)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2

        def train(make):
            keras.utils.set_random_seed(0)
            with strategy.scope():
                model = keras.Sequential(
                    [keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
                )
                model.compile(make(), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
            assert int(model.optimizer.iterations.numpy()) == 24
            return [w.numpy() for w in model.weights]

        for name, (ours, theirs) in pairs.items():
            for a, b in zip(train(ours), train(theirs)):
                error = np.linalg.norm(a - b) / np.linalg.norm(b)
                assert error < 1e-6, (name, error)
            print("matched", name)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("matched") == 4
