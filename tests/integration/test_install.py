"""Shopify install end to end over HTTP: install link -> authorize redirect -> OAuth callback
against a local stub of Shopify's token endpoint and Admin GraphQL API, on DynamoDB Local,
with the fixed clock; and every way an install is refused."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.marketplace_env import (
    PUBLIC_URL,
    api_key_of,
    begin,
    callback,
    header,
    install_shop,
    new_shop,
    post_shopify,
    query_of,
    signed,
)
from tests.stubs.shopify_stub import FAKE_CLIENT_ID

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


def merchant_of(app_deps, shop):
    from chalicelib.inbound import shopify_merchant_id

    return app_deps.store.merchant(shopify_merchant_id(shop))


def test_install_link_redirects_to_the_shops_authorize_page_with_a_state(fresh, client):
    shop = new_shop()

    response, state = begin(client, shop)

    assert response.status_code == 302
    location = header(response, "location")
    assert location.startswith(f"https://{shop}/admin/oauth/authorize?")
    query = query_of(location)
    assert query["client_id"] == FAKE_CLIENT_ID
    assert query["scope"] == "read_orders,write_orders,read_returns,write_returns"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/shopify/callback"
    assert len(state) >= 40
    cookie = header(response, "set-cookie")
    assert f"aftercare_shopify_state={state}" in cookie and "HttpOnly" in cookie


def test_full_install_creates_the_merchant_tokens_and_webhooks(fresh, client, app_deps):
    from chalicelib.store.models import CredentialsItem

    shop = new_shop()
    _, state = begin(client, shop)

    response = callback(client, shop, state, fresh.shopify.grant("code-full-install"))

    assert response.status_code == 200, response.body
    page = response.body.decode()
    assert "only this once" in page and header(response, "cache-control") == "no-store"
    key = api_key_of(page)
    merchant = merchant_of(app_deps, shop)
    assert merchant.status == "active" and merchant.platform == "shopify"
    assert merchant.shop_domain == shop and merchant.name == "Aftercare Test Shop"
    assert merchant.timezone == "America/New_York" and merchant.currency == "USD"
    creds = app_deps.store.get(CredentialsItem, keys.credentials(merchant.merchant_id))
    assert creds.access_token in fresh.shopify.tokens and creds.refresh_token
    assert creds.expires_at == FIXED_NOW + timedelta(hours=1)
    assert creds.access_token not in repr(creds)
    assert set(fresh.shopify.webhooks) >= {"ORDERS_CREATE", "REFUNDS_CREATE", "RETURNS_REQUEST"}
    assert set(fresh.shopify.webhooks.values()) == {f"{PUBLIC_URL}/webhooks/shopify"}
    assert len(fresh.shopify.webhooks) == 13
    listing = client.http.get("/api/cases", headers={"Authorization": f"Bearer {key}"})
    assert listing.status_code == 200


def test_install_query_with_a_bad_hmac_is_refused(fresh, client, app_deps):
    shop = new_shop()
    query = signed({"shop": shop}, secret="not-the-app-secret")

    response = client.http.get(f"/install/shopify?{query}")

    assert response.status_code == 401
    assert "hmac" in response.body.decode()
    assert merchant_of(app_deps, shop) is None


def test_callback_with_a_bad_hmac_is_refused_and_exchanges_nothing(fresh, client):
    shop = new_shop()
    _, state = begin(client, shop)
    query = signed({"code": fresh.shopify.grant("code-bad-hmac"), "shop": shop, "state": state})
    tampered = query.replace("code-bad-hmac", "code-tampered")

    response = client.http.get(
        f"/oauth/shopify/callback?{tampered}",
        headers={"Cookie": f"aftercare_shopify_state={state}"},
    )

    assert response.status_code == 401
    assert not [c for c in fresh.shopify.calls if c.path == "/admin/oauth/access_token"]


def test_a_shop_outside_myshopify_is_refused(fresh, client):
    for shop in ("evil.example.com", "evil.myshopify.com.example.com", "-x.myshopify.com"):
        response = client.http.get(f"/install/shopify?{signed({'shop': shop})}")
        assert response.status_code == 401, shop
        assert "myshopify.com" in response.body.decode()


def test_a_replayed_state_is_refused(fresh, client, app_deps):
    shop = new_shop()
    _, state = begin(client, shop)
    assert callback(client, shop, state, fresh.shopify.grant("code-once")).status_code == 200

    replay = callback(client, shop, state, fresh.shopify.grant("code-twice"))

    assert replay.status_code == 401
    assert "already used" in replay.body.decode()
    exchanges = [c for c in fresh.shopify.calls if c.path == "/admin/oauth/access_token"]
    assert len(exchanges) == 1


def test_a_state_from_another_browser_or_shop_or_too_old_is_refused(fresh, client, app_deps):
    from chalicelib.deps import set_clock

    shop, other = new_shop(), new_shop()
    _, state = begin(client, shop)

    assert callback(client, shop, state, "c1", cookie="someone-elses").status_code == 401
    assert callback(client, other, state, "c2").status_code == 401  # state is for `shop`
    later = FIXED_NOW + timedelta(minutes=11)  # the state lived 10 minutes
    set_clock(lambda: later)
    try:
        late = callback(client, shop, state, fresh.shopify.grant("c3"), at=later)
    finally:
        set_clock(lambda: FIXED_NOW)
    assert late.status_code == 401 and "expired" in late.body.decode()
    assert merchant_of(app_deps, shop) is None


def test_missing_scopes_are_refused_with_a_clear_page(fresh, client, app_deps):
    shop = new_shop()
    _, state = begin(client, shop)

    response = callback(client, shop, state, fresh.shopify.grant("code-few", "write_orders"))

    assert response.status_code == 400
    page = response.body.decode()
    assert "read_returns, write_returns" in page and "install the app again" in page
    assert merchant_of(app_deps, shop) is None
    assert not fresh.shopify.webhooks or all(
        c.path != "/admin/api/2026-07/graphql.json" for c in fresh.shopify.calls
    )


def test_a_code_shopify_refuses_is_a_502_page(fresh, client, app_deps):
    shop = new_shop()
    _, state = begin(client, shop)

    response = callback(client, shop, state, "code-never-granted")

    assert response.status_code == 502
    assert "was not found or was already used" in response.body.decode()
    assert merchant_of(app_deps, shop) is None


def test_uninstall_then_reinstall_issues_a_new_key(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    fresh.shopify.webhooks.clear()

    gone = post_shopify(client, merchant.shop_domain, "app/uninstalled", {"id": 1})
    assert gone.status_code == 200
    assert merchant_of(app_deps, merchant.shop_domain).status == "uninstalled"
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 401

    again = install_shop(client, fresh, merchant.shop_domain)

    assert again.api_key != merchant.api_key
    assert merchant_of(app_deps, merchant.shop_domain).status == "active"
    assert client.http.get("/api/cases", headers=again.auth).status_code == 200
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 401


def test_expiring_token_is_refreshed_before_use(fresh, client, app_deps):
    from chalicelib import install
    from chalicelib.store.models import CredentialsItem

    merchant = install_shop(client, fresh)
    pk = keys.credentials(merchant.merchant_id)
    creds = app_deps.store.get(CredentialsItem, pk)
    old_access, old_refresh = creds.access_token, creds.refresh_token

    later = FIXED_NOW + timedelta(minutes=57)  # within 5 minutes of the 1-hour expiry
    token = install.shopify_access_token(app_deps, creds, later)

    saved = app_deps.store.get(CredentialsItem, pk)
    assert token != old_access and saved.access_token == token
    assert saved.refresh_token != old_refresh and saved.expires_at == later + timedelta(hours=1)
    assert install.shopify_access_token(app_deps, saved, later) == token  # fresh: no refresh
