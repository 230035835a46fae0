"""Digest calendar: which week a digest reports and when it is due, in the merchant's zone.

Pure. Weekly counters are kept per ISO week in UTC (`keys.iso_week`), Monday 00:00 UTC to
Monday 00:00 UTC. The digest of week W goes out at 08:00 local time on the Monday that ends
W (the Monday of W+1), but never before W has ended in UTC: east of UTC+8 the local Monday
08:00 comes before Monday 00:00 UTC, and sending then would drop the week's last hours from
every digest. So Tokyo (UTC+9) gets its digest at 09:00, Auckland at 12:00 or 13:00, and
every zone at or west of UTC+8 exactly at 08:00. A DST day is handled by `zoneinfo`.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.store.keys import iso_week

__all__ = [
    "SEND_AT",
    "zone",
    "week_of",
    "week_start",
    "week_end",
    "shift_week",
    "due_at",
    "first_week",
    "latest_due_week",
]

SEND_AT = time(8, 0)  # local time on Monday


def zone(name: str | None) -> tzinfo:
    """The merchant's IANA zone; UTC when unset or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def week_of(moment: datetime) -> str:
    """The ISO week label (UTC) containing `moment`, e.g. `2026-W47`."""
    return iso_week(moment)


def week_start(week: str) -> datetime:
    """Monday 00:00 UTC opening `week`. Raises ValueError for a malformed label."""
    year, _, number = week.partition("-W")
    return datetime.fromisocalendar(int(year), int(number), 1).replace(tzinfo=UTC)


def week_end(week: str) -> datetime:
    """Monday 00:00 UTC closing `week` (exclusive)."""
    return week_start(week) + timedelta(days=7)


def shift_week(week: str, weeks: int) -> str:
    """The label `weeks` weeks after (negative: before) `week`."""
    return week_of(week_start(week) + timedelta(weeks=weeks))


def due_at(week: str, tz: tzinfo) -> datetime:
    """When the digest of `week` is due (UTC): local Monday 08:00 after it, not before its end."""
    end = week_end(week)
    local = datetime.combine(end.date(), SEND_AT, tzinfo=tz)
    return max(local.astimezone(UTC), end)


def first_week(now: datetime) -> str:
    """The first week a new merchant gets a digest for: the one running at `now`."""
    return week_of(now)


def latest_due_week(week: str, now: datetime, tz: tzinfo) -> str:
    """The newest week from `week` on whose digest is due at `now` (skips weeks missed while
    the job was down, so a merchant gets one digest, of the latest complete week)."""
    while due_at(shift_week(week, 1), tz) <= now:
        week = shift_week(week, 1)
    return week
