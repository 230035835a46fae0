"""Authentication and tenant isolation (issue 9), over every route the app declares.

- Every route of `app.routes` is classified: merchant API (API key), partner webhook
  (signature), console (session), or public by design (listed with its reason). A new
  route that is in none of these fails the test until someone decides how it is guarded.
- Merchant API routes refuse a missing or wrong key; webhook routes refuse a missing or
  wrong signature, and a signature made with another merchant's secret.
- Merchant B's API key, tried on every API route with merchant A's real ids, gets nothing
  of A's (403/404, or B's own empty data) and changes nothing of A's.
Replayed OAuth state is covered for Shopify and WooCommerce in tests/integration
(`test_a_replayed_state_is_refused`, `test_woocommerce_references_are_single_use...`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import signing
from tests.conftest import MerchantFixture
from tests.integration.marketplace_env import post_shopify
from tests.integration.test_privacy import Person, compliance, shopper_activity
from tests.reliability.world import DynamoCalls, scan_items

# Reachable without a merchant credential on purpose; each is guarded otherwise.
PUBLIC = {
    "/console/login": "the sign-in form itself",
    "/console/static/{name}": "CSS and JS of the console, no data",
    "/install/shopify": "install start: Shopify's HMAC over the query is checked",
    "/install/woocommerce": "connect start: only redirects to the store's key page",
    "/install/woocommerce/return": "the store's redirect back: single-use state reference",
    "/oauth/shopify/callback": "OAuth callback: HMAC + single-use state + browser cookie",
    "/oauth/bigcommerce/callback": "OAuth callback: code exchanged with BigCommerce",
    "/oauth/woocommerce/callback": "keys callback: single-use state reference",
    "/r/{slug}": "customer return portal: order number + e-mail prove the customer",
    "/r/{slug}/lookup": "customer return portal",
    "/r/{slug}/order": "customer return portal (portal session)",
    "/r/{slug}/returns": "customer return portal (portal session)",
    "/r/{slug}/returns/{case_id}": "customer return portal (portal session)",
    "/s/{token}": "order status page: the unguessable token is the capability",
    "/s/{token}/reply": "order status page reply: token",
    "/s/{token}/csat": "order status page rating: token + signed form token, once per case",
}
WEBHOOK_SIGNERS = {
    # route family -> (partner in path, secret name, signer(body, secret))
    "carriers/easypost": ("easypost", lambda b, s: signing.sign_easypost(b, secret=s)),
    "carriers/shippo": ("shippo", lambda b, s: signing.sign_shippo(b, secret=s)),
    "carriers/aftership": ("aftership", lambda b, s: signing.sign_aftership(b, secret=s)),
    "carriers/generic": ("generic_carrier", lambda b, s: signing.sign_generic(b, secret=s)),
    "warehouse/shiphero": ("shiphero", lambda b, s: signing.sign_shiphero(b, secret=s)),
    "warehouse/generic": ("generic_wms", lambda b, s: signing.sign_generic_wms(b, secret=s)),
    "woocommerce": ("woocommerce", lambda b, s: signing.woocommerce_headers(b, "order.updated", s)),
    "bigcommerce": ("bigcommerce", lambda b, s: signing.bigcommerce_headers(s)),
}


def _routes() -> list[tuple[str, str]]:
    import app as app_module

    return sorted((path, method) for path, ms in app_module.app.routes.items() for method in ms)


def _fill(path: str, **ids: str) -> str:
    defaults = {
        "carrier": "easypost",
        "wms": "generic",
        "provider": "twilio",
        "merchant_id": "shp-x",
        "case_id": "SX-NOPE",
        "customer_id": "1",
        "request_id": "DR-1",
        "outbox_id": "nope",
        "code": "RC-NOPE",
        "section": "returns",
        "kind": "shipment_in_transit",
        "locale": "en",
        "action": "assign",
        "name": "console.css",
        "slug": "s",
        "token": "t",
    }
    for name, value in {**defaults, **ids}.items():
        path = path.replace("{" + name + "}", value)
    return path


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"{}"):
    sent = {"Content-Type": "application/json", **headers}
    if method in ("GET", "DELETE"):
        return getattr(client.http, method.lower())(path, headers=sent)
    return getattr(client.http, method.lower())(path, headers=sent, body=body)


def test_every_route_is_guarded_or_public_by_design(client):
    unguarded = [
        (path, method)
        for path, method in _routes()
        if not path.startswith(("/api/", "/webhooks/", "/console")) and path not in PUBLIC
    ]
    assert unguarded == [], "classify these routes in PUBLIC (with the reason) or guard them"


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer ak_wrong_key", "Basic eDp5"])
def test_every_api_route_refuses_a_missing_or_wrong_key(client, merchant, authorization):
    for path, method in _routes():
        if not path.startswith("/api/"):
            continue
        headers = {"Authorization": authorization} if authorization else {}
        answer = _call(client, method, _fill(path, merchant_id=merchant.merchant_id), headers)
        assert answer.status_code == 401, (method, path, answer.status_code)


def test_every_console_route_needs_a_session(client):
    for path, method in _routes():
        if not path.startswith("/console") or path in PUBLIC:
            continue
        answer = _call(client, method, _fill(path), {"Cookie": "console=forged.session.value"})
        location = (answer.headers or {}).get("Location", "")
        assert answer.status_code in (401, 403, 404) or (
            answer.status_code in (302, 303) and "login" in location
        ), (method, path, answer.status_code)


def _second_merchant(app_deps, secrets: dict[str, list[str]]) -> MerchantFixture:
    from chalicelib.handlers.merchants import create_merchant

    shop = f"other-{uuid.uuid4().hex[:10]}.myshopify.com"
    mid = "shp-" + shop.split(".")[0]
    key = create_merchant(
        app_deps.store, mid, "Other", datetime.now(UTC), shop_domain=shop, webhook_secrets=secrets
    )
    return MerchantFixture(mid, shop, key)


def test_webhooks_refuse_missing_wrong_and_other_merchants_signatures(client, app_deps):
    mine = {name: [f"{name}-secret-of-a"] for name, _ in WEBHOOK_SIGNERS.values()}
    theirs = {name: [f"{name}-secret-of-b"] for name, _ in WEBHOOK_SIGNERS.values()}
    a, b = _second_merchant(app_deps, mine), _second_merchant(app_deps, theirs)
    body = json.dumps({"id": "evt_auth", "event": "return.received"}).encode()
    for family, (name, sign) in WEBHOOK_SIGNERS.items():
        path = f"/webhooks/{family}/{a.merchant_id}"
        attempts = {
            "missing": {},
            "wrong": sign(body, "not-a-secret-at-all"),
            "merchant B's secret": sign(body, theirs[name][0]),
        }
        with DynamoCalls(app_deps.store) as calls:
            for what, headers in attempts.items():
                answer = _call(client, "POST", path, headers, body)
                assert answer.status_code == 401, (family, what, answer.status_code)
        assert calls.writes == [], family
        assert (
            _call(
                client,
                "POST",
                f"/webhooks/{family}/{b.merchant_id}",
                sign(body, theirs[name][0]),
                body,
            ).status_code
            != 401
        )  # B's own works
    shopify = signing.shopify_headers(
        body, "orders/create", shop=a.shop_domain, secret="shpss_someone_elses_app_secret"
    )
    assert _call(client, "POST", "/webhooks/shopify", shopify, body).status_code == 401


def _ids_of(client: Any, merchant: MerchantFixture, person: Person) -> dict[str, str]:
    cases = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"]
    notes = json.loads(client.http.get("/api/notifications", headers=merchant.auth).body)["items"]
    return {
        "case_id": cases[0]["id"],
        "customer_id": str(person.customer_id),
        "outbox_id": notes[0]["id"],
        "request_id": "DR-9999",
    }


def test_merchant_b_can_read_or_change_nothing_of_merchant_a(client, merchant, app_deps):
    person = Person.new()
    shopper_activity(client, app_deps, merchant, person, 62001)
    request = compliance("customers_data_request.json", merchant.shop_domain, person)
    assert (
        post_shopify(client, merchant.shop_domain, "customers/data_request", request).status_code
        == 200
    )
    ids = _ids_of(client, merchant, person)
    before = {i["pk"] + i["sk"]: i for i in scan_items(app_deps.store, [merchant.merchant_id])}
    other = _second_merchant(app_deps, {})
    # What must never show in B's answers (ids B typed in the URL may be echoed back).
    secrets_of_a = [person.email, person.phone, person.first_name, merchant.merchant_id]

    tried = 0
    for path, method in _routes():
        if not path.startswith("/api/"):
            continue
        url = _fill(path, merchant_id=merchant.merchant_id, **ids)
        body = json.dumps({"assignee": "mallory", "text": "pwned", "status": "resolved"}).encode()
        answer = _call(client, method, url, other.auth, body)
        tried += 1
        assert answer.status_code != 500, (method, path)
        if answer.status_code == 200:
            text = answer.body.decode(errors="replace")
            leaked = [s for s in secrets_of_a if s in text]
            assert not leaked, (method, path, leaked)
        else:
            assert answer.status_code in (400, 403, 404, 409, 415, 422), (
                method,
                path,
                answer.status_code,
            )
    after = {i["pk"] + i["sk"]: i for i in scan_items(app_deps.store, [merchant.merchant_id])}
    assert after == before, "merchant B changed merchant A's data"
    assert tried >= 10
