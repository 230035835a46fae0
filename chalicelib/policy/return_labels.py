"""Prepaid return labels and approval expiry as merchant settings say (pure, no I/O).

Settings (section "returns", stored apart from the rule engine's `return_rules`):
- `return_labels`: {`enabled`, `carrier` ("easypost"), `from_address` (the warehouse the
  parcel goes back to: name, street1, city, zip, country, optional street2, state, phone),
  optional `parcel` {weight in oz, length/width/height in inches}}.
- `approval_expiry_days`: days an approved return stays usable (default 28, 3 to 365); one
  reminder goes out `REMINDER_DAYS_BEFORE` days before it expires.

Also: which EasyPost rate to buy (the cheapest), and what EasyPost's `Shipment` needs from
us (`shipment_request`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import MalformedPayload

__all__ = [
    "LabelSettings",
    "CARRIERS",
    "DEFAULT_EXPIRY_DAYS",
    "REMINDER_DAYS_BEFORE",
    "expiry_days",
    "expiry_times",
    "parse_labels",
    "parse_expiry_days",
    "cheapest_rate",
    "shipment_request",
]

CARRIERS = ("easypost",)
DEFAULT_EXPIRY_DAYS = 28
REMINDER_DAYS_BEFORE = 3
MIN_EXPIRY_DAYS, MAX_EXPIRY_DAYS = 3, 365
ADDRESS_FIELDS = ("name", "company", "street1", "street2", "city", "state", "zip", "country")
ADDRESS_REQUIRED = ("street1", "city", "zip", "country")
DEFAULT_PARCEL = {"weight": 16.0}  # ounces


@dataclass(frozen=True)
class LabelSettings:
    """Whether approved returns get a prepaid label, bought from whom, shipped to where."""

    enabled: bool = False
    carrier: str = "easypost"
    from_address: Mapping[str, str] = field(default_factory=dict)
    parcel: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PARCEL))

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "carrier": self.carrier,
            "from_address": dict(self.from_address),
            "parcel": dict(self.parcel),
        }

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> LabelSettings:
        """The merchant's stored label settings; disabled when absent or unreadable."""
        try:
            return parse_labels(settings.get("return_labels") or {})
        except MalformedPayload:
            return cls()


def _err(name: str, message: str) -> MalformedPayload:
    return MalformedPayload(f"returns.labels.{name}: {message}")


def _address(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _err("from_address", "must be an object")
    unknown = sorted(str(k) for k in value if k not in (*ADDRESS_FIELDS, "phone", "email"))
    if unknown:
        raise _err("from_address", f"unknown field(s) {', '.join(unknown)}")
    out: dict[str, str] = {}
    for name, raw in value.items():
        if not isinstance(raw, str) or len(raw) > 100:
            raise _err(f"from_address.{name}", "must be text of at most 100 characters")
        if raw.strip():
            out[name] = raw.strip()
    return out


def _parcel(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise _err("parcel", "must be an object")
    out: dict[str, float] = {}
    for name, raw in value.items():
        if name not in ("weight", "length", "width", "height"):
            raise _err("parcel", f"unknown field {name!r}")
        try:
            number = float(Decimal(str(raw)))
        except (InvalidOperation, ValueError) as exc:
            raise _err(f"parcel.{name}", "must be a number") from exc
        if isinstance(raw, bool) or not 0 < number <= 2400:
            raise _err(f"parcel.{name}", "must be a positive number")
        out[name] = number
    if "weight" not in out:
        raise _err("parcel.weight", "is required (ounces)")
    return out


def parse_labels(body: Any) -> LabelSettings:
    """Validated label settings; an enabled label needs a complete warehouse address."""
    if not isinstance(body, Mapping):
        raise _err("", "must be an object")
    unknown = sorted(
        str(k) for k in body if k not in ("enabled", "carrier", "from_address", "parcel")
    )
    if unknown:
        raise _err("", f"unknown field(s) {', '.join(unknown)}")
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        raise _err("enabled", "must be true or false")
    carrier = body.get("carrier", "easypost")
    if carrier not in CARRIERS:
        raise _err("carrier", f"must be one of {', '.join(CARRIERS)}")
    address = _address(body.get("from_address") or {})
    missing = [name for name in ADDRESS_REQUIRED if not address.get(name)]
    if enabled and missing:
        raise _err("from_address", f"missing {', '.join(missing)}")
    parcel = _parcel(body["parcel"]) if body.get("parcel") is not None else dict(DEFAULT_PARCEL)
    return LabelSettings(enabled, carrier, address, parcel)


def parse_expiry_days(value: Any) -> int:
    if value is None:
        return DEFAULT_EXPIRY_DAYS
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload("returns.approval_expiry_days: must be a whole number of days")
    if not MIN_EXPIRY_DAYS <= value <= MAX_EXPIRY_DAYS:
        raise MalformedPayload(
            f"returns.approval_expiry_days: must be {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS}"
        )
    return value


def expiry_days(settings: Mapping[str, Any]) -> int:
    """The merchant's `approval_expiry_days`, the default when absent or unreadable."""
    try:
        return parse_expiry_days(settings.get("approval_expiry_days"))
    except MalformedPayload:
        return DEFAULT_EXPIRY_DAYS


def expiry_times(approved_at: datetime, days: int) -> tuple[datetime, datetime]:
    """(reminder time, expiry time) of a return approved at `approved_at`."""
    expires = approved_at + timedelta(days=days)
    return expires - timedelta(days=REMINDER_DAYS_BEFORE), expires


def cheapest_rate(rates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The lowest EasyPost rate (ties: the first listed). Raises ValueError when none."""
    priced = []
    for index, rate in enumerate(rates):
        try:
            priced.append((Decimal(str(rate["rate"])), index, rate))
        except (KeyError, InvalidOperation):
            continue
    if not priced:
        raise ValueError("EasyPost offered no rate for this return")
    return min(priced, key=lambda entry: (entry[0], entry[1]))[2]


def shipment_request(
    labels: LabelSettings, customer: Mapping[str, Any], reference: str
) -> dict[str, Any]:
    """EasyPost's `POST /v2/shipments` body for a return label (`is_return: true`).

    As EasyPost documents returns, the addresses are given as for the outbound parcel
    (`to_address` the customer, `from_address` the warehouse) and EasyPost swaps them.
    `customer` holds what we keep: name, city, state, country, phone, e-mail; `reference`
    (the outbox id) marks the shipment as ours.
    """
    to_address = {k: v for k, v in customer.items() if v}
    return {
        "shipment": {
            "is_return": True,
            "reference": reference,
            "to_address": to_address,
            "from_address": dict(labels.from_address),
            "parcel": dict(labels.parcel),
        }
    }
