"""The case view's data: the case with its timeline, decision trace, messages and customer.

Three round trips: the case partition (one Query: the case and its whole timeline), the
customer and order (one BatchGetItem), and the case's messages (one Query page of the
merchant's newest outbox items on gsi1, filtered to this case). Personal data shown is the
minimum an agent needs: first name, masked contact, language, tier, opt-out state.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import api
from chalicelib.console.case_sms import sendable_kinds
from chalicelib.console.queue import row_of
from chalicelib.errors import NotFound
from chalicelib.policy import case_state
from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    OrderItem,
    OutboxItem,
    TimelineItem,
)
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["load_case", "OUTBOX_WINDOW"]

OUTBOX_WINDOW = 200  # newest outbox items examined for this case's messages


def _mask(value: str | None) -> str:
    if not value:
        return ""
    if "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"***{value[-4:]}"


def _customer_panel(customer: CustomerItem | None, case_id: str) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {
        "id": customer.customer_id,
        "name": customer.first_name or "",
        "email": _mask(customer.email),
        "phone": _mask(customer.phone),
        "locale": customer.locale or "",
        "tier": customer.tier,
        "sms_opt_out": bool(customer.sms_opt_out),
        "orders": len(customer.order_ids or ()),
        "spend": customer.spend,
        "returns": int(customer.returns or 0),
        "complaints": int(customer.complaints or 0),
        "earlier_cases": [c for c in (customer.recent_cases or []) if c.get("case_id") != case_id],
    }


def _messages(store: Store, merchant_id: str, case_id: str) -> list[dict[str, Any]]:
    response = store.connection.client.query(
        TableName=store.table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        FilterExpression="case_id = :c",
        ExpressionAttributeValues={":p": {"S": keys.outbox_of(merchant_id)}, ":c": {"S": case_id}},
        ScanIndexForward=False,
        Limit=OUTBOX_WINDOW,
    )
    items = [OutboxItem.from_raw_data(raw) for raw in response.get("Items", [])]
    return [api.notification_json(item) for item in items]


def _case(store: Store, merchant_id: str, case_id: str) -> tuple[CaseItem, list[TimelineItem]]:
    if not case_id or len(case_id) > 64 or "#" in case_id:
        raise NotFound("no such case")
    items = store.collection(keys.case(merchant_id, case_id))
    cases = [item for item in items if isinstance(item, CaseItem)]
    if not cases:
        raise NotFound("no such case")
    return cases[0], [item for item in items if isinstance(item, TimelineItem)]


def load_case(store: Store, merchant: MerchantItem, case_id: str, now: datetime) -> dict[str, Any]:
    """Everything the case page shows; raises NotFound for another merchant's or no case."""
    mid = merchant.merchant_id
    case, entries = _case(store, mid, case_id)
    refs = {}
    if case.customer_id:
        refs["customer"] = ItemRef(CustomerItem, keys.customer(mid, case.customer_id))
    if case.order_id:
        refs["order"] = ItemRef(OrderItem, keys.order(mid, case.order_id))
    found = store.get_many(refs) if refs else {}
    order = found.get("order")
    body = api.case_json(case)
    targets = sorted(t.value for t in case_state.allowed_targets(case.case_type, case.status))
    return {
        "case": body,
        "row": row_of(case, now) if case_state.is_open(case.status) else None,
        "decision": (case.details or {}).get("decision") or {},
        "customer": _customer_panel(found.get("customer"), case_id),
        "order": (
            {
                "number": order.order_number,
                "total": order.total,
                "currency": order.currency,
                "lines": order.line_items or [],
                "placed_at": keys.iso(order.placed_at),
            }
            if order is not None
            else None
        ),
        "messages": _messages(store, mid, case_id),
        "targets": targets,
        "sms_kinds": sendable_kinds(case),
        "timeline": [
            api.timeline_json(e) for e in sorted(entries, key=lambda e: e.sk, reverse=True)
        ],
    }
