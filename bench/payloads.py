"""Signed partner webhooks for generated data: what Shopify, EasyPost, a WMS and Twilio would send.

Each builder takes a record from `tests.data.generator` and returns a `Request` (path,
headers, exact body bytes) signed like the partner signs, with the obviously fake secrets of
`tests.signing`. Bodies start from the partners' documented examples in `tests/fixtures/`
(so sizes and shapes are realistic) with the generated values written in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from tests import signing
from tests.data.generator import (
    Fulfillment,
    Order,
    ReturnRequest,
    SmsReply,
    TrackingUpdate,
    WarehouseReceipt,
)
from tests.support import load_fixture

__all__ = [
    "Request",
    "MERCHANT_SECRETS",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_NUMBER",
    "order_created",
    "fulfillment",
    "tracking_update",
    "return_requested",
    "warehouse_receipt",
    "sms_reply",
    "build",
]

# Per-connector webhook secrets every benchmark merchant is created with.
MERCHANT_SECRETS = {
    "easypost": [signing.FAKE_EASYPOST_SECRET],
    "generic_wms": [signing.FAKE_GENERIC_WMS_SECRET],
    "generic_carrier": [signing.FAKE_GENERIC_CARRIER_SECRET],
}
TWILIO_AUTH_TOKEN = "twilio_fake_auth_token_do_not_use"
TWILIO_NUMBER = "+14155550100"
_NAMESPACE = uuid.UUID("6f1c39e4-3f5e-4d7c-9b2a-0b8c2d7e5a11")


@dataclass(frozen=True)
class Request:
    """One webhook delivery: `kind` names the event type for the report."""

    kind: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _fixture(partner: str, name: str) -> dict[str, Any]:
    return json.loads(load_fixture(partner, name))


def _base(partner: str, name: str) -> dict[str, Any]:
    return json.loads(json.dumps(_fixture(partner, name)))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shopify(kind: str, topic: str, shop: str, data: dict[str, Any], cause: str) -> Request:
    body = json.dumps(data, ensure_ascii=False).encode()
    webhook_id = str(uuid.uuid5(_NAMESPACE, f"{topic}:{cause}"))
    headers = signing.shopify_headers(body, topic, shop=shop, webhook_id=webhook_id)
    return Request(kind, "/webhooks/shopify", body, headers)


def _address(order: Order) -> dict[str, Any]:
    c = order.customer
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "name": f"{c.first_name} {c.last_name}",
        "address1": c.address1,
        "address2": "",
        "city": c.city,
        "zip": c.zip,
        "province_code": c.province,
        "country_code": c.country,
        "phone": c.phone,
        "company": None,
    }


def order_created(order: Order) -> Request:
    """Shopify `orders/create` for `order` (its docs example with our values)."""
    data = _base("shopify", "orders_create.json")
    c = order.customer
    template = data["line_items"][0]
    lines = []
    for line in order.lines:
        item = {**template, "id": int(line.line_id), "product_id": int(line.product_id)}
        item.update(sku=line.sku, title=line.title, name=line.title, quantity=line.quantity)
        item.update(price=str(line.unit_price), variant_id=int(line.product_id) + 1)
        lines.append(item)
    data.update(
        id=int(order.order_id),
        name=order.order_number,
        order_number=int(order.order_number.lstrip("#")),
        number=int(order.order_number.lstrip("#")) - 1000,
        email=c.email,
        phone=c.phone,
        currency=order.currency,
        customer_locale=c.locale,
        created_at=_iso(order.created_at),
        updated_at=_iso(order.created_at),
        processed_at=_iso(order.created_at),
        subtotal_price=str(order.subtotal),
        total_line_items_price=str(order.subtotal),
        total_price=str(order.total),
        total_price_usd=str(order.total),
        financial_status="paid",
        fulfillment_status=None,
        line_items=lines,
        shipping_address=_address(order),
        billing_address=_address(order),
        fulfillments=[],
    )
    data["customer"] = {
        **data["customer"],
        "id": int(c.customer_id),
        "email": c.email,
        "phone": c.phone,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "default_address": _address(order),
    }
    return _shopify(
        "order_created", "orders/create", order.merchant.shop_domain, data, order.order_id
    )


def fulfillment(shipment: Fulfillment) -> Request:
    """Shopify `fulfillments/create` with one tracking number."""
    data = _base("shopify", "fulfillments_create.json")
    order = shipment.order
    template = data["line_items"][0]
    lines = [
        {
            **template,
            "id": int(line.line_id),
            "sku": line.sku,
            "title": line.title,
            "name": line.title,
            "quantity": line.quantity,
            "price": str(line.unit_price),
        }
        for line in order.lines
        if line.line_id in shipment.line_ids
    ]
    data.update(
        id=int(shipment.fulfillment_id),
        admin_graphql_api_id=f"gid://shopify/Fulfillment/{shipment.fulfillment_id}",
        order_id=int(order.order_id),
        status="success",
        created_at=_iso(shipment.created_at),
        updated_at=_iso(shipment.created_at),
        tracking_company=shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_numbers=[shipment.tracking_number],
        tracking_url=f"https://track.example.com/{shipment.tracking_number}",
        tracking_urls=[f"https://track.example.com/{shipment.tracking_number}"],
        email=order.customer.email,
        destination=_address(order),
        line_items=lines,
        name=f"{order.order_number}.1",
    )
    return _shopify(
        "fulfillment",
        "fulfillments/create",
        order.merchant.shop_domain,
        data,
        shipment.fulfillment_id,
    )


def _detail(update: TrackingUpdate) -> dict[str, Any]:
    return {
        "object": "TrackingDetail",
        "message": update.message,
        "description": update.message,
        "status": update.status,
        "status_detail": update.status_detail,
        "datetime": _iso(update.at),
        "source": update.fulfillment.carrier,
        "carrier_code": "",
        "tracking_location": {
            "object": "TrackingLocation",
            "city": update.city,
            "state": update.province,
            "country": update.country,
            "zip": update.zip,
        },
    }


def tracking_update(update: TrackingUpdate, history: tuple[TrackingUpdate, ...] = ()) -> Request:
    """EasyPost `tracker.updated`: the Tracker with `history` + `update` as tracking details."""
    data = _base("easypost", "tracker_updated.json")
    shipment = update.fulfillment
    tracker = data["result"]
    tracker.update(
        id=f"trk_{hashlib.sha256(shipment.tracking_number.encode()).hexdigest()[:24]}",
        tracking_code=shipment.tracking_number,
        carrier=shipment.carrier,
        status=update.status,
        status_detail=update.status_detail,
        created_at=_iso(shipment.created_at),
        updated_at=_iso(update.at),
        tracking_details=[_detail(u) for u in (*history, update)],
    )
    data.update(id=update.event_id, created_at=_iso(update.at), updated_at=_iso(update.at))
    body = json.dumps(data, ensure_ascii=False).encode()
    merchant_id = shipment.order.merchant.merchant_id
    return Request(
        "tracking_update",
        f"/webhooks/carriers/easypost/{merchant_id}",
        body,
        signing.sign_easypost(body),
    )


def return_requested(request: ReturnRequest) -> Request:
    """Shopify `returns/request` for the generated lines, the complaint as customer note."""
    data = _base("shopify", "returns_request.json")
    order = request.order
    template = data["return_line_items"][0]
    lines = []
    for n, (line, quantity, reason) in enumerate(request.lines):
        item = json.loads(json.dumps(template))
        item.update(id=int(request.return_id) + n + 1, quantity=quantity, return_reason=reason)
        item.update(customer_note=request.note if n == 0 else None, return_reason_note="")
        item["fulfillment_line_item"]["line_item"]["id"] = int(line.line_id)
        item["fulfillment_line_item"]["line_item"]["admin_graphql_api_id"] = (
            f"gid://shopify/LineItem/{line.line_id}"
        )
        lines.append(item)
    data.update(
        id=int(request.return_id),
        admin_graphql_api_id=f"gid://shopify/Return/{request.return_id}",
        order={
            "id": int(order.order_id),
            "admin_graphql_api_id": f"gid://shopify/Order/{order.order_id}",
        },
        return_line_items=lines,
        total_return_line_items=len(lines),
    )
    return _shopify(
        "return_requested", "returns/request", order.merchant.shop_domain, data, request.return_id
    )


def warehouse_receipt(receipt: WarehouseReceipt, signed_at: int | None = None) -> Request:
    """Our generic WMS format's `return.received`, signed now (the format has a 5-min window)."""
    request = receipt.request
    data = {
        "event": "return.received",
        "return_code": request.return_code,
        "warehouse_return_id": f"WH-{request.return_id}",
        "order_id": request.order.order_id,
        "tracking_number": receipt.tracking_number,
        "occurred_at": _iso(receipt.at),
        "lines": [{"sku": line.sku, "quantity": quantity} for line, quantity, _ in request.lines],
    }
    body = json.dumps(data, ensure_ascii=False).encode()
    merchant_id = request.order.merchant.merchant_id
    return Request(
        "warehouse_receipt",
        f"/webhooks/warehouse/generic/{merchant_id}",
        body,
        signing.sign_generic_wms(body, timestamp=signed_at),
    )


def _twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 of URL + sorted name/value pairs."""
    message = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), message.encode(), hashlib.sha1).digest()
    ).decode()


def sms_reply(reply: SmsReply, public_url: str = "http://127.0.0.1:8000") -> Request:
    """A Twilio inbound message from the customer to our number (form-encoded, signed)."""
    from chalicelib.notify.phone import normalize_e164

    sender = normalize_e164(reply.customer.phone or "", reply.customer.country) or ""
    params = {
        "MessageSid": reply.message_id,
        "SmsSid": reply.message_id,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": TWILIO_NUMBER,
        "Body": reply.body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    path = "/webhooks/sms/twilio"
    helper = getattr(signing, "sign_twilio", None)
    if helper is not None:
        headers = dict(helper(public_url + path, params, TWILIO_AUTH_TOKEN))
    else:
        headers = {
            "x-twilio-signature": _twilio_signature(public_url + path, params, TWILIO_AUTH_TOKEN)
        }
    headers["content-type"] = "application/x-www-form-urlencoded"
    return Request("sms_reply", path, urlencode(params).encode(), headers)


def build(kind: str, subject: Any, data_tracking: dict[str, tuple[TrackingUpdate, ...]]) -> Request:
    """The request for a `tests.data.generator.Happening` (tracking updates carry their history)."""
    if kind == "tracking_update":
        stream = data_tracking[subject.fulfillment.tracking_number]
        return tracking_update(subject, stream[: stream.index(subject)])
    builders = {
        "order_created": order_created,
        "fulfillment": fulfillment,
        "return_requested": return_requested,
        "warehouse_receipt": warehouse_receipt,
        "sms_reply": sms_reply,
    }
    return builders[kind](subject)
