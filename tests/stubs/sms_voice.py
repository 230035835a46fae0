"""A stub of AWS End User Messaging SMS (`pinpoint-sms-voice-v2`) speaking its JSON 1.0 protocol.

Only `SendTextMessage` (https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/
API_SendTextMessage.html): POST / with `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`, a
SigV4-signed JSON body; answers `{"MessageId": ...}` or an error body `{"__type", "message"}`
the way botocore parses them. It checks what the service checks that our client could get
wrong (target, signature present, E.164 destination, message type, body length) and records
each accepted message in `sent`.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.stubs.base import Reply, StubServer

__all__ = ["SmsVoiceStub", "aws_error"]

TARGET = "PinpointSMSVoiceV2.SendTextMessage"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def aws_error(code: str, message: str = "", **fields: Any) -> dict[str, Any]:
    """A JSON-protocol error body: `__type` names the modeled exception."""
    return {"__type": code, "message": message or code, **fields}


class SmsVoiceStub(StubServer):
    """Accepts `SendTextMessage`; `sent` lists the accepted requests' JSON bodies."""

    content_headers = {"Content-Type": "application/x-amz-json-1.0"}

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []
        self.opted_out: set[str] = set()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("x-amz-target") != TARGET:
            return Reply(400, aws_error("UnknownOperationException", "unknown target"))
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return Reply(403, aws_error("AccessDeniedException", "request is not signed"))
        try:
            request = json.loads(body)
        except ValueError:
            return Reply(400, aws_error("SerializationException", "body is not JSON"))
        destination = request.get("DestinationPhoneNumber", "")
        if not _E164.match(destination):
            return Reply(
                400,
                aws_error(
                    "ValidationException", "invalid destination", Reason="FIELD_VALIDATION_FAILED"
                ),
            )
        if request.get("MessageType") not in (None, "TRANSACTIONAL", "PROMOTIONAL"):
            return Reply(400, aws_error("ValidationException", "invalid MessageType"))
        if not 1 <= len(request.get("MessageBody", "")) <= 1600:
            return Reply(400, aws_error("ValidationException", "invalid MessageBody"))
        if destination in self.opted_out:
            return Reply(
                400,
                aws_error(
                    "ConflictException",
                    "destination opted out",
                    Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT",
                    ResourceType="opt-out-list",
                    ResourceId="Default",
                ),
            )
        self.sent.append(request)
        return Reply(200, {"MessageId": str(uuid.uuid4())})
