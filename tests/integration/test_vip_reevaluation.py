"""VIP re-evaluation, high-risk follow-up and the returning customer's agent (issue 7).

Against DynamoDB Local with controlled time: orders arrive as Shopify webhooks over HTTP,
cases open the way the channels open them, agents assign over the ops API, and the hourly
job `reevaluate_due` is run at chosen instants. The table is shared by the whole session,
so assertions look at this test's merchant only, and the teardown takes this merchant's
customers off the TIER due index and its cases off the SLA due index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_ops_api import complaint, post
from tests.integration.test_returns import CUSTOMER_ID, ORDER_ID, post_shopify
from tests.integration.test_sla_escalation import (
    case_item,
    configure,
    dated_order,
    items_read,
    place_orders,
    timeline_kinds,
)

H = timedelta(hours=1)
D = timedelta(days=1)
AGENTS = {"priority_agent": "vera", "senior_agents": ["sam"]}


def customer_item(app_deps, merchant, customer_id: str = CUSTOMER_ID):
    from chalicelib.store import keys
    from chalicelib.store.models import CustomerItem

    return app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, customer_id))


def reevaluate(app_deps, at) -> dict[str, int]:
    from chalicelib.handlers.tier_review import reevaluate_due

    return reevaluate_due(app_deps, at, limit=500)


def cases_of(app_deps, merchant) -> list:
    return app_deps.store.list_cases(merchant.merchant_id, 100, None).items


@pytest.fixture(autouse=True)
def _off_the_due_indexes(app_deps, merchant) -> Iterator[None]:
    """Leave no customer of this merchant due for a tier review and no case due for an SLA
    check, so later tests' job runs never meet this module's data."""
    yield
    for case in cases_of(app_deps, merchant):
        if case.due_pk is not None:
            case.due_pk = case.due_sk = None
            case.save()
    for customer in _customers(app_deps, merchant):
        if customer.due_pk is not None:
            customer.due_pk = customer.due_sk = None
            customer.save()


_EXTRA_CUSTOMERS: dict[str, list[str]] = {}


def _customers(app_deps, merchant) -> list:
    ids = [CUSTOMER_ID, *_EXTRA_CUSTOMERS.pop(merchant.merchant_id, [])]
    found = (customer_item(app_deps, merchant, cid) for cid in ids)
    return [c for c in found if c is not None]


# --- 1. an order that makes a VIP re-routes the open cases at once -------------------------


def test_an_order_that_makes_a_vip_reroutes_their_open_cases_in_its_transaction(
    client, merchant, app_deps
):
    configure(app_deps, merchant, agents=AGENTS)
    place_orders(client, merchant, [("100.00", FIXED_NOW - 30 * n * D) for n in range(1, 5)])
    case = complaint(app_deps, merchant, "tier-1")
    assert not case.vip and case.assignee is None
    assert case.first_response_due == FIXED_NOW + 24 * H

    fifth = dated_order(ORDER_ID + 10, "100.00", FIXED_NOW - D)  # 5 orders in 12 months
    assert post_shopify(client, merchant.shop_domain, "orders/create", fifth).status_code == 200

    case = case_item(app_deps, merchant, case.case_id)
    assert case.vip is True and "vip" in case.tags and case.assignee == "vera"
    assert case.details["queue"] == "priority"
    assert case.first_response_due == FIXED_NOW + 12 * H  # VIP x 0.5, from the opening
    assert case.resolution_due == FIXED_NOW + 36 * H
    assert "tier_changed" in timeline_kinds(app_deps, merchant, case.case_id)
    customer = customer_item(app_deps, merchant)
    assert customer.tier == "vip"
    # on the TIER due index when the oldest order (120 days ago) leaves the window
    assert customer.due_sk.startswith("2027-07-26T15:00:01")


def test_beyond_the_bound_the_order_leaves_the_open_cases_to_the_hourly_job(
    client, merchant, app_deps, monkeypatch
):
    from chalicelib.handlers import tier_review

    monkeypatch.setattr(tier_review, "MAX_INLINE_CASES", 2)
    configure(app_deps, merchant, agents=AGENTS)
    place_orders(client, merchant, [("100.00", FIXED_NOW - 30 * n * D) for n in range(1, 5)])
    opened = [
        complaint(app_deps, merchant, f"many-{n}", subject=f"Problem {n}", order_id=str(n))
        for n in range(3)
    ]
    fifth = dated_order(ORDER_ID + 10, "100.00", FIXED_NOW - D)
    assert post_shopify(client, merchant.shop_domain, "orders/create", fifth).status_code == 200

    assert not any(case_item(app_deps, merchant, c.case_id).vip for c in opened)
    customer = customer_item(app_deps, merchant)
    assert customer.tier == "vip" and customer.due_sk.startswith("2026-11-23T15:00:00")

    results = reevaluate(app_deps, FIXED_NOW + H)

    assert results.get("rerouted", 0) >= 1
    after = [case_item(app_deps, merchant, c.case_id) for c in opened]
    assert all(c.vip and c.assignee == "vera" for c in after)
    assert customer_item(app_deps, merchant).due_sk.startswith("2027-07-26T15:00:01")
    assert reevaluate(app_deps, FIXED_NOW + 2 * H).get("rerouted", 0) == 0  # done once


# --- 2. the hourly job demotes when the oldest order leaves the window ---------------------


def test_the_job_demotes_a_vip_when_their_oldest_order_leaves_the_window(
    client, merchant, app_deps
):
    configure(app_deps, merchant, agents=AGENTS)
    days = (300, 200, 100, 50, 10)  # 5 orders in 12 months: VIP until day 300's leaves
    place_orders(client, merchant, [("100.00", FIXED_NOW - n * D) for n in days])
    case = complaint(app_deps, merchant, "demote-1")
    assert case.vip and case.assignee == "vera"
    leaves = FIXED_NOW - 300 * D + 365 * D  # 2027-01-27 15:00

    reevaluate(app_deps, leaves - H)
    assert customer_item(app_deps, merchant).tier == "vip"
    assert case_item(app_deps, merchant, case.case_id).vip is True

    reevaluate(app_deps, leaves + H)

    customer = customer_item(app_deps, merchant)
    assert customer.tier == "standard" and customer.due_pk is None  # off the index
    case = case_item(app_deps, merchant, case.case_id)
    assert case.vip is False and "vip" not in case.tags
    assert case.details["queue"] == "standard"
    assert case.assignee == "vera"  # the existing assignee is kept
    assert case.first_response_due == FIXED_NOW + 24 * H  # standard targets again
    assert timeline_kinds(app_deps, merchant, case.case_id).count("tier_changed") == 1
    # a new case of the demoted customer is a standard one (vera stays their last agent)
    later = complaint(app_deps, merchant, "demote-2", subject="Other", now=leaves + 2 * H)
    assert not later.vip and later.details["queue"] == "standard"


def test_a_vip_with_enough_orders_left_stays_vip_and_is_rescheduled(client, merchant, app_deps):
    days = (300, 250, 100, 50, 20, 10)
    place_orders(client, merchant, [("100.00", FIXED_NOW - n * D) for n in days])
    customer = customer_item(app_deps, merchant)
    assert customer.tier == "vip" and customer.due_sk.startswith("2027-01-27T15:00:01")

    reevaluate(app_deps, FIXED_NOW + 66 * D)

    customer = customer_item(app_deps, merchant)
    assert customer.tier == "vip"
    assert customer.due_sk.startswith("2027-03-18T15:00:01")  # day 250's order leaves then


def test_the_job_reads_only_the_due_customers(app_deps, merchant):
    from chalicelib.handlers.vip_routing import review_tier
    from chalicelib.store import keys
    from chalicelib.store.records import new_customer

    stored = app_deps.store.merchant(merchant.merchant_id)
    made: list[str] = []
    for n in range(40):
        customer = new_customer(merchant.merchant_id, f"c{n}", FIXED_NOW)
        recent = FIXED_NOW - (10 if n >= 2 else 364) * D  # c0, c1: oldest order leaves soon
        customer.orders_12m = [
            {"order_id": f"o{n}-{k}", "at": keys.iso(recent - k * H), "total": "10"}
            for k in range(5 if n < 10 else 1)  # c0..c9 are VIPs
        ]
        review_tier(customer, stored, FIXED_NOW)
        customer.save()
        made.append(f"c{n}")
    _EXTRA_CUSTOMERS[merchant.merchant_id] = made
    prefix = keys.customer(merchant.merchant_id, "")

    with items_read(app_deps) as seen:
        reevaluate(app_deps, FIXED_NOW + 2 * D)

    ours = {pk for _, pk in seen if pk.startswith(prefix)}
    assert ours == {keys.customer(merchant.merchant_id, c) for c in ("c0", "c1")}
    assert {op for op, _ in seen} <= {"Query", "BatchGetItem", "GetItem"}, seen  # no Scan
    assert customer_item(app_deps, merchant, "c0").tier == "standard"
    assert customer_item(app_deps, merchant, "c5").tier == "vip"  # not due: untouched


def test_the_scheduled_function_runs_the_job_through_the_app(client, app_deps):
    from chalicelib.deps import set_clock

    set_clock(lambda: FIXED_NOW + H)
    tick = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])

    result = client.lambda_.invoke("reevaluate_tiers", tick)

    assert isinstance(result.payload, dict) and "errorMessage" not in result.payload


# --- 3. a high-risk order gets one proactive follow-up -------------------------------------


def test_a_high_risk_order_opens_one_proactive_follow_up_for_a_senior(client, merchant, app_deps):
    configure(app_deps, merchant, agents=AGENTS)
    placed = FIXED_NOW - 2 * H
    place_orders(client, merchant, [("6000.00", placed), ("80.00", placed)])
    newer = json.loads(dated_order(ORDER_ID, "6000.00", placed))
    newer["updated_at"] = (FIXED_NOW - H).isoformat()
    body = json.dumps(newer).encode()
    assert post_shopify(client, merchant.shop_domain, "orders/updated", body).status_code == 200

    follow_ups = [c for c in cases_of(app_deps, merchant) if c.case_type == "inquiry"]

    assert len(follow_ups) == 1  # once per order, only for the high-risk one
    [case] = follow_ups
    assert case.subject == "Proactive check: high-risk order #1001"
    assert case.order_id == str(ORDER_ID) and case.customer_id == CUSTOMER_ID
    assert case.assignee == "sam" and {"follow_up", "high_risk"} <= set(case.tags)
    assert case.high_risk is True and case.status == "new"
    assert case.details["follow_up_by"] == "2026-11-25T13:00:00.000000Z"  # placed + 48 h
    assert case.first_response_due == FIXED_NOW + 12 * H  # a high-priority inquiry's targets
    assert case.due_pk is not None  # on the SLA index like any open case
    customer = customer_item(app_deps, merchant)
    assert customer.recent_cases[0]["case_id"] == case.case_id


def test_a_customer_with_two_past_complaints_gets_a_follow_up_on_their_next_order(
    client, merchant, app_deps
):
    place_orders(client, merchant, [("50.00", FIXED_NOW - 3 * D)])
    complaint(app_deps, merchant, "past-1", subject="Late")
    complaint(app_deps, merchant, "past-2", subject="Broken")
    assert not [c for c in cases_of(app_deps, merchant) if c.case_type == "inquiry"]

    later = dated_order(ORDER_ID + 7, "50.00", FIXED_NOW - H)
    assert post_shopify(client, merchant.shop_domain, "orders/create", later).status_code == 200

    [case] = [c for c in cases_of(app_deps, merchant) if c.case_type == "inquiry"]
    assert case.order_id == str(ORDER_ID + 7) and "follow_up" in case.tags
    assert case.assignee is None  # no senior agents configured: it waits in its queue


# --- 4. a returning customer goes back to the agent who last handled them ------------------


def test_assigning_remembers_the_agent_and_the_next_case_goes_back_to_them(
    client, merchant, app_deps
):
    configure(app_deps, merchant, agents={"senior_agents": ["sam"], "team": ["al"]})
    place_orders(client, merchant, [("50.00", FIXED_NOW - 3 * D)])
    first = complaint(app_deps, merchant, "back-1")
    assert first.assignee is None

    status, _ = post(client, merchant, first.case_id, "assign", {"assignee": "al"})

    assert status == 200
    assert customer_item(app_deps, merchant).last_agent == "al"
    second = complaint(app_deps, merchant, "back-2", subject="Another thing")
    assert second.assignee == "al"
    assert any("previous agent" in r for r in second.details["routing"])

    configure(app_deps, merchant, agents={"senior_agents": ["sam"], "team": ["al"],
                                          "unavailable": ["al"]})  # fmt: skip
    third = complaint(app_deps, merchant, "back-3", subject="Third thing")
    assert third.assignee is None  # al is away: the case waits in its queue


def test_an_agent_off_the_roster_is_not_given_the_returning_customer(client, merchant, app_deps):
    configure(app_deps, merchant, agents={"senior_agents": ["sam"], "team": ["al"]})
    place_orders(client, merchant, [("50.00", FIXED_NOW - 3 * D)])
    first = complaint(app_deps, merchant, "gone-1")
    assert post(client, merchant, first.case_id, "assign", {"assignee": "zed"})[0] == 200
    assert customer_item(app_deps, merchant).last_agent == "zed"

    second = complaint(app_deps, merchant, "gone-2", subject="Another thing")

    assert second.assignee is None
