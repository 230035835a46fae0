"""Stale tracking and damaged/lost parcels, over HTTP against DynamoDB Local (issue 4).

The order and fulfillment are Shopify's documented examples, the carrier updates EasyPost's
tracker.updated example (ids, times, status and the newest detail's message changed), all
signed over the exact bytes. The stale rule runs the scheduled job `flag_stale` at chosen
instants (`now` argument and `set_clock`), never with sleeps.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from chalicelib.deps import set_clock
from chalicelib.store import keys
from chalicelib.store.models import MerchantItem, ShipmentItem
from tests.conftest import FIXED_NOW
from tests.integration.test_returns import (
    ORDER_ID,
    TRACKING,
    counters,
    fulfillment_body,
    notifications,
    order_body,
    post_shopify,
)
from tests.signing import sign_easypost
from tests.support import load_fixture

HOUR = timedelta(hours=1)


def shipped(client, merchant) -> None:
    shop = merchant.shop_domain
    assert post_shopify(client, shop, "orders/create", order_body()).status_code == 200
    body = fulfillment_body(ORDER_ID, TRACKING)
    assert post_shopify(client, shop, "fulfillments/create", body).status_code == 200


def track(client, merchant, status: str, when: datetime, message: str = "On the way") -> Any:
    """EasyPost's example with its newest detail replaced by (status, when, message)."""
    event = json.loads(load_fixture("easypost", "tracker_updated.json"))
    event["id"] = f"evt_{uuid.uuid4().hex[:12]}"
    tracker = event["result"]
    tracker["tracking_code"], tracker["status"], tracker["updated_at"] = (
        TRACKING,
        status,
        keys.iso(when),
    )
    tracker["tracking_details"] = [
        {**tracker["tracking_details"][-1], "status": status, "datetime": keys.iso(when),
         "message": message}
    ]  # fmt: skip
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", **sign_easypost(body)}
    url = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    response = client.http.post(url, headers=headers, body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def shipment(app_deps, merchant) -> ShipmentItem:
    return app_deps.store.get(ShipmentItem, keys.shipment(merchant.merchant_id, TRACKING))


def exception_cases(client, merchant) -> list[dict[str, Any]]:
    url = "/api/cases?type=shipping_exception"
    items = json.loads(client.http.get(url, headers=merchant.auth).body)["items"]
    return [
        json.loads(client.http.get(f"/api/cases/{c['id']}", headers=merchant.auth).body)
        for c in items
    ]


def set_tracking(app_deps, merchant, **values: Any) -> None:
    item = app_deps.store.get(MerchantItem, keys.merchant(merchant.merchant_id))
    item.settings = {**(item.settings or {}), "tracking": values}
    uow = app_deps.store.unit_of_work()
    uow.save("merchant", item)
    uow.commit()


def flag(app_deps, now: datetime) -> dict[str, int]:
    from chalicelib.stale_tracking import flag_stale

    set_clock(lambda: now)
    return flag_stale(app_deps, now)


def sent_sms(client, merchant, app_deps, now: datetime) -> list[str]:
    from chalicelib.notify.sender import deliver_due

    deliver_due(app_deps, now, limit=500)
    return [
        n["kind"]
        for n in notifications(client, merchant)
        if n["channel"] == "sms" and n["status"] == "sent"
    ]


# --- stale tracking -------------------------------------------------------------------------


def test_quiet_parcel_is_flagged_once_with_a_case_and_one_sms(client, merchant, app_deps):
    shipped(client, merchant)
    last_scan = FIXED_NOW - 30 * HOUR
    track(client, merchant, "in_transit", last_scan)
    parcel = shipment(app_deps, merchant)
    assert parcel.due_sk == keys.due_sort(last_scan + 24 * HOUR, parcel.pk)  # default 24 h

    assert flag(app_deps, FIXED_NOW) == {"flagged": 1}
    assert flag(app_deps, FIXED_NOW + HOUR) == {}  # off the index: nothing twice

    parcel = shipment(app_deps, merchant)
    assert parcel.stale_at == FIXED_NOW and parcel.due_pk is None
    [case] = exception_cases(client, merchant)
    assert case["status"] == "open" and case["category"] == "late"
    assert case["details"]["cause"] == "stale_tracking"
    [entry] = [e for e in case["timeline"] if e["kind"] == "tracking_stale"]
    assert entry["at"] == keys.iso(FIXED_NOW) and "no carrier scan for 24 h" in entry["summary"]
    kinds = sent_sms(client, merchant, app_deps, FIXED_NOW)
    assert kinds.count("shipment_stale") == 1
    assert counters(app_deps, merchant)["tracking_stale"] == 1


def test_a_later_scan_clears_the_flag_and_a_new_silence_says_nothing_twice(
    client, merchant, app_deps
):
    shipped(client, merchant)
    track(client, merchant, "in_transit", FIXED_NOW - 30 * HOUR)
    assert flag(app_deps, FIXED_NOW) == {"flagged": 1}

    resumed_at = FIXED_NOW + 2 * HOUR
    set_clock(lambda: resumed_at + HOUR)
    track(client, merchant, "in_transit", resumed_at, "Arrived at FedEx location")
    parcel = shipment(app_deps, merchant)
    assert parcel.stale_at is None
    assert parcel.due_sk == keys.due_sort(resumed_at + 24 * HOUR, parcel.pk)
    [case] = exception_cases(client, merchant)
    assert "tracking_resumed" in [e["kind"] for e in case["timeline"]]

    assert flag(app_deps, resumed_at + 23 * HOUR) == {}  # not due yet
    later = resumed_at + 25 * HOUR
    assert flag(app_deps, later) == {"flagged": 1}
    [case] = exception_cases(client, merchant)  # the same case, noted again
    assert [e["kind"] for e in case["timeline"]].count("tracking_stale") == 2
    assert sent_sms(client, merchant, app_deps, later).count("shipment_stale") == 1
    assert counters(app_deps, merchant)["tracking_stale"] == 2


def test_the_merchants_threshold_and_notify_setting_are_read_when_due(client, merchant, app_deps):
    shipped(client, merchant)
    last_scan = FIXED_NOW - 30 * HOUR
    track(client, merchant, "out_for_delivery", last_scan)  # due at +24 h (default)
    set_tracking(app_deps, merchant, stale_after_hours=48, notify_customer_on_stale=False)

    assert flag(app_deps, FIXED_NOW) == {"rescheduled": 1}  # now due at last scan + 48 h
    parcel = shipment(app_deps, merchant)
    assert parcel.due_sk == keys.due_sort(last_scan + 48 * HOUR, parcel.pk)
    assert flag(app_deps, last_scan + 47 * HOUR) == {}
    assert flag(app_deps, last_scan + 48 * HOUR) == {"flagged": 1}
    [case] = exception_cases(client, merchant)
    assert case["details"]["cause"] == "stale_tracking"
    assert "shipment_stale" not in sent_sms(client, merchant, app_deps, last_scan + 48 * HOUR)


def test_delivered_and_pickup_parcels_leave_the_index(client, merchant, app_deps):
    shipped(client, merchant)
    track(client, merchant, "in_transit", FIXED_NOW - 40 * HOUR)
    assert shipment(app_deps, merchant).due_pk is not None
    track(client, merchant, "delivered", FIXED_NOW - 30 * HOUR)
    assert shipment(app_deps, merchant).due_pk is None
    # a stray older scan after delivery does not put it back
    track(client, merchant, "in_transit", FIXED_NOW - 35 * HOUR)
    assert shipment(app_deps, merchant).due_pk is None
    assert flag(app_deps, FIXED_NOW + 48 * HOUR) == {}
    assert exception_cases(client, merchant) == []


# --- damaged and lost -----------------------------------------------------------------------


def test_damaged_parcel_opens_a_case_with_its_cause_counted_once(client, merchant, app_deps):
    shipped(client, merchant)
    track(client, merchant, "in_transit", FIXED_NOW - 20 * HOUR)
    track(client, merchant, "failure", FIXED_NOW - 2 * HOUR, "Package damaged in transit")
    track(client, merchant, "failure", FIXED_NOW - HOUR, "Package damaged, held at depot")

    [case] = exception_cases(client, merchant)
    assert case["category"] == "damaged" and case["priority"] == "high"
    assert case["details"]["cause"] == "damaged"
    assert case["details"]["carrier_message"] == "Package damaged in transit"
    assert case["subject"].startswith("Damaged:")
    stats = counters(app_deps, merchant)
    assert stats["parcels_damaged"] == 1 and "parcels_lost" not in stats
    assert shipment(app_deps, merchant).due_pk is None  # an exception is not "in transit"


def test_lost_parcel_reported_after_a_failed_delivery_updates_the_case(client, merchant, app_deps):
    shipped(client, merchant)
    track(client, merchant, "failure", FIXED_NOW - 5 * HOUR, "Address issue")
    [case] = exception_cases(client, merchant)
    assert case["details"]["cause"] == "exception" and case["category"] == "other"

    track(client, merchant, "failure", FIXED_NOW - HOUR, "Shipment lost in the network")
    [case] = exception_cases(client, merchant)
    assert case["details"]["cause"] == "lost" and case["details"]["causes"] == ["exception"]
    assert case["category"] == "missing_item"
    assert counters(app_deps, merchant)["parcels_lost"] == 1


# --- a reverse fulfillment from the marketplace ---------------------------------------------


def test_a_return_shipment_of_an_approved_return_is_linked_and_tracked(
    client, merchant, app_deps, sms_sent
):
    """`ShipmentCreated(is_return=True)` (a marketplace's reverse fulfillment with tracking)
    for an order with an approved return: the parcel joins the return case, its first scan
    moves the case to in_transit_back and tells the customer once."""
    from chalicelib.events import ShipmentCreated
    from chalicelib.handlers import dispatch
    from chalicelib.handlers.common import Delivery
    from tests.integration.test_returns import delivered_order, request_return, the_case

    delivered_order(client, merchant, days_ago=2)
    request_return(client, merchant)
    case = the_case(client, merchant)
    assert case["status"] == "approved"
    item = app_deps.store.get(MerchantItem, keys.merchant(merchant.merchant_id))
    reverse = ShipmentCreated(
        occurred_at=FIXED_NOW,
        order_id=str(ORDER_ID),
        fulfillment_id="reverse-1",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        is_return=True,
    )
    outcome = dispatch(reverse, Delivery(item, "shopify", "reverse-1", FIXED_NOW), app_deps.store)
    assert case["id"] in outcome.case_ids
    parcel = app_deps.store.get(
        ShipmentItem, keys.shipment(merchant.merchant_id, "1Z999AA10123456784")
    )
    assert parcel.is_return and parcel.case_id == case["id"]
    assert "return_shipment" in [e["kind"] for e in the_case(client, merchant)["timeline"]]

    event = json.loads(load_fixture("easypost", "tracker_updated.json"))
    event["id"] = "evt_reverse_scan"
    tracker = event["result"]
    tracker.update(tracking_code="1Z999AA10123456784", status="in_transit")
    tracker["tracking_details"] = [
        {**tracker["tracking_details"][-1], "datetime": keys.iso(FIXED_NOW - HOUR)}
    ]
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", **sign_easypost(body)}
    url = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    assert client.http.post(url, headers=headers, body=body).status_code == 200

    moving = the_case(client, merchant)
    assert moving["status"] == "in_transit_back"
    assert moving["details"]["return_scanned_at"] == keys.iso(FIXED_NOW - HOUR)
    assert moving["details"]["return_tracking_number"] == "1Z999AA10123456784"
    kinds = sent_sms(client, merchant, app_deps, FIXED_NOW)
    assert kinds.count("return_in_transit") == 1
    assert kinds.count("shipment_in_transit") == 1  # the outbound parcel only
    assert shipment(app_deps, merchant).due_pk is None  # delivered outbound parcel
    return_parcel = app_deps.store.get(
        ShipmentItem, keys.shipment(merchant.merchant_id, "1Z999AA10123456784")
    )
    assert return_parcel.due_pk is None  # return parcels: the stuck-flow check watches them


def test_the_stale_job_reads_only_the_due_index(client, merchant, app_deps):
    """Cost: 4 keys-only Queries + BatchGetItem for the due shipments, then per flagged
    shipment one GetItem (its case) and one transaction; no Scan."""
    from tests.integration.test_round_trips import dynamodb_calls

    shipped(client, merchant)
    track(client, merchant, "in_transit", FIXED_NOW - 30 * HOUR)
    app_deps.store.cached_merchant(merchant.merchant_id)  # a warm container
    with dynamodb_calls() as calls:
        assert flag(app_deps, FIXED_NOW) == {"flagged": 1}
    assert "Scan" not in calls
    assert calls == ["Query"] * 4 + ["BatchGetItem", "GetItem", "TransactWriteItems"], calls
