"""The explicit layers inside Keras's machinery: saving, XLA, and several devices."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from cookbook import layers
from tests.backend import tensorflow_only

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "max_pooling": lambda: layers.MaxPooling2D(3, 2, "same"),
    "average_pooling": lambda: layers.AveragePooling2D((2, 3), (1, 2), "same"),
    "batch_normalization": lambda: layers.BatchNormalization(momentum=0.9, textbook=True),
    "dropout": lambda: layers.Dropout(0.3, noise_shape=(None, 1, 1, None), seed=4),
}


def model_with(layer):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((7, 7, 2)),
            keras.layers.Conv2D(4, 3, padding="same"),
            layer,
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 7, 7, 2)).astype("float32"), rng.integers(0, 3, 32)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_keras_file_round_trip(name, tmp_path):
    x, y = data()
    model = model_with(LAYERS[name]())
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    original, restored = model.layers[1], loaded.layers[1]
    assert type(restored) is type(original)
    assert restored.get_config() == original.get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_from_config_and_output_shape(name):
    layer = LAYERS[name]()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    x = np.zeros((2, 7, 7, 4), "float32")
    assert tuple(layer(x).shape) == tuple(layer.compute_output_shape(x.shape))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_jit_compiled_training_matches_eager_graph(name):
    x, y = data()
    results = []
    for jit in (False, True):
        model = model_with(LAYERS[name]())
        model.compile(
            keras.optimizers.SGD(0.01),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        results.append([w.numpy() for w in model.weights])
    if name == "dropout":
        # XLA draws its random numbers differently, so the weights differ; the masks'
        # statistics under XLA are checked in the next test.
        return
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@tensorflow_only
def test_dropout_under_xla_drops_at_its_rate_and_scales_the_survivors():
    import tensorflow as tf

    from cookbook.layers import Dropout

    layer = Dropout(0.3, seed=5)
    dropped = tf.function(lambda x: layer(x, training=True), jit_compile=True)(tf.ones((200, 500)))
    values = np.unique(dropped.numpy().round(5))
    np.testing.assert_allclose(values, [0.0, round(1 / 0.7, 5)])
    assert np.mean(dropped.numpy() == 0) == pytest.approx(0.3, abs=0.01)


@tensorflow_only
def test_mirrored_strategy_on_two_logical_cpus():
    """In a fresh process: logical devices must be set before TensorFlow runs anything."""
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras
        from cookbook import layers

        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 7, 7, 2)).astype("float32"); y = rng.integers(0, 3, 64)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def train(norm, pool, extra=()):
            keras.utils.set_random_seed(0)
            with strategy.scope():
                model = keras.Sequential([
                    keras.Input((7, 7, 2)), keras.layers.Conv2D(4, 3, padding="same"),
                    norm(), pool(), *extra, keras.layers.Flatten(), keras.layers.Dense(3),
                ])
                model.compile(keras.optimizers.SGD(0.05), loss)
            model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
            return model

        pairs = [
            ((layers.BatchNormalization, layers.MaxPooling2D),
             (keras.layers.BatchNormalization, keras.layers.MaxPooling2D)),
            ((layers.BatchNormalization, lambda: layers.AveragePooling2D(3, 2, "same")),
             (keras.layers.BatchNormalization, lambda: keras.layers.AveragePooling2D(3, 2, "same"))),
        ]
        for ours, theirs in pairs:
            a, b = train(*ours), train(*theirs)
            # Moving statistics included. The convolution's bias feeds batch normalization,
            # which cancels it: its gradient is rounding noise, hence the absolute floor.
            for w, w_ref in zip(a.weights, b.weights, strict=True):
                np.testing.assert_allclose(w.numpy(), w_ref.numpy(), rtol=1e-5, atol=1e-6, err_msg=w.name)
            print("matched")

        model = train(layers.BatchNormalization, layers.MaxPooling2D, [layers.Dropout(0.5, seed=1)])
        dropout = model.layers[3]
        features = model.layers[2](model.layers[1](model.layers[0](x[:8])))
        first, second = dropout(features, training=True), dropout(features, training=True)
        assert not np.allclose(first, second) and np.isfinite(model.predict(x, verbose=0)).all()
        print("dropout trained")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("matched") == 2 and "dropout trained" in result.stdout
