"""Duration histograms: bucket names at the bounds and quantiles computed by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.digest.buckets import (
    BOUNDS_MINUTES,
    bucket_counter,
    bucket_counts,
    quantile,
)


@pytest.mark.parametrize(
    ("duration", "name"),
    [
        (timedelta(0), "frt_bucket:15"),
        (timedelta(minutes=-5), "frt_bucket:15"),  # clock skew counts as instant
        (timedelta(minutes=15), "frt_bucket:15"),  # upper bounds are inclusive
        (timedelta(minutes=15, seconds=1), "frt_bucket:30"),
        (timedelta(hours=24), "frt_bucket:1440"),
        (timedelta(days=7), "frt_bucket:10080"),
        (timedelta(days=7, seconds=1), "frt_bucket:inf"),
    ],
)
def test_a_duration_lands_in_the_bucket_of_its_upper_bound(duration, name):
    assert bucket_counter("frt", duration) == name


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown duration metric"):
        bucket_counter("first_reply", timedelta(hours=1))


def _counts(**by_bound: int) -> list[Decimal]:
    return bucket_counts("frt", {f"frt_bucket:{k[1:]}": Decimal(v) for k, v in by_bound.items()})


def test_median_and_p90_interpolate_inside_the_bucket_holding_the_rank():
    # 2 in (30,60] min, 1 in (120,240], 1 in (720,1440]: 4 durations
    counts = _counts(b60=2, b240=1, b1440=1)
    # median: rank 2 -> (30, 60], all 2 of the bucket -> 60 min
    assert quantile(counts, Decimal("0.5")).minutes == 60
    # p90: rank 3.6 -> (720, 1440], 0.6 of its single count -> 720 + 0.6 * 720 = 1152 min
    p90 = quantile(counts, Decimal("0.9"))
    assert p90.minutes == 1152 and p90.hours == Decimal("19.2") and not p90.at_least


def test_the_first_bucket_interpolates_from_zero():
    assert quantile(_counts(b15=4), Decimal("0.5")).minutes == Decimal("7.5")


def test_a_quantile_in_the_open_bucket_is_at_least_a_week():
    result = quantile(_counts(b60=1, binf=3), Decimal("0.9"))
    assert result.at_least and result.minutes == BOUNDS_MINUTES[-1]


def test_no_durations_means_no_quantile():
    assert quantile(_counts(), Decimal("0.5")) is None
