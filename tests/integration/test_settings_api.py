"""The merchant settings API over HTTP against DynamoDB Local: every section round-trips,
bad values are refused naming the field, stale versions get 409, each save is audited, a
changed return window changes the next auto-approval, and the try-it endpoints store
nothing. Also the small ops lookups: return by code, notification retry, breached filter."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_returns import (
    delivered_order,
    notifications,
    request_return,
    the_case,
)

SECTIONS = (
    "returns", "sla", "tiers", "quiet_hours", "messaging", "tracking", "refunds", "agents",
    "digest",
)  # fmt: skip

# One changed value per section, and how it reads back.
CHANGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "returns": ({"window_days": 14, "excluded_skus": ["SKU-X"]}, {"window_days": 14}),
    "sla": (
        {
            "vip_multiplier": "0.25",
            "targets": {"complaint": {"*": {"first_response": "PT8H", "resolution": "P2D"}}},
            "calendar": {"timezone": "America/New_York", "hours": {"mon": ["09:00-17:00"]}},
        },
        {"vip_multiplier": "0.25"},
    ),
    "tiers": ({"vip_spend_threshold": "2500", "vip_min_orders": 3}, {"vip_min_orders": 3}),
    "quiet_hours": ({"start": "09:30", "end": "20:00"}, {"start": "09:30", "end": "20:00"}),
    "messaging": (
        {
            "sms_provider": "twilio",
            "sms_rate_per_minute": 20,
            "support_email": "help@shop.test",
            "default_locale": "zh_cn",
        },
        {"sms_provider": "twilio", "sms_rate_per_minute": 20, "default_locale": "zh-CN"},
    ),  # fmt: skip
    "tracking": ({"stale_after_hours": 36}, {"stale_after_hours": 36, "return_scan_days": 7}),
    "refunds": (
        {"scrap": "refund", "restocking_fee_percent": "10", "receipt_to_refund_hours": 24},
        {"scrap": "refund", "restocking_fee_percent": "10", "receipt_to_refund_hours": 24},
    ),
    "agents": (
        {
            "priority_agent": "vip-desk",
            "senior_agents": ["alice"],
            "escalation_contacts": {"supervisor": ["boss@shop.test"]},
        },
        {"priority_agent": "vip-desk", "senior_agents": ["alice"]},
    ),
    "digest": ({"enabled": False, "recipients": ["ops@shop.test"]}, {"enabled": False}),
}

# A wrong value per section and the field the 400 must name.
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "returns": ({"window_days": -1}, "window_days"),
    "sla": ({"vip_multiplier": "2"}, "vip_multiplier"),
    "tiers": ({"vip_min_orders": "many"}, "vip_min_orders"),
    "quiet_hours": ({"start": "25:00"}, "start"),
    "messaging": ({"sms_provider": "pigeon"}, "sms_provider"),
    "tracking": ({"stale_after_hours": 0}, "stale_after_hours"),
    "refunds": ({"scrap": "sometimes"}, "scrap"),
    "agents": ({"escalation_contacts": {"senior": ["nope"]}}, "escalation_contacts.senior"),
    "digest": ({"targets": {"csat": "high"}}, "targets.csat"),
}


def call(client, merchant, method: str, path: str, body: Any = None, **headers: str):
    data = json.dumps(body).encode() if body is not None else b""
    all_headers = {**merchant.auth, "Content-Type": "application/json", **headers}
    response = getattr(client.http, method)(path, headers=all_headers, body=data)
    return response.status_code, json.loads(response.body or b"null")


def settings(client, merchant) -> dict[str, Any]:
    status, body = call(client, merchant, "get", "/api/settings")
    assert status == 200, body
    return body


def put(client, merchant, section: str, body: dict[str, Any], version: int | None = None):
    version = settings(client, merchant)["version"] if version is None else version
    return call(
        client, merchant, "put", f"/api/settings/{section}", body, **{"If-Match": str(version)}
    )


def test_defaults_fill_every_section(client, merchant):
    body = settings(client, merchant)

    assert set(SECTIONS) <= set(body) and isinstance(body["version"], int)
    assert body["returns"]["window_days"] == 7 and body["returns"]["auto_approve"] is True
    assert body["sla"]["targets"]["complaint"]["*"]["resolution"] == "PT72H"
    assert body["quiet_hours"] == {"start": "08:00", "end": "21:00"}
    assert body["messaging"]["sms_provider"] == "sns"
    assert body["tracking"]["stale_after_hours"] == 24
    assert body["digest"]["enabled"] is True and body["digest"]["targets"]["csat"] == "85"
    assert "problems" not in body


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_round_trips_and_is_audited(client, merchant, section):
    change, expected = CHANGES[section]
    before = settings(client, merchant)

    status, body = put(client, merchant, section, change)

    assert status == 200, body
    after = settings(client, merchant)
    assert after["version"] == before["version"] + 1
    for key, value in expected.items():
        assert after[section][key] == value, (section, key)
    assert body["settings"][section] == after[section]
    # Saving what was read back changes nothing but the version: the wire form is stable.
    status, again = put(client, merchant, section, after[section])
    assert status == 200 and again["settings"][section] == after[section]
    status, audit = call(client, merchant, "get", "/api/settings/audit")
    assert status == 200
    newest = audit["items"][0]
    assert newest["section"] == section and newest["actor"] == "api"
    first = audit["items"][1]
    assert first["before"] == before[section] and first["after"] == after[section]
    assert first["changed"] and first["version"] == before["version"] + 1


@pytest.mark.parametrize("section", SECTIONS)
def test_bad_values_are_400_naming_the_field(client, merchant, section):
    body, field = BAD[section]
    before = settings(client, merchant)

    status, error = put(client, merchant, section, body)

    assert status == 400 and error["error"] == "malformed_payload"
    assert field in error["detail"] and section.split("_")[0] in error["detail"]
    assert settings(client, merchant)["version"] == before["version"]


def test_unknown_field_and_section(client, merchant):
    status, error = put(client, merchant, "tracking", {"stale_after_days": 2})
    assert status == 400 and "stale_after_days" in error["detail"]
    status, error = put(client, merchant, "colours", {})
    assert status == 404 and "returns" in error["detail"]


def test_stale_version_is_409_and_nothing_changes(client, merchant):
    version = settings(client, merchant)["version"]
    assert put(client, merchant, "tracking", {"stale_after_hours": 12}, version)[0] == 200

    status, error = put(client, merchant, "tracking", {"stale_after_hours": 48}, version)

    assert status == 409 and error["error"] == "version_conflict"
    assert settings(client, merchant)["tracking"]["stale_after_hours"] == 12


def test_version_in_body_and_missing_version(client, merchant):
    version = settings(client, merchant)["version"]
    status, _ = call(client, merchant, "put", "/api/settings/quiet_hours",
                     {"start": "07:00", "version": version})  # fmt: skip
    assert status == 200
    status, error = call(client, merchant, "put", "/api/settings/quiet_hours", {"start": "07:00"})
    assert status == 400 and "If-Match" in error["detail"]


def test_actor_header_is_audited_and_audit_pages(client, merchant):
    for hours in (30, 31, 32):
        version = settings(client, merchant)["version"]
        status, _ = call(client, merchant, "put", "/api/settings/tracking",
                         {"stale_after_hours": hours}, **{"If-Match": str(version),
                                                          "X-Actor": "alice"})  # fmt: skip
        assert status == 200

    status, page = call(client, merchant, "get", "/api/settings/audit?limit=2")
    assert status == 200 and len(page["items"]) == 2 and page["next_cursor"]
    assert [i["after"]["stale_after_hours"] for i in page["items"]] == [32, 31]
    assert {i["actor"] for i in page["items"]} == {"alice"}
    status, rest = call(
        client, merchant, "get", f"/api/settings/audit?limit=2&cursor={page['next_cursor']}"
    )
    assert status == 200 and [i["after"]["stale_after_hours"] for i in rest["items"]] == [30]


def test_merchant_b_cannot_see_or_use_a_settings(client, merchant, app_deps):
    from chalicelib.handlers.merchants import create_merchant
    from tests.conftest import MerchantFixture

    assert put(client, merchant, "returns", {"window_days": 30})[0] == 200
    b_id = f"m-{uuid.uuid4().hex[:10]}"
    key = create_merchant(app_deps.store, b_id, "Other Shop", datetime.now(UTC))
    other = MerchantFixture(b_id, "other.example", key)

    assert settings(client, other)["returns"]["window_days"] == 7
    status, audit = call(client, other, "get", "/api/settings/audit")
    assert status == 200 and audit["items"] == []
    status, _ = call(
        client, other, "get", "/api/settings/audit?cursor=" + _a_cursor(client, merchant)
    )
    assert status == 400
    assert (
        call(client, merchant, "get", "/api/settings", **{"Authorization": "Bearer nope"})[0] == 401
    )


def _a_cursor(client, merchant) -> str:
    for hours in (5, 6):
        put(client, merchant, "tracking", {"stale_after_hours": hours})
    return call(client, merchant, "get", "/api/settings/audit?limit=1")[1]["next_cursor"]


def test_changed_return_window_changes_the_next_decision(client, merchant):
    delivered_order(client, merchant, days_ago=10)
    assert put(client, merchant, "returns", {"window_days": 14})[0] == 200

    request_return(client, merchant)

    case = the_case(client, merchant)
    assert case["status"] == "approved", case["details"]["decision"]
    texts = {r["rule"]: r["text"] for r in case["details"]["decision"]["trace"]}
    assert texts["return_window"] == "within 14 days (delivered 10 days ago)"


def test_default_window_refuses_the_same_return(client, merchant):
    delivered_order(client, merchant, days_ago=10)

    request_return(client, merchant)

    decision = the_case(client, merchant)["details"]["decision"]
    assert decision["outcome"] == "not_eligible" and decision["deciding_rule"] == "return_window"


# --- try-it endpoints ---------------------------------------------------------------------

A_RETURN = {
    "lines": [{"sku": "SKU-NOSE", "unit_price": "49.00", "quantity": 1, "reason": "wrong_size"}],
    "delivered_at": (FIXED_NOW - timedelta(days=10)).isoformat(),
}


def test_try_return_uses_saved_rules_or_the_body_rules_and_stores_nothing(client, merchant):
    before = settings(client, merchant)

    status, saved = call(client, merchant, "post", "/api/settings/returns/try", A_RETURN)
    status2, tried = call(client, merchant, "post", "/api/settings/returns/try",
                          {**A_RETURN, "rules": {"window_days": 14}})  # fmt: skip

    assert status == status2 == 200
    assert saved["decision"]["outcome"] == "not_eligible"
    assert "outside the 7-day window" in saved["decision"]["explanation"]
    assert tried["decision"]["outcome"] == "approved" and tried["stored"] is False
    assert "within 14 days" in tried["decision"]["explanation"]
    assert settings(client, merchant)["version"] == before["version"]
    status, audit = call(client, merchant, "get", "/api/settings/audit")
    assert audit["items"] == []


def test_try_return_bad_body_is_400(client, merchant):
    status, error = call(client, merchant, "post", "/api/settings/returns/try",
                         {"lines": [{"unit_price": "ten"}]})  # fmt: skip
    assert status == 400 and "unit_price" in error["detail"]
    status, error = call(client, merchant, "post", "/api/settings/returns/try",
                         {**A_RETURN, "rules": {"window_days": "x"}})  # fmt: skip
    assert status == 400 and "window_days" in error["detail"]


def test_try_sla_gives_due_times_and_counts_business_hours(client, merchant):
    # Monday 2026-11-23 10:00 in New York. No calendar saved: always open, 24 h of wall time.
    body = {"case_type": "complaint", "priority": "normal", "opened_at": "2026-11-23T15:00:00Z"}
    weekdays = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = {"calendar": {"timezone": "America/New_York", "hours": weekdays}}

    status, due = call(client, merchant, "post", "/api/settings/sla/try", body)
    status_vip, vip = call(client, merchant, "post", "/api/settings/sla/try", {**body, "vip": True})
    status_office, hours = call(
        client, merchant, "post", "/api/settings/sla/try", {**body, "sla": office}
    )

    assert status == status_vip == status_office == 200, (due, vip, hours)
    assert due["first_response_due"].startswith("2026-11-24T15:00")
    assert vip["first_response_due"].startswith("2026-11-24T03:00")  # x 0.5 for VIPs
    assert hours["first_response_due"].startswith("2026-11-26T15:00")  # 7 + 8 + 8 + 1 h
    assert due["deadlines"][0]["checkpoints"][0]["level"] == "warning"
    assert due["stored"] is False
    status, error = call(
        client, merchant, "post", "/api/settings/sla/try", {**body, "priority": "asap"}
    )
    assert status == 400 and "priority" in error["detail"]


# --- ops lookups --------------------------------------------------------------------------


def test_return_by_code_and_unknown_code(client, merchant):
    delivered_order(client, merchant, days_ago=2)
    request_return(client, merchant)
    case = the_case(client, merchant)
    code = case["details"]["return_code"]

    status, found = call(client, merchant, "get", f"/api/returns/{code.lower()}")

    assert status == 200 and found["id"] == case["id"] and found["return_code"] == code
    assert found["timeline"]
    assert call(client, merchant, "get", "/api/returns/RT-AAA-AAA-AAA")[0] == 404


def test_failed_notification_goes_back_to_pending_once(client, merchant, app_deps):
    from chalicelib.notify.sender import deliver_due

    delivered_order(client, merchant, days_ago=2)
    request_return(client, merchant)
    deliver_due(app_deps, FIXED_NOW)
    by_kind = {(n["channel"], n["kind"]): n for n in notifications(client, merchant)}
    failed = by_kind[("marketplace", "approve_return")]
    sent = by_kind[("sms", "return_approved")]
    assert failed["status"] == "failed"

    status, body = call(client, merchant, "post", f"/api/notifications/{failed['id']}/retry")
    assert status == 200 and body["notification"]["status"] == "pending"
    assert body["notification"]["attempts"] == 0

    assert call(client, merchant, "post", f"/api/notifications/{sent['id']}/retry")[0] == 409
    # Fails again a minute later: the merchant has no Shopify credentials.
    deliver_due(app_deps, FIXED_NOW + timedelta(minutes=1))
    assert _status(client, merchant, failed["id"]) == "failed"
    status, error = call(client, merchant, "post", f"/api/notifications/{failed['id']}/retry")
    assert status == 409 and "already retried" in error["detail"]
    assert call(client, merchant, "post", "/api/notifications/nope/retry")[0] == 404


def _status(client, merchant, outbox_id: str) -> str:
    return next(n["status"] for n in notifications(client, merchant) if n["id"] == outbox_id)


def test_breached_filter_lists_only_open_overdue_cases(client, merchant, app_deps):
    from tests.integration.test_ops_api import complaint

    # Due times come from the SLA policy (complaints: resolution within 72 h, always open).
    overdue = complaint(app_deps, merchant, "c-overdue", now=FIXED_NOW - timedelta(days=4))
    complaint(app_deps, merchant, "c-on-time", subject="Late parcel")
    resolved = complaint(app_deps, merchant, "c-done", now=FIXED_NOW - timedelta(days=5))
    status, _ = call(client, merchant, "post", f"/api/cases/{resolved.case_id}/resolve",
                     {"resolution": "refunded in store"})  # fmt: skip
    assert status == 200

    status, listing = call(client, merchant, "get", "/api/cases?breached=true")

    assert status == 200
    assert [c["id"] for c in listing["items"]] == [overdue.case_id]
    assert listing["items"][0]["resolution_due"] < "2026-11-23T15:00"  # shown with the case
    assert len(call(client, merchant, "get", "/api/cases?breached=false")[1]["items"]) == 3
    assert call(client, merchant, "get", "/api/cases?breached=maybe")[0] == 400


def test_round_trips_of_reading_and_saving_settings(client, merchant):
    from tests.integration.test_round_trips import dynamodb_calls

    with dynamodb_calls() as reading:
        version = settings(client, merchant)["version"]
    with dynamodb_calls() as saving:
        status, _ = put(client, merchant, "tracking", {"stale_after_hours": 30}, version)

    assert status == 200
    assert reading == ["GetItem", "GetItem"]  # API key pointer, merchant
    assert saving == ["GetItem", "GetItem", "GetItem", "TransactWriteItems"]  # + fresh merchant
