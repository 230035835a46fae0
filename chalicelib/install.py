"""Install and connect flows: Shopify OAuth, WooCommerce key grant, BigCommerce app auth.

Framework-free: `app.py` passes the query (and body, cookie) and renders what comes back.
Shopify: `begin_shopify` checks the install query's HMAC, timestamp and shop, stores a
single-use state nonce (TTL) and redirects to the shop's authorize page, also setting the
nonce as a cookie; `finish_shopify` checks HMAC, shop, cookie and state (consumed by one
conditional delete), exchanges the code for an expiring offline token, refuses missing
scopes, subscribes our webhooks and creates (or reactivates) the merchant. WooCommerce and
BigCommerce flows are in `install_stores` and share the helpers here (credentials, merchant
activation, API keys). Tokens go to the merchant's `CredentialsItem`, never to a log.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.connectors import shopify, shopify_api
from chalicelib.connectors import shopify_oauth as shopify_oauth_api
from chalicelib.connectors.http import for_settings
from chalicelib.errors import AftercareError, BadSignature, StaleVersion
from chalicelib.log import bind_context, get_logger
from chalicelib.store import keys, lifecycle
from chalicelib.store.models import CredentialsItem, MerchantItem
from chalicelib.store.records import new_credentials, new_oauth_state

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = [
    "Redirect",
    "Installed",
    "MissingScopes",
    "STATE_COOKIE",
    "begin_shopify",
    "finish_shopify",
    "shopify_admin",
    "shopify_oauth",
    "shopify_access_token",
    "save_credentials",
    "activate_merchant",
    "issue_api_key",
    "new_state",
    "public_url",
    "not_prod",
]

log = get_logger(__name__)
STATE_TTL = timedelta(minutes=10)
STATE_COOKIE = "aftercare_shopify_state"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh an expiring token this long before it expires


class MissingScopes(AftercareError):
    """The merchant granted fewer permissions than the app needs; install again to grant them."""

    http_status = 400
    code = "missing_scopes"


@dataclass(frozen=True)
class Redirect:
    """Send the browser to `location` (with the state cookie to set, if any)."""

    location: str
    cookie: str | None = None


@dataclass(frozen=True)
class Installed:
    """A finished install: the merchant, and its API key when one was issued (shown once)."""

    merchant_id: str
    platform: str
    api_key: str | None
    detail: str


def public_url(deps: Deps, path: str) -> str:
    """Our public URL of `path` (redirect and webhook targets)."""
    return deps.settings.public_url.rstrip("/") + path


def not_prod(deps: Deps) -> bool:
    """Test-only overrides (stub URLs, http stores) are honoured off the prod stage only."""
    return deps.settings.stage != "prod"


def new_state(deps: Deps, platform: str, subject: str, **fields: Any) -> str:
    """Store a fresh single-use state nonce for a flow started for `subject`; returns it."""
    nonce = secrets.token_urlsafe(32)
    uow = deps.store.unit_of_work()
    uow.insert("state", new_oauth_state(platform, nonce, subject, deps.now(), STATE_TTL, **fields))
    uow.commit()
    return nonce


def _admin_base(deps: Deps) -> str | None:
    """A configured stub instead of `https://{shop}`: honoured off prod only."""
    return (deps.settings.shopify_admin_base if not_prod(deps) else "") or None


def shopify_oauth(deps: Deps, shop: str) -> shopify_oauth_api.ShopifyOAuth:
    """The token endpoint of `shop`."""
    http = for_settings(deps.settings, "Shopify")
    return shopify_oauth_api.ShopifyOAuth(shop, http, _admin_base(deps))


def shopify_admin(deps: Deps, shop: str, token: str | None = None) -> shopify_api.ShopifyAdmin:
    """The Admin API client of `shop`."""
    return shopify_api.ShopifyAdmin(
        shop,
        for_settings(deps.settings, "Shopify"),
        api_version=deps.settings.shopify_api_version,
        access_token=token,
        base_url=_admin_base(deps),
    )


def _app_secrets(deps: Deps) -> list[str]:
    """The Shopify app's client secrets, current first (the previous one during rotation)."""
    return list(deps.secrets.resolve(deps.settings.shopify_api_secrets))


def _shopify_app(deps: Deps) -> tuple[str, str]:
    client_id = deps.settings.shopify_api_key
    app_secrets = _app_secrets(deps)
    if not client_id or not app_secrets:
        raise RuntimeError("the Shopify app is not configured (client id and secret)")
    return client_id, app_secrets[0]


def begin_shopify(deps: Deps, query: Mapping[str, str]) -> Redirect:
    """Start an install from Shopify's signed install link. Raises `BadSignature`."""
    now = deps.now()
    shopify.verify_install_query(query, _app_secrets(deps), now)
    shop = query["shop"].lower()
    client_id, _ = _shopify_app(deps)
    nonce = new_state(deps, "shopify", shop)
    redirect_uri = public_url(deps, "/oauth/shopify/callback")
    scopes = deps.settings.shopify_scopes
    location = shopify_oauth_api.authorize_url(shop, client_id, scopes, redirect_uri, nonce)
    return Redirect(location, nonce)


def finish_shopify(deps: Deps, query: Mapping[str, str], cookie_state: str | None) -> Installed:
    """Complete an install from Shopify's signed OAuth callback.

    Raises `BadSignature` (HMAC, timestamp, shop, state unknown/used/expired or not this
    browser's), `MissingScopes` and `ProviderError` (Shopify refused the code or a call).
    """
    now = deps.now()
    shopify.verify_install_query(query, _app_secrets(deps), now)
    shop, state = query["shop"].lower(), str(query.get("state") or "")
    if not cookie_state or not hmac.compare_digest(cookie_state.encode(), state.encode()):
        raise BadSignature("state does not match the install started in this browser")
    pk = keys.oauth_state("shopify", state)
    if not query.get("code") or not lifecycle.consume_state(deps.store, pk, now, subject=shop):
        raise BadSignature("state is unknown, expired or already used")
    merchant_id = shopify_merchant_id(shop)
    with bind_context(merchant_id=merchant_id, source="shopify-install"):
        client_id, secret = _shopify_app(deps)
        tokens = shopify_oauth(deps, shop).exchange_code(client_id, secret, query["code"], now)
        missing = shopify_oauth_api.missing_scopes(deps.settings.shopify_scopes, tokens.scopes)
        if missing:
            raise MissingScopes(
                f"the app needs these permissions, which were not granted: {', '.join(missing)};"
                " install the app again and approve all of them"
            )
        admin = shopify_admin(deps, shop, tokens.access_token)
        admin.register_webhooks(public_url(deps, "/webhooks/shopify"))
        info = admin.shop_info()
        save_credentials(deps, merchant_id, "shopify", shop, tokens.access_token, now, tokens)
        key = activate_merchant(
            deps,
            merchant_id,
            now,
            name=info.get("name") or shop,
            platform="shopify",
            shop_domain=shop,
            **_defaults(info),
        )
        log.info("shopify install completed", extra={"scopes": list(tokens.scopes)})
        return Installed(merchant_id, "shopify", key, f"Aftercare is installed on {shop}")


def shopify_merchant_id(shop: str) -> str:
    from chalicelib.inbound import shopify_merchant_id as derive

    return derive(shop)


def _defaults(info: Mapping[str, str]) -> dict[str, str]:
    """Merchant settings from the shop: its time zone (if valid) and currency."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    found: dict[str, str] = {}
    try:
        if info.get("ianaTimezone") and ZoneInfo(info["ianaTimezone"]):
            found["timezone"] = info["ianaTimezone"]
    except (ZoneInfoNotFoundError, ValueError):
        pass
    if len(info.get("currencyCode", "")) == 3:
        found["currency"] = info["currencyCode"]
    return found


def save_credentials(
    deps: Deps,
    merchant_id: str,
    platform: str,
    account: str,
    access_token: str,
    now: datetime,
    tokens: shopify_oauth_api.TokenSet | None = None,
    **fields: Any,
) -> CredentialsItem:
    """Write (or replace) the merchant's credentials; raises `StaleVersion` on a race."""
    current = deps.store.get(CredentialsItem, keys.credentials(merchant_id))
    item = new_credentials(merchant_id, platform, account, access_token, now, **fields)
    if tokens is not None:
        item.scopes = list(tokens.scopes)
        item.refresh_token, item.expires_at = tokens.refresh_token, tokens.expires_at
        item.refresh_expires_at = tokens.refresh_expires_at
    if current is not None:  # replace it, conditioned on the version read
        item.version = current.version
    uow = deps.store.unit_of_work()
    uow.save("credentials", item)
    uow.commit()
    return item


def shopify_access_token(deps: Deps, creds: CredentialsItem, now: datetime) -> str:
    """A usable access token, refreshed (and saved) when it expires within 5 minutes.

    Two concurrent refreshers: the loser re-reads and uses the winner's token. Raises
    `ProviderError` when Shopify refuses the refresh (the merchant must reinstall).
    """
    if creds.expires_at is None or creds.expires_at - REFRESH_MARGIN > now:
        return creds.access_token
    if not creds.refresh_token:
        return creds.access_token  # a non-expiring token (installed before expiring tokens)
    client_id, secret = _shopify_app(deps)
    oauth = shopify_oauth(deps, creds.account)
    tokens = oauth.refresh(client_id, secret, creds.refresh_token, now)
    creds.access_token, creds.refresh_token = tokens.access_token, tokens.refresh_token
    creds.expires_at, creds.refresh_expires_at = tokens.expires_at, tokens.refresh_expires_at
    creds.updated_at = now
    uow = deps.store.unit_of_work()
    uow.save("credentials", creds)
    try:
        uow.commit()
    except StaleVersion:
        fresher = deps.store.get(CredentialsItem, creds.pk)
        return fresher.access_token if fresher else tokens.access_token
    return tokens.access_token


def activate_merchant(
    deps: Deps,
    merchant_id: str,
    now: datetime,
    *,
    name: str,
    platform: str,
    webhook_secrets: dict[str, list[str]] | None = None,
    **fields: str,
) -> str | None:
    """Create the merchant (returns its new API key), reactivate an uninstalled one (a new
    key: the old one was disabled with the app), or refresh an active one (no new key)."""
    from chalicelib.handlers.merchants import create_merchant

    store = deps.store
    merchant = store.merchant(merchant_id)
    if merchant is None:
        try:
            return create_merchant(
                store,
                merchant_id,
                name,
                now,
                platform=platform,
                webhook_secrets=webhook_secrets,
                **fields,
            )
        except StaleVersion:  # a concurrent install created it first
            merchant = store.merchant(merchant_id)
            if merchant is None:
                raise
    reactivated = merchant.status != "active"
    merchant.status, merchant.uninstalled_at, merchant.platform = "active", None, platform
    current = dict(merchant.webhook_secrets or {})
    for partner, fresh in (webhook_secrets or {}).items():
        # The previous secret stays valid next to the new one: webhooks registered before a
        # reconnect keep verifying until the partner drops them.
        current[partner] = [*fresh, *[s for s in current.get(partner, [])[:1] if s not in fresh]]
    merchant.webhook_secrets = current
    for field, value in fields.items():
        setattr(merchant, field, value)
    if not reactivated:
        uow = store.unit_of_work()
        uow.save("merchant", merchant)
        uow.commit()
        return None
    from chalicelib.digest.schedule import enroll

    key = issue_api_key(deps, merchant)
    enroll(store, merchant, now)
    return key


def issue_api_key(deps: Deps, merchant: MerchantItem) -> str:
    """A new API key for `merchant` (saved with it in one transaction); the old key's
    pointer is deleted afterwards. Raises `StaleVersion` if the merchant changed meanwhile."""
    from chalicelib.api import hash_api_key, new_api_key
    from chalicelib.store.records import api_key_pointer

    key, old = new_api_key(), merchant.api_key_hash
    merchant.api_key_hash = hash_api_key(key)
    uow = deps.store.unit_of_work()
    uow.insert("api_key", api_key_pointer(merchant.api_key_hash, merchant.merchant_id))
    uow.save("merchant", merchant)
    uow.commit()
    if old:
        lifecycle.delete_keys(deps.store, [(keys.api_key(old), keys.META)])
    return key
