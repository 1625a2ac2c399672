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
