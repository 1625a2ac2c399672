"""The strategy loop (used under multiworker) trains as `model.fit` does."""

import keras
import numpy as np
import tensorflow as tf

from cookbook.harness.training_loop import StrategyLoop


def data():
    rng = np.random.default_rng(0)
    images = rng.random((64, 4, 4, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)


def trained(optimizer, loop):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    if loop:
        StrategyLoop(model, tf.distribute.get_strategy()).fit(
            data(), data(), epochs=2, callbacks=[], checkpoint_dir=loop
        )
    else:
        model.fit(data(), epochs=2, verbose=0, shuffle=False)
    return model.get_weights()


def test_the_loop_matches_fit_and_scales_the_loss_for_a_loss_scale_optimizer(tmp_path):
    expected = trained(keras.optimizers.SGD(0.5), loop=None)
    plain = trained(keras.optimizers.SGD(0.5), loop=tmp_path / "plain")
    # What mixed_float16 wraps the optimizer in: without scaling the loss first, the
    # gradients would come out divided by the loss scale (2**15).
    scaled = trained(keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.5)), loop=tmp_path / "scaled")
    for expect, got_plain, got_scaled in zip(expected, plain, scaled):
        np.testing.assert_allclose(got_plain, expect, atol=1e-6)
        np.testing.assert_allclose(got_scaled, expect, atol=1e-6)
