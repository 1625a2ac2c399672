"""A `strategy.run` training loop, for the strategy under which Keras 3's `model.fit` fails.

`MultiWorkerMirroredStrategy` + `model.fit` breaks in Keras 3 (keras-team/keras#20585); this
loop does what `fit` does for the recipes' compiled models (loss and accuracy on the
training and validation splits, Keras callbacks, a checkpoint per epoch to resume from),
with TensorFlow's own pieces: `strategy.run`, `tf.nn.compute_average_loss` over the
global batch and `optimizer.apply_gradients`. The global batch stays the dataset's batch.
"""

import keras
import tensorflow as tf


class StrategyLoop:
    """Trains and evaluates one compiled model under `strategy`, step functions traced once."""

    def __init__(self, model, strategy):
        self.model = model
        self.strategy = strategy
        loss = keras.losses.get(model.loss)
        # Per-example losses, reduced below over the global batch.
        self.loss_fn = loss.call if isinstance(loss, keras.losses.Loss) else loss
        self._train_step = tf.function(self._distributed(self._train_replica))
        self._eval_step = tf.function(self._distributed(self._eval_replica))

    def _distributed(self, replica_fn):
        def step(batch):
            sums = self.strategy.run(replica_fn, args=batch)
            return [self.strategy.reduce(tf.distribute.ReduceOp.SUM, s, axis=None) for s in sums]

        return step

    def _sums(self, labels, probabilities):
        per_example = self.loss_fn(labels, probabilities)
        correct = tf.cast(
            tf.equal(tf.argmax(probabilities, -1, output_type=tf.int32), tf.cast(labels, tf.int32)), tf.float32
        )
        count = tf.cast(tf.shape(labels)[0], tf.float32)
        return per_example, [tf.reduce_sum(tf.cast(per_example, tf.float32)), tf.reduce_sum(correct), count]

    def _train_replica(self, images, labels):
        with tf.GradientTape() as tape:
            probabilities = self.model(images, training=True)
            per_example, sums = self._sums(labels, probabilities)
            # The mean over the global batch, as `fit` takes it, whatever the replica count.
            loss = tf.nn.compute_average_loss(per_example)
            if self.model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(self.model.losses))
            # As Keras's train_step: under mixed_float16 the optimizer is a LossScaleOptimizer,
            # which expects the gradients of the scaled loss and unscales them itself.
            scaled_loss = self.model.optimizer.scale_loss(loss)
        variables = self.model.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        self.model.optimizer.apply_gradients(zip(gradients, variables))
        return sums

    def _eval_replica(self, images, labels):
        return self._sums(labels, self.model(images, training=False))[1]

    def _run_epoch(self, dataset, step, callbacks=None):
        totals = [0.0, 0.0, 0.0]
        for index, batch in enumerate(self.strategy.experimental_distribute_dataset(dataset)):
            if callbacks is not None:
                callbacks.on_train_batch_begin(index)
            totals = [t + float(v) for t, v in zip(totals, step(batch))]
            if callbacks is not None:
                callbacks.on_train_batch_end(index, {"loss": totals[0] / totals[2]})
        loss, correct, count = totals
        return {"loss": loss / count, "accuracy": correct / count}

    def evaluate(self, dataset):
        """`[loss, accuracy]` over `dataset`, like `model.evaluate` for these models."""
        logs = self._run_epoch(dataset, self._eval_step)
        return [logs["loss"], logs["accuracy"]]

    def fit(self, train, validation, *, epochs, callbacks, checkpoint_dir):
        """Trains from the last saved epoch to `epochs`, saving after each one."""
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer, epoch=epoch)
        manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=1)
        if manager.latest_checkpoint:
            checkpoint.restore(manager.latest_checkpoint)
        callbacks = keras.callbacks.CallbackList(list(callbacks), model=self.model)
        self.model.stop_training = False
        callbacks.on_train_begin()
        while int(epoch.numpy()) < epochs and not self.model.stop_training:
            current = int(epoch.numpy())
            callbacks.on_epoch_begin(current)
            logs = self._run_epoch(train, self._train_step, callbacks)
            callbacks.on_test_begin()
            validation_logs = self._run_epoch(validation, self._eval_step)
            logs.update({f"val_{key}": value for key, value in validation_logs.items()})
            callbacks.on_test_end()
            epoch.assign_add(1)
            manager.save()
            callbacks.on_epoch_end(current, logs)
        callbacks.on_train_end()
