"""Shared set-up of the marketplace tests: partner stubs on loopback, the app pointed at them.

`stubs` (module scope) starts the Shopify, WooCommerce and BigCommerce stubs and sets the
environment the app reads (fake client ids and secrets, stub base URLs, a 0.5 s read timeout
and no inline waiting: a partner's "retry later" shows up as a deferred outbox item, so no
test sleeps). Helpers sign Shopify install queries at the fixed clock and install a shop
through the real OAuth routes.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import FIXED_NOW, MerchantFixture
from tests.signing import FAKE_SHOPIFY_SECRET, shopify_headers, sign_shopify_query
from tests.stubs.bigcommerce_stub import FAKE_BC_CLIENT_ID, BigCommerceStub
from tests.stubs.shopify_stub import FAKE_CLIENT_ID, ShopifyStub
from tests.stubs.woocommerce_stub import WooCommerceStub

FAKE_BC_CLIENT_SECRET = "bc_fake_client_secret_do_not_use"
PUBLIC_URL = "http://127.0.0.1:8000"  # the default AFTERCARE_PUBLIC_URL


@dataclass
class Stubs:
    shopify: ShopifyStub
    woo: WooCommerceStub
    bc: BigCommerceStub

    def reset(self) -> None:
        for stub in (self.shopify, self.woo, self.bc):
            stub.reset()
        self.shopify.honour_idempotency = True


@pytest.fixture(scope="module")
def stubs(stack: object) -> Iterator[Stubs]:
    running = Stubs(
        ShopifyStub(FAKE_SHOPIFY_SECRET).start(),
        WooCommerceStub().start(),
        BigCommerceStub(FAKE_BC_CLIENT_SECRET).start(),
    )
    env = {
        "AFTERCARE_SHOPIFY_API_KEY": FAKE_CLIENT_ID,
        "AFTERCARE_SHOPIFY_ADMIN_BASE": running.shopify.url,
        "AFTERCARE_PARTNER_ALLOW_HTTP": "1",
        "AFTERCARE_PARTNER_TIMEOUT_SECONDS": "0.5",
        "AFTERCARE_PARTNER_MAX_WAIT_SECONDS": "0",
        "AFTERCARE_BIGCOMMERCE_CLIENT_ID": FAKE_BC_CLIENT_ID,
        "AFTERCARE_BIGCOMMERCE_CLIENT_SECRETS": FAKE_BC_CLIENT_SECRET,
        "AFTERCARE_BIGCOMMERCE_API_BASE": running.bc.url,
        "AFTERCARE_BIGCOMMERCE_LOGIN_BASE": running.bc.url,
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield running
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for stub in (running.shopify, running.woo, running.bc):
            stub.stop()


@pytest.fixture()
def fresh(stubs: Stubs) -> Stubs:
    """The stubs with their calls and faults cleared for this test."""
    stubs.reset()
    return stubs


def new_shop() -> str:
    return f"mk-{uuid.uuid4().hex[:12]}.myshopify.com"


def signed(
    params: dict[str, str], secret: str = FAKE_SHOPIFY_SECRET, at: datetime = FIXED_NOW
) -> str:
    """A query string signed the way Shopify signs install and callback redirects."""
    stamped = {"timestamp": str(int(at.timestamp())), **params}
    return urlencode(sign_shopify_query(stamped, secret))


def header(response: Any, name: str) -> str:
    """A response header, whatever the case of its name."""
    return next((v for k, v in response.headers.items() if k.lower() == name.lower()), "")


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def begin(client: Any, shop: str) -> tuple[Any, str]:
    """GET /install/shopify for `shop`; (response, state nonce)."""
    response = client.http.get(f"/install/shopify?{signed({'shop': shop})}")
    state = query_of(header(response, "location")).get("state", "")
    return response, state


def callback(
    client: Any,
    shop: str,
    state: str,
    code: str,
    cookie: str | None = None,
    at: datetime = FIXED_NOW,
) -> Any:
    params = {"code": code, "shop": shop, "state": state, "host": "YWRtaW4uc2hvcGlmeS5jb20"}
    query = signed(params, at=at)
    cookie_header = {"Cookie": f"aftercare_shopify_state={cookie if cookie is not None else state}"}
    return client.http.get(f"/oauth/shopify/callback?{query}", headers=cookie_header)


def api_key_of(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    return text.split("<code>", 1)[1].split("</code>", 1)[0]


def install_shop(client: Any, stubs: Stubs, shop: str | None = None) -> MerchantFixture:
    """Install a shop through the real routes against the stub; the merchant it creates."""
    from chalicelib.inbound import shopify_merchant_id

    shop = shop or new_shop()
    _, state = begin(client, shop)
    response = callback(client, shop, state, stubs.shopify.grant(f"code-{uuid.uuid4().hex}"))
    assert response.status_code == 200, response.body
    return MerchantFixture(shopify_merchant_id(shop), shop, api_key_of(response.body))


def post_shopify(client: Any, shop: str, topic: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = shopify_headers(raw, topic, shop=shop, webhook_id=str(uuid.uuid4()))
    headers["x-shopify-triggered-at"] = "2026-11-23T15:00:00Z"
    return client.http.post("/webhooks/shopify", headers=headers, body=raw)
