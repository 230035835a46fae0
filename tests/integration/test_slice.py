"""The thin slice end to end over HTTP against DynamoDB Local and moto server:
Shopify order -> fulfillment -> EasyPost tracking -> one SMS, and the read API over it."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import FIXED_NOW as DAYTIME
from tests.signing import shopify_headers, sign_easypost
from tests.support import load_fixture

VALID_PHONE = "+1 415-555-2671"  # the docs example's "555-625-1199" is not a valid number


def order_body(order_id: int = 450789469) -> bytes:
    """Shopify's orders/create example with a valid phone (and another id when asked)."""
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    order["id"] = order_id
    order["shipping_address"]["phone"] = VALID_PHONE
    return json.dumps(order).encode()


def fulfillment_body(order_id: int, tracking: str) -> bytes:
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment["order_id"] = order_id
    fulfillment["tracking_number"] = tracking
    fulfillment["tracking_numbers"] = [tracking]
    return json.dumps(fulfillment).encode()


def tracker_body(tracking: str, status: str, event_id: str, when: str) -> bytes:
    """EasyPost's tracker.updated example for our tracking number, newest scan `status`."""
    event = json.loads(load_fixture("easypost", "tracker_updated.json"))
    event["id"] = event_id
    tracker = event["result"]
    tracker["tracking_code"] = tracking
    tracker["status"] = status
    tracker["updated_at"] = when
    details = tracker.get("tracking_details") or []
    if details:
        details[-1]["status"] = status
        details[-1]["datetime"] = when
    return json.dumps(event).encode()


def post_shopify(client: Any, shop: str, topic: str, body: bytes, webhook_id: str | None = None):
    headers = shopify_headers(body, topic, shop=shop, webhook_id=webhook_id or str(uuid.uuid4()))
    headers["Content-Type"] = "application/json"
    return client.http.post("/webhooks/shopify", headers=headers, body=body)


def post_easypost(client: Any, merchant_id: str, body: bytes, headers: dict | None = None):
    sent = {"Content-Type": "application/json", **(headers or sign_easypost(body))}
    return client.http.post(f"/webhooks/carriers/easypost/{merchant_id}", headers=sent, body=body)


def ship_order(client, merchant, tracking: str = "1Z827WK74630", order_id: int = 450789469):
    assert (
        post_shopify(
            client, merchant.shop_domain, "orders/create", order_body(order_id)
        ).status_code
        == 200
    )
    response = post_shopify(
        client, merchant.shop_domain, "fulfillments/create", fulfillment_body(order_id, tracking)
    )
    assert response.status_code == 200, response.body


def test_order_webhook_records_order_and_customer(client, merchant, app_deps):
    response = post_shopify(client, merchant.shop_domain, "orders/create", order_body())

    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "accepted"
    from chalicelib.store import keys
    from chalicelib.store.models import CustomerItem, OrderItem

    order = app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, "450789469"))
    assert order.order_number == "#1001" and order.total == "409.94" and order.currency == "USD"
    customer = app_deps.store.get(
        CustomerItem, keys.customer(merchant.merchant_id, order.customer_id)
    )
    assert customer.phone == "+14155552671"
    assert customer.locale == "zh-CN"
    assert customer.spend == "409.94"


def test_same_order_twice_counts_spend_once(client, merchant, app_deps):
    post_shopify(client, merchant.shop_domain, "orders/create", order_body(), webhook_id="w-1")
    again = post_shopify(
        client, merchant.shop_domain, "orders/create", order_body(), webhook_id="w-1"
    )

    assert again.status_code == 200
    assert json.loads(again.body)["status"] == "duplicate"
    from chalicelib.store import keys
    from chalicelib.store.models import CustomerItem, OrderItem

    order = app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, "450789469"))
    customer = app_deps.store.get(
        CustomerItem, keys.customer(merchant.merchant_id, order.customer_id)
    )
    assert customer.spend == "409.94"


def test_tracking_update_sends_exactly_one_sms(client, merchant, app_deps, sms_sent):
    from chalicelib.notify.sender import deliver_due

    ship_order(client, merchant)
    deliver_due(app_deps, DAYTIME)  # the "shipped" message from the fulfillment
    before = len(sms_sent())
    body = tracker_body("1Z827WK74630", "out_for_delivery", "evt_ofd_1", "2026-11-23T14:00:00Z")

    first = post_easypost(client, merchant.merchant_id, body)
    deliver_due(app_deps, DAYTIME)
    again = post_easypost(client, merchant.merchant_id, body)
    deliver_due(app_deps, DAYTIME)

    assert first.status_code == 200 and again.status_code == 200
    assert json.loads(again.body)["status"] == "duplicate"
    new = sms_sent()[before:]
    assert len(new) == 1
    phone, text = new[0]
    assert phone == "+14155552671"
    assert "1Z827WK74630" in text or "派送" in text  # the zh-CN out-for-delivery message


def test_same_status_from_a_new_delivery_sends_nothing_more(client, merchant, app_deps, sms_sent):
    from chalicelib.notify.sender import deliver_due

    ship_order(client, merchant)
    first = tracker_body("1Z827WK74630", "delivered", "evt_a", "2026-11-23T14:00:00Z")
    other = tracker_body("1Z827WK74630", "delivered", "evt_b", "2026-11-23T14:05:00Z")
    post_easypost(client, merchant.merchant_id, first)
    deliver_due(app_deps, DAYTIME)
    before = len(sms_sent())

    post_easypost(client, merchant.merchant_id, other)
    deliver_due(app_deps, DAYTIME)

    assert len(sms_sent()) == before


def test_notifications_api_shows_the_sent_sms(client, merchant, app_deps):
    from chalicelib.notify.sender import deliver_due

    ship_order(client, merchant)
    deliver_due(app_deps, DAYTIME)

    response = client.http.get("/api/notifications", headers=merchant.auth)

    assert response.status_code == 200
    items = json.loads(response.body)["items"]
    assert [item["kind"] for item in items] == ["shipment_in_transit"]
    sent = items[0]
    assert sent["status"] == "sent" and sent["provider"] == "sns"
    assert sent["to"].endswith("2671") and "415555" not in sent["to"]
    assert sent["locale"] == "zh-CN" and sent["encoding"] == "UCS-2" and sent["segments"] >= 1


def test_carrier_exception_opens_one_case_with_timeline(client, merchant):
    ship_order(client, merchant)
    failure = tracker_body("1Z827WK74630", "failure", "evt_fail", "2026-11-23T14:00:00Z")
    post_easypost(client, merchant.merchant_id, failure)
    post_easypost(
        client,
        merchant.merchant_id,
        tracker_body("1Z827WK74630", "failure", "evt_fail_2", "2026-11-23T15:00:00Z"),
    )

    listing = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)
    assert [case["type"] for case in listing["items"]] == ["shipping_exception"]
    case_id = listing["items"][0]["id"]
    case = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    assert case["order_id"] == "450789469" and case["status"] == "open"
    kinds = [entry["kind"] for entry in case["timeline"]]
    assert kinds.count("shipment_update") == 2
    assert all(entry["at"] for entry in case["timeline"])


def test_cases_paginate_with_an_opaque_cursor(client, merchant):
    for n in range(3):
        tracking = f"TRACK{n}"
        ship_order(client, merchant, tracking=tracking, order_id=1000 + n)
        body = tracker_body(tracking, "failure", f"evt_{n}", "2026-11-23T14:00:00Z")
        post_easypost(client, merchant.merchant_id, body)

    first = json.loads(client.http.get("/api/cases?limit=2", headers=merchant.auth).body)
    cursor = first["next_cursor"]
    second = json.loads(
        client.http.get(f"/api/cases?limit=2&cursor={cursor}", headers=merchant.auth).body
    )

    ids = [c["id"] for c in first["items"]] + [c["id"] for c in second["items"]]
    assert len(first["items"]) == 2 and len(set(ids)) == 3
    assert second["next_cursor"] is None


def test_read_api_needs_the_merchants_key(client, merchant):
    assert client.http.get("/api/cases").status_code == 401
    wrong = {"Authorization": "Bearer ak_not_a_real_key"}
    assert client.http.get("/api/notifications", headers=wrong).status_code == 401


def test_one_merchant_cannot_read_anothers_case_or_cursor(client, merchant, app_deps):
    from tests.conftest import MerchantFixture

    ship_order(client, merchant)
    post_easypost(
        client,
        merchant.merchant_id,
        tracker_body("1Z827WK74630", "failure", "evt_x", "2026-11-23T14:00:00Z"),
    )
    case_id = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"][0][
        "id"
    ]
    from chalicelib.handlers.merchants import create_merchant

    other_key = create_merchant(app_deps.store, "other-" + merchant.merchant_id, "Other", DAYTIME)
    other = MerchantFixture("other-" + merchant.merchant_id, "", other_key)

    assert client.http.get(f"/api/cases/{case_id}", headers=other.auth).status_code == 404
    assert json.loads(client.http.get("/api/cases", headers=other.auth).body)["items"] == []


def test_cursor_of_another_merchant_is_refused(client, merchant):
    import base64

    forged = {
        "gsi1pk": "CASES#someone-else",
        "gsi1sk": "x",
        "pk": "CASE#someone-else#1",
        "sk": "META",
    }
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    response = client.http.get(f"/api/cases?cursor={cursor}", headers=merchant.auth)
    assert response.status_code == 400
    assert json.loads(response.body)["error"] == "malformed_payload"


# --- refusals: clear 4xx, never a 500, nothing written --------------------------------------


def test_bad_shopify_signature_is_401_and_writes_nothing(client, merchant, app_deps):
    body = order_body()
    headers = shopify_headers(body, "orders/create", shop=merchant.shop_domain, secret="wrong")
    headers["Content-Type"] = "application/json"

    response = client.http.post("/webhooks/shopify", headers=headers, body=body)

    assert response.status_code == 401
    assert json.loads(response.body)["error"] == "bad_signature"
    from chalicelib.store import keys
    from chalicelib.store.models import OrderItem

    assert app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, "450789469")) is None


def test_bad_easypost_signature_is_401(client, merchant):
    body = tracker_body("1Z827WK74630", "delivered", "evt_1", "2026-11-23T14:00:00Z")
    response = post_easypost(client, merchant.merchant_id, body, sign_easypost(body, "wrong"))
    assert response.status_code == 401


def test_tampered_body_is_401(client, merchant):
    body = tracker_body("1Z827WK74630", "delivered", "evt_1", "2026-11-23T14:00:00Z")
    headers = sign_easypost(body)
    response = post_easypost(
        client, merchant.merchant_id, body.replace(b"delivered", b"failure"), headers
    )
    assert response.status_code == 401


def test_signed_malformed_json_is_400_with_a_clear_error(client, merchant):
    body = b'{"id": "evt_1", "result": '
    response = post_easypost(client, merchant.merchant_id, body)
    assert response.status_code == 400
    error = json.loads(response.body)
    assert error["error"] == "malformed_payload" and "JSON" in error["detail"]


def test_signed_shopify_body_missing_fields_is_400(client, merchant):
    response = post_shopify(client, merchant.shop_domain, "orders/create", b'{"id": 5}')
    assert response.status_code == 400


def test_unknown_merchant_is_404(client):
    body = tracker_body("1Z827WK74630", "delivered", "evt_1", "2026-11-23T14:00:00Z")
    response = post_easypost(client, "no-such-merchant", body)
    assert response.status_code == 404
    assert json.loads(response.body)["error"] == "unknown_merchant"


def test_unknown_shop_is_404(client):
    body = order_body()
    response = post_shopify(client, "never-installed.myshopify.com", "orders/create", body)
    assert response.status_code == 404


def test_unknown_carrier_is_404(client, merchant):
    response = client.http.post(
        f"/webhooks/carriers/pigeon/{merchant.merchant_id}",
        headers={"Content-Type": "application/json"},
        body=b"{}",
    )
    assert response.status_code == 404


def test_oversize_body_is_413_before_anything_else(client, merchant):
    body = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    response = post_easypost(client, merchant.merchant_id, body)
    assert response.status_code == 413


def test_compliance_topic_for_unknown_shop_is_accepted(client):
    body = load_fixture("shopify", "shop_redact.json")
    response = post_shopify(client, "long-gone.myshopify.com", "shop/redact", body)
    assert response.status_code == 200
