"""A stub of Twilio's REST `Messages` resource (create only), speaking Twilio's wire format.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic auth
(https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
Answers 201 with the message JSON (`sid` "SM..."), or Twilio's error JSON
`{"code", "message", "more_info", "status"}`: 20003 for bad credentials, 21211 for an invalid
`To`, 21610 for a number in `opted_out`. Accepted messages are recorded in `sent`.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any
from urllib.parse import parse_qs

from tests.stubs.base import Reply, StubServer

__all__ = ["TwilioApiStub", "twilio_error"]

FAKE_ACCOUNT_SID = "AC" + "0" * 30 + "01"
FAKE_AUTH_TOKEN = "twilio_fake_auth_token_do_not_use"
_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioApiStub(StubServer):
    """Accepts message creation for one fake account; `sent` lists accepted form fields."""

    def __init__(self, account_sid: str = FAKE_ACCOUNT_SID, auth_token: str = FAKE_AUTH_TOKEN):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[dict[str, str]] = []
        self.opted_out: set[str] = set()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        match = _PATH.match(path)
        if not match:
            return Reply(404, twilio_error(20404, "The requested resource was not found", 404))
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (
            match.group(1) != self.account_sid
            or headers.get("authorization") != f"Basic {expected}"
        ):
            return Reply(401, twilio_error(20003, "Authenticate", 401))
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        to = form.get("To", "")
        if not _E164.match(to):
            return Reply(
                400, twilio_error(21211, f"The 'To' number {to} is not a valid phone number.")
            )
        if to in self.opted_out:
            return Reply(400, twilio_error(21610, "Attempt to send to unsubscribed recipient"))
        if not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
            return Reply(400, twilio_error(21602, "Message body is required."))
        self.sent.append(form)
        sid = "SM" + uuid.uuid4().hex
        return Reply(
            201,
            {"sid": sid, "status": "queued", "to": to, "body": form["Body"], "error_code": None},
        )
