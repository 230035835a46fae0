"""Out-of-order webhooks (issue 9): a fulfillment, a carrier's "delivered" or a carrier
exception that arrives before the `orders/create` it belongs to loses nothing. The order
takes the shipment over when it comes (its tracking number, its delivery time: the return
window), the shipment learns its customer (later updates message them), the early carrier
updates stay on the shipment's timeline, and the exception still opens its case.
"""

from __future__ import annotations

import json
import uuid

from chalicelib.store import keys
from chalicelib.store.models import OrderItem, ShipmentItem
from tests.integration.test_slice import (
    fulfillment_body,
    order_body,
    post_easypost,
    post_shopify,
    tracker_body,
)


def _tracking() -> str:
    return f"1Z{uuid.uuid4().hex[:12].upper()}"


def test_fulfillment_and_delivery_before_the_order_are_taken_over_by_it(client, merchant, app_deps):
    tracking, order_id, mid = _tracking(), 830000001, merchant.merchant_id
    delivered = tracker_body(tracking, "delivered", "evt_ooo_1", "2026-11-22T10:00:00Z")
    assert post_easypost(client, mid, delivered).status_code == 200
    shipped = fulfillment_body(order_id, tracking)
    assert (
        post_shopify(client, merchant.shop_domain, "fulfillments/create", shipped).status_code
        == 200
    )
    order = app_deps.store.get(OrderItem, keys.order(mid, str(order_id)))
    assert order is None  # not yet

    placed = post_shopify(client, merchant.shop_domain, "orders/create", order_body(order_id))
    assert placed.status_code == 200

    order = app_deps.store.get(OrderItem, keys.order(mid, str(order_id)))
    assert order.tracking_numbers == {tracking}
    assert order.delivered_at is not None  # the return window starts at the real delivery
    shipment = app_deps.store.get(ShipmentItem, keys.shipment(mid, tracking))
    assert shipment.customer_id == order.customer_id and shipment.order_number == order.order_number
    timeline = app_deps.store.collection(keys.shipment(mid, tracking))
    assert [e.kind for e in timeline if e.sk.startswith("TL#")] == ["shipment_update"]


def test_an_exception_before_the_fulfillment_still_opens_one_case(client, merchant, app_deps):
    tracking, order_id, mid = _tracking(), 830000002, merchant.merchant_id
    assert (
        post_shopify(
            client, merchant.shop_domain, "orders/create", order_body(order_id)
        ).status_code
        == 200
    )
    failure = tracker_body(tracking, "failure", "evt_ooo_2", "2026-11-22T10:00:00Z")
    assert post_easypost(client, mid, failure).status_code == 200
    shipped = fulfillment_body(order_id, tracking)
    answer = post_shopify(client, merchant.shop_domain, "fulfillments/create", shipped)
    assert answer.status_code == 200
    again = tracker_body(tracking, "failure", "evt_ooo_3", "2026-11-22T11:00:00Z")
    assert post_easypost(client, mid, again).status_code == 200

    listing = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)
    cases = [c for c in listing["items"] if c["order_id"] == str(order_id)]
    assert [c["type"] for c in cases] == ["shipping_exception"]


def test_a_late_exception_after_delivery_still_opens_its_case(client, merchant, app_deps):
    tracking, order_id, mid = _tracking(), 830000003, merchant.merchant_id
    post_shopify(client, merchant.shop_domain, "orders/create", order_body(order_id))
    post_shopify(
        client, merchant.shop_domain, "fulfillments/create", fulfillment_body(order_id, tracking)
    )
    delivered = tracker_body(tracking, "delivered", "evt_ooo_4", "2026-11-22T12:00:00Z")
    assert post_easypost(client, mid, delivered).status_code == 200
    late = tracker_body(tracking, "failure", "evt_ooo_5", "2026-11-22T09:00:00Z")
    assert post_easypost(client, mid, late).status_code == 200

    shipment = app_deps.store.get(ShipmentItem, keys.shipment(mid, tracking))
    assert shipment.status == "delivered"  # never moved backwards
    listing = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)
    assert [c["type"] for c in listing["items"] if c["order_id"] == str(order_id)] == [
        "shipping_exception"
    ]
