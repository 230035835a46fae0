"""Refund use case: record each marketplace refund once, recognising the ones we issued.

Shopify sends `refunds/create` (and refunds inside `orders/updated`); WooCommerce lists every
refund of an order on each `order.updated`. So the receipt is keyed by the refund id (not the
delivery) and kept for `RECEIPT_TTL`: a refund seen again in a later delivery is a duplicate.
A refund is ours when the marketplace sender recorded its id (`RefundPointerItem`) or its
note carries our marker (the echo can arrive before that record); the order's timeline then
says the marketplace confirmed it, otherwise that a refund was issued outside Aftercare.
The return case waiting for the refund (`refund_pending`: ours, or the order's return case
for another refund) is settled in the same transaction (`handlers/refund_completion.py`):
refunded, `refunded_at`, SMS `refund_issued`.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.connectors.shopify_api import marker_outbox_id
from chalicelib.events import RefundIssued
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.handlers.refund_completion import settle
from chalicelib.handlers.warehouse import return_case_of_order
from chalicelib.store import keys
from chalicelib.store.models import (
    CaseItem,
    CustomerItem,
    OrderItem,
    OutboxItem,
    RefundPointerItem,
)
from chalicelib.store.records import new_timeline_entry
from chalicelib.store.repository import ItemRef, Store

__all__ = ["on_refund_issued", "RECEIPT_TTL"]

RECEIPT_TTL = timedelta(days=400)


def on_refund_issued(event: RefundIssued, delivery: Delivery, store: Store) -> Outcome:
    """Record the refund on its order's timeline and counters, once per refund id."""
    mid = delivery.merchant_id
    per_refund = Delivery(
        delivery.merchant,
        f"{delivery.source}-refund",
        event.refund_id,
        delivery.received_at,
        RECEIPT_TTL,
    )
    found = store.get_many(
        {
            "receipt": receipt_ref(per_refund),
            "pointer": ItemRef(RefundPointerItem, keys.refund_pointer(mid, event.refund_id)),
            "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    pointer: RefundPointerItem | None = found["pointer"]
    marker = marker_outbox_id(event.note)
    ours = pointer is not None or marker is not None
    uow = store.unit_of_work()
    add_receipt(uow, per_refund)
    case = _refund_case(store, mid, pointer, marker, found["order"])
    if case is not None:  # the case waiting for this refund is settled (refund_completion)
        change = CaseChange(uow, case, delivery.received_at, per_refund.cause)
        amount = event.amount
        if settle(
            change,
            delivery.merchant,
            succeeded=True,
            source=delivery.source,
            amount=str(amount.amount),
            currency=amount.currency,
            refund_id=event.refund_id,
        ):
            uow.save("case", case)
    order: OrderItem | None = found["order"]
    if order is not None:
        summary = (
            f"Refund of {event.amount} confirmed by {delivery.source}"
            if ours
            else f"Refund of {event.amount} issued in {delivery.source} (outside Aftercare)"
        )
        entry = new_timeline_entry(
            mid,
            order.pk,
            cause=per_refund.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind="refund_confirmed" if ours else "refund_issued",
            source=delivery.source,
            summary=summary,
            customer_id=order.customer_id,
            case_id=pointer.case_id if pointer else (case.case_id if case else None),
            order_id=order.order_id,
            data={"refund_id": event.refund_id, "amount": str(event.amount.amount), "own": ours},
        )
        uow.save("timeline", entry)
    uow.count(mid, event.occurred_at, "refunds")
    uow.count(mid, event.occurred_at, f"refunded:{event.amount.currency}", event.amount.amount)
    if not ours:
        uow.count(mid, event.occurred_at, "refunds_outside_aftercare")
    uow.commit()
    detail = "our refund, confirmed by the marketplace" if ours else "refund recorded"
    return Outcome("applied", detail, extra={"own": str(ours).lower()})


def _refund_case(
    store: Store,
    merchant_id: str,
    pointer: RefundPointerItem | None,
    marker: str | None,
    order: OrderItem | None,
) -> CaseItem | None:
    """The case a refund settles: ours through its pointer, or (when the webhook beat the
    sender's record) the outbox item its marker names; another refund of the order settles
    the order's return case (found through its customer's recent cases) if it waits for one."""
    case_id = pointer.case_id if pointer is not None else None
    if case_id is None and marker is not None:
        item = store.get(OutboxItem, keys.outbox(merchant_id, marker))
        case_id = item.case_id if item is not None and item.kind == "refund" else None
    if case_id is None and marker is None and order is not None and order.customer_id:
        customer = store.get(CustomerItem, keys.customer(merchant_id, order.customer_id))
        case_id = return_case_of_order(customer, order.order_id)
    return store.get(CaseItem, keys.case(merchant_id, case_id)) if case_id else None
