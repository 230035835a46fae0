"""The whole after-sales journey over HTTP against DynamoDB Local and the Shopify stub (issue 4).

order -> fulfillment -> tracking updates -> delivered -> return requested and auto-approved ->
return parcel scanned -> delivered to the warehouse -> warehouse receipt -> inspection ->
refund issued via the Shopify stub, with the customer's SMS at each step and every step on
the case's (and the customer's) timeline with its time.

Bodies are the partners' documented examples (Shopify orders/create, fulfillments/create,
returns/request; EasyPost's tracker.updated; our generic WMS format), signed over the exact
bytes by the helpers of `test_returns.py` / `test_warehouse_flow.py`. The return parcel is
written the way the portal's prepaid label writes it (a `ShipmentItem` with `is_return` and
`case_id`). Time moves with `set_clock`, never with sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.deps import set_clock
from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.test_returns import (
    ORDER_ID,
    TRACKING,
    counters,
    fulfillment_body,
    notifications,
    order_body,
    post_shopify,
    request_return,
    tracker_body,
)
from tests.integration.test_warehouse_flow import post_wms, shop, the_case, wms_body
from tests.signing import sign_easypost

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures

RETURN_TRACKING = "9205500000000000000042"


@pytest.fixture()
def clock(app_deps) -> Iterator[Any]:
    """`move(to)` sets the app's clock; the app_deps fixture restores the real one."""

    def move(to: datetime) -> datetime:
        set_clock(lambda: to)
        return to

    yield move


def post_tracker(client, merchant, status: str, when: datetime, tracking: str = TRACKING):
    """EasyPost's tracker.updated example for `tracking`, its newest detail at `when`; the
    example's 2024 history is kept for the outbound parcel (a carrier re-sends history) and
    replaced by this one scan for the return parcel, whose history starts at drop-off."""
    body = tracker_body(
        status, f"evt_{status}_{tracking[-4:]}_{when:%d%H%M}", keys.iso(when), tracking
    )
    if tracking == RETURN_TRACKING:
        event = json.loads(body)
        event["result"]["tracking_details"] = event["result"]["tracking_details"][-1:]
        body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", **sign_easypost(body)}
    url = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    response = client.http.post(url, headers=headers, body=body)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def add_return_parcel(app_deps, merchant, case: dict[str, Any], now: datetime) -> None:
    """What the portal's prepaid label records (B2): the return parcel, linked to its case."""
    from chalicelib.store.records import new_shipment

    parcel = new_shipment(merchant.merchant_id, RETURN_TRACKING, now)
    parcel.is_return, parcel.case_id = True, case["id"]
    parcel.order_id, parcel.customer_id = case["order_id"], case["customer_id"]
    parcel.order_number = case["details"].get("order_number")
    parcel.carrier, parcel.status, parcel.status_at = "USPS", "label_created", now
    parcel.label_url = "https://easypost-files.s3.amazonaws.com/files/postage_label/example.png"
    uow = app_deps.store.unit_of_work()
    uow.insert("shipment", parcel)
    uow.commit()


class Texts:
    """The customer SMS sent so far, by kind, in the order they were sent."""

    def __init__(self, client, merchant, app_deps) -> None:
        self.client, self.merchant, self.app_deps = client, merchant, app_deps
        self.seen: set[str] = set()
        self.kinds: list[str] = []

    def deliver(self, now: datetime) -> list[str]:
        """Run the sender (twice: what a send queues, e.g. the refund SMS) and return the
        kinds of the SMS it sent."""
        from chalicelib.notify.sender import deliver_due

        deliver_due(self.app_deps, now, limit=500)
        deliver_due(self.app_deps, now, limit=500)
        new = [
            n
            for n in notifications(self.client, self.merchant)
            if n["channel"] == "sms" and n["status"] == "sent" and n["id"] not in self.seen
        ]
        self.seen |= {n["id"] for n in new}
        kinds = sorted(n["kind"] for n in new)
        self.kinds += kinds
        return kinds


def test_order_to_refund_sends_one_sms_per_step_and_the_timeline_shows_every_step(
    fresh, client, app_deps, sms_sent, clock
):
    merchant = shop(client, fresh, app_deps)
    shop_domain = merchant.shop_domain
    texts = Texts(client, merchant, app_deps)
    before = len(sms_sent())  # the SMS backend records the whole session

    # -- outbound: order, fulfillment, carrier scans, delivery (FIXED_NOW - 5 days ...) --
    assert post_shopify(client, shop_domain, "orders/create", order_body()).status_code == 200
    assert texts.deliver(FIXED_NOW) == []
    body = fulfillment_body(ORDER_ID, TRACKING)
    assert post_shopify(client, shop_domain, "fulfillments/create", body).status_code == 200
    assert texts.deliver(FIXED_NOW) == ["shipment_in_transit"]
    post_tracker(client, merchant, "in_transit", FIXED_NOW - timedelta(days=4))
    assert texts.deliver(FIXED_NOW) == []  # "shipped" was said once already
    post_tracker(client, merchant, "out_for_delivery", FIXED_NOW - timedelta(days=2, hours=3))
    assert texts.deliver(FIXED_NOW) == ["shipment_out_for_delivery"]
    post_tracker(client, merchant, "delivered", FIXED_NOW - timedelta(days=2))
    assert texts.deliver(FIXED_NOW) == ["shipment_delivered"]

    # -- the return: requested and approved by the rules at FIXED_NOW --
    request_return(client, merchant)
    assert texts.deliver(FIXED_NOW) == ["return_approved"]
    case = the_case(client, merchant)
    assert case["status"] == "approved"
    add_return_parcel(app_deps, merchant, case, FIXED_NOW + timedelta(minutes=30))

    # -- the return parcel: dropped off, scanned, delivered to the warehouse --
    now = clock(FIXED_NOW + timedelta(days=1))
    scanned = FIXED_NOW + timedelta(hours=20)
    result = post_tracker(client, merchant, "in_transit", scanned, RETURN_TRACKING)
    assert result["events"][0]["outcome"] == "applied"
    assert texts.deliver(now) == ["return_in_transit"]
    moving = the_case(client, merchant, case["id"])
    assert moving["status"] == "in_transit_back"
    # the customer's status page lists the parcel on its way back
    from chalicelib.pages.status import status_link

    page = client.http.get(status_link(app_deps, merchant.merchant_id, str(ORDER_ID)))
    assert page.status_code == 200 and RETURN_TRACKING in page.body.decode()
    assert moving["details"]["return_scanned_at"] == keys.iso(scanned)
    # a replayed scan changes nothing and says nothing twice
    assert (
        post_tracker(client, merchant, "in_transit", scanned, RETURN_TRACKING)["events"][0][
            "outcome"
        ]
        == "duplicate"
    )
    # a later scan moves nothing either: the parcel was announced once
    post_tracker(client, merchant, "in_transit", scanned + timedelta(hours=3), RETURN_TRACKING)
    assert texts.deliver(now) == []
    assert the_case(client, merchant, case["id"])["details"]["return_scanned_at"] == keys.iso(
        scanned
    )
    now = clock(FIXED_NOW + timedelta(days=2))
    arrived = FIXED_NOW + timedelta(days=1, hours=20)
    post_tracker(client, merchant, "delivered", arrived, RETURN_TRACKING)
    assert texts.deliver(now) == []  # the warehouse's receipt says it
    assert the_case(client, merchant, case["id"])["status"] == "in_transit_back"

    # -- warehouse: received, then inspected -> refund through the Shopify stub --
    code = case["details"]["return_code"]
    received = FIXED_NOW + timedelta(days=2, hours=1)
    now = clock(received + timedelta(minutes=30))
    wms = wms_body(code, (None, None), event="return.received", occurred_at=keys.iso(received))
    post_wms(client, merchant, wms)
    assert texts.deliver(now) == ["return_received"]
    inspected = FIXED_NOW + timedelta(days=2, hours=3)
    now = clock(inspected + timedelta(minutes=30))
    post_wms(client, merchant, wms_body(code, occurred_at=keys.iso(inspected)))
    refunded = clock(now + timedelta(minutes=5))  # the sender's run comes a little later
    assert texts.deliver(refunded) == ["refund_issued"]

    # -- what everybody sees --
    assert texts.kinds == [
        "shipment_in_transit",
        "shipment_out_for_delivery",
        "shipment_delivered",
        "return_approved",
        "return_in_transit",
        "return_received",
        "refund_issued",
    ]
    phones_and_texts = sms_sent()[before:]
    assert len(phones_and_texts) == 7
    assert "退货已在寄回途中" in phones_and_texts[4][1]  # the example customer reads Chinese
    [refund] = fresh.shopify.refunds_of(str(ORDER_ID))
    assert refund["note"].startswith("Aftercare return")

    done = the_case(client, merchant, case["id"])
    assert done["status"] == "refunded"
    timeline = done["timeline"]
    kinds = [entry["kind"] for entry in timeline]
    steps = [
        "return_in_transit",
        "return_delivered",
        "return_received",
        "return_inspected",
        "refund_requested",
        "refund_issued",
    ]
    assert [k for k in kinds if k in steps] == steps, [
        (e["kind"], e["at"], e["recorded_at"]) for e in timeline
    ]
    assert kinds.count("shipment_update") == 3  # the return parcel's scans; the replay: none
    assert all(entry["at"] for entry in timeline)
    at = {entry["kind"]: entry["at"] for entry in timeline}
    assert at["return_in_transit"] == keys.iso(scanned)
    assert at["return_delivered"] == keys.iso(arrived)
    assert at["return_received"] == keys.iso(received)
    assert at["return_inspected"] == keys.iso(inspected)
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)

    # The customer's timeline joins the order's steps and the case's.
    customer = done["customer_id"]
    url = f"/api/customers/{customer}/timeline?limit=100"
    entries = json.loads(client.http.get(url, headers=merchant.auth).body)["items"]
    seen = {entry["kind"] for entry in entries}
    assert {"shipment_created", "shipment_update", *steps} <= seen, seen

    stats = counters(app_deps, merchant)
    assert stats["returns_in_transit"] == 1
    assert stats["returns_received"] == 1 and stats["refunds_issued"] == 1
