"""Nuisance tuning: successive halving, and the harness tuning each variant before its seeds."""

import json
import math

import pytest

from cookbook.harness.experiment import run_recipe
from cookbook.harness.options import RunOptions
from cookbook.harness.plan import Plan
from cookbook.harness.tuning import Tuning
from cookbook.harness.tuning import successive_halving
from cookbook.harness.tuning import trial_count
from tests.recipe_files import write_recipe

RATES = (0.001, 0.01, 0.1, 1.0)


def tuning(**options):
    return Tuning({"learning_rate": RATES}, lambda record: record["val"], "validation score", **options)


def test_each_rung_keeps_the_best_third_and_trains_it_longer():
    calls = []

    def evaluate(nuisance, epochs):
        calls.append((nuisance["learning_rate"], epochs))
        return -abs(math.log10(nuisance["learning_rate"]) + 1) + epochs  # best at 0.1

    search = successive_halving(tuning().trials(), [3, 9], 3, evaluate)
    assert calls == [(0.001, 3), (0.01, 3), (0.1, 3), (1.0, 3), (0.01, 9), (0.1, 9)]  # ceil(4 / 3) = 2 go on
    assert search["chosen"] == {"learning_rate": 0.1}
    assert len(search["trials"]) == trial_count(tuning(), 9) == 6
    assert [t["rung"] for t in search["trials"]] == [0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("failed", [None, float("nan"), float("inf") * 0])
def test_a_trial_without_a_number_ranks_last_and_ties_keep_the_earlier(failed):
    scores = {0.001: 0.5, 0.01: failed, 0.1: 0.5, 1.0: 0.2}
    search = successive_halving(tuning().trials(), [4], 3, lambda n, e: scores[n["learning_rate"]])
    assert search["chosen"] == {"learning_rate": 0.001}


def test_a_space_of_one_point_is_chosen_without_training_a_trial():
    one = tuning(quick_space={"learning_rate": (0.01,)})

    def evaluate(nuisance, epochs):
        raise AssertionError("a trial was trained")

    assert successive_halving(one.trials(quick=True), [1, 3], 3, evaluate) == {
        "trials": [],
        "chosen": {"learning_rate": 0.01},
    }
    assert trial_count(one, 9, quick=True) == 0 and trial_count(one, 9) == 6


def test_rungs_end_at_the_recipes_epochs_and_quick_uses_its_own_space():
    assert tuning().rung_epochs(15) == [5, 15]
    assert tuning(rungs=3).rung_epochs(2) == [1, 1, 2]
    quick = tuning(quick_space={"learning_rate": (0.01,)})
    assert quick.trials(quick=True) == [{"learning_rate": 0.01}]
    assert len(quick.trials()) == 4


@pytest.mark.parametrize(
    "space, options",
    [({"learning rate": (1,)}, {}), ({"lr": ()}, {}), ({"lr": (1,)}, {"halving": 1}), ({"lr": (1,)}, {"rungs": 0})],
)
def test_a_bad_declaration_is_refused(space, options):
    with pytest.raises(ValueError, match="Tuning"):
        Tuning(space, lambda record: 0.0, "score", **options)


# Each variant has its own best learning rate; the verdict compares them at their best.
TUNED = """
from cookbook.harness.tuning import Tuning

DEFAULTS = {"epochs": 6, "batch_size": 16, "seeds": 3}
QUICK = {"epochs": 1, "seeds": 1}
VARIANTS = {"slow": 0.01, "fast": 0.1}  # each variant's best rate
TUNING = Tuning(
    {"learning_rate": (0.001, 0.01, 0.1, 1.0)},
    lambda record: record["val_score"],
    "validation score",
    quick_space={"learning_rate": (0.01, 0.1)},
)
CALLS = []


def train(run):
    rate = run.nuisance["learning_rate"]
    CALLS.append((run.variant, rate, run.epochs, run.seed))
    closeness = -abs(np.log10(rate) - np.log10(run.spec))
    bonus = 0.5 if run.variant == "fast" else 0.0
    return {"val_score": closeness + run.epochs / 10, "test_score": closeness + bonus, "rate": rate}


def conclude(results):
    score = results.column("test_score")
    return Conclusion({"fast wins": lower(score["slow"], score["fast"])}, "Scores.")
"""


def test_the_harness_tunes_each_variant_then_trains_its_seeds_at_the_chosen_point(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "tuned", TUNED)
    options = RunOptions(out=str(tmp_path / "out"), verbose=0, seed=3)
    assert Plan.of(recipe, options).runs == 2 * (3 + 6)
    result = run_recipe(recipe, options)
    decisive = [(variant, rate, seed) for variant, rate, epochs, seed in recipe.CALLS if seed != 6]
    assert decisive == [("slow", 0.01, 3), ("slow", 0.01, 4), ("slow", 0.01, 5)] + [
        ("fast", 0.1, 3),
        ("fast", 0.1, 4),
        ("fast", 0.1, 5),
    ]
    trials = [(variant, rate, epochs) for variant, rate, epochs, seed in recipe.CALLS if seed == 6]
    assert trials[:4] == [("slow", rate, 2) for rate in (0.001, 0.01, 0.1, 1.0)]
    assert [epochs for _, _, epochs in trials] == [2, 2, 2, 2, 6, 6] * 2
    search = result["tuning"]["fast"]
    assert search["chosen"] == {"learning_rate": 0.1} and search["seed"] == 6 and search["budget"] == 6
    assert search["space"] == {"learning_rate": [0.001, 0.01, 0.1, 1.0]}
    assert search["objective"] == "validation score"
    assert [t["objective"] for t in search["trials"] if t["rung"] == 1] == pytest.approx([-1 + 0.6, 0.6])
    assert result["variants"]["slow"]["nuisance"] == {"learning_rate": 0.01}
    assert [r["rate"] for r in result["variants"]["slow"]["runs"]] == [0.01] * 3
    assert result["variants"]["fast"]["summary"]["test_score"]["mean"] == pytest.approx(0.5)  # at its best rate
    assert (tmp_path / "out" / "tuned" / "tuning.png").stat().st_size > 1000
    assert "tuning.png" in result["plots"]
    assert json.loads((tmp_path / "out" / "tuned" / "result.json").read_text())["tuning"] == result["tuning"]


INTERRUPTED_IN_TUNING = (
    TUNED.replace(
        "def train(run):\n",
        "def train(run):\n    if run.variant == 'fast' and run.epochs == 6 and not STOPPED:\n"
        "        STOPPED.append(True)\n        raise KeyboardInterrupt\n",
    )
    + "\nSTOPPED = []\n"
)


def test_an_interrupted_search_resumes_without_training_its_finished_trials_again(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "tuned", INTERRUPTED_IN_TUNING)
    options = RunOptions(out=str(tmp_path / "out"), verbose=0)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, options)
    before = len(recipe.CALLS)
    result = run_recipe(recipe, options)
    again = recipe.CALLS[before:]
    assert all(call[0] == "fast" for call in again)  # slow's search and seeds were kept
    assert [call[2] for call in again if call[3] == 3] == [6, 6]  # fast's rung 1, then its seeds
    assert len(again) == 2 + 3
    assert result["tuning"]["fast"]["chosen"] == {"learning_rate": 0.1}


def test_quick_searches_its_own_smaller_space(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "tuned", TUNED)
    result = run_recipe(recipe, RunOptions(out=str(tmp_path / "out"), verbose=0, quick=True))
    assert result["tuning"]["slow"]["space"] == {"learning_rate": [0.01, 0.1]}
    assert [t["epochs"] for t in result["tuning"]["slow"]["trials"]] == [1, 1, 1]


def test_the_epoch_budget_is_where_the_chosen_trials_validation_peaked():
    tuned = tuning(epochs_from="val_accuracy")
    assert tuned.budget_from({"val_accuracy": [0.5, 0.7, 0.9, 0.9, 0.8]}) == {"epochs": 3}  # the first peak
    assert tuned.budget_from({"val_accuracy": [float("nan"), 0.2]}) == {"epochs": 2}
    assert tuned.budget_from({"val_accuracy": [float("nan")]}) == {} == tuned.budget_from(None)
    assert tuning().budget_from({"val_accuracy": [0.5, 0.7]}) == {}  # not asked for
    with pytest.raises(ValueError, match="epochs_from"):
        Tuning({"epochs": (1, 2)}, lambda record: 0.0, "score", epochs_from="val_accuracy")


EARLY_STOPPED = TUNED.replace(
    '    quick_space={"learning_rate": (0.01, 0.1)},\n)',
    '    quick_space={"learning_rate": (0.01, 0.1)},\n    epochs_from="val_accuracy",\n)',
).replace(
    '    return {"val_score": closeness',
    "    peak = 2 if run.variant == 'fast' else 5  # the epoch each variant's validation peaks at\n"
    "    history = {'val_accuracy': [1 - abs(epoch - peak) / 10 for epoch in range(1, run.epochs + 1)]}\n"
    '    return {"history": history, "val_score": closeness',
)


def test_decisive_seeds_train_the_tuned_epoch_budget(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "tuned", EARLY_STOPPED)
    result = run_recipe(recipe, RunOptions(out=str(tmp_path / "out"), verbose=0, seed=3))
    decisive = [(variant, rate, epochs) for variant, rate, epochs, seed in recipe.CALLS if seed != 6]
    assert decisive == [("slow", 0.01, 5)] * 3 + [("fast", 0.1, 2)] * 3
    assert result["tuning"]["fast"]["chosen"] == {"learning_rate": 0.1, "epochs": 2}
    assert result["variants"]["slow"]["nuisance"] == {"learning_rate": 0.01, "epochs": 5}
    assert "epochs where val_accuracy peaked" in result["tuning"]["slow"]["rule"]


def test_quasi_random_rates_spread_over_the_log_range_and_nest():
    from cookbook.harness.tuning import quasi_random_log

    sixteen = quasi_random_log(16, 1e-4, 1.0)
    assert len(set(sixteen)) == 16 and min(sixteen) == 1e-4 and max(sixteen) < 1.0
    exponents = sorted(math.log10(rate) for rate in sixteen)
    assert max(b - a for a, b in zip(exponents, exponents[1:])) < 0.3  # no gap over a third of a decade
    assert quasi_random_log(4, 1e-4, 1.0) == sixteen[:4]  # a larger budget tries every smaller one's points
    assert sorted(quasi_random_log(4, 1e-4, 1.0)) == [1e-4, 1e-3, 1e-2, 1e-1]
    with pytest.raises(ValueError, match="count"):
        quasi_random_log(0, 1e-4, 1.0)


BUDGETED = TUNED.replace(
    'TUNING = Tuning(\n    {"learning_rate": (0.001, 0.01, 0.1, 1.0)},',
    "CONDITIONS = {'one': 1, 'four': 4}\n"
    "def space(variant, budget):\n"
    "    return {'learning_rate': (0.02,) if budget == 1 else (0.001, 0.01, 0.1, 1.0)[:budget]}\n"
    "TUNING = Tuning(\n    space,",
).replace('score = results.column("test_score")', 'score = results.at("four").column("test_score")')


def test_a_space_may_depend_on_the_variant_and_the_condition(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "tuned", BUDGETED)
    options = RunOptions(out=str(tmp_path / "out"), verbose=0, seed=3)
    assert Plan.of(recipe, options).runs == 2 * 3 + 2 * (3 + 6)  # 'one' trains no trial
    result = run_recipe(recipe, options)
    assert result["variants"]["fast @ one"]["nuisance"] == {"learning_rate": 0.02}
    assert result["tuning"]["fast @ one"]["trials"] == []
    assert result["tuning"]["fast @ four"]["chosen"] == {"learning_rate": 0.1}
    assert result["tuning"]["slow @ four"]["space"] == {"learning_rate": [0.001, 0.01, 0.1, 1.0]}
    assert len([call for call in recipe.CALLS if call[3] == 6]) == 2 * 6  # trials only where there is a choice


TUNED_RECIPES = ("convolution", "pooling", "relu", "minibatch", "dropout", "optimizers", "depth", "ensemble")


@pytest.mark.parametrize("name", TUNED_RECIPES)
def test_a_real_recipes_tuning_trials_read_validation_only(name, data_dir, tmp_path, monkeypatch):
    """Test numbers exist for the chosen point alone: a trial's record has none (and skips
    their cost). The real recipe, quick, with a two-point search so that trials run."""
    import dataclasses as dc

    from cookbook.cli.registry import load_recipe

    recipe = load_recipe(name)
    monkeypatch.setattr(
        recipe, "TUNING", dc.replace(recipe.TUNING, quick_space=lambda *_: {"learning_rate": (0.001, 0.01)})
    )
    records, train = [], recipe.train

    def kept(run):
        record = train(run)
        records.append((run.is_trial, record))
        return record

    monkeypatch.setattr(recipe, "train", kept)
    options = RunOptions(out=str(tmp_path / "out"), verbose=0, quick=True, epochs=1, data_dir=data_dir)
    result = run_recipe(recipe, options)
    trials = [record for is_trial, record in records if is_trial]
    assert trials and all(not any("test" in key for key in record) for record in trials), trials
    assert all(any("test_accuracy" in key for key in record) for is_trial, record in records if not is_trial)
    assert all(search["trials"] for search in result["tuning"].values())
