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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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
    "DAMAGED",
    "LOST",
    "exception_cause",
    "STALE_WATCHED",
    "StaleSettings",
    "stale_settings",
    "stale_check_at",
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


# --- Damaged and lost parcels (issue 4) -----------------------------------------------------

DAMAGED, LOST = "damaged", "lost"
# Shippo's documented `substatus.code`s (see `_SHIPPO_SUBSTATUS`) say it outright; other
# carriers say it in words (EasyPost `message`, AfterShip subtag messages "Package damaged").
_CAUSE_CODES: Mapping[str, str] = {
    "package_damaged": DAMAGED,
    "package_lost": LOST,
    "package_disposed": LOST,
}
_DAMAGED_WORDS = re.compile(r"\bdamage(d)?\b|\bbroken\b|\bcrushed\b")
_LOST_WORDS = re.compile(r"\blost\b|\bmissing\b|\bcannot be located\b|\bdisposed\b")


def exception_cause(status: TrackingStatus, carrier_status: str, message: str) -> str | None:
    """`DAMAGED` or `LOST` when a carrier exception says so (substatus code first, then the
    carrier's words; damage wins over loss), else None. Only exception-like statuses count:
    a delivered parcel "left at the door, not damaged" is no damage report."""
    if status not in (S.EXCEPTION, S.DELIVERY_FAILED, S.RETURNED_TO_SENDER):
        return None
    code = _key(carrier_status).rsplit("/", 1)[-1]
    if code in _CAUSE_CODES:
        return _CAUSE_CODES[code]
    text = f"{_key(message)} {_key(carrier_status).replace('_', ' ')}"
    if _DAMAGED_WORDS.search(text):
        return DAMAGED
    if _LOST_WORDS.search(text):
        return LOST
    return None


# --- Stale tracking (issue 4) ---------------------------------------------------------------

# A parcel moving towards the customer: silence here means something is wrong. Pickup points,
# exceptions (already a case) and terminal statuses expect no further scan.
STALE_WATCHED: frozenset[TrackingStatus] = frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY})
DEFAULT_STALE_HOURS = 24


@dataclass(frozen=True)
class StaleSettings:
    """The merchant's `tracking` settings the stale rule reads (settings API section)."""

    hours: int = DEFAULT_STALE_HOURS
    notify_customer: bool = True

    @property
    def after(self) -> timedelta:
        return timedelta(hours=self.hours)


def stale_settings(settings: Mapping[str, Any] | None) -> StaleSettings:
    """`tracking.stale_after_hours` (1..720, default 24) and `tracking.notify_customer_on_stale`
    (default true) from a merchant's settings; missing or invalid values fall back."""
    raw = (settings or {}).get("tracking")
    tracking = raw if isinstance(raw, Mapping) else {}
    hours = tracking.get("stale_after_hours", DEFAULT_STALE_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720:
        hours = DEFAULT_STALE_HOURS
    notify = tracking.get("notify_customer_on_stale", True)
    return StaleSettings(hours, notify if isinstance(notify, bool) else True)


def stale_check_at(
    status: TrackingStatus | None,
    last_scan_at: datetime | None,
    is_return: bool,
    rules: StaleSettings,
) -> datetime | None:
    """When a shipment becomes stale if no scan comes (`last_scan_at` + threshold), or None
    when it is not watched: no scan yet, not moving towards the customer, or a return parcel
    (the return's stuck-flow check watches those, `policy/stuck_flows.py`)."""
    if is_return or last_scan_at is None or status not in STALE_WATCHED:
        return None
    return last_scan_at + rules.after
