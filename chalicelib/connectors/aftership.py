"""AfterShip Tracking webhooks: verify `aftership-hmac-sha256`, turn `tracking_update` into updates.

Signing spec: https://www.aftership.com/docs/tracking/webhook/webhook-signature ::

    aftership-hmac-sha256: <base64 HMAC-SHA256(webhook secret, raw body)>

Nothing time-bound is signed in a header. The body's `ts` is signed with it, but AfterShip
retries a failed delivery for about 68 hours with the same body, so a replay window on `ts`
would refuse genuine retries; the `event_id` (`delivery_id`) is the dedupe key instead.
(AfterShip Returns and Warranty sign with `as-signature-hmac-sha256`; they are not tracking.)

Payload (https://www.aftership.com/docs/tracking/webhook/webhook-specifications):
`{"event", "event_id", "is_tracking_first_tag", "msg", "ts"}` where `tracking_update` carries
the Tracking object in `msg`: `slug` (carrier), `tracking_number`, `tag`/`subtag`
(https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses), `checkpoints[]`
(oldest first) and estimated delivery fields. `edd_revise`, `tracking_pending_time` and any
other event are `Ignored`.

Time: a checkpoint's `checkpoint_time` is the wall time at the checkpoint's location and
often has no offset. Such scans are stored as if UTC (best effort), but the event time uses
them only when they carry an offset: otherwise it is `ts` (UTC seconds of the event), since
comparing local wall times across time zones would let a westbound parcel's newer scan look
older and be refused by `policy.tracking.should_advance`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors import base, generic_carrier
from chalicelib.errors import MalformedPayload
from chalicelib.events import Event, Ignored, Scan, ShipmentUpdated
from chalicelib.policy import tracking

__all__ = [
    "SIGNATURE_HEADER",
    "VERSION_HEADER",
    "TRACKING_UPDATE",
    "verify",
    "parse",
    "delivery_id",
]

SIGNATURE_HEADER = "aftership-hmac-sha256"
VERSION_HEADER = "as-webhook-version"
TRACKING_UPDATE = "tracking_update"
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
# Newest first: the estimated-delivery fields AfterShip has used across webhook versions.
_EDD_FIELDS = (
    ("latest_estimated_delivery", "datetime"),
    ("courier_estimated_delivery_date", "estimated_delivery_date"),
    ("aftership_estimated_delivery_date", "estimated_delivery_date"),
    ("expected_delivery", None),
)


def verify(headers: base.Headers, raw_body: bytes, secrets: Sequence[str]) -> None:
    """Check `aftership-hmac-sha256` against any of `secrets`; raises `BadSignature`."""
    base.verify_base64_hmac(headers, raw_body, secrets, SIGNATURE_HEADER)


def _location(item: dict[str, Any]) -> str:
    text = base.get_opt_str(item, "location")
    if text:
        return text
    parts = (base.get_opt_str(item, k) for k in ("city", "state", "country_iso3"))
    return ", ".join(p for p in parts if p)


def _scan(item: Any) -> tuple[Scan, bool]:
    """The scan, and whether its time carried an offset."""
    if not isinstance(item, dict):
        raise MalformedPayload("'msg.checkpoints[]' must be objects")
    raw_time = item.get("checkpoint_time")
    tag = base.get_opt_str(item, "tag") or "Pending"
    subtag = base.get_opt_str(item, "subtag")
    scan = Scan(
        occurred_at=base.parse_time(raw_time, "checkpoints[].checkpoint_time"),
        status=tracking.normalize(tracking.AFTERSHIP, tag, subtag),
        carrier_status=f"{tag}/{subtag}" if subtag else tag,
        message=base.get_opt_str(item, "message") or "",
        location=_location(item),
    )
    return scan, isinstance(raw_time, str) and bool(_OFFSET.search(raw_time.strip()))


def _estimated_delivery(msg: dict[str, Any]) -> datetime | None:
    """The newest estimate present; an unreadable estimate is skipped, not fatal."""
    for name, inner in _EDD_FIELDS:
        value = msg.get(name)
        if inner is not None:
            value = value.get(inner) if isinstance(value, dict) else None
        if value in (None, ""):
            continue
        try:
            return base.parse_time(value, name)
        except MalformedPayload:
            continue
    return None


def parse(headers: base.Headers, raw_body: bytes) -> list[Event]:
    """The events in a verified body; raises `MalformedPayload` for bad JSON or fields."""
    data = base.load_json(raw_body)
    topic = base.get_str(data, "event")
    ts = base.parse_time(data["ts"], "ts") if data.get("ts") is not None else None
    if topic != TRACKING_UPDATE:
        return [Ignored(occurred_at=ts or _NO_TIME, topic=topic)]
    msg = base.get_obj(data, "msg")
    tag = base.get_opt_str(msg, "tag") or "Pending"
    subtag = base.get_opt_str(msg, "subtag")
    read = [_scan(item) for item in base.get_list(msg, "checkpoints")]
    scans = tuple(scan for scan, _ in read)
    newest, newest_has_offset = read[-1] if read else (None, False)
    if newest is not None and newest_has_offset:
        occurred_at: datetime | None = newest.occurred_at
    else:
        occurred_at = ts or _lenient(msg.get("updated_at"))
    if occurred_at is None:
        raise MalformedPayload("'ts' is required")
    message = newest.message if newest else ""
    return [
        ShipmentUpdated(
            occurred_at=occurred_at,
            carrier=tracking.carrier_name(base.get_opt_str(msg, "slug")),
            tracking_number=base.get_str(msg, "tracking_number"),
            status=tracking.normalize(tracking.AFTERSHIP, tag, subtag),
            carrier_status=f"{tag}/{subtag}" if subtag else tag,
            message=message or base.get_opt_str(msg, "subtag_message") or "",
            location=newest.location if newest else "",
            estimated_delivery=_estimated_delivery(msg),
            scans=scans,
            source_event_id=base.get_opt_str(data, "event_id") or "",
        )
    ]


def _lenient(value: Any) -> datetime | None:
    try:
        return None if value in (None, "") else base.parse_time(value, "updated_at")
    except MalformedPayload:
        return None


def delivery_id(headers: base.Headers, raw_body: bytes) -> str:
    """The `event_id` (UUID, kept on retries), else the body's SHA-256; never raises."""
    return generic_carrier.id_or_digest(raw_body, "event_id")
