"""BigCommerce outbound client: app OAuth token, webhook registration, order fetch.

Webhook payloads are light (ids only), so an order event is completed by fetching the order:
`GET /stores/{hash}/v2/orders/{id}` and `.../v2/orders/{id}/products` with `X-Auth-Token`
(https://developer.bigcommerce.com/docs/rest-management/orders). Webhooks are created with
`POST /stores/{hash}/v3/hooks` carrying our secret header
(https://developer.bigcommerce.com/docs/integrations/webhooks). The app's install callback
exchanges its code at `POST https://login.bigcommerce.com/oauth2/token`
(https://developer.bigcommerce.com/docs/integrations/apps/guide/auth). No BigCommerce type
leaves this module: orders become `OrderPlaced` / `OrderUpdated`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from chalicelib import events as ev
from chalicelib.connectors.base import get_count, get_opt_str, get_str, parse_money
from chalicelib.connectors.bigcommerce import ORDER_STATUSES, registration_headers
from chalicelib.connectors.http import PartnerHttp, json_body
from chalicelib.errors import MalformedPayload, ProviderError

__all__ = ["BigCommerceApi", "exchange_code", "order_event", "WEBHOOK_SCOPES", "AUTH_HEADER"]

AUTH_HEADER = "X-Auth-Token"
WEBHOOK_SCOPES = (
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/refund/created",
    "store/app/uninstalled",
)
_FULFILLED = {"shipped": "fulfilled", "completed": "fulfilled", "partially_shipped": "partial"}


def exchange_code(
    http: PartnerHttp, login_base: str, form: Mapping[str, str]
) -> tuple[str, str, tuple[str, ...]]:
    """(store hash, access token, scopes) for an install callback's code.

    `form` holds client_id, client_secret, code, context, scope, redirect_uri.
    Raises `ProviderError`.
    """
    body = {**form, "grant_type": "authorization_code"}
    response = http.request("POST", f"{login_base.rstrip('/')}/oauth2/token", json=body)
    data = json_body(response)
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        retryable = response.status_code >= 500
        raise ProviderError(
            f"BigCommerce refused the code (HTTP {response.status_code})", retryable=retryable
        )
    context = str(data.get("context") or form.get("context") or "")
    if not context.startswith("stores/") or len(context) <= len("stores/"):
        raise ProviderError("BigCommerce answered without a store context", retryable=False)
    scopes = tuple(str(data.get("scope") or "").split())
    return context.split("/", 1)[1], str(data["access_token"]), scopes


class BigCommerceApi:
    """Calls to one store (`store_hash`) with its API token."""

    def __init__(self, store_hash: str, token: str, http: PartnerHttp, api_base: str) -> None:
        self.store_hash = store_hash
        self._headers = {AUTH_HEADER: token, "Accept": "application/json"}
        self.http = http
        self._base = f"{api_base.rstrip('/')}/stores/{store_hash}"

    def __repr__(self) -> str:  # never print the token
        return f"BigCommerceApi({self.store_hash})"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        response = self.http.request(
            method, f"{self._base}/{path}", headers=self._headers, **kwargs
        )
        if response.status_code in (200, 201):
            return json_body(response)
        retryable = response.status_code >= 500 or response.status_code == 404
        detail = f"BigCommerce refused {what} (HTTP {response.status_code})"
        raise ProviderError(detail, retryable=retryable)

    def register_webhooks(
        self, destination: str, secret: str, scopes: Iterable[str] = WEBHOOK_SCOPES
    ) -> list[str]:
        """Create one hook per scope carrying our secret header; returns their ids."""
        ids = []
        for scope in scopes:
            body = {
                "scope": scope,
                "destination": destination,
                "is_active": True,
                "headers": registration_headers(secret),
            }
            created = self._call("POST", "v3/hooks", f"the {scope} hook", json=body)
            ids.append(str(((created or {}).get("data") or {}).get("id", "")))
        return ids

    def fetch_order(self, order_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The order and its products (a 404 is retryable: a new order may not be readable
        yet). Raises `ProviderError`."""
        order = self._call("GET", f"v2/orders/{order_id}", f"order {order_id}")
        products = self._call("GET", f"v2/orders/{order_id}/products", "its products")
        if not isinstance(order, dict) or not isinstance(products, list):
            raise ProviderError("BigCommerce answered an order in an unknown shape")
        return order, [p for p in products if isinstance(p, dict)]


def _time(value: Any, name: str) -> datetime:
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError) as exc:
        raise MalformedPayload(f"'{name}' is not an RFC 2822 time") from exc


def _customer(order: Mapping[str, Any]) -> ev.CustomerInfo | None:
    billing = order.get("billing_address") or {}
    if not isinstance(billing, dict):
        raise MalformedPayload("'billing_address' must be an object")
    email = get_opt_str(billing, "email")
    raw_id = get_opt_str(order, "customer_id")
    if raw_id and raw_id != "0":
        customer_id = raw_id
    elif email:
        customer_id = "guest:" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    else:
        return None
    return ev.CustomerInfo(
        customer_id=customer_id,
        email=email,
        phone=get_opt_str(billing, "phone"),
        first_name=get_opt_str(billing, "first_name"),
        last_name=get_opt_str(billing, "last_name"),
        country=(get_opt_str(billing, "country_iso2") or "").upper() or None,
        province=get_opt_str(billing, "state"),
        city=get_opt_str(billing, "city"),
    )


def order_event(
    order: Mapping[str, Any], products: Iterable[Mapping[str, Any]], *, created: bool
) -> ev.OrderPlaced:
    """`OrderPlaced` (or `OrderUpdated` with the refunded total) from a fetched v2 order.

    Raises `MalformedPayload` when a field the event needs is missing.
    """
    currency = get_str(order, "currency_code").upper()
    status = ORDER_STATUSES.get(get_count(order, "status_id", maximum=999, default=0), "")
    fields: dict[str, Any] = dict(
        occurred_at=_time(order.get("date_modified") or order.get("date_created"), "date"),
        order_id=get_str(order, "id"),
        order_number=get_str(order, "id"),
        customer=_customer(order),
        total=parse_money(order.get("total_inc_tax"), currency, "total_inc_tax"),
        line_items=tuple(
            ev.LineItem(
                line_id=get_str(p, "id"),
                sku=get_opt_str(p, "sku"),
                title=get_opt_str(p, "name") or "",
                quantity=get_count(p, "quantity"),
                unit_price=parse_money(p.get("price_inc_tax"), currency, "price_inc_tax"),
                product_id=get_opt_str(p, "product_id"),
            )
            for p in products
        ),
        financial_status=status,
        fulfillment_status=_FULFILLED.get(status, ""),
    )
    if created:
        return ev.OrderPlaced(**fields)
    refunded = parse_money(order.get("refunded_amount") or "0", currency, "refunded_amount")
    return ev.OrderUpdated(
        **fields, refunded_total=refunded if refunded.amount > Decimal(0) else None
    )
