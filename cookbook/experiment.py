"""The harness every recipe runs on: it trains each variant under each condition with each
seed, keeps and resumes the records, and writes the result.

A recipe is a module that declares its experiment and nothing else:

- a docstring whose `Claim:` line states the claim it tests;
- `DEFAULTS`: `epochs`, `batch_size`, `seeds` and any setting of its own (depths,
  learning rates, ...); `QUICK`: what `--quick` changes. Both are read only through the
  resolved settings, `run.settings` and `results.settings`;
- `VARIANTS` (names, or `{name: spec}`), or `variants(settings)` returning them;
- optionally `CONDITIONS` (or `conditions(settings)`): a regime axis, every variant being
  trained under each condition;
- optionally `UNSUPPORTED_STRATEGIES`: `{strategy: why}`, refused before anything runs;
- optionally `ONE_SEED_AT_A_TIME`: why its seeds must not train as one model under
  `--fused-seeds` (a recipe that times each step, say);
- `train(run)`: trains one variant under one condition with one seed and returns a dict
  of what it measured;
- `conclude(results)`: returns a `cookbook.analysis.Conclusion` from every run's records.
"""

import dataclasses
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from cookbook import scaling
from cookbook.analysis import Results
from cookbook.analysis import summarize_records
from cookbook.console import Lines
from cookbook.console import epoch_callback
from cookbook.console import was_interrupted
from cookbook.data.loading import open_dataset
from cookbook.errors import CookbookError
from cookbook.fused import why_not_fused
from cookbook.locking import exclusive
from cookbook.plots import plot_regime
from cookbook.plots import plot_seed_values
from cookbook.registry import claim_of
from cookbook.registry import load_recipe
from cookbook.registry import recipe_name
from cookbook.results import environment
from cookbook.results import to_json_value
from cookbook.results import write_json_atomic
from cookbook.results import write_text_atomic
from cookbook.resume import ResumeStore
from cookbook.seeding import seed_everything
from cookbook.settings import resolve_settings
from cookbook.trainer import Trainer
from cookbook.twins import copy_state

RUN_BATCH_SIZE = object()
QUICK_NOTE = " (--quick: fewer seeds, epochs and regime points, so these verdicts are not decisive.)"


class UnsupportedStrategy(CookbookError):
    """A recipe asked to run under a strategy it declares it cannot run under."""


# "the run's batch size", told apart from None (full batch)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe module's declarations, checked once."""

    name: str
    claim: str
    module: object

    @classmethod
    def from_module(cls, module):
        name = recipe_name(module)
        missing = [attribute for attribute in ("DEFAULTS", "train", "conclude") if not hasattr(module, attribute)]
        if not (hasattr(module, "VARIANTS") or hasattr(module, "variants")):
            missing.append("VARIANTS (or variants(settings))")
        if missing:
            raise CookbookError(f"Recipe {name!r} does not define {', '.join(missing)}.")
        return cls(name, claim_of(module.__doc__, name), module)

    def settings(self, config):
        return resolve_settings(config, self.module.DEFAULTS, getattr(self.module, "QUICK", None))

    def variants(self, settings):
        return _named(getattr(self.module, "VARIANTS", None) or self.module.variants(settings))

    def conditions(self, settings):
        """`{condition: spec}`; `{None: None}` for a recipe without a regime axis."""
        declared = getattr(self.module, "CONDITIONS", None)
        if declared is None and hasattr(self.module, "conditions"):
            declared = self.module.conditions(settings)
        return _named(declared) if declared else {None: None}

    @property
    def one_seed_at_a_time(self):
        """Why this recipe's seeds never train fused, or None."""
        return getattr(self.module, "ONE_SEED_AT_A_TIME", None)

    def refuse_unsupported(self, options):
        why = getattr(self.module, "UNSUPPORTED_STRATEGIES", {}).get(options.strategy)
        if why:
            raise UnsupportedStrategy(f"The {self.name} recipe cannot run under --strategy {options.strategy}: {why}")


def record_failure(module, config, error):
    """The result of a recipe that raised `error`: verdict `failed` and a one-line reason, with
    the traceback in `OUT/RECIPE/error.log`; the reason is also printed to standard error.
    Written where it can be (a full disk may be the fault itself); returned either way."""
    name = recipe_name(module)
    out_dir = Path(config.out) / name
    reason = (f"{type(error).__name__}: {error}".strip().splitlines() or ["unknown"])[0][:300]
    result = {
        "recipe": name,
        "claim": _claim_or_blank(module.__doc__),
        "verdict": "failed",
        "evidence": f"{reason} (traceback in {out_dir / 'error.log'})",
        "measurements": {},
        "variants": {},
        "plots": [],
        "config": dataclasses.asdict(config),
        "environment": environment(),
        "scale": None,
        "seconds": 0.0,
    }
    if config.scale_options.is_chief:
        try:
            write_text_atomic(out_dir / "error.log", "".join(traceback.format_exception(error)))
            write_json_atomic(out_dir / "result.json", result)
        except OSError:
            pass
    print(f"Failed: {result['evidence']}", file=sys.stderr, flush=True)
    return to_json_value(result)


def _claim_or_blank(docstring):
    try:
        return claim_of(docstring)
    except CookbookError:
        return ""


def _named(declared):
    return dict(declared) if isinstance(declared, dict) else {name: name for name in declared}


def run_recipe(module, config, progress=None):
    """Runs a recipe module under `config` (a `cookbook.settings.RunConfig`) and returns its result.

    `progress` (a `cookbook.console` display) hears of each run and epoch; by default a
    line per finished run.
    """
    recipe = Recipe.from_module(module)
    recipe.refuse_unsupported(config.scale_options)
    progress = progress or Lines(planned_runs(module, config), recipe=recipe.name)
    return Experiment(recipe, config, scaling.setup(config.scale_options), progress).run()


def run_in_tour(recipe, config, progress, position, count, *, alone):
    """Runs one recipe of a tour of `count` (`recipe`: its module, name or path) and returns
    its result; tells `progress` where it stands in the tour.

    A recipe that cannot run under the chosen strategy is skipped with its reason; one that
    fails is recorded as failed, its traceback in `OUT/RECIPE/error.log`, so that the tour
    goes on. Run `alone` (the only recipe asked for), both are errors instead.
    """
    module = recipe if hasattr(recipe, "__file__") else load_recipe(recipe)
    name = recipe_name(module)
    progress.start_recipe(name, position, count)
    try:
        return run_recipe(module, config, progress)
    except UnsupportedStrategy as refusal:
        if alone:
            raise
        print(f"Skipped: {refusal}", flush=True)
        return {"recipe": name, "verdict": "skipped", "seconds": 0.0, "evidence": str(refusal)}
    except Exception as error:
        if was_interrupted():
            raise KeyboardInterrupt from error  # Ctrl-C, come out of TensorFlow as another error
        if isinstance(error, CookbookError) and alone:
            raise  # bad input for the one recipe asked for: the usual one-line error
        return record_failure(module, config, error)
    finally:
        progress.finish_recipe()


def planned_runs(module, config):
    """How many trainings the recipe will make under `config` (0 if it cannot say)."""
    try:
        recipe = Recipe.from_module(module)
        settings = recipe.settings(config)
        return len(recipe.variants(settings)) * len(recipe.conditions(settings)) * settings["seeds"]
    except Exception:  # the run itself will report what is wrong
        return 0


class Experiment:
    """One run of one recipe: resolved settings, every variant x condition x seed, the result file."""

    def __init__(self, recipe, config, scale, progress):
        self.recipe = recipe
        self.progress = progress
        self.config = config
        self.scale = scale
        self.settings = recipe.settings(config)
        self.seeds = [config.seed + offset for offset in range(self.settings["seeds"])]
        # Only the chief writes to --out; other workers of a cluster write to a scratch folder,
        # removed when the run ends (Keras's pattern for non-chief checkpoints).
        self._scratch = None if scale.is_chief else tempfile.mkdtemp(prefix="cookbook-worker-")
        self.out_dir = Path(self._scratch or config.out) / recipe.name
        self.store = ResumeStore(self.out_dir, {"config": dataclasses.asdict(config), **self.settings})
        self.trainer = Trainer(
            scale, history_dir=self.out_dir / "history", verbose=config.verbose, fits_per_graph=self.settings["seeds"]
        )
        self.plots = []
        self.fusion = {}  # "VARIANT[ @ CONDITION]" -> "fused", or why its seeds trained one at a time
        self._source = None
        self._started = time.perf_counter()

    def dataset(self, seed, batch_size=RUN_BATCH_SIZE, train_fraction=1.0):
        """The run's dataset, shuffled by `seed`; `batch_size=None` gives full batches;
        `train_fraction` keeps that much of the training split, chosen by `seed`."""
        if self._source is None:  # checked and decoded once per experiment
            self._source = open_dataset(self.config.dataset, data_dir=self.config.data_dir)
        batch_size = self.settings["batch_size"] if batch_size is RUN_BATCH_SIZE else batch_size
        return self._source.batched(batch_size, seed, replicas=self.scale.replicas, train_fraction=train_fraction)

    def tensorboard_dir(self, run):
        """`OUT/RECIPE/tensorboard/VARIANT[/CONDITION]/seed-N`: one TensorBoard run per training."""
        parts = [run.variant] + ([str(run.condition)] if run.condition is not None else [])
        return self.out_dir.joinpath("tensorboard", *parts, f"seed-{run.seed}")

    def plot_path(self, name):
        """Where to save a plot; it is listed in the result."""
        path = self.out_dir / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name not in self.plots:
            self.plots.append(path.name)
        return path

    def run(self):
        """Trains everything, lets the recipe conclude, and writes `OUT/RECIPE/result.json`.

        Training runs in the strategy's scope, so the models and optimizers a recipe builds
        land on its devices; the conclusion (analysis, plots, small side computations such
        as an optimizer's path on a 2-D function) runs on one device, outside it.
        """
        try:
            return self._run()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)

    def _run(self):
        variants = self.recipe.variants(self.settings)
        conditions = self.recipe.conditions(self.settings)
        runs = {condition: {variant: [] for variant in variants} for condition in conditions}
        with exclusive(self.out_dir):
            with self.scale.scope():
                for condition in conditions:
                    for variant in variants:
                        seeds = [
                            Run(self, variant, variants[variant], condition, conditions[condition], seed)
                            for seed in self.seeds
                        ]
                        runs[condition][variant] = self._records(seeds)
            results = Results(runs, settings=self.settings, seeds=self.seeds, plot_path=self.plot_path)
            return self.write(self.recipe.module.conclude(results), runs)

    def _records(self, seeds):
        """The records of one variant under one condition, a `Run` per seed; with
        `--fused-seeds`, the seeds' first `fit` trains them together where it can."""
        done = {}  # seed -> record, of runs that finished while fused training was prepared
        if self.config.fused_seeds:
            pending = [run for run in seeds if self.store.finished(run.name) is None]
            key = _result_key(seeds[0].variant, seeds[0].condition)
            if self.recipe.one_seed_at_a_time or len(pending) < 2:
                self.fusion[key] = self.recipe.one_seed_at_a_time or "fewer than two seeds were left to train"
            else:
                self.fusion[key] = self._fit_fused(pending, done)
        return [done[run.seed] if run.seed in done else self._record(run) for run in seeds]

    def _fit_fused(self, pending, done):
        """Trains the `pending` runs' first `fit` as one fused model, each run then replaying its
        `train` with its trained model; returns "fused", or why they train one at a time.

        Each `train(run)` first runs up to its first `fit`, which hands over the model, data
        and callbacks instead of training. A `train` that never fits (the ensemble's
        scikit-learn members) finishes in that pass: its record goes into `done`.
        """
        captured = []
        for run in pending:
            run.capture_fit = True
            try:
                done[run.seed] = self._record(run)
            except FitCaptured as fit:
                captured.append((run, fit))
        fits = [fit for _, fit in captured]
        if len(captured) < len(pending) or not captured:
            why = "its training does not go through run.fit, so there is no model to fuse"
        else:
            why = why_not_fused([fit.model for fit in fits], [fit.data for fit in fits])
        if why is None and len({fit.epochs for fit in fits}) > 1:
            why = "the seeds train for different numbers of epochs"
        outcomes = None
        if why is None:
            runs = [run for run, _ in captured]
            outcomes = self.trainer.fit_fused(
                [fit.model for fit in fits],
                [fit.data for fit in fits],
                history_names=[run.name for run in runs],
                backup_dir=self.store.backup_dir(f"{runs[0].name}-fused{len(runs)}"),
                epochs=fits[0].epochs,
                callbacks=[fit.callbacks for fit in fits],
                tensorboards=[(self.tensorboard_dir(run), run.hyperparameters()) for run in runs],
                progress=[epoch_callback(self.progress, fits[0].epochs)],
            )
            if outcomes is None:
                why = "a seed's loss became NaN, where its own run stops while the others go on"
        for (run, fit), outcome in zip(captured, outcomes or [None] * len(captured)):
            run.replay_fit(fit.model, outcome)
        return why or "fused"

    def _record(self, run):
        finished = self.store.finished(run.name)
        if finished is not None:
            self.progress.finish_run(run.description, reused=True)
            return finished
        self.progress.start_run(run.description, self.settings["epochs"])
        seed_everything(run.seed, deterministic_ops=self.scale.deterministic_ops)
        started = time.perf_counter() - run.fused_seconds
        measured = self.recipe.module.train(run)
        record = {"seed": run.seed, **run.outcome, **measured}
        record.setdefault("seconds", time.perf_counter() - started)
        record = to_json_value(record)
        self.store.keep(run.name, record)
        self.progress.finish_run(run.description)
        return record

    def write(self, conclusion, runs):
        """Writes `OUT/RECIPE/result.json` atomically and returns what it wrote."""
        if conclusion.regime is not None:
            plot_regime(conclusion.regime, self.plot_path("regime"))
            self.plots.insert(0, self.plots.pop())
        if conclusion.shows:
            plot_seed_values(conclusion.shows, self.plot_path("evidence"), title="What the verdict rests on")
            self.plots.insert(0, self.plots.pop())
        variants = {
            _result_key(variant, condition): {"summary": summarize_records(records), "runs": records}
            for condition, by_variant in runs.items()
            for variant, records in by_variant.items()
        }
        result = {
            "recipe": self.recipe.name,
            "claim": self.recipe.claim,
            "verdict": conclusion.verdict,
            "evidence": conclusion.evidence_with_parts() + QUICK_NOTE * bool(self.config.quick),
            "measurements": {
                "parts": conclusion.parts,
                "intervals": conclusion.parts_json(),
                **({"regime": conclusion.regime.to_json()} if conclusion.regime is not None else {}),
                **conclusion.measurements,
            },
            "shows": conclusion.shows,
            "variants": variants,
            "plots": self.plots,
            "config": {**dataclasses.asdict(self.config), "resolved": self.settings},
            "dataset": dataclasses.asdict(self._source.facts) if self._source is not None else None,
            "environment": environment(),
            "scale": self.scale.describe(),
            **({"fused_seeds": self.fusion} if self.config.fused_seeds else {}),
            "seconds": time.perf_counter() - self._started,
        }
        write_json_atomic(self.out_dir / "result.json", result)
        self.store.clear()
        return to_json_value(result)


def _describe(spec):
    if callable(spec):  # an optimizer's factory, say: its name says more than its address
        return getattr(spec, "__qualname__", type(spec).__name__)
    return str(spec)


def _result_key(variant, condition):
    return variant if condition is None else f"{variant} @ {condition}"


class FitCaptured(BaseException):
    """What `run.fit` hands over, instead of training, on the first pass of fused seeds.
    A BaseException, so that a recipe's own `except Exception` does not swallow it."""

    def __init__(self, model, data, epochs, callbacks):
        super().__init__("run.fit captured for fused seeds")
        self.model, self.data, self.epochs, self.callbacks = model, data, epochs, callbacks


class Run:
    """One training of a recipe: a variant under a condition with a seed, and its data.

    `run.fit` and `run.evaluate` are the recipe's `model.fit` and `model.evaluate`:
    they add the standard callbacks, write the history, resume an interrupted fit
    and reuse traced graphs. After `run.fit(model)`, `model` holds the trained weights.
    """

    def __init__(self, experiment, variant, spec, condition, condition_spec, seed):
        self.variant = variant
        self.spec = spec
        self.condition = condition
        self.condition_spec = condition_spec
        self.seed = seed
        self.settings = experiment.settings
        self.outcome = {}  # what the last `fit` reported, kept in the record
        self._experiment = experiment
        self._data = None
        self._twins = {}  # id(model) -> (model, the trainer's twin that trains for it)
        self.capture_fit = False  # the first pass of fused seeds: `fit` raises FitCaptured
        self._fused = None  # (trained model, outcome): what the next `fit` takes over
        self.fused_seconds = 0.0

    def replay_fit(self, trained, outcome):
        """Starts this run's `train` again: its first `fit` takes over `trained`'s state and
        `outcome` (fused training), or trains as usual when `outcome` is None."""
        self.capture_fit = False
        self._data, self._twins = None, {}
        self._fused = (trained, outcome) if outcome is not None else None
        self.fused_seconds = outcome["fit_seconds"] if outcome is not None else 0.0

    @property
    def name(self):
        """The run's file name: `VARIANT-seedN`, with the condition between them if any."""
        parts = [self.variant] + ([self.condition] if self.condition is not None else [])
        return "-".join(str(part) for part in parts) + f"-seed{self.seed}"

    @property
    def description(self):
        """`tanh, seed 1` (with the condition, if any)."""
        condition = f", {self.condition}" if self.condition is not None else ""
        return f"{self.variant}{condition}, seed {self.seed}"

    @property
    def epochs(self):
        return self.settings["epochs"]

    @property
    def batch_size(self):
        return self.settings["batch_size"]

    @property
    def verbose(self):
        return self._experiment.trainer.fit_verbosity

    @property
    def is_first_seed(self):
        return self.seed == self._experiment.seeds[0]

    @property
    def data(self):
        """The run's `Dataset`: the run's batch size, training order shuffled by its seed."""
        if self._data is None:
            self._data = self.dataset()
        return self._data

    def dataset(self, batch_size=RUN_BATCH_SIZE, *, train_fraction=1.0):
        """The run's data at another batch size (`None`: each split in one batch), or with
        only `train_fraction` of the training split (a subset chosen by the run's seed)."""
        return self._experiment.dataset(self.seed, batch_size, train_fraction)

    def plot_path(self, name):
        return self._experiment.plot_path(name)

    @property
    def twins(self):
        """The `cookbook.twins.Twins` the harness trains through: pass it to models trained
        outside `fit` (`cookbook.wrappers.SKLearnClassifier(twins=...)`) to share traced graphs."""
        return self._experiment.trainer.twins

    def fit(self, model, data=None, *, epochs=None, callbacks=()):
        """Trains the compiled `model` on `data` (the run's by default) for the run's epochs.

        Returns `{"history", "epochs_trained", "diverged", "fit_seconds"}`, which the
        run's record also gets. Training stops at the first NaN loss and says so.
        """
        data = self.data if data is None else data
        if self.capture_fit:
            self.capture_fit = False
            raise FitCaptured(model, data, epochs or self.epochs, list(callbacks))
        trainer = self._experiment.trainer
        fused, self._fused = self._fused, None
        if fused is not None:  # trained already, fused with the other seeds
            copy_state(fused[0], model)
        if id(model) not in self._twins:
            self._twins[id(model)] = (model, trainer.twins.load(model, next(iter(data.validation))))
        if fused is not None:
            self.outcome = fused[1]
            return self.outcome
        twin = self._twins[id(model)][1]
        self.outcome = trainer.fit(
            twin,
            data,
            history_name=self.name,
            backup_dir=self._experiment.store.backup_dir(self.name),
            epochs=epochs or self.epochs,
            callbacks=[*callbacks, epoch_callback(self._experiment.progress, epochs or self.epochs)],
            tensorboard=(self._experiment.tensorboard_dir(self), self.hyperparameters()),
        )
        if twin is not model:
            copy_state(twin, model)
        if self.outcome["diverged"]:
            print(
                f"[{self._experiment.recipe.name}] {self.description}: the loss became NaN in epoch "
                f"{self.outcome['epochs_trained']}; training stopped there and the run counts as diverged."
            )
        return self.outcome

    def hyperparameters(self):
        """What this run is, for TensorBoard: its variant, condition, seed and settings (numbers,
        strings and booleans; a spec of another kind is shown as text)."""
        values = {"variant": self.variant, "seed": self.seed, "condition": str(self.condition)}
        values.update({f"setting/{k}": v for k, v in self.settings.items() if isinstance(v, (int, float, str, bool))})
        spec = self.spec if isinstance(self.spec, (int, float, str, bool)) else _describe(self.spec)
        return {**values, "spec": spec}

    def evaluate(self, model, dataset):
        """`[loss, accuracy]` of `model` on `dataset`, through the graphs traced for its architecture."""
        twin = self._twins.get(id(model), (model, model))[1]
        return self._experiment.trainer.evaluate(twin, dataset)
