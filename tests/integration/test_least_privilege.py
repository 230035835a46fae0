"""Least privilege, proven: the functions' IAM policy allows every AWS call the integration
suite's app code made, and nothing else.

`tests/aws_operations.py` records each call the app's code makes during the run (a botocore
hook on every client, session-wide fixture in `tests/conftest.py`) as the IAM actions and
resource ARNs it needs; this module runs last (a collection hook in `tests/conftest.py`) and
checks both stages' policy files against that record:

- every recorded (action, resource) is allowed by an Allow statement;
- every allowed action was used by the suite, except the few the AWS platform performs with
  the role on the functions' behalf (`PLATFORM_ACTIONS`);
- no action wildcards, and every resource is scoped to the stack's table and indexes, its
  SSM parameters, its dead-letter queue, its log groups or its messaging identities, except
  `sns:Publish`, which IAM can only grant on "*" when the target is a phone number.

The evaluator supports what the policy files use (Allow statements with Action and Resource
lists and IAM `*`/`?` wildcards); `test_policy_stays_within_what_the_check_understands` keeps
it that way. The record is also written to `test-artifacts/aws-operations.json`.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.aws_operations import Permission, required_permissions

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")

# Used by the AWS platform with the functions' role, so never seen by a botocore hook.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream": "Lambda opens the function's log stream in its log group",
    "logs:PutLogEvents": "Lambda writes the function's logs (and the EMF metric lines)",
    "sqs:SendMessage": "Lambda parks a failed scheduled run or stream batch in the DLQ",
    # The outbox stream consumer's event source mapping reads the table's stream with the role.
    "dynamodb:DescribeStream": "Lambda's stream poller finds the outbox stream's shards",
    "dynamodb:GetRecords": "Lambda's stream poller reads the outbox stream's records",
    "dynamodb:GetShardIterator": "Lambda's stream poller positions itself in each shard",
    "dynamodb:ListStreams": "Lambda's stream poller lists the table's streams",
}
STREAM_ACTIONS = {action for action in PLATFORM_ACTIONS if action.startswith("dynamodb:")}
# The only resources a statement may name. "*" is allowed for sns:Publish alone.
SCOPED_RESOURCES = (
    "arn:aws:dynamodb:*:*:table/aftercare-*",
    "arn:aws:dynamodb:*:*:table/aftercare-*/index/*",
    "arn:aws:dynamodb:*:*:table/aftercare-*/stream/*",
    "arn:aws:ssm:*:*:parameter/aftercare/*",
    "arn:aws:sqs:*:*:aftercare-*-dlq",
    "arn:aws:logs:*:*:log-group:/aws/lambda/aftercare-*:*",
    "arn:aws:sms-voice:*:*:phone-number/*",
    "arn:aws:sms-voice:*:*:pool/*",
    "arn:aws:sms-voice:*:*:sender-id/*",
    "arn:aws:sms-voice:*:*:configuration-set/*",
    "arn:aws:ses:*:*:identity/*",
    "arn:aws:ses:*:*:configuration-set/*",
)
STAR_RESOURCE_ACTIONS = {"sns:Publish": "SMS to a phone number has no ARN; IAM needs '*'"}


def load_policy(stage: str) -> dict[str, Any]:
    return json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether an Allow statement of `policy` grants `action` on `resource`."""
    for statement in policy["Statement"]:
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        if any(_wildcard(a, True).match(action) for a in actions) and any(
            _wildcard(r, False).match(resource) for r in resources
        ):
            return True
    return False


def denied(policy: dict[str, Any], permissions: set[Permission]) -> list[Permission]:
    """The recorded (action, resource) pairs `policy` does not allow."""
    return sorted(p for p in permissions if not allows(policy, *p))


def unused(policy: dict[str, Any], permissions: set[Permission]) -> list[str]:
    """Actions `policy` allows that no recorded call needed (platform actions excepted)."""
    used = {action.lower() for action, _ in permissions}
    return sorted(
        action
        for statement in policy["Statement"]
        for action in _as_list(statement["Action"])
        if action.lower() not in used and action not in PLATFORM_ACTIONS
    )


def too_wide(policy: dict[str, Any]) -> list[str]:
    """Wildcard actions and resources outside the stack's scope, one message each."""
    problems = []
    for statement in policy["Statement"]:
        actions = _as_list(statement["Action"])
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"{statement.get('Sid')}: wildcard action {action}")
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                wide = [a for a in actions if a not in STAR_RESOURCE_ACTIONS]
                if wide:
                    problems.append(f"{statement.get('Sid')}: {wide} on '*'")
            elif resource not in SCOPED_RESOURCES:
                problems.append(f"{statement.get('Sid')}: unscoped resource {resource}")
    return problems


def _ran_whole_integration_suite(session: pytest.Session) -> bool:
    collected = {item.path for item in session.items}
    return set((ROOT / "tests" / "integration").glob("test_*.py")) <= collected


@pytest.fixture(scope="module")
def recorded(aws_operations, request) -> set[Permission]:
    """What the app's code needed in this run (this module runs after every other test)."""
    permissions = set(aws_operations)
    if _ran_whole_integration_suite(request.session):
        assert any(action.startswith("dynamodb:") for action, _ in permissions), (
            "the recorder saw no DynamoDB call from the app: is the botocore hook installed?"
        )
    return permissions


@pytest.mark.parametrize("stage", STAGES)
def test_every_call_the_suite_made_is_allowed(stage, recorded):
    assert denied(load_policy(stage), recorded) == []


@pytest.mark.parametrize("stage", STAGES)
def test_the_policy_allows_nothing_the_suite_never_used(stage, recorded, request):
    if not _ran_whole_integration_suite(request.session):
        pytest.skip("needs the whole integration suite in this run (it records what is used)")
    assert unused(load_policy(stage), recorded) == []


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_actions_and_every_resource_scoped(stage):
    assert too_wide(load_policy(stage)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_policy_stays_within_what_the_check_understands(stage):
    policy = load_policy(stage)
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
        assert statement["Effect"] == "Allow"


# --- the check itself fails when it should -----------------------------------------------

# One webhook's worth of calls, independent of what ran: a read round, the transaction, a
# due-index query, an SMS.
SAMPLE = {
    *required_permissions("dynamodb", "BatchGetItem", {"RequestItems": {"aftercare-x": {}}}),
    *required_permissions(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "aftercare-x"}},
                {"Update": {"TableName": "aftercare-x"}},
            ]
        },
    ),
    *required_permissions("dynamodb", "Query", {"TableName": "aftercare-x", "IndexName": "due"}),
    *required_permissions("sns", "Publish", {"PhoneNumber": "+15555550100", "Message": "hi"}),
}


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(policy)
    for statement in trimmed["Statement"]:
        statement["Action"] = [a for a in _as_list(statement["Action"]) if a != action]
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    return trimmed


def test_removing_a_used_action_from_the_policy_fails_the_check(recorded):
    policy = load_policy("prod")
    assert denied(policy, SAMPLE) == []
    assert denied(_without(policy, "dynamodb:UpdateItem"), SAMPLE) == [
        ("dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/aftercare-x")
    ]
    # ...and so does removing any action the run used.
    for action in sorted({action for action, _ in recorded}):
        assert denied(_without(policy, action), recorded), action


def test_an_unused_action_or_a_wider_resource_fails_the_check():
    widened = load_policy("prod")
    widened["Statement"][0]["Action"].append("dynamodb:Scan")
    assert "dynamodb:Scan" in unused(widened, SAMPLE)
    widened["Statement"][0]["Resource"] = "*"
    widened["Statement"].append(
        {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    problems = too_wide(widened)
    assert problems[0].startswith("Table: ['dynamodb:GetItem'") and problems[0].endswith("on '*'")
    assert problems[1:] == ["All: wildcard action s3:*", "All: ['s3:*'] on '*'"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_stream_consumer_may_read_exactly_the_stacks_table_stream(stage):
    policy = load_policy(stage)
    stream = f"{_table_arn('aftercare-prod-x')}/stream/2026-11-23T15:00:00.000"
    assert all(allows(policy, action, stream) for action in STREAM_ACTIONS)
    [statement] = [s for s in policy["Statement"] if set(_as_list(s["Action"])) & STREAM_ACTIONS]
    assert set(_as_list(statement["Action"])) == STREAM_ACTIONS  # the stream read, nothing else
    assert _as_list(statement["Resource"]) == ["arn:aws:dynamodb:*:*:table/aftercare-*/stream/*"]
    other = f"{_table_arn('billing')}/stream/2026-11-23T15:00:00.000"
    assert not any(allows(policy, action, other) for action in STREAM_ACTIONS)
    assert not allows(policy, "dynamodb:GetRecords", _table_arn("aftercare-prod-x"))
    assert denied(_without(policy, "dynamodb:GetRecords"), {("dynamodb:GetRecords", stream)})


def _table_arn(name: str) -> str:
    return required_permissions("dynamodb", "GetItem", {"TableName": name})[0][1]


def test_a_table_outside_the_stack_is_denied():
    other = required_permissions("dynamodb", "GetItem", {"TableName": "billing"})
    assert denied(load_policy("prod"), set(other)) == other
