"""Every number of the digest, from the small sample data set, computed by hand.

The sample (chalicelib/digest/sample.py) is two weeks of counters. Each expected value below
is worked out in its comment from those counters, not from the code under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.digest.metrics import compute
from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK, SAMPLE_WEEK, sample_counters

D = Decimal


@pytest.fixture(scope="module")
def digest():
    counters = sample_counters()
    return compute(
        SAMPLE_WEEK, SAMPLE_PREVIOUS_WEEK, counters[SAMPLE_WEEK], counters[SAMPLE_PREVIOUS_WEEK]
    )


@pytest.mark.parametrize(
    ("key", "value", "previous", "status"),
    [
        # (28 auto-approved + 4 auto-rejected) / 40 = 80%; last week (18 + 3) / 30 = 70%
        ("auto_decided_rate", D(80), D(70), "met"),
        # 28 / 40 = 70%; 18 / 30 = 60%; no target
        ("auto_approval_rate", D(70), D(60), ""),
        # 9 closed / 10 opened = 90% (target 90: met); 6 / 8 = 75%
        ("complaint_closure_rate", D(90), D(75), "met"),
        # 3 repeats / (10 complaints + 2 disputes) = 25%; 1 / (8 + 2) = 10%
        ("repeat_complaint_rate", D(25), D(10), ""),
        # 34 / 8 = 4.25 of 5 -> x20 = 85 (target 85: met); 21 / 6 = 3.5 -> 70
        ("csat", D(85), D(70), "met"),
        # 3 damaged / 2000 parcels x 1000 = 1.5 (target <= 1: missed); 1 / 1600 x 1000 = 0.625
        ("damage_per_1000", D("1.5"), D("0.625"), "missed"),
        # 50 / 2000 = 2.5%; 48 / 1600 = 3%
        ("stale_tracking_rate", D("2.5"), D(3), ""),
        # frt: 2 in (30,60] min, 1 in (120,240], 1 in (720,1440]; median rank 2 -> 60 min = 1 h
        # last week: 2 in (60,120], 2 in (240,480]: rank 2 -> 120 min = 2 h
        ("frt_median_hours", D(1), D(2), ""),
        # p90 rank 3.6 -> (720,1440]: 720 + 0.6 x 720 = 1152 min = 19.2 h (target 24: met)
        # last week rank 3.6 -> (240,480]: 240 + (3.6 - 2) / 2 x 240 = 432 min = 7.2 h
        ("frt_p90_hours", D("19.2"), D("7.2"), "met"),
        # resolution: 2 in (720,1440], 2 in (1440,2880], 1 open; rank 2.5 -> (1440,2880]:
        # 1440 + 0.5 / 2 x 1440 = 1800 min = 30 h; last week 3 in (1440,2880]: rank 1.5 ->
        # 1440 + 1.5 / 3 x 1440 = 2160 min = 36 h
        ("resolution_median_hours", D(30), D(36), ""),
        # refund: 3 in (240,480], 1 in (720,1440]; rank 2 -> 240 + 2/3 x 240 = 400 min
        ("refund_median_hours", D(400) / 60, None, ""),
        # 1 first-response + 2 resolution breaches; last week 1
        ("sla_breaches", D(3), D(1), ""),
    ],
)
def test_kpis_match_the_hand_computed_values(digest, key, value, previous, status):
    kpi = digest.kpi(key)
    assert (kpi.value, kpi.previous, kpi.status) == (value, previous, status)


def test_a_p90_beyond_a_week_is_reported_as_at_least_a_week(digest):
    # resolution p90: rank 4.5 of 5 lands in the open bucket -> ">= 168 h", target 72: missed
    kpi = digest.kpi("resolution_p90_hours")
    assert kpi.at_least and kpi.value == 168 and kpi.status == "missed"


def test_changes_and_trends_respect_each_kpis_direction(digest):
    assert digest.kpi("auto_decided_rate").change == 10
    assert digest.kpi("auto_decided_rate").trend == "better"
    assert digest.kpi("repeat_complaint_rate").trend == "worse"  # up is bad
    assert digest.kpi("frt_median_hours").trend == "better"  # 2 h -> 1 h
    assert digest.kpi("refund_median_hours").change is None  # nothing last week
    assert digest.kpi("refund_median_hours").trend == ""


def test_details_say_what_the_rate_is_made_of(digest):
    assert digest.kpi("auto_decided_rate").detail == "32 of 40 returns"
    assert digest.kpi("csat").detail == "average 4.25 of 5, 8 ratings"
    assert digest.kpi("sla_breaches").detail == "1 first response, 2 resolution"


def test_breakdowns_list_both_weeks_largest_first(digest):
    by_type = [(r.key, r.count, r.previous) for r in digest.cases_by_type]
    assert by_type == [
        ("return", 40, 30),  # returns_requested
        ("complaint", 10, 8),
        ("inquiry", 6, 7),
        ("shipping_exception", 3, 0),
        ("dispute", 2, 2),
    ]
    assert [(r.key, r.change) for r in digest.return_reasons] == [
        ("no_reason", 5),
        ("wrong_size", 4),
        ("damaged", 4),
        ("quality", 5),
    ]
    assert [r.key for r in digest.cases_by_category][:2] == ["changed_mind", "wrong_size"]
    assert [(r.key, r.count) for r in digest.sla_breaches] == [
        ("resolution", 2),
        ("first_response", 1),
    ]


def test_the_quality_report_ranks_skus_by_returns_plus_complaints(digest):
    rows = [(r.key, r.count, r.previous, r.extra) for r in digest.quality]
    assert rows == [
        ("MUG-CERAMIC-12", 6, 1, 4),  # 6 + 4 = 10
        ("TSHIRT-BLK-M", 9, 4, 0),  # 9
        ("JEANS-32-BLUE", 5, 0, 0),
        ("KETTLE-1L", 0, 0, 2),
        ("茶杯-青花", 2, 0, 0),
    ]


def test_a_week_without_counters_has_no_data_rather_than_zeroes():
    empty = compute("2026-W47", "2026-W46", {}, {})
    rates = [k for k in empty.kpis if k.key != "sla_breaches"]
    assert all(k.value is None and k.status == "" for k in rates)
    assert empty.cases_by_type == () and empty.quality == ()


def test_a_merchants_targets_override_the_defaults():
    counters = sample_counters()[SAMPLE_WEEK]
    digest = compute(SAMPLE_WEEK, SAMPLE_PREVIOUS_WEEK, counters, {}, {"damage_per_1000": D(2)})
    assert digest.kpi("damage_per_1000").status == "met"
