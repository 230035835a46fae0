"""EasyPost tracker webhooks: verify `X-Hmac-Signature`, turn `tracker.*` Events into updates.

Signing spec: https://docs.easypost.com/guides/webhooks-guide ("HMAC Validation") and the
reference `validate_webhook` of EasyPost's client libraries
(https://github.com/EasyPost/easypost-python, `easypost/util.py`):

    X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(webhook_secret) as UTF-8, raw body)>

No timestamp is signed, so there is no replay window: EasyPost retries a failed delivery
with the same Event, and the Event `id` (`delivery_id`) is the dedupe key.

Payload: an Event (https://docs.easypost.com/docs/events) whose `description` names the
topic; `tracker.created` and `tracker.updated` carry a Tracker in `result`
(https://docs.easypost.com/docs/trackers). Every other topic (`batch.created`, ...) is
returned as `Ignored`. `tracking_details[]` become scans; the event time is the newest scan's
`datetime` (EasyPost gives it with the scan location's offset, else UTC), else the Tracker's
`updated_at`. `carrier_status` is `status` or `status/status_detail`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors import base, generic_carrier
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Event, Ignored, Scan, ShipmentUpdated
from chalicelib.policy import tracking

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_PREFIX",
    "TRACKER_TOPICS",
    "verify",
    "parse",
    "delivery_id",
]

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_TOPICS = frozenset({"tracker.created", "tracker.updated"})
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def _key(secret: str) -> bytes:
    # EasyPost's client libraries NFKD-normalize the secret before using it as the HMAC key.
    return unicodedata.normalize("NFKD", secret).encode("utf-8")


def verify(headers: base.Headers, raw_body: bytes, secrets: Sequence[str]) -> None:
    """Check `X-Hmac-Signature` against any of `secrets` (rotation); raises `BadSignature`."""
    value = base.require_header(headers, SIGNATURE_HEADER)
    if not value.lower().startswith(SIGNATURE_PREFIX):
        raise BadSignature(f"{SIGNATURE_HEADER} must start with '{SIGNATURE_PREFIX}'")
    try:
        given = bytes.fromhex(value[len(SIGNATURE_PREFIX) :])
    except ValueError as exc:
        raise BadSignature(f"{SIGNATURE_HEADER} is not hex") from exc
    if len(given) != 32:
        raise BadSignature(f"{SIGNATURE_HEADER} is not a SHA-256 digest")
    keys = [s for s in secrets if s]
    if not keys:
        raise BadSignature("no signing secret configured")
    if not base.matches_any((base.hmac_sha256(_key(s), raw_body) for s in keys), given):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")


def _carrier_status(status: str, detail: str | None) -> str:
    return f"{status}/{detail}" if detail else status


def _scan(item: Any) -> Scan:
    if not isinstance(item, dict):
        raise MalformedPayload("'result.tracking_details[]' must be objects")
    status = base.get_str(item, "status")
    detail = base.get_opt_str(item, "status_detail")
    return Scan(
        occurred_at=base.parse_time(item.get("datetime"), "tracking_details[].datetime"),
        status=tracking.normalize(tracking.EASYPOST, status, detail),
        carrier_status=_carrier_status(status, detail),
        message=base.get_opt_str(item, "message") or "",
        location=base.location_text(item.get("tracking_location")),
    )


def parse(headers: base.Headers, raw_body: bytes) -> list[Event]:
    """The events in a verified body; raises `MalformedPayload` for bad JSON or fields."""
    data = base.load_json(raw_body)
    topic = base.get_str(data, "description")
    event_time = base.opt_time(data.get("updated_at") or data.get("created_at"), "updated_at")
    if topic not in TRACKER_TOPICS:
        return [Ignored(occurred_at=event_time or _NO_TIME, topic=topic)]
    result = base.get_obj(data, "result")
    if result.get("object") != "Tracker":
        raise MalformedPayload(f"'{topic}' must carry a Tracker in 'result'")
    status = base.get_str(result, "status")
    detail = base.get_opt_str(result, "status_detail")
    details = base.get_list(result, "tracking_details")
    scans = tuple(sorted((_scan(i) for i in details), key=lambda scan: scan.occurred_at))
    newest = scans[-1] if scans else None
    occurred_at = (
        newest.occurred_at if newest else base.opt_time(result.get("updated_at"), "updated_at")
    )
    if occurred_at is None:
        raise MalformedPayload("'result.updated_at' is required when there are no tracking_details")
    return [
        ShipmentUpdated(
            occurred_at=occurred_at,
            carrier=base.get_opt_str(result, "carrier") or "",
            tracking_number=base.get_str(result, "tracking_code"),
            status=tracking.normalize(tracking.EASYPOST, status, detail),
            carrier_status=_carrier_status(status, detail),
            message=newest.message if newest else "",
            location=newest.location if newest else "",
            estimated_delivery=base.opt_time(result.get("est_delivery_date"), "est_delivery_date"),
            scans=scans,
            source_event_id=base.get_opt_str(data, "id") or "",
        )
    ]


def delivery_id(headers: base.Headers, raw_body: bytes) -> str:
    """The Event `id` (`evt_...`, kept on retries), else the body's SHA-256; never raises."""
    return generic_carrier.id_or_digest(raw_body, "id")
