"""A stub of the WooCommerce REST API v3 calls Aftercare makes, speaking its wire format.

HTTP Basic auth with a consumer key/secret pair (`grant_keys`); `POST /wp-json/wc/v3/webhooks`
answers 201 with the webhook resource; `GET|POST /wp-json/wc/v3/orders/{id}/refunds` list and
create refunds (201 with the refund resource; WooCommerce's own errors otherwise, e.g. 500
`woocommerce_rest_cannot_create_order_refund` "Invalid refund amount."). Shapes follow
https://woocommerce.github.io/woocommerce-rest-api-docs/ (webhooks, order refunds).
"""

from __future__ import annotations

import base64
import itertools
import re
from decimal import Decimal
from typing import Any

from tests.stubs.marketplace_base import MarketplaceStub, Reply, Request

__all__ = ["WooCommerceStub"]

_REFUNDS = re.compile(r"^/wp-json/wc/v3/orders/([0-9]+)/refunds$")


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message, "data": {"status": status}})


class WooCommerceStub(MarketplaceStub):
    """One fake store: granted keys, webhooks, orders (id -> total) and their refunds."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, str] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.orders: dict[str, Decimal] = {}
        self.refunds: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(501)

    def grant_keys(self) -> tuple[str, str]:
        key, secret = f"ck_fake{next(self._ids):040d}", f"cs_fake{next(self._ids):040d}"
        self.keys[key] = secret
        return key, secret

    def add_order(self, order_id: str, total: str) -> None:
        self.orders[order_id] = Decimal(total)
        self.refunds.setdefault(order_id, [])

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return self.keys.get(key) == secret

    def handle(self, request: Request) -> Reply:
        if not self._authorized(request):
            return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if request.path == "/wp-json/wc/v3/webhooks" and request.method == "POST":
            body = request.json()
            webhook = {
                "id": next(self._ids),
                "name": body["name"],
                "status": body.get("status", "active"),
                "topic": body["topic"],
                "resource": body["topic"].split(".")[0],
                "event": body["topic"].split(".")[1],
                "delivery_url": body["delivery_url"],
                "secret": body["secret"],
            }
            self.webhooks.append(webhook)
            return Reply(201, webhook)
        match = _REFUNDS.match(request.path)
        if match:
            order_id = match.group(1)
            if order_id not in self.orders:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if request.method == "GET":
                return Reply(200, self.refunds[order_id])
            return self._refund(order_id, request.json())
        return _error(404, "rest_no_route", "No route was found matching the URL")

    def _refund(self, order_id: str, body: dict[str, Any]) -> Reply:
        amount = Decimal(str(body.get("amount") or "0"))
        refunded = sum((Decimal(r["amount"]) for r in self.refunds[order_id]), Decimal(0))
        if amount <= 0 or refunded + amount > self.orders[order_id]:
            return _error(
                500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount."
            )
        refund = {
            "id": next(self._ids),
            "date_created": "2026-11-23T10:00:00",
            "amount": f"{amount:.2f}",
            "reason": body.get("reason", ""),
            "refunded_by": 1,
            "refunded_payment": bool(body.get("api_refund")),
            "line_items": body.get("line_items") or [],
        }
        self.refunds[order_id].append(refund)
        return Reply(201, refund)
