"""The harness: variants x conditions x seeds, seeding, resuming, and the result file."""

import json

import pytest

from cookbook.errors import CookbookError
from cookbook.harness.experiment import run_recipe
from cookbook.harness.options import RunOptions
from cookbook.harness.options import ScaleOptions
from cookbook.harness.plan import resolve_settings
from cookbook.harness.recipe import Recipe
from tests.recipe_files import SCORES
from tests.recipe_files import write_recipe


def config(tmp_path, **settings):
    return RunOptions(out=str(tmp_path / "out"), verbose=0, **settings)


@pytest.mark.parametrize("name", ["epochs", "batch_size", "seeds"])
@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_config_refuses_non_positive_settings(name, value):
    with pytest.raises(CookbookError, match=name):
        RunOptions(**{name: value})


def test_settings_resolve_user_over_quick_over_defaults():
    defaults = {"epochs": 5, "batch_size": 16, "seeds": 3, "depths": (8, 20)}
    quick = {"epochs": 1, "seeds": 1, "depths": (8,)}
    assert resolve_settings(RunOptions(), defaults, quick) == defaults
    assert resolve_settings(RunOptions(quick=True), defaults, quick) == {**defaults, **quick}
    chosen = resolve_settings(RunOptions(quick=True, epochs=7, seeds=2), defaults, quick)
    assert chosen == {"epochs": 7, "batch_size": 16, "seeds": 2, "depths": (8,)}
    with pytest.raises(CookbookError, match="seeds"):
        resolve_settings(RunOptions(), {"epochs": 1, "batch_size": 1}, None)


def test_every_variant_and_seed_is_trained_seeded_and_recorded(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "scores", SCORES)
    result = run_recipe(recipe, config(tmp_path, seed=4))
    assert recipe.CALLS == [("size_1", None, 4), ("size_1", None, 5), ("size_10", None, 4), ("size_10", None, 5)]
    runs = result["variants"]
    assert [r["seed"] for r in runs["size_10"]["runs"]] == [4, 5]
    # Each run is seeded by its seed: the "random" part is a function of the seed alone.
    assert [r["score"] - 1 for r in runs["size_1"]["runs"]] == pytest.approx(
        [r["score"] - 10 for r in runs["size_10"]["runs"]]
    )
    assert runs["size_1"]["summary"]["score"]["n"] == 2
    assert result["claim"] == "A bigger number wins."
    assert result["verdict"] == result["measurements"]["parts"]["bigger wins"]
    assert result["measurements"]["n"] == 2
    assert result["evidence"].startswith("Scores. Parts: bigger wins: ")
    assert result["config"]["resolved"]["sizes"] == [1, 10]
    on_disk = json.loads((tmp_path / "out" / "scores" / "result.json").read_text())
    assert on_disk == result
    assert not (tmp_path / "out" / "scores" / ".progress").exists()


def test_quick_settings_reach_the_recipe_only_through_the_resolved_settings(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "scores", SCORES)
    result = run_recipe(recipe, config(tmp_path, quick=True))
    assert set(result["variants"]) == {"size_1", "size_5"}
    assert recipe.CALLS == [("size_1", None, 0), ("size_5", None, 0)]
    assert result["variants"]["size_1"]["runs"][0]["epochs"] == 1


FAILING_ONCE = (
    SCORES.replace(
        "def train(run):\n",
        "def train(run):\n    if run.variant == 'size_10' and run.seed == 1 and not FAILED:\n"
        "        FAILED.append(True)\n        raise KeyboardInterrupt\n",
    )
    + "\nFAILED = []\n"
)


def test_an_interrupted_run_keeps_its_finished_seeds(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "scores", FAILING_ONCE)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, config(tmp_path))
    assert len(recipe.CALLS) == 3
    recipe.CALLS.clear()
    result = run_recipe(recipe, config(tmp_path))  # same settings: only the unfinished seed trains
    assert recipe.CALLS == [("size_10", None, 1)]
    uninterrupted = run_recipe(write_recipe(tmp_path / "other", "scores", SCORES), config(tmp_path / "again"))
    for name in result["variants"]:
        for resumed, fresh in zip(result["variants"][name]["runs"], uninterrupted["variants"][name]["runs"]):
            assert resumed["score"] == fresh["score"]


def test_other_settings_never_reuse_finished_seeds(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "scores", FAILING_ONCE)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, config(tmp_path))
    recipe.CALLS.clear()
    run_recipe(recipe, config(tmp_path, epochs=9))
    assert len(recipe.CALLS) == 4


def test_conditions_train_every_variant_under_each(tmp_path):
    body = (
        SCORES
        + '\nCONDITIONS = {"small_data": 0.1, "all_data": 1.0}\n'
        + (
            "\n\ndef conclude(results):\n"
            "    return Conclusion({c: lower(results.at(c).column('score')['size_1'], "
            "results.at(c).column('score')['size_10']) for c in results.conditions}, 'By condition.')\n"
        )
    )
    recipe = write_recipe(tmp_path / "recipes", "scores", body)
    result = run_recipe(recipe, config(tmp_path, seeds=1))
    assert [(variant, condition) for variant, condition, _ in recipe.CALLS] == [
        ("size_1", "small_data"),
        ("size_10", "small_data"),
        ("size_1", "all_data"),
        ("size_10", "all_data"),
    ]
    assert set(result["variants"]) == {
        "size_1 @ small_data",
        "size_10 @ small_data",
        "size_1 @ all_data",
        "size_10 @ all_data",
    }
    assert set(result["measurements"]["parts"]) == {"small_data", "all_data"}


def test_a_strategy_the_recipe_declares_unsupported_is_refused_before_anything_runs(tmp_path):
    body = SCORES + '\nUNSUPPORTED_STRATEGIES = {"multiworker": "it trains through scikit-learn."}\n'
    recipe = write_recipe(tmp_path / "recipes", "scores", body)
    options = ScaleOptions(strategy="multiworker", workers="127.0.0.1:1", worker_index=0)
    with pytest.raises(CookbookError, match="cannot run under --strategy multiworker: it trains through"):
        run_recipe(recipe, config(tmp_path, scale=options))
    assert recipe.CALLS == []


def test_a_recipe_missing_a_declaration_is_named(tmp_path):
    recipe = write_recipe(tmp_path / "recipes", "broken", "DEFAULTS = {}\ndef train(run):\n    return {}\n")
    with pytest.raises(CookbookError, match="conclude, VARIANTS"):
        Recipe.from_module(recipe)
    recipe.__doc__ = "No claim here."
    recipe.conclude = recipe.VARIANTS = None
    with pytest.raises(CookbookError, match="states no claim"):
        Recipe.from_module(recipe)
