"""One trace per training step, not two.

On the TensorFlow backend without a distribution strategy, Keras creates the compiled
metrics' variables (and, unless built, the optimizer's) while `tf.function` traces the
first training step. `tf.function` then traces the whole step a second time, because a
first trace that creates variables cannot be kept. For a deep network each trace of its
training step costs seconds, more than an epoch on `digits`; creating those variables
eagerly beforehand leaves one trace and changes no number.
"""

import keras
import tensorflow as tf


def build_training_state(model, batch):
    """Creates `model`'s optimizer, loss and compiled-metric variables eagerly from one `batch`.

    `batch` is `(x, y)` or `(x, y, sample_weight)` as the training data yields it. The
    metrics are reset afterwards, so nothing of the batch is counted; calling this again
    does nothing. Inside a distribution strategy's scope Keras builds this state itself,
    symbolically, and so this leaves it to Keras.
    """
    if tf.distribute.has_strategy():
        return
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    if all(getattr(metric, "built", True) for metric in model.metrics):  # plain metrics build at creation
        return
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
    y_pred = model(x, training=False)
    model.compute_loss(x, y, y_pred, sample_weight, training=False)  # builds its per-output trackers
    model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
    model.reset_metrics()
