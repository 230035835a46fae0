"""Order use cases: record placed, updated and cancelled orders and their customers.

Upsert semantics, newest partner time wins, so `orders/updated` arriving before
`orders/create` (or a late retry of an old version) does no harm. A customer's order count
and spend count each order once.
"""

from __future__ import annotations

from decimal import Decimal

from chalicelib.events import CustomerInfo, OrderCancelled, OrderPlaced
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.handlers.follow_up import follow_up_ref, needs_follow_up, open_follow_up
from chalicelib.handlers.order_links import adopt_shipments, link_ref
from chalicelib.handlers.tier_review import on_tier_change
from chalicelib.handlers.vip_routing import order_is_high_risk, record_order, tier_rules
from chalicelib.notify.phone import normalize_e164
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, OrderItem
from chalicelib.store.records import (
    new_customer,
    new_order,
    new_timeline_entry,
    order_number_pointer,
    phone_owner_update,
)
from chalicelib.store.repository import ItemRef, Store

__all__ = ["on_order_placed", "on_order_cancelled"]


def _line_items(event: OrderPlaced) -> list[dict[str, object]]:
    return [
        {
            "line_id": line.line_id,
            "sku": line.sku,
            "title": line.title,
            "quantity": line.quantity,
            "unit_price": str(line.unit_price.amount),
            "product_id": line.product_id,
            "tags": list(line.tags),
        }
        for line in event.line_items
    ]


def _apply_customer(customer: CustomerItem, info: CustomerInfo, delivery: Delivery) -> None:
    """Refresh personal data from the newest order; keep what the order does not say."""
    customer.email = info.email or customer.email
    if info.phone:
        customer.phone = normalize_e164(info.phone, info.country) or customer.phone
    customer.first_name = info.first_name or customer.first_name
    customer.last_name = info.last_name or customer.last_name
    customer.locale = info.locale or customer.locale or delivery.merchant.locale
    customer.country = info.country or customer.country
    customer.province = info.province or customer.province
    customer.city = info.city or customer.city
    customer.updated_at = delivery.received_at


def on_order_placed(event: OrderPlaced, delivery: Delivery, store: Store) -> Outcome:
    """Create or update the order and its customer (also handles `OrderUpdated`)."""
    mid = delivery.merchant_id
    refs = {
        "receipt": receipt_ref(delivery),
        "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
        "link": link_ref(mid, event.order_id),  # shipments that came first (order_links.py)
        "follow_up": follow_up_ref(mid, event.order_id),  # high-risk check-in (issue 7)
    }
    info = event.customer
    if info:
        refs["customer"] = ItemRef(CustomerItem, keys.customer(mid, info.customer_id))
    found = store.get_many(refs)
    if found["receipt"]:
        return Outcome("duplicate")

    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    order: OrderItem | None = found["order"]
    if order is not None and order.source_updated_at >= event.occurred_at:
        uow.commit()  # an older version of the order: remember we saw it, change nothing
        return Outcome("stale", "an equal or newer version of the order is stored")

    is_new = order is None
    if order is None:
        order = new_order(mid, event.order_id, placed_at=event.occurred_at)
    order.order_number = event.order_number
    order.customer_id = info.customer_id if info else order.customer_id
    order.total = str(event.total.amount)
    order.currency = event.total.currency
    order.line_items = _line_items(event)
    order.financial_status = event.financial_status
    order.fulfillment_status = event.fulfillment_status
    order.source_updated_at = event.occurred_at
    complaints = int(found["customer"].complaints or 0) if found.get("customer") else 0
    order.high_risk = order_is_high_risk(order, complaints, tier_rules(delivery.merchant))
    if is_new:
        adopt_shipments(uow, order, found["link"])
    uow.save("order", order)
    # the return portal finds the order by the number the customer knows (issue 11)
    pointer = order_number_pointer(mid, event.order_number, event.order_id, order.customer_id)
    uow.save("order_number", pointer)

    customer = None
    if info:
        customer = found["customer"] or new_customer(mid, info.customer_id, delivery.received_at)
        _apply_customer(customer, info, delivery)
        if event.order_id not in customer.order_ids:
            customer.order_ids = {*customer.order_ids, event.order_id}
            customer.spend = str(Decimal(customer.spend) + event.total.amount)
        record_order(  # trailing-12-month figures for VIP tiering (issue 7)
            customer, event.order_id, order.placed_at, event.total.amount, delivery.received_at
        )
        # open cases follow a tier change at once (issue 7, handlers/tier_review.py)
        on_tier_change(
            store, uow, delivery.merchant, customer, delivery.received_at, delivery.cause
        )
    if needs_follow_up(order, found["follow_up"]):  # once per high-risk order (issue 7)
        open_follow_up(uow, delivery.merchant, order, customer, delivery.received_at)
    if customer is not None and info:
        uow.save("customer", customer)
        if customer.phone:  # inbound SMS find the customer through the number
            uow.update("phone", *phone_owner_update(customer.phone, mid, info.customer_id))

    if is_new:
        uow.insert(
            "timeline",
            new_timeline_entry(
                mid,
                order.pk,
                cause=delivery.cause,
                at=event.occurred_at,
                now=delivery.received_at,
                kind="order_placed",
                source=delivery.source,
                summary=f"Order {event.order_number} placed ({event.total})",
                customer_id=order.customer_id,
                order_id=event.order_id,
            ),
        )
        uow.count(mid, event.occurred_at, "orders")
        uow.count(mid, event.occurred_at, f"revenue:{event.total.currency}", event.total.amount)
    uow.commit()
    return Outcome("applied", "order created" if is_new else "order updated")


def on_order_cancelled(event: OrderCancelled, delivery: Delivery, store: Store) -> Outcome:
    """Mark the order cancelled (kept, never deleted: returns and cases may refer to it)."""
    mid = delivery.merchant_id
    found = store.get_many(
        {
            "receipt": receipt_ref(delivery),
            "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    order: OrderItem | None = found["order"]
    if order is None or order.status == "cancelled":
        uow.commit()
        return Outcome("ignored", "order unknown or already cancelled")
    order.status = "cancelled"
    uow.save("order", order)
    uow.insert(
        "timeline",
        new_timeline_entry(
            mid,
            order.pk,
            cause=delivery.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind="order_cancelled",
            source=delivery.source,
            summary=f"Order {order.order_number} cancelled"
            + (f": {event.reason}" if event.reason else ""),
            customer_id=order.customer_id,
            order_id=order.order_id,
        ),
    )
    uow.commit()
    return Outcome("applied", "order cancelled")
