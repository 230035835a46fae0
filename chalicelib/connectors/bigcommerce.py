"""BigCommerce inbound connector: check our registration secret header, parse light payloads.

Webhooks: https://developer.bigcommerce.com/docs/integrations/webhooks (payloads:
https://developer.bigcommerce.com/docs/webhooks/callbacks). BigCommerce does not sign
deliveries; at registration (`POST /v3/hooks`) we set a custom `headers` entry
`X-Aftercare-Secret: <merchant secret>` (see `registration_headers`) and check it here in
constant time, against several secrets for rotation. Payloads are "light"
(`scope`, `store_id`, `data: {type, id}`, `hash`, `created_at`, `producer`): an order event
says which order changed, not how, so `parse` yields `OrderChanged` for the handler to fetch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib import events as ev
from chalicelib.connectors.base import (
    Headers,
    body_digest,
    get_obj,
    get_opt_str,
    get_str,
    load_json,
    matches_any,
    parse_time,
    require_header,
)
from chalicelib.errors import AftercareError, BadSignature, MalformedPayload
from chalicelib.events import OrderChanged

__all__ = [
    "SECRET_HEADER",
    "ORDER_STATUSES",
    "OrderChanged",
    "registration_headers",
    "verify",
    "delivery_id",
    "parse",
]

SECRET_HEADER = "X-Aftercare-Secret"

# BigCommerce order status ids (GET /v2/order_statuses) -> neutral names.
ORDER_STATUSES: dict[int, str] = {
    0: "incomplete",
    1: "pending",
    2: "shipped",
    3: "partially_shipped",
    4: "refunded",
    5: "cancelled",
    6: "declined",
    7: "awaiting_payment",
    8: "awaiting_pickup",
    9: "awaiting_shipment",
    10: "completed",
    11: "awaiting_fulfillment",
    12: "manual_verification_required",
    13: "disputed",
    14: "partially_refunded",
}

# scope -> the neutral name of the change.
_ORDER_SCOPES = {
    "store/order/created": "created",
    "store/order/updated": "updated",
    "store/order/archived": "archived",
    "store/order/statusupdated": "status_changed",
    "store/order/refund/created": "refunded",
    "store/order/message/created": "message_created",
}


def registration_headers(secret: str) -> dict[str, str]:
    """The custom `headers` to register a webhook with, so `verify` can recognise it."""
    return {SECRET_HEADER: secret}


def verify(headers: Headers, raw_body: bytes, secrets: Sequence[str] | str) -> None:
    """Check the registration secret header against any of `secrets`, in constant time.

    `raw_body` is unused (BigCommerce signs nothing) but kept for the connector signature.
    Raises `BadSignature` when the header is missing or matches no secret.
    """
    given = require_header(headers, SECRET_HEADER)
    keys = [secrets] if isinstance(secrets, str) else [s for s in secrets if s]
    if not keys:
        raise BadSignature("no signing secret configured")
    # Compare fixed-length digests so neither a secret's length nor its content leaks.
    digest = hashlib.sha256(given.encode()).digest()
    if not matches_any((hashlib.sha256(k.encode()).digest() for k in keys), digest):
        raise BadSignature(f"{SECRET_HEADER} does not match")


def delivery_id(headers: Headers, raw_body: bytes) -> str:
    """The dedupe key: the payload's `hash` with its scope and time, else the body's SHA-256.

    `hash` alone is a SHA-1 of `data`, which is the same for every update of one order
    (`{"type": "order", "id": 250}`); with `scope` and `created_at` a re-delivery still
    matches while the next update does not.
    """
    try:
        data = load_json(raw_body)
        parts = (get_str(data, "scope"), get_str(data, "hash"), get_str(data, "created_at"))
    except MalformedPayload:
        return body_digest(raw_body)
    return ":".join(parts)


def _status(status: dict[str, Any], key: str) -> str:
    value = status.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"'{key}' must be an integer status id")
    return ORDER_STATUSES.get(value, f"status_{value}")


def _order_events(payload: dict[str, Any], change: str, at: datetime) -> list[ev.Event]:
    data = get_obj(payload, "data")
    if get_opt_str(data, "type") not in (None, "order"):
        raise MalformedPayload("'data.type' must be 'order' for an order scope")
    order_id = get_str(data, "id")
    status = {} if data.get("status") is None else get_obj(data, "status")
    ref = next((data[k] for k in ("refund", "message") if isinstance(data.get(k), dict)), {})
    ref_id = get_opt_str(ref, "refund_id") or get_opt_str(ref, "order_message_id") or ""
    changed = OrderChanged(
        occurred_at=at,
        order_id=order_id,
        change=change,
        previous_status=_status(status, "previous_status_id"),
        status=_status(status, "new_status_id"),
        ref_id=ref_id,
    )
    if changed.status == "cancelled":  # known without fetching the order
        return [changed, ev.OrderCancelled(at, order_id=order_id)]
    return [changed]


def parse(headers: Headers, raw_body: bytes) -> list[ev.Event]:
    """The events of a verified delivery: `OrderChanged` for order scopes, else `Ignored`.

    A status change to Cancelled also yields `OrderCancelled`; store/app/uninstalled yields
    `AppUninstalled`. Raises `MalformedPayload` for a non-object body or missing fields.
    """
    payload = load_json(raw_body)
    scope = get_str(payload, "scope")
    try:
        at = parse_time(payload.get("created_at"), "created_at")
    except OverflowError as exc:  # base.parse_time: e.g. year 1 at +14:00
        raise MalformedPayload("'created_at' is out of range") from exc
    except AftercareError:
        if payload.get("created_at") is not None:
            raise
        at = datetime.now(UTC)
    change = _ORDER_SCOPES.get(scope.lower())
    if change is not None:
        return _order_events(payload, change, at)
    if scope.lower() == "store/app/uninstalled":
        return [ev.AppUninstalled(at)]
    return [ev.Ignored(at, scope)]
