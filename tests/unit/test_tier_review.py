"""The pure tier-review rules: when a VIP is looked at again, what a tier change does to a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.policy.tier_review import REVIEW_MARGIN, next_review, retier

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
YEAR = timedelta(days=365)


def test_a_vip_is_reviewed_when_the_oldest_order_in_the_window_leaves_it():
    orders = [NOW - timedelta(days=d) for d in (400, 300, 10)]  # 400 is already outside
    assert next_review(orders, True, NOW, YEAR) == NOW - timedelta(days=300) + YEAR + REVIEW_MARGIN


def test_a_standard_customer_needs_no_review_and_a_vip_without_dated_orders_one_now():
    assert next_review([NOW - timedelta(days=3)], False, NOW, YEAR) is None
    assert next_review([], True, NOW, YEAR) == NOW


def test_promotion_flags_tags_and_hands_the_case_to_the_priority_agent():
    after = retier(
        True, case_vip=False, tags={"repeat"}, assignee="al", escalated=False, priority_agent="vera"
    )
    assert after.changed and after.vip and after.queue == "priority"
    assert after.tags == {"repeat", "vip"} and after.assignee == "vera"
    assert "handed to vera" in after.summary


def test_promotion_keeps_a_senior_who_has_the_escalated_case_or_anyone_without_a_vip_desk():
    kept = retier(True, case_vip=False, tags=(), assignee="sam", escalated=True, priority_agent="v")
    assert kept.assignee == "sam" and kept.vip
    alone = retier(
        True, case_vip=False, tags=(), assignee=None, escalated=False, priority_agent=None
    )
    assert alone.assignee is None and alone.queue == "priority"


def test_demotion_drops_flag_tag_and_queue_and_keeps_the_assignee():
    after = retier(
        False, case_vip=True, tags={"vip", "high_risk"}, assignee="vera", escalated=False,
        priority_agent="vera",
    )  # fmt: skip
    assert after.changed and not after.vip and after.queue == "standard"
    assert after.tags == {"high_risk"} and after.assignee == "vera"


def test_no_change_when_the_case_already_follows_the_tier():
    same = retier(
        True, case_vip=True, tags={"vip"}, assignee="x", escalated=False, priority_agent="v"
    )
    assert not same.changed and same.assignee == "x"
