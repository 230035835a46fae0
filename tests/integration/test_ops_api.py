"""The ops actions API over HTTP against DynamoDB Local: every action validated, checked against
the case state machine, audited on the timeline; repeat complaints and the customer timeline."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.conftest import FIXED_NOW
from tests.integration.test_returns import (
    CODE,
    CUSTOMER_ID,
    ORDER_ID,
    delivered_order,
    notifications,
    order_body,
    post_shopify,
    request_return,
    the_case,
)


def post(client, merchant, case_id: str, action: str, body: Any = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body or {}).encode()
    headers = {**merchant.auth, "Content-Type": "application/json"}
    response = client.http.post(f"/api/cases/{case_id}/{action}", headers=headers, body=data)
    return response.status_code, json.loads(response.body)


def review_case(client, merchant) -> str:
    """A return that waits for review (high-value order), delivered two days ago."""
    delivered_order(client, merchant, total="6000.00")
    request_return(client, merchant)
    case = the_case(client, merchant)
    assert case["status"] == "pending_review"
    return case["id"]


def complaint(app_deps, merchant, cause: str, *, now=FIXED_NOW, **fields: Any):
    from chalicelib.handlers.cases import NewCase, create_case

    new = NewCase(
        case_type="complaint",
        subject=fields.pop("subject", "Zip broke after two days"),
        source="web",
        cause=cause,
        customer_id=CUSTOMER_ID,
        **fields,
    )
    return create_case(app_deps.store, app_deps.store.merchant(merchant.merchant_id), new, now)


# --- returns waiting for review ------------------------------------------------------------


def test_agent_approves_a_review_case_like_the_autopilot_would(
    client, merchant, app_deps, sms_sent
):
    from chalicelib.notify.sender import deliver_due

    case_id = review_case(client, merchant)
    deliver_due(app_deps, FIXED_NOW)
    before = len(sms_sent())

    assert post(client, merchant, case_id, "assign", {"assignee": "alice"})[0] == 200
    status, body = post(client, merchant, case_id, "approve", {"note": "loyal customer"})
    deliver_due(app_deps, FIXED_NOW)

    assert status == 200 and body["result"] == "approved"
    code = body["case"]["details"]["return_code"]
    assert CODE.match(code) and body["case"]["status"] == "approved"
    assert body["entry"]["source"] == "agent:alice" and code in body["entry"]["summary"]
    new = sms_sent()[before:]
    assert len(new) == 1 and code in new[0][1]
    kinds = [(n["channel"], n["kind"]) for n in notifications(client, merchant)]
    assert ("marketplace", "approve_return") in kinds
    timeline = the_case(client, merchant)["timeline"]
    audit = {(e["kind"], e["source"]) for e in timeline if e["source"].startswith("agent:")}
    assert audit == {("assigned", "agent:alice"), ("approved", "agent:alice")}


def test_approving_twice_is_an_invalid_transition(client, merchant):
    case_id = review_case(client, merchant)
    assert post(client, merchant, case_id, "approve")[0] == 200

    status, body = post(client, merchant, case_id, "approve")

    assert status == 409 and body["error"] == "invalid_transition"
    assert "cannot move from 'approved' to 'approved'" in body["detail"]


def test_agent_rejects_with_a_reason_the_customer_reads(client, merchant, app_deps, sms_sent):
    from chalicelib.notify.sender import deliver_due

    case_id = review_case(client, merchant)
    deliver_due(app_deps, FIXED_NOW)
    before = len(sms_sent())

    status, body = post(client, merchant, case_id, "reject", {"reason": "item shows wear"})
    deliver_due(app_deps, FIXED_NOW)

    assert status == 200 and body["case"]["status"] == "rejected"
    assert body["case"]["details"]["rejection_reason"] == "item shows wear"
    assert body["entry"]["source"] == "agent:api"
    assert len(sms_sent()) == before + 1
    kinds = [(n["channel"], n["kind"]) for n in notifications(client, merchant)]
    assert ("marketplace", "decline_return") in kinds


def test_status_cannot_bypass_approval_or_the_state_machine(client, merchant):
    case_id = review_case(client, merchant)

    bypass = post(client, merchant, case_id, "status", {"status": "approved"})
    unknown = post(client, merchant, case_id, "status", {"status": "teleported"})
    illegal = post(client, merchant, case_id, "status", {"status": "refunded"})
    resolve = post(client, merchant, case_id, "resolve", {"resolution": "done"})
    fine = post(client, merchant, case_id, "status", {"status": "awaiting_customer"})

    assert bypass[0] == 400 and "/approve" in bypass[1]["detail"]
    assert unknown[0] == 400 and "teleported" in unknown[1]["detail"]
    assert illegal[0] == 409 and illegal[1]["error"] == "invalid_transition"
    assert resolve[0] == 409 and "'pending_review' to 'resolved'" in resolve[1]["detail"]
    assert fine[0] == 200 and fine[1]["case"]["status"] == "awaiting_customer"


def test_bodies_are_validated(client, merchant):
    case_id = review_case(client, merchant)

    cases = [
        ("assign", None, b"{not json"),
        ("assign", {}, None),
        ("assign", {"assignee": ""}, None),
        ("assign", {"assignee": "bob", "role": "x"}, None),
        ("note", {"text": "   "}, None),
        ("note", None, b"[1, 2]"),
        ("reject", {}, None),
        ("resolve", {"resolution": 5}, None),
    ]
    for action, body, raw in cases:
        status, error = post(client, merchant, case_id, action, body, raw)
        assert status == 400 and error["error"] == "malformed_payload", (action, error)
        assert error["detail"]
    assert the_case(client, merchant)["status"] == "pending_review"


def test_another_merchants_case_is_not_found(client, merchant, app_deps):
    from chalicelib.handlers.merchants import create_merchant
    from tests.conftest import MerchantFixture

    case_id = review_case(client, merchant)
    other_id = "other-" + merchant.merchant_id
    other = MerchantFixture(other_id, "", create_merchant(app_deps.store, other_id, "O", FIXED_NOW))

    status, body = post(client, other, case_id, "approve")

    assert status == 404 and body["error"] == "not_found"
    assert the_case(client, merchant)["status"] == "pending_review"


def test_actions_need_the_merchants_key(client, merchant):
    response = client.http.post(
        "/api/cases/RET-1/approve", headers={"Content-Type": "application/json"}, body=b"{}"
    )
    assert response.status_code == 401


# --- complaints: lifecycle, repeats, the customer's timeline ------------------------------


def test_complaint_lifecycle_is_audited(client, merchant, app_deps):
    post_shopify(client, merchant.shop_domain, "orders/create", order_body())
    case_id = complaint(app_deps, merchant, "msg-1", order_id=str(ORDER_ID)).case_id

    steps = [
        ("assign", {"assignee": "bob"}),
        ("status", {"status": "open"}),
        ("note", {"text": "Called the customer, sending a new zip"}),
        ("resolve", {"resolution": "replacement zip sent"}),
    ]
    results = [post(client, merchant, case_id, action, body) for action, body in steps]
    again = post(client, merchant, case_id, "resolve", {"resolution": "again"})

    assert [status for status, _ in results] == [200, 200, 200, 200]
    final = results[-1][1]["case"]
    assert final["status"] == "resolved" and final["assignee"] == "bob"
    assert final["details"]["resolution"]["text"] == "replacement zip sent"
    assert again[0] == 409
    case = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    audit = [(e["kind"], e["source"]) for e in case["timeline"] if e["source"] != "web"]
    assert sorted(audit) == sorted(
        [
            ("assigned", "agent:bob"),
            ("status_changed", "agent:bob"),
            ("note", "agent:bob"),
            ("resolved", "agent:bob"),
        ]
    )


def test_repeat_complaint_links_to_the_earlier_case(client, merchant, app_deps):
    post_shopify(client, merchant.shop_domain, "orders/create", order_body())
    first = complaint(app_deps, merchant, "msg-1", order_id=str(ORDER_ID), skus=("SKU-BAG",))
    later = FIXED_NOW + timedelta(days=3)
    same_sku = complaint(app_deps, merchant, "msg-2", now=later, skus=("SKU-BAG",))
    other = complaint(app_deps, merchant, "msg-3", now=later, order_id="999", skus=("SKU-X",))
    stale = complaint(
        app_deps, merchant, "msg-4", now=FIXED_NOW + timedelta(days=40), order_id=str(ORDER_ID)
    )
    replay = complaint(app_deps, merchant, "msg-2", now=later, skus=("SKU-BAG",))

    def read(case_id: str) -> dict[str, Any]:
        return json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)

    linked = read(same_sku.case_id)
    assert linked["details"]["repeat_of"] == first.case_id and linked["tags"] == ["repeat"]
    assert "repeat of" in linked["timeline"][0]["summary"]
    assert "repeat_of" not in read(other.case_id)["details"]
    assert "repeat_of" not in read(stale.case_id)["details"]  # 40 days: outside 30
    assert replay.case_id == same_sku.case_id
    from chalicelib.store import keys
    from chalicelib.store.models import CustomerItem

    customer = app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, CUSTOMER_ID))
    assert customer.complaints == 4


def test_customer_timeline_spans_orders_and_cases(client, merchant, app_deps):
    from chalicelib.handlers.merchants import create_merchant
    from tests.conftest import MerchantFixture

    delivered_order(client, merchant)
    request_return(client, merchant)
    complaint(app_deps, merchant, "msg-1", order_id=str(ORDER_ID))

    url = f"/api/customers/{CUSTOMER_ID}/timeline"
    body = json.loads(client.http.get(url, headers=merchant.auth).body)
    first = json.loads(client.http.get(url + "?limit=2", headers=merchant.auth).body)
    second = json.loads(
        client.http.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=merchant.auth).body
    )
    other_id = "other-" + merchant.merchant_id
    other = MerchantFixture(other_id, "", create_merchant(app_deps.store, other_id, "O", FIXED_NOW))
    theirs = json.loads(client.http.get(url, headers=other.auth).body)

    kinds = {e["kind"] for e in body["items"]}
    assert {"order_placed", "return_requested", "return_decided", "case_opened"} <= kinds
    ats = [e["at"] for e in body["items"]]
    assert ats == sorted(ats, reverse=True)
    assert len({e["case_id"] for e in body["items"] if e["case_id"]}) == 2
    assert [e["id"] for e in first["items"] + second["items"]] == [
        e["id"] for e in body["items"][:4]
    ]
    assert theirs["items"] == []
    bad = client.http.get(url + "?since=yesterday", headers=merchant.auth)
    assert bad.status_code == 400
