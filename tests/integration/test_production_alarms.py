"""The outbox-age alarm in the packaged prod template reads the metric the outbox sender really
emits (same name, same dimension set), and fires on a backlog, not on a quiet day."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.metrics import Metrics
from tests.conftest import FIXED_NOW
from tests.integration.test_template import alarms_on, template  # noqa: F401 (fixture)


def test_the_outbox_age_alarm_reads_the_senders_backlog_metric(template):  # noqa: F811
    lines: list[str] = []
    Metrics("s", clock=lambda: FIXED_NOW, sink=lines.append).outbox_backlog(1200.0, 3)
    directive = json.loads(lines[0])["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["Stack"]]
    assert {"Name": "OutboxOldestDueAge", "Unit": "Seconds"} in directive["Metrics"]

    [alarm] = alarms_on(template, "OutboxOldestDueAge", Stack={"Ref": "AWS::StackName"})
    assert alarm["Namespace"] == "Aftercare"
    assert alarm["Statistic"] == "Maximum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 900  # 15 minutes past due
    assert alarm["Period"] * alarm["EvaluationPeriods"] >= 900  # sustained, not one slow run
    # A sender that stopped emits nothing: SendOutboxMissedAlarm covers that, not this one.
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_business_alarm_metric_is_one_the_code_can_emit(template):  # noqa: F811
    """Each alarm on namespace Aftercare names a metric some `Metrics` method writes."""
    lines: list[str] = []
    metrics = Metrics("s", clock=lambda: FIXED_NOW, sink=lines.append)
    metrics.events("shopify", ["applied", "duplicate"])
    metrics.rejected("shopify", "bad_signature")
    for result in ("sent", "failed", "skipped", "retry"):
        metrics.sms("sns", result, 1)
    metrics.auto_approval("approved")
    metrics.escalation(1)
    metrics.refund_latency(60.0)
    metrics.outbox_backlog(0.0, 0)
    emitted = {
        metric["Name"]
        for line in lines
        for metric in json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    alarmed: set[str] = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props: dict[str, Any] = resource["Properties"]
        specs = [props] + [
            m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m
        ]
        alarmed |= {spec["MetricName"] for spec in specs if spec.get("Namespace") == "Aftercare"}
    assert alarmed and alarmed <= emitted, alarmed - emitted
