"""Stuck return flows: which of a case's return/refund steps waited too long, and when to look.

Pure: no I/O, `now` is an argument. Reads the case details the return and warehouse handlers
write (ISO-8601 UTC strings): `approved_at`, `return_scanned_at`, `received_at`,
`refunded_at`, `refund_failed_at`.

Flows (each fires once per clock start, like an SLA step; ids `stuck:{flow}@{start}`):
- `no_return_scan`: approved, no carrier scan of the return parcel and not received after
  `return_scan_days` (default 7) days from the approval;
- `refund_after_receipt`: received at the warehouse, no refund after `refund_hours`
  (default 48) hours;
- `refund_failed`: a refund failed (`refund_failed_at`) and none succeeded since: at once.

While a return is in flight (approved, not refunded) the case is looked at again at least
every `poll` (default 6 h), so a receipt or failure written by a handler that does not
reschedule the case is still noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.errors import MalformedPayload

__all__ = ["StuckRules", "StuckStep", "stuck_steps", "next_stuck_check", "in_flight", "moment"]

NOTIFY = "senior"


@dataclass(frozen=True)
class StuckRules:
    """Thresholds of the stuck-flow checks (settings `tracking.return_scan_days`,
    `refunds.receipt_to_refund_hours`)."""

    return_scan_days: int = 7
    refund_hours: int = 48
    poll: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if self.return_scan_days < 1 or self.refund_hours < 1:
            raise MalformedPayload("stuck-flow thresholds must be at least 1")

    @classmethod
    def from_dict(cls, data: Any) -> StuckRules:
        """`{"return_scan_days": 7, "refund_hours": 48}`; absent keys keep the defaults."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping) or set(data) - {"return_scan_days", "refund_hours"}:
            raise MalformedPayload("stuck_flows may only hold return_scan_days, refund_hours")
        values = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise MalformedPayload(f"stuck_flows.{name} must be a whole number")
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class StuckStep:
    """A stuck flow to report: since when the flow waits, when it became overdue, and why."""

    id: str
    flow: str
    started: datetime
    overdue_at: datetime
    notify: str
    explanation: str


def moment(value: Any) -> datetime | None:
    """A stored ISO-8601 instant as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def in_flight(details: Mapping[str, Any]) -> bool:
    """An approved return not refunded yet."""
    return moment(details.get("approved_at")) is not None and not _refunded(details)


def _refunded(details: Mapping[str, Any]) -> bool:
    refunded, failed = moment(details.get("refunded_at")), moment(details.get("refund_failed_at"))
    return refunded is not None and (failed is None or refunded >= failed)


def _deadlines(
    details: Mapping[str, Any], rules: StuckRules
) -> list[tuple[str, datetime, datetime]]:
    """(flow, clock start, overdue instant) of each flow currently running."""
    found = []
    approved, received = moment(details.get("approved_at")), moment(details.get("received_at"))
    scanned = moment(details.get("return_scanned_at"))
    failed = moment(details.get("refund_failed_at"))
    if approved and not scanned and not received and not _refunded(details):
        found.append(
            ("no_return_scan", approved, approved + timedelta(days=rules.return_scan_days))
        )
    if received and not _refunded(details) and not failed:
        found.append(
            ("refund_after_receipt", received, received + timedelta(hours=rules.refund_hours))
        )
    if failed and not _refunded(details):
        found.append(("refund_failed", failed, failed))
    return found


def _id(flow: str, started: datetime) -> str:
    return f"stuck:{flow}@{started:%Y-%m-%dT%H:%M:%SZ}"


_WHY = {
    "no_return_scan": "return approved {start}, no carrier scan after {limit}",
    "refund_after_receipt": "return received {start}, no refund after {limit}",
    "refund_failed": "refund failed at {start} and none succeeded since",
}


def stuck_steps(
    details: Mapping[str, Any], now: datetime, rules: StuckRules, fired: frozenset[str]
) -> list[StuckStep]:
    """The NEW overdue flows at `now` (ids in `fired` are skipped), oldest first."""
    steps = []
    for flow, started, overdue in _deadlines(details, rules):
        ident = _id(flow, started)
        if overdue > now or ident in fired:
            continue
        limit = (
            f"{rules.return_scan_days} days"
            if flow == "no_return_scan"
            else f"{rules.refund_hours} hours"
        )
        text = _WHY[flow].format(start=started.isoformat(), limit=limit)
        steps.append(StuckStep(ident, flow, started, overdue, NOTIFY, text))
    return sorted(steps, key=lambda step: (step.overdue_at, step.id))


def next_stuck_check(
    details: Mapping[str, Any], now: datetime, rules: StuckRules, fired: frozenset[str]
) -> datetime | None:
    """When the case needs its next stuck-flow look: the earliest unfired deadline, and at
    the latest `now + poll` while the return is in flight; None when nothing is running."""
    pending = [
        overdue
        for flow, started, overdue in _deadlines(details, rules)
        if _id(flow, started) not in fired
    ]
    if in_flight(details):
        pending.append(now + rules.poll)
    return min(pending, default=None)
