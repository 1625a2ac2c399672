import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from cookbook.data import Dataset
from cookbook.data import DatasetFacts
from cookbook.errors import CookbookError
from cookbook.experiment import Experiment
from cookbook.experiment import RunConfig
from cookbook.experiment import read_history
from cookbook.experiment import summarize_records
from cookbook.statistics import HOLDS

DEFAULTS = {"epochs": 5, "batch_size": 16, "seeds": 3}
QUICK = {"epochs": 1, "seeds": 1}


def tiny_data(size=64, corrupt=False):
    rng = np.random.default_rng(0)
    images = rng.random((size, 4, 4, 1), dtype=np.float32)
    if corrupt:
        images[20] = np.nan
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    split = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    facts = DatasetFacts("tiny", (4, 4, 1), 2, ("low", "high"), {"train": size})
    return Dataset(split, split, split, facts)


def tiny_model(learning_rate=0.1):
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(
        keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def make_experiment(tmp_path, **config):
    return Experiment("demo", "a claim", RunConfig(out=str(tmp_path), verbose=0, **config), DEFAULTS, QUICK)


@pytest.mark.parametrize("name", ["epochs", "batch_size", "seeds"])
@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_config_refuses_non_positive_settings(name, value):
    with pytest.raises(CookbookError, match=name):
        RunConfig(**{name: value})


def test_settings_resolve_user_over_quick_over_defaults(tmp_path):
    assert make_experiment(tmp_path).settings == DEFAULTS
    quick = make_experiment(tmp_path, quick=True)
    assert (quick.epochs, quick.batch_size, len(quick.seeds)) == (1, 16, 1)
    chosen = make_experiment(tmp_path, quick=True, epochs=7, seeds=2, seed=10)
    assert chosen.epochs == 7 and chosen.seeds == [10, 11]


def test_run_seeds_seeds_each_run_and_resumes_finished_ones(tmp_path):
    calls = []

    def train_one(seed):
        calls.append(seed)
        return {"value": float(np.random.random()), "seed_seen": seed}

    first = make_experiment(tmp_path, seeds=2).run_seeds("variant", train_one)
    assert calls == [0, 1]
    assert [r["seed_seen"] for r in first] == [0, 1]
    # Seeding makes the "random" values a function of the seed.
    again = make_experiment(tmp_path / "other", seeds=2).run_seeds("variant", train_one)
    assert [r["value"] for r in again] == [r["value"] for r in first]

    # Same settings and folder: finished seeds are read back, not trained again.
    calls.clear()
    resumed = make_experiment(tmp_path, seeds=2).run_seeds("variant", train_one)
    assert calls == [] and resumed == first
    # Different settings never reuse them.
    make_experiment(tmp_path, seeds=2, epochs=9).run_seeds("variant", train_one)
    assert calls == [0, 1]


def test_fit_records_history_and_epoch_times(tmp_path):
    experiment = make_experiment(tmp_path)
    run = experiment.fit(tiny_model(), tiny_data(), variant="v", seed=0, epochs=3)
    assert run["epochs_trained"] == 3 and not run["diverged"]
    assert len(run["history"]["loss"]) == 3
    assert len(run["history"]["val_accuracy"]) == 3
    assert all(seconds > 0 for seconds in run["history"]["epoch_seconds"])
    for total, training in zip(run["history"]["epoch_seconds"], run["history"]["train_seconds"]):
        assert 0 < training < total  # validation comes after training, within the epoch
    assert (tmp_path / "demo" / "history" / "v-seed0.csv").exists()


def test_fit_stops_on_nan_and_reports_divergence(tmp_path, capsys):
    data = tiny_data(corrupt=True)  # a NaN pixel in the second batch
    run = make_experiment(tmp_path).fit(tiny_model(), data, variant="v", seed=0, epochs=5)
    assert run["diverged"]
    assert run["epochs_trained"] < 5
    assert "loss became NaN" in capsys.readouterr().out


def test_fit_resumes_from_backup_after_interruption(tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_experiment(tmp_path).fit(
            tiny_model(), tiny_data(), variant="v", seed=0, epochs=4, callbacks=[Interrupt()]
        )
    model = tiny_model()
    run = make_experiment(tmp_path).fit(model, tiny_data(), variant="v", seed=0, epochs=4)
    # Epochs 1-2 came from the interrupted run (the backup of epoch 1), 3-4 were trained now.
    assert run["epochs_trained"] == 4
    assert int(model.optimizer.iterations.numpy()) == 4 * 4


def test_read_history_keeps_the_last_row_of_a_repeated_epoch(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,loss\n0,3.0\n1,2.0\n1,1.5\n2,nan\n")
    history = read_history(path)
    assert history["loss"][:2] == [3.0, 1.5]
    assert np.isnan(history["loss"][2])


def test_summarize_records_covers_shared_numeric_fields():
    records = [
        {"seed": 0, "accuracy": 0.5, "epochs": None, "name": "x", "ok": True},
        {"seed": 1, "accuracy": 0.7, "epochs": 3, "name": "y", "ok": False},
    ]
    summary = summarize_records(records)
    assert set(summary) == {"accuracy", "epochs"}
    assert summary["accuracy"]["mean"] == pytest.approx(0.6)
    assert summary["epochs"]["mean"] == 3


def test_conclude_writes_the_result_and_clears_progress(tmp_path):
    experiment = make_experiment(tmp_path, seeds=2)
    experiment.run_seeds("a", lambda seed: {"score": seed + 1.0})
    result = experiment.conclude(HOLDS, "because", measurements={"ratio": 2.0})
    on_disk = json.loads((tmp_path / "demo" / "result.json").read_text())
    assert on_disk == result
    for key in ("recipe", "claim", "verdict", "evidence", "variants", "config", "environment", "seconds"):
        assert key in on_disk
    assert on_disk["variants"]["a"]["summary"]["score"]["mean"] == 1.5
    assert on_disk["config"]["resolved"]["seeds"] == 2
    assert not (tmp_path / "demo" / ".progress").exists()


def test_conclude_refuses_an_unknown_verdict(tmp_path):
    with pytest.raises(ValueError, match="verdict"):
        make_experiment(tmp_path).conclude("probably", "")


def test_run_variants_passes_each_spec_and_keeps_names(tmp_path):
    experiment = make_experiment(tmp_path, seeds=2)
    runs = experiment.run_variants({"small": 1, "large": 10}, lambda size, seed: {"score": size + seed})
    assert {name: [r["score"] for r in records] for name, records in runs.items()} == {
        "small": [1, 2], "large": [10, 11]
    }
    assert experiment.run_variants(["a"], lambda name, seed: {"name": name})["a"][0]["name"] == "a"


def test_conclude_from_parts_combines_and_lists_them(tmp_path):
    experiment = make_experiment(tmp_path)
    result = experiment.conclude_from_parts(
        {"faster": HOLDS, "cheaper": "inconclusive"}, "Numbers.", measurements={"ratio": 2.0}
    )
    assert result["verdict"] == "inconclusive"
    assert result["evidence"] == "Numbers. Parts: faster: holds; cheaper: inconclusive."
    assert result["measurements"] == {"parts": {"faster": HOLDS, "cheaper": "inconclusive"}, "ratio": 2.0}


def dropout_model():
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
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_reuse_traced_matches_a_fresh_model_seed_for_seed(tmp_path):
    experiment = Experiment("tiny", "c", RunConfig(out=str(tmp_path), verbose=0), DEFAULTS)

    def train(seed, reuse):
        keras.utils.set_random_seed(seed)
        model = dropout_model()
        if reuse:
            model = experiment.reuse_traced(model, "dropout")
        model.fit(tiny_data().train, epochs=3, verbose=0)
        return model, [w.copy() for w in model.get_weights()]

    fresh = {seed: train(seed, reuse=False)[1] for seed in (1, 2)}
    first, first_weights = train(1, reuse=True)
    second, second_weights = train(2, reuse=True)  # the seed-1 model, given seed 2's start
    assert second is first
    for expected, actual in zip(fresh[1] + fresh[2], first_weights + second_weights):
        np.testing.assert_array_equal(actual, expected)
    assert int(second.optimizer.iterations.numpy()) == 3 * 4  # counted from zero again


def test_reuse_traced_refuses_a_different_architecture(tmp_path):
    experiment = Experiment("tiny", "c", RunConfig(out=str(tmp_path), verbose=0), DEFAULTS)
    experiment.reuse_traced(dropout_model(), "model")
    with pytest.raises(ValueError, match="differs"):
        experiment.reuse_traced(tiny_model(), "model")
