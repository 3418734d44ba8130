"""Percentiles and periods of the statistics (``domain.statistics``, issue 11)."""

from __future__ import annotations

import random
import statistics as stdlib
from datetime import UTC, date, datetime

import pytest

from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.statistics import (
    Period,
    distribution_of,
    nearest_rank,
    period_of_days,
    summarise,
)


def test_the_median_of_one_to_four_is_two_a_value_that_occurred() -> None:
    assert nearest_rank(distribution_of([4, 1, 3, 2]), 50) == 2
    assert nearest_rank(distribution_of([4, 1, 3, 2]), 90) == 4
    assert nearest_rank(distribution_of([7]), 90) == 7


def test_nearest_rank_over_counts_equals_sorting_every_value() -> None:
    rng = random.Random(5)
    for _ in range(200):
        values = [float(rng.randrange(0, 40)) for _ in range(rng.randrange(1, 60))]
        for percent in (1, 10, 50, 90, 99, 100):
            ordered = sorted(values)
            expected = ordered[max(1, -(-percent * len(values) // 100)) - 1]
            assert nearest_rank(distribution_of(values), percent) == expected


def test_an_odd_median_agrees_with_the_standard_library() -> None:
    values = [3.0, 9.0, 1.0, 12.0, 7.0]
    assert nearest_rank(distribution_of(values), 50) == stdlib.median(values)


def test_an_empty_distribution_has_no_percentile_and_a_zero_count() -> None:
    summary = summarise({})
    assert (summary.count, summary.median, summary.p90) == (0, None, None)


@pytest.mark.parametrize("percent", [0, -5, 100.5])
def test_a_percentile_outside_0_to_100_is_refused(percent: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank({1.0: 1}, percent)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        summarise({-1.0: 2})


def test_a_period_of_days_covers_whole_utc_days_and_refuses_a_reversed_one() -> None:
    period = period_of_days(date(2026, 1, 1), date(2026, 12, 31))
    assert period.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="to: must come after from"):
        Period(period.end, period.start)
    with pytest.raises(InvalidInput, match="from"):
        Period(datetime(2026, 1, 1), period.end)
