import math

import pytest

from cookbook.statistics import DOES_NOT_HOLD
from cookbook.statistics import HOLDS
from cookbook.statistics import INCONCLUSIVE
from cookbook.statistics import combine
from cookbook.statistics import compare
from cookbook.statistics import summarize


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


@pytest.mark.parametrize(
    "smaller, larger, expected",
    [
        ([1, 1, 1], [3, 3, 3], HOLDS),  # gap 2, no spread
        ([3, 3, 3], [1, 1, 1], DOES_NOT_HOLD),
        ([1, 2, 3], [2, 3, 4], INCONCLUSIVE),  # gap 1 < spread 2
        ([1.0, 1.1], [2.0, 2.1], HOLDS),
        ([1], [10], INCONCLUSIVE),  # one seed has no spread
        ([2, 2], [2, 2], INCONCLUSIVE),
    ],
)
def test_compare_requires_gap_beyond_spread(smaller, larger, expected):
    assert compare(smaller, larger) == expected


def test_combine_needs_every_part_to_hold():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, DOES_NOT_HOLD, INCONCLUSIVE]) == DOES_NOT_HOLD
    assert combine([]) == INCONCLUSIVE


@pytest.mark.parametrize(
    "value, reference, expected",
    [
        ([3, 3], [3, 3], HOLDS),  # equal is "at least as good"
        ([2, 2], [3, 3], HOLDS),
        ([4, 4], [3, 3], DOES_NOT_HOLD),
        ([3, 5], [3, 3], HOLDS),  # worse by 1, spread 1.41: within the noise
        ([3, 5], [2, 4], HOLDS),  # worse by 1, both spreads (1.41 each) count
        ([4], [3, 3], INCONCLUSIVE),
    ],
)
def test_at_most_is_non_inferiority_within_spread(value, reference, expected):
    from cookbook.statistics import at_most

    assert at_most(value, reference) == expected


def test_first_reaching_counts_from_one():
    from cookbook.statistics import first_reaching

    assert first_reaching([0.2, 0.5, 0.9, 0.95], 0.9) == 3
    assert first_reaching([0.2, 0.5], 0.9) is None
