import math

import numpy as np
import pytest
from scipy import stats

from cookbook.statistics import DOES_NOT_HOLD
from cookbook.statistics import HOLDS
from cookbook.statistics import INCONCLUSIVE
from cookbook.statistics import Bound
from cookbook.statistics import Sample
from cookbook.statistics import combine
from cookbook.statistics import crossing
from cookbook.statistics import grid_limit
from cookbook.statistics import lower
from cookbook.statistics import mann_whitney_rank
from cookbook.statistics import no_higher
from cookbook.statistics import paired_interval
from cookbook.statistics import power
from cookbook.statistics import seeds_for_power
from cookbook.statistics import sign_rank
from cookbook.statistics import summarize
from cookbook.statistics import times_lower
from cookbook.statistics import unpaired_interval

INF = math.inf


def seeded(values, seeds=None):
    """A sample as `Results.column` makes one: values with their seeds, so that two are paired."""
    return Sample(values, range(len(values)) if seeds is None else seeds)


def test_summarize_uses_sample_std_and_keeps_values():
    summary = summarize([1, 2, 3])
    assert summary["mean"] == 2
    assert summary["std"] == pytest.approx(1.0)
    assert summary["values"] == [1.0, 2.0, 3.0]
    assert summary["n"] == 3


def test_summarize_skips_missing_values_in_mean_but_counts_them():
    summary = summarize([1.0, None, float("nan"), 3.0])
    assert summary["mean"] == 2.0
    assert summary["n"] == 4
    assert math.isnan(summary["values"][1])


def test_summarize_never_averages_a_censored_value_in():
    summary = summarize([Bound(1, 2, estimate=1.5), Bound(2, 3, estimate=2.5), Bound(10, INF)])
    assert summary["mean"] == 2.0 and summary["censored"] == 1
    assert summary["values"] == [1.5, 2.5, 10.0]


def test_summarize_single_value_has_zero_spread():
    assert summarize([5])["std"] == 0.0


def test_combine_needs_every_part_to_hold():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, DOES_NOT_HOLD, INCONCLUSIVE]) == DOES_NOT_HOLD
    assert combine([]) == INCONCLUSIVE


def test_ranks_match_the_sign_and_mann_whitney_tables():
    # The sign test: the extremes of 5 pairs miss the median 2/32 of the time; of 8 pairs,
    # the second from each end 2 * 9/256; fewer than 5 pairs cannot reach 90%.
    assert [sign_rank(n) for n in range(1, 11)] == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert 1 - 2 * stats.binom.cdf(1, 8, 0.5) >= 0.90 > 1 - 2 * stats.binom.cdf(2, 8, 0.5)
    # Mann-Whitney: 3 and 3 values, the extremes of the 9 differences miss 2/20 of the time.
    assert mann_whitney_rank(3, 3) == 1 and mann_whitney_rank(2, 2) == 0
    # 5 and 5, by brute force over the 252 ways to split ten ranks: the rank k is the largest
    # with P(U <= k - 1) <= 5%.
    from itertools import combinations

    counts = [
        sum(1 for i in first for j in set(range(10)) - set(first) if i > j) for first in combinations(range(10), 5)
    ]
    k = mann_whitney_rank(5, 5)
    assert np.mean(np.array(counts) <= k - 1) <= 0.05 < np.mean(np.array(counts) <= k)


def test_paired_interval_is_the_order_statistics_of_the_differences():
    a = seeded([1.0, 2.0, 3.0, 4.0, 5.0])
    b = seeded([2.5, 2.0, 6.0, 4.5, 9.0])
    estimate, (low, high), n, effects = paired_interval(a, b)
    assert effects == [1.5, 0.0, 3.0, 0.5, 4.0]
    assert (estimate, low, high, n) == (1.5, 0.0, 4.0, 5)


def test_unpaired_interval_uses_every_difference():
    estimate, (low, high), n, effects = unpaired_interval([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert sorted(effects) == [1, 2, 2, 3, 3, 3, 4, 4, 5]
    assert (estimate, low, high, n) == (3.0, 1.0, 5.0, 6)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([1.0, 1.1, 0.9, 1.2, 1.0], [2.0, 2.1, 2.2, 1.9, 2.0], HOLDS),
        ([2.0, 2.1, 2.2, 1.9, 2.0], [1.0, 1.1, 0.9, 1.2, 1.0], DOES_NOT_HOLD),
        ([1, 2, 3, 4, 5], [2, 1, 4, 3, 6], INCONCLUSIVE),  # one seed the other way
        ([1, 1, 1, 1], [9, 9, 9, 9], INCONCLUSIVE),  # four pairs cannot reach 90%
        ([1, None, 1, 1, 1, 1], [5, 6, 7, 8, 9, 9], HOLDS),  # a missing value drops its pair
        ([1, None, 1, 1, 1], [5, 6, 7, 8, 9], INCONCLUSIVE),  # ... leaving four
        ([2, 2, 2, 2, 2], [2, 2, 2, 2, 2], INCONCLUSIVE),  # equal is not lower
    ],
)
def test_lower_on_paired_seeds(a, b, expected):
    assert lower(seeded(a), seeded(b)) == expected


def test_unseeded_values_are_compared_unpaired():
    verdict = lower([1.0, 1.1, 0.9], [2.0, 2.1, 2.2])  # three a side: Mann-Whitney decides
    assert verdict == HOLDS and verdict.method.startswith("unpaired")
    assert lower(seeded([1.0, 1.1, 0.9]), seeded([2.0, 2.1, 2.2])) == INCONCLUSIVE  # three pairs cannot
    # Samples from different seeds are not pairs.
    assert lower(seeded([1.0, 1.1, 0.9]), seeded([2.0, 2.1, 2.2], seeds=[7, 8, 9])).method.startswith("unpaired")


def test_a_tie_of_whole_epochs_is_never_certainty():
    # Every seed reached the target during epoch 2 on one side and epoch 3 on the other: the
    # true difference lies anywhere between 0 and 2 epochs, so "lower" cannot be decided.
    verdict = lower(seeded([Bound(1, 2)] * 5), seeded([Bound(2, 3)] * 5), unit="epochs")
    assert verdict == INCONCLUSIVE and verdict.interval == (0.0, 2.0)
    assert lower(seeded([Bound(1, 2)] * 5), seeded([Bound(3, 4)] * 5)) == HOLDS  # two epochs apart
    # The case: a at 3 or 4 epochs, b always 3, "no more than 0.5 epochs slower".
    a = seeded([Bound(2, 3)] * 5)
    assert no_higher(a, seeded([Bound(2, 3)] * 5), margin=0.5) == INCONCLUSIVE


def test_censored_values_are_bounds_not_made_up_numbers():
    never = Bound(15, INF)
    # Neither side reached the target: nothing is known about which is faster.
    both = no_higher(seeded([never] * 5), seeded([never] * 5), margin=0.5)
    assert both == INCONCLUSIVE and both.interval == (-INF, INF)
    # One side never did, the other did within 3 epochs: faster by at least 12 epochs.
    verdict = lower(seeded([Bound(2, 3)] * 5), seeded([never] * 5))
    assert verdict == HOLDS and verdict.interval[0] == 12 and verdict.interval[1] == INF


def test_times_lower_reads_a_median_ratio():
    verdict = times_lower(seeded([10, 10, 11, 9, 10]), seeded([40, 41, 39, 40, 42]), factor=2)
    assert verdict == HOLDS and verdict.estimate == pytest.approx(4.1)  # the median of the ratios
    assert times_lower(seeded([10] * 5), seeded([15] * 5), factor=2) == DOES_NOT_HOLD
    # A target reached in the first epoch may have taken any time up to it: the ratio is unbounded.
    assert times_lower(seeded([Bound(0, 1)] * 5), seeded([Bound(3, 4)] * 5), factor=2).interval == (
        pytest.approx(3.0),
        INF,
    )
    with pytest.raises(ValueError, match="positive"):
        times_lower([0, 1], [1, 2], factor=2)


def test_verdict_reports_estimate_interval_method_and_threshold():
    verdict = lower(seeded([2.0, 2.2, 1.8, 2.1, 1.9]), seeded([3.7, 4.0, 3.4, 3.9, 3.6]), unit="epochs")
    assert verdict.describe().startswith("median difference 1.7 epochs, 90% CI 1.6 to 1.8 (5 paired seeds)")
    assert verdict.describe().endswith("needs > 0")
    written = verdict.to_json()
    assert written["verdict"] == HOLDS and written["estimate"] == pytest.approx(1.7)
    assert written["n"] == 5 and len(written["effects"]) == 5 and written["method"] == "5 paired seeds"
    assert "too few seeds" in lower(seeded([1]), seeded([2])).describe()


def test_margins_and_factors_are_checked():
    with pytest.raises(ValueError, match="margin"):
        no_higher([1, 2], [1, 2], margin=-1)
    with pytest.raises(ValueError, match="factor"):
        times_lower([1, 2], [1, 2], factor=float("nan"))
    with pytest.raises(ValueError, match="low end"):
        Bound(3, 2)


def test_crossing_brackets_the_epoch_and_interpolates_within_it():
    found = crossing([0.2, 0.5, 0.8, 0.95], 0.9)
    assert (found.low, found.high) == (3.0, 4.0)
    assert found.estimate == pytest.approx(3 + 0.1 / 0.15)
    assert crossing([0.95], 0.9) == Bound(0.0, 1.0, estimate=0.9 / 0.95)
    never = crossing([0.2, 0.5], 0.9)
    assert (never.low, never.high) == (2.0, INF) and never.censored


def test_grid_limit_lies_between_the_last_rate_that_worked_and_the_next():
    assert grid_limit([0.01, 0.1, 0.5, 1.0], [True, True, False, False]) == Bound(0.1, 0.5, estimate=0.1)
    assert grid_limit([0.01, 0.1], [True, True]) == Bound(0.1, INF, estimate=0.1)
    assert grid_limit([0.01, 0.1], [False, False]) == Bound(0.0, 0.01)


# Error rates by simulation, on data like what the recipes measure. Each case draws the latent
# (continuous, true) values, records them as the recipes do, and counts how often a part
# decides wrongly when the truth sits exactly on its boundary, the hardest case.
SIMULATIONS = 2000
# The rule is exact at 3.1% for 5 pairs (2 of 32 sign patterns); allow for Monte Carlo error.
FALSE_HOLDS = 0.05 + 3 * math.sqrt(0.05 * 0.95 / SIMULATIONS)


def _rate(decide, draw, *, verdict=HOLDS, seed=0):
    generator = np.random.default_rng(seed)
    return sum(decide(*draw(generator)) == verdict for _ in range(SIMULATIONS)) / SIMULATIONS


def _paired_normal(shift, seeds=5, correlation=0.8):
    """Two variants sharing each seed's noise (the same subset, batch order, initial weights)."""

    def draw(generator):
        shared = generator.normal(0, 1, seeds)
        a = correlation * shared + math.sqrt(1 - correlation**2) * generator.normal(0, 1, seeds)
        b = shift + correlation * shared + math.sqrt(1 - correlation**2) * generator.normal(0, 1, seeds)
        return seeded(list(a)), seeded(list(b))

    return draw


def _whole_epochs(shift, seeds=5, budget=None, spread=0.6, centre=3.0):
    """Epochs to a target: latent times recorded as the epoch they fell in, and past the
    budget as censored. The paired shift is the difference of the latent medians."""

    def record(time):
        if budget is not None and time > budget:
            return Bound(float(budget), INF)
        epoch = max(1, math.ceil(time))
        return Bound(epoch - 1.0, float(epoch))

    def draw(generator):
        shared = generator.normal(centre, spread, seeds)
        a = shared + generator.normal(0, spread / 2, seeds)
        b = shared + shift + generator.normal(0, spread / 2, seeds)
        return seeded([record(t) for t in a]), seeded([record(t) for t in b])

    return draw


def test_lower_rarely_holds_without_a_difference():
    assert _rate(lower, _paired_normal(0.0)) <= FALSE_HOLDS
    assert _rate(lower, _paired_normal(0.0, seeds=8)) <= FALSE_HOLDS
    assert _rate(lower, _paired_normal(0.0, correlation=0.0)) <= FALSE_HOLDS


def test_lower_rarely_fails_without_a_difference():
    assert _rate(lower, _paired_normal(0.0), verdict=DOES_NOT_HOLD) <= FALSE_HOLDS


def test_lower_holds_as_power_says_for_a_large_effect():
    # Per-seed differences of mean 1.5 and spread 0.85 (each variant's own noise, sd 0.6, twice).
    simulated = _rate(lower, _paired_normal(1.5))
    assert simulated == pytest.approx(power(1.5, math.sqrt(2 * 0.36), 5), abs=0.03)
    assert simulated >= 0.80


def test_unpaired_values_keep_their_error_rate():
    def draw(generator):
        return list(generator.normal(0, 1, 4)), list(generator.normal(0, 3, 4))  # unequal spreads

    assert _rate(lower, draw) <= FALSE_HOLDS


def test_whole_epochs_with_ties_keep_the_error_rate():
    # Most seeds tie at the same epoch; the latent medians are equal.
    assert _rate(lower, _whole_epochs(0.0)) <= FALSE_HOLDS
    # "No more than half an epoch slower", with a really slower by exactly half an epoch.
    assert _rate(lambda a, b: no_higher(a, b, margin=0.5), _whole_epochs(-0.5)) <= FALSE_HOLDS


def test_whole_epochs_still_decide_a_two_epoch_effect():
    assert _rate(lower, _whole_epochs(2.5)) >= 0.80


def test_censored_epochs_keep_the_error_rate():
    # A budget of 3 epochs censors about half of the values on both sides.
    assert _rate(lower, _whole_epochs(0.0, budget=3)) <= FALSE_HOLDS
    assert _rate(lambda a, b: no_higher(a, b, margin=0.5), _whole_epochs(-0.5, budget=3)) <= FALSE_HOLDS
    # A slow side that mostly never reaches the target is still told apart.
    assert _rate(lower, _whole_epochs(3.0, budget=5, centre=2.5)) >= 0.80


def test_times_lower_error_rates():
    def draw(log_ratio):
        def sample(generator):
            a, b = _paired_normal(log_ratio)(generator)
            return a.map(math.exp), b.map(math.exp)

        return sample

    factor = 2.0
    assert _rate(lambda a, b: times_lower(a, b, factor=factor), draw(math.log(factor))) <= FALSE_HOLDS
    assert _rate(lambda a, b: times_lower(a, b, factor=factor), draw(math.log(factor) + 1.5)) >= 0.80


@pytest.mark.parametrize("parts", [2, 3])
def test_claims_of_several_parts(parts):
    """A claim holds when every part does. At the boundary of one part (the others true by a
    wide margin) it holds falsely no more often than that part; with every part on its
    boundary, less. Toward `does not hold` the parts' errors add up: at most parts x 5%."""

    def claim(shifts):
        def decide(*samples):
            return combine(lower(samples[2 * i], samples[2 * i + 1]) for i in range(parts))

        def draw(generator):
            return [sample for shift in shifts for sample in _paired_normal(shift)(generator)]

        return decide, draw

    one_on_boundary = claim([0.0] + [5.0] * (parts - 1))
    all_on_boundary = claim([0.0] * parts)
    assert _rate(*one_on_boundary) <= FALSE_HOLDS
    assert _rate(*all_on_boundary) <= FALSE_HOLDS
    assert _rate(*all_on_boundary, verdict=DOES_NOT_HOLD) <= parts * FALSE_HOLDS


def test_power_and_seeds_for_power_agree():
    assert power(0.0, 1.0, 5) == pytest.approx(1 / 32)  # the false-holds rate at the boundary
    assert power(1.0, 1.0, 4) == 0.0  # four pairs cannot decide
    seeds = seeds_for_power(1.5, 1.0)
    assert power(1.5, 1.0, seeds) >= 0.80 > power(1.5, 1.0, seeds - 1)
    assert seeds_for_power(3.0, 1.0) == 5  # never fewer than a decision needs
    assert seeds_for_power(0.0, 1.0) is None  # no effect, no power


def test_first_reaching_counts_from_one():
    from cookbook.statistics import first_reaching

    assert first_reaching([0.2, 0.5, 0.9, 0.95], 0.9) == 3
    assert first_reaching([0.2, 0.5], 0.9) is None


def test_crossing_reads_within_epoch_readings_for_a_finer_bound():
    # Validation readings at a quarter, half and three quarters of each epoch.
    within = [[(0.25, 0.3), (0.5, 0.5), (0.75, 0.7)], [(0.25, 0.85), (0.5, 0.92), (0.75, 0.95)]]
    found = crossing([0.8, 0.96], 0.9, within)
    assert (found.low, found.high) == (1.25, 1.5)
    assert found.estimate == pytest.approx(1.25 + 0.25 * (0.05 / 0.07))
    # Readings that repeat the epoch's end (fewer batch ends than parts) change nothing.
    assert crossing([0.8, 0.96], 0.9, [[(1.0, 0.8)] * 3, [(1.0, 0.96)] * 3]) == crossing([0.8, 0.96], 0.9)


def test_crossing_splits_running_means_into_blocks():
    # A running mean of 0.5 at half the epoch and 0.7 at its end: the second half's mean was 0.9.
    found = crossing([0.7], 0.85, [[(0.5, 0.5)]], running=True)
    assert (found.low, found.high) == (0.5, 1.0)
    # Read as plain values, the end (0.7) never reaches 0.85.
    assert crossing([0.7], 0.85, [[(0.5, 0.5)]]).censored
