"""Fused seeds: a variant's seeds trained together as one Keras model.

Each seed's model keeps its own weights, initialization, data order and dropout masks
(its layers' own seed generators); `FusedSeeds` only calls them side by side, and the
loss it minimizes is the sum of their losses. A seed's gradient is the gradient of its
own loss (the other terms do not depend on its weights), and every optimizer here updates
each variable from that variable's gradient alone, so each seed trains as it would alone:
`tests/test_fused.py` checks weights and histories against standalone runs.

What fusing cannot keep per seed makes `why_not_fused` name a reason, and the caller trains
one seed at a time: a distribution strategy or mixed precision (one loss scale would be
shared), an optimizer that couples variables (global gradient clipping), compile settings
beyond optimizer, loss and metrics, or seeds whose models or data batches differ in shape.
"""

import keras
import tensorflow as tf

from cookbook.twins import architecture_key

FUSABLE_COMPILE_SETTINGS = {"optimizer", "loss", "metrics", "steps_per_execution", "jit_compile", "auto_scale_loss"}


def output_name(index):
    """The key of seed `index`'s outputs, labels and logs (`seed_0_loss`, `val_seed_0_accuracy`)."""
    return f"seed_{index}"


@keras.saving.register_keras_serializable(package="cookbook")
class FusedSeeds(keras.Model):
    """Calls `members` (models of one architecture) side by side: a tuple of inputs in, a dict
    `{seed_k: outputs of member k}` out."""

    def __init__(self, members, **kwargs):
        super().__init__(**kwargs)
        self.members = list(members)
        # Keras's own per-output loss metrics weigh every batch alike when the batch size is
        # known only at run time; a standalone fit weighs each batch by its examples, as these do.
        self.seed_losses = [keras.metrics.Mean(name=f"{output_name(k)}_loss") for k in range(len(self.members))]

    def call(self, inputs, training=None):
        return {output_name(k): member(x, training=training) for k, (member, x) in enumerate(zip(self.members, inputs))}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The sum of the seeds' losses, each computed by its own model as its standalone fit
        does (its compiled loss with its own sample weights, and the losses its layers add);
        each is tracked as `seed_k_loss`."""
        total = 0.0
        for k, (member, tracker) in enumerate(zip(self.members, self.seed_losses)):
            name = output_name(k)
            weight = None if sample_weight is None else sample_weight[name]
            loss = member.compute_loss(x[k], y[name], y_pred[name], weight, training=training)
            tracker.update_state(loss, sample_weight=keras.ops.shape(y_pred[name])[0])
            total = total + loss
        return total

    def get_config(self):
        members = [keras.saving.serialize_keras_object(member) for member in self.members]
        return {**super().get_config(), "members": members}

    @classmethod
    def from_config(cls, config):
        members = [keras.saving.deserialize_keras_object(member) for member in config.pop("members")]
        return cls(members, **config)


def fuse(members):
    """A compiled `FusedSeeds` over `members`, each compiled alike: a fresh optimizer of the
    members' kind and settings, and each member's metrics on its output (its loss is its own)."""
    metrics = members[0].get_compile_config()["metrics"]
    optimizer = members[0].optimizer
    fused = FusedSeeds(members, name=f"{members[0].name}_x{len(members)}")
    fused.compile(
        type(optimizer).from_config(optimizer.get_config()),
        metrics={output_name(k): keras.saving.deserialize_keras_object(metrics) for k in range(len(members))}
        if metrics
        else None,
        steps_per_execution=members[0].steps_per_execution,
        jit_compile=members[0].jit_compile,
    )
    return fused


def why_not_fused(members, datasets):
    """Why `members` (each with its `cookbook.data.Dataset`) cannot train as one model, or None."""
    if len(members) < 2:
        return "a single seed has nothing to fuse with"
    if tf.distribute.has_strategy():
        return "fused seeds run without a distribution strategy"
    first = members[0]
    if first.dtype_policy.compute_dtype != first.dtype_policy.variable_dtype:
        return "under mixed precision the seeds would share one loss scale"
    config = first.get_compile_config() or {}
    extra = sorted(
        key for key, value in config.items() if value not in (None, 1, False) and key not in FUSABLE_COMPILE_SETTINGS
    )
    if extra:
        return f"it is compiled with {', '.join(extra)}, which the fused model does not reproduce"
    if first.optimizer.get_config().get("global_clipnorm"):
        return "global gradient clipping couples the variables of all seeds"
    splits = [[data.train, data.validation] for data in datasets]
    cardinalities = {tuple(int(split.cardinality()) for split in pair) for pair in splits}
    if len(cardinalities) > 1 or min(min(pair) for pair in cardinalities) < 0:
        return "the seeds' data have different (or unknown) numbers of batches"
    if len({len(split.element_spec) for pair in splits for split in pair}) > 1:
        return "some of the seeds' batches carry sample weights and some do not"
    batches = [next(iter(data.validation)) for data in datasets]
    if len({architecture_key(member, batch) for member, batch in zip(members, batches)}) > 1:
        return "the seeds' models differ in architecture"
    return None


def zip_seeds(splits):
    """One dataset of the seeds' `(x, y)` splits, `((x_0, x_1, ...), {seed_0: y_0, ...})`, or
    of their `(x, y, sample_weight)` splits, with `{seed_0: w_0, ...}` third."""

    def join(*batches):
        keyed = [{output_name(k): batch[part] for k, batch in enumerate(batches)} for part in range(1, len(batches[0]))]
        return (tuple(batch[0] for batch in batches), *keyed)

    return tf.data.Dataset.zip(tuple(splits)).map(join)


def seed_logs(logs, index):
    """Seed `index`'s view of the fused model's logs: its own metrics under the plain names
    (`seed_0_loss` -> `loss`), and the values shared by every seed (timings) as they are."""
    seeded, own = {}, output_name(index) + "_"
    for key, value in (logs or {}).items():
        prefix = "val_" if key.startswith("val_") else ""
        bare = key[len(prefix) :]
        if bare.startswith(own):
            seeded[prefix + bare[len(own) :]] = value
        elif not bare.startswith("seed_") and bare != "loss":  # the other seeds', and the total
            seeded[key] = value
    return seeded


class PerSeed(keras.callbacks.Callback):
    """Runs `callbacks` for seed `index` of a fused model: they see that seed's model as
    `self.model` and that seed's logs, as in a standalone fit."""

    def __init__(self, index, callbacks):
        super().__init__()
        self.index = index
        self.callbacks = list(callbacks)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model.members[self.index])

    def set_params(self, params):
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def _each(self, hook, *args, logs=None):
        seeded = seed_logs(logs, self.index)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs=seeded)

    def on_train_begin(self, logs=None):
        self._each("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._each("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._each("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._each("on_epoch_end", epoch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._each("on_train_batch_end", batch, logs=logs)
