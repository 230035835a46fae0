"""WooCommerce and BigCommerce over HTTP on DynamoDB Local, against local stubs of their APIs:
connect/install flows, signed webhooks (payloads from their docs, tests/fixtures), the
BigCommerce order fetch behind light payloads, and WooCommerce refunds out."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from chalicelib.store import keys
from tests.conftest import FIXED_NOW, MerchantFixture
from tests.integration import marketplace_env
from tests.integration.marketplace_env import PUBLIC_URL, api_key_of, header, query_of
from tests.signing import bigcommerce_headers, woocommerce_headers
from tests.support import load_fixture

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


# --- WooCommerce -------------------------------------------------------------------------------


def start_connect(client, store_url: str) -> str:
    response = client.http.get(f"/install/woocommerce?store_url={store_url}")
    assert response.status_code == 302, response.body
    return query_of(header(response, "location"))["user_id"]


def post_keys(client, reference: str, key: str, secret: str, permissions: str = "read_write"):
    body = {
        "key_id": 1,
        "user_id": reference,
        "consumer_key": key,
        "consumer_secret": secret,
        "key_permissions": permissions,
    }
    return client.http.post(
        "/oauth/woocommerce/callback",
        headers={"Content-Type": "application/json"},
        body=json.dumps(body).encode(),
    )


def connect_store(client, fresh) -> tuple[MerchantFixture, str]:
    """Connect the stub store through the real routes; (merchant, webhook secret)."""
    reference = start_connect(client, fresh.woo.url)
    assert post_keys(client, reference, *fresh.woo.grant_keys()).status_code == 200
    back = client.http.get(f"/install/woocommerce/return?success=1&user_id={reference}")
    assert back.status_code == 200, back.body
    merchant_id = fresh.woo.webhooks[-1]["delivery_url"].rsplit("/", 1)[-1]
    merchant = MerchantFixture(merchant_id, "", api_key_of(back.body))
    return merchant, fresh.woo.webhooks[-1]["secret"]


def post_woo(client, merchant_id: str, topic: str, body: bytes, secret: str, delivery: str):
    headers = {**woocommerce_headers(body, topic, secret=secret)}
    headers["x-wc-webhook-delivery-id"] = delivery
    return client.http.post(f"/webhooks/woocommerce/{merchant_id}", headers=headers, body=body)


def test_woocommerce_connect_redirects_to_the_store_with_our_reference(fresh, client):
    response = client.http.get(f"/install/woocommerce?store_url={fresh.woo.url}/")

    location = header(response, "location")
    assert location.startswith(f"{fresh.woo.url}/wc-auth/v1/authorize?")
    query = query_of(location)
    assert query["scope"] == "read_write" and query["app_name"] == "Aftercare"
    assert query["callback_url"] == f"{PUBLIC_URL}/oauth/woocommerce/callback"
    assert query["return_url"] == f"{PUBLIC_URL}/install/woocommerce/return"
    assert len(query["user_id"]) >= 40


def test_woocommerce_connect_end_to_end(fresh, client, app_deps):
    from chalicelib.store.models import CredentialsItem

    merchant, secret = connect_store(client, fresh)

    assert [w["topic"] for w in fresh.woo.webhooks] == ["order.created", "order.updated"]
    assert all(
        w["delivery_url"].endswith(f"/webhooks/woocommerce/{merchant.merchant_id}")
        for w in fresh.woo.webhooks
    )
    stored = app_deps.store.merchant(merchant.merchant_id)
    assert stored.platform == "woocommerce" and stored.webhook_secrets["woocommerce"] == [secret]
    creds = app_deps.store.get(CredentialsItem, keys.credentials(merchant.merchant_id))
    assert creds.account == fresh.woo.url and creds.access_token in fresh.woo.keys
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 200


def test_woocommerce_references_are_single_use_and_need_write_keys(fresh, client, app_deps):
    reference = start_connect(client, fresh.woo.url)
    assert post_keys(client, reference, "ck_x", "cs_x", "read").status_code == 400
    key, secret = fresh.woo.grant_keys()
    assert post_keys(client, reference, key, secret).status_code == 200
    assert post_keys(client, reference, key, secret).status_code == 401  # replayed
    assert post_keys(client, "made-up", key, secret).status_code == 401
    back = f"/install/woocommerce/return?success=1&user_id={reference}"
    assert client.http.get(back).status_code == 200
    assert client.http.get(back).status_code == 401  # the key is shown once
    declined = client.http.get("/install/woocommerce/return?success=0&user_id=x")
    assert declined.status_code == 400


def test_woocommerce_store_url_must_be_a_store(fresh, client):
    for bad in ("ftp://shop.example.com", "https://user:pw@shop.example.com", "not a url"):
        assert client.http.get(f"/install/woocommerce?store_url={bad}").status_code == 400


def test_woocommerce_ping_is_accepted_without_a_signature(fresh, client):
    body = load_fixture("woocommerce", "ping.txt")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    response = client.http.post("/webhooks/woocommerce/woo-unknown", headers=headers, body=body)

    assert response.status_code == 200
    assert json.loads(response.body)["detail"] == "ping"


def test_woocommerce_order_updated_records_each_refund_once(fresh, client, app_deps):
    merchant, secret = connect_store(client, fresh)
    body = load_fixture("woocommerce", "order_updated.json")

    first = post_woo(client, merchant.merchant_id, "order.updated", body, secret, "d-1")
    later = post_woo(client, merchant.merchant_id, "order.updated", body, secret, "d-2")

    assert first.status_code == 200, first.body
    outcomes = [(e["type"], e["outcome"]) for e in json.loads(first.body)["events"]]
    assert outcomes == [
        ("OrderUpdated", "applied"),
        ("RefundIssued", "applied"),
        ("RefundIssued", "applied"),
    ]
    again = [(e["type"], e["outcome"]) for e in json.loads(later.body)["events"]]
    assert again[1:] == [("RefundIssued", "duplicate"), ("RefundIssued", "duplicate")]


def test_woocommerce_bad_signature_is_refused(fresh, client):
    merchant, _ = connect_store(client, fresh)
    body = load_fixture("woocommerce", "order_created.json")

    response = post_woo(client, merchant.merchant_id, "order.created", body, "wrong", "d-3")

    assert response.status_code == 401


def test_woocommerce_refund_goes_out_once_even_when_the_answer_is_lost(fresh, client, app_deps):
    from chalicelib.notify.sender import deliver_due
    from chalicelib.store.models import OutboxItem
    from chalicelib.store.records import new_outbox

    merchant, _ = connect_store(client, fresh)
    fresh.woo.add_order("727", "29.35")
    item = new_outbox(
        merchant.merchant_id,
        cause="test:woo-refund",
        kind="refund",
        now=FIXED_NOW,
        customer_id=None,
        context={
            "order_id": "727",
            "amount": "10.00",
            "restock": True,
            "note": "Damaged",
            "lines": [{"line_id": "315", "quantity": 1, "amount": "10.00"}],
        },
        channel="marketplace",
    )
    uow = app_deps.store.unit_of_work()
    uow.insert("outbox", item)
    uow.commit()
    fresh.woo.fail_next(path_contains="/refunds", after_work=True, status=504)

    deliver_due(app_deps, FIXED_NOW, limit=500)
    deliver_due(app_deps, FIXED_NOW + timedelta(minutes=1), limit=500)

    [refund] = fresh.woo.refunds["727"]
    assert refund["refunded_payment"] is True and refund["amount"] == "10.00"
    assert f"aftercare-refund:{item.outbox_id}" in refund["reason"]
    sent = app_deps.store.get(OutboxItem, item.pk)
    assert sent.status == "sent" and sent.provider_message_id == str(refund["id"])


# --- BigCommerce -------------------------------------------------------------------------------


def install_bigcommerce(client, fresh) -> tuple[MerchantFixture, str]:
    store_hash = f"s{uuid.uuid4().hex[:9]}"
    code = fresh.bc.grant(f"bc-code-{store_hash}", store_hash=store_hash)
    query = f"code={code}&scope=store_v2_orders_read_only&context=stores/{store_hash}"
    response = client.http.get(f"/oauth/bigcommerce/callback?{query}")
    assert response.status_code == 200, response.body
    merchant_id = f"bc-{store_hash}"
    secret = fresh.bc.hooks[-1]["headers"]["X-Aftercare-Secret"]
    return MerchantFixture(merchant_id, "", api_key_of(response.body)), secret


def post_bc(client, merchant_id: str, name: str, secret: str, **changes: Any):
    payload = json.loads(load_fixture("bigcommerce", name))
    payload.update(changes)
    body = json.dumps(payload).encode()
    url = f"/webhooks/bigcommerce/{merchant_id}"
    return client.http.post(url, headers=bigcommerce_headers(secret), body=body)


def stock_order(fresh) -> None:
    order = json.loads(load_fixture("bigcommerce", "api_order_250.json"))
    products = json.loads(load_fixture("bigcommerce", "api_order_250_products.json"))
    fresh.bc.orders["250"] = (order, products)


def test_bigcommerce_install_registers_hooks_with_our_secret_header(fresh, client, app_deps):
    merchant, secret = install_bigcommerce(client, fresh)

    scopes = {hook["scope"] for hook in fresh.bc.hooks}
    assert {"store/order/created", "store/order/updated", "store/order/refund/created"} <= scopes
    assert all(
        h["destination"] == f"{PUBLIC_URL}/webhooks/bigcommerce/{merchant.merchant_id}"
        for h in fresh.bc.hooks
    )
    assert app_deps.store.merchant(merchant.merchant_id).webhook_secrets["bigcommerce"][0] == secret
    assert client.http.get("/api/cases", headers=merchant.auth).status_code == 200


def test_bigcommerce_light_order_event_fetches_and_records_the_order(fresh, client, app_deps):
    from chalicelib.store.models import OrderItem

    merchant, secret = install_bigcommerce(client, fresh)
    stock_order(fresh)

    response = post_bc(client, merchant.merchant_id, "order_created.json", secret)
    repeat = post_bc(client, merchant.merchant_id, "order_created.json", secret)

    assert response.status_code == 200, response.body
    assert [e["type"] for e in json.loads(response.body)["events"]] == ["OrderPlaced"]
    assert json.loads(repeat.body)["status"] == "duplicate"
    order = app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, "250"))
    assert order.total == "1915.0000" and order.currency == "USD"
    assert [line["quantity"] for line in order.line_items] == [2, 2, 2]
    assert order.customer_id.startswith("guest:")  # customer_id 0: a guest checkout


def test_bigcommerce_bad_secret_and_unfetchable_order(fresh, client):
    merchant, secret = install_bigcommerce(client, fresh)

    assert post_bc(client, merchant.merchant_id, "order_created.json", "wrong").status_code == 401
    missing = post_bc(
        client,
        merchant.merchant_id,
        "order_updated.json",
        secret,
        data={"type": "order", "id": 999},
    )
    assert missing.status_code == 502  # the order cannot be read yet: BigCommerce retries
