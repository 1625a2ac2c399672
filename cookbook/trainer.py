"""Training and evaluating a recipe's models: standard callbacks, histories, resuming, and
one traced graph per architecture."""

import csv
import hashlib
import json
import math
import time

import keras

from cookbook import checkpoints
from cookbook.callbacks import EpochSeconds
from cookbook.checkpoints import ResumableBackup
from cookbook.tracing import build_training_state
from cookbook.training_loop import StrategyLoop

# Batches per call of the traced step. A small network's step is mostly Python and
# dispatch overhead; running 16 batches in one traced loop gives the same numbers (the same
# ops on the same batches in the same order) in less time: `python -m benchmarks.suite`
# measures the ratio side by side (0.57 of the step time, 90% interval 0.50-0.67, for the
# recipes' small ConvNet on 2 CPU cores).
STEPS_PER_EXECUTION = 16


class Trainer:
    """`fit` and `evaluate` for one recipe's runs, on the run's `Scale`.

    Tracing a deep network's training step takes seconds (half a minute for a
    GoogLeNet), and every seed of a variant, and every variant of the same
    architecture, would trace the same graph again. So the first model of each
    architecture is kept as a *twin*: a later model of that architecture only
    lends it its state (initial weights and random-seed states; the optimizer
    restarts from its initial state), the twin trains with its graphs traced
    once, and the trained state is copied back into the model the recipe holds.
    The numbers are those of training the model itself.
    """

    def __init__(self, scale, *, history_dir, verbose=False, backup_seconds=None):
        self.scale = scale
        self.history_dir = history_dir
        self.verbose = verbose
        # Seconds between backups (see `cookbook.checkpoints`); None: its BACKUP_SECONDS.
        self.backup_seconds = checkpoints.BACKUP_SECONDS if backup_seconds is None else backup_seconds
        self.twins = Twins()
        self._loops = {}  # id(twin) -> StrategyLoop, under the strategy that needs one

    @property
    def fit_verbosity(self):
        """Keras's line per epoch when verbose; otherwise the metrics go to the history files
        and TensorBoard, and the terminal shows the tour's progress instead."""
        return 2 if self.verbose else 0

    def fit(self, model, data, *, history_name, backup_dir, epochs, callbacks=(), tensorboard=None):
        """`model.fit` with the standard callbacks; returns the history and how training ended.

        Callbacks given here run first, so values they add to `logs` land in the
        CSV history (and TensorBoard) too. Training stops at the first NaN loss and
        says so. The state after an epoch is saved in `backup_dir` every `backup_seconds`,
        from which an interrupted fit resumes. `tensorboard`, `(log folder, hyperparameters)`,
        writes each epoch's metrics there for TensorBoard, with the run's settings.
        """
        history_path = self.history_dir / f"{history_name}.csv"
        if not backup_dir.exists() and history_path.exists():
            history_path.unlink()  # Left by an earlier, completed run: start its history anew.
        history_path.parent.mkdir(parents=True, exist_ok=True)
        if self.scale.options.jit is not None:
            model.jit_compile = self.scale.options.jit
        batched_steps(model)
        standard = [
            *callbacks,
            EpochSeconds(),
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.CSVLogger(str(history_path), append=True),
            *([EpochScalars(*tensorboard)] if tensorboard else []),
        ]
        started = time.perf_counter()
        if self.scale.custom_loop:
            self._strategy_loop(model).fit(
                data.train, data.validation, epochs=epochs, callbacks=standard, checkpoint_dir=backup_dir
            )
        else:
            build_training_state(model, next(iter(data.validation)))
            model.fit(
                data.train,
                validation_data=data.validation,
                epochs=epochs,
                shuffle=False,  # The training split shuffles itself, by the run's seed.
                verbose=self.fit_verbosity,
                callbacks=[*standard, ResumableBackup(backup_dir, self.backup_seconds)],
            )
        history = read_history(history_path)
        losses = history.get("loss", [])
        return {
            "history": history,
            "epochs_trained": len(losses),
            "diverged": bool(losses) and not math.isfinite(losses[-1]),
            "fit_seconds": time.perf_counter() - started,
            # What really ran, beside the options that asked for it.
            "compute_dtype": model.dtype_policy.compute_dtype,
            "jit_compile": bool(model.jit_compile),
            "steps_per_execution": model.steps_per_execution,
        }

    def evaluate(self, model, dataset):
        """`[loss, accuracy]` of `model` on `dataset`: `model.evaluate`, or the strategy loop's."""
        if self.scale.custom_loop:
            return self._strategy_loop(model).evaluate(dataset)
        batched_steps(model)
        return model.evaluate(dataset, verbose=0)

    def _strategy_loop(self, model):
        if id(model) not in self._loops:
            self._loops[id(model)] = StrategyLoop(model, self.scale.strategy)
        return self._loops[id(model)]


class Twins:
    """One kept model per architecture, whose traced graphs every model of that architecture
    borrows: `load(model, batch)` returns the kept model holding `model`'s state (weights and
    random-seed states) with its optimizer back at its initial state; the first model of an
    architecture is kept as it is. Copy the state back with `copy_state(twin, model)`."""

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
        return twin


class EpochScalars(keras.callbacks.Callback):
    """Writes every number of each epoch's logs (metrics, validation metrics, gradient norms,
    timings) to TensorBoard under `log_dir`, and the run's settings as its hyperparameters,
    so `tensorboard --logdir OUT` compares every run of every recipe."""

    def __init__(self, log_dir, hyperparameters):
        super().__init__()
        self.log_dir = str(log_dir)
        self.hyperparameters = hyperparameters
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hparams

        self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            hparams.hparams(self.hyperparameters)

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        with self._writer.as_default():
            for name, value in (logs or {}).items():
                if isinstance(value, (int, float)) or getattr(value, "shape", None) == ():
                    tf.summary.scalar(name, float(value), step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._writer.close()


def steps_per_execution():
    """`STEPS_PER_EXECUTION`, or 1 inside a `tf.distribute` strategy's scope: Keras's
    multi-step loop over a distributed iterator fails there ("You must feed a value for
    placeholder tensor", Keras 3.15 with TensorFlow 2.21, MirroredStrategy over two CPUs)."""
    import tensorflow as tf

    return 1 if tf.distribute.has_strategy() else STEPS_PER_EXECUTION


def batched_steps(model):
    """Runs `steps_per_execution()` batches per traced call, unless the recipe compiled
    `model` with a number of its own."""
    if model.steps_per_execution == 1 and model.train_function is None and model.test_function is None:
        model.steps_per_execution = steps_per_execution()


def copy_state(source, target):
    """Assigns every variable of `source` (weights, random-seed states) to `target`'s."""
    shapes = [tuple(v.shape) for v in source.variables]
    if shapes != [tuple(v.shape) for v in target.variables]:
        raise ValueError(f"Cannot copy the state of {source.name!r}: the models differ in their variables.")
    for to, value in zip(target.variables, source.variables):
        to.assign(value)


def architecture_key(model, batch):
    """What fixes a model's traced graphs: its layers and their settings (not their names),
    its variables, what it was compiled with, and the shape of the batches it sees."""
    description = {
        "layers": [_layer_description(layer) for layer in _leaf_layers(model)],
        "variables": [(v.path.rsplit("/", 1)[-1], tuple(v.shape), str(v.dtype)) for v in model.variables],
        "compiled": _without_names(model.get_compile_config()),
        "batch": [tuple(keras.ops.shape(x)) for x in keras.tree.flatten(batch)],
    }
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _leaf_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _layer_description(layer):
    return [type(layer).__module__, type(layer).__qualname__, _without_names(layer.get_config())]


def _without_names(value):
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [_without_names(v) for v in value]
    return value


def read_history(path):
    """Reads a CSVLogger file into `{metric: [one value per epoch]}`.

    After a resume an epoch can appear twice; the later row wins.
    """
    rows = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            rows[int(row["epoch"])] = row
    history = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            if key != "epoch":
                history.setdefault(key, []).append(float(value) if value else math.nan)
    return history
