"""ShipHero WMS webhooks: verify the HMAC, turn a "Return Update" into `ReturnReceived`.

Partner docs: https://developer.shiphero.com/webhooks (Request Verification, Message
Identification Header) and https://developer.shiphero.com/webhooks/return-update-webhook.

Signature: `X-Shiphero-Hmac-Sha256` = base64 HMAC-SHA256 of the exact raw body, keyed with
the webhook's shared secret (returned once by the `webhook_create` mutation). Nothing else
is signed: no timestamp, so no replay window. Dedupe on `X-Shiphero-Message-Id` (the docs
do not say whether retries reuse it), else on the body digest.

There is no topic header: the body's `webhook_type` says what it is. Only "Return Update"
matters here; every other type is `Ignored`. A Return Update fires on every change of a
return, so one without received units (e.g. status "pending") is `Ignored` too.

Mapping of a Return Update:
- `warehouse_return_id` = `return_id`; `order_id` = `partner_order_id` (the store's order
  id); `tracking_number` as given. ShipHero echoes no RMA, so `return_code` stays None.
- Each item with `quantity_received` > 0 gives up to two lines (sku, `partner_line_item_id`):
  the `restock` units as resellable, the rest with the disposition of the item's
  `condition` (policy.dispositions, table "shiphero"), None when ShipHero gives none.
- `inspected` is true when every line has a disposition.
- The documented body carries no event time (`created_at` is the return's creation) and
  ShipHero sends when the change happens, so `occurred_at` is our receipt time: the `now`
  argument, else the UTC clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.connectors.aftercare_signature import usable_secrets
from chalicelib.connectors.base import (
    Headers,
    body_digest,
    get_count,
    get_list,
    get_opt_str,
    get_str,
    header,
    load_json,
    verify_base64_hmac,
)
from chalicelib.errors import MalformedPayload
from chalicelib.events import Disposition, Event, Ignored, ReceivedLine, ReturnReceived
from chalicelib.policy.dispositions import normalize_disposition

__all__ = [
    "HMAC_HEADER",
    "MESSAGE_ID_HEADER",
    "RETURN_UPDATE",
    "verify",
    "delivery_id",
    "parse",
]

HMAC_HEADER = "X-Shiphero-Hmac-Sha256"
MESSAGE_ID_HEADER = "X-Shiphero-Message-Id"
RETURN_UPDATE = "Return Update"


def verify(headers: Headers, raw_body: bytes, secrets: Sequence[str]) -> None:
    """Check `X-Shiphero-Hmac-Sha256` over the raw body against any of `secrets`.

    Raises `BadSignature` when the header is missing, not base64, or matches no secret.
    """
    verify_base64_hmac(headers, raw_body, usable_secrets(secrets), HMAC_HEADER)


def delivery_id(headers: Headers, raw_body: bytes) -> str:
    """Dedupe key: ShipHero's message id when sent, else the SHA-256 of the body."""
    return header(headers, MESSAGE_ID_HEADER) or body_digest(raw_body)


def _item_lines(item: Any) -> list[ReceivedLine]:
    if not isinstance(item, dict):
        raise MalformedPayload("each of 'items' must be an object")
    received = get_count(item, "quantity_received", default=0)
    if received == 0:
        return []
    restocked = min(get_count(item, "restock", default=0), received)
    sku = get_opt_str(item, "sku")
    line_id = get_opt_str(item, "partner_line_item_id")
    lines = []
    if restocked:
        lines.append(ReceivedLine(sku, restocked, Disposition.RESELLABLE, line_id))
    if received > restocked:
        condition = get_opt_str(item, "condition")
        disposition = normalize_disposition("shiphero", condition)
        lines.append(ReceivedLine(sku, received - restocked, disposition, line_id, condition or ""))
    return lines


def _is_test(data: Mapping[str, Any]) -> bool:
    return data.get("test") in ("1", 1, True, "true")


def parse(headers: Headers, raw_body: bytes, *, now: datetime | None = None) -> list[Event]:
    """Normalized events of a verified ShipHero delivery (see the module docstring).

    Raises `MalformedPayload` when the body is not JSON or a field has the wrong shape.
    """
    data = load_json(raw_body)
    webhook_type = get_str(data, "webhook_type")
    occurred_at = now or datetime.now(UTC)
    if webhook_type != RETURN_UPDATE:
        return [Ignored(occurred_at, topic=webhook_type)]
    return_id = get_str(data, "return_id")
    if _is_test(data):
        return [Ignored(occurred_at, topic=webhook_type, reason="test delivery")]
    lines = tuple(line for item in get_list(data, "items") for line in _item_lines(item))
    if not lines:
        return [Ignored(occurred_at, topic=webhook_type, reason="no units received yet")]
    return [
        ReturnReceived(
            occurred_at,
            warehouse_return_id=return_id,
            lines=lines,
            order_id=get_opt_str(data, "partner_order_id"),
            tracking_number=get_opt_str(data, "tracking_number"),
            inspected=all(line.disposition is not None for line in lines),
        )
    ]
