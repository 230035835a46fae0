"""Return auto-approval rules: one example per rule, settings round trip, and properties."""

from __future__ import annotations

import json
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import MalformedPayload
from chalicelib.events import Money
from chalicelib.policy.returns import (
    HARD_RULES,
    MESSAGES_EN,
    SOFT_RULES,
    Decision,
    Outcome,
    RequestedLine,
    ReturnFacts,
    ReturnRules,
    decide,
)

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
SEVERITY = {Outcome.APPROVED: 0, Outcome.NEEDS_REVIEW: 1, Outcome.NOT_ELIGIBLE: 2}


def usd(amount: str | int) -> Money:
    return Money(Decimal(amount), "USD")


def line(**kw: object) -> RequestedLine:
    base: dict[str, object] = dict(
        sku="TEE-M", unit_price=usd("49.00"), quantity=1, quantity_purchased=1, reason="wrong_size"
    )
    return RequestedLine(**{**base, **kw})  # type: ignore[arg-type]


def facts(*lines: RequestedLine, **kw: object) -> ReturnFacts:
    base: dict[str, object] = dict(
        now=NOW,
        order_total=usd("120.00"),
        lines=lines or (line(),),
        delivered_at=NOW - timedelta(days=3),
    )
    return ReturnFacts(**{**base, **kw})  # type: ignore[arg-type]


def check(d: Decision, outcome: Outcome, rule: str | None, text: str = "") -> None:
    assert d.outcome is outcome, d.explain()
    assert d.deciding_rule == rule, d.explain()
    assert text in d.explain()


# --- one example per rule -------------------------------------------------------------------


def test_an_ordinary_return_is_approved_and_says_why() -> None:
    d = decide(facts())
    check(d, Outcome.APPROVED, None)
    assert [r.rule for r in d.trace] == [*HARD_RULES, *SOFT_RULES]
    summary = d.explain()
    assert summary.startswith("approved: ")
    for part in (
        "within 7 days (delivered 3 days ago)",
        "reason allowed (wrong_size)",
        "value 49.00 USD <= 200.00 USD",
        "no excluded products",
    ):
        assert part in summary
    assert "\n" not in summary


@pytest.mark.parametrize(
    ("days", "outcome"), [(0, Outcome.APPROVED), (7, Outcome.APPROVED), (8, Outcome.NOT_ELIGIBLE)]
)
def test_window_counts_calendar_days(days: int, outcome: Outcome) -> None:
    delivered = datetime(2024, 5, 10, 23, 59, tzinfo=UTC) - timedelta(days=days)
    d = decide(facts(delivered_at=delivered, now=datetime(2024, 5, 10, 0, 1, tzinfo=UTC)))
    assert d.outcome is outcome


def test_late_return_is_not_eligible() -> None:
    d = decide(facts(delivered_at=NOW - timedelta(days=12)))
    check(
        d,
        Outcome.NOT_ELIGIBLE,
        "return_window",
        "not_eligible by return_window: outside the 7-day window (delivered 12 days ago)",
    )
    assert dict(d.failed[0].params) == {"window": "7", "days": "12"}
    assert d.failed[0].key == "returns.return_window.late"


def test_window_uses_the_shop_time_zone() -> None:
    delivered, now = datetime(2024, 5, 1, 23, 30, tzinfo=UTC), datetime(2024, 5, 9, 10, tzinfo=UTC)
    assert decide(facts(delivered_at=delivered, now=now)).outcome is Outcome.NOT_ELIGIBLE
    shanghai = timezone(timedelta(hours=8))  # delivered 2 May local: 7 days ago
    assert decide(facts(delivered_at=delivered, now=now, tz=shanghai)).outcome is Outcome.APPROVED


def test_singular_day_and_a_delivery_date_in_the_future() -> None:
    assert "delivered 1 day ago" in decide(facts(delivered_at=NOW - timedelta(days=1))).explain()
    assert "delivered 0 days ago" in decide(facts(delivered_at=NOW + timedelta(hours=5))).explain()


def test_delivery_is_required_by_default() -> None:
    d = decide(facts(delivered_at=None))
    check(d, Outcome.NOT_ELIGIBLE, "delivered", "not delivered yet")
    relaxed = ReturnRules(require_delivered=False)
    d = decide(facts(delivered_at=None), relaxed)
    check(d, Outcome.APPROVED, None, "window of 7 days starts at delivery")
    d = decide(facts(delivered_at=None, fulfillment_status="unfulfilled"), relaxed)
    check(d, Outcome.NOT_ELIGIBLE, "delivered", "nothing shipped yet")


@pytest.mark.parametrize("status", ["cancelled", "refunded"])
def test_dead_orders_cannot_be_returned(status: str) -> None:
    check(
        decide(facts(order_status=status)),
        Outcome.NOT_ELIGIBLE,
        "order_active",
        f"order is {status}, nothing left to return",
    )


def test_partially_refunded_and_closed_orders_can() -> None:
    for status in ("partially_refunded", "closed"):
        assert decide(facts(order_status=status)).outcome is Outcome.APPROVED


def test_excluded_products() -> None:
    d = decide(facts(line(), line(sku="MASK-1", tags=("Summer", "Hygiene "))))
    check(d, Outcome.NOT_ELIGIBLE, "product_returnable", "MASK-1 is tagged hygiene")
    rules = ReturnRules(excluded_skus=frozenset({"TEE-M"}))
    check(
        decide(facts(), rules),
        Outcome.NOT_ELIGIBLE,
        "product_returnable",
        "TEE-M is excluded from returns",
    )
    assert decide(facts(line(tags=("sale",)))).outcome is Outcome.APPROVED


def test_cannot_return_more_than_is_left() -> None:
    d = decide(facts(line(quantity=2, quantity_purchased=2, quantity_returned=1)))
    check(
        d,
        Outcome.NOT_ELIGIBLE,
        "quantity_available",
        "TEE-M: 2 requested, only 1 of 2 left to return",
    )
    ok = line(quantity=1, quantity_purchased=2, quantity_returned=1)
    assert decide(facts(ok)).outcome is Outcome.APPROVED


def test_reasons_outside_the_auto_list_go_to_a_human() -> None:
    check(
        decide(facts(line(reason="missing_item"))),
        Outcome.NEEDS_REVIEW,
        "reason_allowed",
        "reason missing_item needs a human",
    )
    assert decide(facts(line(reason=""))).outcome is Outcome.APPROVED  # no reason: 7-day rule
    assert decide(facts(line(reason=" Changed_Mind"))).outcome is Outcome.APPROVED
    strict = ReturnRules(allowed_reasons=frozenset({"damaged"}))
    check(decide(facts(), strict), Outcome.NEEDS_REVIEW, "reason_allowed", "wrong_size")


def test_value_ceiling_is_inclusive() -> None:
    at = facts(line(unit_price=usd("100.00"), quantity=2, quantity_purchased=2))
    assert decide(at).outcome is Outcome.APPROVED
    over = facts(
        line(unit_price=usd("100.00"), quantity=2, quantity_purchased=2),
        line(sku="SOCK", unit_price=usd("0.01")),
    )
    check(decide(over), Outcome.NEEDS_REVIEW, "value_ceiling", "value 200.01 USD > 200.00 USD")


def test_high_value_orders_go_to_a_human() -> None:
    assert decide(facts(order_total=usd(5000))).outcome is Outcome.APPROVED
    check(
        decide(facts(order_total=usd("5000.01"))),
        Outcome.NEEDS_REVIEW,
        "order_value",
        "high-value order: total 5000.01 USD > 5000.00 USD",
    )


@pytest.mark.parametrize(
    ("returns", "complaints", "rule", "text"),
    [
        (2, 1, None, ""),
        (3, 0, "return_frequency", "frequent returner: 3 earlier returns in 90 days (review at 3)"),
        (0, 2, "complaint_history", "risky customer: 2 past complaints (review at 2)"),
    ],
)
def test_risky_customers(returns: int, complaints: int, rule: str | None, text: str) -> None:
    d = decide(facts(customer_returns_90d=returns, complaints_count=complaints))
    check(d, Outcome.APPROVED if rule is None else Outcome.NEEDS_REVIEW, rule, text)


def test_merchant_can_switch_auto_approval_off() -> None:
    check(
        decide(facts(), ReturnRules(auto_approve=False)),
        Outcome.NEEDS_REVIEW,
        "auto_approve",
        "auto-approval is switched off",
    )


def test_hard_rules_beat_soft_ones_and_every_failure_is_listed() -> None:
    d = decide(
        facts(
            line(unit_price=usd(900)),
            delivered_at=NOW - timedelta(days=30),
            order_total=usd(900),
            complaints_count=5,
        )
    )
    check(
        d, Outcome.NOT_ELIGIBLE, "return_window", "(also failed: value_ceiling, complaint_history)"
    )


def test_zero_decimal_currency_and_json_ready_output() -> None:
    yen = Money(Decimal(9000), "JPY")
    f = facts(line(unit_price=yen), order_total=yen)
    assert "value 9000 JPY > 200 JPY" in decide(f).explain()
    data = decide(facts()).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["trace"][2] == {
        "rule": "return_window",
        "passed": True,
        "verdict": "not_eligible",
        "key": "returns.return_window.ok",
        "params": {"window": "7", "days": "3"},
        "text": "within 7 days (delivered 3 days ago)",
    }


# --- settings and input validation ----------------------------------------------------------


def test_rules_round_trip_and_partial_settings() -> None:
    rules = ReturnRules(
        window_days=14,
        excluded_skus=frozenset({"A"}),
        max_complaints=4,
        auto_approve_max_value=Decimal("75.50"),
    )
    assert ReturnRules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules
    assert ReturnRules.from_dict({}) == ReturnRules()
    assert ReturnRules.from_dict({"window_days": Decimal(30)}).window_days == 30  # from DynamoDB
    assert ReturnRules.from_dict({"excluded_tags": ["Final-Sale "]}).excluded_tags == {"final-sale"}


@pytest.mark.parametrize(
    "bad",
    [
        {"window_dayz": 7},
        {"window_days": "7"},
        {"window_days": -1},
        {"window_days": True},
        {"window_days": 7.5},
        {"auto_approve_max_value": 200.0},
        {"auto_approve_max_value": "abc"},
        {"auto_approve_max_value": "NaN"},
        {"high_value_order_threshold": "-1"},
        {"allowed_reasons": "wrong_size"},
        {"excluded_tags": ["ok", ""]},
        {"excluded_skus": [3]},
        {"require_delivered": "yes"},
        {"max_returns_90d": None},
        {1: 2},
    ],
)
def test_bad_settings_are_refused(bad: dict[object, object]) -> None:
    with pytest.raises(MalformedPayload):
        ReturnRules.from_dict(bad)  # type: ignore[arg-type]


def test_settings_must_be_an_object() -> None:
    with pytest.raises(MalformedPayload, match="must be an object"):
        ReturnRules.from_dict(["window_days"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: facts(now=datetime(2024, 5, 10)),
        lambda: facts(delivered_at=datetime(2024, 5, 9)),
        lambda: facts(lines=()),
        lambda: facts(order_total=Money(Decimal(1), "EUR")),
        lambda: facts(order_status="shipped"),
        lambda: facts(fulfillment_status="done"),
        lambda: facts(complaints_count=-1),
        lambda: facts(order_total=Money(1.5, "USD")),  # type: ignore[arg-type]
        lambda: line(quantity=0),
        lambda: line(quantity_purchased=-1),
        lambda: line(unit_price=usd(-1)),
        lambda: line(reason=None),
        lambda: line(tags="final-sale"),
        lambda: line(tags=(None,)),
        lambda: facts(lines=("not a line",)),
        lambda: facts(tz="Europe/Paris"),
    ],
)
def test_impossible_facts_are_refused(build: object) -> None:
    with pytest.raises(MalformedPayload):
        build()  # type: ignore[operator]


# --- properties -----------------------------------------------------------------------------

SKUS = ["A", "B", "C", "D"]
TAGS = ["final-sale", "Hygiene", "summer", "sale"]
REASONS = [
    "wrong_size",
    "damaged",
    "quality",
    "no_reason",
    "changed_mind",
    "missing_item",
    "other",
    "late",
    "gift",
    "",
]
ZONES = [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=9, minutes=30))]
money = st.decimals(min_value=0, max_value=9000, places=2)

lines_st = st.builds(
    RequestedLine,
    sku=st.sampled_from(SKUS),
    unit_price=st.builds(usd, st.integers(0, 600)),
    quantity=st.integers(1, 4),
    quantity_purchased=st.integers(0, 4),
    quantity_returned=st.integers(0, 3),
    reason=st.sampled_from(REASONS),
    tags=st.lists(st.sampled_from(TAGS), max_size=2).map(tuple),
)


@st.composite
def facts_st(draw: st.DrawFn) -> ReturnFacts:
    now = draw(st.datetimes(datetime(2024, 1, 1), datetime(2025, 1, 1), timezones=st.just(UTC)))
    delivered = draw(st.none() | st.timedeltas(timedelta(hours=-30), timedelta(days=20)))
    return ReturnFacts(
        now=now,
        order_total=usd(draw(money)),
        lines=tuple(draw(st.lists(lines_st, min_size=1, max_size=3))),
        delivered_at=None if delivered is None else now - delivered,
        order_status=draw(
            st.sampled_from(["open", "closed", "partially_refunded", "refunded", "cancelled"])
        ),
        fulfillment_status=draw(st.sampled_from(["fulfilled", "partial", "unfulfilled"])),
        customer_returns_90d=draw(st.integers(0, 6)),
        complaints_count=draw(st.integers(0, 5)),
        tz=draw(st.sampled_from(ZONES)),
    )


rules_st = st.builds(
    ReturnRules,
    window_days=st.integers(0, 21),
    require_delivered=st.booleans(),
    allowed_reasons=st.frozensets(st.sampled_from(REASONS[:-1])),
    excluded_skus=st.frozensets(st.sampled_from(SKUS)),
    excluded_tags=st.frozensets(st.sampled_from(TAGS)),
    auto_approve=st.booleans(),
    auto_approve_max_value=money,
    high_value_order_threshold=money,
    max_returns_90d=st.integers(0, 6),
    max_complaints=st.integers(0, 5),
)


@st.composite
def tightened(draw: st.DrawFn, rules: ReturnRules) -> ReturnRules:
    """Rules at least as strict as `rules` in every setting (some settings unchanged)."""

    def lower(value: int | Decimal) -> int | Decimal:
        return draw(
            st.sampled_from(
                [
                    value,
                    value * 0,
                    value // 2
                    if isinstance(value, int)
                    else (value / 2).quantize(Decimal("0.01"), "ROUND_DOWN"),
                ]
            )
        )

    return replace(
        rules,
        window_days=lower(rules.window_days),
        require_delivered=rules.require_delivered or draw(st.booleans()),
        allowed_reasons=rules.allowed_reasons & draw(st.frozensets(st.sampled_from(REASONS[:-1])))
        if draw(st.booleans())
        else rules.allowed_reasons,
        excluded_skus=rules.excluded_skus | draw(st.frozensets(st.sampled_from(SKUS))),
        excluded_tags=rules.excluded_tags | draw(st.frozensets(st.sampled_from(TAGS))),
        auto_approve=rules.auto_approve and draw(st.booleans()),
        auto_approve_max_value=lower(rules.auto_approve_max_value),
        high_value_order_threshold=lower(rules.high_value_order_threshold),
        max_returns_90d=lower(rules.max_returns_90d),
        max_complaints=lower(rules.max_complaints),
    )


def oracle(f: ReturnFacts, r: ReturnRules) -> tuple[list[str], list[str]]:
    """(hard, soft) failures of `f` under `r`, written from the policy text, not the code."""
    hard, soft = [], []
    if f.order_status in ("cancelled", "refunded"):
        hard.append("order_active")
    if f.delivered_at is None:
        if r.require_delivered or f.fulfillment_status == "unfulfilled":
            hard.append("delivered")
    else:
        offset = f.tz.utcoffset(None) or timedelta(0)
        local = [
            (t.astimezone(UTC).replace(tzinfo=None) + offset).date()
            for t in (f.delivered_at, f.now)
        ]
        if (local[1] - local[0]).days > r.window_days:
            hard.append("return_window")
    if any(
        ln.sku in r.excluded_skus or {t.lower() for t in ln.tags} & r.excluded_tags
        for ln in f.lines
    ):
        hard.append("product_returnable")
    if any(ln.quantity + ln.quantity_returned > ln.quantity_purchased for ln in f.lines):
        hard.append("quantity_available")
    if not r.auto_approve:
        soft.append("auto_approve")
    if any((ln.reason or "no_reason") not in r.allowed_reasons for ln in f.lines):
        soft.append("reason_allowed")
    if sum(ln.unit_price.amount * ln.quantity for ln in f.lines) > r.auto_approve_max_value:
        soft.append("value_ceiling")
    if f.order_total.amount > r.high_value_order_threshold:
        soft.append("order_value")
    if f.customer_returns_90d >= r.max_returns_90d:
        soft.append("return_frequency")
    if f.complaints_count >= r.max_complaints:
        soft.append("complaint_history")
    return hard, soft


TEMPLATE_FIELDS = {
    key: {name for _, name, _, _ in string.Formatter().parse(text) if name}
    for key, text in MESSAGES_EN.items()
}


@settings(max_examples=150)
@given(facts_st(), rules_st)
def test_decision_matches_the_policy_oracle(f: ReturnFacts, r: ReturnRules) -> None:
    d = decide(f, r)
    hard, soft = oracle(f, r)
    assert [x.rule for x in d.failed] == hard + soft
    expected = Outcome.NOT_ELIGIBLE if hard else Outcome.NEEDS_REVIEW if soft else Outcome.APPROVED
    assert d.outcome is expected  # in particular: nothing the rules forbid is approved
    assert d.deciding_rule == (hard + soft + [None])[0]


@settings(max_examples=150)
@given(facts_st(), rules_st, st.data())
def test_tightening_a_rule_never_loosens_a_decision(
    f: ReturnFacts, r: ReturnRules, data: st.DataObject
) -> None:
    strict = data.draw(tightened(r))
    loose_d, strict_d = decide(f, r), decide(f, strict)
    assert SEVERITY[strict_d.outcome] >= SEVERITY[loose_d.outcome]
    assert {x.rule for x in loose_d.failed} <= {x.rule for x in strict_d.failed}


@given(facts_st(), rules_st)
def test_deterministic_and_always_explained(f: ReturnFacts, r: ReturnRules) -> None:
    d = decide(f, r)
    assert d == decide(replace(f), replace(r))
    summary = d.explain()
    assert summary.startswith(d.outcome.value) and "\n" not in summary
    for result in d.trace:
        assert result.key in MESSAGES_EN and "{" not in result.text
        assert result.verdict is (
            Outcome.NOT_ELIGIBLE if result.rule in HARD_RULES else Outcome.NEEDS_REVIEW
        )
        assert all(isinstance(v, str) for _, v in result.params)
        assert {name for name, _ in result.params} == TEMPLATE_FIELDS[result.key]
    if d.deciding_rule is None:
        assert d.outcome is Outcome.APPROVED and not d.failed
        assert all(result.text in summary for result in d.trace)
    else:
        decisive = next(x for x in d.trace if x.rule == d.deciding_rule)
        assert f"by {d.deciding_rule}: {decisive.text}" in summary


def test_every_message_key_is_reachable() -> None:
    relaxed = ReturnRules(require_delivered=False)
    cases = [
        (facts(), ReturnRules()),
        (facts(order_status="cancelled", delivered_at=None), relaxed),
        (facts(delivered_at=None, fulfillment_status="unfulfilled"), relaxed),
        (facts(delivered_at=None), ReturnRules()),
        (
            facts(
                delivered_at=NOW - timedelta(days=9),
                order_total=usd(6000),
                customer_returns_90d=4,
                complaints_count=3,
            ),
            ReturnRules(auto_approve=False),
        ),
        (facts(line(quantity=2, unit_price=usd(300), reason="missing_item")), ReturnRules()),
        (facts(line(tags=("final-sale",))), ReturnRules()),
        (facts(), ReturnRules(excluded_skus=frozenset({"TEE-M"}))),
    ]
    seen = {result.key for f, r in cases for result in decide(f, r).trace}
    assert seen == set(MESSAGES_EN)
