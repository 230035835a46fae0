"""Normalized, partner-neutral events: what connectors produce and handlers consume.

Connectors translate a verified partner payload into these frozen dataclasses; no partner
dict or field name passes this line. Times are timezone-aware UTC, money is `Decimal` with
a currency code, tracking statuses are the normalized `TrackingStatus` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Money",
    "TrackingStatus",
    "Disposition",
    "CustomerInfo",
    "LineItem",
    "Scan",
    "Event",
    "OrderPlaced",
    "OrderUpdated",
    "OrderCancelled",
    "ShipmentCreated",
    "ShipmentUpdated",
    "ReturnRequested",
    "ReturnLine",
    "ReturnStatusChanged",
    "ReturnReceived",
    "ReceivedLine",
    "RefundIssued",
    "CustomerMessage",
    "AppUninstalled",
    "CustomerDataRequested",
    "CustomerRedact",
    "ShopRedact",
    "OrderChanged",
    "Ignored",
]


@dataclass(frozen=True)
class Money:
    """An amount in a currency (ISO 4217 code). Never a float."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class TrackingStatus(StrEnum):
    """The one normalized shipment status set every carrier maps into."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    UNKNOWN = "unknown"


class Disposition(StrEnum):
    """What the warehouse decided about a returned line after inspection."""

    RESELLABLE = "resellable"
    NEEDS_REPAIR = "needs_repair"
    SCRAP = "scrap"


@dataclass(frozen=True)
class CustomerInfo:
    """The buyer as the marketplace knows them. Personal data: stored only on the customer item."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None  # BCP 47, e.g. "en", "zh-CN"
    country: str | None = None  # ISO 3166-1 alpha-2 of the shipping (or billing) address
    province: str | None = None  # ISO 3166-2 subdivision code when known, e.g. "CA"
    city: str | None = None
    accepts_sms: bool = True


@dataclass(frozen=True)
class LineItem:
    """One order line."""

    line_id: str
    sku: str | None
    title: str
    quantity: int
    unit_price: Money
    product_id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scan:
    """One carrier scan (checkpoint) of a shipment's history."""

    occurred_at: datetime
    status: TrackingStatus
    carrier_status: str
    message: str = ""
    location: str = ""


@dataclass(frozen=True)
class Event:
    """Base of every normalized event. `occurred_at` is the partner's own event time (UTC)."""

    occurred_at: datetime


@dataclass(frozen=True)
class OrderPlaced(Event):
    """A new order."""

    order_id: str
    order_number: str
    customer: CustomerInfo | None
    total: Money
    line_items: tuple[LineItem, ...]
    financial_status: str = ""
    fulfillment_status: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderUpdated(OrderPlaced):
    """An order changed (same shape as `OrderPlaced`; applied as an upsert, newest wins)."""

    refunded_total: Money | None = None


@dataclass(frozen=True)
class OrderCancelled(Event):
    """The merchant or customer cancelled an order."""

    order_id: str
    reason: str = ""


@dataclass(frozen=True)
class ShipmentCreated(Event):
    """A fulfillment with a tracking number left (or will leave) the merchant."""

    order_id: str
    fulfillment_id: str
    carrier: str  # the carrier's display name as given, e.g. "USPS"
    tracking_number: str
    tracking_url: str = ""
    line_ids: tuple[str, ...] = ()
    status: TrackingStatus = TrackingStatus.LABEL_CREATED
    is_return: bool = False


@dataclass(frozen=True)
class ShipmentUpdated(Event):
    """A carrier's tracking update: the newest normalized status plus the scans it reported."""

    carrier: str
    tracking_number: str
    status: TrackingStatus
    carrier_status: str
    message: str = ""
    location: str = ""
    estimated_delivery: datetime | None = None
    courier_phone: str | None = None
    scans: tuple[Scan, ...] = ()
    source_event_id: str = ""


@dataclass(frozen=True)
class ReturnLine:
    """A line the customer wants to return."""

    line_id: str
    quantity: int
    sku: str | None = None
    reason: str = ""  # normalized reason code, e.g. "wrong_size", "damaged", "no_reason"
    note: str = ""


@dataclass(frozen=True)
class ReturnRequested(Event):
    """A customer asked to return lines of an order (marketplace or our portal)."""

    return_id: str
    order_id: str
    lines: tuple[ReturnLine, ...]
    customer_note: str = ""


@dataclass(frozen=True)
class ReturnStatusChanged(Event):
    """The marketplace approved, declined, closed or cancelled a return."""

    return_id: str
    order_id: str
    status: str  # "approved" | "declined" | "closed" | "cancelled"
    reason: str = ""


@dataclass(frozen=True)
class ReceivedLine:
    """A returned line as the warehouse received and inspected it."""

    sku: str | None
    quantity: int
    disposition: Disposition | None = None  # None until inspected
    line_id: str | None = None
    note: str = ""
    photo_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnReceived(Event):
    """The warehouse received (and possibly inspected) a returned parcel."""

    warehouse_return_id: str
    lines: tuple[ReceivedLine, ...]
    return_code: str | None = None  # our return code / RMA when the WMS echoes it
    order_id: str | None = None
    tracking_number: str | None = None
    inspected: bool = False


@dataclass(frozen=True)
class RefundIssued(Event):
    """Money went back to the customer (seen from the marketplace)."""

    order_id: str
    refund_id: str
    amount: Money
    line_ids: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class CustomerMessage(Event):
    """A customer wrote to us (SMS reply, status page, e-mail)."""

    channel: str  # "sms" | "web" | "email"
    sender: str  # phone number (E.164) or email; personal data
    body: str
    provider_message_id: str = ""


@dataclass(frozen=True)
class AppUninstalled(Event):
    """The merchant removed the app: stop all work for them."""


@dataclass(frozen=True)
class CustomerDataRequested(Event):
    """Privacy: the merchant must receive what we store about a customer."""

    customer_id: str | None
    email: str | None = None
    phone: str | None = None
    order_ids: tuple[str, ...] = ()
    request_id: str = ""


@dataclass(frozen=True)
class CustomerRedact(Event):
    """Privacy: erase a customer's personal data."""

    customer_id: str | None
    email: str | None = None
    phone: str | None = None
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopRedact(Event):
    """Privacy: erase everything about a shop (48 h after uninstall)."""


@dataclass(frozen=True)
class OrderChanged(Event):
    """An order changed; the partner said which order, not how (BigCommerce's light
    payloads): the inbound pipeline fetches the order before any handler acts."""

    order_id: str
    change: str  # "created" | "updated" | "archived" | "status_changed" | "refunded" | ...
    previous_status: str = ""
    status: str = ""
    ref_id: str = ""  # the refund or message the change is about, when there is one


@dataclass(frozen=True)
class Ignored(Event):
    """A verified delivery we deliberately do nothing with (unknown topic, test ping)."""

    topic: str
    reason: str = field(default="topic not handled")
