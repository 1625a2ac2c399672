"""`Run`: what a recipe's `train(run)` receives: one variant under one condition with one seed."""

# `run.dataset(batch_size=RUN_BATCH_SIZE)`: the run's own batch size, told apart from None
# (every split in one batch).
RUN_BATCH_SIZE = object()


class Run:
    """One training of a recipe: a variant under a condition with a seed, and its data.

    `run.fit` and `run.evaluate` are the recipe's `model.fit` and `model.evaluate`:
    they add the standard callbacks, write the history, resume an interrupted fit
    and reuse traced graphs. After `run.fit(model)`, `model` holds the trained weights.
    """

    def __init__(self, experiment, variant, spec, condition, condition_spec, seed, nuisance=None, trial_epochs=None):
        self.variant = variant
        self.spec = spec
        self.condition = condition
        self.condition_spec = condition_spec
        self.seed = seed
        # The nuisance hyperparameters tuned for this variant (`cookbook.harness.tuning`), or
        # the point a tuning trial tries; `trial_epochs`: that trial's rung, None for a decisive run.
        self.nuisance = dict(nuisance or {})
        self.trial_epochs = trial_epochs
        self.settings = experiment.plan.settings
        self.outcome = {}  # what the last `fit` reported, kept in the record
        self._experiment = experiment
        self._data = None

    @property
    def is_trial(self):
        return self.trial_epochs is not None

    @property
    def name(self):
        """The run's file name: `VARIANT-seedN`, with the condition between them if any; a
        tuning trial's starts `tune-` and names its point and epochs."""
        parts = [self.variant] + ([self.condition] if self.condition is not None else [])
        if self.is_trial:
            point = [
                f"{name}{value:g}" if isinstance(value, float) else f"{name}{value}"
                for name, value in self.nuisance.items()
            ]
            parts = ["tune", *parts, *point, f"epochs{self.trial_epochs}"]
        return "-".join(str(part) for part in parts) + f"-seed{self.seed}"

    @property
    def description(self):
        """`tanh, seed 1` (with the condition, if any; a tuning trial says its point)."""
        condition = f", {self.condition}" if self.condition is not None else ""
        if self.is_trial:
            point = ", ".join(
                f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                for name, value in self.nuisance.items()
            )
            return f"tuning {self.variant}{condition}: {point}, {self.trial_epochs} epochs"
        return f"{self.variant}{condition}, seed {self.seed}"

    @property
    def epochs(self):
        """A trial's rung, or the tuned epoch budget (`Tuning.epochs_from`), or the settings'."""
        if self.trial_epochs is not None:
            return self.trial_epochs
        return self.nuisance.get("epochs", self.settings["epochs"])

    @property
    def batch_size(self):
        return self.settings["batch_size"]

    @property
    def verbose(self):
        """What to pass as `verbose=` to a Keras `fit` of the recipe's own (Keras's line per
        epoch under `--verbose`, nothing otherwise)."""
        return self._experiment.trainer.fit_verbosity

    @property
    def steps_per_execution(self):
        """Batches per traced call for a `fit` the harness does not see (scikit-learn's, say):
        what `run.fit` uses for a long fit (see `cookbook.harness.trainer`)."""
        from cookbook.harness.trainer import steps_per_execution

        return steps_per_execution()

    @property
    def is_first_seed(self):
        return self.seed == self._experiment.plan.seeds[0]

    @property
    def data(self):
        """The run's `Dataset`: the run's batch size, training order shuffled by its seed."""
        if self._data is None:
            self._data = self.dataset()
        return self._data

    def dataset(self, batch_size=RUN_BATCH_SIZE, *, train_fraction=1.0, canvas=1):
        """The run's data at another batch size (`None`: each split in one batch), with only
        `train_fraction` of the training split (a subset chosen by the run's seed), or with
        every image placed at a random position on a canvas `canvas` times its side."""
        batch_size = self.batch_size if batch_size is RUN_BATCH_SIZE else batch_size
        return self._experiment.dataset(self.seed, batch_size, train_fraction, canvas)

    def plot_path(self, name):
        """Where to save a plot called `name`; it is listed in the result."""
        return self._experiment.plot_path(name)

    @property
    def twins(self):
        """The `cookbook.twins.Twins` the harness trains through: pass it to models trained
        outside `fit` (`cookbook.wrappers.SKLearnClassifier(twins=...)`) to share traced graphs."""
        return self._experiment.trainer.twins

    def fit(self, model, data=None, *, epochs=None, callbacks=()):
        """Trains the compiled `model` on `data` (the run's by default) for the run's epochs.

        Returns `{"history", "epochs_trained", "diverged", "fit_seconds", ...}`, which the
        run's record also gets. Training stops at the first NaN loss and says so.
        """
        data = self.data if data is None else data
        self.outcome = self._experiment.fit(self, model, data, epochs or self.epochs, list(callbacks))
        return self.outcome

    def evaluate(self, model, dataset):
        """`[loss, accuracy]` of `model` on `dataset`, through the graphs traced for its architecture."""
        return self._experiment.evaluate(self, model, dataset)

    def hyperparameters(self):
        """What this run is, for TensorBoard: its variant, condition, seed and settings (numbers,
        strings and booleans; a spec of another kind is shown as text)."""
        values = {"variant": self.variant, "seed": self.seed, "condition": str(self.condition)}
        values.update({f"nuisance/{k}": v for k, v in self.nuisance.items() if isinstance(v, (int, float, str, bool))})
        values.update({f"setting/{k}": v for k, v in self.settings.items() if isinstance(v, (int, float, str, bool))})
        spec = self.spec if isinstance(self.spec, (int, float, str, bool)) else _describe(self.spec)
        return {**values, "spec": spec}


def _describe(spec):
    if callable(spec):  # an optimizer's factory, say: its name says more than its address
        return getattr(spec, "__qualname__", type(spec).__name__)
    return str(spec)
