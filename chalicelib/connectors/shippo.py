"""Shippo tracking webhooks: verify `Shippo-Auth-Signature`, turn `track_updated` into updates.

Authentication: https://docs.goshippo.com/docs/tracking/webhooksecurity documents three
options: an IP allowlist, a self-generated `?token=` in the webhook URL, and HMAC, which a
merchant asks their Shippo account manager to enable (it can take up to 10 business days)::

    Shippo-Auth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

We require the HMAC: a URL token proves nothing about the body and ends up in access logs,
and an IP allowlist is not authentication (Shippo itself recommends allowlisting its domain,
not its addresses). So a merchant connects Shippo once Shippo has issued the HMAC secret.
`t` is signed, so the Stripe-style 5-minute window applies (either direction); several `v1=`
entries are accepted.

Payload (https://docs.goshippo.com/docs/tracking/webhooks): `{"event", "test", "data"}`
where `track_updated` carries a Track object (https://docs.goshippo.com/docs/tracking/tracking):
`carrier` token, `tracking_number`, `eta`, `tracking_status` (the newest status, with
`substatus.code`) and `tracking_history[]` (the scans). Other events (`transaction_created`,
`batch_purchased`, ...) are `Ignored`. The event time is the newest scan's `status_date`,
else `tracking_status.status_date`, else its `object_updated`. Shippo sends no event id, so
`delivery_id` is the body's SHA-256 (a retry re-sends the same body).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors import aftercare_signature, base
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Event, Ignored, Scan, ShipmentUpdated
from chalicelib.policy import tracking

__all__ = [
    "SIGNATURE_HEADER",
    "API_VERSION_HEADER",
    "TRACK_UPDATED",
    "verify",
    "parse",
    "delivery_id",
]

SIGNATURE_HEADER = "Shippo-Auth-Signature"
API_VERSION_HEADER = "Shippo-API-Version"
TRACK_UPDATED = "track_updated"
TOLERANCE_SECONDS = 300
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def _signature_parts(value: str) -> tuple[str, list[bytes]]:
    timestamps: list[str] = []
    given: list[bytes] = []
    for part in value.split(","):
        name, sep, item = part.strip().partition("=")
        if name == "t" and sep:
            timestamps.append(item.strip())
        elif name == "v1" and sep:
            try:
                given.append(bytes.fromhex(item.strip()))
            except ValueError as exc:
                raise BadSignature(f"{SIGNATURE_HEADER} v1 is not hex") from exc
    if len(timestamps) != 1:
        raise BadSignature(f"{SIGNATURE_HEADER} must carry exactly one t=<timestamp>")
    if not given:
        raise BadSignature(f"{SIGNATURE_HEADER} carries no v1 signature")
    return timestamps[0], given


def verify(
    headers: base.Headers,
    raw_body: bytes,
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
) -> None:
    """Check `Shippo-Auth-Signature` (5-minute window) against any of `secrets`.

    Raises `BadSignature` when it is missing, malformed, stale or matches no secret.
    """
    timestamp, given = _signature_parts(base.require_header(headers, SIGNATURE_HEADER))
    aftercare_signature.check_freshness(timestamp, now, TOLERANCE_SECONDS, f"{SIGNATURE_HEADER} t=")
    keys = aftercare_signature.usable_secrets(secrets)
    signed = timestamp.encode() + b"." + raw_body
    expected = [base.hmac_sha256(key, signed) for key in keys]
    found = False
    for candidate in given:
        found |= base.matches_any(expected, candidate)
    if not found:
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")


def _status(record: dict[str, Any]) -> tuple[str, str | None]:
    raw = base.get_opt_str(record, "status") or "UNKNOWN"
    substatus = record.get("substatus")
    code = base.get_opt_str(substatus, "code") if isinstance(substatus, dict) else None
    return raw, code


def _scan(item: Any) -> Scan:
    if not isinstance(item, dict):
        raise MalformedPayload("'data.tracking_history[]' must be objects")
    raw, code = _status(item)
    return Scan(
        occurred_at=base.parse_time(item.get("status_date"), "tracking_history[].status_date"),
        status=tracking.normalize(tracking.SHIPPO, raw, code),
        carrier_status=f"{raw}/{code}" if code else raw,
        message=base.get_opt_str(item, "status_details") or "",
        location=base.location_text(item.get("location")),
    )


def parse(headers: base.Headers, raw_body: bytes) -> list[Event]:
    """The events in a verified body; raises `MalformedPayload` for bad JSON or fields."""
    data = base.load_json(raw_body)
    topic = base.get_str(data, "event")
    if topic != TRACK_UPDATED:
        obj = data.get("data")
        when = (
            base.opt_time(obj.get("object_updated"), "object_updated")
            if isinstance(obj, dict)
            else None
        )
        return [Ignored(occurred_at=when or _NO_TIME, topic=topic)]
    track = base.get_obj(data, "data")
    current = track.get("tracking_status") or {}
    if not isinstance(current, dict):
        raise MalformedPayload("'data.tracking_status' must be an object")
    raw, code = _status(current)
    history = base.get_list(track, "tracking_history")
    scans = tuple(sorted((_scan(i) for i in history), key=lambda scan: scan.occurred_at))
    occurred_at = scans[-1].occurred_at if scans else None
    for name in ("status_date", "object_updated"):
        occurred_at = occurred_at or base.opt_time(current.get(name), f"tracking_status.{name}")
    if occurred_at is None:
        raise MalformedPayload("'data.tracking_status.status_date' is required without history")
    return [
        ShipmentUpdated(
            occurred_at=occurred_at,
            carrier=tracking.carrier_name(base.get_str(track, "carrier")),
            tracking_number=base.get_str(track, "tracking_number"),
            status=tracking.normalize(tracking.SHIPPO, raw, code),
            carrier_status=f"{raw}/{code}" if code else raw,
            message=base.get_opt_str(current, "status_details") or "",
            location=base.location_text(current.get("location")),
            estimated_delivery=base.opt_time(track.get("eta"), "data.eta"),
            scans=scans,
            source_event_id=base.get_opt_str(current, "object_id") or "",
        )
    ]


def delivery_id(headers: base.Headers, raw_body: bytes) -> str:
    """The SHA-256 of the exact body: Shippo sends no event id."""
    return base.body_digest(raw_body)
