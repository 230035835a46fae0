"""Shopify inbound connector: verify webhooks and OAuth queries, parse topics into events.

Webhook signing: https://shopify.dev/docs/apps/build/webhooks/subscribe/https
(`X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body under the app's client secret).
OAuth query HMAC: https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
Payloads: https://shopify.dev/docs/api/webhooks. Header names are looked up lower-case.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib import events as ev
from chalicelib.connectors import shopify_payloads as payloads
from chalicelib.connectors.base import (
    Headers,
    body_digest,
    get_count,
    get_list,
    get_opt_str,
    header,
    hmac_sha256,
    load_json,
    parse_time,
    require_header,
    verify_base64_hmac,
)
from chalicelib.errors import AftercareError, BadSignature, MalformedPayload
from chalicelib.events import Event

__all__ = [
    "HMAC_HEADER",
    "TOPIC_HEADER",
    "SHOP_DOMAIN_HEADER",
    "WEBHOOK_ID_HEADER",
    "EVENT_ID_HEADER",
    "TRIGGERED_AT_HEADER",
    "API_VERSION_HEADER",
    "SHOP_DOMAIN_RE",
    "COMPLIANCE_TOPICS",
    "RETURN_REASONS",
    "shop_domain",
    "verify",
    "verify_install_query",
    "delivery_id",
    "topic",
    "parse",
]

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"

SHOP_DOMAIN_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
# Mandatory privacy topics: Shopify requires a 401 for a bad HMAC on these.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
_UNSIGNED_QUERY_KEYS = frozenset({"hmac", "signature"})
# Shopify ReturnReason codes -> our normalized reason codes (anything else -> "other").
RETURN_REASONS: dict[str, str] = {
    "size_too_small": "wrong_size",
    "size_too_large": "wrong_size",
    "defective": "damaged",
    "not_as_described": "not_as_described",
    "wrong_item": "wrong_item",
    "color": "style",
    "style": "style",
    "unwanted": "unwanted",
    "unknown": "no_reason",
    "other": "other",
}


def _secret_list(secrets: Sequence[str] | str) -> list[str]:
    # A bare string is a Sequence too: iterating it would try each character as a secret.
    return [secrets] if isinstance(secrets, str) else [s for s in secrets if s]


def _valid_shop(value: str | None, where: str) -> str:
    if not value or not SHOP_DOMAIN_RE.fullmatch(value):
        raise BadSignature(f"{where} is not a *.myshopify.com domain")
    return value.lower()


def shop_domain(headers: Headers) -> str:
    """The verified request's shop, lower-cased; raises `BadSignature` when missing or invalid."""
    return _valid_shop(require_header(headers, SHOP_DOMAIN_HEADER), SHOP_DOMAIN_HEADER)


def verify(headers: Headers, raw_body: bytes, secrets: Sequence[str] | str) -> None:
    """Check `X-Shopify-Hmac-Sha256` over the raw body against any of `secrets` (rotation).

    Raises `BadSignature` when the header is missing, not base64, or matches no secret.
    """
    verify_base64_hmac(headers, raw_body, _secret_list(secrets), HMAC_HEADER)


def _query_message(query: Mapping[str, str]) -> bytes:
    """Shopify's signed message: sorted `k=v` pairs joined by `&`, delimiters escaped."""
    pairs = []
    for key, value in query.items():
        if key in _UNSIGNED_QUERY_KEYS:
            continue
        k = str(key).replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        v = str(value).replace("%", "%25").replace("&", "%26")
        pairs.append(f"{k}={v}")
    return "&".join(sorted(pairs)).encode()


def verify_install_query(
    query: Mapping[str, str],
    secrets: Sequence[str] | str,
    now: datetime | None = None,
    max_age_seconds: int = 90,
) -> None:
    """Check the hex `hmac` of an install or OAuth-callback query, its `timestamp` and `shop`.

    The timestamp may be at most `max_age_seconds` away from `now` either way (Shopify's
    own library uses a 90 s tolerance). Raises `BadSignature` for a missing, malformed or
    mismatched hmac, a stale or missing timestamp, or a shop outside *.myshopify.com.
    """
    _valid_shop(query.get("shop"), "shop")
    given = str(query.get("hmac") or "")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", given):
        raise BadSignature("hmac query parameter is missing or not hex SHA-256")
    timestamp = str(query.get("timestamp") or "")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise BadSignature("timestamp query parameter is missing or not Unix seconds")
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - int(timestamp)) > max_age_seconds:
        raise BadSignature("timestamp query parameter is stale")
    keys = _secret_list(secrets)
    if not keys:
        raise BadSignature("no signing secret configured")
    message = _query_message(query)
    found = False
    for key in keys:
        found |= hmac.compare_digest(hmac_sha256(key, message).hex(), given.lower())
    if not found:
        raise BadSignature("hmac query parameter does not match")


def delivery_id(headers: Headers, raw_body: bytes) -> str:
    """The dedupe key: `X-Shopify-Webhook-Id`, else the SHA-256 of the body."""
    return header(headers, WEBHOOK_ID_HEADER) or body_digest(raw_body)


def topic(headers: Headers) -> str:
    """The delivery's topic, lower-cased; raises `MalformedPayload` when the header is missing."""
    value = header(headers, TOPIC_HEADER)
    if not value:
        raise MalformedPayload(f"missing {TOPIC_HEADER} header")
    return value.lower()


def _triggered_at(headers: Headers) -> datetime:
    """When Shopify fired the delivery (unsigned header; now when absent or unreadable)."""
    value = header(headers, TRIGGERED_AT_HEADER)
    if value:
        try:
            return parse_time(value, TRIGGERED_AT_HEADER)
        except AftercareError:
            pass
    return datetime.now(UTC)


Reader = Callable[[dict[str, Any], datetime], list[Event]]


def _return_ids(data: dict[str, Any]) -> dict[str, Any]:
    order = payloads.opt_obj(data, "order")
    return dict(
        return_id=payloads.object_id(data, "id"),
        order_id=payloads.object_id(order, "order.id")
        if order
        else payloads.plain_id(data.get("order_id"), "order_id"),
    )


def _return_line(item: dict[str, Any]) -> ev.ReturnLine:
    fulfillment_line = payloads.opt_obj(item, "fulfillment_line_item")
    line_item = payloads.opt_obj(fulfillment_line, "line_item")
    if line_item:
        line_id = payloads.object_id(line_item, "line_item.id")
    else:  # no order line given: keep the nearest id, marked as not an order line
        source = fulfillment_line or item
        line_id = "unmapped:" + payloads.object_id(source, "return_line_items[].id")
    notes = (get_opt_str(item, key) for key in ("return_reason_note", "customer_note"))
    return ev.ReturnLine(
        line_id=line_id,
        quantity=get_count(item, "quantity"),
        reason=RETURN_REASONS.get(
            (get_opt_str(item, "return_reason") or "unknown").lower(), "other"
        ),
        note=" / ".join(filter(None, notes)),
    )


def _return_requested(data: dict[str, Any], at: datetime) -> list[Event]:
    items = payloads.objects(data, "return_line_items")
    notes = (get_opt_str(item, "customer_note") for item in items)
    return [
        ev.ReturnRequested(
            occurred_at=payloads.first_time(data, ("updated_at", "created_at"), at),
            lines=tuple(_return_line(item) for item in items),
            customer_note=" / ".join(filter(None, notes)),
            **_return_ids(data),
        )
    ]


def _return_status(status: str) -> Reader:
    def read(data: dict[str, Any], at: datetime) -> list[Event]:
        decline = payloads.opt_obj(data, "decline")
        reason = (get_opt_str(decline, key) for key in ("reason", "note"))
        return [
            ev.ReturnStatusChanged(
                occurred_at=payloads.first_time(data, ("updated_at", "created_at"), at),
                status=status,
                reason=" / ".join(filter(None, reason)),
                **_return_ids(data),
            )
        ]

    return read


def _privacy(cls: type[ev.CustomerDataRequested] | type[ev.CustomerRedact], key: str) -> Reader:
    def read(data: dict[str, Any], at: datetime) -> list[Event]:
        customer = payloads.opt_obj(data, "customer")
        customer_id = customer.get("id")
        fields: dict[str, Any] = dict(
            customer_id=None if customer_id is None else payloads.plain_id(customer_id, "id"),
            email=get_opt_str(customer, "email"),
            phone=get_opt_str(customer, "phone"),
            order_ids=tuple(payloads.plain_id(o, key) for o in get_list(data, key)),
        )
        if cls is ev.CustomerDataRequested:
            request_id = payloads.opt_obj(data, "data_request").get("id")
            fields["request_id"] = "" if request_id is None else payloads.plain_id(request_id, "id")
        return [cls(at, **fields)]

    return read


_READERS: dict[str, Reader] = {
    "orders/create": lambda d, at: [payloads.order_event(d, ev.OrderPlaced, at)],
    "orders/updated": lambda d, at: [payloads.order_event(d, ev.OrderUpdated, at)],
    "orders/cancelled": lambda d, at: [payloads.order_cancelled(d, at)],
    "orders/fulfilled": payloads.order_shipments,
    "fulfillments/create": payloads.fulfillment_shipments,
    "fulfillments/update": payloads.fulfillment_shipments,
    "refunds/create": lambda d, at: [payloads.refund_issued(d, at)],
    "returns/request": _return_requested,
    "returns/approve": _return_status("approved"),
    "returns/decline": _return_status("declined"),
    "returns/close": _return_status("closed"),
    "returns/cancel": _return_status("cancelled"),
    "app/uninstalled": lambda d, at: [ev.AppUninstalled(at)],
    "customers/data_request": _privacy(ev.CustomerDataRequested, "orders_requested"),
    "customers/redact": _privacy(ev.CustomerRedact, "orders_to_redact"),
    "shop/redact": lambda d, at: [ev.ShopRedact(at)],
}


def parse(headers: Headers, raw_body: bytes) -> list[Event]:
    """The events of a verified delivery; unknown topics give one `Ignored`.

    Raises `MalformedPayload` for a missing topic header, a body that is not a JSON object,
    or a payload missing a field its topic needs.
    """
    name = topic(headers)
    data = load_json(raw_body)
    at = _triggered_at(headers)
    reader = _READERS.get(name)
    if reader is None:
        return [ev.Ignored(at, name)]
    return reader(data, at)
