"""The harness every recipe runs on: settings, seeds, training, resuming and the result file.

A recipe module defines `CLAIM`, `DEFAULTS` (and `QUICK`) and `run(experiment)`.
`run` trains each variant over the experiment's seeds with `run_seeds` and
`fit`, then calls `conclude` with a verdict computed from what it measured.
"""

import csv
import dataclasses
import functools
import hashlib
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras

from cookbook import statistics
from cookbook.callbacks import EpochSeconds
from cookbook.data import DEFAULT_DATASET
from cookbook.data import load_dataset
from cookbook.errors import CookbookError
from cookbook.results import environment
from cookbook.results import read_json
from cookbook.results import to_json_value
from cookbook.results import write_json_atomic
from cookbook.scaling import ScaleOptions
from cookbook.seeding import seed_everything
from cookbook.tracing import build_training_state
from cookbook.training_loop import StrategyLoop

SETTINGS = ("epochs", "batch_size", "seeds")
RUN_BATCH_SIZE = object()  # "the run's batch size", told apart from None (full batch)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What the user asked for. `None` settings take the recipe's own defaults."""

    dataset: str = DEFAULT_DATASET
    data_dir: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seeds: int | None = None
    seed: int = 0
    quick: bool = False
    out: str = "results"
    verbose: int | str = "auto"  # Keras fit verbosity; "auto": a progress bar on a terminal.
    scale: ScaleOptions = ScaleOptions()  # device, strategy, mixed precision, XLA

    def __post_init__(self):
        for name in SETTINGS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CookbookError(f"{name} must be a positive integer, got {value!r}.")


class Experiment:
    """One run of one recipe: resolved settings, trained variants and the result file."""

    def __init__(self, recipe, claim, config, defaults, quick=None, scale=None):
        self.recipe = recipe
        self.claim = claim
        self.config = config
        self.scale = scale  # a `cookbook.scaling.Scale`; None: Keras's defaults, one process
        resolved = {**defaults, **((quick or {}) if config.quick else {})}
        resolved.update(
            {name: getattr(config, name) for name in SETTINGS if getattr(config, name)}
        )
        self.settings = resolved
        self.epochs = resolved["epochs"]
        self.batch_size = resolved["batch_size"]
        self.seeds = [config.seed + offset for offset in range(resolved["seeds"])]
        out = config.out
        if scale is not None and not scale.is_chief:
            out = tempfile.mkdtemp(prefix="cookbook-worker-")  # only the chief writes to --out
        self.out_dir = Path(out) / recipe
        self.history_dir = self.out_dir / "history"
        self.variants = {}
        self.plots = []
        self._started = time.perf_counter()
        fingerprint = json.dumps({"config": dataclasses.asdict(config), **resolved}, sort_keys=True)
        digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
        # Finished seeds of an interrupted run, reused only by a run with the same settings.
        self._progress_dir = self.out_dir / ".progress" / digest
        self._runs_total = None
        self._runs_done = 0
        self._traced = {}  # variant -> (compiled model, its optimizer's initial state)

    @property
    def verbose(self):
        if self.config.verbose == "auto":
            return 1 if sys.stdout.isatty() else 2
        return self.config.verbose

    def load_data(self, seed, batch_size=RUN_BATCH_SIZE):
        """The run's dataset, shuffled by `seed`; `batch_size=None` gives full batches."""
        return load_dataset(
            self.config.dataset,
            batch_size=self.batch_size if batch_size is RUN_BATCH_SIZE else batch_size,
            seed=seed,
            data_dir=self.config.data_dir,
        )

    def plan(self, variants):
        """Announces how many trainings follow, for the progress display."""
        self._runs_total = len(variants) * len(self.seeds)

    def run_variants(self, variants, train_one):
        """Trains every variant over every seed; returns `{name: [record per seed]}`.

        `variants` maps a variant's name to what `train_one(spec, seed)` needs to
        build it; a plain list of names passes each name as its own spec.
        """
        if not isinstance(variants, dict):
            variants = {name: name for name in variants}
        self.plan(variants)
        return {
            name: self.run_seeds(name, functools.partial(train_one, spec))
            for name, spec in variants.items()
        }

    def run_seeds(self, variant, train_one):
        """Trains `variant` once per seed with `train_one(seed) -> dict` and keeps the records.

        Each record is saved as soon as it exists, so a rerun after an
        interruption (same settings) skips the seeds that had finished.
        """
        records = []
        for seed in self.seeds:
            self._runs_done += 1
            of_total = f"/{self._runs_total}" if self._runs_total else ""
            saved = self._progress_dir / "runs" / f"{variant}-seed{seed}.json"
            if saved.exists():
                print(f"[{self.recipe}] {variant}, seed {seed}: finished earlier, reusing it")
                records.append(read_json(saved))
                continue
            print(f"[{self.recipe}] run {self._runs_done}{of_total}: {variant}, seed {seed}")
            seed_everything(seed)
            started = time.perf_counter()
            record = {"seed": seed, **train_one(seed)}
            record.setdefault("seconds", time.perf_counter() - started)
            record = to_json_value(record)
            write_json_atomic(saved, record)
            records.append(record)
        self.variants[variant] = records
        return records

    def reuse_traced(self, model, key):
        """Returns a model that behaves exactly as the freshly built and compiled `model`,
        but whose traced training and evaluation graphs are reused from earlier seeds.

        Tracing a deep network's training step takes seconds (half a minute for a
        GoogLeNet); seeds of one variant share the architecture, so the first
        model built under `key` is kept and each later one only lends it its
        variables: initial weights and random-seed states are copied over and the
        optimizer's state is reset, so the result matches a fresh model's.
        """
        if key not in self._traced:
            model.optimizer.build(model.trainable_variables)
            initial = [variable.numpy() for variable in model.optimizer.variables]
            self._traced[key] = (model, initial)
            return model
        kept, initial = self._traced[key]
        shapes = [tuple(v.shape) for v in model.variables]
        if shapes != [tuple(v.shape) for v in kept.variables]:
            raise ValueError(f"reuse_traced({key!r}): the model differs from the one kept under that key.")
        for target, source in zip(kept.variables, model.variables):
            target.assign(source)
        for variable, value in zip(kept.optimizer.variables, initial):
            variable.assign(value)
        return kept

    def fit(self, model, data, *, variant, seed, epochs=None, callbacks=()):
        """`model.fit` with the standard callbacks; returns the history and how training ended.

        Callbacks given here run first, so values they add to `logs` land in the
        CSV history too. Training stops at the first NaN loss and says so.
        """
        epochs = epochs or self.epochs
        name = f"{variant}-seed{seed}"
        history_path = self.history_dir / f"{name}.csv"
        backup_dir = self._progress_dir / "backup" / name
        if not backup_dir.exists() and history_path.exists():
            history_path.unlink()  # Left by an earlier, completed run: start its history anew.
        history_path.parent.mkdir(parents=True, exist_ok=True)
        if self.config.scale.jit is not None:
            model.jit_compile = self.config.scale.jit
        standard = [
            *callbacks,
            EpochSeconds(),
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.CSVLogger(str(history_path), append=True),
        ]
        started = time.perf_counter()
        if self._uses_strategy_loop:
            self._strategy_loop(model).fit(
                data.train, data.validation, epochs=epochs, callbacks=standard, checkpoint_dir=backup_dir
            )
        else:
            build_training_state(model, next(iter(data.validation)))
            model.fit(
                data.train,
                validation_data=data.validation,
                epochs=epochs,
                shuffle=False,  # The training split shuffles itself, by the run's seed.
                verbose=self.verbose,
                callbacks=[*standard, keras.callbacks.BackupAndRestore(str(backup_dir))],
            )
        seconds = time.perf_counter() - started
        history = read_history(history_path)
        losses = history.get("loss", [])
        diverged = bool(losses) and not math.isfinite(losses[-1])
        if diverged:
            print(
                f"[{self.recipe}] {variant}, seed {seed}: the loss became NaN in epoch "
                f"{len(losses)}; training stopped there and the run counts as diverged."
            )
        return {
            "history": history,
            "epochs_trained": len(losses),
            "diverged": diverged,
            "fit_seconds": seconds,
        }

    def evaluate(self, model, dataset):
        """`[loss, accuracy]` of `model` on `dataset`: `model.evaluate`, or the strategy loop's."""
        if self._uses_strategy_loop:
            return self._strategy_loop(model).evaluate(dataset)
        return model.evaluate(dataset, verbose=0)

    @property
    def _uses_strategy_loop(self):
        return self.scale is not None and self.scale.custom_loop

    def _strategy_loop(self, model):
        if getattr(model, "_cookbook_strategy_loop", None) is None:
            model._cookbook_strategy_loop = StrategyLoop(model, self.scale.strategy)
        return model._cookbook_strategy_loop

    def plot_path(self, name):
        """Where to save a plot; it is listed in the result."""
        path = self.out_dir / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.plots.append(path.name)
        return path

    def conclude_from_parts(self, parts, evidence, measurements=None):
        """Concludes with the verdict of a claim made of `parts` (`{part: verdict}`).

        The claim holds only if every part holds (`statistics.combine`); the
        evidence sentence gets each part's verdict appended, with the gap between
        means and the seed-to-seed spread it beat (or not), and `measurements`
        records the parts.
        """
        listed = "; ".join(f"{part}: {_with_margin(verdict)}" for part, verdict in parts.items())
        return self.conclude(
            statistics.combine(parts.values()),
            f"{evidence} Parts: {listed}.",
            {"parts": parts, **(measurements or {})},
        )

    def conclude(self, verdict, evidence, measurements=None):
        """Writes `OUT/RECIPE/result.json` atomically and returns what it wrote."""
        if verdict not in statistics.VERDICTS:
            raise ValueError(f"verdict must be one of {statistics.VERDICTS}, got {verdict!r}")
        result = {
            "recipe": self.recipe,
            "claim": self.claim,
            "verdict": verdict,
            "evidence": evidence,
            "measurements": measurements or {},
            "variants": {
                name: {"summary": summarize_records(records), "runs": records}
                for name, records in self.variants.items()
            },
            "plots": self.plots,
            "config": {**dataclasses.asdict(self.config), "resolved": self.settings},
            "environment": environment(),
            "scale": self.scale.describe() if self.scale is not None else None,
            "seconds": time.perf_counter() - self._started,
        }
        write_json_atomic(self.out_dir / "result.json", result)
        shutil.rmtree(self._progress_dir.parent, ignore_errors=True)
        return to_json_value(result)


def _with_margin(verdict):
    margin = verdict.margin() if isinstance(verdict, statistics.Verdict) else ""
    return f"{verdict} ({margin})" if margin else str(verdict)


def histories(runs, metric):
    """`{variant: [that metric's per-epoch history, one list per seed]}`, for `plot_curves`."""
    return {name: [record["history"][metric] for record in records] for name, records in runs.items()}


def summarize_records(records):
    """Mean and spread over seeds of every numeric top-level field the records share."""
    if not records:
        return {}
    shared = set.intersection(*(set(record) for record in records)) - {"seed"}
    return {
        key: statistics.summarize([record[key] for record in records])
        for key in sorted(shared)
        if all(
            isinstance(record[key], (int, float)) and not isinstance(record[key], bool)
            or record[key] is None
            for record in records
        )
        and any(record[key] is not None for record in records)
    }


def read_history(path):
    """Reads a CSVLogger file into `{metric: [one value per epoch]}`.

    After a resume an epoch can appear twice; the later row wins.
    """
    rows = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            rows[int(row["epoch"])] = row
    history = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            if key != "epoch":
                history.setdefault(key, []).append(float(value) if value else math.nan)
    return history
