"""The pipeline of SMS provider webhooks: verify, parse, then receipts to the outbox and replies
to the customer whose number sent them.

`POST /webhooks/sms/{provider}` carries both delivery status callbacks and customer replies.
The SMS number is the platform's, not a merchant's, so the request is verified with the
platform's provider credentials; a reply's merchant and customer come from the phone pointer
(`PHONE#{e164}`: the merchant that texted the number last wins). Unknown numbers and
messages we did not send are accepted and ignored (a provider must not retry them).

Providers: Twilio over HTTP (`receive_sms`). AWS End User Messaging two-way SMS arrive
through an SNS topic instead: `receive_aws_sms` takes one notification's message (wiring in
docs/messaging.md). Both produce the same events and share `handle_events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalicelib.connectors.base import require_header
from chalicelib.errors import BadSignature, NotFound, PayloadTooLarge
from chalicelib.events import CustomerMessage, Event, Ignored
from chalicelib.handlers import dispatch
from chalicelib.handlers.common import Delivery, Outcome
from chalicelib.handlers.messages import SmsReply, choose_owner
from chalicelib.log import bind_context, get_logger
from chalicelib.notify.receipts import SmsStatusReport, apply_status_report
from chalicelib.store import keys
from chalicelib.store.models import PhonePointerItem

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = ["receive_sms", "receive_aws_sms", "handle_events", "PROVIDERS", "TWIML_EMPTY"]

log = get_logger(__name__)
PROVIDERS = ("twilio",)
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def receive_sms(
    deps: Deps,
    provider: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A provider's SMS webhook.

    Raises `PayloadTooLarge`, `NotFound` (unknown provider), `BadSignature` (before anything
    is parsed) or `MalformedPayload`.
    """
    from chalicelib.connectors import twilio_inbound
    from chalicelib.notify import twilio

    if len(raw_body) > deps.settings.max_body_bytes:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes exceeds the limit")
    if provider not in PROVIDERS:
        raise NotFound(f"unknown SMS provider '{provider}'; known: {', '.join(PROVIDERS)}")
    with bind_context(source=f"sms:{provider}"):
        try:  # SecretUnavailable propagates: a 500 makes the provider retry later
            tokens = twilio.auth_tokens(deps.settings, deps.secrets)
        except ValueError as exc:
            raise BadSignature("Twilio is not configured, so nothing can be verified") from exc
        url = twilio.status_callback_url(deps.settings)
        if query:
            url += "?" + urlencode(query)
        require_header(headers, twilio_inbound.SIGNATURE_HEADER)
        params = twilio_inbound.parse_form(raw_body)
        twilio_inbound.verify(headers, url, params, tokens)
        return handle_events(deps, provider, twilio_inbound.parse(params, deps.now()))


def receive_aws_sms(deps: Deps, sns_message: str) -> dict[str, Any]:
    """One AWS End User Messaging two-way SMS (the SNS notification's `Message`).

    Raises `MalformedPayload`.
    """
    from chalicelib.connectors import aws_sms_inbound

    with bind_context(source="sms:pinpoint"):
        return handle_events(deps, "pinpoint", aws_sms_inbound.parse(sns_message, deps.now()))


def handle_events(deps: Deps, provider: str, events: list[Event]) -> dict[str, Any]:
    """Apply verified SMS events: status reports to the outbox, replies to their customer."""
    results = []
    for event in events:
        if isinstance(event, SmsStatusReport):
            outcome = Outcome(apply_status_report(deps.store, event, deps.now()))
        elif isinstance(event, CustomerMessage):
            outcome = _reply(deps, provider, event)
        else:
            reason = event.reason if isinstance(event, Ignored) else "not an SMS event"
            outcome = Outcome("ignored", reason)
        results.append(
            {"type": type(event).__name__, "outcome": outcome.status, "detail": outcome.detail}
        )
    log.info("sms webhook processed", extra={"outcomes": [r["outcome"] for r in results]})
    statuses = {result["outcome"] for result in results}
    return {"status": "duplicate" if statuses == {"duplicate"} else "accepted", "events": results}


def _reply(deps: Deps, provider: str, message: CustomerMessage) -> Outcome:
    pointer = deps.store.get(PhonePointerItem, keys.phone(message.sender))
    owner = choose_owner(pointer) if pointer is not None else None
    if owner is None:
        return Outcome("ignored", "no customer has this number")
    merchant_id, customer_id = owner
    merchant, _ = deps.store.cached_merchant(merchant_id)
    if merchant is None or merchant.status != "active":
        return Outcome("ignored", "the number's merchant is not active")
    reply = SmsReply(
        message.occurred_at,
        channel=message.channel,
        sender=message.sender,
        body=message.body,
        provider_message_id=message.provider_message_id,
        customer_id=customer_id,
    )
    delivery = Delivery(merchant, provider, message.provider_message_id, deps.now())
    with bind_context(merchant_id=merchant_id):
        return dispatch(reply, delivery, deps.store)
