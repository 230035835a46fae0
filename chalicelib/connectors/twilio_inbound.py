"""Twilio SMS webhooks: inbound messages and status callbacks, verified by `X-Twilio-Signature`.

Signing spec: https://www.twilio.com/docs/usage/webhooks/webhooks-security - the signature is
base64(HMAC-SHA1(auth token, full URL + every POST parameter name followed by its value,
parameters sorted by name)). The URL is the one Twilio requested, query string included; as
Twilio's own libraries do, it is also tried with the default port added or removed. Every
configured auth token is tried (rotation), each compared in constant time. Only form-encoded
bodies are accepted (what Programmable Messaging sends).

`parse` runs after `verify`: a status callback (`MessageStatus`) becomes an
`SmsStatusReport`, an inbound message (`Body`, status "received") a `CustomerMessage` whose
sender is the E.164 `From`; a sender that is not a phone number is `Ignored`. No Twilio
field name passes this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from chalicelib.connectors.base import matches_any, require_header
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import CustomerMessage, Event, Ignored
from chalicelib.notify.phone import normalize_e164
from chalicelib.notify.receipts import SmsStatusReport

__all__ = ["SIGNATURE_HEADER", "parse_form", "signature", "verify", "parse", "OPTED_OUT_CODES"]

SIGNATURE_HEADER = "X-Twilio-Signature"
OPTED_OUT_CODES = frozenset({"21610"})
MAX_FIELDS = 100
# Twilio message statuses -> ours (https://www.twilio.com/docs/messaging/api/message-resource)
_STATUSES = {
    "accepted": "accepted",
    "scheduled": "accepted",
    "queued": "accepted",
    "sending": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}

Params = Sequence[tuple[str, str]]


def parse_form(raw_body: bytes) -> list[tuple[str, str]]:
    """The form's (name, value) pairs in order; raises `BadSignature` for a body Twilio
    cannot have signed (not UTF-8, or more than `MAX_FIELDS` fields)."""
    try:
        return parse_qsl(
            raw_body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadSignature("body is not a form-encoded Twilio request") from exc


def _digest(auth_token: str, url: str, params: Params) -> bytes:
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    data = url + "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    )
    return hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()


def signature(auth_token: str, url: str, params: Params | Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio sends for a POST of `params` to `url`."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    return base64.b64encode(_digest(auth_token, url, pairs)).decode()


def _url_variants(url: str) -> list[str]:
    """`url` as given, and with its scheme's default port removed or added."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    if parts.port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    return [url, urlunsplit(other)]


def verify(headers: Mapping[str, str], url: str, params: Params, secrets: Iterable[str]) -> None:
    """Check `X-Twilio-Signature` for a POST of `params` to `url` under any auth token.

    Raises `BadSignature` when the header is missing, not base64, no token is configured, or
    no token signs this URL and these parameters.
    """
    given_text = require_header(headers, SIGNATURE_HEADER)
    try:
        given = base64.b64decode(given_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature(f"{SIGNATURE_HEADER} is not base64") from exc
    tokens = [token for token in secrets if token]
    if not tokens:
        raise BadSignature("no Twilio auth token is configured")
    expected = [
        _digest(token, variant, params) for token in tokens for variant in _url_variants(url)
    ]
    if not matches_any(expected, given):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match this URL and body")


def parse(params: Params, received_at: datetime) -> list[Event]:
    """The events of a verified Twilio messaging webhook; raises `MalformedPayload`."""
    fields = dict(params)
    message_sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    if not message_sid:
        raise MalformedPayload("MessageSid is missing")
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    if status and status != "received" and "Body" not in fields:
        if status not in _STATUSES:
            return [Ignored(received_at, topic=f"sms_status:{status}", reason="unknown status")]
        code = fields.get("ErrorCode", "")
        return [
            SmsStatusReport(
                received_at,
                provider="twilio",
                message_id=message_sid,
                status=_STATUSES[status],
                error_code=code,
                error_message=fields.get("ErrorMessage", ""),
                opted_out=code in OPTED_OUT_CODES,
            )
        ]
    if "From" not in fields or "Body" not in fields:
        raise MalformedPayload("an inbound message needs From and Body")
    sender = normalize_e164(fields["From"], None)
    if sender is None:
        return [Ignored(received_at, topic="sms", reason="sender is not a phone number")]
    return [
        CustomerMessage(
            received_at,
            channel="sms",
            sender=sender,
            body=fields["Body"],
            provider_message_id=message_sid,
        )
    ]
