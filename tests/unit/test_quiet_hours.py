"""Quiet hours: recipient zone choice and the next send time, with fixed clocks across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import MalformedPayload
from chalicelib.notify.quiet_hours import (
    PRIMARY_ZONES,
    SUBDIVISION_ZONES,
    SendingWindow,
    next_send_time,
    recipient_zone,
)
from tests.support import utc

NY, BERLIN = "America/New_York", "Europe/Berlin"
DEFAULT = SendingWindow()


# --- recipient_zone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "zone"),
    [
        (("US", "CA"), {}, "America/Los_Angeles"),
        (("US", "US-TX"), {}, "America/Chicago"),
        (("us", "az"), {}, "America/Phoenix"),
        (("CA", "BC"), {}, "America/Vancouver"),
        (("AU", "WA"), {}, "Australia/Perth"),
        (("AU", "AU-QLD"), {}, "Australia/Brisbane"),
        # The address beats the phone's area code (a New Yorker who moved to California).
        (("US", "CA"), {"phone": "+12125550123"}, "America/Los_Angeles"),
        (("US",), {"phone": "+16502530000"}, "America/Los_Angeles"),
        (("US", "ZZ"), {"phone": "+16502530000"}, "America/Los_Angeles"),
        (("US",), {}, "America/New_York"),
        (("CA",), {}, "America/Toronto"),
        (("AU",), {}, "Australia/Sydney"),
        (("CN",), {}, "Asia/Shanghai"),
        (("CN",), {"phone": "+8613800138000"}, "Asia/Shanghai"),
        ((None,), {"phone": "+8613800138000"}, "Asia/Shanghai"),
        (("FR",), {}, "Europe/Paris"),
        (("DE",), {}, "Europe/Berlin"),
        (("JP",), {}, "Asia/Tokyo"),
        # A foreign phone does not move the shipping country.
        (("DE",), {"phone": "+16502530000"}, "Europe/Berlin"),
        (("XX",), {}, "UTC"),
        ((None,), {}, "UTC"),
        (("XX",), {"fallback": "Europe/London"}, "Europe/London"),
        ((None,), {"phone": "not a phone"}, "UTC"),
        (("XX",), {"fallback": None}, "UTC"),
        (("XX",), {"fallback": "Mars/Olympus_Mons"}, "UTC"),
    ],
)
def test_recipient_zone(args: tuple, kwargs: dict, zone: str) -> None:
    assert recipient_zone(*args, **kwargs) == zone


def test_every_table_zone_exists() -> None:
    for zone in [*PRIMARY_ZONES.values(), *SUBDIVISION_ZONES.values()]:
        ZoneInfo(zone)
    assert len({code for country, code in SUBDIVISION_ZONES if country == "US"}) == 56


# --- SendingWindow ----------------------------------------------------------------------------


def test_window_defaults_and_round_trip() -> None:
    assert SendingWindow(time(8), time(21)) == DEFAULT
    assert DEFAULT.to_dict() == {"start": "08:00", "end": "21:00"}
    assert SendingWindow.from_dict({}) == DEFAULT
    window = SendingWindow.from_dict({"start": "9:30", "end": "20:00"})
    assert window == SendingWindow(time(9, 30), time(20))
    assert SendingWindow.from_dict(window.to_dict()) == window


@pytest.mark.parametrize(
    "data",
    [
        {"start": "08:00", "end": "08:00"},
        {"start": "25:00"},
        {"start": "eight"},
        {"end": 21},
        {"start": "08:00+02:00"},
        {"start": "08:00", "stop": "21:00"},
        ["08:00", "21:00"],
        None,
    ],
)
def test_window_rejects_bad_input(data: object) -> None:
    with pytest.raises(MalformedPayload):
        SendingWindow.from_dict(data)


def test_window_cannot_be_empty() -> None:
    with pytest.raises(MalformedPayload):
        SendingWindow(time(9), time(9))


# --- next_send_time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected", "why"),
    [
        (utc(2024, 1, 15, 15), utc(2024, 1, 15, 15), "10:00 EST: inside"),
        (utc(2024, 1, 15, 13), utc(2024, 1, 15, 13), "08:00 EST: start is inclusive"),
        (utc(2024, 1, 15, 12), utc(2024, 1, 15, 13), "07:00 EST: before the window"),
        (utc(2024, 1, 16, 2), utc(2024, 1, 16, 13), "21:00 EST: end is exclusive"),
        (utc(2024, 1, 16, 3), utc(2024, 1, 16, 13), "22:00 EST, already the next UTC day"),
        (utc(2024, 1, 16, 4, 59), utc(2024, 1, 16, 13), "23:59 EST"),
        (utc(2024, 1, 16, 5), utc(2024, 1, 16, 13), "00:00 EST: across midnight"),
    ],
)
def test_new_york_winter(now: datetime, expected: datetime, why: str) -> None:
    assert next_send_time(now, NY, DEFAULT) == expected, why


def test_new_york_spring_forward() -> None:
    # 2024-03-10 02:00 EST -> 03:00 EDT. 08:00 that day is 12:00 UTC, not 13:00.
    assert next_send_time(utc(2024, 3, 10, 5), NY, DEFAULT) == utc(2024, 3, 10, 12)
    assert next_send_time(utc(2024, 3, 10, 2, 30), NY, DEFAULT) == utc(2024, 3, 10, 12)
    # The evening before is still EST: 21:00 EST = 02:00 UTC.
    assert next_send_time(utc(2024, 3, 10, 1, 59), NY, DEFAULT) == utc(2024, 3, 10, 1, 59)
    # The window closes at 21:00 EDT = 01:00 UTC on the 11th.
    assert next_send_time(utc(2024, 3, 11, 1), NY, DEFAULT) == utc(2024, 3, 11, 12)


def test_new_york_fall_back() -> None:
    # 2024-11-03 02:00 EDT -> 01:00 EST. 08:00 that day is 13:00 UTC.
    assert next_send_time(utc(2024, 11, 3, 1, 30), NY, DEFAULT) == utc(2024, 11, 3, 13)
    assert next_send_time(utc(2024, 11, 3, 6), NY, DEFAULT) == utc(2024, 11, 3, 13)
    # 21:00 EST = 02:00 UTC on the 4th: 01:59 UTC is still inside.
    assert next_send_time(utc(2024, 11, 4, 1, 59), NY, DEFAULT) == utc(2024, 11, 4, 1, 59)
    assert next_send_time(utc(2024, 11, 4, 2), NY, DEFAULT) == utc(2024, 11, 4, 13)


def test_berlin_spring_forward_and_fall_back() -> None:
    # 2024-03-31 02:00 CET -> 03:00 CEST: 22:00 CET on the 30th waits for 08:00 CEST (06:00 UTC).
    assert next_send_time(utc(2024, 3, 30, 21), BERLIN, DEFAULT) == utc(2024, 3, 31, 6)
    # 2024-10-27 03:00 CEST -> 02:00 CET: 22:00 CEST on the 26th waits for 08:00 CET (07:00 UTC).
    assert next_send_time(utc(2024, 10, 26, 20), BERLIN, DEFAULT) == utc(2024, 10, 27, 7)
    assert next_send_time(utc(2024, 10, 27, 6, 59), BERLIN, DEFAULT) == utc(2024, 10, 27, 7)


def test_opening_inside_the_skipped_hour_is_the_jump() -> None:
    window = SendingWindow(time(2, 30), time(21))
    # 02:30 does not exist on 2024-03-10 in New York: the window opens at 03:00 EDT (07:00 UTC).
    assert next_send_time(utc(2024, 3, 10, 5), NY, window) == utc(2024, 3, 10, 7)


def test_opening_in_the_repeated_hour_is_the_first_one() -> None:
    window = SendingWindow(time(1, 30), time(21))
    # 01:30 happens twice on 2024-11-03 in New York: first at 05:30 UTC (EDT).
    assert next_send_time(utc(2024, 11, 3, 4), NY, window) == utc(2024, 11, 3, 5, 30)


def test_window_wholly_inside_a_dst_gap_moves_to_the_next_day() -> None:
    window = SendingWindow(time(2, 10), time(2, 40))
    # 02:10 EDT on the 11th is 06:10 UTC.
    assert next_send_time(utc(2024, 3, 10, 5), NY, window) == utc(2024, 3, 11, 6, 10)


def test_window_across_midnight() -> None:
    night = SendingWindow(time(20), time(2))
    assert next_send_time(utc(2024, 1, 16, 6), NY, night) == utc(2024, 1, 16, 6)  # 01:00 EST
    assert next_send_time(utc(2024, 1, 16, 1), NY, night) == utc(2024, 1, 16, 1)  # 20:00 EST
    assert next_send_time(utc(2024, 1, 16, 8), NY, night) == utc(2024, 1, 17, 1)  # 03:00 EST


def test_urgent_only_when_allowed() -> None:
    night = utc(2024, 1, 16, 8)  # 03:00 EST
    assert next_send_time(night, NY, DEFAULT, urgent_allowed=True, urgent=True) == night
    assert next_send_time(night, NY, DEFAULT, urgent=True) == utc(2024, 1, 16, 13)
    assert next_send_time(night, NY, DEFAULT, urgent_allowed=True) == utc(2024, 1, 16, 13)


def test_result_is_aware_utc_whatever_the_input_offset() -> None:
    now = datetime(2024, 1, 15, 7, tzinfo=ZoneInfo(NY))  # 12:00 UTC
    result = next_send_time(now, NY, DEFAULT)
    assert result == utc(2024, 1, 15, 13)
    assert result.utcoffset() == timedelta(0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        next_send_time(datetime(2024, 1, 15, 12), NY, DEFAULT)


ZONES = [NY, BERLIN, "Australia/Lord_Howe", "Asia/Shanghai", "Pacific/Apia", "America/Santiago"]


@given(
    now=st.datetimes(datetime(2010, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    start=st.integers(0, 24 * 60 - 1),
    length=st.integers(1, 24 * 60 - 1),
)
def test_next_send_time_is_the_first_instant_inside(
    now: datetime, zone: str, start: int, length: int
) -> None:
    end = (start + length) % (24 * 60)
    window = SendingWindow(time(start // 60, start % 60), time(end // 60, end % 60))
    result = next_send_time(now, zone, window)
    tz = ZoneInfo(zone)
    assert now <= result <= now + timedelta(days=2, hours=1)
    assert window.contains(result.astimezone(tz).time())
    if result != now:  # nothing earlier was inside
        assert not window.contains((result - timedelta(seconds=1)).astimezone(tz).time())
