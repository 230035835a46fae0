"""The pure settings sections: defaults, stable wire form, errors naming the field, and stored
values that the engine's own readers accept."""

from __future__ import annotations

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.policy.settings_schema import (
    SECTIONS,
    apply_section,
    canonical_locale,
    parse_section,
    read_section,
)


@pytest.mark.parametrize("name", list(SECTIONS))
def test_defaults_are_a_fixed_point(name):
    defaults = parse_section(name, {})
    assert parse_section(name, defaults) == defaults
    settings, attrs = apply_section(name, {}, defaults)
    assert read_section(name, settings, attrs) == (defaults, None)


@pytest.mark.parametrize("name", list(SECTIONS))
def test_a_section_must_be_an_object(name):
    with pytest.raises(MalformedPayload, match=name.split("_")[0]):
        parse_section(name, ["not", "an", "object"])


def test_stored_values_are_what_the_engine_reads():
    from chalicelib.config import Settings
    from chalicelib.notify.quiet_hours import SendingWindow
    from chalicelib.notify.rate_limit import sms_limit
    from chalicelib.policy.returns import ReturnRules
    from chalicelib.policy.sla_settings import SlaPolicy

    settings: dict = {}
    attrs: dict = {}
    for name, body in {
        "returns": {"window_days": 30},
        "quiet_hours": {"start": "9:00", "end": "20:00"},
        "sla": {"vip_multiplier": "0.5", "calendar": {"timezone": "Asia/Shanghai",
                                                      "hours": {"mon": ["09:00-18:00"]}}},
        "messaging": {"sms_rate_per_minute": 10, "default_locale": "zh_cn"},
        "digest": {"enabled": False},
    }.items():  # fmt: skip
        settings, changed = apply_section(name, settings, parse_section(name, body))
        attrs.update(changed)

    assert ReturnRules.from_dict(settings["return_rules"]).window_days == 30
    assert SendingWindow.from_dict(settings["quiet_hours"]).to_dict()["start"] == "09:00"
    assert str(SlaPolicy.from_dict(settings["sla"]).vip_multiplier) == "0.5"
    assert settings["business_calendar"]["timezone"] == "Asia/Shanghai"
    assert sms_limit(settings, Settings()) == 10
    assert settings["digest_enabled"] is False
    assert attrs == {"locale": "zh-CN"}


def test_engine_readers_pick_up_every_saved_section():
    """The handlers' own readers fall back to defaults on a value they cannot read, so each
    non-default value saved here must come back through them."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from chalicelib.handlers import sla_schedule, vip_routing
    from chalicelib.policy.refund_policy import RefundSettings
    from chalicelib.sla_job import recipients
    from chalicelib.store.models import CaseItem, MerchantItem

    settings: dict = {}
    for name, body in {
        "sla": {"vip_multiplier": "0.25",
                "calendar": {"timezone": "Asia/Shanghai", "hours": {"mon": ["09:00-18:00"]}}},
        "tiers": {"vip_spend_threshold": "2500", "vip_min_orders": 3},
        "tracking": {"return_scan_days": 3, "stale_after_hours": 12},
        "refunds": {"restocking_fee_percent": "15", "scrap": "refund",
                    "receipt_to_refund_hours": 24},
        "agents": {"priority_agent": "vic", "senior_agents": ["alice"],
                   "escalation_contacts": {"supervisor": ["boss@shop.test"]}},
    }.items():  # fmt: skip
        settings, _ = apply_section(name, settings, parse_section(name, body))
    merchant = MerchantItem(merchant_id="m", name="M", settings=settings, timezone="UTC",
                            created_at=datetime.now(UTC))  # fmt: skip

    assert sla_schedule.sla_policy(merchant).vip_multiplier == Decimal("0.25")
    assert sla_schedule.business_calendar(merchant).timezone == "Asia/Shanghai"
    stuck = sla_schedule.stuck_rules(merchant)
    assert (stuck.return_scan_days, stuck.refund_hours) == (3, 24)
    rules = vip_routing.tier_rules(merchant)
    assert (rules.vip_spend_threshold, rules.vip_min_orders) == (Decimal("2500"), 3)
    agents = {a.agent_id: a for a in vip_routing.agents_of(merchant, True)}
    assert agents["alice"].role == "senior" and agents["vic"].vip_dedicated
    refund = RefundSettings.from_dict(settings["refund_policy"])
    assert (refund.restocking_fee_percent, refund.scrap) == (Decimal("15"), "refund")
    case = CaseItem(case_id="c", assignee="alice")
    assert recipients(merchant, case, "supervisor") == ["boss@shop.test"]


def test_clearing_optional_values_removes_them():
    settings = {"support_email": "old@shop.test", "business_calendar": {"timezone": "UTC"}}
    settings, _ = apply_section("messaging", settings, parse_section("messaging", {}))
    settings, _ = apply_section("sla", settings, parse_section("sla", {}))
    assert "support_email" not in settings and "business_calendar" not in settings


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("returns", {"auto_approve_max_value": "lots"}, "auto_approve_max_value"),
        ("returns", {"windw_days": 3}, "windw_days"),
        ("sla", {"targets": {"complaint": {"*": {"resolution": "3 days"}}}}, "3 days"),
        ("sla", {"calendar": {"timezone": "Mars/Base"}}, "calendar"),
        ("tiers", {"high_risk_complaints": 0}, "high_risk_complaints"),
        ("tiers", {"currency": "USD"}, "currency"),
        ("quiet_hours", {"start": "10:00", "end": "10:00"}, "empty"),
        ("messaging", {"default_locale": "english!"}, "default_locale"),
        ("messaging", {"support_email": "nobody"}, "support_email"),
        ("tracking", {"notify_customer_on_stale": "yes"}, "notify_customer_on_stale"),
        ("refunds", {"restocking_fee_percent": "120"}, "restocking_fee_percent"),
        ("agents", {"priority_agent": "#1"}, "priority_agent"),
        ("agents", {"escalation_contacts": {"boss": ["a@b.co"]}}, "boss"),
        ("agents", {"senior_agents": ["#1"]}, "senior_agents"),
        ("refunds", {"scrap": "full"}, "scrap"),
        ("refunds", {"receipt_to_refund_hours": 0}, "receipt_to_refund_hours"),
        ("digest", {"recipients": "ops@shop.test"}, "recipients"),
        ("digest", {"targets": {"nps": "50"}}, "nps"),
    ],
)
def test_errors_name_the_field(name, body, field):
    with pytest.raises(MalformedPayload) as caught:
        parse_section(name, body)
    assert field in caught.value.detail


def test_invalid_stored_section_reads_as_defaults_with_a_problem():
    value, problem = read_section("returns", {"return_rules": {"window_days": -3}}, {})
    assert value == parse_section("returns", {}) and "window_days" in problem


def test_unknown_section():
    with pytest.raises(MalformedPayload, match="unknown settings section"):
        parse_section("colours", {})


def test_canonical_locale():
    assert canonical_locale("zh_cn") == "zh-CN"
    assert canonical_locale("zh-hant-tw") == "zh-Hant-TW"
    assert canonical_locale("en") == "en"
    assert canonical_locale("e") is None and canonical_locale(3) is None
