"""Mean and spread over seeds, and when a difference between variants counts as real.

Each part of a claim is decided from a 90% confidence interval of the difference of the two
variants' means over seeds, Welch's t interval (unequal variances): with the 3 to 5 seeds a
recipe can afford, a bootstrap interval is far too narrow (three values have only ten
distinct resamples), while Welch's interval keeps its stated coverage for roughly normal
seed-to-seed noise. `tests/test_statistics.py` checks the error rates by simulation.

- `lower(a, b)`, "a is lower than b" (error, epochs to a target): holds when the interval
  of `mean(b) - mean(a)` lies above 0, does not hold when it lies below 0;
- `no_higher(a, b, margin)`, "a is not higher than b by more than `margin`": holds when the
  interval lies above `-margin`, does not hold when it lies below it;
- `times_lower(a, b, factor)`, "a is at least `factor` times lower than b" (steps to a
  target): the same interval on the logarithms, read as a ratio of geometric means.

Anything else is inconclusive, as is every part with fewer than two finite values a side.
A one-sided claim read from a two-sided 90% interval errs at most 5% of the time when the
truth sits exactly on the claim's boundary.
"""

import math

import numpy as np
from scipy import stats

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE)
CONFIDENCE = 0.90
# Seeds per variant for the parts to reach `holds` at least 80% of the time when the true
# effect is three seed-to-seed standard deviations (simulated in the tests: about 85% at 3).
SEEDS_FOR_DECISIONS = 3


class Verdict(str):
    """A verdict that also carries what it was read from: the estimated effect in the claim's
    direction, its confidence interval, and the threshold the interval was set against (0 for
    "lower", `-margin` for "no higher", the factor for "times lower")."""

    def __new__(cls, verdict, *, kind, estimate=None, interval=None, threshold=0.0, unit=""):
        instance = super().__new__(cls, verdict)
        instance.kind, instance.estimate, instance.interval = kind, estimate, interval
        instance.threshold, instance.unit = threshold, unit
        return instance

    def describe(self):
        """`difference 1.7 epochs, 90% CI 0.9 to 2.4, needs > 0`, or why there is no interval."""
        if self.interval is None:
            return "fewer than two seeds a side: no interval"
        low, high = self.interval
        unit = f" {self.unit}" if self.unit else ""
        what = "ratio" if self.kind == "times lower" else "difference"
        need = f"needs > {_number(self.threshold)}"
        return f"{what} {_number(self.estimate)}{unit}, {CONFIDENCE:.0%} CI {_number(low)} to {_number(high)}, {need}"

    def to_json(self):
        return {
            "verdict": str(self),
            "kind": self.kind,
            "estimate": self.estimate,
            "interval": list(self.interval) if self.interval else None,
            "threshold": self.threshold,
            "confidence": CONFIDENCE,
            "unit": self.unit,
        }


def _number(value):
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


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


def welch_interval(a, b, confidence=CONFIDENCE):
    """`(mean(b) - mean(a), (low, high))`: Welch's t interval of the difference of means, or
    `None` with fewer than two finite values on either side."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2:
        return None
    difference = float(np.mean(b) - np.mean(a))
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    standard_error = math.sqrt(va + vb)
    if standard_error == 0:  # every seed gave the same value on both sides
        return difference, (difference, difference)
    freedom = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, freedom)) * standard_error
    return difference, (difference - half_width, difference + half_width)


def _finite(values):
    return np.array([float(v) for v in values if v is not None and math.isfinite(float(v))])


def _decide(kind, found, threshold, unit):
    if found is None:
        return Verdict(INCONCLUSIVE, kind=kind, threshold=threshold, unit=unit)
    estimate, (low, high) = found
    verdict = HOLDS if low > threshold else DOES_NOT_HOLD if high < threshold else INCONCLUSIVE
    return Verdict(verdict, kind=kind, estimate=estimate, interval=(low, high), threshold=threshold, unit=unit)


def lower(a, b, *, unit=""):
    """ "`a` is lower than `b`", from the values over seeds (for example test error)."""
    return _decide("lower", welch_interval(a, b), 0.0, unit)


def no_higher(a, b, *, margin, unit=""):
    """ "`a` is not higher than `b` by more than `margin`" (non-inferiority)."""
    if not margin >= 0:
        raise ValueError(f"A margin is a non-negative number, not {margin!r}.")
    return _decide("no higher", welch_interval(a, b), -margin, unit)


def times_lower(a, b, *, factor):
    """ "`a` is at least `factor` times lower than `b`", for positive values (steps, seconds):
    the interval of the ratio of geometric means `b / a`, from logarithms."""
    if not factor > 0:
        raise ValueError(f"A factor is a positive number, not {factor!r}.")
    a, b = _finite(a), _finite(b)
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError("times_lower compares positive values (steps, seconds, ...).")
    found = welch_interval(np.log(a), np.log(b))
    if found is not None:
        estimate, (low, high) = found
        found = math.exp(estimate), (math.exp(low), math.exp(high))
    return _decide("times lower", found, factor, "")


def combine(verdicts):
    """A claim made of parts holds only if every part holds; one failed part fails it."""
    verdicts = list(verdicts)
    if DOES_NOT_HOLD in verdicts:
        return DOES_NOT_HOLD
    if verdicts and all(verdict == HOLDS for verdict in verdicts):
        return HOLDS
    return INCONCLUSIVE
