"""The refund-on-inspection table (`policy.refund_policy`), row by row, and its matching rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.policy.refund_policy import (
    REFUND,
    REVIEW,
    CaseLine,
    InspectedLine,
    RefundLine,
    RefundSettings,
    decide_refund,
)

MUG = CaseLine("L1", "MUG", 2, Decimal("12.50"))
BAG = CaseLine("L2", "BAG", 1, Decimal("120.00"))
DEFAULT = RefundSettings()


def decide(*inspected: InspectedLine, lines=(MUG, BAG), settings=DEFAULT):
    return decide_refund(lines, inspected, "USD", settings)


@pytest.mark.parametrize(
    ("disposition", "settings", "action", "total"),
    [
        ("resellable", DEFAULT, REFUND, "25.00"),
        ("needs_repair", DEFAULT, REFUND, "25.00"),
        ("needs_repair", RefundSettings(restocking_fee_percent=Decimal(10)), REVIEW, "0.00"),
        ("scrap", DEFAULT, REVIEW, "0.00"),
        ("scrap", RefundSettings(scrap="refund"), REFUND, "25.00"),
        (None, DEFAULT, REVIEW, "0.00"),
    ],
)
def test_each_disposition(disposition, settings, action, total) -> None:
    decision = decide(InspectedLine("MUG", 2, disposition), lines=(MUG,), settings=settings)
    assert (decision.action, decision.total) == (action, Decimal(total))
    assert decision.lines == ((RefundLine("L1", 2, Decimal("25.00")),) if action == REFUND else ())


def test_resellable_lines_are_refunded_in_full_and_restocked() -> None:
    decision = decide(InspectedLine("MUG", 2, "resellable"), InspectedLine("BAG", 1, "resellable"))
    assert decision.action == REFUND and decision.restock is True
    assert decision.total == Decimal("145.00") and decision.currency == "USD"
    assert "Refund of 145.00 USD" in decision.explanation


def test_a_repaired_line_is_refunded_but_not_restocked() -> None:
    decision = decide(
        InspectedLine("MUG", 2, "resellable"), InspectedLine("BAG", 1, "needs_repair")
    )
    assert decision.action == REFUND and decision.restock is False


def test_one_scrap_unit_sends_the_whole_return_to_review_with_reasons() -> None:
    decision = decide(InspectedLine("MUG", 1, "resellable"), InspectedLine("MUG", 1, "scrap"))
    assert decision.action == REVIEW and decision.lines == ()
    assert "no automatic refund" in decision.explanation
    assert [v.verdict for v in decision.verdicts] == [REFUND, REVIEW]


def test_fewer_units_than_asked_refunds_only_those_received() -> None:
    decision = decide(InspectedLine("MUG", 1, "resellable"))
    assert decision.lines == (RefundLine("L1", 1, Decimal("12.50")),)
    assert "(1 of 3 units received)" in decision.explanation


def test_extra_units_are_not_refunded() -> None:
    decision = decide(InspectedLine("MUG", 5, "resellable"), lines=(MUG,))
    assert decision.action == REFUND and decision.lines == (RefundLine("L1", 2, Decimal("25.00")),)
    assert decision.verdicts[-1].verdict == "not_refunded" and decision.verdicts[-1].quantity == 3


def test_a_sku_not_on_the_return_goes_to_review() -> None:
    decision = decide(InspectedLine("MUG", 2, "resellable"), InspectedLine("HAT", 1, "resellable"))
    assert decision.action == REVIEW and "not part of this return" in decision.explanation


def test_line_id_wins_over_sku() -> None:
    lines = (CaseLine("A", "SAME", 1, Decimal("1.00")), CaseLine("B", "SAME", 1, Decimal("9.00")))
    decision = decide(InspectedLine("SAME", 1, "resellable", line_id="B"), lines=lines)
    assert decision.lines == (RefundLine("B", 1, Decimal("9.00")),)


def test_same_sku_split_over_lines() -> None:
    lines = (CaseLine("A", "SAME", 1, Decimal("1.00")), CaseLine("B", "SAME", 1, Decimal("9.00")))
    decision = decide(InspectedLine("SAME", 2, "resellable"), lines=lines)
    assert decision.total == Decimal("10.00") and len(decision.lines) == 2


def test_unknown_price_goes_to_review() -> None:
    decision = decide(
        InspectedLine("MUG", 1, "resellable"), lines=(CaseLine("L1", "MUG", 1, None),)
    )
    assert decision.action == REVIEW


def test_nothing_inspected_goes_to_review() -> None:
    assert decide().action == REVIEW


def test_decision_serializes_without_floats() -> None:
    data = decide(InspectedLine("MUG", 2, "resellable"), lines=(MUG,)).to_dict()
    assert data["total"] == "25.00" and data["lines"][0]["amount"] == "25.00"
    assert data["verdicts"][0]["disposition"] == "resellable"


@pytest.mark.parametrize(
    "raw",
    [
        {"restocking_fee_percent": "101"},
        {"restocking_fee_percent": "-1"},
        {"restocking_fee_percent": "abc"},
        {"scrap": "refund_half"},
    ],
)
def test_invalid_settings_are_refused(raw) -> None:
    with pytest.raises(MalformedPayload):
        RefundSettings.from_dict(raw)


def test_settings_defaults() -> None:
    assert RefundSettings.from_dict(None) == RefundSettings(Decimal(0), REVIEW)
    assert RefundSettings.from_dict({"restocking_fee_percent": 15}).restocking_fee_percent == 15
