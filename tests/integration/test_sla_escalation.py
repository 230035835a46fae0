"""SLA escalation and VIP routing against DynamoDB Local, with controlled time (issue 7).

Cases are opened the way production opens them (create_case as the channels do, Shopify and
carrier webhooks over HTTP, ops actions over HTTP); the clock is moved and the job
`escalate_due` is run, several times, to prove each step fires once. The table is shared by
the whole session, so assertions look at this test's merchant only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_ops_api import complaint, post
from tests.integration.test_returns import (
    CUSTOMER_ID,
    ORDER_ID,
    delivered_order,
    order_body,
    post_shopify,
    request_return,
    the_case,
)
from tests.support import utc

H = timedelta(hours=1)
SENIOR = "senior@shop.example"
OPS = "ops@shop.example"
AGENT = "al@shop.example"


# --- helpers -------------------------------------------------------------------------------


def configure(app_deps, merchant, **sections: Any) -> None:
    """Store settings sections exactly as the settings API validates and stores them."""
    from chalicelib.policy.settings_schema import apply_section, parse_section

    item = app_deps.store.merchant(merchant.merchant_id)
    settings = dict(item.settings or {})
    for name, body in sections.items():
        settings, _ = apply_section(name, settings, parse_section(name, body))
    item.settings = settings
    item.save()


def case_item(app_deps, merchant, case_id: str):
    from chalicelib.store import keys
    from chalicelib.store.models import CaseItem

    return app_deps.store.get(CaseItem, keys.case(merchant.merchant_id, case_id))


def run(app_deps, at: datetime, times: int = 1) -> None:
    from chalicelib.sla_job import escalate_due

    for _ in range(times):
        escalate_due(app_deps, at)


def sla_emails(app_deps, merchant) -> list[Any]:
    page = app_deps.store.list_notifications(merchant.merchant_id, 100, None)
    return sorted((n for n in page.items if n.kind == "sla_escalation"), key=lambda n: n.created_at)


def timeline_kinds(app_deps, merchant, case_id: str) -> list[str]:
    from chalicelib.store import keys

    items = app_deps.store.collection(keys.case(merchant.merchant_id, case_id))
    return [getattr(item, "kind", None) for item in items if item.sk.startswith("TL#")]


def sla_counters(app_deps, merchant, at: datetime) -> dict[str, int]:
    from chalicelib.store import keys

    found = app_deps.store.weekly_counters(merchant.merchant_id, [keys.iso_week(at)])
    return {k: int(v) for k, v in next(iter(found.values())).items() if k.startswith("sla_")}


@contextmanager
def items_read(app_deps) -> Iterator[list[tuple[str, str]]]:
    """(operation, pk) of every item DynamoDB returns while the block runs."""
    seen: list[tuple[str, str]] = []

    def record(parsed: dict, model: Any, **_: Any) -> None:
        items = list(parsed.get("Items", []))
        items += [parsed["Item"]] if "Item" in parsed else []
        for table_items in (parsed.get("Responses") or {}).values():
            items += table_items if isinstance(table_items, list) else []
        seen.extend((model.name, item["pk"]["S"]) for item in items)

    events = app_deps.store.connection.client.meta.events
    events.register("after-call.dynamodb", record, unique_id="sla-items-read")
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb", unique_id="sla-items-read")


def dated_order(order_id: int, total: str, placed: datetime) -> bytes:
    data = json.loads(order_body(order_id=order_id, total=total))
    data["created_at"] = data["updated_at"] = placed.isoformat()
    return json.dumps(data).encode()


def place_orders(client, merchant, totals_and_dates: list[tuple[str, datetime]]) -> None:
    for index, (total, placed) in enumerate(totals_and_dates):
        body = dated_order(ORDER_ID + index, total, placed)
        assert post_shopify(client, merchant.shop_domain, "orders/create", body).status_code == 200


@pytest.fixture()
def ses(app_deps) -> None:
    import boto3

    client = boto3.client(
        "sesv2", endpoint_url=app_deps.settings.aws_endpoint, region_name=app_deps.settings.region
    )
    client.create_email_identity(EmailIdentity="aftercare.example")


@pytest.fixture(autouse=True)
def _no_leftover_emails(app_deps, merchant) -> Iterator[None]:
    """The table is shared by the session: this test's unsent SLA e-mails leave the outbox
    due index afterwards, so later tests' outbox sweeps never see them."""
    yield
    from chalicelib.store.records import clear_outbox_due

    for item in sla_emails(app_deps, merchant):
        if item.due_pk is not None:
            item.status = "skipped"
            clear_outbox_due(item)
            item.save()


# --- escalation ----------------------------------------------------------------------------


def test_warning_and_breach_fire_once_raise_level_priority_and_email_once(
    client, merchant, app_deps, ses
):
    from chalicelib.notify.sender import deliver_due

    configure(
        app_deps,
        merchant,
        messaging={"support_email": OPS},
        agents={
            "senior_agents": ["sam"],
            "escalation_contacts": {"assignee": [AGENT], "senior": [SENIOR]},
        },
    )
    case_id = complaint(app_deps, merchant, "sla-1").case_id
    case = case_item(app_deps, merchant, case_id)
    assert case.due_pk.startswith("DUE#SLA#") and case.priority == "normal"
    assert case.assignee is None  # a calm standard case waits in the queue
    assert case.first_response_due == FIXED_NOW + 24 * H  # complaint: 24 h, always open
    assert case.resolution_due == FIXED_NOW + 72 * H

    run(app_deps, FIXED_NOW + 17 * H)  # before the 75% warning (18 h)
    assert sla_emails(app_deps, merchant) == []

    run(app_deps, FIXED_NOW + 18 * H, times=3)
    [warning] = sla_emails(app_deps, merchant)
    assert warning.context["to"] == [AGENT] and "warning" in warning.context["subject"]
    assert case_item(app_deps, merchant, case_id).sla_level in (None, 0)

    run(app_deps, FIXED_NOW + 24 * H, times=3)
    emails = sla_emails(app_deps, merchant)
    assert len(emails) == 2 and emails[1].context["to"] == [SENIOR]
    assert "breach" in emails[1].context["subject"]
    case = case_item(app_deps, merchant, case_id)
    assert (case.sla_level, case.priority, case.assignee) == (1, "high", "sam")
    assert case.sla_fired == {
        f"first_response:warning@{FIXED_NOW:%Y-%m-%dT%H:%M:%SZ}",
        f"first_response:breach@{FIXED_NOW:%Y-%m-%dT%H:%M:%SZ}",
    }
    kinds = timeline_kinds(app_deps, merchant, case_id)
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1
    assert sla_counters(app_deps, merchant, FIXED_NOW) == {"sla_breach:first_response": 1}
    # the raised priority does not shorten the running targets: nothing more fires yet
    assert case.resolution_due == FIXED_NOW + 72 * H
    assert case.due_sk.startswith("2026-11-24T21:00")  # first response breach+25% at 30 h

    deliver_due(app_deps, FIXED_NOW + 24 * H)
    assert {e.status for e in sla_emails(app_deps, merchant)} == {"sent"}


def test_a_late_run_records_every_crossed_level_but_mails_only_the_latest(app_deps, merchant):
    configure(app_deps, merchant, messaging={"support_email": OPS})
    case_id = complaint(app_deps, merchant, "sla-late").case_id

    run(app_deps, FIXED_NOW + 37 * H, times=2)  # 150% of the 24 h first-response target

    case = case_item(app_deps, merchant, case_id)
    assert {s.split("@")[0] for s in case.sla_fired} == {
        "first_response:warning",
        "first_response:breach",
        "first_response:breach+25%",
        "first_response:breach+50%",
    }
    [email] = sla_emails(app_deps, merchant)
    assert "breach+50%" in email.context["subject"]
    assert case.sla_level == 2 and case.priority == "high"  # one breach, one step up


def test_an_agent_note_is_the_first_response(client, merchant, app_deps):
    configure(app_deps, merchant, messaging={"support_email": OPS})
    case_id = complaint(app_deps, merchant, "sla-note").case_id
    assert post(client, merchant, case_id, "note", {"text": "Looking into it"})[0] == 200

    case = case_item(app_deps, merchant, case_id)
    assert case.first_responded_at == FIXED_NOW and case.first_response_due is None
    assert case.due_sk.startswith(f"{FIXED_NOW + 54 * H:%Y-%m-%dT%H}")  # resolution warning
    run(app_deps, FIXED_NOW + 30 * H)
    assert sla_emails(app_deps, merchant) == []


def test_a_settled_case_leaves_the_due_index(client, merchant, app_deps):
    case_id = complaint(app_deps, merchant, "sla-closed").case_id
    assert post(client, merchant, case_id, "resolve", {"resolution": "refunded"})[0] == 200

    case = case_item(app_deps, merchant, case_id)
    assert case.due_pk is None and case.due_sk is None
    with items_read(app_deps) as seen:
        run(app_deps, FIXED_NOW + 100 * H)
    assert not [pk for _, pk in seen if case_id in pk]
    assert sla_emails(app_deps, merchant) == []


def test_business_hours_skip_the_weekend_and_notices_wait_for_the_opening(app_deps, merchant):
    from chalicelib.sla_job import escalate_due

    week = [["09:00-17:00"]] * 5 + [[], []]
    hours = dict(zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], week, strict=True))
    configure(
        app_deps,
        merchant,
        messaging={"support_email": OPS},
        sla={"calendar": {"timezone": "America/New_York", "hours": hours}},
    )
    friday_4pm = utc(2026, 11, 27, 21)  # Friday 16:00 in New York
    case_id = complaint(app_deps, merchant, "sla-hours", now=friday_4pm).case_id

    case = case_item(app_deps, merchant, case_id)
    # 24 business hours: Fri 1 h + Mon 8 h + Tue 8 h + Wed 7 h -> Wednesday 16:00 local
    assert case.first_response_due == utc(2026, 12, 2, 21)
    escalate_due(app_deps, utc(2026, 11, 29, 15))  # Sunday: nothing is due
    escalate_due(app_deps, utc(2026, 12, 2, 14, 59))  # 75% is Wednesday 10:00 local
    assert sla_emails(app_deps, merchant) == []
    escalate_due(app_deps, utc(2026, 12, 2, 15))
    assert len(sla_emails(app_deps, merchant)) == 1

    escalate_due(app_deps, utc(2026, 12, 2, 23))  # breach at 16:00 seen at 18:00 local, closed
    breach = sla_emails(app_deps, merchant)[-1]
    assert "breach" in breach.context["subject"]
    assert breach.next_attempt_at == utc(2026, 12, 3, 14)  # Thursday 09:00 local


def test_the_job_reads_only_the_due_cases_among_many_closed(app_deps, merchant):
    from chalicelib.store import keys
    from chalicelib.store.models import CaseItem
    from chalicelib.store.records import new_case

    mid = merchant.merchant_id
    with CaseItem.batch_write() as batch:
        for n in range(500):
            batch.save(new_case(mid, f"OLD-{n:04d}", "complaint", "closed", FIXED_NOW))
    due = [complaint(app_deps, merchant, f"sla-due-{n}").case_id for n in range(5)]

    with items_read(app_deps) as seen:
        run(app_deps, FIXED_NOW + 18 * H)

    assert {op for op, _ in seen} <= {"Query", "BatchGetItem", "GetItem"}  # no Scan
    mine = [(op, pk) for op, pk in seen if pk.startswith(keys.case(mid, ""))]
    assert not [pk for _, pk in mine if "OLD-" in pk]
    read_cases = sorted(pk for op, pk in mine if op == "BatchGetItem")
    assert read_cases == sorted(keys.case(mid, case_id) for case_id in due)
    assert len(sla_emails(app_deps, merchant)) == 0  # no address set: recorded, not mailed
    assert all(case_item(app_deps, merchant, c).sla_fired for c in due)


def test_a_stuck_return_escalates_once_per_flow(client, merchant, app_deps):
    configure(
        app_deps, merchant, messaging={"support_email": OPS}, tracking={"return_scan_days": 3}
    )
    delivered_order(client, merchant)
    request_return(client, merchant)
    view = the_case(client, merchant)
    assert view["status"] == "approved"
    case_id = view["id"]
    case = case_item(app_deps, merchant, case_id)
    assert case.due_pk.startswith("DUE#SLA#")

    run(app_deps, FIXED_NOW + 71 * H)
    assert sla_emails(app_deps, merchant) == []
    run(app_deps, FIXED_NOW + 72 * H, times=3)
    [email] = sla_emails(app_deps, merchant)
    assert "no return scan" in email.context["subject"]

    # the warehouse helper records a failed refund; the job notices it at its next look
    case = case_item(app_deps, merchant, case_id)
    failed_at = FIXED_NOW + 80 * H
    case.details = {**case.details, "received_at": "2026-11-26T12:00:00Z"}
    case.details["refund_failed_at"] = failed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    case.save()
    run(app_deps, FIXED_NOW + 90 * H, times=2)
    subjects = [e.context["subject"] for e in sla_emails(app_deps, merchant)]
    assert len(subjects) == 2 and "refund failed" in subjects[1]
    assert timeline_kinds(app_deps, merchant, case_id).count("stuck_flow") == 2


# --- VIP routing ---------------------------------------------------------------------------


def test_a_vip_customers_case_goes_to_the_dedicated_agent_with_shorter_targets(
    client, merchant, app_deps
):
    configure(app_deps, merchant, agents={"priority_agent": "vera", "senior_agents": ["sam"]})
    recent = [("100.00", FIXED_NOW - timedelta(days=30 * n)) for n in range(1, 6)]
    place_orders(client, merchant, recent)  # 5 orders in 12 months: VIP

    case = complaint(app_deps, merchant, "vip-1")

    assert case.vip is True and "vip" in case.tags and case.assignee == "vera"
    assert case.details["queue"] == "priority"
    assert case.first_response_due == FIXED_NOW + 12 * H  # 24 h x VIP 0.5
    assert case.resolution_due == FIXED_NOW + 36 * H


def test_orders_older_than_twelve_months_do_not_make_a_vip(client, merchant, app_deps):
    configure(app_deps, merchant, agents={"priority_agent": "vera", "senior_agents": ["sam"]})
    dates = [FIXED_NOW - timedelta(days=days) for days in (30, 60, 90, 120, 400)]
    place_orders(client, merchant, [("100.00", when) for when in dates])

    case = complaint(app_deps, merchant, "vip-2")

    assert not case.vip and "vip" not in case.tags and case.assignee is None
    assert case.first_response_due == FIXED_NOW + 24 * H


def test_a_high_value_order_is_flagged_high_risk_on_the_order_and_its_case(
    client, merchant, app_deps
):
    from chalicelib.store import keys
    from chalicelib.store.models import OrderItem

    place_orders(client, merchant, [("6000.00", FIXED_NOW - timedelta(days=3))])
    order = app_deps.store.get(OrderItem, keys.order(merchant.merchant_id, str(ORDER_ID)))
    assert order.high_risk is True

    case = complaint(app_deps, merchant, "risk-1", order_id=str(ORDER_ID))

    assert case.high_risk is True and "high_risk" in case.tags
    assert not case.vip and case.customer_id == CUSTOMER_ID


def test_a_customer_with_two_past_complaints_is_high_risk(client, merchant, app_deps):
    place_orders(client, merchant, [("50.00", FIXED_NOW - timedelta(days=3))])
    first = complaint(app_deps, merchant, "risk-a", subject="Late")
    second = complaint(app_deps, merchant, "risk-b", subject="Broken")
    third = complaint(app_deps, merchant, "risk-c", subject="Wrong size")

    assert not first.high_risk and not second.high_risk
    assert third.high_risk is True and "high_risk" in third.tags


def test_an_angry_message_raises_priority_and_goes_to_a_senior(client, merchant, app_deps):
    configure(app_deps, merchant, agents={"priority_agent": "vera", "senior_agents": ["sam"]})
    text = "This is UNACCEPTABLE!!! I want a refund now, worst service ever"
    case = complaint(app_deps, merchant, "angry-1", text=text)

    assert case.priority in ("high", "urgent") and case.assignee == "sam"
    assert case.details["sla_priority"] == case.priority


def test_due_times_follow_the_merchants_wall_clock_across_the_dst_change(app_deps, merchant):
    week = [["09:00-17:00"]] * 5 + [[], []]
    hours = dict(zip(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], week, strict=True))
    configure(
        app_deps, merchant, sla={"calendar": {"timezone": "America/New_York", "hours": hours}}
    )
    friday_4pm_edt = utc(2026, 10, 30, 20)  # New York leaves DST on Sunday 1 November

    case = complaint(app_deps, merchant, "sla-dst", now=friday_4pm_edt)

    # Fri 1 h + Mon 8 h + Tue 8 h + Wed 7 h -> Wednesday 16:00 EST, now UTC-5
    assert case.first_response_due == utc(2026, 11, 4, 21)
    assert case.resolution_due == utc(2026, 11, 12, 21)  # 72 h = 9 business days: Thu 16:00


def test_the_scheduled_function_runs_the_job_through_the_app(client, merchant, app_deps):
    from chalicelib.deps import set_clock

    case_id = complaint(app_deps, merchant, "sla-app").case_id
    set_clock(lambda: FIXED_NOW + 18 * H)
    tick = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])

    result = client.lambda_.invoke("escalate_sla", tick)

    assert result.payload.get("escalated", 0) >= 1, result.payload
    assert case_item(app_deps, merchant, case_id).sla_fired
