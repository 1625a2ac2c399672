"""`cookbook.callbacks.WithinEpoch`: readings inside each epoch, at the batch ends it can see."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook.callbacks import WithinEpoch


def fit_with_readings(steps_per_execution=1, epochs=2):
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    labels = (images[:, 0] > 0).astype("int64")
    train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)  # 8 steps an epoch
    validation = tf.data.Dataset.from_tensor_slices((images[:20], labels[:20])).batch(7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(
        "sgd", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=steps_per_execution
    )
    history = model.fit(
        train, validation_data=validation, epochs=epochs, callbacks=[WithinEpoch(validation)], verbose=0
    )
    return model, validation, history.history


def test_readings_at_each_quarter_of_the_epoch():
    model, validation, history = fit_with_readings()
    for j, fraction in enumerate((0.25, 0.5, 0.75), 1):
        assert history[f"at@{j}"] == [fraction, fraction]
        assert all(0 <= value <= 1 for value in history[f"val_accuracy@{j}"] + history[f"accuracy@{j}"])
    # The validation reading is the accuracy over every validation example, as evaluate gives it.
    reading = WithinEpoch(validation)
    reading.set_model(model)
    assert reading._validation_accuracy() == pytest.approx(model.evaluate(validation, verbose=0)[1])


def test_an_epoch_seen_only_at_its_end_repeats_the_end():
    _, _, history = fit_with_readings(steps_per_execution=8)  # one batch end per epoch
    assert history["at@1"] == history["at@3"] == [1.0, 1.0]
    assert history["val_accuracy@2"] == history["val_accuracy"]
