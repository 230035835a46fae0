"""Generic carrier webhooks (our format): verify `X-Aftercare-Signature`, parse a shipment update.

For carriers and tracking tools without a connector of their own. The format is ours, so it
is specified here; `tests/fixtures/generic_carrier/shipment_updated.json` is the example.

Signature (Stripe's scheme, https://docs.stripe.com/webhooks#verify-manually; implemented
once in `chalicelib.connectors.aftercare_signature`)::

    X-Aftercare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The sender signs the exact body bytes it sends with the carrier secret we issued for the
merchant. Several `v1=` entries may be sent while the sender rotates secrets; one match with
any of our secrets is enough. `t` must be within 5 minutes of our clock, either way.

Body (UTF-8 JSON object)::

    id                  string, required: unique per event; retries reuse it (dedupe key)
    type                string, required: "shipment.updated"; other types are ignored (200)
    created_at          ISO-8601, optional: when the sender created the event
    data.carrier        string, required: carrier display name, e.g. "USPS"
    data.tracking_number  string, required
    data.status         string, required: one of label_created, in_transit, out_for_delivery,
                        available_for_pickup, delivered, delivery_failed, exception,
                        returned_to_sender, unknown (anything else is read as unknown)
    data.status_detail  string, optional: the carrier's own words for the status
    data.updated_at     ISO-8601, required when `scans` is empty: the carrier's time
    data.location       string, optional
    data.estimated_delivery  ISO-8601 date or time, optional
    data.scans[]        optional: {occurred_at (ISO-8601, required), status (as above),
                        message, location}

The event time is the newest scan's time, else `data.updated_at`. Times without an offset
are read as UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors import aftercare_signature, base
from chalicelib.errors import MalformedPayload
from chalicelib.events import Event, Ignored, Scan, ShipmentUpdated, TrackingStatus
from chalicelib.policy import tracking

__all__ = [
    "SIGNATURE_HEADER",
    "SHIPMENT_UPDATED",
    "verify",
    "parse",
    "delivery_id",
    "id_or_digest",
]

SIGNATURE_HEADER = aftercare_signature.HEADER
SHIPMENT_UPDATED = "shipment.updated"
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def verify(
    headers: base.Headers,
    raw_body: bytes,
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
) -> None:
    """Check `X-Aftercare-Signature` (5-minute window) against any of `secrets`.

    Raises `BadSignature` when it is missing, malformed, stale or matches no secret.
    """
    aftercare_signature.verify_timestamped(headers, raw_body, secrets, now=now)


def _scan(item: Any) -> Scan:
    if not isinstance(item, dict):
        raise MalformedPayload("'data.scans[]' must be objects")
    raw_status = base.get_opt_str(item, "status") or TrackingStatus.UNKNOWN.value
    return Scan(
        occurred_at=base.parse_time(item.get("occurred_at"), "data.scans[].occurred_at"),
        status=tracking.normalize(tracking.GENERIC, raw_status),
        carrier_status=raw_status,
        message=base.get_opt_str(item, "message") or "",
        location=base.get_opt_str(item, "location") or "",
    )


def parse(headers: base.Headers, raw_body: bytes) -> list[Event]:
    """The events in a verified body; raises `MalformedPayload` for bad JSON or fields."""
    data = base.load_json(raw_body)
    event_id = base.get_str(data, "id")
    topic = base.get_str(data, "type")
    created_at = base.opt_time(data.get("created_at"), "created_at")
    if topic != SHIPMENT_UPDATED:
        return [Ignored(occurred_at=created_at or _NO_TIME, topic=topic)]
    body = base.get_obj(data, "data")
    raw_status = base.get_str(body, "status")
    read = (_scan(item) for item in base.get_list(body, "scans"))
    scans = tuple(sorted(read, key=lambda scan: scan.occurred_at))
    updated_at = base.opt_time(body.get("updated_at"), "data.updated_at")
    if scans:
        occurred_at = scans[-1].occurred_at
    elif updated_at is not None:
        occurred_at = updated_at
    else:
        raise MalformedPayload("'data.updated_at' is required when 'data.scans' is empty")
    newest = scans[-1] if scans else None
    return [
        ShipmentUpdated(
            occurred_at=occurred_at,
            carrier=base.get_str(body, "carrier"),
            tracking_number=base.get_str(body, "tracking_number"),
            status=tracking.normalize(tracking.GENERIC, raw_status),
            carrier_status=raw_status,
            message=base.get_opt_str(body, "status_detail") or (newest.message if newest else ""),
            location=base.get_opt_str(body, "location") or (newest.location if newest else ""),
            estimated_delivery=base.opt_time(
                body.get("estimated_delivery"), "data.estimated_delivery"
            ),
            scans=scans,
            source_event_id=event_id,
        )
    ]


def delivery_id(headers: base.Headers, raw_body: bytes) -> str:
    """The event's `id` (stable across retries), else the body's SHA-256; never raises."""
    return id_or_digest(raw_body, "id")


def id_or_digest(raw_body: bytes, field: str) -> str:
    """The body's top-level string `field` (a partner's event id), else `base.body_digest`."""
    try:
        value = base.load_json(raw_body).get(field)
    except MalformedPayload:
        value = None
    return value.strip() if isinstance(value, str) and value.strip() else base.body_digest(raw_body)
