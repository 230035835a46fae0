"""Customer SMS over the local stack: one message per outbox item, retries, quiet hours, opt-out,
rate limit, delivery receipts, the End User Messaging provider, SES e-mail and the SMS log.

Providers are real clients against loopback stubs (Twilio REST, End User Messaging JSON) or
moto server (SNS, SES v2); time is passed to the sender, never slept.
"""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.notify.sender import MAX_ATTEMPTS, deliver_due, deliver_one
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, OutboxItem
from tests.conftest import FIXED_NOW as DAYTIME
from tests.integration import sms_helpers
from tests.integration.sms_helpers import (
    CUSTOMER_ID,
    FAKE_CONFIGURATION_SET,
    FAKE_ORIGINATION,
    TWILIO_FROM,
    WEBHOOK_URL,
    configure,
    new_phone,
    notifications,
    place_order,
    post_twilio,
    status_params,
)
from tests.stubs.sms_voice import aws_error
from tests.stubs.twilio_api import twilio_error

stubs, providers = sms_helpers.stubs, sms_helpers.providers  # the module's fixtures

NIGHT = DAYTIME.replace(hour=3) + timedelta(days=1)  # 22:00 in Louisville (America/New_York)
NEXT_MORNING = DAYTIME.replace(hour=13) + timedelta(days=1)  # 08:00 there: the window opens


def _ship(client, merchant, app_deps, provider: str = "twilio", **settings) -> str:
    configure(app_deps, merchant.merchant_id, sms_provider=provider, **settings)
    phone = new_phone()
    place_order(client, merchant.shop_domain, phone, 5001, tracking="1ZMSG0001")
    return phone


def _only_item(app_deps, merchant) -> OutboxItem:
    page = app_deps.store.list_notifications(merchant.merchant_id, 10, None)
    assert len(page.items) == 1
    return page.items[0]


def test_twilio_sends_one_sms_with_status_callback(client, merchant, app_deps, providers):
    phone = _ship(client, merchant, app_deps)

    assert deliver_due(app_deps, DAYTIME) == {"sent": 1}
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=5)) == {}

    [sent] = providers.twilio.sent
    assert sent["To"] == phone and sent["From"] == TWILIO_FROM
    assert sent["StatusCallback"] == WEBHOOK_URL
    assert "1ZMSG0001" in sent["Body"]
    [item] = notifications(client, merchant)
    assert item["status"] == "sent" and item["provider"] == "twilio"
    assert item["provider_message_id"].startswith("SM")


def test_throttling_and_5xx_are_retried_and_still_send_once(client, merchant, app_deps, providers):
    phone = _ship(client, merchant, app_deps)
    providers.twilio.fail_next(429, twilio_error(20429, "Too Many Requests", 429))
    providers.twilio.fail_next(503, {"message": "Service Unavailable"})

    assert deliver_due(app_deps, DAYTIME) == {"retry": 1}
    assert deliver_due(app_deps, DAYTIME) == {}  # backing off
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=1)) == {"retry": 1}
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=3)) == {"sent": 1}
    place_order(client, merchant.shop_domain, phone, 5001, tracking="1ZMSG0001")  # the cause again
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=10)) == {}

    assert len(providers.twilio.calls) == 3 and len(providers.twilio.sent) == 1
    item = _only_item(app_deps, merchant)
    assert item.status == "sent" and item.attempts == 3


def test_two_senders_racing_for_one_item_send_once(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    [first] = app_deps.store.due_outbox(DAYTIME, 10)
    [second] = app_deps.store.due_outbox(DAYTIME, 10)

    assert deliver_one(app_deps, first, DAYTIME) == "sent"
    assert deliver_one(app_deps, second, DAYTIME) == "busy"
    assert len(providers.twilio.sent) == 1


def test_permanent_error_is_parked_and_visible(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    providers.twilio.fail_next(400, twilio_error(21211, "The 'To' number is not valid."))

    assert deliver_due(app_deps, DAYTIME) == {"failed": 1}
    assert deliver_due(app_deps, DAYTIME + timedelta(hours=2)) == {}

    [item] = notifications(client, merchant)
    assert item["status"] == "failed" and "21211" in item["last_error"]
    assert item["next_attempt_at"] is None


def test_retries_stop_after_max_attempts(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    providers.twilio.fail_next(500, {"message": "boom"}, times=MAX_ATTEMPTS)

    results = [deliver_due(app_deps, DAYTIME + timedelta(hours=n)) for n in range(MAX_ATTEMPTS)]

    assert results[-1] == {"failed": 1} and all(r == {"retry": 1} for r in results[:-1])
    assert providers.twilio.sent == []
    assert _only_item(app_deps, merchant).status == "failed"


def test_night_defers_to_the_morning_and_sends_once(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)

    assert deliver_due(app_deps, NIGHT) == {"deferred": 1}
    assert deliver_due(app_deps, NEXT_MORNING - timedelta(minutes=1)) == {}
    assert providers.twilio.sent == []
    assert deliver_due(app_deps, NEXT_MORNING) == {"sent": 1}
    assert deliver_due(app_deps, NEXT_MORNING + timedelta(hours=1)) == {}
    assert len(providers.twilio.sent) == 1


def test_opted_out_customer_gets_nothing(client, merchant, app_deps, providers, sms_sent):
    _ship(client, merchant, app_deps, provider="sns")
    customer = app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, CUSTOMER_ID))
    customer.sms_opt_out = True
    customer.save()
    before = len(sms_sent())

    assert deliver_due(app_deps, DAYTIME) == {"skipped": 1}
    assert len(sms_sent()) == before
    assert notifications(client, merchant)[0]["last_error"] == "customer opted out of SMS"


def test_provider_opt_out_error_marks_the_customer(client, merchant, app_deps, providers):
    phone = _ship(client, merchant, app_deps)
    providers.twilio.opted_out.add(phone)

    assert deliver_due(app_deps, DAYTIME) == {"failed": 1}

    customer = app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, CUSTOMER_ID))
    assert customer.sms_opt_out is True
    assert "21610" in _only_item(app_deps, merchant).last_error


def test_rate_limit_defers_the_excess_to_the_next_minute(client, merchant, app_deps, providers):
    configure(app_deps, merchant.merchant_id, sms_provider="twilio", sms_rate_per_minute=1)
    place_order(client, merchant.shop_domain, new_phone(), 6001, tracking="1ZRATE0001")
    place_order(client, merchant.shop_domain, new_phone(), 6002, tracking="1ZRATE0002")

    assert deliver_due(app_deps, DAYTIME) == {"sent": 1, "rate_limited": 1}
    assert deliver_due(app_deps, DAYTIME + timedelta(seconds=30)) == {}
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=1)) == {"sent": 1}
    assert len(providers.twilio.sent) == 2


def test_delivery_receipts_update_the_item(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    deliver_due(app_deps, DAYTIME)
    sid = _only_item(app_deps, merchant).provider_message_id

    for status in ("sent", "delivered", "sent"):  # late and repeated callbacks change nothing
        response = post_twilio(client, status_params(sid, status))
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/xml"

    assert notifications(client, merchant)[0]["status"] == "delivered"


def test_undelivered_receipt_records_the_reason(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    deliver_due(app_deps, DAYTIME)
    sid = _only_item(app_deps, merchant).provider_message_id

    post_twilio(client, status_params(sid, "undelivered", error_code="30003"))

    [item] = notifications(client, merchant)
    assert item["status"] == "failed" and "30003" in item["last_error"]
    order_timeline = app_deps.store.collection(keys.order(merchant.merchant_id, "5001"))
    assert "sms_undelivered" in [getattr(entry, "kind", None) for entry in order_timeline]


def test_receipt_for_an_unknown_message_is_accepted(client, providers):
    response = post_twilio(client, status_params("SM" + "0" * 32, "delivered"))
    assert response.status_code == 200


def test_end_user_messaging_provider_against_the_stub(client, merchant, app_deps, providers):
    phone = _ship(client, merchant, app_deps, provider="pinpoint")
    providers.voice.fail_next(400, aws_error("ThrottlingException", "Rate exceeded"))

    assert deliver_due(app_deps, DAYTIME) == {"retry": 1}
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=1)) == {"sent": 1}

    [sent] = providers.voice.sent
    assert sent["DestinationPhoneNumber"] == phone
    assert sent["MessageType"] == "TRANSACTIONAL"
    assert sent["ConfigurationSetName"] == FAKE_CONFIGURATION_SET
    assert sent["OriginationIdentity"] == FAKE_ORIGINATION
    item = _only_item(app_deps, merchant)
    assert sent["Context"] == {"outbox_id": item.outbox_id}
    assert item.provider == "pinpoint" and item.status == "sent"


def test_end_user_messaging_opt_out_conflict_marks_the_customer(
    client, merchant, app_deps, providers
):
    phone = _ship(client, merchant, app_deps, provider="pinpoint")
    providers.voice.opted_out.add(phone)

    assert deliver_due(app_deps, DAYTIME) == {"failed": 1}
    customer = app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, CUSTOMER_ID))
    assert customer.sms_opt_out is True


def test_sms_log_has_a_line_per_sent_sms(client, merchant, app_deps, providers):
    phone = _ship(client, merchant, app_deps)
    before = providers.sms_log.read_text().splitlines() if providers.sms_log.exists() else []

    deliver_due(app_deps, DAYTIME)
    deliver_due(app_deps, DAYTIME + timedelta(minutes=5))

    lines = providers.sms_log.read_text(encoding="utf-8").splitlines()[len(before) :]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["channel"] == "sms" and record["provider"] == "twilio"
    assert record["merchant_id"] == merchant.merchant_id and record["kind"] == "shipment_in_transit"
    assert record["to"].endswith(phone[-4:]) and phone[2:8] not in record["to"]  # masked
    assert "1ZMSG0001" in record["text"]


def test_sent_sms_are_counted_for_the_digest(client, merchant, app_deps, providers):
    _ship(client, merchant, app_deps)
    deliver_due(app_deps, DAYTIME)

    stats_pk = keys.weekly_stats(merchant.merchant_id, keys.iso_week(DAYTIME))
    raw = app_deps.store.connection.client.get_item(
        TableName=app_deps.store.table_name, Key={"pk": {"S": stats_pk}, "sk": {"S": keys.META}}
    )["Item"]
    assert raw["c#sms_sent"]["N"] == "1" and int(raw["c#sms_segments"]["N"]) >= 1


# --- e-mail through SES v2 (moto server) ----------------------------------------------------


def _ses_sent(message_id: str):
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return next(message for message in backend.sent_messages if message.id == message_id)


def _verify_identity(app_deps, identity: str) -> None:
    import boto3

    client = boto3.client(
        "sesv2", endpoint_url=app_deps.settings.aws_endpoint, region_name=app_deps.settings.region
    )
    client.create_email_identity(EmailIdentity=identity)


def test_email_with_html_and_text_lands_in_ses(app_deps, merchant, providers):
    from chalicelib.notify.email import Email, send_email

    _verify_identity(app_deps, "aftercare.example")
    email = Email(("ops@shop.example",), "Case escalated", "Case C-1 is late.", "<p>Case C-1</p>")

    message_id = send_email(app_deps.settings, email, app_deps.store.merchant(merchant.merchant_id))

    sent = _ses_sent(message_id)
    assert "via Aftercare" in sent.source and "notifications@aftercare.example" in sent.source
    assert sent.subject == "Case escalated" and "<p>Case C-1</p>" in sent.body
    record = json.loads(providers.sms_log.read_text(encoding="utf-8").splitlines()[-1])
    assert record["channel"] == "email" and record["message_id"] == message_id


def test_email_with_inline_image_and_attachment_is_raw_mime(app_deps, merchant, providers):
    import email as email_lib

    from chalicelib.notify.email import Attachment, Email, send_email

    _verify_identity(app_deps, "shop.example")
    configure(
        app_deps,
        merchant.merchant_id,
        email_from="Test Shop <digest@shop.example>",
        email_from_verified=True,
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    digest = Email(
        ("ops@shop.example",),
        "Weekly report 2026-W48",
        "Complaints fell 12%.",
        '<p>Complaints fell 12%.</p><img src="cid:trend@aftercare">',
        attachments=(
            Attachment("trend.png", png, "image/png", content_id="trend@aftercare"),
            Attachment("quality.csv", b"sku,complaints\nA-1,3\n", "text/csv"),
        ),
    )

    message_id = send_email(
        app_deps.settings, digest, app_deps.store.merchant(merchant.merchant_id)
    )

    raw = email_lib.message_from_string(_ses_sent(message_id).raw_data)
    assert raw["From"] == "Test Shop <digest@shop.example>"
    parts = {part.get_content_type(): part for part in raw.walk()}
    assert raw.get_content_type() == "multipart/mixed"
    assert {"multipart/alternative", "multipart/related", "text/plain", "text/html"} <= set(parts)
    assert parts["image/png"]["Content-ID"] == "<trend@aftercare>"
    assert parts["image/png"].get_payload(decode=True) == png
    assert parts["text/csv"].get_filename() == "quality.csv"


def test_twilio_auth_token_can_come_from_ssm(app_deps):
    from dataclasses import replace

    import boto3

    from chalicelib.notify.twilio import auth_tokens

    ssm = boto3.client(
        "ssm", endpoint_url=app_deps.settings.aws_endpoint, region_name=app_deps.settings.region
    )
    name = "/aftercare/test/twilio-auth-token"
    ssm.put_parameter(Name=name, Value="fake-token-from-ssm", Type="SecureString", Overwrite=True)
    settings = replace(app_deps.settings, twilio_auth_tokens=(f"ssm:{name}", "previous-fake"))

    assert auth_tokens(settings) == ("fake-token-from-ssm", "previous-fake")
