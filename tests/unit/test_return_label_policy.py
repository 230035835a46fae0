"""Pure policy of prepaid return labels, approval expiry and the portal settings (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.policy.portal_settings import parse_logistics, parse_portal
from chalicelib.policy.return_labels import (
    LabelSettings,
    cheapest_rate,
    expiry_days,
    expiry_times,
    parse_labels,
    shipment_request,
)

WAREHOUSE = {
    "street1": "417 Montgomery St",
    "city": "San Francisco",
    "zip": "94104",
    "country": "US",
}


def test_labels_are_off_by_default_and_unreadable_settings_stay_off():
    assert LabelSettings.of({}).enabled is False
    assert LabelSettings.of({"return_labels": {"enabled": True}}).enabled is False  # no address


def test_an_enabled_label_needs_the_warehouse_address():
    with pytest.raises(MalformedPayload, match="from_address: missing street1, zip"):
        parse_labels({"enabled": True, "from_address": {"city": "SF", "country": "US"}})
    labels = parse_labels({"enabled": True, "from_address": WAREHOUSE})
    assert labels.enabled and labels.parcel == {"weight": 16.0}


@pytest.mark.parametrize(
    "body",
    [{"carrier": "dhl"}, {"enabled": "yes"}, {"parcel": {"weight": -1}}, {"colour": 1}],
)
def test_bad_label_settings_name_the_field(body):
    with pytest.raises(MalformedPayload, match=r"returns\.labels"):
        parse_labels(body)


def test_expiry_days_default_range_and_reminder_three_days_before():
    assert expiry_days({}) == 28
    assert expiry_days({"approval_expiry_days": 1}) == 28  # out of range: the default
    approved = datetime(2026, 11, 23, 15, tzinfo=UTC)
    remind, expires = expiry_times(approved, 10)
    assert expires - approved == timedelta(days=10) and expires - remind == timedelta(days=3)


def test_the_cheapest_rate_is_bought_and_none_is_an_error():
    rates = [{"id": "a", "rate": "8.15"}, {"id": "b", "rate": "5.93"}, {"id": "c", "rate": "x"}]
    assert cheapest_rate(rates)["id"] == "b"
    with pytest.raises(ValueError):
        cheapest_rate([])


def test_the_shipment_request_is_a_return_from_the_customer_to_the_warehouse():
    labels = parse_labels({"enabled": True, "from_address": WAREHOUSE})
    body = shipment_request(labels, {"name": "Bob", "city": "Louisville", "phone": None}, "ob1")
    shipment = body["shipment"]
    assert shipment["is_return"] is True and shipment["reference"] == "ob1"
    assert shipment["to_address"] == {"name": "Bob", "city": "Louisville"}
    assert shipment["from_address"] == WAREHOUSE


def test_portal_section_defaults_and_refusals():
    assert parse_portal({})["reasons"][0] == "wrong_size"
    assert parse_portal({"brand_color": "#AABBCC"})["brand_color"] == "#aabbcc"
    for body in ({"slug": "-bad"}, {"brand_name": ""}, {"reasons": []}, {"logo": "x"}):
        with pytest.raises(MalformedPayload, match="portal"):
            parse_portal(body)


def test_logistics_section_wraps_both_settings():
    parsed = parse_logistics({"approval_expiry_days": 14})
    assert parsed["approval_expiry_days"] == 14 and parsed["labels"]["enabled"] is False
    with pytest.raises(MalformedPayload, match="return_logistics"):
        parse_logistics({"approval_expiry_days": True})
