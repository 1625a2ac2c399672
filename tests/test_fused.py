"""Fused seeds: each seed trained inside one fused model ends where its standalone run ends."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook import optimizers
from cookbook.callbacks import GradientNorms
from cookbook.data import Dataset
from cookbook.data import DatasetFacts
from cookbook.harness.fused import seed_logs
from cookbook.harness.fused import why_not_fused
from cookbook.harness.options import RunOptions
from cookbook.harness.trainer import Trainer
from cookbook.models import small_convnet
from cookbook.seeding import seed_everything

SEEDS = (3, 4)
EPOCHS = 2
TOLERANCE = 1e-5


def seed_data(seed, size=96, batch_size=16, weights=None):
    """Images of 8x8 whose class is their brightness, the training order shuffled by `seed`;
    `weights`, when given, weigh each training example's loss."""
    rng = np.random.default_rng(0)
    images = rng.random((size, 8, 8, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    whole = tf.data.Dataset.from_tensor_slices((images, labels))
    train = tf.data.Dataset.from_tensor_slices((images, labels) if weights is None else (images, labels, weights))
    train = train.shuffle(size, seed=seed).batch(batch_size)
    facts = DatasetFacts("bright", (8, 8, 1), 2, ("dark", "bright"), {"train": size})
    return Dataset(train, whole.batch(batch_size), whole.batch(batch_size), facts)


def uneven_weights(size=96):
    return np.where(np.arange(size) % 3 == 0, 3.0, 0.5).astype(np.float32)


def nan_weight(size=96):
    """A NaN weight on one example's loss: a NaN that reaches the loss on every instruction set
    (a NaN image need not: ReLU and max of a NaN give a number on some CPUs)."""
    return np.where(np.arange(size) == 5, np.nan, 1.0).astype(np.float32)


def seed_model(seed, optimizer=lambda: keras.optimizers.Adam(0.01)):
    """The recipes' small ConvNet with batch normalization and dropout, initialized by `seed`."""
    seed_everything(seed)
    model = small_convnet((8, 8, 1), 2, batch_norm=True, dropout=0.5)
    model.compile(optimizer(), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_trainer(folder):
    return Trainer(RunOptions(), history_dir=folder / "history", backup_seconds=0)


def standalone(folder, seed, optimizer, callbacks=(), weights=None):
    model = seed_model(seed, optimizer)
    outcome = make_trainer(folder).fit(
        model,
        seed_data(seed, weights=weights),
        history_name=f"seed{seed}",
        backup_dir=folder / f"backup{seed}",
        epochs=EPOCHS,
        callbacks=callbacks,
    )
    return model, outcome


def fused(folder, optimizer, callbacks=None, weights=None, epochs=EPOCHS):
    """`weights`: each seed's sample weights, or None."""
    members = [seed_model(seed, optimizer) for seed in SEEDS]
    outcomes = make_trainer(folder).fit_fused(
        members,
        [seed_data(seed, weights=seed_weights) for seed, seed_weights in zip(SEEDS, weights or [None] * len(SEEDS))],
        history_names=[f"seed{seed}" for seed in SEEDS],
        backup_dir=folder / "backup",
        epochs=epochs,
        callbacks=callbacks or [[] for _ in SEEDS],
        tensorboards=[None for _ in SEEDS],
    )
    return members, outcomes


def assert_same_training(alone, alone_outcome, member, fused_outcome):
    assert len(alone.variables) == len(member.variables)
    for expected, actual in zip(alone.variables, member.variables):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), atol=TOLERANCE, err_msg=expected.path)
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            fused_outcome["history"][metric], alone_outcome["history"][metric], atol=TOLERANCE, err_msg=metric
        )
    assert fused_outcome["epochs_trained"] == alone_outcome["epochs_trained"] == EPOCHS


@pytest.mark.parametrize(
    "optimizer",
    [lambda: keras.optimizers.Adam(0.01), lambda: optimizers.Momentum(0.05, momentum=0.9)],
    ids=["keras-adam", "cookbook-momentum"],
)
def test_each_fused_seed_ends_where_its_standalone_run_ends(tmp_path, optimizer):
    # Each seed has a gradient-norm probe: a recipe's callbacks see their own seed's model and logs.
    images, labels = next(iter(seed_data(0).validation))
    probes = [[GradientNorms(images, labels)] for _ in SEEDS]
    members, outcomes = fused(tmp_path / "fused", optimizer, probes)
    first, second = (member.get_layer("conv_1").kernel.numpy() for member in members)
    assert np.abs(first - second).max() > 1e-2  # the seeds differ, so a mix-up would show
    for seed, member, outcome in zip(SEEDS, members, outcomes):
        alone, alone_outcome = standalone(tmp_path / f"alone{seed}", seed, optimizer, [GradientNorms(images, labels)])
        assert_same_training(alone, alone_outcome, member, outcome)
        assert outcome["fused_seeds"] == len(SEEDS)
        norms = [key for key in alone_outcome["history"] if key.startswith("grad_norm/")]
        assert norms
        for key in norms:
            np.testing.assert_allclose(
                outcome["history"][key], alone_outcome["history"][key], atol=TOLERANCE, err_msg=key
            )


def test_each_fused_seed_weighs_its_examples_as_its_standalone_run_does(tmp_path):
    adam = lambda: keras.optimizers.Adam(0.01)  # noqa: E731
    weights = [uneven_weights(), np.flip(uneven_weights()).copy()]
    members, outcomes = fused(tmp_path / "fused", adam, weights=weights)
    for seed, seed_weights, member, outcome in zip(SEEDS, weights, members, outcomes):
        alone, alone_outcome = standalone(tmp_path / f"alone{seed}", seed, adam, weights=seed_weights)
        assert_same_training(alone, alone_outcome, member, outcome)


def test_a_diverging_seed_stops_the_fused_fit_and_asks_for_one_at_a_time(tmp_path):
    _, outcomes = fused(tmp_path, lambda: keras.optimizers.Adam(0.01), weights=[uneven_weights(), nan_weight()])
    assert outcomes is None
    assert not (tmp_path / "backup").exists()


def test_seed_logs_keep_a_seeds_own_metrics_and_the_shared_timings():
    logs = {"loss": 3.0, "seed_0_loss": 1.0, "seed_1_loss": 2.0, "val_seed_1_accuracy": 0.5, "epoch_seconds": 0.1}
    assert seed_logs(logs, 1) == {"loss": 2.0, "val_accuracy": 0.5, "epoch_seconds": 0.1}
    assert seed_logs(logs, 0) == {"loss": 1.0, "epoch_seconds": 0.1}


def test_why_not_fused_names_what_fusing_cannot_keep_per_seed():
    datasets = [seed_data(seed) for seed in SEEDS]
    assert why_not_fused([seed_model(seed) for seed in SEEDS], datasets) is None
    assert "single seed" in why_not_fused([seed_model(0)], datasets[:1])
    clipped = [seed_model(seed, lambda: keras.optimizers.Adam(global_clipnorm=1.0)) for seed in SEEDS]
    assert "clipping" in why_not_fused(clipped, datasets)
    wider = seed_model(1)
    seed_everything(1)
    wider = small_convnet((8, 8, 1), 2, filters=(8,), batch_norm=True)
    wider.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert "architecture" in why_not_fused([seed_model(0), wider], datasets)
    assert "numbers of batches" in why_not_fused([seed_model(s) for s in SEEDS], [datasets[0], seed_data(1, size=48)])
    weighted = [datasets[0], seed_data(1, weights=uneven_weights())]
    assert "sample weights" in why_not_fused([seed_model(s) for s in SEEDS], weighted)


TIMINGS = {"seconds", "fit_seconds", "epoch_seconds", "train_seconds"}


def assert_same_numbers(fused, alone, where="record"):
    """Every number of `fused` equals `alone`'s within the tolerance, timings aside."""
    if isinstance(alone, dict):
        assert set(fused) - {"fused_seeds"} == set(alone), where
        for key in alone:
            if key not in TIMINGS:
                assert_same_numbers(fused[key], alone[key], f"{where}.{key}")
    elif isinstance(alone, list):
        assert len(fused) == len(alone), where
        for index, (f, a) in enumerate(zip(fused, alone)):
            assert_same_numbers(f, a, f"{where}[{index}]")
    elif isinstance(alone, float):
        np.testing.assert_allclose(fused, alone, atol=TOLERANCE, err_msg=where)
    else:
        assert fused == alone, where


def run_dropout(data_dir, out, fused_seeds):
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.options import RunOptions
    from recipes import dropout

    config = RunOptions(data_dir=data_dir, out=str(out), quick=True, seeds=2, epochs=2, fused_seeds=fused_seeds)
    return run_recipe(dropout, config)


def test_a_real_recipe_measures_the_same_with_fused_seeds(data_dir, tmp_path):
    from recipes import dropout

    assert dropout.QUICK["training_percents"] == (10, 100)  # a subset, and the whole split
    alone = run_dropout(data_dir, tmp_path / "alone", fused_seeds=False)
    fused = run_dropout(data_dir, tmp_path / "fused", fused_seeds=True)
    assert set(fused["fused_seeds"].values()) == {"fused"}
    assert len(fused["fused_seeds"]) == len(alone["variants"])
    assert "fused_seeds" not in alone
    assert fused["verdict"] == alone["verdict"]
    for key, variant in alone["variants"].items():
        for fused_run, alone_run in zip(fused["variants"][key]["runs"], variant["runs"]):
            assert fused_run["fused_seeds"] == 2
            assert_same_numbers(fused_run, alone_run, key)


def test_runs_without_fit_and_recipes_that_ask_train_one_seed_at_a_time(tmp_path):
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.options import RunOptions
    from tests.recipe_files import SCORES
    from tests.recipe_files import write_recipe

    scores = write_recipe(tmp_path / "recipes", "scores", SCORES)
    result = run_recipe(scores, RunOptions(out=str(tmp_path / "out"), fused_seeds=True))
    assert set(result["fused_seeds"].values()) == {
        "its training does not go through run.fit, so there is no model to fuse"
    }
    assert len(scores.CALLS) == 4  # each seed's train ran once: its record was kept from the first pass
    assert [len(variant["runs"]) for variant in result["variants"].values()] == [2, 2]

    declared = write_recipe(tmp_path / "recipes", "declared", SCORES + '\nONE_SEED_AT_A_TIME = "it times steps"\n')
    result = run_recipe(declared, RunOptions(out=str(tmp_path / "out"), fused_seeds=True))
    assert set(result["fused_seeds"].values()) == {"it times steps"}


def test_an_interrupted_fused_fit_resumes_from_its_backup(tmp_path):
    from tests.test_trainer import EpochsSeen

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    optimizer = lambda: keras.optimizers.Adam(0.01)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        fused(tmp_path, optimizer, [[Interrupt()], []], epochs=3)
    _, outcomes = fused(tmp_path, optimizer, [[seen := EpochsSeen()], []], epochs=3)
    assert seen.epochs == [1, 2]  # epoch 0 came back from the backup, epoch 1 was cut short
    for outcome in outcomes:
        assert outcome["epochs_trained"] == 3
        assert len(outcome["history"]["val_loss"]) == 3


def test_the_command_line_asks_for_fused_seeds(tmp_path):
    import json

    from click.testing import CliRunner

    from cookbook.cli import main
    from tests.recipe_files import SCORES
    from tests.recipe_files import write_recipe

    write_recipe(tmp_path / "recipes", "scores", SCORES)
    recipe = str(tmp_path / "recipes" / "scores.py")
    for flags, expected in (([], False), (["--fused-seeds"], True)):
        out = tmp_path / f"out{expected}"
        result = CliRunner().invoke(main, ["run", recipe, *flags, "--out", str(out)])
        assert result.exit_code == 0, result.output
        written = json.loads((out / "scores" / "result.json").read_text())
        assert written["config"]["fused_seeds"] is expected
        assert ("fused_seeds" in written) is expected
    assert "--fused-seeds" in CliRunner().invoke(main, ["run", "--help"]).output


def test_a_fused_model_round_trips_its_config_and_fuses_members_without_metrics():
    from cookbook.harness.fused import FusedSeeds
    from cookbook.harness.fused import fuse

    def tiny(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")  # no metrics
        return model

    fused = fuse([tiny(0), tiny(1)])
    images = np.ones((4, 3), np.float32)
    labels = {"seed_0": np.zeros(4, np.int32), "seed_1": np.ones(4, np.int32)}
    logs = fused.fit((images, images), labels, epochs=1, verbose=0).history
    assert {"seed_0_loss", "seed_1_loss"} <= set(logs)
    again = FusedSeeds.from_config(fused.get_config())
    assert [len(m.layers) for m in again.members] == [len(m.layers) for m in fused.members]
    outputs = again((images, images))
    assert set(outputs) == {"seed_0", "seed_1"} and outputs["seed_0"].shape == (4, 2)


FITS = """
import random

import keras

DEFAULTS = {"epochs": 2, "batch_size": 16, "seeds": 3}
VARIANTS = ["dense"]
SEEN = []  # (seed, what happened), in the order it happened


def train(run):
    SEEN.append((run.seed, "train"))
    model = keras.Sequential(
        [keras.Input(run.data.facts.input_shape), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = random.random()  # the seed's random stream, left where its own run leaves it
    try:
        outcome = run.fit(model)
    except BaseException as error:  # a recipe of its own may catch anything: nothing may reach it
        SEEN.append((run.seed, f"caught {type(error).__name__}"))
        raise
    SEEN.append((run.seed, "fitted"))
    return {"loss": outcome["history"]["loss"][-1], "after": random.random(), "before": before,
            "test_accuracy": run.evaluate(model, run.data.test)[1]}


def conclude(results):
    return Conclusion({"trained": lower([0.0, 0.0], [1.0, 1.0])}, "Trained.", {})
"""


def test_fused_seeds_run_each_train_once_and_raise_nothing_through_it(tmp_path, data_dir):
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.options import RunOptions
    from tests.recipe_files import write_recipe

    recipe = write_recipe(tmp_path / "recipes", "fits", FITS)
    options = RunOptions(out=str(tmp_path / "fused"), data_dir=data_dir, fused_seeds=True)
    fused = run_recipe(recipe, options)
    assert fused["fused_seeds"] == {"dense": "fused"}
    # Every seed's train ran up to its fit, the fit trained them together, then each went on.
    assert recipe.SEEN == [(0, "train"), (1, "train"), (2, "train"), (0, "fitted"), (1, "fitted"), (2, "fitted")]
    recipe.SEEN.clear()
    alone = run_recipe(recipe, RunOptions(out=str(tmp_path / "alone"), data_dir=data_dir))
    assert recipe.SEEN == [(0, "train"), (0, "fitted"), (1, "train"), (1, "fitted"), (2, "train"), (2, "fitted")]
    for fused_run, alone_run in zip(fused["variants"]["dense"]["runs"], alone["variants"]["dense"]["runs"]):
        assert fused_run["fused_seeds"] == 3
        del fused_run["steps_per_execution"], alone_run["steps_per_execution"]  # how it ran, not what
        assert_same_numbers(fused_run, alone_run, "dense")
