"""Case building blocks shared by handlers and the ops API: audit, message, decide, link repeats.

`CaseChange` collects what one change to a case writes besides the case itself (timeline
entries, customer SMS, marketplace calls, counters) into the caller's unit of work, with ids
derived from one cause. `approve_return` / `reject_return` are the side effects of a return
decision, the same whether the autopilot, an agent or the marketplace made it.

A customer's recent cases live as a short list on their customer item (`recent_cases`,
newest first, no personal data), read in the same round as everything else an event needs,
so repeat detection and the 90-day return count need no query. A complaint or dispute by the
same customer about the same order or a shared SKU within the merchant's repeat window
(setting `repeat_window_days`, default 30) is linked to the earlier case (`details.repeat_of`),
tagged `repeat` and counted (`repeat_complaints`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.errors import MalformedPayload, StaleVersion
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.handlers.vip_routing import route_new_case
from chalicelib.policy import return_code
from chalicelib.policy.case_state import INITIAL_STATUS, CaseType
from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    MerchantItem,
    OrderItem,
    TimelineItem,
)
from chalicelib.store.records import new_case, new_outbox, new_return_code, new_timeline_entry
from chalicelib.store.repository import ItemRef, Store
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = [
    "CaseChange",
    "NewCase",
    "approve_return",
    "reject_return",
    "open_case",
    "create_case",
    "case_id_for",
    "find_repeat",
    "remember_case",
    "recent_entry",
    "returns_within",
    "repeat_window_days",
    "MARKETPLACES",
    "REPEAT_TYPES",
    "DEFAULT_REPEAT_WINDOW_DAYS",
    "RECENT_CASES_MAX",
    "RECENT_CASES_DAYS",
]

MARKETPLACES = frozenset({"shopify"})  # return sources whose decisions we push back
REPEAT_TYPES = frozenset({CaseType.COMPLAINT.value, CaseType.DISPUTE.value})
DEFAULT_REPEAT_WINDOW_DAYS = 30
RECENT_CASES_MAX = 30
RECENT_CASES_DAYS = 180  # also the longest repeat window a merchant may set
MAX_ATTEMPTS = 3
_PREFIX = {"complaint": "CP", "dispute": "DP", "inquiry": "IQ"}


@dataclass
class CaseChange:
    """The writes of one change to `case` other than the case item, all derived from `cause`."""

    uow: UnitOfWork
    case: CaseItem
    now: datetime
    cause: str  # stable id of what caused the change: entry and outbox ids derive from it
    entries: list[TimelineItem] = field(default_factory=list)

    def note(
        self, kind: str, source: str, summary: str, *, at: datetime | None = None, **data: Any
    ) -> TimelineItem:
        """Add a timeline entry to the case (and its customer's timeline)."""
        case = self.case
        entry = new_timeline_entry(
            case.merchant_id,
            case.pk,
            cause=self.cause,
            at=at or self.now,
            now=self.now,
            kind=kind,
            source=source,
            summary=summary,
            customer_id=case.customer_id,
            case_id=case.case_id,
            order_id=case.order_id,
            data=data,
        )
        self.uow.insert("timeline", entry)
        self.entries.append(entry)
        return entry

    def send(self, kind: str, context: dict[str, Any], channel: str = "sms") -> str | None:
        """Queue an outbox item (an SMS to the customer, or e.g. a `marketplace` call)."""
        if channel == "sms" and not self.case.customer_id:
            return None
        case = self.case
        item = new_outbox(
            case.merchant_id,
            cause=self.cause,
            kind=kind,
            now=self.now,
            customer_id=case.customer_id,
            context=context,
            channel=channel,
            case_id=case.case_id,
            order_id=case.order_id,
            timeline_pk=case.pk,
        )
        self.uow.insert(f"outbox:{kind}", item)
        return item.outbox_id

    def count(self, name: str, amount: int = 1, at: datetime | None = None) -> None:
        self.uow.count(self.case.merchant_id, at or self.now, name, amount)


def _detail(case: CaseItem, **values: Any) -> dict[str, Any]:
    case.details = {**(case.details or {}), **values}
    return case.details


def approve_return(
    change: CaseChange,
    order: OrderItem | None,
    *,
    by: str,
    push: bool,
    new_code: Callable[[], str] = return_code.new_code,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """Side effects of approving a return (the case is already `approved`): reserve a return
    code, count its lines as returned on `order`, queue the SMS and, when `push`, the
    marketplace approval. Returns the code; a taken code makes the commit raise StaleVersion."""
    case, mid, code = change.case, change.case.merchant_id, new_code()
    change.uow.insert("return_code", new_return_code(mid, code, case.case_id, change.now))
    details = _detail(
        case,
        return_code=code,
        qr_payload=return_code.qr_payload(mid, code),
        approved_at=keys.iso(change.now),
        approved_by=by,
    )
    if order is not None:
        returned = dict(order.returned or {})
        for line in details.get("lines", []):
            returned[line["line_id"]] = int(returned.get(line["line_id"], 0)) + line["quantity"]
        order.returned = returned
        change.uow.save("order", order)
    change.send(
        "return_approved", {"order_number": details.get("order_number") or "", "return_code": code}
    )
    if push and details.get("source") in MARKETPLACES:
        market = {"return_id": details.get("return_id"), "source": details["source"]}
        change.send("approve_return", market, channel="marketplace")
    from chalicelib.return_followups import on_approved  # label + expiry (issue 11)

    on_approved(change, settings)  # `settings`: the merchant's
    return code


def reject_return(
    change: CaseChange, *, reason: str, push: bool, decline_reason: str = "OTHER"
) -> None:
    """Side effects of rejecting a return (the case is already `rejected`): the SMS giving
    `reason` and, when `push`, the marketplace decline with Shopify's `decline_reason`."""
    details = _detail(change.case, rejected_at=keys.iso(change.now), rejection_reason=reason)
    change.send(
        "return_rejected", {"order_number": details.get("order_number") or "", "reason": reason}
    )
    if push and details.get("source") in MARKETPLACES:
        market = {
            "return_id": details.get("return_id"),
            "source": details["source"],
            "decline_reason": decline_reason,
            "note": reason,
        }
        change.send("decline_return", market, channel="marketplace")


# -- recent cases: pure ----------------------------------------------------------------------


def recent_entry(
    case: CaseItem, skus: Iterable[str | None], at: datetime, outcome: str | None = None
) -> dict[str, Any]:
    """What a customer's `recent_cases` list keeps about one case."""
    entry: dict[str, Any] = {
        "case_id": case.case_id,
        "type": case.case_type,
        "order_id": case.order_id,
        "skus": sorted({s for s in skus if s}),
        "at": keys.iso(at),
    }
    return {**entry, "outcome": outcome} if outcome else entry


def remember_case(
    recent: Iterable[Mapping[str, Any]], entry: Mapping[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """`entry` first, then the other entries younger than RECENT_CASES_DAYS, capped."""
    horizon = keys.iso(now - timedelta(days=RECENT_CASES_DAYS))
    kept = [dict(e) for e in recent if e["case_id"] != entry["case_id"] and e["at"] >= horizon]
    return [dict(entry), *kept][:RECENT_CASES_MAX]


def find_repeat(
    recent: Iterable[Mapping[str, Any]],
    *,
    order_id: str | None,
    skus: Iterable[str],
    now: datetime,
    window_days: int,
) -> dict[str, Any] | None:
    """The newest complaint or dispute about the same order or a shared SKU opened within
    `window_days` before `now`, or None."""
    low, high = keys.iso(now - timedelta(days=window_days)), keys.iso(now)
    wanted = {s for s in skus if s}
    for entry in sorted(recent, key=lambda e: e["at"], reverse=True):
        if entry.get("type") not in REPEAT_TYPES or not low <= entry["at"] <= high:
            continue
        same_order = order_id is not None and entry.get("order_id") == order_id
        if same_order or wanted & set(entry.get("skus") or ()):
            return dict(entry)
    return None


def returns_within(recent: Iterable[Mapping[str, Any]], now: datetime, days: int = 90) -> int:
    """Return requests in the `days` before `now`, except those the rules refused."""
    low, high = keys.iso(now - timedelta(days=days)), keys.iso(now)
    return sum(
        1
        for e in recent
        if e.get("type") == CaseType.RETURN.value
        and e.get("outcome") != "not_eligible"
        and low <= e["at"] <= high
    )


def repeat_window_days(merchant: MerchantItem) -> int:
    """The merchant's repeat window (`settings.repeat_window_days`), 1 to RECENT_CASES_DAYS."""
    value = (merchant.settings or {}).get("repeat_window_days", DEFAULT_REPEAT_WINDOW_DAYS)
    try:
        return max(1, min(int(value), RECENT_CASES_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_REPEAT_WINDOW_DAYS


# -- complaints, disputes, inquiries ---------------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    """A complaint, dispute or inquiry as a channel (SMS, web, e-mail, agent) received it.

    `source` and `cause` (e.g. the channel's message id) make the case id deterministic, so a
    re-delivered message opens no second case.
    """

    case_type: str
    subject: str
    source: str
    cause: str
    customer_id: str | None = None
    order_id: str | None = None
    skus: tuple[str, ...] = ()
    category: str | None = None
    priority: str = "normal"
    text: str = ""  # what the customer said
    details: Mapping[str, Any] = field(default_factory=dict)


def case_id_for(new: NewCase) -> str:
    """Deterministic id of the case `new` opens (e.g. `CP-1A2B3C4D5E6F`).

    Raises MalformedPayload for a type other than complaint, dispute or inquiry.
    """
    if new.case_type not in _PREFIX:
        raise MalformedPayload(f"cannot open a {new.case_type!r} case here")
    digest = keys.short_hash(new.case_type, new.source, new.cause, length=12).upper()
    return f"{_PREFIX[new.case_type]}-{digest}"


def open_case(
    uow: UnitOfWork,
    merchant: MerchantItem,
    new: NewCase,
    customer: CustomerItem | None,
    now: datetime,
    order: OrderItem | None = None,
) -> CaseItem:
    """Add a new complaint, dispute or inquiry to `uow`: the case, its first timeline entry,
    counters, and the customer's recent cases (read `customer` in the caller's read round).
    VIP / high-risk routing and the SLA due index are set too (`vip_routing`, `sla_schedule`).

    Raises MalformedPayload for another case type (returns are opened by their handler).
    """
    case_id = case_id_for(new)
    repeat = None
    if customer is not None and new.case_type in REPEAT_TYPES:
        window = repeat_window_days(merchant)
        recent = customer.recent_cases or []
        repeat = find_repeat(
            recent, order_id=new.order_id, skus=new.skus, now=now, window_days=window
        )
    linked = {"repeat_of": repeat["case_id"]} if repeat else {}
    case = new_case(
        merchant.merchant_id,
        case_id,
        new.case_type,
        INITIAL_STATUS.value,
        now,
        priority=new.priority,
        category=new.category,
        customer_id=new.customer_id,
        order_id=new.order_id,
        subject=new.subject,
        tags={"repeat"} if repeat else set(),
        details={**new.details, **linked, "skus": sorted(set(new.skus)), "source": new.source},
    )
    route_new_case(case, merchant, customer, order, new.text, now)  # VIP routing (issue 7)
    schedule_case(case, merchant, now)  # SLA due index (issue 7)
    uow.insert("case", case)
    change = CaseChange(uow, case, now, new.cause)
    also = f" (repeat of {repeat['case_id']})" if repeat else ""
    change.note(
        "case_opened",
        new.source,
        f"{new.case_type.capitalize()} opened: {new.subject}{also}",
        text=new.text,
        **linked,
    )
    change.count(f"cases:{new.case_type}")
    if repeat is not None:
        change.count("repeat_complaints")
    if customer is not None:
        entry = recent_entry(case, new.skus, now)
        customer.recent_cases = remember_case(customer.recent_cases or [], entry, now)
        if new.case_type in REPEAT_TYPES:
            customer.complaints = int(customer.complaints or 0) + 1
        customer.updated_at = now
        uow.save("customer", customer)
    return case


def create_case(store: Store, merchant: MerchantItem, new: NewCase, now: datetime) -> CaseItem:
    """Open `new` with its own read round and transaction; the existing case if its cause
    opened one already. Raises MalformedPayload for an unsupported type, StaleVersion if the
    customer keeps changing under us."""
    mid = merchant.merchant_id
    refs = {"case": ItemRef(CaseItem, keys.case(mid, case_id_for(new)))}
    if new.customer_id:
        refs["customer"] = ItemRef(CustomerItem, keys.customer(mid, new.customer_id))
    if new.order_id:  # high-risk routing reads the order's total (issue 7)
        refs["order"] = ItemRef(OrderItem, keys.order(mid, new.order_id))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        found = store.get_many(refs)
        if found["case"] is not None:
            return found["case"]
        uow = store.unit_of_work()
        case = open_case(uow, merchant, new, found.get("customer"), now, found.get("order"))
        try:
            uow.commit()
            return case
        except StaleVersion:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
