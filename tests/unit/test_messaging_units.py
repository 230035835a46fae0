"""Pure pieces of messaging: reply routing between merchants, rate limits, provider error
mapping, the e-mail sender choice and MIME structure."""

from __future__ import annotations

import email

import pytest

from chalicelib.config import Settings
from chalicelib.errors import ProviderError
from chalicelib.handlers.messages import choose_owner
from chalicelib.notify.email import Attachment, Email, build_mime, sender_for
from chalicelib.notify.pinpoint import _error as pinpoint_error
from chalicelib.notify.providers import RecipientOptedOut
from chalicelib.notify.rate_limit import sms_limit
from chalicelib.notify.twilio import _error as twilio_error
from chalicelib.store.models import MerchantItem, PhonePointerItem


def _pointer(*owners: str, last: tuple[str, str] | None = None) -> PhonePointerItem:
    pointer = PhonePointerItem(pk="PHONE#+15025550100", sk="META", owners=set(owners))
    if last:
        pointer.last_merchant_id, pointer.last_customer_id = last
    return pointer


def test_the_merchant_that_texted_last_gets_the_reply():
    pointer = _pointer("m1#c1", "m2#c9", last=("m2", "c9"))
    assert choose_owner(pointer) == ("m2", "c9")


def test_without_a_last_sender_the_choice_is_stable():
    assert choose_owner(_pointer("m2#c9", "m1#c1")) == ("m1", "c1")
    assert choose_owner(_pointer()) is None


def test_within_a_merchant_only_its_customers_count():
    pointer = _pointer("m1#c1", "m2#c9", last=("m2", "c9"))
    assert choose_owner(pointer, "m1") == ("m1", "c1")


@pytest.mark.parametrize(
    ("platform", "own", "expected"),
    [(60, None, 60), (60, 10, 10), (60, 600, 60), (0, None, None), (0, 5, 5), (60, "9", 60)],
)
def test_merchants_may_only_lower_the_platform_rate(platform, own, expected):
    settings = Settings(sms_rate_per_minute=platform)
    merchant_settings = {} if own is None else {"sms_rate_per_minute": own}
    assert sms_limit(merchant_settings, settings) == expected


@pytest.mark.parametrize(
    ("status", "body", "kind", "retryable"),
    [
        (429, {"code": 20429, "message": "Too Many Requests"}, ProviderError, True),
        (503, {}, ProviderError, True),
        (401, {"code": 20003, "message": "Authenticate"}, ProviderError, True),
        (400, {"code": 21211, "message": "The 'To' number +15025550100 is not valid"},
         ProviderError, False),
        (400, {"code": 21610, "message": "unsubscribed recipient"}, RecipientOptedOut, False),
    ],
)  # fmt: skip
def test_twilio_errors_map_to_retryable_or_permanent(status, body, kind, retryable):
    error = twilio_error(status, body)
    assert type(error) is kind and error.retryable is retryable
    assert "5025550100" not in error.detail  # numbers in provider messages are masked


@pytest.mark.parametrize(
    ("code", "reason", "status", "kind", "retryable"),
    [
        ("ThrottlingException", None, 400, ProviderError, True),
        ("InternalServerException", None, 500, ProviderError, True),
        ("ValidationException", "FIELD_VALIDATION_FAILED", 400, ProviderError, False),
        ("ConflictException", "DESTINATION_PHONE_NUMBER_OPTED_OUT", 400, RecipientOptedOut, False),
    ],
)
def test_end_user_messaging_errors_map_like_the_api_reference(
    code, reason, status, kind, retryable
):
    response = {
        "Error": {"Code": code, "Message": "x"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reason:
        response["Reason"] = reason
    error = pinpoint_error(response)
    assert type(error) is kind and error.retryable is retryable


def _merchant(**settings: object) -> MerchantItem:
    return MerchantItem(
        pk="MERCHANT#m1", sk="META", merchant_id="m1", name="Test Shop", settings=settings
    )


def test_unverified_merchants_mail_from_the_platform_with_their_reply_to():
    settings = Settings(email_from="Aftercare <notifications@aftercare.example>")
    sender, reply_to = sender_for(
        _merchant(email_from="x@shop.example", support_email="help@shop.example"), settings
    )
    assert sender == "Test Shop via Aftercare <notifications@aftercare.example>"
    assert reply_to == ("help@shop.example",)


def test_verified_merchants_mail_from_their_own_address():
    merchant = _merchant(email_from="Shop <ops@shop.example>", email_from_verified=True)
    assert sender_for(merchant, Settings()) == ("Shop <ops@shop.example>", ())


def test_mime_puts_inline_images_beside_the_html_and_files_as_attachments():
    message = Email(
        ("ops@shop.example",),
        "Weekly report – 周报",
        "text",
        '<img src="cid:c1@x">',
        attachments=(
            Attachment("c.png", b"png", "image/png", "c1@x"),
            Attachment("r.csv", b"a,b", "text/csv"),
        ),
    )
    parsed = email.message_from_bytes(build_mime(message, "A <a@aftercare.example>"))
    structure = [part.get_content_type() for part in parsed.walk()]
    assert structure == ["multipart/mixed", "multipart/alternative", "text/plain",
                         "multipart/related", "text/html", "image/png", "text/csv"]  # fmt: skip
    assert str(email.header.make_header(email.header.decode_header(parsed["Subject"]))) == (
        "Weekly report – 周报"
    )
