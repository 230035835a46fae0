"""Connect flows of WooCommerce (REST key grant) and BigCommerce (app install callback).

WooCommerce: `begin_woocommerce` stores a single-use state nonce for the store URL and sends
the merchant to the store's `/wc-auth/v1/authorize` with the nonce as `user_id`; the store
POSTs the granted keys to `woocommerce_callback`, which marks the nonce used (one conditional
update), registers our two webhooks with a fresh per-merchant secret and creates the
merchant; the merchant's browser then lands on `woocommerce_return`, which consumes the nonce
(one conditional delete) and issues the API key shown once. Nothing secret is kept on the
state item. BigCommerce: the control panel loads `bigcommerce_callback` with a code that only
our client secret can exchange; we register our hooks (secret header) and show the API key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.connectors import bigcommerce_api, woocommerce_api
from chalicelib.connectors.base import get_str, load_json
from chalicelib.connectors.http import for_settings
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.install import (
    Installed,
    MissingScopes,
    Redirect,
    activate_merchant,
    issue_api_key,
    new_state,
    not_prod,
    public_url,
    save_credentials,
)
from chalicelib.log import bind_context, get_logger
from chalicelib.store import keys, lifecycle
from chalicelib.store.models import OAuthStateItem

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = [
    "begin_woocommerce",
    "woocommerce_callback",
    "woocommerce_return",
    "woocommerce_merchant_id",
    "bigcommerce_callback",
    "bigcommerce_merchant_id",
]

log = get_logger(__name__)


def woocommerce_merchant_id(store_url: str) -> str:
    """Merchant id of a WooCommerce store: stable, derived from its normalized URL."""
    return "woo-" + hashlib.sha256(store_url.encode()).hexdigest()[:12]


def bigcommerce_merchant_id(store_hash: str) -> str:
    return "bc-" + store_hash.lower()


def _store_url(deps: Deps, value: str | None) -> str:
    allow_http = deps.settings.partner_allow_http and not_prod(deps)
    return woocommerce_api.normalize_store_url(value, allow_http=allow_http)


def begin_woocommerce(deps: Deps, query: Mapping[str, str]) -> Redirect:
    """Send the merchant to their store to grant us read/write REST keys.

    Raises `MalformedPayload` for a store URL that is not an https URL of a public host.
    """
    store_url = _store_url(deps, query.get("store_url"))
    merchant_id = woocommerce_merchant_id(store_url)
    nonce = new_state(deps, "woocommerce", store_url, merchant_id=merchant_id)
    location = woocommerce_api.authorize_url(
        store_url,
        nonce,
        return_url=public_url(deps, "/install/woocommerce/return"),
        callback_url=public_url(deps, "/oauth/woocommerce/callback"),
    )
    return Redirect(location)


def woocommerce_callback(deps: Deps, raw_body: bytes) -> dict[str, Any]:
    """The store's POST of the granted keys. Raises `MalformedPayload`, `BadSignature`
    (unknown, expired or used reference), `MissingScopes` (read-only keys), `ProviderError`.
    """
    body = load_json(raw_body)
    nonce = get_str(body, "user_id")
    key, secret = get_str(body, "consumer_key"), get_str(body, "consumer_secret")
    if body.get("key_permissions") != woocommerce_api.PERMISSIONS:
        raise MissingScopes("the keys must be Read/Write: webhooks and refunds need write access")
    now = deps.now()
    state_pk = keys.oauth_state("woocommerce", nonce)
    state = lifecycle.use_state(deps.store, state_pk, now, {"keys": True})
    if not isinstance(state, OAuthStateItem) or not state.merchant_id:
        raise BadSignature("the reference is unknown, expired or already used")
    store_url, merchant_id = state.subject, state.merchant_id
    with bind_context(merchant_id=merchant_id, source="woocommerce-connect"):
        webhook_secret = secrets.token_urlsafe(32)
        api = woocommerce_api.WooCommerceApi(
            store_url, key, secret, for_settings(deps.settings, "WooCommerce")
        )
        api.register_webhooks(
            public_url(deps, f"/webhooks/woocommerce/{merchant_id}"), webhook_secret
        )
        save_credentials(deps, merchant_id, "woocommerce", store_url, key, now, secret=secret)
        host = store_url.split("://", 1)[1]
        activate_merchant(
            deps,
            merchant_id,
            now,
            name=host,
            platform="woocommerce",
            webhook_secrets={"woocommerce": [webhook_secret]},
        )
        log.info("woocommerce keys received")
    return {"status": "connected", "merchant_id": merchant_id}


def woocommerce_return(deps: Deps, query: Mapping[str, str]) -> Installed:
    """The merchant's browser back from the store: issue and show the API key, once.

    Raises `MalformedPayload` when the merchant declined, `BadSignature` when the
    reference is unknown, expired, already shown or its keys never arrived.
    """
    if query.get("success") == "0":
        raise MalformedPayload("the store did not grant access; connect again to retry")
    nonce = str(query.get("user_id") or "")
    state_pk = keys.oauth_state("woocommerce", nonce)
    state = lifecycle.consume_state(deps.store, state_pk, deps.now(), used=True)
    if not isinstance(state, OAuthStateItem) or not state.merchant_id:
        raise BadSignature("the reference is unknown, expired or already used")
    merchant = deps.store.merchant(state.merchant_id)
    if merchant is None:
        raise BadSignature("the store's keys were not received; connect again")
    key = issue_api_key(deps, merchant)
    return Installed(
        merchant.merchant_id, "woocommerce", key, f"Aftercare is connected to {state.subject}"
    )


def bigcommerce_callback(deps: Deps, query: Mapping[str, str]) -> Installed:
    """BigCommerce's install callback (`code`, `scope`, `context`).

    Raises `MalformedPayload` (missing parameters), `MissingScopes`, `ProviderError`.
    """
    settings = deps.settings
    code, context, scope = (str(query.get(k) or "") for k in ("code", "context", "scope"))
    if not code or not context.startswith("stores/"):
        raise MalformedPayload("code and context are required")
    client_secrets = deps.secrets.resolve(settings.bigcommerce_client_secrets)
    if not settings.bigcommerce_client_id or not client_secrets:
        raise RuntimeError("the BigCommerce app is not configured (client id and secret)")
    http = for_settings(settings, "BigCommerce")
    form = {
        "client_id": settings.bigcommerce_client_id,
        "client_secret": client_secrets[0],
        "code": code,
        "context": context,
        "scope": scope,
        "redirect_uri": public_url(deps, "/oauth/bigcommerce/callback"),
    }
    store_hash, token, granted = bigcommerce_api.exchange_code(
        http, settings.bigcommerce_login_base, form
    )
    if "store_v2_orders_read_only" not in granted and "store_v2_orders" not in granted:
        raise MissingScopes("the app needs the Orders scope (read-only or modify)")
    merchant_id, now = bigcommerce_merchant_id(store_hash), deps.now()
    with bind_context(merchant_id=merchant_id, source="bigcommerce-install"):
        hook_secret = secrets.token_urlsafe(32)
        api = bigcommerce_api.BigCommerceApi(store_hash, token, http, settings.bigcommerce_api_base)
        api.register_webhooks(public_url(deps, f"/webhooks/bigcommerce/{merchant_id}"), hook_secret)
        save_credentials(deps, merchant_id, "bigcommerce", store_hash, token, now)
        key = activate_merchant(
            deps,
            merchant_id,
            now,
            name=store_hash,
            platform="bigcommerce",
            webhook_secrets={"bigcommerce": [hook_secret]},
        )
    return Installed(
        merchant_id, "bigcommerce", key, f"Aftercare is installed on store {store_hash}"
    )
