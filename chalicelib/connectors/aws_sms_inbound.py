"""AWS End User Messaging two-way SMS: the JSON an inbound message publishes to our SNS topic.

Payload spec: https://docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html
(`originationNumber`, `destinationNumber`, `messageKeyword`, `messageBody`,
`inboundMessageId`, `previousPublishedMessageId`). There is no signature to check: the topic
delivers to our Lambda through an IAM-authorized subscription, so only AWS can call it.
`parse` returns one `CustomerMessage` (sender in E.164), or `Ignored` when the sender is not
a phone number; it raises `MalformedPayload` for anything else.
"""

from __future__ import annotations

import json
from datetime import datetime

from chalicelib.errors import MalformedPayload
from chalicelib.events import CustomerMessage, Event, Ignored
from chalicelib.notify.phone import normalize_e164

__all__ = ["parse"]

_MAX_CHARS = 16 * 1024


def parse(message: str, received_at: datetime) -> list[Event]:
    """The event of one two-way SMS notification's `Message` string."""
    if not isinstance(message, str) or len(message) > _MAX_CHARS:
        raise MalformedPayload("two-way SMS message must be a JSON string of at most 16 KiB")
    try:
        payload = json.loads(message)
    except ValueError as exc:
        raise MalformedPayload(f"two-way SMS message is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload("two-way SMS message must be a JSON object")
    fields = {
        name: payload.get(name) for name in ("originationNumber", "messageBody", "inboundMessageId")
    }
    if (
        not all(isinstance(value, str) for value in fields.values())
        or not fields["inboundMessageId"]
    ):
        raise MalformedPayload("originationNumber, messageBody and inboundMessageId are required")
    sender = normalize_e164(fields["originationNumber"], None)
    if sender is None:
        return [Ignored(received_at, topic="sms", reason="sender is not a phone number")]
    return [
        CustomerMessage(
            received_at,
            channel="sms",
            sender=sender,
            body=fields["messageBody"],
            provider_message_id=fields["inboundMessageId"],
        )
    ]
