"""Shopify order-shaped payloads: orders, customers, line items, fulfillments and refunds.

Pure readers over a decoded webhook object; each raises `MalformedPayload` when a field it
needs is missing or mistyped. Ids are REST ids as strings ("450789469"); gids reduce to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import DecimalException
from typing import Any

from chalicelib import events as ev
from chalicelib.connectors.base import (
    get_count,
    get_list,
    get_opt_str,
    get_str,
    parse_money,
    parse_time,
)
from chalicelib.errors import MalformedPayload
from chalicelib.events import Event, Money, TrackingStatus

__all__ = [
    "SHIPMENT_STATUS",
    "opt_obj",
    "objects",
    "plain_id",
    "object_id",
    "first_time",
    "order_event",
    "order_cancelled",
    "order_shipments",
    "fulfillment_shipments",
    "refund_amount",
    "refund_issued",
]

Data = Mapping[str, Any]

# Fulfillment `shipment_status` (REST) / FulfillmentEventStatus (GraphQL) -> our status.
SHIPMENT_STATUS: dict[str, TrackingStatus] = {
    "label_printed": TrackingStatus.LABEL_CREATED,
    "label_purchased": TrackingStatus.LABEL_CREATED,
    "confirmed": TrackingStatus.LABEL_CREATED,
    "carrier_picked_up": TrackingStatus.IN_TRANSIT,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "delayed": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "attempted_delivery": TrackingStatus.DELIVERY_FAILED,
    "ready_for_pickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "picked_up": TrackingStatus.DELIVERED,
    "delivered": TrackingStatus.DELIVERED,
    "failure": TrackingStatus.EXCEPTION,
}

# Fulfillment states that mean no parcel is (or will be) on its way.
_DEAD_FULFILLMENT = frozenset({"cancelled", "error", "failure"})


def opt_obj(data: Data, key: str) -> dict[str, Any]:
    """`data[key]` as an object; {} when absent or null."""
    value = {} if data.get(key) is None else data[key]
    if not isinstance(value, dict):
        raise MalformedPayload(f"'{key}' must be an object")
    return value


def objects(data: Data, key: str) -> list[dict[str, Any]]:
    """`data[key]` as a list of objects (empty when absent or null)."""
    items = get_list(data, key)
    if not all(isinstance(item, dict) for item in items):
        raise MalformedPayload(f"'{key}' must be a list of objects")
    return items


def plain_id(value: Any, field_name: str) -> str:
    """A Shopify id in its REST form: 450789469, "450789469" and a gid all give "450789469"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"'{field_name}' must be an id")
    text = value.strip()
    if text.startswith("gid://"):
        text = text.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if not text or text.startswith("gid:"):
            raise MalformedPayload(f"'{field_name}' is not a valid gid: {value!r}")
    return text


def object_id(data: Data, field_name: str = "id") -> str:
    """The object's REST id, else the id inside its `admin_graphql_api_id`."""
    value = data.get("id")
    if value is None:
        value = data.get("admin_graphql_api_id")
    return plain_id(value, field_name)


def first_time(data: Data, keys: Iterable[str], fallback: datetime) -> datetime:
    """The first of `keys` that holds a time, as UTC; `fallback` when none is set."""
    for key in keys:
        if data.get(key) not in (None, ""):
            return parse_time(data[key], key)
    return fallback


def _sum(amounts: Iterable[Money], what: str) -> Money | None:
    total: Money | None = None
    try:
        for money in amounts:
            if total is not None and money.currency != total.currency:
                raise MalformedPayload(f"{what} mixes currencies")
            total = money if total is None else Money(total.amount + money.amount, money.currency)
    except DecimalException as exc:
        raise MalformedPayload(f"{what} is out of range") from exc
    return total


def _first(sources: Iterable[Data], key: str) -> str | None:
    """The first non-empty `key` among `sources`."""
    return next(filter(None, (get_opt_str(source, key) for source in sources)), None)


def _customer(order: Data) -> ev.CustomerInfo | None:
    customer = opt_obj(order, "customer")
    shipping = opt_obj(order, "shipping_address")
    billing = opt_obj(order, "billing_address")
    address = shipping if get_opt_str(shipping, "country_code") else billing
    email = _first((customer, order), "email") or get_opt_str(order, "contact_email")
    if customer.get("id") is not None or customer.get("admin_graphql_api_id") is not None:
        customer_id = object_id(customer, "customer.id")
    elif email:
        customer_id = "guest:" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    else:
        return None
    sms_consent = opt_obj(customer, "sms_marketing_consent")
    return ev.CustomerInfo(
        customer_id=customer_id,
        email=email,
        phone=_first((customer, order, shipping, billing), "phone"),
        first_name=_first((customer, shipping, billing), "first_name"),
        last_name=_first((customer, shipping, billing), "last_name"),
        locale=get_opt_str(order, "customer_locale"),
        country=(get_opt_str(address, "country_code") or "").upper() or None,
        province=get_opt_str(address, "province_code"),
        city=get_opt_str(address, "city"),
        # Transactional SMS is allowed unless the customer visibly opted out of SMS.
        accepts_sms=get_opt_str(sms_consent, "state") != "unsubscribed",
    )


def _line_item(item: Data, currency: str) -> ev.LineItem:
    product_id = item.get("product_id")
    return ev.LineItem(
        line_id=object_id(item, "line_items[].id"),
        sku=get_opt_str(item, "sku"),
        title=get_opt_str(item, "title") or get_opt_str(item, "name") or "",
        quantity=get_count(item, "quantity"),
        unit_price=parse_money(item.get("price"), currency, "line_items[].price"),
        product_id=None if product_id is None else plain_id(product_id, "product_id"),
    )


def order_event(order: Data, cls: type[ev.OrderPlaced], fallback: datetime) -> ev.OrderPlaced:
    """An `OrderPlaced` (or `OrderUpdated`, with its refunded total) from an order object."""
    currency = get_str(order, "currency").upper()  # parse_money checks it is a 3-letter code
    order_id = object_id(order, "id")
    fields: dict[str, Any] = dict(
        occurred_at=first_time(order, ("updated_at", "created_at", "processed_at"), fallback),
        order_id=order_id,
        order_number=get_opt_str(order, "name") or get_opt_str(order, "order_number") or order_id,
        customer=_customer(order),
        total=parse_money(order.get("total_price"), currency, "total_price"),
        line_items=tuple(_line_item(li, currency) for li in objects(order, "line_items")),
        financial_status=get_opt_str(order, "financial_status") or "",
        fulfillment_status=get_opt_str(order, "fulfillment_status") or "",
        tags=tuple(t.strip() for t in (get_opt_str(order, "tags") or "").split(",") if t.strip()),
    )
    if issubclass(cls, ev.OrderUpdated):
        refunds = [refund_amount(r, currency) for r in objects(order, "refunds")]
        fields["refunded_total"] = _sum((m for m in refunds if m is not None), "refunds")
    return cls(**fields)


def order_cancelled(order: Data, fallback: datetime) -> ev.OrderCancelled:
    """An `OrderCancelled` from a cancelled order object."""
    return ev.OrderCancelled(
        occurred_at=first_time(order, ("cancelled_at", "updated_at", "created_at"), fallback),
        order_id=object_id(order, "id"),
        reason=get_opt_str(order, "cancel_reason") or "",
    )


def fulfillment_shipments(
    fulfillment: Data, fallback: datetime, order_id: str | None = None
) -> list[Event]:
    """One `ShipmentCreated` per tracking number of a fulfillment (`Ignored` when none ships)."""
    occurred_at = first_time(fulfillment, ("updated_at", "created_at"), fallback)
    status = (get_opt_str(fulfillment, "status") or "").lower()
    if status in _DEAD_FULFILLMENT:
        return [ev.Ignored(occurred_at, "fulfillment", reason=f"fulfillment status {status}")]
    numbers = get_list(fulfillment, "tracking_numbers") or [fulfillment.get("tracking_number")]
    urls = get_list(fulfillment, "tracking_urls") or [fulfillment.get("tracking_url")]
    if not all(isinstance(v, str) or v is None for v in [*numbers, *urls]):
        raise MalformedPayload("tracking numbers and urls must be strings")
    raw = (get_opt_str(fulfillment, "shipment_status") or "").lower()
    shipment_status = SHIPMENT_STATUS.get(raw, TrackingStatus.UNKNOWN) if raw else None
    common = dict(
        occurred_at=occurred_at,
        order_id=order_id or plain_id(fulfillment.get("order_id"), "order_id"),
        fulfillment_id=object_id(fulfillment, "fulfillment.id"),
        carrier=get_opt_str(fulfillment, "tracking_company") or "",
        line_ids=tuple(
            object_id(li, "line_items[].id") for li in objects(fulfillment, "line_items")
        ),
        status=shipment_status or TrackingStatus.LABEL_CREATED,
    )
    events: list[Event] = []
    for index, number in enumerate(numbers):
        if number and number.strip():
            url = urls[index] if index < len(urls) else None
            events.append(
                ev.ShipmentCreated(
                    tracking_number=number.strip(), tracking_url=(url or "").strip(), **common
                )
            )
    return events or [ev.Ignored(occurred_at, "fulfillment", reason="no tracking number")]


def order_shipments(order: Data, fallback: datetime) -> list[Event]:
    """The shipments of every fulfillment of an order (orders/fulfilled)."""
    order_id = object_id(order, "id")
    occurred_at = first_time(order, ("updated_at", "created_at"), fallback)
    shipments = (
        fulfillment_shipments(f, occurred_at, order_id) for f in objects(order, "fulfillments")
    )
    events: list[Event] = [e for s in shipments for e in s if isinstance(e, ev.ShipmentCreated)]
    return events or [ev.Ignored(occurred_at, "orders/fulfilled", reason="no tracking number")]


def _set_currency(data: Data, key: str) -> str | None:
    """The shop-money currency of a `*_set` money bag, when present."""
    return get_opt_str(opt_obj(opt_obj(data, key), "shop_money"), "currency_code")


def refund_amount(refund: Data, default_currency: str | None) -> Money | None:
    """What a refund gave back: successful refund transactions, else its line subtotals."""
    lines = objects(refund, "refund_line_items")
    currency = default_currency or next(
        (c for c in (_set_currency(li, "subtotal_set") for li in lines) if c), None
    )
    currency = currency or _set_currency(refund, "total_duties_set")
    paid = [
        parse_money(
            t.get("amount"), get_opt_str(t, "currency") or currency, "transactions[].amount"
        )
        for t in objects(refund, "transactions")
        if get_opt_str(t, "kind") == "refund" and get_opt_str(t, "status") == "success"
    ]
    if paid:
        return _sum(paid, "refund transactions")
    subtotals = [
        parse_money(li["subtotal"], _set_currency(li, "subtotal_set") or currency, "subtotal")
        for li in lines
        if li.get("subtotal") is not None
    ]
    return _sum(subtotals, "refund line items")


def refund_issued(refund: Data, fallback: datetime) -> Event:
    """A `RefundIssued` from a refund object (`Ignored` when it moved no money)."""
    occurred_at = first_time(refund, ("processed_at", "created_at"), fallback)
    amount = refund_amount(refund, None)
    if amount is None:
        return ev.Ignored(occurred_at, "refunds/create", reason="refund moved no money")
    lines = objects(refund, "refund_line_items")
    return ev.RefundIssued(
        occurred_at=occurred_at,
        order_id=plain_id(refund.get("order_id"), "order_id"),
        refund_id=object_id(refund, "id"),
        amount=amount,
        line_ids=tuple(plain_id(li.get("line_item_id"), "line_item_id") for li in lines),
        note=get_opt_str(refund, "note") or "",
    )
