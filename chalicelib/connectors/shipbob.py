"""ShipBob WMS webhooks: verify the Standard Webhooks signature, turn returns into `ReturnReceived`.

Partner docs: https://developer.shipbob.com/webhooks (topics, headers, signing) and the
Return object of https://developer.shipbob.com/api/returns/get-return-order.

Signature (https://www.standardwebhooks.com/): `webhook-signature` is a space-separated list
of `v1,<base64 HMAC-SHA256>` over `"<webhook-id>.<webhook-timestamp>.<raw body>"`, keyed with
the base64-decoded part after `whsec_` of the subscription secret. Any `v1` entry matching
any of our secrets passes (rotation); `webhook-timestamp` (Unix seconds) must be within 5
minutes of our clock (replay); `webhook-id` is stable across retries (dedupe). Unsigned
legacy v1.0/v2.0 deliveries (`shipbob-topic` header) are refused.

The topic header (`x-webhook-topic`, e.g. `return.completed`) is not signed, so it only
says "a return"; what happened comes from the signed body, a Return object (bare or under
`data`): `status` Completed -> processed; Arrived/Processing -> received, not inspected;
any other status or topic -> `Ignored`.

Mapping: `id` -> warehouse_return_id; `reference_id` (our RMA, on the box) -> return_code;
`store_order_id` -> order_id; `tracking_number` or `shipment_tracking_number`. Each
`inventory[].action_taken[]` with units is a line: sku, `quantity_processed`, disposition of
`action` (policy.dispositions "shipbob"), `action_reason` as note, `image_url` as photo.
Before processing, an item with no action yet is a line of its `quantity`, undetermined.
ShipBob inventory ids are not our line ids: `line_id` stays None. `occurred_at` is
`completed_date`, `processing_date`, `arrived_date` or the signed timestamp, first present;
`inspected` = Completed and every line has a disposition.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors import base
from chalicelib.connectors.aftercare_signature import (
    DEFAULT_TOLERANCE,
    any_signature_matches,
    check_freshness,
    usable_secrets,
)
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Event, Ignored, ReceivedLine, ReturnReceived
from chalicelib.policy.dispositions import normalize_disposition

__all__ = [
    "ID_HEADER",
    "TIMESTAMP_HEADER",
    "SIGNATURE_HEADER",
    "TOPIC_HEADER",
    "SECRET_PREFIX",
    "verify",
    "delivery_id",
    "parse",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOPIC_HEADER = "x-webhook-topic"
SECRET_PREFIX = "whsec_"
_RECEIVED_STATUSES = frozenset({"arrived", "processing", "completed"})
_TIME_FIELDS = ("completed_date", "processing_date", "arrived_date")


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("a configured ShipBob secret is not whsec_<base64>") from exc
    if not key:
        raise BadSignature("a configured ShipBob secret is empty after whsec_")
    return key


def _signatures(value: str) -> list[bytes]:
    found = []
    for entry in value.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # a garbled entry cannot match; another one may
    if not found:
        raise BadSignature(f"{SIGNATURE_HEADER} carries no v1 signature")
    return found


def verify(
    headers: base.Headers,
    raw_body: bytes,
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Check ShipBob's `webhook-signature` over id, timestamp and raw body, and its freshness.

    Raises `BadSignature` when a header is missing, no v1 signature matches any of `secrets`,
    a secret is not `whsec_<base64>`, or the timestamp is outside `tolerance` seconds of `now`.
    """
    keys = [_key(secret) for secret in usable_secrets(secrets)]
    message_id = base.require_header(headers, ID_HEADER)
    timestamp = base.require_header(headers, TIMESTAMP_HEADER)
    given = _signatures(base.require_header(headers, SIGNATURE_HEADER))
    signed = f"{message_id}.{timestamp}.".encode() + raw_body
    expected = [base.hmac_sha256(key, signed) for key in keys]
    if not any_signature_matches(expected, given):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
    check_freshness(timestamp, now, tolerance, TIMESTAMP_HEADER)


def delivery_id(headers: base.Headers, raw_body: bytes) -> str:
    """Dedupe key: `webhook-id` (stable across retries), else the SHA-256 of the body."""
    return base.header(headers, ID_HEADER) or base.body_digest(raw_body)


def _sent_at(headers: base.Headers) -> datetime:
    text = base.header(headers, TIMESTAMP_HEADER) or ""
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return base.parse_time(int(text), TIMESTAMP_HEADER)
    return datetime.now(UTC)


def _occurred_at(record: Mapping[str, Any], headers: base.Headers) -> datetime:
    for name in _TIME_FIELDS:
        if record.get(name) is not None:
            return base.parse_time(record[name], name)
    return _sent_at(headers)


def _item_lines(item: Any, completed: bool) -> list[ReceivedLine]:
    if not isinstance(item, dict):
        raise MalformedPayload("each of 'inventory' must be an object")
    sku = base.get_opt_str(item, "sku")
    lines = []
    for action in base.get_list(item, "action_taken"):
        if not isinstance(action, dict):
            raise MalformedPayload("each of 'action_taken' must be an object")
        units = base.get_count(action, "quantity_processed", default=0)
        if units == 0:
            continue
        image = base.get_opt_str(action, "image_url")
        disposition = normalize_disposition("shipbob", base.get_opt_str(action, "action"))
        note = base.get_opt_str(action, "action_reason") or ""
        photos = (image,) if image else ()
        lines.append(ReceivedLine(sku, units, disposition, note=note, photo_urls=photos))
    if not lines and not completed and (expected := base.get_count(item, "quantity", default=0)):
        lines.append(ReceivedLine(sku, expected))
    return lines


def parse(headers: base.Headers, raw_body: bytes) -> list[Event]:
    """Normalized events of a verified ShipBob delivery (see the module docstring).

    Raises `MalformedPayload` when the body is not JSON or a field has the wrong shape.
    """
    topic = base.header(headers, TOPIC_HEADER) or ""
    data = base.load_json(raw_body)
    if not topic.startswith("return."):
        return [Ignored(_sent_at(headers), topic=topic or "(no topic header)")]
    record = data["data"] if isinstance(data.get("data"), dict) else data
    return_id = base.get_str(record, "id")
    status = (base.get_opt_str(record, "status") or "").replace(" ", "").casefold()
    if status not in _RECEIVED_STATUSES:
        reason = f"return status {status or 'missing'}"
        return [Ignored(_sent_at(headers), topic=topic, reason=reason)]
    completed = status == "completed"
    items = base.get_list(record, "inventory")
    lines = tuple(line for item in items for line in _item_lines(item, completed))
    if not lines:
        return [Ignored(_sent_at(headers), topic=topic, reason="no units received")]
    return [
        ReturnReceived(
            _occurred_at(record, headers),
            warehouse_return_id=return_id,
            lines=lines,
            return_code=base.get_opt_str(record, "reference_id"),
            order_id=base.get_opt_str(record, "store_order_id"),
            tracking_number=base.get_opt_str(record, "tracking_number")
            or base.get_opt_str(record, "shipment_tracking_number"),
            inspected=completed and all(line.disposition is not None for line in lines),
        )
    ]
