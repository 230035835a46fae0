"""Carrier status normalization and ordering: which normalized status a carrier value means,
whether an update may replace the current one, and which changes deserve a customer message.

Pure: imports the standard library and `events` only, reads no clock.

Mapping. One table per source maps that source's documented status values to
`TrackingStatus`; a second table per source maps (status, substatus) pairs where the
substatus says more than the status (Shippo's `substatus.code`, AfterShip's `subtag`).
Look-ups ignore case and surrounding blanks; anything not in a table is `UNKNOWN`, so
`normalize` never raises. Sources:

- EasyPost `Tracker.status`: https://docs.easypost.com/docs/trackers
- Shippo `tracking_status.status` and `substatus.code`: https://docs.goshippo.com/docs/tracking/tracking
- AfterShip `tag`: https://www.aftership.com/docs/tracking/enum/delivery-statuses and
  `subtag`: https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses
- generic: our own names, equal to the `TrackingStatus` values (see `connectors.generic_carrier`).

Judgement calls, each tested: a carrier's catch-all failure bucket (EasyPost `failure`,
Shippo `FAILURE`) is `EXCEPTION` unless a substatus says the delivery itself failed;
"returning to sender" and "returned to sender" are both `RETURNED_TO_SENDER` (Shippo's
`RETURNED` and EasyPost's `return_to_sender` already cover both); AfterShip `Expired` (no
news for 30 days) and `Pending`, EasyPost `error` are `UNKNOWN`: nothing to tell a customer.

Ordering ("a late or replayed older update never moves a shipment backwards"). Updates are
ranked, and `should_advance` is true exactly when the new update ranks above the current one:

1. `UNKNOWN` ranks below every known status, whatever the times: it never overrides news.
2. Any non-terminal known status: the newer event time wins; at equal times the status
   further along (`_PROGRESS`) wins, so two updates never tie unless they are the same.
3. `DELIVERED` ranks above every non-terminal status: delivered stays delivered, even when
   a "newer" in-transit scan arrives (carriers send stray scans after delivery).
4. `RETURNED_TO_SENDER` ranks above `DELIVERED` and is never left: a parcel refused or sent
   back after a delivery scan really went back, and a "delivered" after a return is the
   parcel reaching the merchant, which must not tell the customer "delivered".

Because the rank is a total order, folding any permutation of a shipment's updates through
`should_advance` ends in the same state as folding them in time order.

Messages. `MEANINGFUL` are the statuses worth a customer message and `message_kind` names
the notification. "Shipped" (`IN_TRANSIT`) is announced once per shipment: the outbox id
(case + normalized status + channel, DESIGN.md §2) makes a second one a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from chalicelib.events import TrackingStatus

__all__ = [
    "CARRIER_NAMES",
    "EASYPOST",
    "SHIPPO",
    "AFTERSHIP",
    "GENERIC",
    "STATUS_TABLES",
    "SUBSTATUS_TABLES",
    "TERMINAL",
    "MEANINGFUL",
    "carrier_name",
    "normalize",
    "should_advance",
    "message_kind",
]

S = TrackingStatus

EASYPOST = "easypost"
SHIPPO = "shippo"
AFTERSHIP = "aftership"
GENERIC = "generic"

_EASYPOST_STATUS: Mapping[str, TrackingStatus] = {
    "unknown": S.UNKNOWN,
    "pre_transit": S.LABEL_CREATED,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "available_for_pickup": S.AVAILABLE_FOR_PICKUP,
    "return_to_sender": S.RETURNED_TO_SENDER,
    "failure": S.EXCEPTION,
    "cancelled": S.EXCEPTION,
    "error": S.UNKNOWN,
}

_SHIPPO_STATUS: Mapping[str, TrackingStatus] = {
    "unknown": S.UNKNOWN,
    "pre_transit": S.LABEL_CREATED,
    "transit": S.IN_TRANSIT,
    "delivered": S.DELIVERED,
    "returned": S.RETURNED_TO_SENDER,
    "failure": S.EXCEPTION,
}

_SHIPPO_SUBSTATUS: Mapping[tuple[str, str], TrackingStatus] = {
    ("transit", "out_for_delivery"): S.OUT_FOR_DELIVERY,
    ("transit", "delivery_attempted"): S.DELIVERY_FAILED,
    ("transit", "notice_left"): S.DELIVERY_FAILED,
    ("transit", "location_inaccessible"): S.DELIVERY_FAILED,
    ("transit", "reschedule_delivery"): S.DELIVERY_FAILED,
    ("transit", "pickup_available"): S.AVAILABLE_FOR_PICKUP,
    ("transit", "package_damaged"): S.EXCEPTION,
    ("transit", "address_issue"): S.EXCEPTION,
    ("transit", "contact_carrier"): S.EXCEPTION,
    ("transit", "package_held"): S.EXCEPTION,
    ("failure", "package_undeliverable"): S.DELIVERY_FAILED,
    ("failure", "package_lost"): S.EXCEPTION,
    ("failure", "package_disposed"): S.EXCEPTION,
}

_AFTERSHIP_STATUS: Mapping[str, TrackingStatus] = {
    "pending": S.UNKNOWN,
    "inforeceived": S.LABEL_CREATED,
    "intransit": S.IN_TRANSIT,
    "outfordelivery": S.OUT_FOR_DELIVERY,
    "attemptfail": S.DELIVERY_FAILED,
    "delivered": S.DELIVERED,
    "availableforpickup": S.AVAILABLE_FOR_PICKUP,
    "exception": S.EXCEPTION,
    "expired": S.UNKNOWN,
}

_AFTERSHIP_SUBSTATUS: Mapping[tuple[str, str], TrackingStatus] = {
    ("exception", "exception_010"): S.RETURNED_TO_SENDER,  # returning to sender
    ("exception", "exception_011"): S.RETURNED_TO_SENDER,  # returned to sender
}

_GENERIC_STATUS: Mapping[str, TrackingStatus] = {status.value: status for status in S}

STATUS_TABLES: Mapping[str, Mapping[str, TrackingStatus]] = {
    EASYPOST: _EASYPOST_STATUS,
    SHIPPO: _SHIPPO_STATUS,
    AFTERSHIP: _AFTERSHIP_STATUS,
    GENERIC: _GENERIC_STATUS,
}

SUBSTATUS_TABLES: Mapping[str, Mapping[tuple[str, str], TrackingStatus]] = {
    SHIPPO: _SHIPPO_SUBSTATUS,
    AFTERSHIP: _AFTERSHIP_SUBSTATUS,
}

# Display names for the carrier codes Shippo (`carrier`) and AfterShip (`slug`) send.
CARRIER_NAMES: Mapping[str, str] = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl_express": "DHL Express",
    "dhl_ecommerce": "DHL eCommerce",
    "canada_post": "Canada Post",
    "royal_mail": "Royal Mail",
    "australia_post": "Australia Post",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
}

TERMINAL: frozenset[TrackingStatus] = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER})

_MESSAGE_KINDS: Mapping[TrackingStatus, str] = {
    S.IN_TRANSIT: "shipment_in_transit",
    S.OUT_FOR_DELIVERY: "shipment_out_for_delivery",
    S.AVAILABLE_FOR_PICKUP: "shipment_available_for_pickup",
    S.DELIVERED: "shipment_delivered",
    S.DELIVERY_FAILED: "shipment_delivery_failed",
    S.EXCEPTION: "shipment_exception",
    S.RETURNED_TO_SENDER: "shipment_returned_to_sender",
}

MEANINGFUL: frozenset[TrackingStatus] = frozenset(_MESSAGE_KINDS)

# Tie-break at equal event times, and the tier order: further along the lifecycle ranks higher.
_PROGRESS: Mapping[TrackingStatus, int] = {
    S.UNKNOWN: 0,
    S.LABEL_CREATED: 1,
    S.IN_TRANSIT: 2,
    S.OUT_FOR_DELIVERY: 3,
    S.DELIVERY_FAILED: 4,
    S.EXCEPTION: 5,
    S.AVAILABLE_FOR_PICKUP: 6,
    S.DELIVERED: 7,
    S.RETURNED_TO_SENDER: 8,
}

_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _key(value: str | None) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


def carrier_name(code: str | None) -> str:
    """A display name for a carrier code (`"usps"` -> `"USPS"`); unknown codes stay as given."""
    if not code:
        return ""
    return CARRIER_NAMES.get(_key(code), code.strip())


def normalize(carrier: str, status: str, substatus: str | None = None) -> TrackingStatus:
    """The normalized status for a source's status (and optional substatus); never raises.

    `carrier` names the source table: "easypost", "shippo", "aftership" or "generic".
    Unknown sources, statuses and substatuses give `UNKNOWN` (an unknown substatus falls
    back to the status alone).
    """
    source = _key(carrier)
    status_key = _key(status)
    refined = SUBSTATUS_TABLES.get(source, {}).get((status_key, _key(substatus)))
    if refined is not None:
        return refined
    return STATUS_TABLES.get(source, {}).get(status_key, S.UNKNOWN)


def _rank(status: TrackingStatus, at: datetime | None) -> tuple[int, datetime, int]:
    if status is S.UNKNOWN:
        tier = 0
    elif status is S.DELIVERED:
        tier = 2
    elif status is S.RETURNED_TO_SENDER:
        tier = 3
    else:
        tier = 1
    # Within the terminal tiers the time still orders repeats of the same status.
    return (tier, at if at is not None else _NO_TIME, _PROGRESS[status])


def should_advance(
    current: TrackingStatus | None,
    current_at: datetime | None,
    new: TrackingStatus,
    new_at: datetime,
) -> bool:
    """Whether an update (`new` at `new_at`) replaces the shipment's current status.

    `current` is None before the first update; `current_at` may be None when the current
    status has no carrier time (e.g. a label created by the marketplace). Times must be
    timezone-aware. The same status at the same time (a replay) does not advance.
    """
    if current is None:
        return True
    return _rank(new, new_at) > _rank(current, current_at)


def message_kind(new: TrackingStatus) -> str | None:
    """The customer notification kind for a status, or None when it deserves no message."""
    return _MESSAGE_KINDS.get(new)
