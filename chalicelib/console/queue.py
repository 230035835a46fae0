"""The queue view: open cases as rows with SLA state, filtered, sorted by due time, paged.

`rows_for` and `select` are pure; `load_queue` does the one read: a Query on the merchant's
sparse open-cases index (gsi2 `OPENCASES#{mid}`, soonest due first; only open cases carry
it, `handlers/sla_schedule.place_in_queue`), capped at `QUEUE_WINDOW` cases, so settled cases
cost no reads. Rows are re-sorted here by the due time at `now`. Cases carry their SLA due
times (`first_response_due` / `resolution_due`); other cases fall back to a due time from
priority (policy/queue_due.py), so the queue always has an order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy.case_state import SETTLED_STATUSES
from chalicelib.policy.queue_due import queue_due
from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.store.models import CaseItem, MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["Row", "row_of", "select", "load_queue", "FILTERS", "PAGE_SIZE", "QUEUE_WINDOW"]

PAGE_SIZE = 25
QUEUE_WINDOW = 300  # open cases read per queue view (soonest due first)
AT_RISK = timedelta(hours=2)
FILTERS = ("type", "status", "priority", "assignee", "sla", "vip", "high_risk", "page")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


@dataclass(frozen=True)
class Row:
    """One queue line as the page and the JSON refresh show it."""

    id: str
    type: str
    status: str
    priority: str
    subject: str
    assignee: str | None
    customer_id: str | None
    order_id: str | None
    opened_at: str
    due_at: str
    due_kind: str  # first_response | resolution | target
    seconds_left: int  # negative once breached
    sla: str  # breached | at_risk | on_track
    vip: bool
    high_risk: bool
    emotion: str | None
    repeat: bool

    def json(self) -> dict[str, Any]:
        return asdict(self)


def _due(case: CaseItem) -> tuple[datetime, str]:
    return queue_due(
        case.opened_at,
        case.priority,
        getattr(case, "first_response_due", None),
        getattr(case, "first_responded_at", None),
        getattr(case, "resolution_due", None),
    )


def row_of(case: CaseItem, now: datetime) -> Row:
    """The queue row of an open case at `now`."""
    due, kind = _due(case)
    left = int((due - now).total_seconds())
    breached = left < 0 or (getattr(case, "sla_level", None) or 0) >= 1
    sla = "breached" if breached else "at_risk" if left <= AT_RISK.total_seconds() else "on_track"
    details = case.details or {}
    emotion = details.get("emotion")
    if isinstance(emotion, dict):
        emotion = emotion.get("label")
    return Row(
        id=case.case_id,
        type=case.case_type,
        status=case.status,
        priority=case.priority,
        subject=case.subject or "",
        assignee=case.assignee,
        customer_id=case.customer_id,
        order_id=case.order_id,
        opened_at=keys.iso(case.opened_at),
        due_at=keys.iso(due),
        due_kind=kind,
        seconds_left=left,
        sla=sla,
        vip=bool(getattr(case, "vip", None) or "vip" in (case.tags or set())),
        high_risk=bool(getattr(case, "high_risk", None)),
        emotion=emotion if isinstance(emotion, str) else None,
        repeat="repeat" in (case.tags or set()),
    )


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "")
    if value not in ("", "0", "1"):
        raise MalformedPayload(f"{name} must be 1 or 0")
    return value == "1"


def select(rows: Iterable[Row], params: Mapping[str, str]) -> dict[str, Any]:
    """Filter, sort (due first, then priority) and page `rows`; raises MalformedPayload."""
    unknown = set(params) - set(FILTERS)
    if unknown:
        raise MalformedPayload(f"unknown filter(s): {', '.join(sorted(unknown))}")
    page_raw = params.get("page") or "1"
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= 1000:
        raise MalformedPayload("page must be a whole number from 1")
    sla = params.get("sla", "")
    if sla not in ("", "breached", "at_risk", "attention"):
        raise MalformedPayload("sla must be breached, at_risk or attention")
    vip, risky = _flag(params, "vip"), _flag(params, "high_risk")
    assignee = params.get("assignee", "")
    picked = []
    for row in rows:
        if any(
            params.get(f) and getattr(row, f) != params[f] for f in ("type", "status", "priority")
        ):
            continue
        if assignee == "-" and row.assignee:
            continue
        if assignee not in ("", "-") and row.assignee != assignee:
            continue
        if sla == "attention" and row.sla == "on_track":
            continue
        if sla in ("breached", "at_risk") and row.sla != sla:
            continue
        if (vip and not row.vip) or (risky and not row.high_risk):
            continue
        picked.append(row)
    picked.sort(key=lambda r: (r.seconds_left, PRIORITY_RANK.get(r.priority, 9), r.id))
    page = int(page_raw)
    start = (page - 1) * PAGE_SIZE
    return {
        "items": picked[start : start + PAGE_SIZE],
        "total": len(picked),
        "page": page,
        "pages": max(1, -(-len(picked) // PAGE_SIZE)),
        "breached": sum(1 for r in picked if r.sla == "breached"),
        "at_risk": sum(1 for r in picked if r.sla == "at_risk"),
    }


def open_cases(store: Store, merchant_id: str) -> list[CaseItem]:
    """Up to QUEUE_WINDOW open cases, soonest due first: one Query on the sparse open-cases
    index (gsi2). The status filter only guards against a stale entry; it costs no reads."""
    from chalicelib.store.models import CaseItem

    condition = ~CaseItem.status.is_in(*sorted(str(s) for s in SETTLED_STATUSES))
    results = CaseItem.open_queue.query(
        keys.open_cases_of(merchant_id),
        filter_condition=condition,
        scan_index_forward=True,
        limit=QUEUE_WINDOW,
    )
    return list(results)


def load_queue(
    store: Store, merchant: MerchantItem, params: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """The queue page's data: selected rows plus the assignees seen (for the filter)."""
    cases = open_cases(store, merchant.merchant_id)
    rows = [row_of(case, now) for case in cases]
    selected = select(rows, params)
    selected["assignees"] = sorted({r.assignee for r in rows if r.assignee})
    selected["now"] = keys.iso(now)
    return selected
