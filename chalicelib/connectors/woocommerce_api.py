"""WooCommerce outbound client: the key-granting connect URL, webhook registration, refunds.

Connect: https://woocommerce.github.io/woocommerce-rest-api-docs/#rest-api-keys (the
merchant approves `/wc-auth/v1/authorize`; the store then POSTs `key_id`, `user_id`,
`consumer_key`, `consumer_secret`, `key_permissions` as JSON to our `callback_url`, with
`user_id` set to our own reference). REST API v3 with HTTP Basic auth (consumer key and
secret; HTTPS only): `POST /wp-json/wc/v3/webhooks` (name, topic, delivery_url, secret) and
`POST /wp-json/wc/v3/orders/{id}/refunds` (`api_refund: true` asks the payment gateway to
return the money). WooCommerce has no idempotency key: our refund reason carries a marker and
`find_refund` looks for it before a retry. No WooCommerce type leaves this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalicelib.connectors.http import PartnerHttp, json_body
from chalicelib.connectors.shopify_api import marker_outbox_id, refund_note
from chalicelib.errors import MalformedPayload, ProviderError

__all__ = [
    "WooCommerceApi",
    "authorize_url",
    "normalize_store_url",
    "WEBHOOK_TOPICS",
    "PERMISSIONS",
]

WEBHOOK_TOPICS = ("order.created", "order.updated")
PERMISSIONS = "read_write"  # webhooks and refunds need write access
APP_NAME = "Aftercare"


def normalize_store_url(value: str | None, *, allow_http: bool = False) -> str:
    """`https://host[:port][/path]` without query, fragment, credentials or trailing slash.

    `allow_http` (local stubs only) also accepts `http://`. Raises `MalformedPayload`.
    """
    text = (value or "").strip()
    parts = urlsplit(text)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise MalformedPayload(f"store_url must be an {' or '.join(schemes)} URL of the store")
    if parts.query or parts.fragment or len(text) > 200:
        raise MalformedPayload("store_url must not carry a query or fragment")
    host = parts.hostname.lower()
    if not allow_http and (host == "localhost" or host.replace(".", "").isdigit() or ":" in host):
        raise MalformedPayload("store_url must name the store's public host")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def authorize_url(store_url: str, reference: str, return_url: str, callback_url: str) -> str:
    """Where the merchant approves read/write keys for us; `reference` comes back as user_id."""
    query = {
        "app_name": APP_NAME,
        "scope": PERMISSIONS,
        "user_id": reference,
        "return_url": return_url,
        "callback_url": callback_url,
    }
    return f"{store_url}/wc-auth/v1/authorize?{urlencode(query)}"


class WooCommerceApi:
    """REST calls to one store with its consumer key and secret."""

    def __init__(self, store_url: str, key: str, secret: str, http: PartnerHttp) -> None:
        self.store_url = store_url.rstrip("/")
        self._auth = (key, secret)
        self.http = http

    def __repr__(self) -> str:  # never print the keys
        return f"WooCommerceApi({self.store_url})"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        url = f"{self.store_url}/wp-json/wc/v3/{path}"
        response = self.http.request(method, url, auth=self._auth, **kwargs)
        body = json_body(response)
        if response.status_code in (200, 201):
            return body
        message = body.get("message") if isinstance(body, dict) else ""
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        detail = f"WooCommerce refused {what} (HTTP {response.status_code}): {message or ''}"
        # WooCommerce answers 500 for a refused refund ("Invalid refund amount."): final.
        refused = code.startswith("woocommerce_rest_cannot_create")
        retryable = (response.status_code >= 500 or response.status_code == 408) and not refused
        raise ProviderError(detail.rstrip(": ")[:500], retryable=retryable)

    def register_webhooks(
        self, delivery_url: str, secret: str, topics: Iterable[str] = WEBHOOK_TOPICS
    ) -> list[str]:
        """Create one webhook per topic, signed with `secret`; returns their ids.

        WooCommerce pings `delivery_url` while saving each webhook and fails it unless the
        ping gets a 2xx (our route answers pings without a signature).
        """
        ids = []
        for topic in topics:
            body = {
                "name": f"{APP_NAME} {topic}",
                "topic": topic,
                "delivery_url": delivery_url,
                "secret": secret,
                "status": "active",
            }
            created = self._call("POST", "webhooks", f"the {topic} webhook", json=body)
            ids.append(str((created or {}).get("id", "")))
        return ids

    def find_refund(self, order_id: str, outbox_id: str) -> str | None:
        """The id of a refund on the order we created for `outbox_id`, if any."""
        refunds = self._call("GET", f"orders/{order_id}/refunds", "the refund lookup")
        for refund in refunds if isinstance(refunds, list) else []:
            if marker_outbox_id(refund.get("reason")) == outbox_id:
                return str(refund.get("id"))
        return None

    def create_refund(
        self,
        order_id: str,
        amount: str,
        *,
        marker: str,
        reason: str = "",
        lines: Sequence[Mapping[str, Any]] = (),
        restock: bool = False,
    ) -> str:
        """Refund `amount` through the payment gateway (`api_refund`); returns the refund id.

        Not repeated inside the call (WooCommerce has no idempotency key): a lost answer
        surfaces as a retryable `ProviderError`, and the retry first looks for `marker`.
        """
        line_items = [
            {
                "id": str(line["line_id"]),
                "quantity": int(line["quantity"]),
                **({"refund_total": str(line["amount"])} if line.get("amount") else {}),
            }
            for line in lines
        ]
        body = {
            "amount": amount,
            "reason": refund_note(marker, reason),
            "api_refund": True,
            "api_restock": restock,
            "line_items": line_items,
        }
        created = self._call("POST", f"orders/{order_id}/refunds", "the refund", json=body)
        if not isinstance(created, dict) or created.get("id") is None:
            raise ProviderError("WooCommerce created no refund", retryable=False)
        return str(created["id"])
