"""EMF metric lines: each is a valid Embedded Metric Format document CloudWatch will extract,
with the Stack roll-up the alarms read, bounded dimensions and no failure path of its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.config import load_settings
from chalicelib.errors import BadSignature, MalformedPayload, ProviderError
from chalicelib.metrics import NAMESPACE, Metrics, build, count_rejections

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
UNITS = {"Seconds", "Milliseconds", "Count", "Bytes", "Percent", "None", "Count/Second"}


def emf(line: str) -> dict[str, Any]:
    """Parse one line and check it against the EMF specification's rules; returns it."""
    document = json.loads(line)
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int)
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == NAMESPACE
        for dimension_set in directive["Dimensions"]:
            assert 1 <= len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(document[name], str) and document[name], name
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert isinstance(document[metric["Name"]], int | float), metric
            assert metric["Unit"] in UNITS
    return document


def metric_values(document: dict[str, Any]) -> dict[str, float]:
    names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {name: document[name] for name in names}


@pytest.fixture()
def lines() -> list[str]:
    return []


@pytest.fixture()
def metrics(lines) -> Metrics:
    return Metrics("aftercare-prod", clock=lambda: NOW, sink=lines.append)


def test_webhook_events_by_outcome_with_the_stack_roll_up(metrics, lines):
    metrics.events("easypost", ["applied", "duplicate", "ignored", "stale"], "shp-demo")
    [document] = [emf(line) for line in lines]
    assert metric_values(document) == {"EventsAccepted": 3, "EventsDuplicate": 1}
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Stack"],
        ["Stack", "Source"],
    ]
    assert document["Stack"] == "aftercare-prod" and document["Source"] == "easypost"
    assert document["merchant_id"] == "shp-demo"  # a property: searchable, not billed
    assert document["_aws"]["Timestamp"] == int(NOW.timestamp() * 1000)


def test_a_rejection_is_counted_by_route_and_reason_and_the_partner_is_only_a_property(
    metrics, lines
):
    metrics.rejected("carriers", "bad_signature", partner="x" * 500)
    document = emf(lines[0])
    assert metric_values(document) == {"WebhooksRejected": 1}
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Stack"],
        ["Stack", "Route"],
        ["Stack", "Reason"],
    ]
    assert document["Reason"] == "bad_signature"
    assert document["partner"] == "x" * 64  # unverified input: truncated, never a dimension


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("sent", {"SmsSent": 1, "SmsSegments": 3}),
        ("failed", {"SmsFailed": 1}),
        ("skipped", {"SmsSkipped": 1}),
        ("retry", {"SmsRetried": 1}),
    ],
)
def test_sms_results_by_provider(metrics, lines, result, expected):
    metrics.sms("twilio", result, segments=3)
    document = emf(lines[0])
    assert metric_values(document) == expected
    assert document["Provider"] == "twilio"


def test_deferrals_and_lost_claims_are_not_sms_results(metrics, lines):
    for result in ("deferred", "rate_limited", "busy", "other_channel"):
        metrics.sms("sns", result)
    assert lines == []


def test_decisions_escalations_and_refund_latency(metrics, lines):
    metrics.auto_approval("approved")
    metrics.escalation(2)
    metrics.refund_latency(86400.12345)
    approval, escalation, latency = (emf(line) for line in lines)
    assert (approval["Decision"], metric_values(approval)) == (
        "approved",
        {"AutoApprovalDecisions": 1},
    )
    assert (escalation["Level"], metric_values(escalation)) == ("2", {"Escalations": 1})
    assert metric_values(latency) == {"RefundLatency": 86400.123}
    assert latency["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "RefundLatency", "Unit": "Seconds"}
    ]
    assert latency["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stack"]]


def test_an_empty_dimension_value_becomes_none(metrics, lines):
    metrics.sms("", "failed")
    assert emf(lines[0])["Provider"] == "none"


def test_disabled_writes_nothing_and_a_broken_sink_raises_nothing(lines):
    Metrics("s", clock=lambda: NOW, enabled=False, sink=lines.append).events("shopify", ["applied"])
    assert lines == []

    def broken(line: str) -> None:
        raise OSError("stdout closed")

    Metrics("s", clock=lambda: NOW, sink=broken).events("shopify", ["applied"])


def test_on_only_with_aftercare_metrics_emf():
    assert build(load_settings({}), lambda: NOW).enabled is False
    on = build(load_settings({"AFTERCARE_METRICS": "emf", "AFTERCARE_STACK": "st"}), lambda: NOW)
    assert on.enabled is True and on.stack == "st"


def test_count_rejections_counts_4xx_errors_and_reraises(metrics, lines):
    deps = SimpleNamespace(metrics=metrics)

    @count_rejections(route_arg="family")
    def receive(deps: Any, family: str, partner: str, body: bytes) -> None:
        raise BadSignature("does not match")

    @count_rejections("shopify")
    def receive_shopify(deps: Any, body: bytes) -> str:
        if body:
            raise MalformedPayload("bad json")
        return "ok"

    @count_rejections("bigcommerce")
    def receive_bigcommerce(deps: Any) -> None:
        raise ProviderError("the order could not be fetched")  # 502: ours, not a refusal

    with pytest.raises(ProviderError):
        receive_bigcommerce(deps)
    with pytest.raises(BadSignature):
        receive(deps, "carriers", partner="easypost", body=b"{}")
    with pytest.raises(MalformedPayload):
        receive_shopify(deps, b"{")
    assert receive_shopify(deps, b"") == "ok"
    first, second = (emf(line) for line in lines)
    assert (first["Route"], first["Reason"], first["partner"]) == (
        "carriers",
        "bad_signature",
        "easypost",
    )
    assert (second["Route"], second["Reason"]) == ("shopify", "malformed_payload")
    assert "partner" not in second
