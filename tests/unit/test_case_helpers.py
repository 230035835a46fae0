"""Pure case helpers: recent-case bookkeeping, repeat detection, deterministic ids, and how a
return request becomes `ReturnFacts` (no network: items are built, never read or written)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.events import ReturnLine, ReturnRequested
from chalicelib.handlers.cases import (
    RECENT_CASES_DAYS,
    RECENT_CASES_MAX,
    NewCase,
    case_id_for,
    find_repeat,
    remember_case,
    repeat_window_days,
    returns_within,
)
from chalicelib.handlers.returns import decide_request, return_case_id
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, MerchantItem, OrderItem

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def entry(case_id: str, days_ago: float, **fields: Any) -> dict[str, Any]:
    base = {"case_id": case_id, "type": "complaint", "order_id": None, "skus": []}
    return {**base, "at": keys.iso(NOW - timedelta(days=days_ago)), **fields}


# --- repeat detection ------------------------------------------------------------------------


def test_same_order_within_the_window_is_a_repeat():
    recent = [entry("CP-1", 10, order_id="o1")]
    found = find_repeat(recent, order_id="o1", skus=(), now=NOW, window_days=30)
    assert found is not None and found["case_id"] == "CP-1"


def test_shared_sku_is_a_repeat_even_on_another_order():
    recent = [entry("CP-1", 1, order_id="o1", skus=["A", "B"])]
    assert find_repeat(recent, order_id="o2", skus=("B",), now=NOW, window_days=30)


def test_the_newest_matching_case_is_linked():
    recent = [entry("CP-old", 20, order_id="o1"), entry("CP-new", 2, order_id="o1")]
    found = find_repeat(recent, order_id="o1", skus=(), now=NOW, window_days=30)
    assert found is not None and found["case_id"] == "CP-new"


@pytest.mark.parametrize(
    "earlier",
    [
        entry("CP-1", 31, order_id="o1"),  # outside the window
        entry("CP-1", 1, order_id="o9", skus=["Z"]),  # nothing shared
        entry("RET-1", 1, order_id="o1", type="return"),  # a return is not a complaint
        entry("IQ-1", 1, order_id="o1", type="inquiry"),
        entry("CP-1", -1, order_id="o1"),  # in the future (clock skew): not earlier
    ],
)
def test_not_a_repeat(earlier):
    assert find_repeat([earlier], order_id="o1", skus=("A",), now=NOW, window_days=30) is None


def test_no_order_and_no_sku_matches_nothing():
    recent = [entry("CP-1", 1, order_id=None, skus=[])]
    assert find_repeat(recent, order_id=None, skus=(), now=NOW, window_days=30) is None


def test_window_edge_is_inclusive():
    recent = [entry("CP-1", 30, order_id="o1")]
    assert find_repeat(recent, order_id="o1", skus=(), now=NOW, window_days=30)


# --- the recent-cases list ------------------------------------------------------------------


def test_remember_puts_the_new_case_first_and_replaces_its_old_entry():
    recent = [entry("CP-1", 5), entry("CP-2", 3)]
    out = remember_case(recent, entry("CP-2", 0, outcome="approved"), NOW)
    assert [e["case_id"] for e in out] == ["CP-2", "CP-1"]
    assert out[0]["outcome"] == "approved"


def test_remember_drops_old_entries_and_caps_the_list():
    old = [entry("CP-old", RECENT_CASES_DAYS + 1)]
    assert [e["case_id"] for e in remember_case(old, entry("CP-1", 0), NOW)] == ["CP-1"]
    many = [entry(f"CP-{n}", 1) for n in range(RECENT_CASES_MAX + 5)]
    assert len(remember_case(many, entry("CP-new", 0), NOW)) == RECENT_CASES_MAX


def test_returns_within_counts_return_requests_the_rules_did_not_refuse():
    recent = [
        entry("RET-1", 10, type="return", outcome="approved"),
        entry("RET-2", 20, type="return", outcome="needs_review"),
        entry("RET-3", 30, type="return", outcome="not_eligible"),
        entry("RET-4", 91, type="return", outcome="approved"),
        entry("CP-1", 1),
    ]
    assert returns_within(recent, NOW) == 2


@pytest.mark.parametrize(
    ("settings", "days"),
    [({}, 30), ({"repeat_window_days": 14}, 14), ({"repeat_window_days": 0}, 1),
     ({"repeat_window_days": 999}, RECENT_CASES_DAYS), ({"repeat_window_days": "x"}, 30)],
)  # fmt: skip
def test_repeat_window_setting_is_bounded(settings, days):
    merchant = MerchantItem(merchant_id="m", name="M", created_at=NOW, settings=settings)
    assert repeat_window_days(merchant) == days


# --- ids -----------------------------------------------------------------------------------


def test_case_ids_are_deterministic_and_distinct():
    new = NewCase("complaint", "s", source="sms", cause="SM1")
    assert case_id_for(new) == case_id_for(new) and case_id_for(new).startswith("CP-")
    assert case_id_for(NewCase("inquiry", "s", source="sms", cause="SM1")).startswith("IQ-")
    assert return_case_id("shopify", "1") == return_case_id("shopify", "1")
    assert return_case_id("shopify", "1") != return_case_id("portal", "1")
    assert "#" not in return_case_id("shopify", "1") and len(return_case_id("s", "1")) <= 64


def test_returns_are_not_opened_as_complaints():
    with pytest.raises(MalformedPayload):
        case_id_for(NewCase("return", "s", source="sms", cause="SM1"))


# --- a return request as the rules see it -----------------------------------------------------


def order(**fields: Any) -> OrderItem:
    base: dict[str, Any] = dict(
        merchant_id="m",
        order_id="o1",
        order_number="#1001",
        customer_id="c1",
        total="100.00",
        currency="USD",
        line_items=[
            {"line_id": "L1", "sku": "TEE", "unit_price": "40.00", "quantity": 2, "tags": []},
            {"line_id": "L2", "sku": "MASK", "unit_price": "20.00", "quantity": 1,
             "tags": ["Hygiene"]},
        ],
        placed_at=NOW - timedelta(days=10),
        source_updated_at=NOW - timedelta(days=10),
        delivered_at=NOW - timedelta(days=2),
    )  # fmt: skip
    return OrderItem(**{**base, **fields})


def request(*lines: ReturnLine) -> ReturnRequested:
    return ReturnRequested(NOW, return_id="r1", order_id="o1", lines=lines)


MERCHANT = MerchantItem(merchant_id="m", name="M", created_at=NOW, timezone="America/New_York")


def test_an_ordinary_request_is_approved_with_its_value_and_rules():
    decision = decide_request(
        request(ReturnLine("L1", 1, reason="wrong_size")), order(), None, MERCHANT, NOW
    )
    assert decision["outcome"] == "approved" and decision["value"] == "40.00 USD"
    assert decision["rules"]["window_days"] == 7


def test_repeated_lines_are_merged_before_the_quantity_check():
    decision = decide_request(
        request(ReturnLine("L1", 2), ReturnLine("L1", 1)), order(), None, MERCHANT, NOW
    )
    assert decision["deciding_rule"] == "quantity_available"


def test_earlier_approved_quantities_count():
    decision = decide_request(
        request(ReturnLine("L1", 2)), order(returned={"L1": 1}), None, MERCHANT, NOW
    )
    assert decision["outcome"] == "not_eligible"


def test_product_tags_come_from_the_order_line():
    decision = decide_request(request(ReturnLine("L2", 1)), order(), None, MERCHANT, NOW)
    assert decision["deciding_rule"] == "product_returnable"


def test_customer_history_feeds_the_risk_rules():
    customer = CustomerItem(merchant_id="m", customer_id="c1", updated_at=NOW, complaints=2)
    decision = decide_request(request(ReturnLine("L1", 1)), order(), customer, MERCHANT, NOW)
    assert decision["deciding_rule"] == "complaint_history"


def test_cancelled_order_is_not_eligible():
    decision = decide_request(
        request(ReturnLine("L1", 1)), order(status="cancelled"), None, MERCHANT, NOW
    )
    assert decision["deciding_rule"] == "order_active"


@pytest.mark.parametrize(
    ("the_order", "merchant", "rule"),
    [
        (None, MERCHANT, "order_known"),
        (order(line_items=[]), MERCHANT, "lines_known"),
        (order(), MerchantItem(merchant_id="m", name="M", created_at=NOW,
                               settings={"return_rules": {"window_days": -1}}), "merchant_rules"),
    ],
)  # fmt: skip
def test_what_the_rules_cannot_judge_goes_to_a_human(the_order, merchant, rule):
    decision = decide_request(request(ReturnLine("L1", 1)), the_order, None, merchant, NOW)
    assert decision["outcome"] == "needs_review" and decision["deciding_rule"] == rule
    (only,) = decision["trace"]
    assert only["rule"] == rule and not only["passed"] and only["text"] in decision["explanation"]


def test_merchant_rules_apply():
    strict = MerchantItem(
        merchant_id="m", name="M", created_at=NOW, settings={"return_rules": {"window_days": 1}}
    )
    decision = decide_request(request(ReturnLine("L1", 1)), order(), None, strict, NOW)
    assert decision["deciding_rule"] == "return_window"


def test_lines_with_no_quantity_are_left_out():
    only_zero = decide_request(request(ReturnLine("L1", 0)), order(), None, MERCHANT, NOW)
    with_zero = decide_request(
        request(ReturnLine("L1", 1), ReturnLine("L9", 0)), order(), None, MERCHANT, NOW
    )
    assert only_zero["deciding_rule"] == "lines_known"
    assert with_zero["outcome"] == "approved" and with_zero["value"] == "40.00 USD"
