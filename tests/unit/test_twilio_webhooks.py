"""Twilio webhook verification and parsing: Twilio's published signature example, each failure,
and the mapping of inbound messages and status callbacks to our events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.connectors.twilio_inbound import parse, parse_form, signature, verify
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import CustomerMessage, Ignored
from chalicelib.notify.receipts import SmsStatusReport

# Twilio's published example (twilio-php docs "Validate Incoming Requests",
# https://twilio-php.readthedocs.io/en/latest/usage/validation.html, the same values as
# twilio.com/docs/usage/security): auth token 12345, this URL and these POST parameters
# are signed "RSOYDt4T1cUTdK1PDd93/VVr8B8=".
EXAMPLE_TOKEN = "12345"
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
EXAMPLE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _headers(value: str) -> dict[str, str]:
    return {"x-twilio-signature": value}


def test_published_example_signature_is_reproduced():
    assert signature(EXAMPLE_TOKEN, EXAMPLE_URL, EXAMPLE_PARAMS) == EXAMPLE_SIGNATURE


def test_published_example_verifies():
    verify(_headers(EXAMPLE_SIGNATURE), EXAMPLE_URL, EXAMPLE_PARAMS, [EXAMPLE_TOKEN])


def test_parameter_order_does_not_matter():
    shuffled = list(reversed(EXAMPLE_PARAMS))
    verify(_headers(EXAMPLE_SIGNATURE), EXAMPLE_URL, shuffled, [EXAMPLE_TOKEN])


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        (EXAMPLE_URL, [*EXAMPLE_PARAMS[:2], ("Digits", "1235"), *EXAMPLE_PARAMS[3:]], "12345"),
        (EXAMPLE_URL, [*EXAMPLE_PARAMS, ("Extra", "1")], "12345"),
        ("https://mycompany.com/myapp.php?foo=1&bar=3", EXAMPLE_PARAMS, "12345"),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", EXAMPLE_PARAMS, "12345"),
        (EXAMPLE_URL, EXAMPLE_PARAMS, "54321"),
    ],
    ids=["tampered value", "added parameter", "other query", "other scheme", "wrong token"],
)
def test_tampered_requests_are_refused(url, params, token):
    with pytest.raises(BadSignature, match="does not match"):
        verify(_headers(EXAMPLE_SIGNATURE), url, params, [token])


def test_previous_token_still_verifies_during_rotation():
    verify(_headers(EXAMPLE_SIGNATURE), EXAMPLE_URL, EXAMPLE_PARAMS, ["new-token", "12345"])


def test_default_port_variants_verify_like_twilios_libraries():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    verify(_headers(EXAMPLE_SIGNATURE), with_port, EXAMPLE_PARAMS, [EXAMPLE_TOKEN])


@pytest.mark.parametrize(
    ("headers", "tokens", "message"),
    [
        ({}, ["12345"], "missing"),
        (_headers("not base64!"), ["12345"], "not base64"),
        (_headers(EXAMPLE_SIGNATURE), [], "no Twilio auth token"),
    ],
)
def test_each_verification_failure_says_why(headers, tokens, message):
    with pytest.raises(BadSignature, match=message):
        verify(headers, EXAMPLE_URL, EXAMPLE_PARAMS, tokens)


def test_form_parsing_keeps_blank_values_and_refuses_non_utf8():
    assert parse_form(b"Body=&From=%2B15025550100") == [("Body", ""), ("From", "+15025550100")]
    with pytest.raises(BadSignature):
        parse_form(b"Body=\xff\xfe")


def test_inbound_message_becomes_a_customer_message():
    params = [("MessageSid", "SM1"), ("SmsStatus", "received"), ("From", "+15025550100"),
              ("Body", "STOP"), ("To", "+15005550006")]  # fmt: skip
    [event] = parse(params, NOW)
    assert event == CustomerMessage(NOW, "sms", "+15025550100", "STOP", "SM1")


def test_sender_that_is_not_a_number_is_ignored():
    [event] = parse([("MessageSid", "SM1"), ("From", "AFTERCARE"), ("Body", "hi")], NOW)
    assert isinstance(event, Ignored)


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [("queued", "accepted"), ("sent", "sent"), ("delivered", "delivered"),
     ("undelivered", "failed"), ("failed", "failed")],
)  # fmt: skip
def test_status_callbacks_become_reports(twilio_status, ours):
    params = [("MessageSid", "SM2"), ("MessageStatus", twilio_status), ("SmsStatus", twilio_status)]
    [report] = parse(params, NOW)
    assert isinstance(report, SmsStatusReport)
    assert (report.provider, report.message_id, report.status) == ("twilio", "SM2", ours)


def test_21610_in_a_callback_means_opted_out():
    params = [("MessageSid", "SM3"), ("MessageStatus", "undelivered"), ("ErrorCode", "21610")]
    [report] = parse(params, NOW)
    assert report.opted_out and report.error_code == "21610"


def test_missing_message_sid_is_malformed():
    with pytest.raises(MalformedPayload):
        parse([("From", "+15025550100"), ("Body", "hi")], NOW)


# --- AWS End User Messaging two-way SMS (arrives through SNS) -------------------------------

# The example payload of docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html
AWS_EXAMPLE = (
    '{"originationNumber":"+14255550182","destinationNumber":"+12125550101",'
    '"messageKeyword":"JOIN","messageBody":"EXAMPLE",'
    '"inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84",'
    '"previousPublishedMessageId":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}'
)


def test_aws_two_way_example_becomes_a_customer_message():
    from chalicelib.connectors import aws_sms_inbound

    [event] = aws_sms_inbound.parse(AWS_EXAMPLE, NOW)
    assert event == CustomerMessage(
        NOW, "sms", "+14255550182", "EXAMPLE", "cae173d2-66b9-564c-8309-21f858e9fb84"
    )


@pytest.mark.parametrize("message", ["not json", "[]", '{"originationNumber": "+14255550182"}'])
def test_aws_two_way_malformed_messages_are_refused(message):
    from chalicelib.connectors import aws_sms_inbound

    with pytest.raises(MalformedPayload):
        aws_sms_inbound.parse(message, NOW)
