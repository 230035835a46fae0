"""Out-of-order webhooks: shipments that arrive before their order are linked when it comes.

Partners do not deliver in order: a `fulfillments/create` or a carrier's "delivered" can
reach us before the `orders/create` it belongs to (a retried or late delivery). Without
this the order never learns its tracking numbers or delivery time (so the return window
never starts) and the shipment never learns its customer (so it never messages them).

While the order is unknown, a shipment records itself on the order's link item
(`ORDERLINK#{mid}#{order_id}`), under the condition that the order still does not exist
(a concurrent `orders/create` makes the transaction retry and take the normal path). The
order's creation reads the link in its one batch read and takes the shipments over in its
one transaction. Pure helpers over a `UnitOfWork`: no reads here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.store import keys
from chalicelib.store.models import OrderItem, OrderLinkItem, ShipmentItem
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["LINK_TTL", "link_ref", "wait_for_order", "adopt_shipments"]

LINK_TTL = timedelta(days=120)  # an order that never comes: the link expires


def link_ref(merchant_id: str, order_id: str) -> ItemRef:
    return ItemRef(OrderLinkItem, keys.order_link(merchant_id, order_id))


def wait_for_order(
    uow: UnitOfWork,
    merchant_id: str,
    order_id: str,
    now: datetime,
    *,
    tracking_number: str | None = None,
    delivered_at: datetime | None = None,
) -> None:
    """Note on the link that a shipment (and/or its delivery) belongs to the unknown order."""
    pk = keys.order_link(merchant_id, order_id)
    actions = [
        OrderLinkItem.merchant_id.set(merchant_id),
        OrderLinkItem.gsi1pk.set(keys.merchant_items(merchant_id, pk)),
        OrderLinkItem.gsi1sk.set(pk),
        OrderLinkItem.expires.set(now + LINK_TTL),
    ]
    if tracking_number:
        actions.append(OrderLinkItem.tracking_numbers.add({tracking_number}))
    if delivered_at is not None:
        actions.append(OrderLinkItem.delivered_at.set(delivered_at))
    uow.update("order_link", OrderLinkItem(pk, keys.META), actions, check_version=False)
    uow.require(
        "order_absent",
        OrderItem,
        keys.order(merchant_id, order_id),
        keys.META,
        OrderItem.pk.does_not_exist(),
    )


def adopt_shipments(uow: UnitOfWork, order: OrderItem, link: OrderLinkItem | None) -> None:
    """A new `order` takes over the shipments that waited for it: their tracking numbers and
    delivery time go on the order, its customer and number on each shipment."""
    if link is None:
        return
    order.tracking_numbers = {*order.tracking_numbers, *(link.tracking_numbers or set())}
    if link.delivered_at is not None and order.delivered_at is None:
        order.delivered_at = link.delivered_at
    for tracking_number in sorted(link.tracking_numbers or ()):
        key = ShipmentItem(keys.shipment(order.merchant_id, tracking_number), keys.META)
        actions = [ShipmentItem.order_number.set(order.order_number), ShipmentItem.version.add(1)]
        if order.customer_id:
            actions.append(ShipmentItem.customer_id.set(order.customer_id))
        uow.update(
            f"shipment:{tracking_number}",
            key,
            actions,
            ShipmentItem.pk.exists(),
            check_version=False,
        )
