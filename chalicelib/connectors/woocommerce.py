"""WooCommerce inbound connector: verify webhook signatures, parse order topics into events.

Signing: https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
(`X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the raw body under the webhook's secret).
When a webhook is saved, WooCommerce POSTs an unsigned form body `webhook_id=<id>` (a ping):
`is_ping` recognises it so the route can answer 200 and do nothing. Order payloads follow
the REST API v3 order resource; header names are looked up lower-case.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any

from chalicelib import events as ev
from chalicelib.connectors.base import (
    Headers,
    body_digest,
    get_count,
    get_list,
    get_obj,
    get_opt_str,
    get_str,
    header,
    load_json,
    parse_money,
    parse_time,
    verify_base64_hmac,
)
from chalicelib.errors import MalformedPayload

__all__ = [
    "SIGNATURE_HEADER",
    "TOPIC_HEADER",
    "RESOURCE_HEADER",
    "EVENT_HEADER",
    "DELIVERY_ID_HEADER",
    "SOURCE_HEADER",
    "WEBHOOK_ID_HEADER",
    "is_ping",
    "verify",
    "delivery_id",
    "topic",
    "parse",
]

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
RESOURCE_HEADER = "X-WC-Webhook-Resource"
EVENT_HEADER = "X-WC-Webhook-Event"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"
SOURCE_HEADER = "X-WC-Webhook-Source"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"

_PING = re.compile(rb"webhook_id=[0-9]{1,20}")


def is_ping(headers: Headers, raw_body: bytes) -> bool:
    """True for WooCommerce's unsigned `webhook_id=<id>` ping (answer 200, do nothing)."""
    return header(headers, TOPIC_HEADER) is None and bool(_PING.fullmatch(raw_body.strip()))


def verify(headers: Headers, raw_body: bytes, secrets: Sequence[str] | str) -> None:
    """Check `X-WC-Webhook-Signature` over the raw body against any of `secrets` (rotation).

    Raises `BadSignature` when the header is missing, not base64, or matches no secret.
    """
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    verify_base64_hmac(headers, raw_body, keys, SIGNATURE_HEADER)


def delivery_id(headers: Headers, raw_body: bytes) -> str:
    """The dedupe key: `X-WC-Webhook-Delivery-ID`, else the SHA-256 of the body."""
    return header(headers, DELIVERY_ID_HEADER) or body_digest(raw_body)


def topic(headers: Headers) -> str:
    """The delivery's topic (e.g. `order.updated`); raises `MalformedPayload` when missing."""
    value = header(headers, TOPIC_HEADER)
    if not value:
        raise MalformedPayload(f"missing {TOPIC_HEADER} header")
    return value.lower()


def _time(order: dict[str, Any], *keys: str) -> datetime:
    """The first set GMT time among `keys` (WooCommerce writes them without an offset)."""
    for key in keys:
        if order.get(key) not in (None, ""):
            return parse_time(order[key], key)
    raise MalformedPayload(f"'{keys[0]}' is required")


def _opt_obj(order: dict[str, Any], key: str) -> dict[str, Any]:
    return {} if order.get(key) is None else get_obj(order, key)


def _customer(order: dict[str, Any]) -> ev.CustomerInfo | None:
    billing, shipping = _opt_obj(order, "billing"), _opt_obj(order, "shipping")
    address = shipping if get_opt_str(shipping, "country") else billing
    email = get_opt_str(billing, "email")
    raw_id = get_opt_str(order, "customer_id")
    if raw_id and raw_id != "0":
        customer_id = raw_id
    elif email:  # guest checkout: a stable id from the e-mail address
        customer_id = "guest:" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    else:
        return None
    return ev.CustomerInfo(
        customer_id=customer_id,
        email=email,
        phone=get_opt_str(billing, "phone") or get_opt_str(shipping, "phone"),
        first_name=get_opt_str(billing, "first_name") or get_opt_str(shipping, "first_name"),
        last_name=get_opt_str(billing, "last_name") or get_opt_str(shipping, "last_name"),
        country=(get_opt_str(address, "country") or "").upper() or None,
        province=get_opt_str(address, "state"),
        city=get_opt_str(address, "city"),
    )


def _line_item(item: Any, currency: str) -> ev.LineItem:
    if not isinstance(item, dict):
        raise MalformedPayload("'line_items' must hold objects")
    product_id = get_opt_str(item, "product_id")
    return ev.LineItem(
        line_id=get_str(item, "id"),
        sku=get_opt_str(item, "sku"),
        title=get_opt_str(item, "name") or "",
        quantity=get_count(item, "quantity"),
        unit_price=parse_money(item.get("price"), currency, "line_items[].price"),
        product_id=None if product_id in (None, "0") else product_id,
    )


def _refunds(order: dict[str, Any], currency: str, at: datetime) -> list[ev.RefundIssued]:
    refunds = []
    for refund in get_list(order, "refunds"):
        if not isinstance(refund, dict):
            raise MalformedPayload("'refunds' must hold objects")
        total = parse_money(refund.get("total"), currency, "refunds[].total")  # negative
        refunds.append(
            ev.RefundIssued(
                occurred_at=at,
                order_id=get_str(order, "id"),
                refund_id=get_str(refund, "id"),
                amount=ev.Money(abs(total.amount), total.currency),
                # The API names it `reason`; the docs' example shows `refund`.
                note=get_opt_str(refund, "reason") or get_opt_str(refund, "refund") or "",
            )
        )
    return refunds


def _order_events(order: dict[str, Any], updated: bool) -> list[ev.Event]:
    currency = get_str(order, "currency").upper()
    at = _time(order, "date_modified_gmt", "date_created_gmt")
    status = get_opt_str(order, "status") or ""
    placed: dict[str, Any] = dict(
        occurred_at=at,
        order_id=get_str(order, "id"),
        order_number=get_opt_str(order, "number") or get_str(order, "id"),
        customer=_customer(order),
        total=parse_money(order.get("total"), currency, "total"),
        line_items=tuple(_line_item(li, currency) for li in get_list(order, "line_items")),
        financial_status=status,
        fulfillment_status="fulfilled" if status == "completed" else "",
    )
    if not updated:
        return [ev.OrderPlaced(**placed)]
    refunds = _refunds(order, currency, at)
    try:
        refunded = sum((r.amount.amount for r in refunds), Decimal(0))
    except DecimalException as exc:
        raise MalformedPayload("refund totals are out of range") from exc
    events: list[ev.Event] = [
        ev.OrderUpdated(**placed, refunded_total=ev.Money(refunded, currency) if refunds else None)
    ]
    if status == "cancelled":
        events.append(ev.OrderCancelled(at, order_id=placed["order_id"]))
    return [*events, *refunds]


def parse(headers: Headers, raw_body: bytes) -> list[ev.Event]:
    """The events of a verified delivery: order.created / order.updated; others `Ignored`.

    order.updated also yields a `RefundIssued` per refund on the order (the handler
    dedupes them by refund id) and an `OrderCancelled` when the status is `cancelled`.
    Raises `MalformedPayload` for a missing topic, a non-object body or missing fields.
    """
    name = topic(headers)
    data = load_json(raw_body)
    if name in ("order.created", "order.updated"):
        return _order_events(data, updated=name == "order.updated")
    return [ev.Ignored(datetime.now(UTC), name)]
