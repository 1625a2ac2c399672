"""One kept model per architecture, whose traced graphs every model of that architecture borrows.

Tracing a deep network's training step takes seconds; every seed of a variant, and every
variant of the same architecture, would trace the same graph again. A model whose
architecture is known lends its state to the kept *twin* instead, the twin trains, and the
state is copied back: the numbers are those of training the model itself.

Neither a learning rate given as a number nor the batch size is part of an architecture:
Keras keeps such a learning rate in a variable that the traced step reads, and traces the
step for batches of any size. So a learning-rate or batch-size sweep shares one twin, which
takes each model's learning rate with its state.
"""

import hashlib
import json

import keras

from cookbook.models.flops import leaf_layers


class Twins:
    """One kept model per architecture, whose traced graphs every model of that architecture
    borrows: `load(model, batch)` returns the kept model holding `model`'s state (weights and
    random-seed states) with its optimizer back at its initial state and `model`'s learning
    rate; the first model of an architecture is kept as it is. Copy the state back with
    `copy_state(twin, model)`."""

    def __init__(self):
        self._kept = {}  # architecture key -> (twin model, its optimizer's initial values)

    def knows(self, model, batch):
        """Whether a model of `model`'s architecture is kept already."""
        return architecture_key(model, batch) in self._kept

    def load(self, model, batch):
        key = architecture_key(model, batch)
        if key not in self._kept:
            model.optimizer.build(model.trainable_variables)
            initial = [variable.numpy() for variable in model.optimizer.variables]
            self._kept[key] = (model, initial)
            return model
        twin, initial = self._kept[key]
        copy_state(model, twin)
        for variable, value in zip(twin.optimizer.variables, initial):
            variable.assign(value)
        if _learning_rate_is_variable(model.optimizer):
            twin.optimizer.learning_rate = model.optimizer.learning_rate
        return twin


def copy_state(source, target):
    """Assigns every variable of `source` (weights, random-seed states) to `target`'s."""
    shapes = [tuple(v.shape) for v in source.variables]
    if shapes != [tuple(v.shape) for v in target.variables]:
        raise ValueError(f"Cannot copy the state of {source.name!r}: the models differ in their variables.")
    for to, value in zip(target.variables, source.variables):
        to.assign(value)


def architecture_key(model, batch):
    """What fixes a model's traced graphs: its layers and their settings (not their names),
    its variables, what it was compiled with, and the shape of the batches it sees less the
    batch size: Keras traces a step for the dataset's element spec, whose batch size is
    unknown unless the dataset drops its remainder, and then `tf.function` traces a batch
    size it has not seen by itself. So runs at several batch sizes share one twin."""
    description = {
        "layers": [_layer_description(layer) for layer in leaf_layers(model)],
        "variables": [(v.path.rsplit("/", 1)[-1], tuple(v.shape), str(v.dtype)) for v in model.variables],
        "compiled": _without_names(_without_variable_learning_rate(model)),
        "batch": [(tuple(keras.ops.shape(x))[1:], str(x.dtype)) for x in keras.tree.flatten(batch)],
    }
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _without_variable_learning_rate(model):
    """The compile config, less a learning rate the traced step reads from a variable."""
    config = model.get_compile_config()
    if not _learning_rate_is_variable(model.optimizer):
        return config
    optimizer = config["optimizer"]
    return {**config, "optimizer": {**optimizer, "config": {**optimizer["config"], "learning_rate": "variable"}}}


def _learning_rate_is_variable(optimizer):
    """Whether `optimizer` keeps its learning rate in a variable (given as a number), rather
    than computing it from a schedule or a function traced into the step."""
    return isinstance(getattr(optimizer, "learning_rate", None), keras.Variable)


def _layer_description(layer):
    return [type(layer).__module__, type(layer).__qualname__, _without_names(layer.get_config())]


def _without_names(value):
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [_without_names(v) for v in value]
    return value
