"""Prepaid return labels (issue 11): queued with the approval, bought once through EasyPost.

The order and its Shopify return request are the documented examples (test_returns.py
helpers); EasyPost is the local stub `tests/stubs/easypost_api.py`. The label item is
delivered by `label_sender.deliver` with settings pointing at the stub.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from chalicelib.deps import Deps
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, MerchantItem, OutboxItem, ShipmentItem
from tests.conftest import FIXED_NOW
from tests.integration.test_returns import delivered_order, request_return, the_case
from tests.stubs.easypost_api import FAKE_API_KEY, EasyPostStub

WAREHOUSE = {
    "name": "Returns Dept",
    "street1": "417 Montgomery Street",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94104",
    "country": "US",
}
LABELS = {"enabled": True, "carrier": "easypost", "from_address": WAREHOUSE}


@pytest.fixture()
def easypost():
    stub = EasyPostStub()
    stub._thread.start()
    yield stub
    stub._server.shutdown()
    stub._server.server_close()


@pytest.fixture()
def label_deps(app_deps, easypost) -> Deps:
    settings = dataclasses.replace(
        app_deps.settings, easypost_api_keys=(FAKE_API_KEY,), easypost_api_base=easypost.url
    )
    return Deps(settings)


@pytest.fixture(autouse=True)
def _outbox_drained(app_deps, label_deps):
    """Send (or park) what each test queued, so later tests find nothing of ours due."""
    yield
    from chalicelib.notify.sender import deliver_due

    for _ in range(3):
        if not sum(deliver_due(label_deps, FIXED_NOW + timedelta(hours=2), limit=500).values()):
            break


def enable_labels(app_deps, merchant_id: str, labels=LABELS) -> None:
    item = app_deps.store.get(MerchantItem, keys.merchant(merchant_id))
    item.settings = {**(item.settings or {}), "return_labels": labels}
    item.save()


def label_items(app_deps, merchant_id: str, now=FIXED_NOW) -> list[OutboxItem]:
    due = app_deps.store.due_outbox(now + timedelta(hours=1), 500)
    return [i for i in due if i.merchant_id == merchant_id and i.channel == "label"]


def deliver_label(label_deps, app_deps, merchant_id: str, now=FIXED_NOW) -> str:
    from chalicelib.notify.label_sender import deliver

    (item,) = label_items(app_deps, merchant_id, now)
    return deliver(label_deps, item, now)


def test_an_approved_return_gets_one_label_its_parcel_and_an_sms(
    client, merchant, app_deps, label_deps, easypost
):
    enable_labels(app_deps, merchant.merchant_id)
    delivered_order(client, merchant)
    request_return(client, merchant)
    case = the_case(client, merchant)
    assert case["status"] == "approved"
    assert case["details"]["label_status"] == "preparing"

    assert deliver_label(label_deps, app_deps, merchant.merchant_id) == "sent"

    assert len(easypost.purchases) == 1
    (shipment,) = easypost.shipments.values()
    assert shipment["is_return"] is True
    assert shipment["selected_rate"]["rate"] == "5.93"  # the cheapest of the three
    assert shipment["to_address"]["street1"] == WAREHOUSE["street1"]  # back to the warehouse
    stored = app_deps.store.get(CaseItem, keys.case(merchant.merchant_id, case["id"]))
    details = stored.details
    assert details["label_url"] == shipment["postage_label"]["label_url"]
    assert details["return_tracking_number"] == shipment["tracking_code"]
    assert details["return_carrier"] == "USPS"
    parcel = app_deps.store.get(
        ShipmentItem, keys.shipment(merchant.merchant_id, shipment["tracking_code"])
    )
    assert parcel.is_return and parcel.case_id == case["id"] and parcel.carrier == "USPS"
    assert parcel.label_url == details["label_url"] and parcel.order_id == stored.order_id
    timeline = the_case(client, merchant)["timeline"]
    assert any(e["kind"] == "return_label_bought" for e in timeline)
    due = app_deps.store.due_outbox(FIXED_NOW + timedelta(hours=1), 500)
    sms = [
        i for i in due if i.merchant_id == merchant.merchant_id and i.kind == "return_label_ready"
    ]
    assert len(sms) == 1 and sms[0].context["label_url"] == details["label_url"]
    assert label_items(app_deps, merchant.merchant_id) == []  # done: off the due index


def test_a_lost_purchase_answer_is_retried_without_buying_a_second_label(
    client, merchant, app_deps, label_deps, easypost
):
    enable_labels(app_deps, merchant.merchant_id)
    delivered_order(client, merchant)
    request_return(client, merchant)
    easypost.fail_next(status=502, after_work=True, path_contains="/buy")  # bought, answer lost

    assert deliver_label(label_deps, app_deps, merchant.merchant_id) == "retry"
    assert len(easypost.purchases) == 1
    later = FIXED_NOW + timedelta(minutes=5)
    assert deliver_label(label_deps, app_deps, merchant.merchant_id, later) == "sent"

    assert len(easypost.purchases) == 1  # read back, not bought again
    assert [c.method for c in easypost.calls].count("GET") == 1
    case = the_case(client, merchant)
    assert case["details"]["label_url"].endswith(f"{easypost.purchases[0]}.png")


def test_no_label_is_queued_when_labels_are_off_and_a_refusal_is_parked(
    client, merchant, app_deps, label_deps, easypost
):
    delivered_order(client, merchant)
    request_return(client, merchant)
    assert "label_status" not in the_case(client, merchant)["details"]
    assert label_items(app_deps, merchant.merchant_id) == []


def test_a_refused_shipment_is_parked_as_failed_on_the_timeline(
    client, merchant, app_deps, label_deps, easypost
):
    enable_labels(app_deps, merchant.merchant_id)
    delivered_order(client, merchant)
    request_return(client, merchant)
    easypost.fail_next(
        status=422,
        body={"error": {"code": "ADDRESS.VERIFY.FAILURE", "message": "Address not found"}},
    )
    assert deliver_label(label_deps, app_deps, merchant.merchant_id) == "failed"
    assert easypost.purchases == []
    timeline = the_case(client, merchant)["timeline"]
    (entry,) = [e for e in timeline if e["kind"] == "return_label_failed"]
    assert "Address not found" in entry["summary"]


def test_the_portal_and_the_status_page_show_the_label_once_bought(
    client, merchant, app_deps, label_deps, easypost
):
    import re
    import uuid

    from chalicelib.pages.lookup import claim_slug
    from tests.integration.test_portal import follow, open_order, submit

    slug = f"shop-{uuid.uuid4().hex[:10]}"
    assert claim_slug(app_deps.store, slug, merchant.merchant_id)
    enable_labels(app_deps, merchant.merchant_id)
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    fields = {"qty_0": "1", "reason_0": "wrong_size", "qty_1": "0", "reason_1": "other"}
    response = submit(client, slug, cookie, html, fields)
    page = follow(client, response, cookie)
    assert 'data-outcome="approved"' in page
    assert 'id="label-preparing"' in page and 'id="label-link"' not in page
    assert "Please send the parcel by Dec 21, 2026." in page  # 28 days after FIXED_NOW

    assert deliver_label(label_deps, app_deps, merchant.merchant_id) == "sent"
    (shipment,) = easypost.shipments.values()
    url = shipment["postage_label"]["label_url"]
    page = client.http.get(response.headers["Location"], headers={"Cookie": cookie}).body.decode()
    assert f'id="label-link" href="{url}"' in page and 'id="label-preparing"' not in page
    assert shipment["tracking_code"] in page
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', page).group(1)
    reply = client.http.get(href + "?lang=en")
    status = reply.body.decode()
    assert f'id="label-link" href="{url}"' in status


def test_the_label_sms_carries_the_label_and_the_order_status_link(
    client, merchant, app_deps, label_deps, easypost, sms_sent
):
    from chalicelib.notify.sender import deliver_one
    from chalicelib.pages.status import status_path

    enable_labels(app_deps, merchant.merchant_id)
    delivered_order(client, merchant)
    request_return(client, merchant)
    assert deliver_label(label_deps, app_deps, merchant.merchant_id) == "sent"
    due = app_deps.store.due_outbox(FIXED_NOW + timedelta(hours=1), 500)
    (sms,) = [
        i for i in due if i.merchant_id == merchant.merchant_id and i.kind == "return_label_ready"
    ]
    before = len(sms_sent())

    assert deliver_one(app_deps, sms, FIXED_NOW) == "sent"

    (phone, text) = sms_sent()[before]
    url = sms.context["label_url"]
    status_url = app_deps.settings.public_url + status_path(
        app_deps, merchant.merchant_id, sms.order_id
    )
    assert url in text and status_url in text
    assert (
        client.http.get(status_path(app_deps, merchant.merchant_id, sms.order_id)).status_code
        == 200
    )
