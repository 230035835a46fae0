"""Warehouse receipt -> refund, over HTTP against DynamoDB Local and the Shopify stub.

The shop is installed through the real OAuth routes (so refunds reach the stub); the order,
its delivery and the return request are Shopify's and EasyPost's documented examples
(`tests/integration/test_returns.py` helpers); the warehouse speaks our generic WMS format
(`tests/fixtures/generic_wms/`), signed over the exact bytes. The clock is `FIXED_NOW`.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store import keys
from chalicelib.store.merchant_cache import CACHE
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.marketplace_env import install_shop
from tests.integration.test_returns import (
    BAG_LINE,
    NOSE_LINE,
    ORDER_ID,
    counters,
    delivered_order,
    notifications,
    order_body,
    post_shopify,
    request_return,
)
from tests.integration.test_round_trips import dynamodb_calls
from tests.signing import (
    FAKE_EASYPOST_SECRET,
    FAKE_GENERIC_WMS_SECRET,
    FAKE_SHIPBOB_SECRET,
    FAKE_SHIPHERO_SECRET,
    sign_generic_wms,
    sign_shipbob,
    sign_shiphero,
)
from tests.support import load_fixture

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


def shop(client, fresh, app_deps):
    """An installed Shopify shop whose EasyPost and generic WMS webhooks are signed."""
    merchant = install_shop(client, fresh)
    item = app_deps.store.merchant(merchant.merchant_id)
    item.webhook_secrets = {
        **(item.webhook_secrets or {}),
        "easypost": [FAKE_EASYPOST_SECRET],
        "generic_wms": [FAKE_GENERIC_WMS_SECRET],
        "shiphero": [FAKE_SHIPHERO_SECRET],
        "shipbob": [FAKE_SHIPBOB_SECRET],
    }
    uow = app_deps.store.unit_of_work()
    uow.save("merchant", item)
    uow.commit()
    fresh.shopify.add_order(
        str(ORDER_ID), {str(NOSE_LINE): (1, "49.00"), str(BAG_LINE): (1, "120.00")}
    )
    return merchant


def approved_return(client, fresh, app_deps) -> tuple[Any, dict[str, Any]]:
    """Order -> delivered -> return requested and auto-approved; (merchant, case)."""
    from chalicelib.notify.sender import deliver_due

    merchant = shop(client, fresh, app_deps)
    delivered_order(client, merchant, days_ago=2)
    request_return(client, merchant)
    deliver_due(app_deps, FIXED_NOW, limit=500)
    case = the_case(client, merchant)
    assert case["status"] == "approved", case
    return merchant, case


def wms_body(
    code: str | None,
    dispositions: tuple[str | None, str | None] = ("resellable", "resellable"),
    event: str = "return.inspected",
    order_id: str | None = str(ORDER_ID),
    warehouse_id: str = "WH-RET-913",
    occurred_at: str = "2026-11-23T14:30:00Z",
) -> bytes:
    data = json.loads(load_fixture("generic_wms", "return_inspected.json"))
    data.update(event=event, warehouse_return_id=warehouse_id, occurred_at=occurred_at)
    data["return_code"] = code or "RT-UNKNOWN"
    if order_id is None:
        data.pop("order_id")
    else:
        data["order_id"] = order_id
    lines = []
    for sku, disposition in zip(("SKU-NOSE", "SKU-BAG"), dispositions, strict=True):
        line: dict[str, Any] = {"sku": sku, "quantity": 1, "note": ""}
        if disposition is not None:
            line["disposition"] = disposition
        lines.append(line)
    data["lines"] = lines
    return json.dumps(data).encode()


def post_wms(client, merchant, body: bytes) -> dict[str, Any]:
    url = f"/webhooks/warehouse/generic/{merchant.merchant_id}"
    response = client.http.post(url, headers=sign_generic_wms(body), body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def the_case(client, merchant, case_id: str | None = None) -> dict[str, Any]:
    if case_id is None:
        listing = client.http.get("/api/cases?type=return", headers=merchant.auth)
        items = json.loads(listing.body)["items"]
        assert len(items) == 1, items
        case_id = items[0]["id"]
    return json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)


def run_outbox(app_deps) -> None:
    from chalicelib.notify.sender import deliver_due

    deliver_due(app_deps, FIXED_NOW, limit=500)
    deliver_due(app_deps, FIXED_NOW, limit=500)  # what the first round queued (refund SMS)


def case_item(app_deps, merchant, case_id: str):
    from chalicelib.store.models import CaseItem

    return app_deps.store.get(CaseItem, keys.case(merchant.merchant_id, case_id))


def kinds_of(case: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in case["timeline"]]


def sent(client, merchant, kind: str, channel: str = "sms") -> list[dict[str, Any]]:
    return [
        n
        for n in notifications(client, merchant)
        if n["kind"] == kind and n["channel"] == channel and n["status"] == "sent"
    ]


# --- the happy path -----------------------------------------------------------------------


def test_resellable_receipt_refunds_through_shopify_and_tells_the_customer_twice(
    fresh, client, app_deps, sms_sent
):
    merchant, case = approved_return(client, fresh, app_deps)
    code = case["details"]["return_code"]
    before = len(sms_sent())

    result = post_wms(client, merchant, wms_body(code))
    assert result["events"][0]["outcome"] == "applied"
    pending = the_case(client, merchant, case["id"])
    assert pending["status"] == "refund_pending"
    details = pending["details"]
    assert details["received_at"] == details["inspected_at"] == "2026-11-23T14:30:00.000000Z"
    assert details["refund_requested_at"] == keys.iso(FIXED_NOW)
    assert [ln["disposition"] for ln in details["received_lines"]] == ["resellable"] * 2
    assert details["refund_decision"]["total"] == "169.00"

    run_outbox(app_deps)

    [refund] = fresh.shopify.refunds_of(str(ORDER_ID))
    assert {ln["lineItemId"].rsplit("/", 1)[-1] for ln in refund["lines"]} == {
        str(NOSE_LINE),
        str(BAG_LINE),
    }
    assert refund["lines"][0]["restockType"] == "RETURN"
    done = the_case(client, merchant, case["id"])
    assert done["status"] == "refunded"
    assert done["details"]["refunded_at"] == keys.iso(FIXED_NOW)
    assert done["details"]["refund_id"] == refund["id"].rsplit("/", 1)[-1]
    for kind in ("return_received", "return_inspected", "refund_requested", "refund_issued"):
        assert kind in kinds_of(done)
    texts = [text for _, text in sms_sent()[before:]]
    assert len(texts) == 2
    # The example customer's locale is zh-CN: both texts are Chinese, the amount formatted so.
    assert "已收到您订单#1001的退货" in texts[0]
    assert "US$169.00" in texts[1] and "退款" in texts[1]
    stats = counters(app_deps, merchant)
    assert stats["returns_received"] == 1 and stats["refunds_issued"] == 1
    assert stats["disposition:resellable"] == 2

    # Shopify's webhook about our refund settles nothing twice.
    echo = json.loads(load_fixture("shopify", "refunds_create.json"))
    echo.update(id=int(done["details"]["refund_id"]), order_id=ORDER_ID, note=refund["note"])
    body = json.dumps(echo).encode()
    assert post_shopify(client, merchant.shop_domain, "refunds/create", body).status_code == 200
    run_outbox(app_deps)
    assert the_case(client, merchant, case["id"])["status"] == "refunded"
    assert len(sent(client, merchant, "refund_issued")) == 1
    assert counters(app_deps, merchant)["refunds_issued"] == 1
    assert case_item(app_deps, merchant, case["id"]).due_pk is None  # settled: off SLA index


def test_received_then_inspected_sends_one_receipt_sms(fresh, client, app_deps, sms_sent):
    merchant, case = approved_return(client, fresh, app_deps)
    code = case["details"]["return_code"]
    post_wms(client, merchant, wms_body(code, (None, None), event="return.received"))
    assert the_case(client, merchant, case["id"])["status"] == "received"
    post_wms(client, merchant, wms_body(code, ("resellable", "needs_repair")))
    run_outbox(app_deps)

    done = the_case(client, merchant, case["id"])
    assert done["status"] == "refunded"
    assert len(sent(client, merchant, "return_received")) == 1
    assert len(fresh.shopify.refunds_of(str(ORDER_ID))) == 1
    assert fresh.shopify.refunds_of(str(ORDER_ID))[0]["lines"][0]["restockType"] == "NO_RESTOCK"


def test_a_refund_made_in_shopify_first_settles_the_case_and_is_not_repeated(
    fresh, client, app_deps, sms_sent
):
    merchant, case = approved_return(client, fresh, app_deps)
    post_wms(client, merchant, wms_body(case["details"]["return_code"]))
    echo = json.loads(load_fixture("shopify", "refunds_create.json"))
    echo.update(id=777000111, order_id=ORDER_ID, note="refunded by hand")  # not ours
    body = json.dumps(echo).encode()
    assert post_shopify(client, merchant.shop_domain, "refunds/create", body).status_code == 200
    run_outbox(app_deps)

    done = the_case(client, merchant, case["id"])
    assert done["status"] == "refunded" and done["details"]["refund_id"] == "777000111"
    assert fresh.shopify.refunds_of(str(ORDER_ID)) == []  # Aftercare did not pay twice
    [refund] = [n for n in notifications(client, merchant) if n["kind"] == "refund"]
    assert refund["status"] == "skipped"
    assert len(sent(client, merchant, "refund_issued")) == 1


def test_shiphero_return_update_is_matched_by_order_and_refunded(fresh, client, app_deps):
    """ShipHero's documented Return Update: no return code, the shop's order id instead;
    restocked units are resellable, a "Damaged" condition needs repair."""
    merchant, case = approved_return(client, fresh, app_deps)
    data = json.loads(load_fixture("shiphero", "return_update_received.json"))
    data["partner_order_id"] = str(ORDER_ID)
    nose, bag = data["items"]
    nose.update(sku="SKU-NOSE", quantity=1, quantity_received=1, restock=1)
    bag.update(sku="SKU-BAG", quantity=1, quantity_received=1, restock=0, condition="Damaged")
    body = json.dumps(data).encode()
    url = f"/webhooks/warehouse/shiphero/{merchant.merchant_id}"
    response = client.http.post(url, headers=sign_shiphero(body), body=body)
    assert response.status_code == 200, response.body
    run_outbox(app_deps)

    done = the_case(client, merchant, case["id"])
    assert done["status"] == "refunded"
    assert [ln["disposition"] for ln in done["details"]["received_lines"]] == [
        "resellable",
        "needs_repair",
    ]
    assert len(fresh.shopify.refunds_of(str(ORDER_ID))) == 1


# --- review instead of refund -------------------------------------------------------------


def test_scrap_goes_to_review_without_a_refund(fresh, client, app_deps, sms_sent):
    merchant, case = approved_return(client, fresh, app_deps)
    post_wms(client, merchant, wms_body(case["details"]["return_code"], ("resellable", "scrap")))
    run_outbox(app_deps)

    review = the_case(client, merchant, case["id"])
    assert review["status"] == "pending_review"
    assert "refund_requested_at" not in review["details"]
    [explained] = [e for e in review["timeline"] if e["kind"] == "refund_review"]
    assert "scrap: no automatic refund" in explained["summary"]
    assert fresh.shopify.refunds_of(str(ORDER_ID)) == []
    assert not [n for n in notifications(client, merchant) if n["kind"] == "refund"]
    assert len(sent(client, merchant, "return_received")) == 1
    assert case_item(app_deps, merchant, case["id"]).due_pk  # the SLA job will look at it


def test_shipbob_arrived_then_completed_with_a_disposed_unit_goes_to_review(
    fresh, client, app_deps
):
    """ShipBob's documented Return object: `reference_id` carries our return code; Arrived
    is the receipt, Completed the inspection (Restock -> resellable, Dispose -> scrap)."""
    merchant, case = approved_return(client, fresh, app_deps)
    data = json.loads(load_fixture("shipbob", "return_completed.json"))
    data.update(reference_id=case["details"]["return_code"], store_order_id=str(ORDER_ID))
    tee, jacket = data["inventory"]
    tee.update(sku="SKU-NOSE", quantity=1, action_taken=tee["action_taken"][:1])
    jacket.update(sku="SKU-BAG", quantity=1)
    jacket["action_taken"][0]["action"] = "Dispose"
    arrived = {**data, "status": "Arrived", "arrived_date": "2026-11-23T10:00:00Z"}
    arrived.pop("completed_date")
    arrived["inventory"] = [{**item, "action_taken": []} for item in data["inventory"]]
    data["completed_date"] = "2026-11-23T12:00:00Z"
    url = f"/webhooks/warehouse/shipbob/{merchant.merchant_id}"
    for n, record in enumerate((arrived, data)):
        body = json.dumps(record).encode()
        headers = sign_shipbob(body, msg_id=f"msg_{case['id']}_{n}", topic="return.completed")
        response = client.http.post(url, headers=headers, body=body)
        assert response.status_code == 200, response.body
        if n == 0:
            received = the_case(client, merchant, case["id"])
            assert received["status"] == "received"
            assert received["details"]["received_at"] == "2026-11-23T10:00:00.000000Z"

    review = the_case(client, merchant, case["id"])
    assert review["status"] == "pending_review"
    assert review["details"]["inspected_at"] == "2026-11-23T12:00:00.000000Z"
    assert review["details"]["received_at"] == "2026-11-23T10:00:00.000000Z"
    run_outbox(app_deps)
    assert fresh.shopify.refunds_of(str(ORDER_ID)) == []
    assert len(sent(client, merchant, "return_received")) == 1


def test_a_refund_shopify_refuses_puts_the_case_to_review(fresh, client, app_deps):
    merchant, case = approved_return(client, fresh, app_deps)
    del fresh.shopify.orders[f"gid://shopify/Order/{ORDER_ID}"]  # Shopify: no such order
    post_wms(client, merchant, wms_body(case["details"]["return_code"]))
    run_outbox(app_deps)

    review = the_case(client, merchant, case["id"])
    assert review["status"] == "pending_review"
    assert review["details"]["refund_failed_at"] == keys.iso(FIXED_NOW)
    [failed] = [e for e in review["timeline"] if e["kind"] == "refund_failed"]
    assert "Refund failed" in failed["summary"] and "a human decides" in failed["summary"]
    assert counters(app_deps, merchant)["refunds_failed"] == 1
    assert not sent(client, merchant, "refund_issued")


# --- duplicates, replays, unknown parcels ---------------------------------------------------


def test_duplicate_and_replayed_receipts_refund_once(fresh, client, app_deps, sms_sent):
    merchant, case = approved_return(client, fresh, app_deps)
    code = case["details"]["return_code"]
    body = wms_body(code)
    first = post_wms(client, merchant, body)
    again = post_wms(client, merchant, body)  # the same bytes re-sent
    replay = post_wms(client, merchant, wms_body(code, occurred_at="2026-11-23T14:45:00Z"))
    late = post_wms(client, merchant, wms_body(code, (None, None), event="return.received"))
    run_outbox(app_deps)
    post_wms(client, merchant, body)  # after the refund

    assert first["events"][0]["outcome"] == "applied"
    assert again["status"] == "duplicate" and replay["status"] == "duplicate"
    assert late["events"][0]["outcome"] == "ignored"
    assert len(fresh.shopify.refunds_of(str(ORDER_ID))) == 1
    assert the_case(client, merchant, case["id"])["status"] == "refunded"
    assert len(sent(client, merchant, "return_received")) == 1
    assert len(sent(client, merchant, "refund_issued")) == 1
    assert counters(app_deps, merchant)["returns_received"] == 1


def test_a_receipt_matching_no_return_is_kept_for_review(fresh, client, app_deps):
    merchant = shop(client, fresh, app_deps)
    body = wms_body(None, order_id="999000111", warehouse_id="WH-LOST-1")
    result = post_wms(client, merchant, body)

    assert result["events"][0]["outcome"] == "applied"
    kept = the_case(client, merchant)
    assert kept["id"].startswith("WH-") and kept["status"] == "pending_review"
    assert kept["details"]["warehouse_return_id"] == "WH-LOST-1"
    assert kept["details"]["received_lines"][0]["sku"] == "SKU-NOSE"
    [entry] = [e for e in kept["timeline"] if e["kind"] == "return_received_unmatched"]
    assert "RT-UNKNOWN" in entry["summary"] and "999000111" in entry["summary"]
    assert post_wms(client, merchant, body)["status"] == "duplicate"
    stats = counters(app_deps, merchant)
    assert stats["returns_unmatched"] == 1 and stats["returns_received"] == 1


def test_a_parcel_for_a_return_nobody_approved_is_recorded_for_a_human(fresh, client, app_deps):
    merchant = shop(client, fresh, app_deps)
    post_shopify(client, merchant.shop_domain, "orders/create", order_body())  # never delivered
    request_return(client, merchant)
    refused = the_case(client, merchant)
    assert refused["status"] in ("rejected", "pending_review")

    post_wms(client, merchant, wms_body(None))  # found through the order

    case = the_case(client, merchant, refused["id"])
    assert case["status"] == refused["status"]
    assert case["details"]["received_at"] == "2026-11-23T14:30:00.000000Z"
    [entry] = [e for e in case["timeline"] if e["kind"] == "return_received"]
    assert "a human decides" in entry["summary"]
    assert not [n for n in notifications(client, merchant) if n["kind"] == "refund"]


def test_found_by_order_when_the_warehouse_has_no_code(fresh, client, app_deps):
    merchant, case = approved_return(client, fresh, app_deps)
    post_wms(client, merchant, wms_body(None))
    assert the_case(client, merchant, case["id"])["status"] == "refund_pending"


# --- cost ---------------------------------------------------------------------------------


def test_one_receipt_costs_two_reads_and_one_transaction(fresh, client, app_deps):
    merchant, case = approved_return(client, fresh, app_deps)
    body = wms_body(case["details"]["return_code"])
    CACHE.clear()
    app_deps.store.cached_merchant(merchant.merchant_id)  # a warm container
    with dynamodb_calls() as calls:
        post_wms(client, merchant, body)
    # the code's pointer, receipts and order in one batch; then the case it points to
    assert calls == ["BatchGetItem", "GetItem", "TransactWriteItems"]
