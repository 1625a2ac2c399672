"""The words a recipe's conclusion is written in: columns of a measure per variant, their
summaries, "mean ± spread", targets never reached, and plots of a metric per variant."""

import dataclasses

from cookbook import statistics
from cookbook.plots import plot_curves


@dataclasses.dataclass(frozen=True)
class Regime:
    """A claim's parts decided at each point of a regime axis (a condition such as the
    training-set size, depth or a shift of the test images).

    `points` is `{point: {part: Verdict}}`, in the axis's order. `anchor` is the point of the
    regime the claim's anchor paper studied, declared in the recipe before it runs: the
    headline verdict is the claim's verdict there; `None` where the paper studied every
    point (a comparison with each of several optimizers), so every point's parts count.
    `paper` names the figure or table that predicts how the effect moves along the axis.
    """

    axis: str
    points: dict
    anchor: object
    paper: str = ""

    def __post_init__(self):
        if self.anchor is not None and self.anchor not in self.points:
            raise ValueError(f"The anchor point {self.anchor!r} is not one of the regime's points {list(self.points)}.")

    @property
    def parts(self):
        if self.anchor is None:
            return {f"{part} ({point})": v for point, parts in self.points.items() for part, v in parts.items()}
        return self.points[self.anchor]

    def verdicts(self):
        """`{point: the claim's verdict there}`."""
        return {point: statistics.combine(parts.values()) for point, parts in self.points.items()}

    def where(self):
        """`holds at 50%, 100%; inconclusive at 10%`: the points grouped by verdict."""
        grouped = {}
        for point, verdict in self.verdicts().items():
            grouped.setdefault(verdict, []).append(str(point))
        return "; ".join(f"{verdict} at {', '.join(points)}" for verdict, points in grouped.items())

    def to_json(self):
        return {
            "axis": self.axis,
            "anchor": self.anchor,
            "paper": self.paper,
            "points": {
                str(point): {
                    "verdict": statistics.combine(parts.values()),
                    "parts": {part: _as_json(verdict) for part, verdict in parts.items()},
                }
                for point, parts in self.points.items()
            },
        }


def _as_json(verdict):
    return verdict.to_json() if isinstance(verdict, statistics.Verdict) else {"verdict": str(verdict)}


@dataclasses.dataclass(frozen=True)
class Conclusion:
    """What a recipe concludes: its claim's parts, each with a verdict, and the numbers behind them.

    The claim holds only if every part holds (`statistics.combine`). With a `regime`, the
    parts are those at the regime's anchor point, unless given.
    """

    parts: dict = None
    evidence: str = ""
    measurements: dict = dataclasses.field(default_factory=dict)
    regime: Regime = None

    def __post_init__(self):
        if self.parts is None:
            if self.regime is None:
                raise ValueError("A conclusion needs its parts, or a regime to read them from.")
            object.__setattr__(self, "parts", self.regime.parts)

    @property
    def verdict(self):
        return statistics.combine(self.parts.values())

    def evidence_with_parts(self):
        """The evidence, then each part's verdict with its estimate and interval, then where
        along the regime axis the claim held."""
        listed = "; ".join(f"{part}: {_with_interval(verdict)}" for part, verdict in self.parts.items())
        text = f"{self.evidence} Parts: {listed}."
        if self.regime is not None:
            text += f" Along {self.regime.axis} (anchor: {self.regime.anchor}): {self.regime.where()}."
        return text

    def parts_json(self):
        return {part: _as_json(verdict) for part, verdict in self.parts.items()}


def _with_interval(verdict):
    described = verdict.describe() if isinstance(verdict, statistics.Verdict) else ""
    return f"{verdict} ({described})" if described else str(verdict)


def across(results, judge):
    """`{condition: judge(results.at(condition))}`: a claim's parts decided under each condition."""
    return {condition: judge(results.at(condition)) for condition in results.conditions}


class Results:
    """Every finished run of a recipe and ways to read them.

    `runs` is `{variant: [record per seed]}`; a record is what the recipe's
    `train(run)` returned, with the seed and, when it called `run.fit`, the training
    history. A recipe with conditions reads each one's runs through `at(condition)`.
    """

    def __init__(self, by_condition, *, settings, seeds, plot_path):
        self.by_condition = by_condition  # {condition: {variant: [record per seed]}}
        self.settings = settings
        self.seeds = seeds
        self.plot_path = plot_path  # name -> where to save a plot (listed in the result)

    @property
    def conditions(self):
        return list(self.by_condition)

    @property
    def runs(self):
        if len(self.by_condition) != 1:
            raise ValueError("These results span several conditions: read each with results.at(condition).")
        return next(iter(self.by_condition.values()))

    def at(self, condition):
        """The results under one condition."""
        return Results(
            {condition: self.by_condition[condition]},
            settings=self.settings,
            seeds=self.seeds,
            plot_path=self.plot_path,
        )

    @property
    def epochs(self):
        return self.settings["epochs"]

    @property
    def variants(self):
        return list(self.runs)

    def column(self, measure, *, missing=None):
        """`{variant: Sample of the measure over seeds}`; `measure` is a record's key or a
        function of a record. The samples carry their seeds, so two of them are compared seed
        with seed (`cookbook.statistics`). `missing` stands in for a `None` value."""
        read = measure if callable(measure) else lambda record: record[measure]

        def value(record):
            found = read(record)
            return missing if found is None else found

        return {
            name: statistics.Sample([value(record) for record in records], _seeds(records))
            for name, records in self.runs.items()
        }

    def sample(self, variant, measure):
        """One variant's `Sample` of a measure (a key or a function of a record), with its seeds."""
        read = measure if callable(measure) else lambda record: record[measure]
        records = self.runs[variant]
        return statistics.Sample([read(record) for record in records], _seeds(records))

    def per_seed(self, values_by_variant):
        """`{variant: Sample}` of values computed per seed by the recipe, in `seeds` order."""
        return {name: statistics.Sample(values, self.seeds) for name, values in values_by_variant.items()}

    def summaries(self, measure, *, missing=None):
        """`{variant: mean, spread and values over seeds}` of a measure."""
        return {name: statistics.summarize(values) for name, values in self.column(measure, missing=missing).items()}

    def first(self, measure):
        """`{variant: the first seed's value}`, for what the seed does not change (parameters, FLOPs)."""
        return {name: values[0] for name, values in self.column(measure).items()}

    def count(self, measure):
        """`{variant: how many seeds have a value}` (not `None`) of a measure, such as a target reached."""
        return {name: sum(value is not None for value in values) for name, values in self.column(measure).items()}

    def crossings(self, metric, target, *, scale=1.0):
        """`{variant: Sample of Bound}`: when each seed's `metric` first reached `target`
        (`statistics.crossing`), in epochs times `scale` (steps per epoch, say), as finely as
        the history has it: with `cookbook.callbacks.WithinEpoch`'s readings, to within a part
        of an epoch. A target never reached is known only to lie past the budget."""

        def when(record):
            history = record["history"]
            return statistics.crossing(
                history[metric], target, within_epoch(history, metric), running=not metric.startswith("val_")
            )

        return {name: values.map(lambda epochs: epochs * scale) for name, values in self.column(when).items()}

    def reaching(self, crossings, *, unit="", digits=1):
        """`{variant: "3.7 ± 0.6 epochs (3/3 seeds)"}` from `crossings`: the mean and spread of
        the seeds that reached the target (estimated within their epoch), how many did, or
        "never within N epochs"."""
        text = {}
        for name, values in crossings.items():
            summary = statistics.summarize(values)
            reached = summary["n"] - summary["censored"]
            if reached == 0:
                text[name] = f"never within {self.epochs} epochs"
            else:  # one seed has no spread, and the count below already says how many seeds
                shown = f"{summary['mean']:.{digits}f}" if summary["measured"] == 1 else mean_spread(summary, digits)
                text[name] = f"{shown}{unit} ({reached}/{summary['n']} seeds)"
        return text

    def histories(self, metric):
        """`{variant: [that metric's per-epoch history, one list per seed]}`."""
        return histories(self.runs, metric)

    def plot_metric(self, metric, name, *, variants=None, transform=None, **options):
        """Draws a metric's per-epoch curves, one line per variant (mean over seeds, range shaded).

        `variants` keeps only those; `transform` maps each value (for example
        accuracy to error); `options` go to `cookbook.plots.plot_curves`.
        """
        curves = {
            variant: [[transform(v) for v in curve] for curve in per_seed] if transform else per_seed
            for variant, per_seed in self.histories(metric).items()
            if variants is None or variant in variants
        }
        return plot_curves(curves, self.plot_path(name), **options)


def within_epoch(history, metric):
    """`[[(fraction, value), ...] per epoch]` from `WithinEpoch`'s columns, or None without them."""
    parts = 1
    while f"{metric}@{parts}" in history and f"at@{parts}" in history:
        parts += 1
    if parts == 1:
        return None
    return [
        [(history[f"at@{j}"][epoch], history[f"{metric}@{j}"][epoch]) for j in range(1, parts)]
        for epoch in range(len(history[metric]))
    ]


def _seeds(records):
    seeds = [record.get("seed") for record in records]
    return None if None in seeds else seeds


def histories(runs, metric):
    """`{variant: [that metric's per-epoch history, one list per seed]}`, for `plot_curves`."""
    return {name: [record["history"][metric] for record in records] for name, records in runs.items()}


def mean_spread(values, digits=3):
    """`"0.953 ± 0.006"`: the mean and standard deviation over seeds of `values` (or a summary);
    `"0.953 (1 seed)"` where one value was measured, since one seed has no spread to show."""
    summary = values if isinstance(values, dict) else statistics.summarize(values)
    if summary["mean"] is None:
        return "n/a"
    if summary.get("measured", summary["n"]) == 1:
        return f"{summary['mean']:.{digits}f} (1 seed)"
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"


def listing(values_by_name, digits=3):
    """`"a 0.953 ± 0.006, b 0.968 ± 0.003"`: one `mean_spread` per name."""
    return ", ".join(f"{name} {mean_spread(values, digits)}" for name, values in values_by_name.items())


def summarize_records(records):
    """Mean and spread over seeds of every numeric top-level field the records share."""
    if not records:
        return {}
    shared = set.intersection(*(set(record) for record in records)) - {"seed"}
    return {
        key: statistics.summarize([record[key] for record in records])
        for key in sorted(shared)
        if all(
            isinstance(record[key], (int, float)) and not isinstance(record[key], bool) or record[key] is None
            for record in records
        )
        and any(record[key] is not None for record in records)
    }
