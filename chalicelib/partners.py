"""A merchant's marketplace API clients, built from its stored credentials when first needed.

Used by the marketplace outbox sender (return decisions, refunds) and by the BigCommerce
webhook pipeline (its light payloads name an order; the order is fetched here). Credentials
come from the merchant's `CredentialsItem`; a Shopify token close to expiry is refreshed
first (`install.shopify_access_token`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.connectors.bigcommerce_api import BigCommerceApi, order_event
from chalicelib.connectors.http import for_settings
from chalicelib.connectors.woocommerce_api import WooCommerceApi
from chalicelib.errors import ProviderError
from chalicelib.store import keys
from chalicelib.store.models import CredentialsItem

if TYPE_CHECKING:
    from chalicelib.connectors.shopify_api import ShopifyAdmin
    from chalicelib.deps import Deps
    from chalicelib.events import OrderChanged, OrderPlaced
    from chalicelib.store.models import MerchantItem

__all__ = [
    "credentials",
    "shopify_client",
    "woocommerce_client",
    "bigcommerce_client",
    "fetch_bigcommerce_order",
]


def credentials(deps: Deps, merchant_id: str, platform: str) -> CredentialsItem:
    """The merchant's credentials for `platform`; raises `ProviderError` (not retryable)
    when there are none (the merchant must install or connect again)."""
    creds = deps.store.get(CredentialsItem, keys.credentials(merchant_id))
    if creds is None or creds.platform != platform:
        raise ProviderError(f"no {platform} credentials for this merchant", retryable=False)
    return creds


def shopify_client(deps: Deps, creds: CredentialsItem, now: datetime) -> ShopifyAdmin:
    from chalicelib.install import shopify_access_token, shopify_admin

    return shopify_admin(deps, creds.account, shopify_access_token(deps, creds, now))


def woocommerce_client(deps: Deps, creds: CredentialsItem) -> WooCommerceApi:
    http = for_settings(deps.settings, "WooCommerce")
    return WooCommerceApi(creds.account, creds.access_token, creds.secret or "", http)


def bigcommerce_client(deps: Deps, creds: CredentialsItem, *, attempts: int = 3) -> BigCommerceApi:
    http = for_settings(deps.settings, "BigCommerce", attempts=attempts)
    base = deps.settings.bigcommerce_api_base
    return BigCommerceApi(creds.account, creds.access_token, http, base)


def fetch_bigcommerce_order(deps: Deps, merchant: MerchantItem, event: OrderChanged) -> OrderPlaced:
    """The order a light BigCommerce event names, as `OrderPlaced` (created) or
    `OrderUpdated`. Two attempts only: the webhook waits. Raises `ProviderError`."""
    creds = credentials(deps, merchant.merchant_id, "bigcommerce")
    order, products = bigcommerce_client(deps, creds, attempts=2).fetch_order(event.order_id)
    return order_event(order, products, created=event.change == "created")
