"""Stuck return flows (policy/stuck_flows.py): which flow is overdue, once, and the next look."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.policy.stuck_flows import StuckRules, next_stuck_check, stuck_steps
from tests.support import utc

APPROVED = utc(2026, 11, 2, 12)
RULES = StuckRules(return_scan_days=7, refund_hours=48)
NONE: frozenset[str] = frozenset()


def test_an_approved_return_without_a_scan_is_stuck_after_the_days_given():
    details = {"approved_at": "2026-11-02T12:00:00Z"}
    assert (
        stuck_steps(details, APPROVED + timedelta(days=7) - timedelta(seconds=1), RULES, NONE) == []
    )
    [step] = stuck_steps(details, APPROVED + timedelta(days=7), RULES, NONE)
    assert step.id == "stuck:no_return_scan@2026-11-02T12:00:00Z" and step.notify == "senior"
    assert stuck_steps(details, APPROVED + timedelta(days=9), RULES, frozenset({step.id})) == []


def test_a_scan_or_a_receipt_stops_the_no_scan_clock():
    later = APPROVED + timedelta(days=10)
    scanned = {"approved_at": "2026-11-02T12:00:00Z", "return_scanned_at": "2026-11-03T00:00:00Z"}
    assert stuck_steps(scanned, later, RULES, NONE) == []


def test_a_receipt_without_refund_is_stuck_after_the_hours_given():
    details = {"approved_at": "2026-11-02T12:00:00Z", "received_at": "2026-11-05T10:00:00Z"}
    assert stuck_steps(details, utc(2026, 11, 7, 9, 59), RULES, NONE) == []
    [step] = stuck_steps(details, utc(2026, 11, 7, 10), RULES, NONE)
    assert step.flow == "refund_after_receipt"
    refunded = {**details, "refunded_at": "2026-11-06T10:00:00Z"}
    assert stuck_steps(refunded, utc(2026, 11, 8), RULES, NONE) == []


def test_a_failed_refund_is_stuck_at_once_until_a_refund_succeeds():
    details = {"approved_at": "2026-11-02T12:00:00Z", "refund_failed_at": "2026-11-06T10:00:00Z"}
    [step] = stuck_steps(details, utc(2026, 11, 6, 10), RULES, NONE)
    assert step.flow == "refund_failed"
    retried = {**details, "refunded_at": "2026-11-06T11:00:00Z"}
    assert stuck_steps(retried, utc(2026, 11, 6, 12), RULES, NONE) == []


def test_the_next_look_is_the_earliest_deadline_or_the_poll_while_in_flight():
    details = {"approved_at": "2026-11-02T12:00:00Z"}
    now = APPROVED + timedelta(hours=1)
    assert next_stuck_check(details, now, RULES, NONE) == now + RULES.poll
    near = APPROVED + timedelta(days=7) - timedelta(hours=1)
    assert next_stuck_check(details, near, RULES, NONE) == APPROVED + timedelta(days=7)
    assert next_stuck_check({}, now, RULES, NONE) is None
    done = {**details, "refunded_at": "2026-11-04T00:00:00Z"}
    assert next_stuck_check(done, now, RULES, NONE) is None


def test_settings_are_validated():
    assert StuckRules.from_dict({"return_scan_days": 3}).return_scan_days == 3
    for bad in ({"return_scan_days": 0}, {"refund_hours": "48"}, {"other": 1}, ["x"]):
        with pytest.raises(MalformedPayload):
            StuckRules.from_dict(bad)
