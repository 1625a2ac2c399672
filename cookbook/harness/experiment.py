"""One run of one recipe: every variant under every condition with every seed, kept and
resumed run by run, then the recipe's conclusion written to `OUT/RECIPE/result.json`.

`run_recipe(module, options)` is the whole of it; the recipe protocol is in
`cookbook.harness.recipe`, what each `train(run)` receives in `cookbook.harness.run`.
"""

import shutil
import tempfile
import time
from pathlib import Path

from cookbook.analysis import Results
from cookbook.data.canvas import on_canvas
from cookbook.data.loading import open_dataset
from cookbook.harness import scaling
from cookbook.harness.fusion import FitRequest
from cookbook.harness.fusion import FusedSeeds
from cookbook.harness.locking import exclusive
from cookbook.harness.plan import Plan
from cookbook.harness.progress import Lines
from cookbook.harness.progress import epoch_callback
from cookbook.harness.result import result_key
from cookbook.harness.result import write_result
from cookbook.harness.resume import ResumeStore
from cookbook.harness.run import Run
from cookbook.harness.trainer import Trainer
from cookbook.harness.tuning import successive_halving
from cookbook.results import to_json_value
from cookbook.seeding import seed_everything
from cookbook.twins import copy_state


def run_recipe(recipe, options, progress=None):
    """Runs a recipe (its module, or its `Plan`) under `options` (a `RunOptions`) and returns its result.

    `progress` (a display, see `cookbook.harness.progress`) hears of each run and epoch; by
    default a line per finished run.
    """
    plan = recipe if isinstance(recipe, Plan) else Plan.of(recipe, options)
    plan.recipe.refuse_unsupported(options.scale.strategy)
    progress = progress or Lines(plan.runs, recipe=plan.recipe.name)
    return Experiment(plan, scaling.setup(options.scale), progress).run()


class Experiment:
    """The runs of one `Plan`, their records, and the result file."""

    def __init__(self, plan, scale, progress):
        self.plan = plan
        self.options = plan.options
        self.scale = scale
        self.progress = progress
        # Only the chief writes to --out; other workers of a cluster write to a scratch folder,
        # removed when the run ends (Keras's pattern for non-chief checkpoints).
        self._scratch = None if scale.is_chief else tempfile.mkdtemp(prefix="cookbook-worker-")
        self.out_dir = Path(self._scratch or self.options.out) / plan.recipe.name
        self.store = ResumeStore(self.out_dir, {"config": self.options.fingerprint(), **plan.settings})
        self.trainer = Trainer(self.options, history_dir=self.out_dir / "history", fits_per_graph=len(plan.seeds))
        self.plots = []
        self.fusion = {}  # "VARIANT[ @ CONDITION]" -> "fused", or why its seeds trained one at a time
        self.searches = {}  # "VARIANT[ @ CONDITION]" -> its tuning search (`cookbook.harness.tuning`)
        self.paused_seconds = {}  # run name -> seconds it waited for other seeds (fused)
        self.source = None  # the dataset, checked and decoded at its first use
        self._fused = None  # the `FusedSeeds` under way
        self._twins = {}  # run name -> {id(model): (model, the twin that trains for it)}
        self._started = time.perf_counter()

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
        plan = self.plan
        runs = {condition: {variant: [] for variant in plan.variants} for condition in plan.conditions}
        with exclusive(self.out_dir):
            with self.scale.scope():
                for condition, condition_spec in plan.conditions.items():
                    for variant, spec in plan.variants.items():
                        nuisance = self._tune(variant, spec, condition, condition_spec)
                        seeds = [
                            Run(self, variant, spec, condition, condition_spec, seed, nuisance) for seed in plan.seeds
                        ]
                        runs[condition][variant] = self._records(seeds)
            results = Results(runs, settings=plan.settings, seeds=list(plan.seeds), plot_path=self.plot_path)
            conclusion = plan.recipe.conclude(results)
            result = write_result(self, conclusion, runs, seconds=time.perf_counter() - self._started)
            self.store.clear()
        return result

    def _tune(self, variant, spec, condition, condition_spec):
        """The nuisance point the decisive seeds of `variant` train at: searched on the
        validation split with the tuning seed (each trial a run, kept and resumed like any
        other), or `{}` for a recipe without `TUNING`."""
        tuning = self.plan.recipe.tuning
        if tuning is None:
            return {}

        histories = {}

        def evaluate(nuisance, epochs):
            trial = Run(self, variant, spec, condition, condition_spec, self.plan.tuning_seed, nuisance, epochs)
            record = self.record(trial)
            histories[trial.name] = record.get("history")
            return tuning.objective(record)

        quick = self.options.quick
        rungs = tuning.rung_epochs(self.plan.settings["epochs"])
        search = successive_halving(tuning.trials(quick, variant, condition_spec), rungs, tuning.halving, evaluate)
        if search["trials"]:
            last = Run(
                self, variant, spec, condition, condition_spec, self.plan.tuning_seed, search["chosen"], rungs[-1]
            )
            search["chosen"] = {**search["chosen"], **tuning.budget_from(histories[last.name])}
        self.searches[result_key(variant, condition)] = {
            **tuning.describe(quick, variant, condition_spec),
            "seed": self.plan.tuning_seed,
            "budget": len(search["trials"]),
            **to_json_value(search),
        }
        return search["chosen"]

    def _records(self, seeds):
        """The records of one variant under one condition, a `Run` per seed; with
        `--fused-seeds`, the seeds' first `fit` trains them together where it can."""
        if not self.options.fused_seeds:
            return [self.record(run) for run in seeds]
        pending = [run for run in seeds if self.store.finished(run.name) is None]
        key = result_key(seeds[0].variant, seeds[0].condition)
        if self.plan.recipe.one_seed_at_a_time or len(pending) < 2:
            self.fusion[key] = self.plan.recipe.one_seed_at_a_time or "fewer than two seeds were left to train"
            return [self.record(run) for run in seeds]
        self._fused = FusedSeeds(self, pending)
        try:
            done, self.fusion[key] = self._fused.records()
        finally:
            self._fused = None
        return [done[run.seed] if run.seed in done else self.record(run) for run in seeds]

    def record(self, run):
        """Trains `run` (or reads its record, if it finished earlier) and keeps its record."""
        finished = self.store.finished(run.name)
        if finished is not None:
            self.progress.finish_run(run.description, reused=True)
            return finished
        self.progress.start_run(run.description, run.epochs)
        seed_everything(run.seed, deterministic_ops=self.scale.deterministic_ops)
        started = time.perf_counter()
        measured = self.plan.recipe.train(run)
        record = {"seed": run.seed, **run.outcome, **measured}
        seconds = time.perf_counter() - started - self.paused_seconds.pop(run.name, 0.0)
        record = to_json_value({**record, "seconds": record.get("seconds", seconds)})
        self.store.keep(run.name, record)
        self._twins.pop(run.name, None)
        self.progress.finish_run(run.description)
        return record

    def dataset(self, seed, batch_size, train_fraction=1.0, canvas=1):
        """The run's dataset, shuffled by `seed`; `batch_size=None` gives full batches;
        `train_fraction` keeps that much of the training split, chosen by `seed`; `canvas`
        places every image on a canvas that many times its side (`cookbook.data.on_canvas`)."""
        if self.source is None:
            self.source = open_dataset(self.options.dataset, data_dir=self.options.data_dir)
        source = on_canvas(self.source, canvas)
        return source.batched(batch_size, seed, replicas=self.scale.replicas, train_fraction=train_fraction)

    def fit(self, run, model, data, epochs, callbacks):
        """`run.fit`: trains `model` through its architecture's twin, or with the other seeds'."""
        if self._fused is not None and self._fused.waits_for(run):
            outcome = self._fused.hand_over(run, FitRequest(model, data, epochs, callbacks))
            if outcome is not None:  # trained already, fused with the other seeds
                self._twin(run, model, data)  # its graphs, for `run.evaluate`
                return outcome
        twin = self._twin(run, model, data)
        outcome = self.trainer.fit(
            twin,
            data,
            history_name=run.name,
            backup_dir=self.store.backup_dir(run.name),
            epochs=epochs,
            callbacks=[*callbacks, epoch_callback(self.progress, epochs)],
            tensorboard=(self.tensorboard_dir(run), run.hyperparameters()),
        )
        if twin is not model:
            copy_state(twin, model)
        if outcome["diverged"]:
            print(
                f"[{self.plan.recipe.name}] {run.description}: the loss became NaN in epoch "
                f"{outcome['epochs_trained']}; training stopped there and the run counts as diverged."
            )
        return outcome

    def evaluate(self, run, model, dataset):
        """`run.evaluate`: through the graphs traced for `model`'s architecture."""
        twin = self._twins.get(run.name, {}).get(id(model), (model, model))[1]
        return self.trainer.evaluate(twin, dataset)

    def _twin(self, run, model, data):
        """The kept model of `model`'s architecture, holding `model`'s state (see `cookbook.twins`)."""
        twins = self._twins.setdefault(run.name, {})
        if id(model) not in twins:
            twins[id(model)] = (model, self.trainer.twins.load(model, next(iter(data.validation))))
        return twins[id(model)][1]

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
