"""Duration histograms as weekly counters: fixed buckets, counter names, median and p90.

Counters can add but not sort, so a week's durations (first response, resolution, refund
cycle) are kept as a small histogram: one counter per bucket, named by the bucket's upper
bound in minutes (`frt_bucket:60` counts durations in (30 min, 60 min]; `frt_bucket:inf`
those above a week). A handler counts one duration with

    uow.count(merchant_id, at, bucket_counter("frt", finished_at - opened_at))

and the digest estimates quantiles from the counts by linear interpolation inside the
bucket that holds the rank (what Prometheus' `histogram_quantile` does). A quantile in the
open last bucket is reported as "at least" its lower bound. The bounds are part of the
stored format: changing them makes older weeks unreadable, so add a new metric name instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

__all__ = [
    "BOUNDS_MINUTES",
    "DURATION_METRICS",
    "Quantile",
    "bucket_counter",
    "bucket_counts",
    "quantile",
]

# Upper bounds in minutes: 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 24 h, 48 h, 72 h, 5 d, 7 d.
BOUNDS_MINUTES: tuple[int, ...] = (15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080)
OPEN = "inf"
# metric -> what it measures (the digest shows these)
DURATION_METRICS: Mapping[str, str] = {
    "frt": "case opened -> first reply to the customer",
    "resolution": "case opened -> resolved or closed",
    "refund": "return requested -> refund issued",
}


@dataclass(frozen=True)
class Quantile:
    """An estimated quantile; `at_least` when it falls in the open last bucket."""

    minutes: Decimal
    at_least: bool = False

    @property
    def hours(self) -> Decimal:
        return self.minutes / 60


def bucket_counter(metric: str, duration: timedelta) -> str:
    """The counter name that counts one `duration` of `metric` (negative counts as zero).

    Raises ValueError for a metric not in DURATION_METRICS (a typo would count nowhere).
    """
    if metric not in DURATION_METRICS:
        raise ValueError(f"unknown duration metric {metric!r}")
    minutes = max(duration, timedelta(0)) / timedelta(minutes=1)
    bound = next((b for b in BOUNDS_MINUTES if minutes <= b), None)
    return f"{metric}_bucket:{bound if bound is not None else OPEN}"


def bucket_counts(metric: str, counters: Mapping[str, Decimal]) -> list[Decimal]:
    """The metric's counts per bucket, in bound order, the open bucket last."""
    names = [*BOUNDS_MINUTES, OPEN]
    return [Decimal(counters.get(f"{metric}_bucket:{name}", 0)) for name in names]


def quantile(counts: list[Decimal], q: Decimal) -> Quantile | None:
    """The `q`-quantile (0 < q < 1) of a histogram from `bucket_counts`; None when empty."""
    total = sum(counts, Decimal(0))
    if total <= 0:
        return None
    rank = q * total
    cumulative = Decimal(0)
    lower = Decimal(0)
    for index, count in enumerate(counts):
        if count > 0 and cumulative + count >= rank:
            if index == len(BOUNDS_MINUTES):
                return Quantile(lower, at_least=True)
            upper = Decimal(BOUNDS_MINUTES[index])
            return Quantile(lower + (upper - lower) * (rank - cumulative) / count)
        cumulative += count
        if index < len(BOUNDS_MINUTES):
            lower = Decimal(BOUNDS_MINUTES[index])
    return Quantile(lower, at_least=True)  # unreachable with non-negative counts
