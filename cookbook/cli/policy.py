"""The tour's failure policy, one recipe at a time.

In a tour, a recipe that cannot run under the chosen strategy is skipped with its reason,
and one that fails is recorded as failed (its traceback in `OUT/RECIPE/error.log`) while the
tour goes on. Asked for alone, both are errors instead.
"""

import os

from cookbook.cli import console
from cookbook.cli import registry
from cookbook.errors import CookbookError


def run_in_tour(recipe, options, progress, position, count, *, alone, plan=None):
    """Runs one recipe of a tour of `count` (`recipe`: its module, name or path; `plan`, its
    plan if made already) and returns its result, applying the tour's failure policy; tells
    `progress` where it stands in the tour."""
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.recipe import UnsupportedStrategy
    from cookbook.harness.result import write_failure

    module = recipe if hasattr(recipe, "__file__") else registry.load_recipe(recipe)
    name = registry.recipe_name(module)
    progress.start_recipe(name, position, count)
    try:
        return run_recipe(plan or module, options, progress)
    except UnsupportedStrategy as refusal:
        if alone:
            raise
        print(f"Skipped: {refusal}", flush=True)
        return {"recipe": name, "verdict": "skipped", "seconds": 0.0, "evidence": str(refusal)}
    except Exception as error:
        if console.was_interrupted():
            raise KeyboardInterrupt from error  # Ctrl-C, come out of TensorFlow as another error
        if isinstance(error, CookbookError) and alone:
            raise  # bad input for the one recipe asked for: the usual one-line error
        return write_failure(module, options, error)
    finally:
        progress.finish_recipe()


def failures(results, out):
    """A `CookbookError` (exit 1) naming the recipes that failed, or None."""
    from cookbook.harness.result import UNWRITTEN

    failed = [result for result in results if result["verdict"] == "failed"]
    if not failed:
        return None
    logs = [
        f"{result['recipe']}: nothing written, {result[UNWRITTEN]}"
        if UNWRITTEN in result
        else os.path.join(out, result["recipe"], "error.log")
        for result in failed
    ]
    return CookbookError(f"{len(failed)} of {len(results)} recipes failed ({', '.join(logs)}).", exit_code=1)
