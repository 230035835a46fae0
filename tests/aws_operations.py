"""Records every AWS API call the app's code makes during a test run, as IAM actions + resources.

A botocore `before-parameter-build` handler (it sees the call's API parameters) is registered
on every client any botocore session creates (boto3's and PynamoDB's alike). A call counts as
the app's when the innermost project frame on the stack is in `app.py` or `chalicelib/`;
calls made by tests or the local stack (table creation, seeding SSM) are kept apart as
"setup". Each call becomes the IAM actions and
resource ARNs it needs, e.g. a `TransactWriteItems` becomes one `dynamodb:PutItem` /
`UpdateItem` / `DeleteItem` / `ConditionCheckItem` per item on its table (DynamoDB has no
`TransactWriteItems` IAM action). `tests/integration/test_least_privilege.py` checks them
against `.chalice/policy-prod.json`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = ["OperationRecorder", "Permission", "required_permissions", "REGION", "ACCOUNT"]

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "123456789012"
Permission = tuple[str, str]  # (IAM action, resource ARN or "*")
_APP_PATHS = (str(ROOT / "chalicelib") + "/", str(ROOT / "app.py"))
_VENV = str(ROOT / ".venv") + "/"
_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _table(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Permission]:
    if operation == "TransactWriteItems":
        return [
            (f"dynamodb:{_TRANSACT_WRITE[kind]}", _table(body["TableName"]))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", _table(item["Get"]["TableName"]))
            for item in params.get("TransactItems", [])
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", _table(name)) for name in params.get("RequestItems", {})]
    if "TableName" in params:
        return [(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]
    return [(f"dynamodb:{operation}", "*")]  # ListTables and other account-level calls


def _parameter(name: str) -> str:
    if name.startswith("arn:"):
        return name
    name = name.split(":", 1)[0]  # a version or label selector ("name:3") is the same parameter
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def _ses(params: dict[str, Any]) -> list[str]:
    """SES authorizes a send on the sending identity (address or domain) and configuration set."""
    from email.utils import parseaddr

    arn = f"arn:aws:ses:{REGION}:{ACCOUNT}"
    address = parseaddr(params.get("FromEmailAddress", ""))[1]
    resources = [f"{arn}:identity/{address.rpartition('@')[2] or '*'}"]
    if params.get("ConfigurationSetName"):
        resources.append(f"{arn}:configuration-set/{params['ConfigurationSetName']}")
    return resources


def _sms_voice(params: dict[str, Any]) -> list[str]:
    """End User Messaging authorizes a send on the origination identity and configuration set."""
    arn = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}"
    identity = params.get("OriginationIdentity", "")
    resources = []
    if identity.startswith("arn:"):
        resources.append(identity)
    elif identity.startswith("pool-"):
        resources.append(f"{arn}:pool/{identity}")
    elif identity:  # a phone number (id or E.164) or a sender id
        kind = "sender-id" if identity.isalnum() and not identity.isdigit() else "phone-number"
        resources.append(f"{arn}:{kind}/{identity}")
    if params.get("ConfigurationSetName"):
        resources.append(f"{arn}:configuration-set/{params['ConfigurationSetName']}")
    return resources or ["*"]


def required_permissions(prefix: str, operation: str, params: dict[str, Any]) -> list[Permission]:
    """The (IAM action, resource) pairs one API call needs."""
    if prefix == "dynamodb":
        return _dynamodb(operation, params)
    action = f"{prefix}:{operation}"
    if prefix == "ssm" and "Name" in params:
        return [(action, _parameter(params["Name"]))]
    if prefix == "ssm" and "Names" in params:
        return [(action, _parameter(name)) for name in params["Names"]]
    if prefix == "sns":
        # Publish to a phone number has no resource ARN: IAM can only grant it on "*".
        return [(action, params.get("TopicArn") or params.get("TargetArn") or "*")]
    if prefix == "sqs" and "QueueUrl" in params:
        name = urlparse(params["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]
        return [(action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")]
    if prefix == "ses" and operation == "SendEmail":
        return [(action, resource) for resource in _ses(params)]
    if prefix == "sms-voice" and operation == "SendTextMessage":
        return [(action, resource) for resource in _sms_voice(params)]
    return [(action, "*")]


def _caller() -> str:
    """ "app" when the innermost project frame calling botocore is the app's code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == __file__:
            pass
        elif filename.startswith(str(ROOT)) and not filename.startswith(_VENV):
            return "app" if filename.startswith(_APP_PATHS) else "setup"
        frame = frame.f_back
    return "setup"


class OperationRecorder:
    """Context manager: while active, every new botocore client reports its calls here;
    on exit the record is written to `path` as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls: dict[str, set[tuple[str, str]]] = {"app": set(), "setup": set()}
        self.permissions: set[Permission] = set()
        self._lock = threading.Lock()
        self._original: Any = None

    def _on_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        prefix = model.service_model.signing_name
        who = _caller()
        needed = required_permissions(prefix, model.name, params) if who == "app" else []
        with self._lock:
            self.calls[who].add((prefix, model.name))
            self.permissions.update(needed)

    def __enter__(self) -> OperationRecorder:
        import botocore.session

        original = self._original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", recorder._on_call)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        import botocore.session

        botocore.session.Session.create_client = self._original  # type: ignore[method-assign]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.as_json(), indent=2) + "\n")

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "app_operations": sorted(f"{p}:{o}" for p, o in self.calls["app"]),
                "setup_operations": sorted(f"{p}:{o}" for p, o in self.calls["setup"]),
                "app_permissions": sorted([a, r] for a, r in self.permissions),
            }

    def __iter__(self) -> Iterator[Permission]:
        with self._lock:
            return iter(sorted(self.permissions))
