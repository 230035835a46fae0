"""Business-time arithmetic: a merchant's opening hours and holidays, counted in their own zone.

Pure: no I/O, no clock; every instant is a timezone-aware datetime passed in, and every
instant returned is UTC. A `BusinessCalendar` holds an IANA zone name, the weekly opening
hours per weekday (any number of intervals, none = closed) and holidays as local dates.

How time is counted (see DESIGN "SLA time"):
- Opening hours are wall-clock intervals in the merchant's zone (`zoneinfo`), never the
  server's. Only the real time elapsed inside them counts.
- A DST day has the hours its wall clock shows: 09:00-17:00 is 8 h on either change day; a
  24/7 calendar counts 23 h on the spring-forward day and 25 h on the fall-back day. A wall
  time that does not exist (inside the spring-forward gap) means the instant the clock jumps;
  an ambiguous one (repeated at fall-back) means its first occurrence.
- `add_business_time` returns the earliest instant at which `duration` of open time has
  elapsed: a result landing exactly on closing time stays at closing time, and a start
  outside opening hours begins counting at the next opening.
- Holidays close the whole local date.

Wire format (`to_dict` / `from_dict`)::

    {"timezone": "America/New_York",
     "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-17:00"], "sat": []},
     "holidays": ["2024-12-25"]}

Weekdays left out are closed; "24:00" is allowed as a closing time. Durations on the wire
are ISO-8601 `PnDTnHnMnS` (`parse_duration`/`format_duration`; a day is 24 h of counted time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import MalformedPayload

__all__ = [
    "WEEKDAYS",
    "OpenInterval",
    "BusinessCalendar",
    "add_business_time",
    "business_time_between",
    "next_open",
    "is_open",
    "as_utc",
    "parse_duration",
    "format_duration",
    "scale_duration",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _minutes(text: str) -> int:
    match = _CLOCK.match(text.strip())
    if not match:
        raise MalformedPayload(f"opening time {text!r} is not HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise MalformedPayload(f"opening time {text!r} is not a time of day (00:00-24:00)")
    return hours * 60 + minutes


@dataclass(frozen=True, order=True)
class OpenInterval:
    """One opening interval of a local day, in minutes after local midnight (end may be 1440)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= _DAY_MINUTES:
            raise MalformedPayload(
                f"opening interval {self.start}-{self.end} must satisfy 0 <= start < end <= 1440 "
                "minutes (split overnight hours at midnight)"
            )

    @classmethod
    def parse(cls, text: str) -> OpenInterval:
        """`"09:00-17:00"` -> interval. Raises `MalformedPayload` on any other shape."""
        if not isinstance(text, str) or text.count("-") != 1:
            raise MalformedPayload(f"opening interval {text!r} is not 'HH:MM-HH:MM'")
        start, end = text.split("-")
        return cls(_minutes(start), _minutes(end))

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


@dataclass(frozen=True)
class BusinessCalendar:
    """A merchant's opening hours: IANA zone, 7 weekdays (Monday first) of intervals, holidays.

    Raises `MalformedPayload` when the zone is unknown, a week does not have 7 days,
    intervals of a day overlap, or the week has no opening at all.
    """

    timezone: str
    weekly: tuple[tuple[OpenInterval, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise MalformedPayload(f"unknown IANA time zone {self.timezone!r}") from exc
        if len(self.weekly) != 7:
            raise MalformedPayload(f"weekly hours need 7 days, got {len(self.weekly)}")
        days = tuple(tuple(sorted(day)) for day in self.weekly)
        for name, day in zip(WEEKDAYS, days, strict=True):
            for before, after in zip(day, day[1:], strict=False):
                if after.start < before.end:
                    raise MalformedPayload(f"{name}: intervals {before} and {after} overlap")
        if not any(days):
            raise MalformedPayload("calendar is never open: give at least one interval")
        object.__setattr__(self, "weekly", days)
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """24/7 in `timezone` (DST days still count 23 h / 25 h)."""
        return cls(timezone, tuple((OpenInterval(0, _DAY_MINUTES),) for _ in WEEKDAYS))

    @classmethod
    def office_hours(
        cls,
        timezone: str,
        hours: str = "09:00-17:00",
        days: Iterable[str] = WEEKDAYS[:5],
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """The same `hours` ("HH:MM-HH:MM") on each of `days`; other days closed."""
        open_days = set(days)
        unknown = open_days - set(WEEKDAYS)
        if unknown:
            raise MalformedPayload(f"unknown weekday(s) {sorted(unknown)}; use {WEEKDAYS}")
        interval = OpenInterval.parse(hours)
        weekly = tuple((interval,) if name in open_days else () for name in WEEKDAYS)
        return cls(timezone, weekly, frozenset(holidays))

    @property
    def zone(self) -> ZoneInfo:
        """The `ZoneInfo` of this calendar."""
        return ZoneInfo(self.timezone)

    def to_dict(self) -> dict[str, Any]:
        """The wire form (see module docstring)."""
        return {
            "timezone": self.timezone,
            "hours": {
                name: [str(interval) for interval in day]
                for name, day in zip(WEEKDAYS, self.weekly, strict=True)
            },
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }

    @classmethod
    def from_dict(cls, data: Any) -> BusinessCalendar:
        """Parse the wire form. Raises `MalformedPayload` naming the first bad field."""
        if not isinstance(data, Mapping):
            raise MalformedPayload("calendar must be an object")
        unknown = set(data) - {"timezone", "hours", "holidays"}
        if unknown:
            raise MalformedPayload(f"calendar has unknown field(s) {sorted(unknown)}")
        tz = data.get("timezone")
        if not isinstance(tz, str) or not tz:
            raise MalformedPayload("calendar.timezone must be an IANA zone name")
        hours = data.get("hours")
        if not isinstance(hours, Mapping):
            raise MalformedPayload("calendar.hours must map weekdays to interval lists")
        bad_days = set(hours) - set(WEEKDAYS)
        if bad_days:
            raise MalformedPayload(f"calendar.hours: unknown weekday(s) {sorted(bad_days)}")
        weekly = []
        for name in WEEKDAYS:
            entries = hours.get(name, [])
            if not isinstance(entries, list):
                raise MalformedPayload(f"calendar.hours.{name} must be a list")
            weekly.append(tuple(OpenInterval.parse(entry) for entry in entries))
        raw_holidays = data.get("holidays", [])
        if not isinstance(raw_holidays, list):
            raise MalformedPayload("calendar.holidays must be a list of YYYY-MM-DD dates")
        holidays = set()
        for entry in raw_holidays:
            try:
                holidays.add(date.fromisoformat(entry))
            except (TypeError, ValueError) as exc:
                raise MalformedPayload(f"calendar.holidays: {entry!r} is not YYYY-MM-DD") from exc
        return cls(tz, tuple(weekly), frozenset(holidays))


def parse_duration(text: Any) -> timedelta:
    """ISO-8601 `PnDTnHnMnS` (a day = 24 h) -> timedelta. Raises `MalformedPayload`."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text == "P":
        raise MalformedPayload(f"duration {text!r} is not ISO-8601 like 'PT24H' or 'P3D'")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """timedelta -> ISO-8601 in hours/minutes/seconds (`PT72H`), the inverse of `parse_duration`."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n]
    return "PT" + ("".join(parts) or "0S")


def scale_duration(value: timedelta, factor: Decimal) -> timedelta:
    """`value` x `factor`, rounded half-up to the microsecond (no floats)."""
    micros = Decimal(value // timedelta(microseconds=1)) * factor
    return timedelta(microseconds=int(micros.to_integral_value(ROUND_HALF_UP)))


def as_utc(moment: datetime, name: str = "time") -> datetime:
    """`moment` in UTC. Raises `ValueError` for a naive datetime (`name` says which)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC)


def _jump(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose UTC offset differs from `before`'s."""
    offset = before.astimezone(zone).utcoffset()
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def _wall_toas_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant the local wall clock of `zone` shows `minute` after midnight of `day`."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # Inside a spring-forward gap: the wall time never shows; take the jump itself.
    return _jump(naive.replace(tzinfo=zone, fold=1).astimezone(UTC), first, zone)


@lru_cache(maxsize=8192)
def _day_spans(cal: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The open spans (UTC, half-open) of one local date."""
    if day in cal.holidays:
        return ()
    zone = cal.zone
    spans = []
    for interval in cal.weekly[day.weekday()]:
        opens = _wall_toas_utc(day, interval.start, zone)
        closes = _wall_toas_utc(day, interval.end, zone)
        if closes > opens:
            spans.append((opens, closes))
    return tuple(spans)


def _spans_from(moment: datetime, cal: BusinessCalendar) -> Iterator[tuple[datetime, datetime]]:
    """Open spans ending after `moment`, clipped to start no earlier than it, in order."""
    day = moment.astimezone(cal.zone).date() - timedelta(days=1)
    # A closed run longer than this can only mean no interval ever exists on the wall clock.
    max_closed_run = 7 * (len(cal.holidays) + 2)
    closed_run = 0
    while True:
        found = False
        for opens, closes in _day_spans(cal, day):
            if closes > moment:
                found = True
                yield max(opens, moment), closes
        closed_run = 0 if found else closed_run + 1
        if closed_run > max_closed_run:
            raise MalformedPayload(f"calendar in {cal.timezone} never opens after {moment}")
        day += timedelta(days=1)


def add_business_time(start: datetime, duration: timedelta, cal: BusinessCalendar) -> datetime:
    """The earliest UTC instant at which `duration` of open time has elapsed since `start`.

    Raises `ValueError` for a naive `start` or a negative `duration`.
    """
    moment = as_utc(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if not duration:
        return moment
    remaining = duration
    for opens, closes in _spans_from(moment, cal):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover


def business_time_between(a: datetime, b: datetime, cal: BusinessCalendar) -> timedelta:
    """Open time from `a` to `b` (negative when `b` is before `a`).

    Raises `ValueError` for naive datetimes.
    """
    start, end = as_utc(a, "a"), as_utc(b, "b")
    if end < start:
        return -business_time_between(end, start, cal)
    total = timedelta(0)
    for opens, closes in _spans_from(start, cal):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def next_open(moment: datetime, cal: BusinessCalendar) -> datetime:
    """`moment` (as UTC) if the calendar is open then, else the next opening.

    Closing time itself counts as closed. Raises `ValueError` for a naive `moment`.
    """
    for opens, _closes in _spans_from(as_utc(moment), cal):
        return opens
    raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover


def is_open(moment: datetime, cal: BusinessCalendar) -> bool:
    """True when `moment` lies inside opening hours (closing time excluded)."""
    return next_open(moment, cal) == as_utc(moment)
