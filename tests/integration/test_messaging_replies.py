"""Customer SMS replies over HTTP with Twilio's signature: STOP, START, HELP, CSAT, messages,
deduplication, routing between merchants, and refusals (401 on a bad signature)."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.handlers.messages import queue_csat_question
from chalicelib.notify.sender import deliver_due
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem
from chalicelib.store.records import new_case
from tests.conftest import FIXED_NOW as DAYTIME
from tests.integration import sms_helpers
from tests.integration.sms_helpers import (
    CUSTOMER_ID,
    WEBHOOK_URL,
    configure,
    inbound_params,
    new_phone,
    notifications,
    place_order,
    post_twilio,
    sign_twilio,
)
from tests.integration.test_slice import post_easypost, tracker_body

stubs, providers = sms_helpers.stubs, sms_helpers.providers  # the module's fixtures
LATER = DAYTIME + timedelta(minutes=5)


def _customer(app_deps, merchant) -> CustomerItem:
    return app_deps.store.get(CustomerItem, keys.customer(merchant.merchant_id, CUSTOMER_ID))


def _texted_customer(client, merchant, app_deps, **settings) -> str:
    """A customer with an order whose "shipped" SMS went out through Twilio; their phone."""
    configure(app_deps, merchant.merchant_id, sms_provider="twilio", **settings)
    phone = new_phone()
    place_order(client, merchant.shop_domain, phone, 7001, tracking="1ZREPLY0001")
    assert deliver_due(app_deps, DAYTIME) == {"sent": 1}
    return phone


def _texts_to(providers, phone: str) -> list[str]:
    return [sent["Body"] for sent in providers.twilio.sent if sent["To"] == phone]


def _customer_timeline_kinds(app_deps, merchant) -> list[str]:
    entries = app_deps.store.customer_timeline(merchant.merchant_id, CUSTOMER_ID, 50)
    return [entry.kind for entry in entries]


def test_stop_opts_out_and_confirms_once(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    stop = inbound_params(phone, "Stop")

    first = post_twilio(client, stop)
    again = post_twilio(client, stop)  # Twilio retried the same message
    deliver_due(app_deps, LATER)

    assert first.status_code == 200 and again.status_code == 200
    assert first.headers["Content-Type"] == "text/xml" and "<Response>" in first.body.decode()
    assert _customer(app_deps, merchant).sms_opt_out is True
    texts = _texts_to(providers, phone)
    assert len(texts) == 2 and "START" in texts[-1]  # the shipped SMS, then the confirmation
    assert "sms_opt_out" in _customer_timeline_kinds(app_deps, merchant)


def test_after_stop_nothing_more_is_sent(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    post_twilio(client, inbound_params(phone, "STOP"))
    deliver_due(app_deps, LATER)
    sent_before = len(_texts_to(providers, phone))

    body = tracker_body("1ZREPLY0001", "delivered", "evt_after_stop", "2026-11-23T15:10:00Z")
    post_easypost(client, merchant.merchant_id, body)
    result = deliver_due(app_deps, LATER + timedelta(minutes=5))

    assert result == {"skipped": 1}
    assert len(_texts_to(providers, phone)) == sent_before


def test_start_opts_back_in_with_a_confirmation(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    post_twilio(client, inbound_params(phone, "STOP"))
    deliver_due(app_deps, LATER)

    post_twilio(client, inbound_params(phone, "start"))
    deliver_due(app_deps, LATER + timedelta(minutes=1))

    assert _customer(app_deps, merchant).sms_opt_out is False
    kinds = [item["kind"] for item in notifications(client, merchant)]
    assert kinds.count("opt_in_confirmed") == 1
    assert len(_texts_to(providers, phone)) == 3


def test_help_answers_with_the_support_contact(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps, support_contact="help@shop.example")

    post_twilio(client, inbound_params(phone, "HELP"))
    deliver_due(app_deps, LATER)

    assert "help@shop.example" in _texts_to(providers, phone)[-1]
    assert _customer(app_deps, merchant).sms_opt_out is False


def _resolved_case_with_csat_question(client, merchant, app_deps) -> CaseItem:
    case = new_case(
        merchant.merchant_id,
        "C-CSAT-1",
        "complaint",
        "resolved",
        DAYTIME,
        customer_id=CUSTOMER_ID,
        order_id="7001",
    )
    uow = app_deps.store.unit_of_work()
    uow.insert("case", case)
    queue_csat_question(uow, case, DAYTIME, order_number="#1001")
    uow.commit()
    assert deliver_due(app_deps, DAYTIME + timedelta(minutes=1)) == {"sent": 1}
    return case


def test_csat_score_is_recorded_on_the_case_and_counted(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    case = _resolved_case_with_csat_question(client, merchant, app_deps)

    post_twilio(client, inbound_params(phone, "5"))
    post_twilio(client, inbound_params(phone, "4"))  # a second number is just a message

    stored = app_deps.store.get(CaseItem, case.pk)
    assert stored.details["csat"]["score"] == 5
    stats_pk = keys.weekly_stats(merchant.merchant_id, keys.iso_week(DAYTIME))
    raw = app_deps.store.connection.client.get_item(
        TableName=app_deps.store.table_name, Key={"pk": {"S": stats_pk}, "sk": {"S": keys.META}}
    )["Item"]
    assert raw["c#csat_sum"]["N"] == "5" and raw["c#csat_count"]["N"] == "1"
    case_json = json.loads(client.http.get("/api/cases/C-CSAT-1", headers=merchant.auth).body)
    assert "csat_received" in [entry["kind"] for entry in case_json["timeline"]]


def test_a_number_without_a_csat_question_is_a_message(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)

    post_twilio(client, inbound_params(phone, "3"))

    [case] = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"]
    assert case["type"] == "inquiry" and "csat" not in case["details"]


def test_a_message_joins_the_open_case_timeline(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    failure = tracker_body("1ZREPLY0001", "failure", "evt_fail", "2026-11-23T14:00:00Z")
    post_easypost(client, merchant.merchant_id, failure)
    [case] = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"]

    post_twilio(client, inbound_params(phone, "Where is my parcel? Nobody came."))

    listing = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"]
    assert [c["id"] for c in listing] == [case["id"]]  # no new case
    detail = json.loads(client.http.get(f"/api/cases/{case['id']}", headers=merchant.auth).body)
    [message] = [e for e in detail["timeline"] if e["kind"] == "customer_message"]
    assert message["data"]["body"] == "Where is my parcel? Nobody came."


def test_a_message_without_an_open_case_opens_an_inquiry(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    params = inbound_params(phone, "Can I change the delivery address?")

    post_twilio(client, params)
    post_twilio(client, params)  # a retry of the same message opens nothing more

    [case] = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)["items"]
    assert case["type"] == "inquiry" and case["status"] == "new"
    assert case["customer_id"] == CUSTOMER_ID
    detail = json.loads(client.http.get(f"/api/cases/{case['id']}", headers=merchant.auth).body)
    assert [e["kind"] for e in detail["timeline"]] == ["customer_message"]


def test_reply_goes_to_the_merchant_that_texted_last(client, merchant, app_deps, providers):
    from chalicelib.handlers.merchants import create_merchant
    from tests.conftest import MerchantFixture

    phone = new_phone()
    other_shop = "other-" + merchant.shop_domain
    other_id = "shp-" + other_shop.split(".", 1)[0]
    key = create_merchant(app_deps.store, other_id, "Other Shop", DAYTIME, shop_domain=other_shop)
    other = MerchantFixture(other_id, other_shop, key)
    for shop in (merchant, other):
        configure(app_deps, shop.merchant_id, sms_provider="twilio")
    place_order(client, merchant.shop_domain, phone, 8001, tracking="1ZFIRST0001")
    deliver_due(app_deps, DAYTIME)
    place_order(client, other.shop_domain, phone, 8002, tracking="1ZSECOND001")
    deliver_due(app_deps, DAYTIME + timedelta(minutes=1))

    post_twilio(client, inbound_params(phone, "STOP"))

    assert _customer(app_deps, other).sms_opt_out is True
    assert _customer(app_deps, merchant).sms_opt_out is False


def test_unknown_number_is_accepted_and_ignored(client, providers):
    response = post_twilio(client, inbound_params(new_phone(), "hello?"))
    assert response.status_code == 200


def test_bad_signature_is_401_and_changes_nothing(client, merchant, app_deps, providers):
    phone = _texted_customer(client, merchant, app_deps)
    params = inbound_params(phone, "STOP")

    wrong_token = post_twilio(client, params, signature=sign_twilio(WEBHOOK_URL, params, "nope"))
    tampered = post_twilio(
        client, {**params, "Body": "START"}, signature=sign_twilio(WEBHOOK_URL, params)
    )
    other_url = post_twilio(client, params, signature=sign_twilio(WEBHOOK_URL + "x", params))
    missing = client.http.post(
        "/webhooks/sms/twilio",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"Body=STOP",
    )

    for response in (wrong_token, tampered, other_url, missing):
        assert response.status_code == 401
        assert json.loads(response.body)["error"] == "bad_signature"
    assert _customer(app_deps, merchant).sms_opt_out is False


def test_unknown_sms_provider_is_404(client, providers):
    response = client.http.post(
        "/webhooks/sms/carrier-pigeon",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"Body=hi",
    )
    assert response.status_code == 404


def test_aws_two_way_stop_through_sns_opts_out(client, merchant, app_deps, providers):
    from chalicelib.inbound_sms import receive_aws_sms

    configure(app_deps, merchant.merchant_id, sms_provider="pinpoint")
    phone = new_phone()
    place_order(client, merchant.shop_domain, phone, 9001, tracking="1ZAWS00001")
    assert deliver_due(app_deps, DAYTIME) == {"sent": 1}
    message = json.dumps(
        {
            "originationNumber": phone,
            "destinationNumber": "+18005550100",
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": "STOP",
            "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
            "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }
    )

    first = receive_aws_sms(app_deps, message)
    again = receive_aws_sms(app_deps, message)  # SNS delivers at least once
    deliver_due(app_deps, LATER)

    assert first["status"] == "accepted" and again["status"] == "duplicate"
    assert _customer(app_deps, merchant).sms_opt_out is True
    bodies = [sent["MessageBody"] for sent in providers.voice.sent]
    assert len(bodies) == 2 and "START" in bodies[-1]
