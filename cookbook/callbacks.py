"""Callbacks that measure what the guidelines talk about, into the `logs` of each epoch."""

import time

import keras
import numpy as np
import tensorflow as tf


def weight_layers(model):
    """The layers with a kernel, input to output: what papers count as a net's depth."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def kernel_gradient_norms(model, images, labels):
    """The L2 norm of the loss gradient for each weight layer's kernel, input to output.

    Under a distribution strategy the gradient is taken in replica context (where
    mirrored variables can be differentiated), on the whole batch, and read from the
    first replica: the same number a one-device run gives.
    """
    strategy = tf.distribute.get_strategy()
    kernels = [layer.kernel for layer in weight_layers(model)]

    def gradients():
        with tf.GradientTape() as tape:
            predictions = model(images, training=False)
            loss = model.compute_loss(x=images, y=labels, y_pred=predictions)
            if strategy.num_replicas_in_sync > 1:
                # compute_loss divides by the replica count, for gradients summed over replicas.
                loss = loss * strategy.num_replicas_in_sync
        return tape.gradient(loss, kernels)

    first_replica = [strategy.experimental_local_results(g)[0] for g in strategy.run(gradients)]
    return [float(np.linalg.norm(keras.ops.convert_to_numpy(g))) for g in first_replica]


class GradientNorms(keras.callbacks.Callback):
    """Adds `grad_norm/LAYER` (the kernel gradient norm on a fixed batch) to each epoch's logs.

    A fixed batch makes epochs comparable; place this callback before
    `CSVLogger` so the values are written into the history.
    """

    def __init__(self, images, labels):
        super().__init__()
        self.images = images
        self.labels = labels

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        norms = kernel_gradient_norms(self.model, self.images, self.labels)
        for layer, norm in zip(weight_layers(self.model), norms):
            logs[f"grad_norm/{layer.name}"] = norm


class EpochSeconds(keras.callbacks.Callback):
    """Adds the epoch's wall time to its logs: `epoch_seconds` in all, `train_seconds`
    for the training steps alone (validation excluded). With `shares` seeds trained as one
    model (`cookbook.harness.fused`), each seed's share: the time divided by `shares`."""

    def __init__(self, shares=1):
        super().__init__()
        self.shares = shares

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        self._training_ended = None

    def on_test_begin(self, logs=None):
        if getattr(self, "_started", None) is not None and self._training_ended is None:
            self._training_ended = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if logs is not None:
            logs["epoch_seconds"] = (now - self._started) / self.shares
            logs["train_seconds"] = ((self._training_ended or now) - self._started) / self.shares
        self._started = None


class WithinEpoch(keras.callbacks.Callback):
    """Readings of a metric inside each epoch, so that a target's crossing is known to within
    a part of an epoch rather than a whole one (`cookbook.statistics.crossing`).

    At the first batch end past each `1/parts` of the epoch, records the validation accuracy
    on `validation` (a `tf.data` split: every example, the model in inference mode) when given,
    and always the running training accuracy Keras has so far this epoch. At the epoch's end
    the logs get `val_accuracy@J` and `accuracy@J` for the J-th reading and `at@J`, the
    fraction of the epoch it was taken at; an epoch with fewer batch ends than `parts` (several
    steps per traced call) has fewer readings, and the missing ones repeat the epoch's end.
    Place it before `CSVLogger`, as the harness does with a recipe's callbacks.
    """

    CHUNK = 512  # validation examples per forward pass

    def __init__(self, validation=None, parts=4):
        super().__init__()
        self.validation, self.parts = validation, parts
        self._examples = None

    def on_epoch_begin(self, epoch, logs=None):
        self._readings = []

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps") if self.params else None
        if not steps or logs is None or len(self._readings) >= self.parts - 1:
            return
        done = batch + 1
        if done >= steps or done < steps * (len(self._readings) + 1) / self.parts:
            return
        reading = {"at": done / steps, "accuracy": float(logs.get("accuracy", np.nan))}
        if self.validation is not None:
            reading["val_accuracy"] = self._validation_accuracy()
        self._readings.append(reading)

    def _validation_accuracy(self):
        if self._examples is None:  # read once: the split is the same at every reading
            batches = [(np.asarray(batch[0]), np.asarray(batch[1])) for batch in self.validation]
            self._examples = (
                np.concatenate([b[0] for b in batches]),
                np.concatenate([b[1] for b in batches]).reshape(-1),
            )
        images, labels = self._examples
        correct = 0
        for start in range(0, len(labels), self.CHUNK):
            scores = keras.ops.convert_to_numpy(self.model(images[start : start + self.CHUNK], training=False))
            correct += int(np.sum(scores.argmax(axis=-1) == labels[start : start + self.CHUNK]))
        return correct / len(labels)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        end = {"at": 1.0, "accuracy": logs.get("accuracy"), "val_accuracy": logs.get("val_accuracy")}
        readings = self._readings + [end] * (self.parts - 1 - len(self._readings))
        for index, reading in enumerate(readings, 1):
            logs[f"at@{index}"] = reading["at"]
            logs[f"accuracy@{index}"] = reading["accuracy"]
            if self.validation is not None:
                logs[f"val_accuracy@{index}"] = reading["val_accuracy"]
