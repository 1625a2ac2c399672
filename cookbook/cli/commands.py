"""The `cookbook` command: list, run, show, copy and inspect the guideline recipes.

It parses and prints: `cookbook run` turns its arguments into one `RunOptions` on its first
line and hands it to the tour (`cookbook.cli.tour`). TensorFlow is imported only by the
commands that need it, so `list`, `show`, `copy` and `--help` answer at once.
"""

import contextlib
import gc
import os
import shutil
import signal
import sys
from pathlib import Path

import click

import cookbook
from cookbook.cli import registry
from cookbook.errors import CookbookError
from cookbook.harness.options import DEFAULT_DATASET
from cookbook.harness.options import DEFAULT_OUT
from cookbook.harness.options import DEVICES
from cookbook.harness.options import MAX_BATCH_SIZE
from cookbook.harness.options import MAX_COUNT
from cookbook.harness.options import SEED_LIMIT
from cookbook.harness.options import STRATEGIES
from cookbook.harness.options import RunOptions
from cookbook.harness.options import check_environment


class OneLineErrors:
    """Prints every usage or input error as one `Error: ...` line and exits with its code."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        if not standalone_mode:
            check_environment()
            return super().main(args, prog_name, standalone_mode=False, **extra)
        with errors_as_one_line():
            check_environment()  # before click: a bad variable is one line for every command, --help too
            super().main(args, prog_name, standalone_mode=False, **extra)
        exit_quickly(0)


@contextlib.contextmanager
def errors_as_one_line():
    """Ends the process on an error: one `Error: ...` line (or what stopped it) and its exit code."""
    try:
        yield
    except CookbookError as error:
        click.echo(f"Error: {error}", err=True)
        exit_quickly(error.exit_code)
    except click.ClickException as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        exit_quickly(error.exit_code)
    except Stopped as stop:
        what = "Interrupted" if stop.signal == signal.SIGINT else f"Stopped by {stop.signal.name}"
        click.echo(
            f"{what}. Run the same command again to resume: finished seeds and the last finished epoch are kept.",
            err=True,
        )
        exit_quickly(128 + stop.signal)
    except click.Abort:
        click.echo("Interrupted. Run the same command again to resume: finished seeds are kept.", err=True)
        exit_quickly(130)
    except OSError as error:  # the machine's fault (a full disk, a vanished folder), not the input's
        where = f" ({error.filename})" if error.filename else ""
        click.echo(f"Error: {error.strerror or error}{where}.", err=True)
        exit_quickly(1)


class Stopped(click.Abort):
    """The command stopped by a signal (`signal`): exit status 128 + its number, as a shell reports it."""

    def __init__(self, signal):
        super().__init__()
        self.signal = signal


def exit_quickly(code):
    """`sys.exit(code)` without the last garbage collection over TensorFlow's objects, which
    took over a second of every command's exit (atexit handlers still run)."""
    gc.freeze()
    sys.exit(code)


class Group(OneLineErrors, click.Group):
    pass


class Command(OneLineErrors, click.Command):
    pass


def run_options(function):
    """The options shared by `cookbook run` and every `python recipes/NAME.py`."""
    positive = click.IntRange(min=1, max=MAX_COUNT)
    options = [
        click.option(
            "--dataset",
            default=DEFAULT_DATASET,
            show_default=True,
            help="'digits' (embedded, offline), a tensorflow-datasets image-classification "
            "name (mnist, fashion_mnist, cifar10, ...), or a folder with one subfolder of "
            "images per class.",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False),
            help="Where tensorflow-datasets keeps prepared datasets [default: ~/tensorflow_datasets].",
        ),
        click.option("--epochs", type=positive, help="Training epochs [default: the recipe's]."),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1, max=MAX_BATCH_SIZE),
            help="Examples per batch [default: the recipe's].",
        ),
        click.option("--seeds", type=positive, help="Seeds per variant, for mean and spread [default: the recipe's]."),
        click.option(
            "--seed",
            type=click.IntRange(min=0, max=SEED_LIMIT - 1),
            default=0,
            show_default=True,
            help="First seed; a run uses SEED, SEED+1, ... (all below 2**32).",
        ),
        click.option("--quick", is_flag=True, help="A smoke-sized run: fewer epochs, seeds and regime points."),
        click.option(
            "--out",
            type=click.Path(file_okay=False),
            default=DEFAULT_OUT,
            show_default=True,
            help="Results go to OUT/RECIPE/ (result.json, plots, history).",
        ),
        click.option(
            "--device",
            type=click.Choice(DEVICES),
            default="auto",
            show_default=True,
            help="auto: a GPU when TensorFlow sees one, else the CPU; gpu without one is an error.",
        ),
        click.option(
            "--strategy",
            type=click.Choice(STRATEGIES),
            default="none",
            show_default=True,
            help="tf.distribute strategy: mirrored = every local GPU (or CPU device) in sync; "
            "multiworker = several machines, from TF_CONFIG or --workers/--worker-index.",
        ),
        click.option(
            "--workers",
            metavar="HOST:PORT,...",
            help="--strategy multiworker: every worker's address, the same list on each worker.",
        ),
        click.option(
            "--worker-index",
            type=click.IntRange(min=0),
            help="--strategy multiworker: this worker's position in --workers (0 is the chief, "
            "the only one that writes results).",
        ),
        click.option(
            "--mixed-precision",
            is_flag=True,
            help="Compute in float16 on GPUs, bfloat16 on CPUs; weights stay float32.",
        ),
        click.option(
            "--verbose",
            is_flag=True,
            help="Show Keras's line per epoch and TensorFlow's start-up logs (also COOKBOOK_VERBOSE=1).",
        ),
        click.option(
            "--fused-seeds",
            is_flag=True,
            help="Train a variant's seeds together as one model: each seed's numbers stay those of "
            "its own run. Where that cannot hold, seeds train one at a time and result.json says why.",
        ),
        click.option(
            "--jit/--no-jit",
            default=None,
            help="Compile steps with XLA [default: Keras's choice, on for GPUs]; not with --strategy.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(cookbook.__version__, prog_name="cookbook")
def main():
    """The classic CNN training guidelines as experiments you can run, read and copy.

    Each recipe states a guideline's claim, trains and measures on your machine, and
    says whether the claim held on this run. Start with `cookbook list`.
    """


@main.command("list")
def list_recipes():
    """List every recipe with the claim it tests."""
    recipes = registry.available_recipes()
    width = max(map(len, recipes))
    for name in recipes:
        click.echo(f"{name:<{width}}  {registry.recipe_claim(name)}")


class Jobs(click.ParamType):
    """`auto` or a positive count."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            return click.IntRange(min=1, max=MAX_COUNT).convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is neither 'auto' nor a whole number from 1 to {MAX_COUNT}.", param, ctx)


@main.command(cls=Command)
@click.argument("names", nargs=-1, required=True, metavar="NAME... | PATH... | all")
@run_options
@click.option(
    "--jobs",
    type=Jobs(),
    default="auto",
    show_default=True,
    help="Recipes run at once, each in a process of its own. auto: two where the machine has two "
    "cores or more, one under --strategy. The numbers do not change; what a recipe times shares the "
    "machine with the others.",
)
def run(names, **arguments):
    """Run recipes (by name, by the path of a recipe file, or `all`) and print a table of
    their verdicts.

    Results go to OUT/NAME/result.json with plots beside it. An interrupted run resumes
    when the same command is run again.
    """
    options = RunOptions.from_command_line(arguments)
    if "all" in names and len(names) > 1:
        raise CookbookError("'all' runs every recipe: give it alone, or name the recipes to run.")
    chosen = list(registry.available_recipes()) if "all" in names else list(dict.fromkeys(names))
    for name in chosen:
        registry.recipe_path(name)  # an unknown name fails here, before anything starts
    finish(tour_until_stopped(chosen, options), options, report=True)


def tour_until_stopped(items, options):
    """`cookbook.cli.tour.run_tour`; a stopping signal (Ctrl-C, SIGTERM, SIGHUP) becomes `Stopped`."""
    from cookbook.cli import console
    from cookbook.cli.tour import run_tour

    try:
        return run_tour(items, options)
    except KeyboardInterrupt:
        raise Stopped(console.stopped_by()) from None


def finish(results, options, *, report):
    """Prints the verdicts (and writes the report); exits 1 if a recipe failed."""
    from cookbook.cli.policy import failures

    if not options.scale.is_chief:
        failed = [result["recipe"] for result in results if result["verdict"] == "failed"]
        if failed:  # the chief's run fails too, or waits: this worker must not look done
            raise CookbookError(f"{len(failed)} of {len(results)} recipes failed on this worker.", exit_code=1)
        click.echo("This worker's training is done; the chief (worker 0) writes the results and the report.")
        return
    print_verdicts(results, options.out)
    if report:
        try:
            write_report_of(options.out)
        except (CookbookError, OSError) as error:
            if not any(result["verdict"] == "failed" for result in results):
                raise
            # The failures below say more, and set the exit status.
            why = f"{error.strerror} ({error.filename})" if isinstance(error, OSError) else error
            click.echo(f"No report written: {why}", err=True)
    failure = failures(results, options.out)
    if failure is not None:
        raise failure


def write_report_of(out):
    from cookbook.cli.report import write_report

    markdown, page = write_report(out)
    click.echo(f"\nReport of every result in {out}: {markdown} and {page}")


@main.command(cls=Command)
@click.argument("out", type=click.Path(file_okay=False, exists=True), default=DEFAULT_OUT)
def report(out):
    """Rebuild OUT/report.md and OUT/report.html from the results in OUT (default: results)."""
    write_report_of(out)


def print_verdicts(results, out):
    from cookbook.harness.result import UNWRITTEN

    width = max([len(r["recipe"]) for r in results] + [6])
    click.echo("")
    click.echo(f"{'recipe':<{width}}  {'verdict':<13}  {'seconds':>7}  result")
    for result in results:
        path = os.path.join(out, result["recipe"], "result.json")
        if result["verdict"] == "skipped":
            path = "-"
        elif UNWRITTEN in result:
            path = f"not written ({result[UNWRITTEN]})"
        click.echo(f"{result['recipe']:<{width}}  {result['verdict']:<13}  {result['seconds']:>7.0f}  {path}")
    for result in results:
        click.echo(f"\n{result['recipe']}: {result['evidence']}")


@main.command(cls=Command)
@click.argument("name")
def show(name):
    """Print a recipe's source."""
    click.echo(registry.recipe_path(name).read_text(), nl=False)


@main.command(cls=Command)
@click.argument("name")
@click.argument("dest", required=False, type=click.Path(dir_okay=True))
@click.option("--force", is_flag=True, help="Overwrite DEST if it exists.")
@click.option(
    "--notebook",
    is_flag=True,
    help="Write a Jupyter notebook instead (DEST defaults to ./NAME.ipynb): prose as Markdown cells, "
    "small settings in the first code cell, a last cell that runs the recipe.",
)
def copy(name, dest, force, notebook):
    """Write a recipe as a script to edit and run with `python` (DEST defaults to ./NAME.py)."""
    source = registry.recipe_path(name)
    suffix = ".ipynb" if notebook else ".py"
    target = Path(dest or f"{source.stem}{suffix}")
    try:
        if target.is_dir():
            target = target / f"{source.stem}{suffix}"
        if target.exists() and not force:
            raise CookbookError(f"{target} exists; pass --force to overwrite it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        if notebook:
            import nbformat

            from cookbook.cli.notebook import recipe_notebook

            nbformat.write(recipe_notebook(source), str(target))
        else:
            shutil.copyfile(source, target)
    except OSError as error:
        raise CookbookError(f"Cannot write {target} ({error.strerror}).") from None
    how = f"open it in Jupyter: jupyter lab {target}" if notebook else f"run it with: python {target} --help"
    click.echo(f"Wrote {target}; {how}")


@main.command(cls=Command)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="The tensorflow-datasets folder to look in [default: ~/tensorflow_datasets].",
)
def info(data_dir):
    """Versions, devices, and the datasets that work offline here."""
    from cookbook.cli.tour import load_tensorflow

    load_tensorflow(RunOptions.from_command_line({}))

    from cookbook.data.loading import prepared_tfds_datasets
    from cookbook.harness import scaling
    from cookbook.results import environment

    env = environment()
    for key in ("cookbook", "python", "tensorflow", "keras", "tensorflow_datasets", "numpy"):
        click.echo(f"{key + ':':<21}{env[key]}")
    click.echo(f"{'platform:':<21}{env['platform']}")
    click.echo(f"{'cpu:':<21}{env['cpu']}, {env['cpu_count']} cores")
    click.echo(f"{'oneDNN (TF_ENABLE_ONEDNN_OPTS):':<21} {env['tf_enable_onednn_opts']}")
    gpus = [d["name"] for d in env["devices"] if d["type"] == "GPU"]
    click.echo(f"{'devices:':<21}{', '.join(d['name'] for d in env['devices'])}")
    click.echo(f"{'gpu:':<21}{', '.join(gpus) if gpus else 'none (training runs on the CPU)'}")
    for key, value in scaling.available().items():
        click.echo(f"{key + ':':<21}{value}")
    prepared = [name for name in prepared_tfds_datasets(data_dir) if name != "digits"]  # digits is always there
    click.echo(f"{'offline datasets:':<21}digits (embedded)" + "".join(f", {n}" for n in prepared))


def recipe_command(module, action):
    """`python recipes/NAME.py [OPTIONS]`: `action(options)` with `cookbook run`'s options."""

    @click.command(
        cls=Command,
        name=registry.recipe_name(module),
        help="\b\n" + (module.__doc__ or "").strip(),  # \b: keep the header's line breaks
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @run_options
    def command(**arguments):
        action(RunOptions.from_command_line(arguments))

    return command


def start_script(name):
    """A recipe's first line, before Keras loads: `start_script(__name__)`.

    Run as a script (`name` is `"__main__"`), the recipe's options are read and checked here,
    so a bad one is one `Error:` line and `--help` answers at once; then what must be set
    before TensorFlow is set (oneDNN off for mirrored over virtual CPUs) and TensorFlow is
    imported without its start-up lines, as `cookbook run` does. Imported under any other
    name (by `cookbook run`, a test, a notebook), it does nothing.
    """
    if name != "__main__":
        return
    from cookbook.cli.tour import load_tensorflow

    loaded = []

    def load(options):
        load_tensorflow(options)
        loaded.append(options)

    with errors_as_one_line():  # the command checks the environment first, as every command does
        recipe_command(sys.modules[name], load).main(sys.argv[1:], standalone_mode=False)
    if not loaded:  # --help answered
        exit_quickly(0)


def run_this_recipe(module):
    """`python recipes/NAME.py [OPTIONS]`: the recipe with `cookbook run`'s options."""

    def run(options):
        finish(tour_until_stopped([module], options), options, report=False)

    recipe_command(module, run)()
