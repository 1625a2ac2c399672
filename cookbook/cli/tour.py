"""A tour: several recipes run one after another (or `options.jobs` at once, in workers),
each planned once, each under the tour's failure policy (`cookbook.cli.policy`)."""

import contextlib
from pathlib import Path

from cookbook.cli import console
from cookbook.cli import registry
from cookbook.cli.policy import run_in_tour
from cookbook.errors import CookbookError
from cookbook.harness import environment
from cookbook.harness import scaling
from cookbook.results import check_writable


def run_tour(items, options):
    """Runs the recipes `items` (names, recipe file paths or modules) under `options` and
    returns their results in tour order (on the workers of a cluster other than the chief,
    which write nothing, what they would have written). An interrupt stops every recipe
    (finished seeds are kept)."""
    from cookbook.cli import workers as workers_module

    jobs = workers_module.jobs_for(options, len(items))
    with contextlib.ExitStack() as stack:
        stack.enter_context(console.interrupts_noticed())
        prepare_tensorflow(options)
        # Workers start first: their TensorFlow import overlaps this process's.
        workers = stack.enter_context(workers_module.Workers(jobs, options.verbose)) if jobs > 1 else None
        console.import_tensorflow(options.verbose)
        check_preconditions(items, options)
        modules = [registry.load_recipe(item) if isinstance(item, str) else item for item in items]
        plans = [plan_or_none(module, options) for module in modules]
        total = sum(plan.runs for plan in plans if plan is not None)
        with console.progress_for(total) as progress:
            if workers is not None:
                results = workers.run(items, modules, plans, options, progress)
            else:
                count = len(modules)
                results = [
                    run_in_tour(module, options, progress, position, count, alone=count == 1, plan=plan)
                    for position, (module, plan) in enumerate(zip(modules, plans), start=1)
                ]
    return results


def prepare_tensorflow(options):
    """What must be settled before TensorFlow loads, here or in a worker: its XLA flags tried,
    Keras's backend set to tensorflow, oneDNN for `options`; each change said in one line."""
    environment.check_xla_flags()
    for told in (environment.use_tensorflow_backend(), scaling.before_tensorflow(options.scale)):
        if told:
            print(told, flush=True)


def load_tensorflow(options):
    """Imports TensorFlow for `options`, prepared (`prepare_tensorflow`) and without its
    start-up lines unless `options.verbose`."""
    prepare_tensorflow(options)
    console.import_tensorflow(options.verbose)


def check_preconditions(items, options):
    """What must hold before anything trains: the dataset, and (on the chief) a writable --out
    with no file where a recipe's folder goes."""
    from cookbook.data.loading import check_dataset

    check_dataset(options.dataset, options.data_dir)
    if not options.scale.is_chief:
        return  # other workers of a cluster write nothing to --out
    for item in items:
        name = registry.recipe_name(item) if hasattr(item, "__file__") else registry.recipe_path(item).stem
        folder = Path(options.out) / name
        if folder.exists() and not folder.is_dir():
            raise CookbookError(f"{folder} is a file, where the {folder.name} results would go.")
    try:
        check_writable(options.out)
    except OSError as error:
        raise CookbookError(
            f"Cannot write results to {options.out!r} ({error.strerror}); choose another --out."
        ) from None


def plan_or_none(module, options):
    """The recipe's `Plan`; None where it cannot be made (`run_in_tour` then reports why)."""
    from cookbook.harness.plan import Plan

    try:
        return Plan.of(module, options)
    except Exception:
        return None
