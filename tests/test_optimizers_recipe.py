"""The optimizers recipe's budget axis: one trial is each optimizer's own Keras default."""

import pytest


def test_the_optimizers_recipe_starts_each_optimizer_at_its_own_keras_default():
    import inspect

    from cookbook.cli.registry import load_recipe

    recipe = load_recipe("optimizers")
    for name, rate in recipe.DEFAULT_RATES.items():
        built = recipe.VARIANTS[name](rate)
        assert float(built.learning_rate.numpy()) == pytest.approx(rate)
    classes = {"gradient_descent": "GradientDescent", "momentum": "Momentum", "adagrad": "AdaGrad",
               "rmsprop": "RMSProp", "adam": "Adam"}  # fmt: skip
    from cookbook import optimizers

    for name, cls in classes.items():
        default = inspect.signature(getattr(optimizers, cls)).parameters["learning_rate"].default
        assert recipe.DEFAULT_RATES[name] == default, name
    assert recipe.search_space("adam", 1) == {"learning_rate": (0.001,)}
    assert len(recipe.search_space("adam", 16)["learning_rate"]) == 16
