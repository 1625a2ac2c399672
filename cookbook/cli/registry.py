"""Finding the recipes, and reading their claims and tour positions without importing TensorFlow
(a recipe's declarations are read by `cookbook.harness.recipe`).

A recipe's claim is the `Claim:` line of its docstring, written once; its place in the
tour is its `TOUR_POSITION` (recipes without one come last, by name).
"""

import ast
import importlib
import importlib.util
from pathlib import Path

from cookbook.errors import CookbookError
from cookbook.harness.recipe import claim_of
from cookbook.harness.recipe import recipe_name

__all__ = ["available_recipes", "claim_of", "load_recipe", "recipe_claim", "recipe_name", "recipe_path"]

UNPOSITIONED = 1_000_000


def recipes_dir():
    """Installed, the recipes are the `cookbook.recipes` package; in a checkout, `recipes/`."""
    spec = importlib.util.find_spec("cookbook.recipes")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parents[2] / "recipes"


def available_recipes():
    """`{name: path}` of every recipe, in tour order."""
    paths = [path for path in recipes_dir().glob("*.py") if not path.name.startswith("_")]
    ordered = sorted(paths, key=lambda path: (tour_position(path), path.stem))
    return {path.stem: path for path in ordered}


def is_recipe_file(name):
    return name.endswith(".py") and Path(name).is_file()


def recipe_path(name):
    """The file of the recipe called `name`, or `name` itself when it is a recipe file's path."""
    if is_recipe_file(name):
        return Path(name)
    recipes = available_recipes()
    if name not in recipes:
        raise CookbookError(
            f"Unknown recipe {name!r}; choose from: {', '.join(recipes)} (or 'all', or the path of a recipe file)."
        )
    return recipes[name]


def _module_tree(path):
    try:
        return ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError) as error:
        raise CookbookError(f"Cannot read the recipe {str(path)!r}: {error}") from None


def tour_position(path):
    for node in _module_tree(path).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "TOUR_POSITION" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    return UNPOSITIONED


def recipe_claim(name):
    """The recipe's claim, read from its source so that listing stays instant."""
    path = recipe_path(name)
    return claim_of(ast.get_docstring(_module_tree(path)), path.stem)


def load_recipe(name):
    """Imports a recipe module by name, or from the path of a recipe file."""
    path = recipe_path(name)
    if not is_recipe_file(name) and importlib.util.find_spec("cookbook.recipes") is not None:
        return importlib.import_module(f"cookbook.recipes.{name}")
    spec = importlib.util.spec_from_file_location(f"cookbook.recipes.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a user's recipe file: say what failed in one line
        raise CookbookError(f"Cannot import the recipe {str(path)!r}: {type(error).__name__}: {error}") from None
    return module
