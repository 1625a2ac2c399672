"""Every recipe's verdict logic, tested with known answers.

For each real recipe, synthetic records where the answer is known (the claim holds, does not
hold, or cannot be told with these seeds) go through the recipe's own `judge(results)`, the
function its `conclude` decides with. Each recipe is then mutated, one comparison at a time,
by swapping the two variants it compares (`lower(a, b)` becomes `lower(b, a)`): every such
mutant must change the verdicts, or that comparison is not tested by its known answer.
"""

import ast
import math
import types

import numpy as np
import pytest

from cookbook.analysis import Results
from cookbook.cli.registry import load_recipe
from cookbook.cli.registry import recipe_path
from cookbook.statistics import DOES_NOT_HOLD
from cookbook.statistics import HOLDS
from cookbook.statistics import INCONCLUSIVE
from cookbook.statistics import combine

SEEDS = [0, 1, 2, 3, 4]
COMPARISONS = ("lower", "no_higher", "times_lower")


def results(runs, **settings):
    """`Results` from `{condition: {variant: [record per seed]}}` (or one condition's runs)."""
    if not all(isinstance(value, dict) for value in runs.values()):
        runs = {None: runs}
    return Results(runs, settings={"epochs": 15, **settings}, seeds=SEEDS, plot_path=None)


def per_seed(value, jitter=0.002, flip=None):
    """Records' values over the seeds: `value` with a little seed-to-seed noise; `flip`
    gives one seed (the last) that value instead, to make a part undecidable."""
    values = [value + jitter * (i - 2) for i in SEEDS]
    if flip is not None:
        values[-1] = flip
    return values


def curve(epoch, epochs=15, reached=0.95):
    """A per-epoch accuracy curve that first reaches `reached` during `epoch` (None: never)."""
    return [reached if epoch is not None and e >= epoch else 0.1 + 0.01 * e for e in range(1, epochs + 1)]


def records(**columns):
    """`[record per seed]` from `key=[value per seed]` (or one value for every seed)."""
    return [
        {"seed": seed, **{key: value[i] if isinstance(value, list) else value for key, value in columns.items()}}
        for i, seed in enumerate(SEEDS)
    ]


# One builder per recipe: `case` is "holds", "fails" (does not hold) or "unsure" (inconclusive).


def convolution(case):
    cnn = {"holds": 0.96, "fails": 0.85, "unsure": 0.96}[case]
    same = per_seed(0.90, flip=0.97 if case == "unsure" else None)
    sizes = {size: {"cnn": records(test_accuracy=per_seed(cnn)), "mlp_same_weights": records(test_accuracy=same),
                    "mlp_large": records(test_accuracy=per_seed(0.95))} for size in ("1x", "2x", "3x")}  # fmt: skip
    return results(sizes)


def pooling(case):
    max_pooling = {"holds": 0.9, "fails": 0.7, "unsure": 0.9}[case]
    average = per_seed(0.8, flip=0.95 if case == "unsure" else None)
    accuracy = {"max_pooling": per_seed(max_pooling), "average_pooling": average,
                "strided_convolution": per_seed(0.92), "no_downsampling": per_seed(0.9)}  # fmt: skip
    flops = {"max_pooling": 100, "average_pooling": 100, "strided_convolution": 50, "no_downsampling": 400}
    return results(
        {
            name: records(
                flops=flops[name],
                test_accuracy=values,
                shifted_accuracy=[{shift: values[i] for shift in ("0 px", "1 px", "2 px", "3 px")} for i in SEEDS],
            )
            for name, values in accuracy.items()
        }
    )


def relu(case):
    relu_epoch = {"holds": 1, "fails": 9, "unsure": 1}[case]
    tanh = [6, 6, 6, 6, 2 if case == "unsure" else 6]
    network = {
        "relu": records(history=[{"accuracy": curve(relu_epoch)}] * 5, log10_first_to_last_grad=per_seed(0.0)),
        "tanh": records(history=[{"accuracy": curve(e)} for e in tanh], log10_first_to_last_grad=per_seed(-0.5)),
        "sigmoid": records(history=[{"accuracy": curve(None)}] * 5, log10_first_to_last_grad=per_seed(-4.0)),
    }
    return results({name: network for name in ("4-small", "8-small", "16-he")})


def batchnorm(case):
    rates = (0.01, 0.1, 0.2, 0.35, 0.5, 1.0)
    # The epoch each reaches the target at each rate (None: never), the same for every seed
    # but the last where `unsure`.
    bn = {"holds": (1, 1, 1, 1, 1, None), "fails": (6, 6, None, None, None, None), "unsure": (1, 1, 1, 1, 1, None)}
    plain = (4, 4, None, None, None, None)
    runs = {}
    for kind, epochs in (("bn", bn[case]), ("plain", plain)):
        for rate, epoch in zip(rates, epochs):
            per = [epoch] * 5
            if case == "unsure" and kind == "bn":
                per[-1] = 5 if rate == 0.01 else None  # one seed slower, and trains at no rate above it
            runs[f"{kind}_lr{rate:g}"] = records(
                steps_per_epoch=30, epochs_to_target=per, history=[{"val_accuracy": curve(e)} for e in per]
            )
        for depth in (6, 10):  # deeper at the base rate: as at lr 0.01
            runs[f"{kind}_depth{depth}"] = runs[f"{kind}_lr0.01"]
    return results(runs, learning_rates=rates, depths=(6, 10))


def optimizers(case):
    epochs = {"gradient_descent": 8, "momentum": 4, "adagrad": 6, "rmsprop": 5, "adam": 1}
    if case == "fails":
        epochs["adam"] = 10
    runs = {name: [e] * 5 for name, e in epochs.items()}
    if case == "unsure":
        runs["rmsprop"][-1] = 1
    budget = {name: records(history=[{"val_accuracy": curve(e)} for e in per]) for name, per in runs.items()}
    return results({"1 trial": budget, "4 trials": budget, "16 trials": budget}, budgets=(1, 4, 16))


def minibatch(case):
    error_batch = {"holds": 0.90, "fails": 0.80, "unsure": 0.90}[case]
    large = per_seed(0.88, flip=0.99 if case == "unsure" else None)
    runs = {f"batch_{size}": records(seconds_per_update=per_seed(0.001, 1e-5), test_accuracy=per_seed(error_batch))
            for size in (1, 8, 32, 128)}  # fmt: skip
    runs["large_batch"] = records(seconds_per_update=per_seed(0.004, 1e-5), test_accuracy=large)  # 2 points behind
    runs["full_batch"] = records(seconds_per_update=per_seed(0.05, 1e-4), test_accuracy=per_seed(0.1))
    return results(runs)


def dropout(case):
    gap = {"holds": 0.02, "fails": 0.08, "unsure": 0.02}[case]
    baseline = per_seed(0.05, flip=0.0 if case == "unsure" else None)
    by_size = {size: {"rate_0.5": records(generalization_gap=per_seed(gap), test_accuracy=per_seed(0.96)),
                      "rate_0": records(generalization_gap=baseline, test_accuracy=per_seed(0.95))}
               for size in ("10%", "25%", "50%", "100%")}  # fmt: skip
    return results(by_size)


def ensemble(case):
    averaging = {"holds": 0.95, "fails": 0.80, "unsure": 0.95}[case]
    single = per_seed(0.90, flip=0.99 if case == "unsure" else None)
    by_size = {
        size: {
            "averaging_and_stacking": records(
                averaging_test_accuracy=per_seed(averaging), mean_member_test_accuracy=per_seed(0.85),
                stacking_test_accuracy=per_seed(0.96), best_member_test_accuracy=per_seed(0.88),
            ),
            "bagging": records(test_accuracy=per_seed(0.93), mean_member_test_accuracy=per_seed(0.84)),
            "boosting": records(train_accuracy=per_seed(0.99), first_member_train_accuracy=per_seed(0.9)),
            "single_long": records(test_accuracy=single),
        }
        for size in ("10%", "25%", "100%")
    }  # fmt: skip
    return results(by_size)


def depth(case):
    plain_deep = {"holds": 0.5, "fails": 0.995, "unsure": 0.5}[case]
    resnet_deep = per_seed(0.999, flip=0.9 if case == "unsure" else None)
    accuracy = {"plain_8": per_seed(0.99), "plain_20": per_seed(0.9), "plain_32": per_seed(plain_deep),
                "resnet_8": per_seed(0.98), "resnet_20": per_seed(0.99), "resnet_32": resnet_deep}  # fmt: skip
    return results({name: records(train_accuracy=values) for name, values in accuracy.items()}, depths=(8, 20, 32))


BUILDERS = {
    builder.__name__: builder
    for builder in (convolution, pooling, relu, batchnorm, optimizers, minibatch, dropout, ensemble, depth)
}
EXPECTED = {"holds": HOLDS, "fails": DOES_NOT_HOLD, "unsure": INCONCLUSIVE}


def verdicts(judged):
    """Everything a recipe's verdict logic decided: its headline parts and every regime point's."""
    table = {f"part {name}": str(verdict) for name, verdict in judged.parts.items()}
    if judged.regime is not None:
        for point, parts in judged.regime.points.items():
            table.update({f"{point}: {name}": str(verdict) for name, verdict in parts.items()})
    return table


def test_every_recipe_has_known_answer_cases():
    from cookbook.cli.registry import available_recipes

    assert sorted(available_recipes()) == sorted(BUILDERS)


@pytest.mark.parametrize("case", EXPECTED)
@pytest.mark.parametrize("name", BUILDERS)
def test_the_recipes_verdict_logic_gives_the_known_answer(name, case):
    judged = load_recipe(name).judge(BUILDERS[name](case))
    assert combine(judged.parts.values()) == EXPECTED[case], verdicts(judged)


def comparisons(tree):
    """The calls of `lower`, `no_higher` and `times_lower` with two samples, in walk order."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in COMPARISONS and len(node.args) >= 2
    ]


def swapped_comparisons(source):
    """One module source per comparison call in `source`, with that call's two samples swapped."""
    calls = comparisons(ast.parse(source))
    for index in range(len(calls)):
        mutant = ast.parse(source)
        call = comparisons(mutant)[index]
        call.args[0], call.args[1] = call.args[1], call.args[0]
        yield f"{ast.unparse(calls[index])[:80]} (line {calls[index].lineno})", ast.unparse(mutant)


@pytest.mark.parametrize("name", BUILDERS)
def test_swapping_any_comparison_changes_a_verdict(name):
    source = recipe_path(name).read_text()
    expected = {case: verdicts(load_recipe(name).judge(BUILDERS[name](case))) for case in EXPECTED}
    mutants = list(swapped_comparisons(source))
    assert mutants, f"{name} makes no comparison"
    survivors = []
    for description, mutated in mutants:
        module = types.ModuleType(f"mutant_{name}")
        module.__file__ = str(recipe_path(name))
        exec(compile(mutated, module.__file__, "exec"), module.__dict__)
        found = {case: verdicts(module.judge(BUILDERS[name](case))) for case in EXPECTED}
        if found == expected:
            survivors.append(description)
    assert not survivors, f"no known answer notices these comparisons swapped: {survivors}"


def test_builders_are_not_degenerate():
    # The known answers rest on seed-to-seed spread, not on exact ties of every value.
    values = [v for v in per_seed(0.9)]
    assert np.std(values) > 0 and not math.isclose(values[0], values[-1])


@pytest.mark.parametrize("name", BUILDERS)
def test_every_recipe_declares_its_effect_and_takes_its_seeds_from_it(name):
    from cookbook.statistics import AFFORDABLE_SEEDS
    from cookbook.statistics import Effect

    recipe = load_recipe(name)
    assert isinstance(recipe.EFFECT, Effect) and recipe.EFFECT.reason
    seeds = recipe.DEFAULTS["seeds"]
    assert seeds == recipe.EFFECT.affordable_seeds(AFFORDABLE_SEEDS)
    needed = recipe.EFFECT.seeds
    if needed is not None and needed <= AFFORDABLE_SEEDS:
        assert recipe.EFFECT.power(seeds) >= 0.80
    else:  # no affordable count has the power: the fewest that can decide, and the power is low
        assert seeds == 5 and recipe.EFFECT.power(seeds) < 0.80
