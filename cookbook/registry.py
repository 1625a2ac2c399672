"""Finding the recipes, reading their claims without importing TensorFlow, and running them."""

import ast
import importlib
import importlib.util
from pathlib import Path

from cookbook.errors import CookbookError

# The order of the guidelines in the lecture notes (shared/GUIDELINES.md).
GUIDELINE_ORDER = (
    "convolution", "pooling", "relu", "minibatch", "dropout",
    "optimizers", "batchnorm", "ensemble", "depth",
)


def recipes_dir():
    """Installed, the recipes are the `cookbook.recipes` package; in a checkout, `recipes/`."""
    spec = importlib.util.find_spec("cookbook.recipes")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "recipes"


def available_recipes():
    """`{name: path}` of every recipe, in the lecture notes' order."""
    paths = {
        path.stem: path
        for path in recipes_dir().glob("*.py")
        if not path.name.startswith("_")
    }
    rank = {name: index for index, name in enumerate(GUIDELINE_ORDER)}
    return {name: paths[name] for name in sorted(paths, key=lambda n: (rank.get(n, 99), n))}


def recipe_path(name):
    recipes = available_recipes()
    if name not in recipes:
        raise CookbookError(
            f"Unknown recipe {name!r}; choose from: {', '.join(recipes)} (or 'all')."
        )
    return recipes[name]


def recipe_claim(name):
    """The recipe's `CLAIM`, read from its source so that listing stays instant."""
    tree = ast.parse(recipe_path(name).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "CLAIM" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise CookbookError(f"Recipe {name!r} defines no CLAIM.")


def load_recipe(name):
    """Imports a recipe module by name."""
    path = recipe_path(name)
    if importlib.util.find_spec("cookbook.recipes") is not None:
        return importlib.import_module(f"cookbook.recipes.{name}")
    spec = importlib.util.spec_from_file_location(f"cookbook.recipes.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_recipe(module, config):
    """Runs a recipe module under `config` and returns its result."""
    from cookbook import scaling
    from cookbook.experiment import Experiment

    name = Path(module.__file__).stem
    scale = scaling.setup(config.scale)
    with scale.scope():  # models and optimizers the recipe builds land on the strategy's devices
        experiment = Experiment(
            name, module.CLAIM, config, module.DEFAULTS, getattr(module, "QUICK", None), scale=scale
        )
        return module.run(experiment)
