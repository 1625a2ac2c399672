"""Mean and spread over seeds, and when a difference between variants counts as real.

A part of a claim compares one measure of two variants over seeds and is decided from a 90%
confidence interval of the effect, set against the part's threshold:

- `lower(a, b)`, "a is lower than b" (error, epochs to a target): holds when the interval of
  the effect `b - a` lies above 0, does not hold when it lies below 0;
- `no_higher(a, b, margin)`, "a is not higher than b by more than `margin`": holds when the
  interval lies above `-margin`, does not hold when it lies below it;
- `times_lower(a, b, factor)`, "a is at least `factor` times lower than b" (steps to a
  target): the same on logarithms, read as a ratio `b / a`.

Anything else is inconclusive. A one-sided claim read from a two-sided 90% interval errs at
most 5% of the time when the truth sits exactly on the claim's boundary; a claim of several
parts holds only when every part does, so it errs no more often (`combine`).

**The effect is the median over seeds**, and its interval comes from order statistics, not
from a t distribution, because what the recipes measure is rarely normal:

- *Ties.* Whole-epoch measures (epochs to a target, the highest learning rate that trained)
  often take one value for every seed. A value measured at a resolution is recorded as what it
  is, a `Bound`: "reached the target during epoch 3" is `Bound(2, 3)`, "trained at 0.5 but not
  at 1.0" is `Bound(0.5, 1.0)`. An interval's lower end is read from the values' lower ends and
  its upper end from their upper ends, so a tie is never certainty: a tie of whole epochs
  leaves the interval at least two epochs wide.
- *Censoring.* A target never reached within the budget is `Bound(budget, inf)`: known only
  to be more than the budget. It takes part in the ranks (it is larger than every value that
  reached the target) and never enters a mean; when too many values are censored the interval
  is unbounded on that side and the part stays inconclusive.
- *Pairing.* Variants of one recipe share their seeds (the same training subset, the same
  batch order and, for the same architecture, the same initial weights), so a part compares
  seed with seed: the effect is the median of the per-seed differences and its interval the
  sign test's (`paired_interval`). Columns read from `Results` carry their seeds (a `Sample`):
  two columns with the same seeds are compared in pairs, any others unpaired, through the
  Mann-Whitney (Hodges-Lehmann) interval of the shift between them (`unpaired_interval`).
  Neither assumes a distribution; both keep their coverage with ties, censoring and skew.

The price is seeds: a sign interval at 90% needs 5 paired seeds (2/32 of the sign test's
outcomes lie beyond the extreme order statistics), an unpaired one 3 a side.
`tests/test_statistics.py` checks the error rates by simulation on data like the recipes'
(continuous, whole epochs with ties, censored, paired and unpaired, claims of several parts),
and `seeds_for_power` turns an effect and a seed-to-seed spread into a seed count.
"""

import dataclasses
import math
from functools import cache

import numpy as np
from scipy import stats

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE)
CONFIDENCE = 0.90
POWER = 0.80  # the chance of `holds` a recipe's seed count must give its declared effect


@dataclasses.dataclass(frozen=True)
class Bound:
    """A value known only to lie between `low` and `high`: a target reached during an epoch,
    a learning-rate limit between two rates of a grid, or, with `high=inf`, a target not
    reached within the budget. `estimate` is the best single value (shown, never decided on)."""

    low: float
    high: float
    estimate: float = None

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"A bound's low end is at most its high end, not {self.low!r} > {self.high!r}.")

    @property
    def point(self):
        """The value a chart or a mean shows: the estimate, else the middle, else the finite end."""
        if self.estimate is not None:
            return float(self.estimate)
        if math.isfinite(self.low) and math.isfinite(self.high):
            return (self.low + self.high) / 2
        return self.low if math.isfinite(self.low) else self.high

    @property
    def censored(self):
        return math.isinf(self.high) or math.isinf(self.low)

    def map(self, function):
        """The bound under an increasing `function` (a logarithm, a unit change)."""
        estimate = None if self.estimate is None else function(self.estimate)
        return Bound(_apply(function, self.low), _apply(function, self.high), estimate)

    def to_json(self):
        return {"low": self.low, "high": self.high, "estimate": self.estimate}


def _apply(function, value):
    if math.isinf(value):
        return value
    if value <= 0 and function in (math.log, math.log10, np.log, np.log10):
        return -math.inf
    return float(function(value))


class Sample(list):
    """One measure's values over seeds: numbers, `Bound`s, or `None` (a run that diverged, a
    value that does not exist). `seeds` names the seed of each value; two samples with the same
    seeds are compared in pairs. `Results.column` makes these."""

    def __init__(self, values=(), seeds=None):
        super().__init__(values)
        self.seeds = None if seeds is None else tuple(seeds)
        if self.seeds is not None and len(self.seeds) != len(self):
            raise ValueError(f"{len(self)} values but {len(self.seeds)} seeds.")

    def map(self, function):
        """Every value under an increasing `function`, the seeds kept."""
        return Sample([_map_value(function, value) for value in self], self.seeds)


def _map_value(function, value):
    if value is None:
        return None
    if isinstance(value, Bound):
        return value.map(function)
    return _apply(function, float(value))


def bounds(value):
    """`(low, high)` of a value: a number's are itself; `None` and NaN give `None`."""
    if isinstance(value, Bound):
        return value.low, value.high
    if value is None or math.isnan(float(value)):
        return None
    return float(value), float(value)


def point(value):
    """A value as one number (a bound's `point`); `None` for a missing value."""
    if isinstance(value, Bound):
        return value.point
    if value is None or math.isnan(float(value)):
        return None
    return float(value)


class Verdict(str):
    """A verdict that also carries what it was read from: the estimated effect in the claim's
    direction, its confidence interval, the threshold the interval was set against (0 for
    "lower", `-margin` for "no higher", the factor for "times lower"), how the interval was
    made (`method`, `n`) and the per-seed effects behind it (`effects`, for the chart)."""

    def __new__(
        cls, verdict, *, kind, estimate=None, interval=None, threshold=0.0, unit="", method="", n=0, effects=()
    ):
        instance = super().__new__(cls, verdict)
        instance.kind, instance.estimate, instance.interval = kind, estimate, interval
        instance.threshold, instance.unit = threshold, unit
        instance.method, instance.n, instance.effects = method, n, tuple(effects)
        return instance

    def describe(self):
        """`median difference 1.7 epochs, 90% CI 0.9 to 2.4 (5 paired seeds), needs > 0`, or
        why there is no interval."""
        if self.interval is None:
            return self.method or "no interval"
        low, high = self.interval
        unit = f" {self.unit}" if self.unit else ""
        what = "median ratio" if self.kind == "times lower" else "median difference"
        method = f" ({self.method})" if self.method else ""
        interval = f"{CONFIDENCE:.0%} CI {_number(low)} to {_number(high)}{method}"
        return f"{what} {_number(self.estimate)}{unit}, {interval}, needs > {_number(self.threshold)}"

    def to_json(self):
        return {
            "verdict": str(self),
            "kind": self.kind,
            "estimate": self.estimate,
            "interval": list(self.interval) if self.interval else None,
            "threshold": self.threshold,
            "confidence": CONFIDENCE,
            "method": self.method,
            "n": self.n,
            "effects": list(self.effects),
            "unit": self.unit,
        }


def _number(value):
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def summarize(values):
    """Mean and sample standard deviation (0 for one value) of the values measured exactly,
    and all values (a `Bound` as its `point`).

    `None` stands for a missing value (a run that diverged); a censored value (a target never
    reached) is counted in `censored` and left out of the mean, never averaged in made up.
    """
    shown = [math.nan if point(value) is None else point(value) for value in values]
    kept = [
        shown[i]
        for i, value in enumerate(values)
        if math.isfinite(shown[i]) and not (isinstance(value, Bound) and value.censored)
    ]
    return {
        "mean": float(np.mean(kept)) if kept else None,
        "std": float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0,
        "n": len(values),
        "measured": len(kept),
        "censored": sum(isinstance(value, Bound) and value.censored for value in values),
        "values": shown,
    }


def first_reaching(values, target):
    """The 1-based position (an epoch) at which `values` first reach `target`, or None."""
    return next((index for index, value in enumerate(values, 1) if value >= target), None)


def crossing(values, target, within=None, *, running=False):
    """When a per-epoch curve first reaches `target`, as a `Bound` in epochs: between the
    reading before the one that reached it and that reading, its estimate interpolated
    linearly between the two (the curve starts from 0), or `Bound(len(values), inf)` when it
    never does. Read once an epoch, reaching it during epoch `e` is `Bound(e - 1, e)`.

    `within` gives readings inside each epoch, `[[(fraction, value), ...] per epoch]`
    (`cookbook.callbacks.WithinEpoch`), for a finer bound. With `running`, every reading is a
    running mean since the epoch's start (Keras's training metrics), so each stands for the
    block since the one before it, whose mean is recovered from the two.
    """
    points, previous = [], (0.0, 0.0)
    for epoch, value in enumerate(values):
        readings = [*(within[epoch] if within else ()), (1.0, value)]
        start = (0.0, 0.0)
        for fraction, reading in readings:
            if fraction <= start[0]:
                continue
            if running:
                block = (fraction * reading - start[0] * start[1]) / (fraction - start[0])
                points.append((epoch + fraction, block))
            else:
                points.append((epoch + fraction, reading))
            start = (fraction, reading)
    for time, value in points:
        if value >= target:
            before_time, before_value = previous
            share = (
                1.0 if value <= before_value else min(1.0, max(0.0, (target - before_value) / (value - before_value)))
            )
            return Bound(before_time, time, estimate=before_time + share * (time - before_time))
        previous = (time, value)
    return Bound(float(len(values)), math.inf)


def grid_limit(grid, reached):
    """The highest value of a sorted `grid` up to which training still worked (`reached[i]`
    for `grid[i]`), as a `Bound`: between the last value that worked and the next one of the
    grid (`inf` past the grid's end, 0 below its start)."""
    worked = [value for value, ok in zip(grid, reached) if ok]
    if not worked:
        return Bound(0.0, float(grid[0]))
    highest = max(worked)
    above = [value for value in grid if value > highest]
    return Bound(float(highest), float(above[0]) if above else math.inf, estimate=float(highest))


# Intervals from order statistics -----------------------------------------------------------


@cache
def sign_rank(n, confidence=CONFIDENCE):
    """`k`: with `n` paired values, `[d_(k), d_(n+1-k)]` (1-based order statistics) is the
    sign test's interval of the median at `confidence` or more; 0 when `n` is too small."""
    tail = (1 - confidence) / 2
    k = 0
    while k + 1 <= n and stats.binom.cdf(k, n, 0.5) <= tail + 1e-12:
        k += 1
    return k


@cache
def _mann_whitney_cdf(m, n):
    """`P(U <= u)` for u = 0..m*n under no difference, Mann-Whitney's U of samples of m and n."""
    # counts[i][j][u]: arrangements of i values of one sample and j of the other with U = u
    counts = {(0, 0): np.array([1.0])}
    for i in range(m + 1):
        for j in range(n + 1):
            if i == j == 0:
                continue
            size = i * j + 1
            total = np.zeros(size)
            if i > 0:  # the largest value is from the first sample: it beats all j others
                previous = counts[(i - 1, j)]
                total[j : j + len(previous)] += previous
            if j > 0:
                previous = counts[(i, j - 1)]
                total[: len(previous)] += previous
            counts[(i, j)] = total
    distribution = counts[(m, n)]
    return tuple(np.cumsum(distribution) / distribution.sum())


@cache
def mann_whitney_rank(m, n, confidence=CONFIDENCE):
    """`k`: of the `m * n` differences between two samples, `[D_(k), D_(mn+1-k)]` is the
    Mann-Whitney interval of the shift at `confidence` or more; 0 when the samples are too small."""
    tail = (1 - confidence) / 2
    cdf = _mann_whitney_cdf(m, n)
    k = 0
    while k + 1 <= m * n and cdf[k] <= tail + 1e-12:
        k += 1
    return k


def paired_interval(a, b, confidence=CONFIDENCE):
    """The sign test's interval of the median of `b - a` over paired seeds.

    Returns `(estimate, (low, high), n, effects)`, or `None` when fewer pairs are complete
    than the interval needs (`sign_rank`). A pair with a missing value is left out; the low
    end is read from the differences' lowest possible values, the high end from their highest.
    """
    pairs = [(bounds(x), bounds(y), point(x), point(y)) for x, y in zip(a, b)]
    pairs = [pair for pair in pairs if pair[0] is not None and pair[1] is not None]
    n = len(pairs)
    k = sign_rank(n, confidence)
    if k == 0:
        return None
    lows = sorted(_difference(y[0], x[1]) for x, y, _, _ in pairs)
    highs = sorted(_difference(y[1], x[0]) for x, y, _, _ in pairs)
    effects = [_difference(py, px) for _, _, px, py in pairs]
    return float(np.median(effects)), (lows[k - 1], highs[n - k]), n, effects


def unpaired_interval(a, b, confidence=CONFIDENCE):
    """The Mann-Whitney (Hodges-Lehmann) interval of the shift from `a` to `b`: order
    statistics of every difference `b_j - a_i`. Same return as `paired_interval`."""
    a = [(bounds(x), point(x)) for x in a if bounds(x) is not None]
    b = [(bounds(y), point(y)) for y in b if bounds(y) is not None]
    k = mann_whitney_rank(len(a), len(b), confidence) if a and b else 0
    if k == 0:
        return None
    lows = sorted(_difference(y[0], x[1]) for (x, _) in a for (y, _) in b)
    highs = sorted(_difference(y[1], x[0]) for (x, _) in a for (y, _) in b)
    effects = [_difference(py, px) for (_, px) in a for (_, py) in b]
    total = len(lows)
    return float(np.median(effects)), (lows[k - 1], highs[total - k]), len(a) + len(b), effects


def _difference(x, y):
    """`x - y` where both may be infinite: `inf - inf` is unknown, so it is as wide as can be."""
    if math.isinf(x) and math.isinf(y) and x == y:
        return math.nan
    return x - y


def paired(a, b):
    """Whether two samples come from the same seeds (so each seed is compared with itself)."""
    seeds_a, seeds_b = getattr(a, "seeds", None), getattr(b, "seeds", None)
    return seeds_a is not None and seeds_a == seeds_b


def effect_interval(a, b, confidence=CONFIDENCE):
    """`(estimate, (low, high), method, n, effects)` of `b - a`: paired where the samples share
    their seeds, unpaired otherwise; the interval is `None` with too few values for one."""
    if paired(a, b):
        found, method = paired_interval(a, b, confidence), "paired seeds"
        needed = f"{_fewest(sign_rank)} paired seeds"
    else:
        found, method = unpaired_interval(a, b, confidence), "unpaired"
        needed = f"{_fewest(lambda n: mann_whitney_rank(n, n))} seeds a side"
    if found is None:
        return None, None, f"too few seeds for a {confidence:.0%} interval (needs {needed})", 0, ()
    estimate, (low, high), n, effects = found
    # an `inf - inf` end is unknown: the interval is unbounded on that side
    low = -math.inf if math.isnan(low) else low
    high = math.inf if math.isnan(high) else high
    return estimate, (low, high), f"{n} {method}" if method == "paired seeds" else f"{method}, {n} runs", n, effects


def _fewest(rank):
    return next(n for n in range(1, 50) if rank(n) > 0)


def _decide(kind, a, b, threshold, unit, transform=None):
    if transform is not None:
        a, b = _as_sample(a).map(transform), _as_sample(b).map(transform)
    estimate, interval, method, n, effects = effect_interval(a, b)
    back = math.exp if kind == "times lower" else (lambda value: value)
    if interval is None:
        return Verdict(INCONCLUSIVE, kind=kind, threshold=threshold, unit=unit, method=method)
    low, high = interval
    limit = math.log(threshold) if kind == "times lower" else threshold
    verdict = HOLDS if low > limit else DOES_NOT_HOLD if high < limit else INCONCLUSIVE
    effects = [None if math.isnan(e) else _exp_or_inf(back, e) for e in effects]
    return Verdict(
        verdict,
        kind=kind,
        estimate=_exp_or_inf(back, estimate) if not math.isnan(estimate) else math.nan,
        interval=(_exp_or_inf(back, low), _exp_or_inf(back, high)),
        threshold=threshold,
        unit=unit,
        method=method,
        n=n,
        effects=effects,
    )


def _exp_or_inf(function, value):
    if math.isinf(value):
        return math.inf if value > 0 else (0.0 if function is math.exp else -math.inf)
    return float(function(value))


def _as_sample(values):
    return values if isinstance(values, Sample) else Sample(values)


def lower(a, b, *, unit=""):
    """ "`a` is lower than `b`", from the values over seeds (for example test error)."""
    return _decide("lower", a, b, 0.0, unit)


def no_higher(a, b, *, margin, unit=""):
    """ "`a` is not higher than `b` by more than `margin`" (non-inferiority)."""
    if not margin >= 0:
        raise ValueError(f"A margin is a non-negative number, not {margin!r}.")
    return _decide("no higher", a, b, -margin, unit)


def times_lower(a, b, *, factor):
    """ "`a` is at least `factor` times lower than `b`", for positive values (steps, seconds):
    the interval of the median ratio `b / a`, from logarithms."""
    if not factor > 0:
        raise ValueError(f"A factor is a positive number, not {factor!r}.")
    for value in [*a, *b]:
        ends = bounds(value)
        if ends is not None and ends[0] < 0:
            raise ValueError("times_lower compares positive values (steps, seconds, ...).")
        if ends is not None and not isinstance(value, Bound) and ends[0] == 0:
            raise ValueError("times_lower compares positive values (steps, seconds, ...).")
    return _decide("times lower", a, b, factor, "", transform=math.log)


def combine(verdicts):
    """A claim made of parts holds only if every part holds; one failed part fails it.

    Holding needs every part's interval past its threshold, so a claim errs toward `holds` no
    more often than its least certain part (an intersection-union test). A claim of k parts
    can err toward `does not hold` up to k times as often as one part: simulated in the tests.
    """
    verdicts = list(verdicts)
    if DOES_NOT_HOLD in verdicts:
        return DOES_NOT_HOLD
    if verdicts and all(verdict == HOLDS for verdict in verdicts):
        return HOLDS
    return INCONCLUSIVE


# Seeds by power ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Effect:
    """The smallest effect of a recipe's deciding part that matters, declared beside its claim
    before it runs, with the seed-to-seed spread of that part's per-seed effect measured on
    digits; together they set the recipe's default seed count (`seeds`).

    `size` and `spread` are in the part's units, in the claim's direction (a difference; for
    `times_lower`, a natural-log ratio); `threshold` is what the interval must clear (0, the
    negative margin, or the log of the factor); `resolution` is how much the values' bounds
    widen each per-seed effect (1 for whole epochs on both sides: an interval's low end is a
    difference of bounds), counted against the threshold.
    """

    size: float
    spread: float
    reason: str
    threshold: float = 0.0
    resolution: float = 0.0

    def power(self, seeds):
        """The chance that the part holds with `seeds` paired seeds, if the effect is `size`."""
        return power(self.size, self.spread, seeds, threshold=self.threshold + self.resolution)

    @property
    def seeds(self):
        """The fewest seeds with `POWER` for this effect, or None if none up to 40 has it."""
        return seeds_for_power(self.size, self.spread, threshold=self.threshold + self.resolution)

    def affordable_seeds(self, most):
        """A recipe's default seed count: `seeds` where at most `most` reach `POWER`, else the
        fewest that can decide anything (5): where no affordable count has the power, more
        seeds cost time without buying it, and the result says what power the run had."""
        needed = self.seeds
        return needed if needed is not None and needed <= most else _fewest(sign_rank)

    def to_json(self, seeds=None):
        return {
            "size": self.size,
            "spread": self.spread,
            "threshold": self.threshold,
            "resolution": self.resolution,
            "reason": self.reason,
            "seeds_for_power": self.seeds,
            **({"seeds": seeds, "power": self.power(seeds)} if seeds else {}),
        }


AFFORDABLE_SEEDS = 8  # the most seeds a recipe's default may ask for (the tour's time)


def power(effect, spread, seeds, *, threshold=0.0, confidence=CONFIDENCE):
    """The chance that a part holds with `seeds` paired seeds when the per-seed difference
    is normal with mean `effect` and standard deviation `spread` (its threshold `threshold`):
    the sign interval's low end clears the threshold when at most `k - 1` differences fall at
    or below it."""
    k = sign_rank(seeds, confidence)
    if k == 0:
        return 0.0
    above = stats.norm.sf(threshold, loc=effect, scale=spread)
    return float(stats.binom.cdf(k - 1, seeds, 1 - above))


def seeds_for_power(effect, spread, *, threshold=0.0, target=POWER, most=40):
    """The fewest paired seeds (at least the 5 a decision needs) for which `power` reaches
    `target`; `None` if no count up to `most` does."""
    for seeds in range(_fewest(sign_rank), most + 1):
        if power(effect, spread, seeds, threshold=threshold) >= target:
            return seeds
    return None
