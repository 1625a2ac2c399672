"""Training and evaluating a recipe's models: standard callbacks, histories, resuming, and
one traced graph per architecture."""

import contextlib
import csv
import io
import math
import shutil
import sys
import time
from pathlib import Path

import keras

from cookbook.callbacks import EpochSeconds
from cookbook.harness import checkpoints
from cookbook.harness import scaling
from cookbook.harness.checkpoints import ResumableBackup
from cookbook.harness.fused import PerSeed
from cookbook.harness.fused import fuse
from cookbook.harness.fused import zip_seeds
from cookbook.harness.training_loop import StrategyLoop
from cookbook.results import write_text_atomic
from cookbook.tracing import build_training_state
from cookbook.twins import Twins
from cookbook.twins import copy_state

# Batches per call of the traced step. A small network's step is mostly Python and dispatch
# overhead; running several batches in one traced loop gives the same numbers (the same ops on
# the same batches in the same order) in less time: `python -m benchmarks.suite` measures it.
STEPS_PER_EXECUTION = 16
# Batching pays only for graphs that run many steps: Keras traces the batched step nested in a
# loop, which costs more than tracing the step alone, and each later step saves a little.
# `python -m benchmarks.batching` measures where the two meet (near 300 steps, training and
# validation, for the recipes' networks). A short fit (`--quick`) runs one step per call.
BATCHING_PAYS_AFTER_STEPS = 300


class Trainer:
    """`fit` and `evaluate` for one recipe's runs under its `RunOptions`, on their `Scale`.

    Tracing a deep network's training step takes seconds (half a minute for a
    GoogLeNet), and every seed of a variant, and every variant of the same
    architecture, would trace the same graph again. So the first model of each
    architecture is kept as a *twin*: a later model of that architecture only
    lends it its state (initial weights and random-seed states; the optimizer
    restarts from its initial state), the twin trains with its graphs traced
    once, and the trained state is copied back into the model the recipe holds.
    The numbers are those of training the model itself.
    """

    def __init__(self, options, *, history_dir, backup_seconds=None, fits_per_graph=1):
        self.options = options  # the run's `RunOptions`: `verbose`, and `scale.jit`
        self.scale = scaling.setup(options.scale)
        # How many fits a traced graph is expected to serve (a variant's seeds, one at a time):
        # with the steps of one fit, what decides whether batching its steps pays.
        self.fits_per_graph = fits_per_graph
        self.history_dir = history_dir
        # Seconds between backups (see `cookbook.harness.checkpoints`); None: its BACKUP_SECONDS.
        self.backup_seconds = checkpoints.BACKUP_SECONDS if backup_seconds is None else backup_seconds
        self.twins = Twins()
        self._loops = {}  # id(twin) -> StrategyLoop, under the strategy that needs one

    @property
    def fit_verbosity(self):
        """Keras's line per epoch when verbose; otherwise the metrics go to the history files
        and TensorBoard, and the terminal shows the tour's progress instead."""
        return 2 if self.options.verbose else 0

    def fit(self, model, data, *, history_name, backup_dir, epochs, callbacks=(), tensorboard=None):
        """`model.fit` with the standard callbacks; returns the history and how training ended.

        Callbacks given here run first, so values they add to `logs` land in the
        CSV history (and TensorBoard) too. Training stops at the first NaN loss and
        says so. The state after an epoch is saved in `backup_dir` every `backup_seconds`,
        from which an interrupted fit resumes. `tensorboard`, `(log folder, hyperparameters)`,
        writes each epoch's metrics there for TensorBoard, with the run's settings.
        """
        history_path = self._history_path(history_name, backup_dir)
        self._set_compile_options(model, epochs * steps_per_epoch(data) * self.fits_per_graph)
        standard = [
            *callbacks,
            EpochSeconds(),
            keras.callbacks.TerminateOnNaN(),
            *self._loggers(history_path, tensorboard),
        ]
        started = time.perf_counter()
        if self.scale.custom_loop:
            self._strategy_loop(model).fit(
                data.train, data.validation, epochs=epochs, callbacks=standard, checkpoint_dir=backup_dir
            )
        else:
            build_training_state(model, next(iter(data.validation)))
            backup = self._backup(backup_dir, [history_path], history_name, epochs)
            with saved_when_stopped(backup):
                model.fit(
                    data.train,
                    validation_data=data.validation,
                    epochs=epochs,
                    shuffle=False,  # The training split shuffles itself, by the run's seed.
                    verbose=self.fit_verbosity,
                    callbacks=[backup.restorer(), *standard, backup],
                )
        return self._outcome(model, history_path, time.perf_counter() - started)

    def fit_fused(self, members, datasets, *, history_names, backup_dir, epochs, callbacks, tensorboards, progress=()):
        """Trains `members` (one compiled model per seed, each with its `Dataset`) as one
        `cookbook.harness.fused.FusedSeeds` model; see `fit`. `callbacks[k]` and `tensorboards[k]` are
        seed k's, and each seed gets its own history, as in a standalone `fit`; `progress`
        callbacks see the fused model. Returns each seed's outcome, or None when a seed's loss
        became NaN (its standalone run stops there, which fused training cannot do for one
        seed: the caller trains the seeds one at a time instead).
        """
        fused = fuse(members)
        self._set_compile_options(fused, epochs * steps_per_epoch(datasets[0]))
        train = zip_seeds([data.train for data in datasets])
        validation = zip_seeds([data.validation for data in datasets])
        batch = next(iter(validation))
        twin = self.twins.load(fused, batch)
        paths = [self._history_path(name, backup_dir) for name in history_names]
        per_seed = [PerSeed(k, [*callbacks[k], *self._loggers(path, tensorboards[k])]) for k, path in enumerate(paths)]
        backup = self._backup(backup_dir, paths, f"{history_names[0]} and its {len(paths) - 1} fused seeds", epochs)
        started = time.perf_counter()
        build_training_state(twin, batch)
        with saved_when_stopped(backup):
            twin.fit(
                train,
                validation_data=validation,
                epochs=epochs,
                shuffle=False,
                verbose=self.fit_verbosity,
                callbacks=[
                    backup.restorer(),
                    EpochSeconds(shares=len(members)),
                    keras.callbacks.TerminateOnNaN(),  # the total loss: NaN when any seed's is
                    *per_seed,
                    *progress,
                    backup,
                ],
            )
        share = (time.perf_counter() - started) / len(members)
        outcomes = [{**self._outcome(twin, path, share), "fused_seeds": len(members)} for path in paths]
        if any(outcome["diverged"] for outcome in outcomes):
            shutil.rmtree(backup_dir, ignore_errors=True)
            return None
        if twin is not fused:
            copy_state(twin, fused)
        return outcomes

    def _set_compile_options(self, model, planned_steps):
        """XLA as the run's options ask, and the Trainer's batches per call where they pay."""
        if self.options.scale.jit is not None:
            model.jit_compile = self.options.scale.jit
        batched_steps(model, planned_steps)

    def _backup(self, backup_dir, history_paths, name, epochs):
        """The fit's `ResumableBackup`; resuming from it, the histories keep the epochs before
        the one it goes on from, and one line says so (the interrupted run's later rows go)."""

        def restored(epoch):
            for path in history_paths:
                keep_epochs_before(path, epoch)
            where = f"after epoch {epoch} of {epochs}" if epoch else "from the start (no backup could be read)"
            print(f"Resuming {name} {where}.", flush=True)

        return ResumableBackup(backup_dir, self.backup_seconds, on_restored=restored)

    def _history_path(self, history_name, backup_dir):
        history_path = self.history_dir / f"{history_name}.csv"
        if not backup_dir.exists() and history_path.exists():
            history_path.unlink()  # Left by an earlier, completed run: start its history anew.
        history_path.parent.mkdir(parents=True, exist_ok=True)
        return history_path

    @staticmethod
    def _loggers(history_path, tensorboard):
        return [
            keras.callbacks.CSVLogger(str(history_path), append=True),
            *([EpochScalars(*tensorboard, history_path=history_path)] if tensorboard else []),
        ]

    @staticmethod
    def _outcome(model, history_path, fit_seconds):
        history = read_history(history_path)
        losses = history.get("loss", [])
        return {
            "history": history,
            "epochs_trained": len(losses),
            "diverged": bool(losses) and not math.isfinite(losses[-1]),
            "fit_seconds": fit_seconds,
            # What really ran, beside the options that asked for it.
            "compute_dtype": model.dtype_policy.compute_dtype,
            "jit_compile": bool(model.jit_compile),
            "steps_per_execution": model.steps_per_execution,
        }

    def evaluate(self, model, dataset):
        """`[loss, accuracy]` of `model` on `dataset`: `model.evaluate`, or the strategy loop's."""
        if self.scale.custom_loop:
            return self._strategy_loop(model).evaluate(dataset)
        batched_steps(model, _batches(dataset))
        return model.evaluate(dataset, verbose=0)

    def _strategy_loop(self, model):
        if id(model) not in self._loops:
            self._loops[id(model)] = StrategyLoop(model, self.scale.strategy)
        return self._loops[id(model)]


class EpochScalars(keras.callbacks.Callback):
    """Writes every number of each epoch's logs (metrics, validation metrics, gradient norms,
    timings) to TensorBoard under `log_dir`, and the run's settings as its hyperparameters,
    so `tensorboard --logdir OUT` compares every run of every recipe."""

    def __init__(self, log_dir, hyperparameters, history_path=None):
        super().__init__()
        self.log_dir = str(log_dir)
        self.hyperparameters = hyperparameters
        # The run's CSV history: a resumed fit writes its epochs anew from it, so that each
        # epoch is in TensorBoard once, with the numbers of the run that went on.
        self.history_path = history_path
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hparams

        for events in Path(self.log_dir).glob("events.out.tfevents.*"):  # an earlier attempt's
            events.unlink()
        self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            hparams.hparams(self.hyperparameters)
        if self.history_path is not None and Path(self.history_path).exists():
            history = read_history(self.history_path)
            for epoch in range(len(next(iter(history.values()), []))):
                self._write(epoch, {name: values[epoch] for name, values in history.items()})

    def on_epoch_end(self, epoch, logs=None):
        self._write(epoch, logs)

    def _write(self, epoch, logs):
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


def batched_steps(model, planned_steps):
    """Runs `steps_per_execution()` batches per traced call when `model`'s graphs are about to
    run at least `BATCHING_PAYS_AFTER_STEPS` steps, one otherwise; decided before its first
    trace, and left alone where the recipe compiled `model` with a number of its own."""
    untraced = model.train_function is None and model.test_function is None
    if model.steps_per_execution == 1 and untraced and planned_steps >= BATCHING_PAYS_AFTER_STEPS:
        model.steps_per_execution = steps_per_execution()


def steps_per_epoch(data):
    """Steps of an epoch of `fit` on a `Dataset`: its training batches and its validation batches."""
    return _batches(data.train) + _batches(data.validation)


def _batches(dataset):
    count = int(dataset.cardinality())
    return count if count >= 0 else math.inf  # unknown or infinite: many


@contextlib.contextmanager
def saved_when_stopped(backup):
    """A fit stopped in the block (Ctrl-C or SIGTERM, which can come out of TensorFlow as
    another error, or a failure) saves the last finished epoch's state first, if no backup
    holds it yet."""
    try:
        yield
    except BaseException:
        try:
            backup.save_unsaved()
        except Exception as error:  # the fault may be the disk itself: the first error is the one to tell
            print(f"Warning: could not save the last epoch's state ({type(error).__name__}).", file=sys.stderr)
        raise


def keep_epochs_before(path, epoch):
    """Rewrites the CSV history at `path` with the rows of the epochs before `epoch` alone."""
    if not Path(path).exists():
        return
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        fields, rows = reader.fieldnames, [row for row in reader if int(row["epoch"]) < epoch]
    if fields is None:
        return
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


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
