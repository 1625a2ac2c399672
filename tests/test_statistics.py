import math

import numpy as np
import pytest
from scipy import stats

from cookbook.statistics import DOES_NOT_HOLD
from cookbook.statistics import HOLDS
from cookbook.statistics import INCONCLUSIVE
from cookbook.statistics import SEEDS_FOR_DECISIONS
from cookbook.statistics import combine
from cookbook.statistics import lower
from cookbook.statistics import no_higher
from cookbook.statistics import summarize
from cookbook.statistics import times_lower
from cookbook.statistics import welch_interval


def test_summarize_uses_sample_std_and_keeps_values():
    stats = summarize([1, 2, 3])
    assert stats["mean"] == 2
    assert stats["std"] == pytest.approx(1.0)
    assert stats["values"] == [1.0, 2.0, 3.0]
    assert stats["n"] == 3


def test_summarize_skips_missing_values_in_mean_but_counts_them():
    stats = summarize([1.0, None, float("nan"), 3.0])
    assert stats["mean"] == 2.0
    assert stats["n"] == 4
    assert math.isnan(stats["values"][1])


def test_summarize_single_value_has_zero_spread():
    assert summarize([5])["std"] == 0.0


def test_combine_needs_every_part_to_hold():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, DOES_NOT_HOLD, INCONCLUSIVE]) == DOES_NOT_HOLD
    assert combine([]) == INCONCLUSIVE


def test_welch_interval_matches_the_textbook_formula():
    a, b = [1.0, 2.0, 4.0], [3.0, 5.0, 6.0, 9.0]
    difference, (low, high) = welch_interval(a, b)
    va, vb = np.var(a, ddof=1) / 3, np.var(b, ddof=1) / 4
    freedom = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 3)
    half = stats.t.ppf(0.95, freedom) * math.sqrt(va + vb)
    assert difference == pytest.approx(np.mean(b) - np.mean(a))
    assert (low, high) == pytest.approx((difference - half, difference + half))
    # scipy's Welch test agrees: the interval's edge is where its one-sided p-value is 5%.
    assert stats.ttest_ind(np.array(b) - low, a, equal_var=False, alternative="greater").pvalue == pytest.approx(0.05)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([1, 1, 1], [3, 3, 3], HOLDS),  # no spread: the interval is the difference itself
        ([3, 3, 3], [1, 1, 1], DOES_NOT_HOLD),
        ([1, 2, 3], [2, 3, 4], INCONCLUSIVE),
        ([1.0, 1.1, 0.9], [2.0, 2.1, 2.2], HOLDS),
        ([1], [10], INCONCLUSIVE),  # one seed: no interval
        ([1, None, float("nan")], [5, 6, 7], INCONCLUSIVE),  # missing values leave one value
        ([2, 2], [2, 2], INCONCLUSIVE),  # equal is not lower
    ],
)
def test_lower(a, b, expected):
    assert lower(a, b) == expected


@pytest.mark.parametrize(
    "a, b, margin, expected",
    [
        ([3, 3], [3, 3], 0.5, HOLDS),  # equal is within any margin
        ([3.4, 3.4], [3, 3], 0.5, HOLDS),
        ([3.6, 3.6], [3, 3], 0.5, DOES_NOT_HOLD),  # worse by more than the margin
        ([3, 5, 4], [3, 4, 5], 0.5, INCONCLUSIVE),  # the interval reaches past the margin
        ([4], [3, 3], 0.5, INCONCLUSIVE),
    ],
)
def test_no_higher_is_non_inferiority_within_a_margin(a, b, margin, expected):
    assert no_higher(a, b, margin=margin) == expected


def test_times_lower_reads_a_ratio_of_geometric_means():
    verdict = times_lower([10, 10, 10], [40, 40, 40], factor=2)
    assert verdict == HOLDS
    assert verdict.estimate == pytest.approx(4.0)
    assert times_lower([10, 10, 10], [15, 15, 15], factor=2) == DOES_NOT_HOLD
    with pytest.raises(ValueError, match="positive"):
        times_lower([0, 1], [1, 2], factor=2)


def test_verdict_reports_estimate_interval_and_threshold():
    verdict = lower([2.0, 2.2, 1.8], [3.7, 3.9, 3.5], unit="epochs")
    assert verdict.describe().startswith("difference 1.7 epochs, 90% CI ")
    assert verdict.describe().endswith("needs > 0")
    written = verdict.to_json()
    assert written["verdict"] == HOLDS and written["estimate"] == pytest.approx(1.7)
    assert written["interval"][0] < 1.7 < written["interval"][1]
    assert "no interval" in lower([1], [2]).describe()


def test_margins_and_factors_are_checked():
    with pytest.raises(ValueError, match="margin"):
        no_higher([1, 2], [1, 2], margin=-1)
    with pytest.raises(ValueError, match="factor"):
        times_lower([1, 2], [1, 2], factor=float("nan"))


# Error rates by simulation, at the seed count the recipes use: normal seed-to-seed noise of
# standard deviation 1, 2,000 comparisons per case, a fixed generator.
SIMULATIONS = 2000


def _rate(decide, shift_b, *, scale_a=1.0, log=False, seed=0):
    generator = np.random.default_rng(seed)
    n = SEEDS_FOR_DECISIONS
    held = 0
    for _ in range(SIMULATIONS):
        a = generator.normal(0.0, scale_a, n)
        b = generator.normal(shift_b, 1.0, n)
        if log:
            a, b = np.exp(a), np.exp(b)
        held += decide(list(a), list(b)) == HOLDS
    return held / SIMULATIONS


def test_lower_rarely_holds_without_a_difference():
    assert _rate(lower, 0.0) <= 0.10
    assert _rate(lower, 0.0, scale_a=3.0) <= 0.10  # unequal spreads: what Welch is for


def test_lower_holds_for_an_effect_of_three_standard_deviations():
    assert _rate(lower, 3.0) >= 0.80


def test_no_higher_rarely_holds_at_the_margins_edge():
    # a is worse than b by exactly the margin: "no worse" is false, if only just.
    assert _rate(lambda a, b: no_higher(a, b, margin=1.0), -1.0) <= 0.10


def test_no_higher_holds_when_three_standard_deviations_inside_the_margin():
    assert _rate(lambda a, b: no_higher(a, b, margin=1.0), 2.0) >= 0.80


def test_times_lower_error_rates():
    factor = 2.0
    at_factor = _rate(lambda a, b: times_lower(a, b, factor=factor), math.log(factor), log=True)
    beyond = _rate(lambda a, b: times_lower(a, b, factor=factor), math.log(factor) + 3.0, log=True)
    assert at_factor <= 0.10 and beyond >= 0.80


def test_first_reaching_counts_from_one():
    from cookbook.statistics import first_reaching

    assert first_reaching([0.2, 0.5, 0.9, 0.95], 0.9) == 3
    assert first_reaching([0.2, 0.5], 0.9) is None
