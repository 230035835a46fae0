"""Use cases: each takes a normalized event, applies policy and commits one transaction.

`HANDLERS` at the bottom is the core's routing table from event type to use case;
`dispatch` runs one, re-reading and retrying when a concurrent writer got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.errors import Duplicate, StaleVersion
from chalicelib.events import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedact,
    Event,
    Ignored,
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    RefundIssued,
    ReturnReceived,
    ReturnRequested,
    ReturnStatusChanged,
    ShipmentCreated,
    ShipmentUpdated,
    ShopRedact,
)
from chalicelib.handlers.common import Delivery, Outcome
from chalicelib.handlers.messages import SmsReply, on_sms_reply
from chalicelib.handlers.orders import on_order_cancelled, on_order_placed
from chalicelib.handlers.privacy import (
    on_app_uninstalled,
    on_customer_data_request,
    on_customer_redact,
    on_shop_redact,
)
from chalicelib.handlers.refunds import on_refund_issued
from chalicelib.handlers.returns import on_return_requested, on_return_status_changed
from chalicelib.handlers.shipments import on_shipment_created, on_shipment_updated
from chalicelib.handlers.warehouse import on_return_received
from chalicelib.log import get_logger

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = ["HANDLERS", "dispatch", "Delivery", "Outcome"]

Handler = Callable[[Any, Delivery, "Store"], Outcome]
MAX_ATTEMPTS = 4
log = get_logger(__name__)


def dispatch(event: Event, delivery: Delivery, store: Store) -> Outcome:
    """Run the handler of `event`'s type.

    A `StaleVersion` (another writer changed what we read) is retried from a fresh read; a
    `Duplicate` at commit (a concurrent twin won the race) is the same as a duplicate read.
    """
    handler = HANDLERS.get(type(event))
    if handler is None:
        reason = event.reason if isinstance(event, Ignored) else "no handler for this event"
        return Outcome("ignored", reason)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return handler(event, delivery, store)
        except Duplicate:
            return Outcome("duplicate")
        except StaleVersion:
            if attempt == MAX_ATTEMPTS:
                raise
            log.info("retrying after a concurrent change", extra={"attempt": attempt})
    raise AssertionError("unreachable")


HANDLERS: dict[type[Event], Handler] = {
    OrderPlaced: on_order_placed,
    OrderUpdated: on_order_placed,
    OrderCancelled: on_order_cancelled,
    ShipmentCreated: on_shipment_created,
    ShipmentUpdated: on_shipment_updated,
    SmsReply: on_sms_reply,
    ReturnRequested: on_return_requested,
    ReturnStatusChanged: on_return_status_changed,
    RefundIssued: on_refund_issued,
    ReturnReceived: on_return_received,
    AppUninstalled: on_app_uninstalled,
    CustomerDataRequested: on_customer_data_request,
    CustomerRedact: on_customer_redact,
    ShopRedact: on_shop_redact,
}
