"""VIP tier, order risk and routing decisions, each with its explanation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.events import Money
from chalicelib.policy.emotion import EmotionSignal
from chalicelib.policy.tiering import (
    Agent,
    CaseFacts,
    CustomerStats,
    TierRules,
    customer_tier,
    order_risk,
    route,
)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def stats(spend: str = "100", orders: int = 1, complaints: int = 0) -> CustomerStats:
    return CustomerStats(usd(spend), orders, complaints, returns_count=0)


ANGRY = EmotionSignal("angry", False, ("anger:scam",))
ANXIOUS = EmotionSignal("calm", True, ("anxiety:着急",))
UPSET = EmotionSignal("upset", False, ("anger:disappointed",))

AGENTS = (
    Agent("a1"),
    Agent("a2", available=False),
    Agent("s1", role="senior"),
    Agent("boss", role="supervisor"),
    Agent("v1", vip_dedicated=True),
    Agent("vs", role="senior", vip_dedicated=True),
)


@pytest.mark.parametrize(
    ("customer", "tier", "why"),
    [
        (stats(spend="10000.01"), "vip", "above 10000"),
        (stats(spend="10000"), "standard", "not above"),  # "above 10,000": strictly
        (stats(orders=5), "vip", "5 orders"),
        (stats(orders=4), "standard", "4 orders below 5"),
        (stats(spend="25000", orders=9), "vip", "9 orders"),
    ],
)
def test_customer_tier(customer: CustomerStats, tier: str, why: str) -> None:
    decision = customer_tier(customer)
    assert decision.tier == tier and decision.vip == (tier == "vip")
    assert any(why in reason for reason in decision.reasons), decision.reasons


def test_tier_rules_are_tunable_and_currency_aware() -> None:
    rules = TierRules(vip_spend_threshold=Decimal("500"), vip_min_orders=3, currency="EUR")
    assert customer_tier(CustomerStats(Money(Decimal("600"), "EUR"), 1), rules).vip
    other_currency = customer_tier(stats(spend="600"), rules)
    assert not other_currency.vip
    assert any("not compared" in reason for reason in other_currency.reasons)
    assert customer_tier(stats(spend="1", orders=3), rules).vip
    with pytest.raises(ValueError):
        TierRules(vip_min_orders=-1)


@pytest.mark.parametrize(
    ("total", "complaints", "high_risk"),
    [("5000", 0, False), ("5000.01", 0, True), ("20", 1, False), ("20", 2, True)],
)
def test_order_risk(total: str, complaints: int, high_risk: bool) -> None:
    decision = order_risk(usd(total), complaints)
    assert decision.high_risk is high_risk
    assert decision.reasons
    if high_risk:
        assert "proactive check-in" in decision.reasons[-1]


def test_standard_case_goes_to_first_available_plain_agent() -> None:
    routing = route(CaseFacts(), AGENTS)
    assert (routing.queue, routing.agent_id, routing.min_role) == ("standard", "a1", "agent")
    assert not routing.attach_history


def test_vip_gets_priority_queue_and_dedicated_agent() -> None:
    routing = route(CaseFacts(vip=True), AGENTS)
    assert (routing.queue, routing.agent_id) == ("priority", "v1")
    assert any("dedicated" in reason for reason in routing.reasons)


@pytest.mark.parametrize("emotion", [ANGRY, ANXIOUS])
def test_angry_or_anxious_goes_to_a_senior_with_history(emotion: EmotionSignal) -> None:
    routing = route(CaseFacts(emotion=emotion), AGENTS)
    assert (routing.agent_id, routing.min_role, routing.attach_history) == ("s1", "senior", True)
    assert any(emotion.cues[0] in reason for reason in routing.reasons)


def test_upset_but_not_angry_stays_with_an_agent() -> None:
    assert route(CaseFacts(emotion=UPSET), AGENTS).agent_id == "a1"


def test_returning_customer_keeps_previous_agent_when_available() -> None:
    routing = route(CaseFacts(previous_agent_id="s1"), AGENTS)
    assert routing.agent_id == "s1" and routing.attach_history
    away = route(CaseFacts(previous_agent_id="a2"), AGENTS)
    assert away.agent_id == "a1"
    assert any("a2 unavailable" in reason for reason in away.reasons)


def test_returning_angry_customer_leaves_a_junior_previous_agent_for_a_senior() -> None:
    routing = route(CaseFacts(previous_agent_id="a1", emotion=ANGRY), AGENTS)
    assert routing.agent_id == "s1"


def test_angry_vip_gets_a_senior_dedicated_agent() -> None:
    routing = route(CaseFacts(vip=True, emotion=ANGRY), AGENTS)
    assert (routing.queue, routing.agent_id) == ("priority", "vs")


def test_returning_vip_prefers_dedicated_then_previous() -> None:
    assert route(CaseFacts(vip=True, previous_agent_id="vs"), AGENTS).agent_id == "vs"
    assert route(CaseFacts(vip=True, previous_agent_id="a1"), AGENTS).agent_id == "v1"
    no_dedicated = [a for a in AGENTS if not a.vip_dedicated]
    assert route(CaseFacts(vip=True, previous_agent_id="s1"), no_dedicated).agent_id == "s1"


def test_no_suitable_agent_waits_in_queue() -> None:
    routing = route(CaseFacts(vip=True, emotion=ANGRY), [Agent("a1"), Agent("s9", "senior", False)])
    assert routing.agent_id is None and routing.queue == "priority"
    assert "no available senior" in routing.reasons[-2]


def test_supervisor_is_used_only_when_no_senior_is_free() -> None:
    agents = [Agent("boss", role="supervisor"), Agent("s1", role="senior", available=False)]
    assert route(CaseFacts(emotion=ANGRY), agents).agent_id == "boss"
