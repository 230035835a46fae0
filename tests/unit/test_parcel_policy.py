"""Damaged/lost classification, the stale-tracking rule and the digest's parcel KPIs (pure)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from chalicelib.digest.metrics import compute
from chalicelib.events import TrackingStatus as S
from chalicelib.policy.tracking import (
    DAMAGED,
    LOST,
    StaleSettings,
    exception_cause,
    stale_check_at,
    stale_settings,
)
from tests.support import utc

CAUSES = [
    # Shippo's documented substatus codes (connectors put them after the status)
    (S.EXCEPTION, "TRANSIT/package_damaged", "", DAMAGED),
    (S.EXCEPTION, "FAILURE/package_lost", "", LOST),
    (S.EXCEPTION, "FAILURE/package_disposed", "", LOST),
    # carriers' words
    (S.EXCEPTION, "failure", "Package damaged in transit", DAMAGED),
    (S.EXCEPTION, "exception/exception_001", "Shipment is lost", LOST),
    (S.EXCEPTION, "failure", "Item missing from the network", LOST),
    (S.DELIVERY_FAILED, "failure", "Parcel crushed, returned to depot", DAMAGED),
    (S.EXCEPTION, "failure", "Damaged and lost", DAMAGED),  # damage wins
    # not a damage or loss report
    (S.EXCEPTION, "failure", "Address issue", None),
    (S.EXCEPTION, "failure", "Closed for lunch", None),  # no "lost" word inside others
    (S.DELIVERED, "delivered", "Delivered, box damaged", None),  # not an exception status
    (S.IN_TRANSIT, "TRANSIT/package_damaged", "", None),
]


@pytest.mark.parametrize(("status", "carrier_status", "message", "expected"), CAUSES)
def test_exception_cause_reads_codes_then_words(status, carrier_status, message, expected):
    assert exception_cause(status, carrier_status, message) == expected


@pytest.mark.parametrize(
    ("settings", "hours", "notify"),
    [
        (None, 24, True),
        ({}, 24, True),
        ({"tracking": {"stale_after_hours": 36}}, 36, True),
        ({"tracking": {"stale_after_hours": 12, "notify_customer_on_stale": False}}, 12, False),
        ({"tracking": {"stale_after_hours": 0}}, 24, True),  # invalid -> default
        ({"tracking": {"stale_after_hours": "48"}}, 24, True),
        ({"tracking": {"stale_after_hours": True}}, 24, True),
        ({"tracking": "nonsense"}, 24, True),
        ({"tracking": {"notify_customer_on_stale": "no"}}, 24, True),
    ],
)
def test_stale_settings_fall_back_to_defaults(settings, hours, notify):
    assert stale_settings(settings) == StaleSettings(hours, notify)


def test_stale_check_is_last_scan_plus_threshold_while_moving_to_the_customer():
    scan = utc(2026, 11, 20, 8)
    rules = StaleSettings(30)
    assert stale_check_at(S.IN_TRANSIT, scan, False, rules) == scan + timedelta(hours=30)
    assert stale_check_at(S.OUT_FOR_DELIVERY, scan, False, rules) == scan + timedelta(hours=30)
    for quiet in (S.DELIVERED, S.RETURNED_TO_SENDER, S.LABEL_CREATED, S.EXCEPTION, None):
        assert stale_check_at(quiet, scan, False, rules) is None
    assert stale_check_at(S.IN_TRANSIT, None, False, rules) is None  # no scan yet
    assert stale_check_at(S.IN_TRANSIT, scan, True, rules) is None  # return parcels: stuck flow


def test_digest_shows_damage_loss_returns_received_and_refunds_issued():
    now = {"shipments": D(2000), "parcels_damaged": D(3), "parcels_lost": D(1),
           "returns_received": D(12), "refunds_issued": D(10)}  # fmt: skip
    before = {"shipments": D(1000), "parcels_damaged": D(2), "returns_received": D(8)}
    digest = compute("2026-W47", "2026-W46", now, before)
    assert digest.kpi("damage_per_1000").value == D("1.5")
    assert digest.kpi("lost_per_1000").value == D("0.5")
    assert digest.kpi("lost_per_1000").previous == D(0)
    received = digest.kpi("returns_received")
    assert (received.value, received.previous, received.change) == (D(12), D(8), D(4))
    refunds = digest.kpi("refunds_issued")
    assert (refunds.value, refunds.previous, refunds.trend) == (D(10), None, "")
    empty = compute("2026-W47", "2026-W46", {}, {})
    assert empty.kpi("returns_received").value is None  # no data, not zero
