"""Returns over HTTP against DynamoDB Local: Shopify `returns/request` -> a case the rules decide.

Payloads are Shopify's documented examples (tests/fixtures/shopify, sources beside them) with
ids changed so the return names an order created first, and EasyPost's tracker example for
the delivery that starts the return window. The clock is `FIXED_NOW`.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.signing import shopify_headers, sign_easypost
from tests.support import load_fixture

ORDER_ID = 4783296544821  # the order returns_request.json names
NOSE_LINE, BAG_LINE = 487817672276298554, 890123456789012345  # its two return lines
CUSTOMER_ID = "207119551"  # the customer of orders_create.json
TRACKING = "9400100000000000000001"
CODE = re.compile(r"^RT-[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}$")


def order_body(order_id: int = ORDER_ID, total: str = "169.00") -> bytes:
    """Shopify's orders/create example with the two lines the return example names."""
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    order["id"], order["total_price"] = order_id, total
    order["shipping_address"]["phone"] = "+1 415-555-2671"
    first = order["line_items"][0]
    order["line_items"] = [
        {**first, "id": NOSE_LINE, "sku": "SKU-NOSE", "price": "49.00", "quantity": 1},
        {**first, "id": BAG_LINE, "sku": "SKU-BAG", "price": "120.00", "quantity": 1},
    ]
    return json.dumps(order).encode()


def return_body(order_id: int = ORDER_ID, return_id: int = 123134564567890) -> bytes:
    data = json.loads(load_fixture("shopify", "returns_request.json"))
    data["id"], data["order"]["id"] = return_id, order_id
    return json.dumps(data).encode()


def status_body(topic_file: str, order_id: int = ORDER_ID) -> bytes:
    data = json.loads(load_fixture("shopify", topic_file))
    if "order" in data:
        data["order"]["id"] = order_id
    else:
        data["order_id"] = order_id
    return json.dumps(data).encode()


def post_shopify(client: Any, shop: str, topic: str, body: bytes, webhook_id: str | None = None):
    headers = shopify_headers(body, topic, shop=shop, webhook_id=webhook_id or str(uuid.uuid4()))
    headers["x-shopify-triggered-at"] = keys.iso(FIXED_NOW)
    headers["Content-Type"] = "application/json"
    return client.http.post("/webhooks/shopify", headers=headers, body=body)


def tracker_body(status: str, event_id: str, when: str, tracking: str = TRACKING) -> bytes:
    event = json.loads(load_fixture("easypost", "tracker_updated.json"))
    event["id"] = event_id
    tracker = event["result"]
    tracker["tracking_code"], tracker["status"], tracker["updated_at"] = tracking, status, when
    tracker["tracking_details"][-1].update(status=status, datetime=when)
    return json.dumps(event).encode()


def fulfillment_body(order_id: int, tracking: str) -> bytes:
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment["order_id"] = order_id
    fulfillment["tracking_number"], fulfillment["tracking_numbers"] = tracking, [tracking]
    return json.dumps(fulfillment).encode()


def delivered_order(client, merchant, *, days_ago: float = 2, **order: Any) -> None:
    """Order placed, shipped, and delivered `days_ago` before FIXED_NOW (EasyPost)."""
    shop = merchant.shop_domain
    assert post_shopify(client, shop, "orders/create", order_body(**order)).status_code == 200
    body = fulfillment_body(ORDER_ID, TRACKING)
    assert post_shopify(client, shop, "fulfillments/create", body).status_code == 200
    when = keys.iso(FIXED_NOW - timedelta(days=days_ago))
    tracker = tracker_body("delivered", f"evt_{uuid.uuid4().hex[:8]}", when)
    headers = {"Content-Type": "application/json", **sign_easypost(tracker)}
    url = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    assert client.http.post(url, headers=headers, body=tracker).status_code == 200


def request_return(client, merchant, webhook_id: str | None = None) -> dict[str, Any]:
    response = post_shopify(
        client, merchant.shop_domain, "returns/request", return_body(), webhook_id
    )
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def the_case(client, merchant) -> dict[str, Any]:
    listing = json.loads(client.http.get("/api/cases?type=return", headers=merchant.auth).body)
    assert len(listing["items"]) == 1
    case_id = listing["items"][0]["id"]
    return json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)


def notifications(client, merchant) -> list[dict[str, Any]]:
    return json.loads(client.http.get("/api/notifications", headers=merchant.auth).body)["items"]


def counters(app_deps, merchant) -> dict[str, int]:
    raw = app_deps.store.connection.client.get_item(
        TableName=app_deps.store.table_name,
        Key={
            "pk": {"S": keys.weekly_stats(merchant.merchant_id, keys.iso_week(FIXED_NOW))},
            "sk": {"S": keys.META},
        },
        ConsistentRead=True,
    ).get("Item", {})
    return {k[2:]: int(v["N"]) for k, v in raw.items() if k.startswith("c#")}


# --- decided by the rules --------------------------------------------------------------------


def test_delivery_records_delivered_at_on_the_order(client, merchant, app_deps):
    from chalicelib.store.models import OrderItem

    delivered_order(client, merchant, days_ago=2)

    order = app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, str(ORDER_ID)))
    assert order.delivered_at == FIXED_NOW - timedelta(days=2)


def test_return_within_window_is_approved_with_a_code_and_one_sms(
    client, merchant, app_deps, sms_sent
):
    from chalicelib.notify.sender import deliver_due
    from chalicelib.policy.return_code import is_valid
    from chalicelib.store.models import ReturnCodeItem

    delivered_order(client, merchant, days_ago=2)
    deliver_due(app_deps, FIXED_NOW)  # shipping messages out of the way
    before = len(sms_sent())

    result = request_return(client, merchant)
    deliver_due(app_deps, FIXED_NOW)

    assert result["events"][0]["outcome"] == "applied"
    case = the_case(client, merchant)
    assert case["status"] == "approved" and case["order_id"] == str(ORDER_ID)
    code = case["details"]["return_code"]
    assert CODE.match(code) and is_valid(code)
    assert case["details"]["qr_payload"] == f"AC1/{merchant.merchant_id}/{code}"
    decision = case["details"]["decision"]
    assert decision["outcome"] == "approved" and decision["deciding_rule"] is None
    texts = {r["rule"]: r["text"] for r in decision["trace"]}
    assert texts["return_window"] == "within 7 days (delivered 2 days ago)"
    assert texts["value_ceiling"] == "value 169.00 USD <= 200.00 USD"
    assert all(r["key"].startswith("returns.") and "params" in r for r in decision["trace"])
    kinds = [entry["kind"] for entry in case["timeline"]]
    assert "return_requested" in kinds and "return_decided" in kinds
    pointer = app_deps.store.get(ReturnCodeItem, keys.return_code(merchant.merchant_id, code))
    assert pointer.case_id == case["id"]
    new = sms_sent()[before:]
    assert len(new) == 1 and code in new[0][1]
    by_kind = {(n["channel"], n["kind"]): n for n in notifications(client, merchant)}
    assert by_kind[("sms", "return_approved")]["status"] == "sent"
    # The test merchant never installed through OAuth, so telling Shopify fails visibly.
    assert by_kind[("marketplace", "approve_return")]["status"] == "failed"
    stats = counters(app_deps, merchant)
    assert stats["returns_requested"] == 1 and stats["returns_auto_approved"] == 1
    assert stats["reason:wrong_size"] == 1 and stats["reason:damaged"] == 1
    assert stats["sku:SKU-NOSE"] == 1 and stats["sku:SKU-BAG"] == 1


def test_duplicate_request_decides_nothing_twice(client, merchant, app_deps, sms_sent):
    from chalicelib.notify.sender import deliver_due

    delivered_order(client, merchant)
    first = request_return(client, merchant, webhook_id="ret-1")
    deliver_due(app_deps, FIXED_NOW)
    code = the_case(client, merchant)["details"]["return_code"]
    before = len(sms_sent())

    same_delivery = request_return(client, merchant, webhook_id="ret-1")
    new_delivery = request_return(client, merchant, webhook_id="ret-2")  # Shopify re-sent it
    deliver_due(app_deps, FIXED_NOW)

    assert first["events"][0]["outcome"] == "applied"
    assert same_delivery["status"] == "duplicate"
    assert new_delivery["events"][0]["outcome"] == "duplicate"
    case = the_case(client, merchant)
    assert case["details"]["return_code"] == code
    assert [e["kind"] for e in case["timeline"]].count("return_decided") == 1
    assert len(sms_sent()) == before
    assert counters(app_deps, merchant)["returns_requested"] == 1


def test_high_value_order_goes_to_review(client, merchant, app_deps):
    delivered_order(client, merchant, total="6000.00")

    request_return(client, merchant)

    case = the_case(client, merchant)
    assert case["status"] == "pending_review" and "return_code" not in case["details"]
    decision = case["details"]["decision"]
    assert decision["outcome"] == "needs_review" and decision["deciding_rule"] == "order_value"
    failed = {r["rule"]: r["text"] for r in decision["trace"] if not r["passed"]}
    assert failed == {"order_value": "high-value order: total 6000.00 USD > 5000.00 USD"}
    assert decision["value"] == "169.00 USD"
    kinds = [(n["channel"], n["kind"]) for n in notifications(client, merchant)]
    assert ("sms", "return_needs_review") in kinds
    assert not any(channel == "marketplace" for channel, _ in kinds)
    assert counters(app_deps, merchant)["returns_review"] == 1


def test_return_outside_the_window_is_rejected_with_the_reason(
    client, merchant, app_deps, sms_sent
):
    from chalicelib.notify.sender import deliver_due

    delivered_order(client, merchant, days_ago=10)
    deliver_due(app_deps, FIXED_NOW)
    before = len(sms_sent())

    request_return(client, merchant)
    deliver_due(app_deps, FIXED_NOW)

    case = the_case(client, merchant)
    assert case["status"] == "rejected"
    decision = case["details"]["decision"]
    assert decision["deciding_rule"] == "return_window"
    reason = "outside the 7-day window (delivered 10 days ago)"
    assert decision["explanation"] == f"not_eligible by return_window: {reason}"
    assert case["details"]["rejection_reason"] == reason
    assert len(sms_sent()) == before + 1
    rejected = [n for n in notifications(client, merchant) if n["kind"] == "return_rejected"]
    assert rejected[0]["status"] == "sent"
    assert counters(app_deps, merchant)["returns_rejected"] == 1


def test_window_counts_calendar_days_in_the_shops_zone(client, merchant):
    # FIXED_NOW is 10:00 in New York on Nov 23; delivered Nov 16 at 23:30 New York time
    # (Nov 17 04:30 UTC) is day 7: still inside a 7-day window.
    delivered_order(client, merchant, days_ago=6 + 10.5 / 24)

    request_return(client, merchant)

    texts = {
        r["rule"]: r["text"] for r in the_case(client, merchant)["details"]["decision"]["trace"]
    }
    assert texts["return_window"] == "within 7 days (delivered 7 days ago)"


def test_return_for_an_unknown_order_waits_for_a_human(client, merchant):
    request_return(client, merchant)

    case = the_case(client, merchant)
    assert case["status"] == "pending_review"
    assert case["details"]["decision"]["deciding_rule"] == "order_known"


# --- marketplace status changes --------------------------------------------------------------


def test_marketplace_decline_rejects_a_review_case_and_close_is_refused(client, merchant):
    delivered_order(client, merchant, total="6000.00")
    request_return(client, merchant)
    shop = merchant.shop_domain

    closed = post_shopify(client, shop, "returns/close", status_body("returns_close.json"))
    declined = post_shopify(client, shop, "returns/decline", status_body("returns_decline.json"))
    again = post_shopify(client, shop, "returns/decline", status_body("returns_decline.json"))

    assert closed.status_code == 200
    assert json.loads(closed.body)["events"][0]["outcome"] == "ignored"
    assert json.loads(declined.body)["events"][0]["outcome"] == "applied"
    assert json.loads(again.body)["events"][0]["outcome"] == "ignored"
    case = the_case(client, merchant)
    assert case["status"] == "rejected"
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds.count("status_refused") == 1 and kinds.count("status_changed") == 1
    assert "return_period_ended" in case["details"]["rejection_reason"]


# --- codes and cost ------------------------------------------------------------------------


def test_a_taken_code_is_never_reused(client, merchant, app_deps, monkeypatch):
    import random

    from chalicelib.events import ReturnRequested
    from chalicelib.handlers import HANDLERS
    from chalicelib.handlers.returns import on_return_requested
    from chalicelib.policy.return_code import new_code
    from chalicelib.store.records import new_return_code

    taken, fresh = new_code(random.Random(1)), new_code(random.Random(2))
    uow = app_deps.store.unit_of_work()
    uow.insert("code", new_return_code(merchant.merchant_id, taken, "RET-EARLIER", FIXED_NOW))
    uow.commit()
    codes = iter([taken, fresh])
    handler = partial(on_return_requested, new_code=lambda: next(codes))
    monkeypatch.setitem(HANDLERS, ReturnRequested, handler)
    delivered_order(client, merchant)

    request_return(client, merchant)

    assert the_case(client, merchant)["details"]["return_code"] == fresh


def test_round_trips_of_one_return_request(client, merchant):
    from chalicelib.store.models import BaseItem

    delivered_order(client, merchant)
    calls: list[str] = []
    events = BaseItem._get_connection().connection.client.meta.events
    hook = partial(
        lambda calls, event_name, **_: calls.append(event_name.rsplit(".", 1)[-1]), calls
    )
    events.register("before-call.dynamodb", hook)
    try:
        request_return(client, merchant, webhook_id="rt-1")
        fresh = list(calls)
        calls.clear()
        request_return(client, merchant, webhook_id="rt-1")
        duplicate = list(calls)
    finally:
        events.unregister("before-call.dynamodb", hook)

    # The merchant comes from the warm container's cache (the order before read it), then
    # (receipt + order + case), customer, one transaction
    assert fresh == ["BatchGetItem", "GetItem", "TransactWriteItems"]
    assert duplicate == ["BatchGetItem"]


def test_request_before_delivery_is_not_eligible(client, merchant):
    shop = merchant.shop_domain
    assert post_shopify(client, shop, "orders/create", order_body()).status_code == 200
    body = fulfillment_body(ORDER_ID, TRACKING)
    assert post_shopify(client, shop, "fulfillments/create", body).status_code == 200

    request_return(client, merchant)

    decision = the_case(client, merchant)["details"]["decision"]
    assert decision["outcome"] == "not_eligible" and decision["deciding_rule"] == "delivered"
