"""Mean and spread over seeds, and when a difference between variants counts as real."""

import math

import numpy as np

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE)


class Verdict(str):
    """A verdict string that also carries the gap between means and the spread it was weighed against."""

    def __new__(cls, verdict, gap=None, spread=None):
        instance = super().__new__(cls, verdict)
        instance.gap, instance.spread = gap, spread
        return instance

    def margin(self):
        """`gap 0.12 vs spread 0.03`, or "" where there was no spread to weigh."""
        if self.gap is None:
            return ""
        return f"gap {self.gap:.3g} vs spread {self.spread:.3g}"


def summarize(values):
    """Mean and sample standard deviation (0 for one value) of the finite values, and all values.

    `None` stands for a missing value (a run that diverged, a target never reached).
    """
    values = [math.nan if value is None else float(value) for value in values]
    finite = [value for value in values if math.isfinite(value)]
    return {
        "mean": float(np.mean(finite)) if finite else None,
        "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0,
        "n": len(values),
        "values": values,
    }


def first_reaching(values, target):
    """The 1-based position (an epoch) at which `values` first reach `target`, or None."""
    return next((index for index, value in enumerate(values, 1) if value >= target), None)


def compare(smaller, larger):
    """Decides whether `larger` exceeds `smaller` by more than the seed-to-seed spread.

    Returns `HOLDS` when the gap between the means exceeds the sum of the two
    standard deviations, `DOES_NOT_HOLD` when the gap goes the other way by as
    much, and `INCONCLUSIVE` otherwise, or when either side has fewer than two
    seeds (one seed has no spread to compare with).
    """
    a, b = summarize(smaller), summarize(larger)
    if a["n"] < 2 or b["n"] < 2 or a["mean"] is None or b["mean"] is None:
        return INCONCLUSIVE
    gap = b["mean"] - a["mean"]
    spread = a["std"] + b["std"]
    if gap > spread:
        return Verdict(HOLDS, gap, spread)
    if -gap > spread:
        return Verdict(DOES_NOT_HOLD, gap, spread)
    return Verdict(INCONCLUSIVE, gap, spread)


def combine(verdicts):
    """A claim made of parts holds only if every part holds; one failed part fails it."""
    verdicts = list(verdicts)
    if DOES_NOT_HOLD in verdicts:
        return DOES_NOT_HOLD
    if verdicts and all(verdict == HOLDS for verdict in verdicts):
        return HOLDS
    return INCONCLUSIVE


def at_most(value, reference):
    """Decides "`value` is no larger than `reference`", a claim of the "at least as good" kind.

    Returns `HOLDS` when `value`'s mean exceeds `reference`'s by no more than the
    seed-to-seed spread, `DOES_NOT_HOLD` when it exceeds it by more, and
    `INCONCLUSIVE` with fewer than two seeds on either side.
    """
    a, b = summarize(value), summarize(reference)
    if a["n"] < 2 or b["n"] < 2 or a["mean"] is None or b["mean"] is None:
        return INCONCLUSIVE
    excess, spread = a["mean"] - b["mean"], a["std"] + b["std"]
    return Verdict(DOES_NOT_HOLD if excess > spread else HOLDS, -excess, spread)
