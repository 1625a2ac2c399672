"""Training through the harness: histories, divergence, resuming, and traced graphs reused
per architecture without changing a number."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook.data import Dataset
from cookbook.data import DatasetFacts
from cookbook.harness import trainer as trainer_module
from cookbook.harness.experiment import run_recipe
from cookbook.harness.options import RunOptions
from cookbook.harness.trainer import STEPS_PER_EXECUTION
from cookbook.harness.trainer import Trainer
from cookbook.harness.trainer import read_history
from cookbook.harness.trainer import steps_per_epoch
from cookbook.twins import architecture_key
from cookbook.twins import copy_state
from tests.recipe_files import write_recipe


def tiny_data(size=64, corrupt=False, batch_size=16):
    rng = np.random.default_rng(0)
    images = rng.random((size, 4, 4, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    if corrupt:
        # A NaN weight on example 20's loss: a NaN that reaches the loss on every instruction
        # set. (A NaN image need not: ReLU, max and clipping of a NaN give a number on some CPUs.)
        weights = np.where(np.arange(size) == 20, np.nan, 1.0).astype(np.float32)
        split = tf.data.Dataset.from_tensor_slices((images, labels, weights)).batch(batch_size)
    else:
        split = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    facts = DatasetFacts("tiny", (4, 4, 1), 2, ("low", "high"), {"train": size})
    return Dataset(split, split, split, facts)


def tiny_model(learning_rate=0.1, activation="relu", name=None, momentum=0.0):
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation=activation),
            keras.layers.Dense(2, activation="softmax"),
        ],
        name=name,
    )
    model.compile(
        keras.optimizers.SGD(learning_rate, momentum=momentum), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


@pytest.fixture()
def trainer(tmp_path):
    return Trainer(RunOptions(), history_dir=tmp_path / "history", backup_seconds=0)


def fit(trainer, tmp_path, model, data, epochs=3, callbacks=()):
    return trainer.fit(
        model, data, history_name="v-seed0", backup_dir=tmp_path / "backup", epochs=epochs, callbacks=callbacks
    )


def test_fit_records_history_and_epoch_times(trainer, tmp_path):
    run = fit(trainer, tmp_path, tiny_model(), tiny_data())
    assert run["epochs_trained"] == 3 and not run["diverged"]
    assert len(run["history"]["loss"]) == 3 and len(run["history"]["val_accuracy"]) == 3
    for total, training in zip(run["history"]["epoch_seconds"], run["history"]["train_seconds"]):
        assert 0 < training < total  # validation comes after training, within the epoch
    assert (tmp_path / "history" / "v-seed0.csv").exists()


def test_fit_stops_on_nan_and_reports_divergence(trainer, tmp_path):
    run = fit(trainer, tmp_path, tiny_model(), tiny_data(corrupt=True), epochs=5)  # a NaN in batch 2
    assert run["diverged"] and run["epochs_trained"] < 5


def test_fit_resumes_from_backup_after_interruption(trainer, tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(trainer, tmp_path, tiny_model(), tiny_data(), epochs=4, callbacks=[Interrupt()])
    model = tiny_model()
    run = fit(trainer, tmp_path, model, tiny_data(), epochs=4, callbacks=[started := EpochsSeen()])
    assert started.epochs == [1, 2, 3]  # the interrupt came before epoch 2's backup
    assert run["epochs_trained"] == 4
    assert int(model.optimizer.iterations.numpy()) == 4 * 4


class EpochsSeen(keras.callbacks.Callback):
    """Records the epochs a fit begins."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def batching_trainer(tmp_path, monkeypatch, pays_after, fits_per_graph=1):
    monkeypatch.setattr(trainer_module, "BATCHING_PAYS_AFTER_STEPS", pays_after)
    folder = tmp_path / f"pays-after-{pays_after}-fits-{fits_per_graph}"
    return Trainer(
        RunOptions(),
        history_dir=folder,
        backup_seconds=0,
        fits_per_graph=fits_per_graph,
    )


def test_steps_are_batched_only_where_the_graphs_run_enough_of_them(tmp_path, monkeypatch):
    data = tiny_data()
    planned = 3 * steps_per_epoch(data)  # `fit` trains 3 epochs, each with its validation
    assert planned == 3 * (4 + 4)
    for pays_after, fits_per_graph, expected in (
        (planned, 1, STEPS_PER_EXECUTION),
        (planned + 1, 1, 1),
        (2 * planned, 2, STEPS_PER_EXECUTION),  # a graph that serves two fits, one per seed
        (2 * planned + 1, 2, 1),
    ):
        trainer = batching_trainer(tmp_path, monkeypatch, pays_after, fits_per_graph)
        outcome = fit(trainer, tmp_path / f"{pays_after}-{fits_per_graph}", tiny_model(), data)
        assert outcome["steps_per_execution"] == expected, (pays_after, fits_per_graph)


def test_a_recipe_s_own_steps_per_execution_is_kept(tmp_path, monkeypatch):
    for pays_after in (0, float("inf")):
        model = tiny_model()
        model.steps_per_execution = 3
        outcome = fit(
            batching_trainer(tmp_path, monkeypatch, pays_after), tmp_path / str(pays_after), model, tiny_data()
        )
        assert outcome["steps_per_execution"] == 3


def test_batched_and_single_steps_train_the_same_numbers(tmp_path, monkeypatch):
    data = tiny_data()
    weights = {}
    for pays_after in (0, float("inf")):
        keras.utils.set_random_seed(4)
        model = dropout_model()  # dropout: each step draws its own mask from the seed state
        trainer = batching_trainer(tmp_path, monkeypatch, pays_after)
        outcome = fit(trainer, tmp_path / str(pays_after), model, data)
        weights[outcome["steps_per_execution"]] = model.get_weights()
    assert set(weights) == {STEPS_PER_EXECUTION, 1}
    for batched, single in zip(weights[STEPS_PER_EXECUTION], weights[1]):
        np.testing.assert_array_equal(batched, single)


def test_read_history_keeps_the_last_row_of_a_repeated_epoch(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,loss\n0,3.0\n1,2.0\n1,1.5\n2,nan\n")
    history = read_history(path)
    assert history["loss"][:2] == [3.0, 1.5]
    assert np.isnan(history["loss"][2])


def test_architecture_key_ignores_names_and_sees_everything_traced():
    batch = next(iter(tiny_data().validation))
    key = architecture_key(tiny_model(name="a"), batch)
    assert architecture_key(tiny_model(name="b"), batch) == key  # auto-named layers differ too
    assert architecture_key(tiny_model(activation="tanh"), batch) != key
    assert architecture_key(tiny_model(momentum=0.9), batch) != key
    assert architecture_key(tiny_model(), next(iter(tiny_data(batch_size=8).validation))) == key
    assert architecture_key(tiny_model(), (batch[0][:, :2], batch[1])) != key
    assert architecture_key(tiny_model(), (tf.cast(batch[0], "float64"), batch[1])) != key
    # A learning rate in a variable is read by the traced step, not traced into it; a schedule is.
    assert architecture_key(tiny_model(learning_rate=0.5), batch) == key
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    scheduled = architecture_key(tiny_model(learning_rate=decay), batch)
    assert scheduled != key
    slower = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.9)
    assert architecture_key(tiny_model(learning_rate=slower), batch) != scheduled


def test_a_twin_trains_exactly_as_the_fresh_model_would(trainer, tmp_path):
    data = tiny_data()
    batch = next(iter(data.validation))

    def trained(seed, through_twin):
        keras.utils.set_random_seed(seed)
        model = dropout_model()
        twin = trainer.twins.load(model, batch) if through_twin else model
        twin.fit(data.train, epochs=3, verbose=0)
        return twin, [w.copy() for w in twin.get_weights()]

    fresh = [trained(seed, through_twin=False)[1] for seed in (1, 2)]
    first, first_weights = trained(1, through_twin=True)
    second, second_weights = trained(2, through_twin=True)  # seed 2's model lends its start to the twin
    assert second is first
    for expected, actual in zip(fresh[0] + fresh[1], first_weights + second_weights):
        np.testing.assert_array_equal(actual, expected)
    assert int(second.optimizer.iterations.numpy()) == 3 * 4  # counted from zero again


def test_a_learning_rate_sweep_shares_one_twin_and_trains_as_fresh_models(trainer):
    data = tiny_data()
    batch = next(iter(data.validation))

    def trained(learning_rate, through_twin):
        keras.utils.set_random_seed(3)
        model = dropout_model(learning_rate)
        twin = trainer.twins.load(model, batch) if through_twin else model
        twin.fit(data.train, epochs=2, verbose=0)
        return twin, [w.copy() for w in twin.get_weights()]

    rates = (0.01, 0.3, 0.001)
    fresh = [trained(rate, through_twin=False)[1] for rate in rates]
    twins, weights = zip(*(trained(rate, through_twin=True) for rate in rates))
    assert twins[0] is twins[1] is twins[2]  # one traced graph for the sweep
    assert float(twins[2].optimizer.learning_rate.numpy()) == pytest.approx(0.001)
    for expected, actual in zip(fresh, weights):
        for e, a in zip(expected, actual):
            np.testing.assert_array_equal(a, e)
    assert not np.allclose(fresh[0][0], fresh[1][0])  # the rates do train differently


def test_runs_at_other_batch_sizes_share_one_twin_and_train_as_fresh_models(trainer):
    def data(batch_size, drop_remainder=False):
        rng = np.random.default_rng(0)
        images = rng.random((60, 4, 4, 1), dtype=np.float32)
        labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
        return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size, drop_remainder=drop_remainder)

    def trained(dataset, through_twin):
        keras.utils.set_random_seed(5)
        model = dropout_model()
        twin = trainer.twins.load(model, next(iter(dataset))) if through_twin else model
        twin.fit(dataset, epochs=2, verbose=0)
        return twin, twin.get_weights()

    # The last: a static batch size (no remainder), which `tf.function` traces anew by itself.
    datasets = [data(16), data(7), data(60), data(8, drop_remainder=True)]
    fresh = [trained(dataset, through_twin=False)[1] for dataset in datasets]
    twins, weights = zip(*(trained(dataset, through_twin=True) for dataset in datasets))
    assert all(twin is twins[0] for twin in twins)
    for expected, actual in zip(fresh, weights):
        for e, a in zip(expected, actual):
            np.testing.assert_array_equal(a, e)


def dropout_model(learning_rate=0.01):
    from cookbook.layers import Dropout

    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu"),
            Dropout(0.5),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_copy_state_refuses_a_different_architecture():
    with pytest.raises(ValueError, match="differ"):
        copy_state(dropout_model(), tiny_model())


TRAINED_WEIGHTS = """
import json

import keras

from tests.test_trainer import dropout_model
from tests.test_trainer import tiny_data

DEFAULTS = {"epochs": 2, "batch_size": 16, "seeds": 2}
VARIANTS = ("a", "b")


def train(run):
    model = dropout_model()
    data = tiny_data()
    run.fit(model, data)
    return {
        "weights": [w.tolist() for w in model.get_weights()],
        "test_accuracy": run.evaluate(model, data.test)[1],
    }


def conclude(results):
    return Conclusion({}, "")
"""


def test_the_recipe_model_holds_what_its_twin_trained(tmp_path):
    """Seeds and variants after the first train a twin; the numbers are those of a fresh run."""
    recipe = write_recipe(tmp_path / "recipes", "weights", TRAINED_WEIGHTS)
    together = run_recipe(recipe, RunOptions(out=str(tmp_path / "together"), verbose=0))
    alone = write_recipe(tmp_path / "alone_recipes", "weights", TRAINED_WEIGHTS.replace('("a", "b")', '("b",)'))
    for seed in (0, 1):
        separate = run_recipe(alone, RunOptions(out=str(tmp_path / f"alone{seed}"), verbose=0, seed=seed, seeds=1))
        expected = separate["variants"]["b"]["runs"][0]
        actual = together["variants"]["b"]["runs"][seed]
        assert actual["weights"] == expected["weights"]
        assert actual["test_accuracy"] == expected["test_accuracy"]
        assert actual["history"]["loss"] == expected["history"]["loss"]


def test_every_run_is_logged_for_tensorboard(tmp_path):
    import tensorflow as tf

    recipe = write_recipe(tmp_path / "recipes", "weights", TRAINED_WEIGHTS)
    run_recipe(recipe, RunOptions(out=str(tmp_path / "out"), verbose=0))
    runs = sorted(
        p.relative_to(tmp_path / "out" / "weights" / "tensorboard")
        for p in (tmp_path / "out" / "weights" / "tensorboard").glob("*/*")
    )
    assert [str(p) for p in runs] == ["a/seed-0", "a/seed-1", "b/seed-0", "b/seed-1"]
    scalars, plugins = {}, set()
    for events in (tmp_path / "out" / "weights" / "tensorboard" / "b" / "seed-1").glob("events.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                plugins.add(value.metadata.plugin_data.plugin_name)
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalars.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    history = json.loads((tmp_path / "out" / "weights" / "result.json").read_text())["variants"]["b"]["runs"][1]
    assert [step for step, _ in scalars["loss"]] == [1, 2]
    assert [value for _, value in scalars["val_accuracy"]] == pytest.approx(history["history"]["val_accuracy"])
    assert "hparams" in plugins  # the run's variant, seed and settings


def test_an_experiment_counts_each_seed_s_fit_on_its_architecture_s_graphs(tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path / "recipes", "weights", TRAINED_WEIGHTS)
    planned = 2 * steps_per_epoch(tiny_data()) * 2  # 2 epochs, 2 seeds through one twin
    for pays_after, expected in ((planned, STEPS_PER_EXECUTION), (planned + 1, 1)):
        monkeypatch.setattr(trainer_module, "BATCHING_PAYS_AFTER_STEPS", pays_after)
        result = run_recipe(recipe, RunOptions(out=str(tmp_path / str(pays_after)), verbose=0))
        runs = [run for variant in result["variants"].values() for run in variant["runs"]]
        assert [run["steps_per_execution"] for run in runs] == [expected] * 4
