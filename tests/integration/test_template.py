"""What the packaged prod template deploys, read from its JSON: a protected table, log retention,
a dead-letter queue, the alarms (wired to the metrics the code really emits), API throttling
and reserved concurrency, for every function Chalice packages; and `scripts/package.sh`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.metrics import Metrics
from tests.integration.test_least_privilege import allows, load_policy

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _package(stage: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [BIN / "chalice", "package", "--stage", stage, "--merge-template", "infra/resources.json"]
        + [str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return json.loads((out / "sam.json").read_text())


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict[str, Any]:
    return _package("prod", tmp_path_factory.mktemp("template-prod"))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def condition(template: dict[str, Any], name: str, **parameters: Any) -> bool:
    """Evaluate condition `name` with `parameters` (others at their defaults)."""
    values = {k: p.get("Default") for k, p in template.get("Parameters", {}).items()}
    values.update(parameters)

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return values[node["Ref"]]
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = (value(v) for v in node["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        if isinstance(node, dict) and "Condition" in node:
            return value(template["Conditions"][node["Condition"]])
        return node

    return bool(value(template["Conditions"][name]))


def schedule_seconds(function: dict[str, Any]) -> int | None:
    """The interval of a scheduled function (`rate(N unit)` or a `cron(0/N ...)` in minutes)."""
    for event in (function["Properties"].get("Events") or {}).values():
        if event["Type"] != "Schedule":
            continue
        expression = event["Properties"]["Schedule"]
        rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
        if rate:
            unit = {"m": 60, "h": 3600, "d": 86400}[rate.group(2)[0]]
            return int(rate.group(1)) * unit
        cron = re.fullmatch(r"cron\(0/(\d+) \* \* \* \? \*\)", expression)
        assert cron, f"teach schedule_seconds this schedule: {expression}"
        return int(cron.group(1)) * 60
    return None


def alarms_on(template: dict[str, Any], metric: str, **dimensions: Any) -> list[dict[str, Any]]:
    """Alarms whose (first) metric is `metric` with exactly `dimensions`."""
    found = []
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for spec in [props, *stats]:
            if spec.get("MetricName") != metric:
                continue
            dims = {d["Name"]: d["Value"] for d in spec.get("Dimensions", [])}
            if dims == dimensions:
                found.append(props)
    return found


def test_the_table_is_recoverable_encrypted_streamed_expiring_and_protected_on_prod(template):
    table = template["Resources"]["AftercareTable"]
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    protection = props["DeletionProtectionEnabled"]["Fn::If"]
    assert protection[1:] == [True, False]
    assert condition(template, protection[0]) is True  # the default Stage is prod
    assert condition(template, protection[0], Stage="dev") is False


def test_every_function_has_its_wiring_log_retention_and_alarms(template):
    assert set(functions(template)) >= {"APIHandler", "SendOutbox"}
    for name, function in functions(template).items():
        props = function["Properties"]
        variables = props["Environment"]["Variables"]
        assert variables["AFTERCARE_TABLE"] == {"Ref": "AftercareTable"}, name
        assert variables["AFTERCARE_STACK"] == {"Ref": "AWS::StackName"}, name
        assert variables["AFTERCARE_METRICS"] == "emf", name
        assert variables["AFTERCARE_SHOPIFY_API_SECRETS"] == {
            "Fn::Sub": "ssm:/aftercare/${Stage}/shopify/app-secrets"
        }, name
        log_group = template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Type"] == "AWS::Logs::LogGroup", name
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        for metric in ("Errors", "Throttles"):
            assert alarms_on(template, metric, FunctionName={"Ref": name}), (name, metric)
        assert "ReservedConcurrentExecutions" in props, name


def test_scheduled_functions_park_failures_in_the_dlq_and_alarm_when_they_stop(template):
    scheduled = {n: f for n, f in functions(template).items() if schedule_seconds(f)}
    assert "SendOutbox" in scheduled
    for name, function in scheduled.items():
        props = function["Properties"]
        invoke = props["EventInvokeConfig"]
        assert invoke["MaximumRetryAttempts"] == 0, name  # the next run comes anyway
        assert invoke["DestinationConfig"]["OnFailure"] == {
            "Type": "SQS",
            "Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        }
        assert props["ReservedConcurrentExecutions"]["Fn::If"][0] == "ReserveSchedules"
        [missed] = alarms_on(template, "Invocations", FunctionName={"Ref": name})
        assert missed["Period"] == schedule_seconds(function), name
        assert missed["EvaluationPeriods"] == 2
        assert (missed["ComparisonOperator"], missed["Threshold"]) == ("LessThanThreshold", 1)
        assert missed["TreatMissingData"] == "breaching"  # no invocation = no datapoint
    assert condition(template, "ReserveSchedules") is True
    assert condition(template, "ReserveSchedules", ScheduleReservedConcurrency=0) is False


def test_the_dead_letter_queue_is_encrypted_and_alarmed(template):
    queue = template["Resources"]["DeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    [depth] = alarms_on(
        template,
        "ApproximateNumberOfMessagesVisible",
        QueueName={"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]},
    )
    assert (depth["ComparisonOperator"], depth["Threshold"]) == ("GreaterThanThreshold", 0)


def test_dynamodb_throttling_and_api_server_errors_are_alarmed(template):
    table = {"TableName": {"Ref": "AftercareTable"}}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert alarms_on(template, metric, **table), metric
    assert alarms_on(template, "5XXError", ApiName="aftercare", Stage="api")


def test_business_alarms_read_metrics_the_code_emits(template):
    """Outbox parked as failed, 401 probing, SMS spend: the alarms' metric names and dimension
    sets are ones `chalicelib.metrics` really writes."""
    lines: list[str] = []
    metrics = Metrics("s", clock=lambda: datetime.now(UTC), sink=lines.append)
    metrics.sms("sns", "sent", 2)
    metrics.sms("sns", "failed")
    metrics.rejected("shopify", "bad_signature")
    emitted = set()
    for line in lines:
        directive = json.loads(line)["_aws"]["CloudWatchMetrics"][0]
        for metric in directive["Metrics"]:
            emitted |= {(metric["Name"], tuple(sorted(s))) for s in directive["Dimensions"]}
    stack = {"Ref": "AWS::StackName"}
    wanted = {
        ("SmsFailed", ("Stack",)): {},
        ("WebhooksRejected", ("Reason", "Stack")): {"Reason": "bad_signature"},
        ("SmsSegments", ("Stack",)): {},
    }
    for (metric, dimension_set), extra in wanted.items():
        assert (metric, dimension_set) in emitted
        [alarm] = alarms_on(template, metric, Stack=stack, **extra)
        assert alarm.get("Namespace", "Aftercare") == "Aftercare"
    [budget] = alarms_on(template, "SmsSegments", Stack=stack)
    [expression] = [m for m in budget["Metrics"] if "Expression" in m]
    assert expression["Expression"] == {"Fn::Sub": "segments * ${SmsSegmentPriceUsd}"}
    assert budget["Threshold"] == {"Ref": "SmsDailyBudgetUsd"}
    assert budget["Metrics"][0]["MetricStat"]["Period"] == 86400


def test_every_alarm_notifies_the_topic_whose_email_is_a_parameter(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["AlarmDescription"], name
    [subscription] = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert condition(template, subscription["Condition"], AlarmEmail="ops@example.com") is True
    assert condition(template, subscription["Condition"]) is False


def test_api_gateway_throttles_every_route(template):
    [settings] = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


def test_the_policy_covers_the_names_the_template_gives(template):
    """The functions' policy patterns match what the template creates, for any stack name."""
    policy = load_policy("prod")
    names = {
        "dynamodb:GetItem": "arn:aws:dynamodb:eu-west-1:111122223333:table/aftercare-shop-prod",
        "ssm:GetParameter": "arn:aws:ssm:eu-west-1:111122223333:parameter/aftercare/prod/"
        "shopify/app-secrets",
        "sqs:SendMessage": "arn:aws:sqs:eu-west-1:111122223333:aftercare-shop-prod-dlq",
        "dynamodb:GetRecords": "arn:aws:dynamodb:eu-west-1:111122223333:table/aftercare-shop-prod"
        "/stream/2026-11-23T15:00:00.000",
        "logs:PutLogEvents": "arn:aws:logs:eu-west-1:111122223333:log-group:"
        "/aws/lambda/aftercare-shop-prod-SendOutbox:log-stream:2026/11/23/[$LATEST]abc",
    }
    for action, arn in names.items():
        assert allows(policy, action, arn), (action, arn)
    resources_ = template["Resources"]
    assert resources_["AftercareTable"]["Properties"]["TableName"] == {
        "Fn::Sub": "aftercare-${AWS::StackName}"
    }
    assert resources_["DeadLetterQueue"]["Properties"]["QueueName"] == {
        "Fn::Sub": "aftercare-${AWS::StackName}-dlq"
    }
    for name in functions(template):
        group = resources_[f"{name}LogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert group.startswith("/aws/lambda/aftercare-${AWS::StackName}-"), name


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_package_script_sets_the_stage_and_lints(stage, tmp_path):
    out = tmp_path / stage
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "package.sh"), stage, str(out)],
        cwd=ROOT,
        env={**os.environ, "AFTERCARE_VENV": str(BIN.parent)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    packaged = json.loads((out / "sam.json").read_text())
    assert packaged["Parameters"]["Stage"]["Default"] == stage
    assert condition(packaged, "IsProd") is (stage == "prod")
    assert (out / "deployment.zip").exists()


def test_the_outbox_stream_consumer_retries_bounded_parks_in_the_dlq_and_is_filtered(template):
    """New outbox items are sent by a DynamoDB stream consumer (the schedule stays as the
    sweep): bisect on error, bounded retries and record age, failures to the DLQ, and a
    filter so only outbox INSERTs invoke (and bill) the function."""
    from chalicelib.notify.stream_consumer import STREAM_FILTER

    consumers = {
        name: event["Properties"]
        for name, function in functions(template).items()
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == "DynamoDB"
    }
    assert set(consumers) == {"SendOutboxStream"}
    mapping = consumers["SendOutboxStream"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["AftercareTable", "StreamArn"]}
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 5
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 3600  # the sweep sends older ones
    assert mapping["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    }
    [only] = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == STREAM_FILTER
    assert mapping["ParallelizationFactor"] == {"Ref": "OutboxStreamParallelization"}
    function = functions(template)["SendOutboxStream"]["Properties"]
    assert function["ReservedConcurrentExecutions"]["Fn::If"][0] == "ReserveOutboxStream"
    assert condition(template, "ReserveOutboxStream") is False  # unreserved by default
    [behind] = alarms_on(template, "IteratorAge", FunctionName={"Ref": "SendOutboxStream"})
    assert behind["Statistic"] == "Maximum" and behind["Threshold"] == 300_000
    # The schedule stays: it is the sweep for deferred items and anything the stream missed.
    assert schedule_seconds(functions(template)["SendOutbox"]) == 60
