"""SLA time: business-hours arithmetic, per-target due times and escalation, on fixed clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import MalformedPayload
from chalicelib.policy.sla import (
    BusinessCalendar,
    OpenInterval,
    SlaPolicy,
    Targets,
    add_business_time,
    business_time_between,
    case_escalations,
    due_times,
    escalation_state,
    is_open,
    next_due,
    next_open,
    step_id,
)
from tests.support import utc

H = timedelta(hours=1)
NY = "America/New_York"
BERLIN = "Europe/Berlin"
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

NY_OFFICE = BusinessCalendar.office_hours(NY, holidays=[date(2024, 7, 4), date(2024, 12, 25)])
NY_DAILY = BusinessCalendar.office_hours(NY, days=ALL_DAYS)
BERLIN_DAILY = BusinessCalendar.office_hours(BERLIN, days=ALL_DAYS)
BERLIN_LUNCH = BusinessCalendar.from_dict(
    {"timezone": BERLIN, "hours": {d: ["09:00-12:00", "13:00-17:00"] for d in ALL_DAYS[:5]}}
)
NY_24_7 = BusinessCalendar.always_open(NY)
BERLIN_24_7 = BusinessCalendar.always_open(BERLIN)


def local(tz: str, *parts: int) -> datetime:
    """A wall-clock time in `tz`, as UTC (first occurrence when ambiguous)."""
    return datetime(*parts, tzinfo=ZoneInfo(tz)).astimezone(UTC)


# --- business time --------------------------------------------------------------------------


def test_counts_across_a_weekend() -> None:
    friday_3pm = local(NY, 2024, 3, 1, 15)
    assert add_business_time(friday_3pm, 4 * H, NY_OFFICE) == local(NY, 2024, 3, 4, 11)
    assert business_time_between(friday_3pm, local(NY, 2024, 3, 4, 11), NY_OFFICE) == 4 * H


def test_due_exactly_at_closing_time_stays_at_closing_time() -> None:
    friday_3pm = local(NY, 2024, 3, 1, 15)
    assert add_business_time(friday_3pm, 2 * H, NY_OFFICE) == local(NY, 2024, 3, 1, 17)
    assert add_business_time(friday_3pm, 2 * H + timedelta(minutes=1), NY_OFFICE) == local(
        NY, 2024, 3, 4, 9, 1
    )


def test_holidays_are_skipped() -> None:
    wednesday_4pm = local(NY, 2024, 7, 3, 16)  # July 4th (Thursday) is a holiday
    assert add_business_time(wednesday_4pm, 2 * H, NY_OFFICE) == local(NY, 2024, 7, 5, 10)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (utc(2024, 3, 2, 12), local(NY, 2024, 3, 4, 10)),  # Saturday
        (local(NY, 2024, 3, 5, 6), local(NY, 2024, 3, 5, 10)),  # before opening
        (local(NY, 2024, 3, 5, 17), local(NY, 2024, 3, 6, 10)),  # at closing
        (local(NY, 2024, 12, 24, 20), local(NY, 2024, 12, 26, 10)),  # evening before a holiday
    ],
)
def test_starting_outside_hours_counts_from_next_opening(
    start: datetime, expected: datetime
) -> None:
    assert add_business_time(start, H, NY_OFFICE) == expected


def test_calendar_is_read_in_the_merchants_zone_not_utc() -> None:
    tokyo = BusinessCalendar.office_hours("Asia/Tokyo", holidays=[date(2024, 3, 5)])
    monday_late_utc = utc(2024, 3, 4, 23, 30)  # already Tuesday 08:30 in Tokyo, a holiday there
    assert add_business_time(monday_late_utc, H, tokyo) == local("Asia/Tokyo", 2024, 3, 6, 10)
    assert not is_open(utc(2024, 3, 4, 15), tokyo)  # Monday 15:00 UTC is 00:00 in Tokyo


def test_split_hours_skip_lunch() -> None:
    assert add_business_time(local(BERLIN, 2024, 3, 4, 11), 2 * H, BERLIN_LUNCH) == local(
        BERLIN, 2024, 3, 4, 14
    )


@pytest.mark.parametrize(
    ("cal", "tz", "saturday", "sunday_due"),
    [
        (NY_DAILY, NY, (2024, 3, 9), (2024, 3, 10)),  # US spring forward
        (NY_DAILY, NY, (2024, 11, 2), (2024, 11, 3)),  # US fall back
        (BERLIN_DAILY, BERLIN, (2024, 3, 30), (2024, 3, 31)),  # EU spring forward
        (BERLIN_DAILY, BERLIN, (2024, 10, 26), (2024, 10, 27)),  # EU fall back
    ],
)
def test_dst_change_day_has_the_hours_its_wall_clock_shows(
    cal: BusinessCalendar, tz: str, saturday: tuple[int, int, int], sunday_due: tuple[int, ...]
) -> None:
    start = local(tz, *saturday, 16)
    # 1 h on Saturday, then 7 h of Sunday's 09:00-17:00 (the DST change day): 16:00 Sunday.
    assert add_business_time(start, 8 * H, cal) == local(tz, *sunday_due, 16)
    sunday_open, sunday_close = local(tz, *sunday_due, 9), local(tz, *sunday_due, 17)
    assert business_time_between(sunday_open, sunday_close, cal) == 8 * H


@pytest.mark.parametrize(
    ("cal", "tz", "day", "hours"),
    [
        (NY_24_7, NY, (2024, 3, 10), 23),
        (NY_24_7, NY, (2024, 11, 3), 25),
        (BERLIN_24_7, BERLIN, (2024, 3, 31), 23),
        (BERLIN_24_7, BERLIN, (2024, 10, 27), 25),
        (NY_24_7, NY, (2024, 3, 11), 24),
    ],
)
def test_always_open_dst_day_is_23_or_25_hours(
    cal: BusinessCalendar, tz: str, day: tuple[int, int, int], hours: int
) -> None:
    midnight = local(tz, *day, 0)
    next_midnight = local(tz, *(date(*day) + timedelta(days=1)).timetuple()[:3], 0)
    assert business_time_between(midnight, next_midnight, cal) == hours * H
    assert add_business_time(midnight, hours * H, cal) == next_midnight


def test_hours_spanning_the_dst_jump_count_only_the_wall_clock_shown() -> None:
    early = BusinessCalendar(NY, tuple((OpenInterval.parse("00:00-04:00"),) for _ in ALL_DAYS))
    spring, fall = date(2024, 3, 10), date(2024, 11, 3)
    # 02:00-03:00 never shows on the spring day; 01:00-02:00 shows twice on the fall day.
    assert business_time_between(local(NY, 2024, 3, 10, 0), local(NY, 2024, 3, 11, 0), early) == (
        3 * H
    )
    assert business_time_between(local(NY, 2024, 11, 3, 0), local(NY, 2024, 11, 4, 0), early) == (
        5 * H
    )
    assert spring.weekday() == fall.weekday() == 6


def test_next_open_and_is_open() -> None:
    assert next_open(local(NY, 2024, 3, 4, 10), NY_OFFICE) == local(NY, 2024, 3, 4, 10)
    assert next_open(local(NY, 2024, 3, 1, 17), NY_OFFICE) == local(NY, 2024, 3, 4, 9)
    assert next_open(local(NY, 2024, 7, 3, 23), NY_OFFICE) == local(NY, 2024, 7, 5, 9)
    assert next_open(utc(2024, 3, 10, 4, 59), NY_24_7) == utc(2024, 3, 10, 4, 59)
    assert is_open(local(NY, 2024, 3, 4, 16, 59), NY_OFFICE)
    assert not is_open(local(NY, 2024, 3, 4, 17), NY_OFFICE)


def test_between_is_signed_and_rejects_naive_times() -> None:
    a, b = local(NY, 2024, 3, 4, 10), local(NY, 2024, 3, 4, 12)
    assert business_time_between(b, a, NY_OFFICE) == -2 * H
    assert business_time_between(a, a, NY_OFFICE) == timedelta(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(datetime(2024, 3, 4, 10), H, NY_OFFICE)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(a, -H, NY_OFFICE)


def test_calendar_round_trips_and_rejects_bad_input() -> None:
    for cal in (NY_OFFICE, BERLIN_LUNCH, NY_24_7):
        assert BusinessCalendar.from_dict(cal.to_dict()) == cal
    assert NY_24_7.to_dict()["hours"]["sun"] == ["00:00-24:00"]


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"timezone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}},
        {"timezone": NY},
        {"timezone": NY, "hours": {"monday": ["09:00-17:00"]}},
        {"timezone": NY, "hours": {"mon": ["17:00-09:00"]}},
        {"timezone": NY, "hours": {"mon": ["09:00-25:00"]}},
        {"timezone": NY, "hours": {"mon": ["9-17"]}},
        {"timezone": NY, "hours": {"mon": ["09:00-13:00", "12:00-17:00"]}},
        {"timezone": NY, "hours": {"mon": "09:00-17:00"}},
        {"timezone": NY, "hours": {}},
        {"timezone": NY, "hours": {"mon": ["09:00-17:00"]}, "holidays": ["25/12/2024"]},
        {"timezone": NY, "hours": {"mon": ["09:00-17:00"]}, "extra": 1},
    ],
)
def test_bad_calendar_is_malformed(data: object) -> None:
    with pytest.raises(MalformedPayload):
        BusinessCalendar.from_dict(data)


# --- properties ---------------------------------------------------------------------------

_CALENDARS = st.sampled_from(
    [
        NY_OFFICE,
        NY_DAILY,
        BERLIN_LUNCH,
        NY_24_7,
        BERLIN_24_7,
        BusinessCalendar(NY, tuple((OpenInterval.parse("00:30-03:30"),) for _ in ALL_DAYS)),
        BusinessCalendar.office_hours("Australia/Lord_Howe", "08:00-20:00", days=("sat", "sun")),
    ]
)
_STARTS = st.integers(0, 2 * 366 * 24 * 60).map(lambda m: utc(2024, 1, 1) + timedelta(minutes=m))
_DURATIONS = st.integers(0, 120 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(cal=_CALENDARS, start=_STARTS, d1=_DURATIONS, d2=_DURATIONS)
def test_add_business_time_is_monotonic_in_duration(
    cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    short, long = sorted((d1, d2))
    assert add_business_time(start, short, cal) <= add_business_time(start, long, cal)


@settings(max_examples=150, deadline=None)
@given(cal=_CALENDARS, start=_STARTS, duration=_DURATIONS)
def test_between_inverts_add_from_an_open_time(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    opened = next_open(start, cal)
    due = add_business_time(opened, duration, cal)
    assert business_time_between(opened, due, cal) == duration
    assert business_time_between(start, add_business_time(start, duration, cal), cal) == duration
    if duration:
        assert is_open(due - timedelta(microseconds=1), cal)  # never lands in closed time


# --- due times ----------------------------------------------------------------------------

POLICY = SlaPolicy()
MONDAY_10 = local(NY, 2024, 3, 4, 10)


def _due(**kwargs: object) -> object:
    args: dict[str, object] = {
        "policy": POLICY,
        "cal": NY_OFFICE,
        "case_type": "complaint",
        "priority": "normal",
        "opened_at": MONDAY_10,
        "vip": False,
        "channel": "email",
    }
    args.update(kwargs)
    return due_times(**args)  # type: ignore[arg-type]


def test_default_complaint_targets_count_business_hours() -> None:
    due = _due()
    assert due.first_response == local(NY, 2024, 3, 7, 10)  # 24 business hours = 3 days
    assert due.next_reply is None
    assert due.resolution == local(NY, 2024, 3, 15, 10)  # 72 h = 9 days, across US DST
    assert any("complaint/*" in line for line in due.explanation)


def test_targets_are_independent() -> None:
    base = _due()
    answered = _due(first_response_at=local(NY, 2024, 3, 4, 11))
    assert answered.first_response is None and answered.resolution == base.resolution
    # A customer writing before any first response does not replace the first-response target.
    chased = _due(last_customer_message_at=local(NY, 2024, 3, 5, 9))
    assert chased.first_response == base.first_response and chased.next_reply is None
    # After the first response, a new customer message starts the next-reply clock only.
    waiting = _due(
        first_response_at=local(NY, 2024, 3, 4, 11),
        last_customer_message_at=local(NY, 2024, 3, 5, 16),
    )
    assert waiting.next_reply == local(NY, 2024, 3, 8, 16)
    assert waiting.first_response is None and waiting.resolution == base.resolution
    replied = _due(
        first_response_at=local(NY, 2024, 3, 4, 11),
        last_customer_message_at=local(NY, 2024, 3, 5, 16),
        last_agent_reply_at=local(NY, 2024, 3, 5, 16, 30),
    )
    assert replied.next_reply is None
    resolved = _due(resolved_at=local(NY, 2024, 3, 6, 12))
    assert resolved.resolution is None and resolved.first_response == base.first_response


def test_priority_vip_and_channel_shorten_targets() -> None:
    assert _due(priority="urgent").first_response == local(NY, 2024, 3, 4, 14)
    assert _due(vip=True).first_response == local(NY, 2024, 3, 5, 14)  # 12 h
    policy = SlaPolicy(channel_first_response={"sms": 2 * H})
    assert _due(policy=policy, channel="sms").first_response == local(NY, 2024, 3, 4, 12)
    vip_sms = _due(policy=policy, channel="sms", vip=True)
    assert vip_sms.first_response == local(NY, 2024, 3, 4, 11)
    assert vip_sms.resolution == _due(vip=True).resolution  # the override is first-response only
    assert any("sms channel override" in line for line in vip_sms.explanation)


def test_dispute_and_enum_inputs() -> None:
    class Kind(str, Enum):  # noqa: UP042 - the shape of case_state.CaseType
        DISPUTE = "dispute"

    due = _due(case_type=Kind.DISPUTE, opened_at=local(NY, 2024, 3, 1, 9))
    assert due.resolution == local(NY, 2024, 3, 13, 17)  # 72 business hours: by end of day
    with pytest.raises(ValueError, match="priority"):
        _due(priority="critical")


def test_wall_time_policy_and_recomputing_after_a_calendar_change() -> None:
    wall = SlaPolicy(business_hours=False)
    friday_4pm = local(NY, 2024, 3, 1, 16)
    assert _due(policy=wall, opened_at=friday_4pm).first_response == local(NY, 2024, 3, 2, 16)
    closed_thursday = BusinessCalendar.office_hours(NY, holidays=[date(2024, 3, 7)])
    assert _due(cal=closed_thursday).first_response == local(NY, 2024, 3, 8, 10)


def test_policy_round_trips_and_rejects_bad_input() -> None:
    custom = SlaPolicy(
        targets={("complaint", "*"): Targets(12 * H, 6 * H, None), ("*", "*"): Targets(24 * H)},
        vip_multiplier=Decimal("0.25"),
        channel_first_response={"sms": timedelta(minutes=90)},
        business_hours=False,
    )
    for policy in (POLICY, custom):
        assert SlaPolicy.from_dict(policy.to_dict()) == policy
    assert SlaPolicy.from_dict({}) == POLICY
    assert custom.to_dict()["targets"]["complaint"]["*"] == {
        "first_response": "PT12H",
        "next_reply": "PT6H",
        "resolution": None,
    }


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"targets": {"complaint": {"normal": {"first_response": "24h"}}}},
        {"targets": {"complaint": {"critical": {"first_response": "PT24H"}}}},
        {"targets": {"complaint": {"normal": {"first_reply": "PT24H"}}}},
        {"targets": {"complaint": {"normal": {"first_response": "PT0S"}}}},
        {"vip_multiplier": "2"},
        {"vip_multiplier": "NaN"},
        {"vip_multiplier": 0.5},
        {"channel_first_response": {"sms": "P"}},
        {"escalation": [{"level": "breach", "share": "1", "notify": "ceo"}]},
        {"escalation": [{"level": "a", "share": "1", "notify": "senior"}] * 2},
        {"business_hours": "yes"},
        {"unknown": 1},
    ],
)
def test_bad_policy_is_malformed(data: object) -> None:
    with pytest.raises(MalformedPayload):
        SlaPolicy.from_dict(data)


# --- escalation -----------------------------------------------------------------------------


def _run_job(due: object, start: datetime, end: datetime) -> list:
    """Run the escalation job every 5 minutes, recording fired ids as a store would."""
    fired: frozenset[str] = frozenset()
    seen = []
    now = start
    while now <= end:
        steps = case_escalations(due, now, NY_OFFICE, fired)  # type: ignore[arg-type]
        seen += [(now, step) for step in steps]
        fired |= {step.id for step in steps}
        now += timedelta(minutes=5)
    return seen


def test_each_level_fires_exactly_once_over_repeated_runs() -> None:
    due = _due()
    seen = _run_job(due, MONDAY_10, local(NY, 2024, 3, 25, 9))
    ids = [step.id for _, step in seen]
    assert len(ids) == len(set(ids)) == 8
    crossed = {(step.target, step.level): step.occurred_at for _, step in seen}
    assert crossed["first_response", "warning"] == local(NY, 2024, 3, 6, 12)  # 18 of 24 h
    assert crossed["first_response", "breach"] == due.first_response
    assert crossed["first_response", "breach+25%"] == local(NY, 2024, 3, 7, 16)
    assert crossed["first_response", "breach+50%"] == local(NY, 2024, 3, 8, 14)
    assert crossed["resolution", "breach"] == due.resolution
    for now, step in seen:
        assert step.occurred_at <= now < step.occurred_at + timedelta(minutes=5)
        assert step.notify_at == now and not step.superseded  # all crossed in business hours
    notify = {(step.target, step.level): step.notify for _, step in seen}
    assert notify["first_response", "warning"] == "assignee"
    assert notify["first_response", "breach"] == "senior"
    assert notify["resolution", "breach+50%"] == "supervisor"
    assert seen[0][1].id == step_id("first_response", "warning", MONDAY_10)
    assert seen[0][1].id == "first_response:warning@2024-03-04T15:00:00Z"


def test_notice_outside_hours_waits_for_next_opening_but_breach_time_is_real() -> None:
    friday_3pm = local(NY, 2024, 3, 1, 15)
    due = _due(opened_at=friday_3pm, priority="urgent")  # 4 h: 2 h Friday, due Monday 11:00
    assert due.first_response == local(NY, 2024, 3, 4, 11)
    started, breach = friday_3pm, local(NY, 2024, 3, 1, 17)
    # A 2-hour target started Friday 15:00 is breached exactly at Friday's closing time.
    late_friday = local(NY, 2024, 3, 1, 17, 5)
    steps = escalation_state(breach, started, late_friday, NY_OFFICE, frozenset(), target="x")
    assert [s.level for s in steps] == ["warning", "breach"]
    assert steps[-1].occurred_at == breach
    assert all(s.notify_at == local(NY, 2024, 3, 4, 9) for s in steps)
    assert steps[0].superseded and not steps[-1].superseded
    again = escalation_state(
        breach, started, late_friday, NY_OFFICE, frozenset(s.id for s in steps), target="x"
    )
    assert again == []


def test_a_late_job_fires_every_missed_level_once_marking_older_ones_superseded() -> None:
    due = _due(resolved_at=local(NY, 2024, 3, 4, 12))
    steps = case_escalations(due, local(NY, 2024, 3, 11, 10), NY_OFFICE, frozenset())
    assert [s.level for s in steps] == ["warning", "breach", "breach+25%", "breach+50%"]
    assert [s.superseded for s in steps] == [True, True, True, False]


def test_next_due_is_the_earliest_unfired_step() -> None:
    due = _due()
    assert next_due(due, frozenset()) == local(NY, 2024, 3, 6, 12)
    warned = frozenset({step_id("first_response", "warning", MONDAY_10)})
    assert next_due(due, warned) == due.first_response
    everything = frozenset(
        step_id(d.target, lv.name, d.started) for d in due.deadlines for lv, _ in d.checkpoints
    )
    assert next_due(due, everything) is None
    met = _due(first_response_at=MONDAY_10 + H, resolved_at=MONDAY_10 + 2 * H)
    assert met.deadlines == () and next_due(met, frozenset()) is None


def test_always_open_calendar_notifies_immediately() -> None:
    due = _due(cal=NY_24_7, priority="urgent", opened_at=utc(2024, 3, 10, 5))  # Sunday night
    steps = case_escalations(due, utc(2024, 3, 10, 9, 1), NY_24_7, frozenset())
    assert [s.level for s in steps] == ["warning", "breach"]
    assert all(s.notify_at == utc(2024, 3, 10, 9, 1) for s in steps)


def test_a_new_next_reply_cycle_escalates_again_but_a_recomputed_one_does_not() -> None:
    first_reply = local(NY, 2024, 3, 4, 11)
    cycle1 = _due(first_response_at=first_reply, last_customer_message_at=local(NY, 2024, 3, 5, 9))
    fired = frozenset(
        s.id for s in case_escalations(cycle1, local(NY, 2024, 3, 8, 9), NY_OFFICE, frozenset())
    )
    assert {i.split("@")[0] for i in fired} == {"next_reply:warning", "next_reply:breach"}
    # The merchant shortens the targets: due times move, fired levels stay fired.
    faster = SlaPolicy(targets={("*", "*"): Targets(12 * H, 12 * H, 72 * H)})
    recomputed = _due(
        policy=faster,
        first_response_at=first_reply,
        last_customer_message_at=local(NY, 2024, 3, 5, 9),
    )
    assert recomputed.next_reply == local(NY, 2024, 3, 6, 13)
    again = case_escalations(recomputed, local(NY, 2024, 3, 8, 9), NY_OFFICE, fired)
    assert [s.level for s in again if s.target == "next_reply"] == ["breach+25%", "breach+50%"]
    # The agent answered; the customer writes again: a new clock, escalated afresh.
    cycle2 = _due(first_response_at=first_reply, last_customer_message_at=local(NY, 2024, 3, 11, 9))
    later = case_escalations(cycle2, local(NY, 2024, 3, 14, 9), NY_OFFICE, fired)
    assert [s.level for s in later if s.target == "next_reply"] == ["warning", "breach"]
