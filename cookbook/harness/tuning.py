"""Nuisance hyperparameters tuned per variant before the decisive seeds train.

The Deep Learning Tuning Playbook (Godbole et al. 2023) calls a recipe's *scientific*
hyperparameter the one its claim is about (the optimizer, the activation) and the ones that
must be set well for the comparison to be fair *nuisance* hyperparameters (the learning
rate, say). Choi et al. 2019 show optimizer rankings flipping when only one of them is tuned.
So a recipe may declare `TUNING = Tuning(...)`: for each variant, under each condition, the
harness searches the space on the validation split with a seed of its own (not one of the
decisive seeds, whose validation numbers the verdict reads), then trains the decisive seeds
at the chosen point. Test numbers exist only for that point.

The budget rule is successive halving (Jamieson & Talwalkar 2016; Li et al. 2018's
Hyperband bracket): every trial trains for a fraction of the epochs, the best `1/halving`
go on to `halving` times as many, up to the recipe's epochs. A trial is a fresh training at
each rung (no continuation), so its record is what it would be as a run of that length.
"""

import dataclasses
import itertools
import math

import scipy.stats


@dataclasses.dataclass(frozen=True)
class Tuning:
    """A recipe's nuisance search.

    `space`: `{name: values}`, searched as a grid (`run.nuisance[name]` in `train`), or a
    function `(variant name, condition spec) -> {name: values}` where the points depend on
    them (an optimizer's own default, a budget of trials that is the regime axis);
    `quick_space`: the smaller grid `--quick` uses (default: `space`), a dict or a function;
    `objective`: `record -> number`, higher is better, read from the validation split only
    (a run that never produced it, a diverged one say, returns None or NaN: worst);
    `objective_name`: what it measures, for the isolation plot and result.json;
    `halving`: successive halving's factor (3: a third of the trials go on, three times as long);
    `rungs`: how many lengths (1: every trial trains the recipe's whole epochs);
    `epochs_from`: a per-epoch validation metric of the history (`"val_accuracy"`): the epoch
    budget is tuned too, as early stopping would choose it. The recipe's epochs are the
    longest budget; the chosen trial's history says after which epoch the metric peaked
    (the first such), and the decisive seeds train that many (`run.nuisance["epochs"]`).
    Reading it from one long trial is exact: a shorter training is the same run stopped
    sooner, as nothing in a fit depends on how many epochs are still to come.
    """

    space: dict
    objective: object
    objective_name: str
    quick_space: dict = None
    halving: int = 3
    rungs: int = 2
    epochs_from: str = None

    def __post_init__(self):
        for space in (self.space, self.quick_space):
            if not (space is None or callable(space)):
                _check_space(space)
        if not callable(self.objective):
            raise ValueError("Tuning objective must be a function of a run's record.")
        if self.epochs_from is not None and ("epochs" in self.space or not isinstance(self.epochs_from, str)):
            raise ValueError("Tuning epochs_from names a history metric, and then 'epochs' is not in the space.")
        if not (
            isinstance(self.halving, int) and self.halving >= 2 and isinstance(self.rungs, int) and self.rungs >= 1
        ):
            raise ValueError("Tuning needs halving >= 2 and rungs >= 1 (whole numbers).")

    def space_for(self, quick=False, variant=None, condition=None):
        """The grid searched for `variant` (its name) under a condition (its spec)."""
        space = self.quick_space if quick and self.quick_space else self.space
        return _check_space(space(variant, condition)) if callable(space) else space

    def trials(self, quick=False, variant=None, condition=None):
        """Every point of the grid, in declared order: `[{name: value}]`."""
        space = self.space_for(quick, variant, condition)
        return [dict(zip(space, values)) for values in itertools.product(*space.values())]

    def rung_epochs(self, epochs):
        """The epochs of each rung, shortest first, the last one `epochs` (each at least 1)."""
        return [max(1, epochs // self.halving ** (self.rungs - 1 - rung)) for rung in range(self.rungs)]

    def describe(self, quick=False, variant=None, condition=None):
        space = self.space_for(quick, variant, condition)
        return {
            "space": {name: list(values) for name, values in space.items()},
            "objective": self.objective_name,
            "rule": f"successive halving, factor {self.halving}, {self.rungs} rung(s)"
            + (f"; epochs where {self.epochs_from} peaked" if self.epochs_from else ""),
        }

    def budget_from(self, history):
        """The epochs the decisive seeds train: `{"epochs": E}` with E the first epoch where
        the history's `epochs_from` metric peaked, or `{}` without `epochs_from` (or readings)."""
        values = [score(value) for value in (history or {}).get(self.epochs_from, [])] if self.epochs_from else []
        if not values or max(values) == -math.inf:
            return {}
        return {"epochs": values.index(max(values)) + 1}


def _check_space(space):
    for name, values in space.items():
        if not isinstance(name, str) or not name.isidentifier() or len(values) == 0:
            raise ValueError(f"Tuning space {name!r}: a name and at least one value are needed.")
    return space


def quasi_random_log(count, low, high):
    """`count` values spread over `[low, high)` on a log scale by a Sobol sequence (the Deep
    Learning Tuning Playbook's quasi-random search): the first `n` of them are the search with
    a budget of `n`, so a larger budget tries every point a smaller one did."""
    if not (isinstance(count, int) and count >= 1 and 0 < low < high):
        raise ValueError(f"quasi_random_log needs count >= 1 and 0 < low < high, got {count}, {low}, {high}.")
    points = scipy.stats.qmc.Sobol(d=1, scramble=False).random_base2(max(0, math.ceil(math.log2(count))))[:count, 0]
    return tuple(float(f"{low * (high / low) ** point:.3g}") for point in points)


def score(value):
    """An objective's value as a number to maximise: None and NaN rank last."""
    if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
        return -math.inf
    return float(value)


def successive_halving(trials, rung_epochs, halving, evaluate):
    """Runs `evaluate(nuisance, epochs) -> objective` over `trials`, keeping the best
    `ceil(n / halving)` at each rung for the next, longer one.

    Returns `{"trials": [{"rung", "epochs", "nuisance", "objective"}], "chosen": nuisance}`.
    Ties keep the earlier trial in declared order, so the same records choose the same point.
    A space of one point has nothing to choose between: it is chosen without a trial.
    """
    if len(trials) == 1:
        return {"trials": [], "chosen": trials[0]}
    history, alive = [], list(range(len(trials)))
    for rung, epochs in enumerate(rung_epochs):
        scores = {}
        for index in alive:
            objective = evaluate(trials[index], epochs)
            scores[index] = score(objective)
            history.append({"rung": rung, "epochs": epochs, "nuisance": trials[index], "objective": objective})
        ranked = sorted(alive, key=lambda index: (-scores[index], index))
        last = rung == len(rung_epochs) - 1
        alive = ranked[:1] if last else sorted(ranked[: math.ceil(len(ranked) / halving)])
    return {"trials": history, "chosen": trials[alive[0]]}


def trial_count(tuning, epochs, quick=False, variant=None, condition=None):
    """How many trainings the search makes for one variant under one condition."""
    alive, count = len(tuning.trials(quick, variant, condition)), 0
    if alive == 1:
        return 0
    for _ in tuning.rung_epochs(epochs):
        count += alive
        alive = math.ceil(alive / tuning.halving)
    return count
