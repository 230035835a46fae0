"""The metric lines a real scenario prints (CloudWatch Embedded Metric Format), over HTTP against
DynamoDB Local and moto server: accepted, duplicate and refused webhooks, and a sent SMS with
its segments, each under the Stack dimension the template's alarms read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_slice import post_easypost, ship_order, tracker_body
from tests.unit.test_metrics import emf, metric_values

STACK = "aftercare-test-stack"


@pytest.fixture()
def emitted(monkeypatch, capsys):
    """Turns EMF on for the app; returns a function giving the metric documents printed so far."""
    monkeypatch.setenv("AFTERCARE_METRICS", "emf")
    monkeypatch.setenv("AFTERCARE_STACK", STACK)

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [emf(line) for line in out.splitlines() if line.startswith('{"') and "_aws" in line]

    return read


def test_a_scenario_emits_events_rejections_and_sms_metrics(client, merchant, emitted):
    from chalicelib.deps import deps
    from chalicelib.notify.sender import deliver_due

    ship_order(client, merchant, tracking="1ZOBSERVE0001", order_id=777001)
    body = tracker_body("1ZOBSERVE0001", "out_for_delivery", "evt_obs_1", "2026-11-23T14:00:00Z")
    assert post_easypost(client, merchant.merchant_id, body).status_code == 200
    assert post_easypost(client, merchant.merchant_id, body).status_code == 200  # duplicate
    refused = post_easypost(client, merchant.merchant_id, body, {"X-Hmac-Signature": "hmac=00"})
    assert refused.status_code == 401
    deliver_due(deps(), FIXED_NOW)

    documents = emitted()
    assert {doc["Stack"] for doc in documents} == {STACK}
    events = [doc for doc in documents if "EventsAccepted" in doc]
    by_source = [(doc["Source"], metric_values(doc)) for doc in events]
    assert ("shopify", {"EventsAccepted": 1, "EventsDuplicate": 0}) in by_source
    assert by_source[-2:] == [
        ("easypost", {"EventsAccepted": 1, "EventsDuplicate": 0}),
        ("easypost", {"EventsAccepted": 0, "EventsDuplicate": 1}),
    ]
    [rejected] = [doc for doc in documents if "WebhooksRejected" in doc]
    assert (rejected["Route"], rejected["Reason"], rejected["partner"]) == (
        "carriers",
        "bad_signature",
        "easypost",
    )
    sent = [
        doc for doc in documents if "SmsSent" in doc and doc["merchant_id"] == merchant.merchant_id
    ]
    assert len(sent) == 2  # "shipped" and "out for delivery"
    assert all(doc["Provider"] == "sns" and doc["SmsSegments"] >= 1 for doc in sent)
    assert not any(key in json.dumps(documents) for key in ("+1415", "415-555", "@example"))
