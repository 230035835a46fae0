"""Proactive follow-up of a high-risk order: an inquiry case for a senior, before delivery.

Issue 7. When an order is (or becomes) high-risk (`OrderItem.high_risk`: total above
`tiers.high_risk_order_value` or 2+ past complaints, `vip_routing.order_is_high_risk`),
`orders.on_order_placed` adds, in the order's own transaction, one `inquiry` case per
order (deterministic id from the order id, read in the order's read round: never twice):
subject "Proactive check: high-risk order #<number>", tags `follow_up` and `high_risk`,
priority high, assigned to the first available `agents.senior_agents` (else it waits in the
queue), `details.follow_up_by` = order time + 48 h (`FOLLOW_UP_WITHIN`; delivery estimates
usually arrive later, with the shipment). Its SLA targets come from the merchant's policy
like any case (`schedule_case`). It is listed in the customer's `recent_cases`, so tier
changes re-route it like other open cases. It is counted as `proactive_follow_ups`, not as
a customer-opened inquiry, so the digest's case counts stay what customers opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.handlers.cases import CaseChange, NewCase, case_id_for, recent_entry, remember_case
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.policy.case_state import INITIAL_STATUS
from chalicelib.store import keys
from chalicelib.store.models import CaseItem
from chalicelib.store.records import new_case
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.store.models import CustomerItem, MerchantItem, OrderItem
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["FOLLOW_UP_WITHIN", "follow_up_id", "follow_up_ref", "needs_follow_up", "open_follow_up"]

FOLLOW_UP_WITHIN = timedelta(hours=48)
SOURCE = "follow_up"


def follow_up_id(order_id: str) -> str:
    """The deterministic id of an order's follow-up case (e.g. `IQ-1A2B3C4D5E6F`)."""
    return case_id_for(NewCase("inquiry", "", SOURCE, f"order:{order_id}"))


def follow_up_ref(merchant_id: str, order_id: str) -> ItemRef:
    return ItemRef(CaseItem, keys.case(merchant_id, follow_up_id(order_id)))


def needs_follow_up(order: OrderItem, existing: CaseItem | None) -> bool:
    """A high-risk, open, undelivered order without its follow-up case yet."""
    return (
        bool(order.high_risk)
        and existing is None
        and order.status != "cancelled"
        and order.delivered_at is None
    )


def _senior(merchant: MerchantItem) -> str | None:
    raw = (merchant.settings or {}).get("agents")
    section = raw if isinstance(raw, Mapping) else {}
    away = {str(a) for a in section.get("unavailable") or []}
    seniors = [str(a) for a in section.get("senior_agents") or [] if a and str(a) not in away]
    return seniors[0] if seniors else None


def open_follow_up(
    uow: UnitOfWork,
    merchant: MerchantItem,
    order: OrderItem,
    customer: CustomerItem | None,
    now: datetime,
) -> CaseItem:
    """Add the order's follow-up case to `uow` (the caller saves `customer`, whose
    `recent_cases` gets the case)."""
    number = (order.order_number or order.order_id).lstrip("#")
    due_by = max(order.placed_at + FOLLOW_UP_WITHIN, now)
    case = new_case(
        merchant.merchant_id,
        follow_up_id(order.order_id),
        "inquiry",
        INITIAL_STATUS.value,
        now,
        priority="high",
        customer_id=order.customer_id,
        order_id=order.order_id,
        subject=f"Proactive check: high-risk order #{number}",
        tags={"follow_up", "high_risk"},
        assignee=_senior(merchant),
        details={"source": SOURCE, "follow_up_by": keys.iso(due_by), "queue": "standard"},
    )
    case.high_risk = True
    case.vip = customer is not None and customer.tier == "vip"
    if case.vip:
        case.tags = {*case.tags, "vip"}
        case.details = {**case.details, "queue": "priority"}
    schedule_case(case, merchant, now)
    uow.insert("follow_up", case)
    change = CaseChange(uow, case, now, f"follow_up:{order.order_id}")
    change.note(
        "case_opened",
        "system",
        f"Proactive check of high-risk order #{number} before delivery "
        f"(by {due_by:%Y-%m-%d %H:%M} UTC)",
    )
    change.count("proactive_follow_ups")
    if customer is not None:
        entry = recent_entry(case, [], now)
        customer.recent_cases = remember_case(customer.recent_cases or [], entry, now)
    return case
