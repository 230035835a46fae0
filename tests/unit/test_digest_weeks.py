"""The digest calendar: local Monday 08:00 in the merchant's zone, not before the UTC week ends."""

from __future__ import annotations

import pytest

from chalicelib.digest.weeks import due_at, latest_due_week, shift_week, week_start, zone
from tests.support import utc


@pytest.mark.parametrize(
    ("week", "tz", "due"),
    [
        ("2026-W47", "America/New_York", utc(2026, 11, 23, 13)),  # EST: 08:00 = 13:00 UTC
        ("2026-W43", "America/New_York", utc(2026, 10, 26, 12)),  # still EDT on 26 Oct
        ("2026-W45", "America/New_York", utc(2026, 11, 9, 13)),  # DST ended 1 Nov
        ("2026-W47", "Asia/Kolkata", utc(2026, 11, 23, 2, 30)),  # a half-hour zone
        ("2026-W47", "Europe/London", utc(2026, 11, 23, 8)),
        ("2026-W47", "Asia/Shanghai", utc(2026, 11, 23, 0)),  # UTC+8: 08:00 is the week's end
        ("2026-W47", "Asia/Tokyo", utc(2026, 11, 23, 0)),  # 08:00 JST would cut the week short
        ("2026-W47", "Pacific/Auckland", utc(2026, 11, 23, 0)),
        ("2026-W47", "Pacific/Honolulu", utc(2026, 11, 23, 18)),
    ],
)
def test_due_at_local_monday_eight_but_not_before_the_week_ends(week, tz, due):
    assert due_at(week, zone(tz)) == due


def test_an_unknown_zone_falls_back_to_utc():
    assert due_at("2026-W47", zone("Mars/Olympus_Mons")) == utc(2026, 11, 23, 8)


def test_weeks_shift_across_a_53_week_year():
    assert shift_week("2026-W52", 1) == "2026-W53"
    assert shift_week("2026-W53", 1) == "2027-W01"
    assert shift_week("2027-W01", -1) == "2026-W53"
    assert week_start("2027-W01") == utc(2027, 1, 4)


def test_weeks_missed_while_the_job_was_down_are_skipped_to_the_newest_due():
    new_york = zone("America/New_York")
    assert latest_due_week("2026-W45", utc(2026, 11, 23, 12), new_york) == "2026-W46"
    assert latest_due_week("2026-W45", utc(2026, 11, 23, 13), new_york) == "2026-W47"
    assert latest_due_week("2026-W47", utc(2026, 11, 23, 13), new_york) == "2026-W47"
