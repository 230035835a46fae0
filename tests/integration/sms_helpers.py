"""Shared set-up of the messaging tests: provider stubs, a Twilio-configured app, signed posts.

`messaging_env` (module scope) starts the Twilio REST and End User Messaging stubs and points
the app at them through environment variables, with obviously fake credentials; tests then
order something for a customer with their own phone number and read what each provider got.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.test_slice import fulfillment_body, post_shopify
from tests.stubs import SmsVoiceStub, TwilioApiStub
from tests.stubs.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN
from tests.support import load_fixture

TWILIO_FROM = "+15005550006"  # Twilio's documented magic test "From" number
WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/sms/twilio"  # the default AFTERCARE_PUBLIC_URL
FAKE_CONFIGURATION_SET = "aftercare-fake-config-set"
FAKE_ORIGINATION = "+18005550100"
DRAIN_AT = datetime(2026, 12, 31, tzinfo=UTC)  # after every time the tests use


class Stubs:
    """The running provider stubs and the SMS log path of this module's app."""

    def __init__(self, twilio: TwilioApiStub, voice: SmsVoiceStub, sms_log: Path) -> None:
        self.twilio, self.voice, self.sms_log = twilio, voice, sms_log

    def reset(self) -> None:
        for stub in (self.twilio, self.voice):
            stub.sent.clear()
            stub.calls.clear()
            stub.failures.clear()
            stub.opted_out.clear()


@pytest.fixture(scope="module")
def stubs(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stubs]:
    """Provider stubs up, and the app configured for them, for one test module."""
    twilio, voice = TwilioApiStub().start(), SmsVoiceStub().start()
    sms_log = tmp_path_factory.mktemp("messaging") / "sent.jsonl"
    env = {
        "AFTERCARE_TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
        "AFTERCARE_TWILIO_AUTH_TOKENS": FAKE_AUTH_TOKEN,
        "AFTERCARE_TWILIO_FROM": TWILIO_FROM,
        "AFTERCARE_TWILIO_API_BASE": twilio.url,
        "AFTERCARE_SMS_VOICE_ENDPOINT": voice.url,
        "AFTERCARE_SMS_CONFIGURATION_SET": FAKE_CONFIGURATION_SET,
        "AFTERCARE_SMS_ORIGINATION_IDENTITY": FAKE_ORIGINATION,
        "AFTERCARE_SMS_LOG": str(sms_log),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield Stubs(twilio, voice, sms_log)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        twilio.stop()
        voice.stop()


@pytest.fixture()
def providers(stubs: Stubs, app_deps: Any) -> Stubs:
    """The stubs, emptied, after sending whatever earlier tests left due (the due index is
    shared by every merchant, and these tests count what one `deliver_due` does)."""
    from chalicelib.notify.sender import deliver_due

    for _ in range(20):
        if not set(deliver_due(app_deps, DRAIN_AT, limit=100)) - {"busy"}:
            break
    stubs.reset()
    return stubs


def new_phone() -> str:
    """A valid US number no other test uses (Louisville's area code, like the order's address)."""
    return f"+1502555{random.randint(0, 9999):04d}"


def configure(deps: Any, merchant_id: str, **settings: Any) -> None:
    """Merge `settings` into the merchant's settings."""
    merchant = deps.store.merchant(merchant_id)
    merchant.settings = {**(merchant.settings or {}), **settings}
    merchant.save()


def place_order(client: Any, shop: str, phone: str, order_id: int, tracking: str | None = None):
    """Shopify's orders/create example for `phone` (and its fulfillment when `tracking`)."""
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    order["id"] = order_id
    order["shipping_address"]["phone"] = phone
    response = post_shopify(client, shop, "orders/create", json.dumps(order).encode())
    assert response.status_code == 200, response.body
    if tracking:
        body = fulfillment_body(order_id, tracking)
        response = post_shopify(client, shop, "fulfillments/create", body)
        assert response.status_code == 200, response.body


CUSTOMER_ID = "207119551"  # the customer of Shopify's orders/create example


def sign_twilio(url: str, params: dict[str, str], token: str = FAKE_AUTH_TOKEN) -> str:
    """Twilio's X-Twilio-Signature, written out independently of the app's code."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def post_twilio(client: Any, params: dict[str, str], signature: str | None = None) -> Any:
    body = urlencode(params).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature or sign_twilio(WEBHOOK_URL, params),
    }
    return client.http.post("/webhooks/sms/twilio", headers=headers, body=body)


def inbound_params(sender: str, body: str, sid: str | None = None) -> dict[str, str]:
    """An inbound-message webhook as Twilio documents it (messaging webhook request)."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "40202",
        "SmsSid": sid,
        "FromState": "KY",
        "SmsStatus": "received",
        "FromCity": "LOUISVILLE",
        "Body": body,
        "FromCountry": "US",
        "To": TWILIO_FROM,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": FAKE_ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def status_params(message_sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    """A status callback as Twilio documents it (outbound message status callback)."""
    params = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "+15025550000",
        "MessageSid": message_sid,
        "AccountSid": FAKE_ACCOUNT_SID,
        "From": TWILIO_FROM,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def notifications(client: Any, merchant: Any) -> list[dict[str, Any]]:
    response = client.http.get("/api/notifications", headers=merchant.auth)
    assert response.status_code == 200, response.body
    return json.loads(response.body)["items"]
