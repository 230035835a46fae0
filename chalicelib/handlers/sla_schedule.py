"""Put a case on the SLA due index at its next check: the SLA side of every case write.

Every writer that creates a case or changes its status calls `schedule_case(case, merchant,
now)` before adding the case to its unit of work. It sets the case's due times from the
merchant's SLA policy (`policy/sla.py`) and puts the case on the sparse due index, kind
`SLA`, at the earliest instant something may fire: an escalation step not fired yet
(warning, breach, ...) or a stuck-flow deadline (`policy/stuck_flows.py`). A settled case
(resolved, rejected, refunded, closed, cancelled) leaves the index. `sla_job.escalate_due`
reads only that index, so its work grows with the cases due, not with all cases.

The same call keeps the console queue's sparse open-cases index (gsi2 `OPENCASES#{mid}` /
`{queue due iso}#{case_id}`, `place_in_queue`): an open case carries it, a settled one drops
it, so the queue reads open cases only (policy/queue_due.py gives the sort instant).

Merchant settings (all optional, written by the settings API, see docs/sla.md): `sla`
(SlaPolicy wire form), `business_calendar` (BusinessCalendar wire form; absent = always open
in the merchant's zone), `tracking.return_scan_days`, `refunds.receipt_to_refund_hours`.
Invalid settings fall back to the defaults (logged), so a bad setting never fails a webhook.

Return-like cases meet their first-response and resolution targets when decided (approved
or rejected); stuck-flow checks take over from there. The SLA basis priority is the case's
priority when it was first scheduled (`details.sla_priority`): raising the priority at a
breach does not shorten the running targets (which would fire the later levels at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload
from chalicelib.log import get_logger
from chalicelib.policy import case_state
from chalicelib.policy.business_time import BusinessCalendar
from chalicelib.policy.queue_due import queue_due
from chalicelib.policy.sla import DueTimes, due_times, next_due
from chalicelib.policy.sla_settings import PRIORITIES, SlaPolicy
from chalicelib.policy.stuck_flows import StuckRules, moment, next_stuck_check
from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.store.models import CaseItem, MerchantItem

__all__ = [
    "sla_policy",
    "business_calendar",
    "stuck_rules",
    "case_due_times",
    "schedule_case",
    "clear_due",
    "place_in_queue",
    "mark_first_response",
    "RETURN_LIKE",
]

log = get_logger(__name__)
RETURN_LIKE = frozenset({"return", "exchange"})


def _setting(merchant: MerchantItem, name: str, parse: Any, default: Any) -> Any:
    raw = (merchant.settings or {}).get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except (MalformedPayload, ValueError, TypeError) as exc:
        log.warning(
            "invalid merchant setting; defaults used", extra={"setting": name, "why": str(exc)}
        )
        return default


def sla_policy(merchant: MerchantItem) -> SlaPolicy:
    """The merchant's SLA policy (`settings.sla`), defaults when absent or invalid."""
    return _setting(merchant, "sla", SlaPolicy.from_dict, SlaPolicy())


def business_calendar(merchant: MerchantItem) -> BusinessCalendar:
    """The merchant's opening hours (`settings.business_calendar`); always open when absent."""
    fallback = BusinessCalendar.always_open(merchant.timezone or "UTC")
    return _setting(merchant, "business_calendar", BusinessCalendar.from_dict, fallback)


def stuck_rules(merchant: MerchantItem) -> StuckRules:
    """The merchant's stuck-flow thresholds: `tracking.return_scan_days` and
    `refunds.receipt_to_refund_hours` (settings API sections), defaults when absent."""
    settings = merchant.settings or {}
    values = {
        "return_scan_days": (settings.get("tracking") or {}).get("return_scan_days"),
        "refund_hours": (settings.get("refunds") or {}).get("receipt_to_refund_hours"),
    }
    given = {name: value for name, value in values.items() if value is not None}
    try:
        return StuckRules.from_dict(given)
    except MalformedPayload as exc:
        log.warning("invalid stuck-flow settings; defaults used", extra={"why": str(exc)})
        return StuckRules()


def _basis_priority(case: CaseItem) -> str:
    details = case.details or {}
    priority = details.get("sla_priority") or case.priority or "normal"
    return priority if priority in PRIORITIES else "normal"


def case_due_times(case: CaseItem, merchant: MerchantItem) -> DueTimes:
    """The due times of `case`'s running targets under the merchant's policy."""
    details = case.details or {}
    first, resolved = case.first_responded_at, None
    if case.case_type in RETURN_LIKE:
        decided = moment(details.get("approved_at")) or moment(details.get("rejected_at"))
        first, resolved = first or decided, decided
    if not case_state.is_open(case.status):
        resolved = resolved or case.updated_at
    return due_times(
        sla_policy(merchant),
        business_calendar(merchant),
        case.case_type,
        _basis_priority(case),
        case.opened_at,
        bool(case.vip),
        str(details.get("channel") or details.get("source") or ""),
        first,
        resolved_at=resolved,
    )


def clear_due(case: CaseItem) -> None:
    """Take the case off the SLA due index."""
    case.due_pk = None
    case.due_sk = None


def place_in_queue(case: CaseItem) -> None:
    """Put an open case on the open-cases index at its queue due time; a settled one off it."""
    if not case_state.is_open(case.status):
        case.gsi2pk = None
        case.gsi2sk = None
        return
    due, _ = queue_due(
        case.opened_at,
        case.priority,
        case.first_response_due,
        case.first_responded_at,
        case.resolution_due,
    )
    case.gsi2pk = keys.open_cases_of(case.merchant_id)
    case.gsi2sk = f"{keys.iso(due)}#{case.case_id}"


def schedule_case(case: CaseItem, merchant: MerchantItem, now: datetime) -> datetime | None:
    """Set `case`'s due times, its place on the SLA due index and on the open-cases index;
    returns the next SLA check (None: off the due index). Call before adding the case to the
    unit of work."""
    if not case_state.is_open(case.status):
        clear_due(case)
        place_in_queue(case)
        return None
    details = dict(case.details or {})
    if "sla_priority" not in details:
        details["sla_priority"] = _basis_priority(case)
        case.details = details
    due = case_due_times(case, merchant)
    case.first_response_due, case.resolution_due = due.first_response, due.resolution
    place_in_queue(case)
    fired = frozenset(case.sla_fired or ())
    candidates = [
        next_due(due, fired),
        next_stuck_check(details, now, stuck_rules(merchant), fired)
        if case.case_type in RETURN_LIKE
        else None,
    ]
    when = min((c for c in candidates if c is not None), default=None)
    if when is None:
        clear_due(case)
        return None
    case.due_pk = keys.due_partition(keys.SLA_DUE, case.pk)
    case.due_sk = keys.due_sort(when, case.pk)
    return when


def mark_first_response(case: CaseItem, now: datetime) -> bool:
    """Record the first agent response (once); True when this was it."""
    if case.first_responded_at is not None:
        return False
    case.first_responded_at = now
    return True
