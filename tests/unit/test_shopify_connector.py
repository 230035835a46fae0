"""Shopify connector: webhook and install-query verification, and every topic's parsing."""

from __future__ import annotations

import base64
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.connectors import shopify
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedact,
    Ignored,
    Money,
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    RefundIssued,
    ReturnRequested,
    ReturnStatusChanged,
    ShipmentCreated,
    ShopRedact,
    TrackingStatus,
)
from tests.signing import FAKE_SHOPIFY_SECRET, shopify_headers, sign_shopify_query
from tests.support import SHARED_FIXTURES, load_fixture, utc

PREVIOUS_SECRET = "shpss_fake_previous_secret_do_not_use"
DOCS_TIME = datetime(2022, 1, 1, 0, 0, tzinfo=UTC)  # docs' 2021-12-31T19:00:00-05:00


def _parse(name: str, topic: str) -> list:
    body = load_fixture("shopify", name)
    headers = shopify_headers(body, topic)
    shopify.verify(headers, body, [FAKE_SHOPIFY_SECRET])
    return shopify.parse(headers, body)


def _one(name: str, topic: str):
    events = _parse(name, topic)
    assert len(events) == 1
    return events[0]


# --- verify ---------------------------------------------------------------------------------


def test_verify_accepts_the_right_secret() -> None:
    body = load_fixture("shopify", "orders_create.json")
    shopify.verify(shopify_headers(body, "orders/create"), body, [FAKE_SHOPIFY_SECRET])


def test_verify_accepts_the_previous_secret_during_rotation() -> None:
    body = load_fixture("shopify", "orders_create.json")
    headers = shopify_headers(body, "orders/create", secret=PREVIOUS_SECRET)
    shopify.verify(headers, body, [FAKE_SHOPIFY_SECRET, PREVIOUS_SECRET])


def test_verify_accepts_a_single_secret_string() -> None:
    body = b"{}"
    shopify.verify(shopify_headers(body, "shop/redact"), body, FAKE_SHOPIFY_SECRET)


def test_verify_rejects_the_wrong_secret() -> None:
    body = load_fixture("shopify", "orders_create.json")
    headers = shopify_headers(body, "orders/create", secret="shpss_someone_else")
    with pytest.raises(BadSignature, match="does not match"):
        shopify.verify(headers, body, [FAKE_SHOPIFY_SECRET])


def test_verify_rejects_a_missing_header() -> None:
    body = load_fixture("shopify", "orders_create.json")
    headers = shopify_headers(body, "orders/create")
    del headers["x-shopify-hmac-sha256"]
    with pytest.raises(BadSignature, match="missing"):
        shopify.verify(headers, body, [FAKE_SHOPIFY_SECRET])


def test_verify_rejects_a_tampered_body() -> None:
    body = load_fixture("shopify", "orders_create.json")
    headers = shopify_headers(body, "orders/create")
    tampered = body.replace(b'"409.94"', b'"0.01"')
    assert tampered != body
    with pytest.raises(BadSignature):
        shopify.verify(headers, tampered, [FAKE_SHOPIFY_SECRET])


@pytest.mark.parametrize("value", ["not base64!", "%%%", "YWJj$"])
def test_verify_rejects_a_non_base64_header(value: str) -> None:
    body = b"{}"
    headers = {**shopify_headers(body, "orders/create"), "x-shopify-hmac-sha256": value}
    with pytest.raises(BadSignature, match="base64"):
        shopify.verify(headers, body, [FAKE_SHOPIFY_SECRET])


def test_verify_rejects_when_no_secret_is_configured() -> None:
    body = b"{}"
    with pytest.raises(BadSignature, match="no signing secret"):
        shopify.verify(shopify_headers(body, "orders/create"), body, [])


def test_verify_does_not_treat_a_secret_string_as_a_list_of_characters() -> None:
    body = b"{}"
    one_char = base64.b64encode(hmac.new(b"s", body, "sha256").digest()).decode()
    headers = {**shopify_headers(body, "orders/create"), "x-shopify-hmac-sha256": one_char}
    with pytest.raises(BadSignature):
        shopify.verify(headers, body, FAKE_SHOPIFY_SECRET)


# --- shop domain, topic, delivery id ----------------------------------------------------------


def test_shop_domain_is_validated_and_lower_cased() -> None:
    headers = shopify_headers(b"{}", "orders/create", shop="Aftercare-Demo.myshopify.com")
    assert shopify.shop_domain(headers) == "aftercare-demo.myshopify.com"


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "-x.myshopify.com",
        "a.b.myshopify.com",
        "x.myshopify.com/evil",
        "x_y.myshopify.com",
        "x.myshopifyXcom",
    ],
)
def test_shop_domain_rejects_foreign_domains(shop: str) -> None:
    with pytest.raises(BadSignature):
        shopify.shop_domain(shopify_headers(b"{}", "orders/create", shop=shop))


def test_shop_domain_is_required() -> None:
    headers = shopify_headers(b"{}", "orders/create")
    del headers["x-shopify-shop-domain"]
    with pytest.raises(BadSignature):
        shopify.shop_domain(headers)


def test_delivery_id_is_the_webhook_id_else_a_body_digest() -> None:
    headers = shopify_headers(b"{}", "orders/create", webhook_id="wh-1")
    assert shopify.delivery_id(headers, b"{}") == "wh-1"
    del headers["x-shopify-webhook-id"]
    assert shopify.delivery_id(headers, b"{}") == shopify.delivery_id(headers, b"{}")
    assert len(shopify.delivery_id(headers, b"{}")) == 64
    assert shopify.delivery_id(headers, b"{}") != shopify.delivery_id(headers, b"{ }")


def test_topic_is_required() -> None:
    headers = shopify_headers(b"{}", "orders/create")
    del headers["x-shopify-topic"]
    with pytest.raises(MalformedPayload):
        shopify.parse(headers, b"{}")


def test_compliance_topics() -> None:
    assert {
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    } == shopify.COMPLIANCE_TOPICS


# --- install / OAuth query HMAC ---------------------------------------------------------------

NOW = utc(2024, 5, 1, 12, 0)
QUERY = {
    "code": "0907a61c0c8d55e99db179b68161bc00",
    "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWZ0ZXJjYXJlLWRlbW8",
    "shop": "aftercare-demo.myshopify.com",
    "state": "0d4c3f6b-nonce",
    "timestamp": str(int(NOW.timestamp())),
}


def test_install_query_matches_shopifys_documented_example() -> None:
    # The example in Shopify's OAuth docs: secret "hush", this query, this hmac.
    query = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "hmac": "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20",
        "shop": "some-shop.myshopify.com",
        "timestamp": "1337178173",
    }
    now = datetime.fromtimestamp(1337178173 + 30, tz=UTC)
    shopify.verify_install_query(query, ["hush"], now=now)


def test_install_query_valid_and_rotated() -> None:
    shopify.verify_install_query(sign_shopify_query(QUERY), [FAKE_SHOPIFY_SECRET], now=NOW)
    signed_old = sign_shopify_query(QUERY, PREVIOUS_SECRET)
    shopify.verify_install_query(signed_old, [FAKE_SHOPIFY_SECRET, PREVIOUS_SECRET], now=NOW)


def test_install_query_ignores_a_signature_parameter() -> None:
    signed = {**sign_shopify_query(QUERY), "signature": "legacy"}
    shopify.verify_install_query(signed, [FAKE_SHOPIFY_SECRET], now=NOW)


@pytest.mark.parametrize("field", ["code", "state", "host", "timestamp"])
def test_install_query_rejects_tampering(field: str) -> None:
    signed = sign_shopify_query(QUERY)
    signed[field] = signed[field][:-1] + ("1" if signed[field][-1] != "1" else "2")
    with pytest.raises(BadSignature):
        shopify.verify_install_query(signed, [FAKE_SHOPIFY_SECRET], now=NOW)


def test_install_query_rejects_a_delimiter_smuggling_value() -> None:
    # "a=1&b=2" must not verify as if it were two parameters.
    signed = sign_shopify_query({**QUERY, "a": "1", "b": "2"})
    forged = {k: v for k, v in signed.items() if k not in ("a", "b")} | {"a": "1&b=2"}
    with pytest.raises(BadSignature):
        shopify.verify_install_query(forged, [FAKE_SHOPIFY_SECRET], now=NOW)


def test_install_query_rejects_wrong_secret_and_missing_or_bad_hmac() -> None:
    with pytest.raises(BadSignature, match="does not match"):
        shopify.verify_install_query(sign_shopify_query(QUERY, "other"), ["x" * 8], now=NOW)
    with pytest.raises(BadSignature, match="hmac"):
        shopify.verify_install_query(QUERY, [FAKE_SHOPIFY_SECRET], now=NOW)
    with pytest.raises(BadSignature, match="hmac"):
        shopify.verify_install_query({**QUERY, "hmac": "zz"}, [FAKE_SHOPIFY_SECRET], now=NOW)


@pytest.mark.parametrize("offset", [-3600, -91, 91, 86400])
def test_install_query_rejects_a_stale_or_future_timestamp(offset: int) -> None:
    query = {**QUERY, "timestamp": str(int(NOW.timestamp()) + offset)}
    with pytest.raises(BadSignature, match="stale"):
        shopify.verify_install_query(sign_shopify_query(query), [FAKE_SHOPIFY_SECRET], now=NOW)


@pytest.mark.parametrize("timestamp", [None, "", "soon", "1.5", "-5", " 1714564800", "9" * 5000])
def test_install_query_rejects_a_missing_or_bad_timestamp(timestamp: str | None) -> None:
    query = {k: v for k, v in QUERY.items() if k != "timestamp"}
    if timestamp is not None:
        query["timestamp"] = timestamp
    with pytest.raises(BadSignature, match="timestamp"):
        shopify.verify_install_query(sign_shopify_query(query), [FAKE_SHOPIFY_SECRET], now=NOW)


@pytest.mark.parametrize(
    "shop", ["evil.com", "x.myshopify.com.evil.com", "x.myshopify.com\n", "", "a/b.myshopify.com"]
)
def test_install_query_rejects_a_bad_shop_even_when_signed(shop: str) -> None:
    signed = sign_shopify_query({**QUERY, "shop": shop})
    with pytest.raises(BadSignature, match="shop"):
        shopify.verify_install_query(signed, [FAKE_SHOPIFY_SECRET], now=NOW)


# --- parse: orders --------------------------------------------------------------------------


def test_orders_create_parses_the_order() -> None:
    event = _one("orders_create.json", "orders/create")
    assert type(event) is OrderPlaced
    assert event.order_id == "450789469"
    assert event.order_number == "#1001"
    assert event.occurred_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert event.total == Money(Decimal("409.94"), "USD")
    assert event.financial_status == "authorized"
    assert event.fulfillment_status == ""
    assert [li.line_id for li in event.line_items] == ["466157049", "518995019", "703073504"]
    first = event.line_items[0]
    assert first.sku == "IPOD2008GREEN"
    assert first.title == "IPod Nano - 8gb"
    assert first.quantity == 1
    assert first.unit_price == Money(Decimal("199.00"), "USD")
    assert first.product_id == "632910392"
    assert first.tags == ()


def test_orders_create_reads_the_customer() -> None:
    customer = _one("orders_create.json", "orders/create").customer
    assert customer.customer_id == "207119551"
    assert customer.email == "bob.norman@hostmail.com"
    assert customer.phone == "555-625-1199"  # customer has none: shipping address phone
    assert (customer.first_name, customer.last_name) == ("Bob", "Norman")
    assert customer.locale == "zh-CN"
    assert (customer.country, customer.province, customer.city) == ("US", "KY", "Louisville")
    assert customer.accepts_sms is True


def test_orders_create_accepts_a_wrapped_gid_and_guest_checkout() -> None:
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    del order["id"]
    order["admin_graphql_api_id"] = "gid://shopify/Order/450789469"
    order["customer"] = None
    order["shipping_address"] = None
    order["customer_locale"] = None
    body = json.dumps(order).encode()
    (event,) = shopify.parse(shopify_headers(body, "orders/create"), body)
    assert event.order_id == "450789469"
    assert event.customer.customer_id.startswith("guest:")
    assert event.customer.email == "bob.norman@hostmail.com"
    assert event.customer.phone == "555-625-1199"  # billing address
    assert event.customer.country == "US"
    assert event.customer.locale is None


def test_sms_opt_out_is_respected() -> None:
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    order["customer"]["sms_marketing_consent"] = {"state": "unsubscribed"}
    order["customer"]["phone"] = "+15026251199"
    body = json.dumps(order).encode()
    (event,) = shopify.parse(shopify_headers(body, "orders/create"), body)
    assert event.customer.accepts_sms is False
    assert event.customer.phone == "+15026251199"


def test_orders_updated_carries_the_refunded_total() -> None:
    event = _one("orders_updated.json", "orders/updated")
    assert type(event) is OrderUpdated
    assert event.order_id == "820982911946154508"
    assert event.order_number == "#9999"
    assert event.occurred_at == datetime(2022, 1, 2, 15, 30, tzinfo=UTC)
    assert event.total == Money(Decimal("404.95"), "USD")
    assert event.refunded_total == Money(Decimal("75.00"), "USD")
    assert event.tags == ("tag1", "tag2")
    assert len(event.line_items) == 5
    assert event.line_items[1].product_id is None
    customer = event.customer
    assert customer.customer_id == "115310627314723954"
    assert customer.email == "john@example.com"
    assert customer.phone == "555-555-SHIP"
    assert customer.locale == "en"
    assert (customer.country, customer.province, customer.city) == ("US", "KY", "Shippington")


def test_orders_updated_without_refunds_has_no_refunded_total() -> None:
    order = json.loads(load_fixture("shopify", "orders_updated.json"))
    order["refunds"] = []
    body = json.dumps(order).encode()
    (event,) = shopify.parse(shopify_headers(body, "orders/updated"), body)
    assert event.refunded_total is None


def test_orders_cancelled() -> None:
    event = _one("orders_cancelled.json", "orders/cancelled")
    assert event == OrderCancelled(DOCS_TIME, order_id="820982911946154508", reason="customer")


# --- parse: fulfillments ----------------------------------------------------------------------


def test_fulfillments_create_gives_one_shipment_per_tracking_number() -> None:
    event = _one("fulfillments_create.json", "fulfillments/create")
    assert isinstance(event, ShipmentCreated)
    assert event.order_id == "820982911946154508"
    assert event.fulfillment_id == "123456"
    assert event.carrier == "UPS"
    assert event.tracking_number == "1z827wk74630"
    assert event.tracking_url.startswith("https://www.ups.com/WebTracking")
    assert event.status is TrackingStatus.LABEL_CREATED
    assert event.occurred_at == DOCS_TIME
    assert event.line_ids[0] == "487817672276298554"
    assert len(event.line_ids) == 5
    assert event.is_return is False


def test_fulfillments_update_maps_the_shipment_status() -> None:
    event = _one("fulfillments_update.json", "fulfillments/update")
    assert event.status is TrackingStatus.IN_TRANSIT
    assert event.occurred_at == datetime(2022, 1, 3, 13, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("confirmed", TrackingStatus.LABEL_CREATED),
        ("label_printed", TrackingStatus.LABEL_CREATED),
        ("label_purchased", TrackingStatus.LABEL_CREATED),
        ("in_transit", TrackingStatus.IN_TRANSIT),
        ("out_for_delivery", TrackingStatus.OUT_FOR_DELIVERY),
        ("attempted_delivery", TrackingStatus.DELIVERY_FAILED),
        ("ready_for_pickup", TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("delivered", TrackingStatus.DELIVERED),
        ("failure", TrackingStatus.EXCEPTION),
        ("something_new", TrackingStatus.UNKNOWN),
        (None, TrackingStatus.LABEL_CREATED),
    ],
)
def test_shipment_status_mapping(raw: str | None, status: TrackingStatus) -> None:
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment["shipment_status"] = raw
    body = json.dumps(fulfillment).encode()
    (event,) = shopify.parse(shopify_headers(body, "fulfillments/update"), body)
    assert event.status is status


def test_fulfillment_with_several_tracking_numbers() -> None:
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment["tracking_numbers"] = ["1Z1", "1Z2"]
    fulfillment["tracking_urls"] = ["https://t/1Z1"]
    body = json.dumps(fulfillment).encode()
    events = shopify.parse(shopify_headers(body, "fulfillments/create"), body)
    assert [(e.tracking_number, e.tracking_url) for e in events] == [
        ("1Z1", "https://t/1Z1"),
        ("1Z2", ""),
    ]


def test_fulfillment_without_tracking_or_cancelled_is_ignored() -> None:
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment.update(tracking_numbers=[], tracking_number=None)
    body = json.dumps(fulfillment).encode()
    (event,) = shopify.parse(shopify_headers(body, "fulfillments/create"), body)
    assert isinstance(event, Ignored) and "tracking" in event.reason
    fulfillment = json.loads(load_fixture("shopify", "fulfillments_create.json"))
    fulfillment["status"] = "cancelled"
    body = json.dumps(fulfillment).encode()
    (event,) = shopify.parse(shopify_headers(body, "fulfillments/update"), body)
    assert isinstance(event, Ignored) and "cancelled" in event.reason


def test_orders_fulfilled_gives_the_shipments_of_the_order() -> None:
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    body = json.dumps(order).encode()
    (event,) = shopify.parse(shopify_headers(body, "orders/fulfilled"), body)
    # The fixture's only fulfillment has status "failure": nothing ships.
    assert isinstance(event, Ignored)
    order["fulfillments"][0]["status"] = "success"
    order["fulfillments"][0]["shipment_status"] = "delivered"
    body = json.dumps(order).encode()
    (event,) = shopify.parse(shopify_headers(body, "orders/fulfilled"), body)
    assert isinstance(event, ShipmentCreated)
    assert (event.order_id, event.fulfillment_id) == ("450789469", "255858046")
    assert event.tracking_number == "1Z2345"
    assert event.carrier == ""
    assert event.status is TrackingStatus.DELIVERED
    assert event.line_ids == ("466157049",)
    assert event.occurred_at == datetime(2014, 1, 22, 20, 58, 27, tzinfo=UTC)


# --- parse: refunds and returns ---------------------------------------------------------------


def test_refunds_create_sums_successful_refund_transactions() -> None:
    event = _one("refunds_create.json", "refunds/create")
    assert isinstance(event, RefundIssued)
    assert event.order_id == "820982911946154508"
    assert event.refund_id == "890088186047892319"
    # The docs' transactions carry "currency": null: the refund's shop currency is used.
    assert event.amount == Money(Decimal("85.00"), "USD")
    assert event.line_ids[0] == "487817672276298554"
    assert len(event.line_ids) == 5
    assert event.note == "Things were damaged"
    assert event.occurred_at == DOCS_TIME


def test_refund_without_transactions_uses_line_subtotals() -> None:
    refund = json.loads(load_fixture("shopify", "refunds_create.json"))
    refund["transactions"][0]["status"] = "failure"
    refund["transactions"][1]["kind"] = "sale"
    body = json.dumps(refund).encode()
    (event,) = shopify.parse(shopify_headers(body, "refunds/create"), body)
    assert event.amount == Money(Decimal("414.95"), "USD")


def test_shared_rest_refund_fixture_parses() -> None:
    shared = SHARED_FIXTURES / "shopify_rest_fixture_refund.json"
    refund = json.loads(shared.read_text())["refund"]
    body = json.dumps(refund).encode()
    (event,) = shopify.parse(shopify_headers(body, "refunds/create"), body)
    assert event.amount == Money(Decimal("209.00"), "USD")
    assert event.line_ids == ("703073504", "466157049")
    assert event.occurred_at == datetime(2016, 6, 20, 17, 35, 6, tzinfo=UTC)


def test_refund_that_moved_no_money_is_ignored() -> None:
    refund = json.loads(load_fixture("shopify", "refunds_create.json"))
    refund["transactions"] = []
    refund["refund_line_items"] = []
    body = json.dumps(refund).encode()
    (event,) = shopify.parse(shopify_headers(body, "refunds/create"), body)
    assert isinstance(event, Ignored)


def test_returns_request() -> None:
    event = _one("returns_request.json", "returns/request")
    assert isinstance(event, ReturnRequested)
    assert event.return_id == "123134564567890"
    assert event.order_id == "4783296544821"
    assert [(line.line_id, line.quantity, line.reason) for line in event.lines] == [
        ("487817672276298554", 1, "wrong_size"),
        ("890123456789012345", 1, "damaged"),
    ]
    assert event.lines[0].note == "Too tight on the nose"
    assert event.lines[1].note == "Zip broken"
    assert event.customer_note == "Too tight on the nose"


@pytest.mark.parametrize(
    ("name", "topic", "status", "reason"),
    [
        ("returns_approve.json", "returns/approve", "approved", ""),
        ("returns_close.json", "returns/close", "closed", ""),
        ("returns_cancel.json", "returns/cancel", "cancelled", ""),
        ("returns_decline.json", "returns/decline", "declined", "return_period_ended"),
    ],
)
def test_return_status_changes(name: str, topic: str, status: str, reason: str) -> None:
    event = _one(name, topic)
    assert isinstance(event, ReturnStatusChanged)
    assert (event.return_id, event.order_id, event.status) == (
        "123134564567890",
        "4783296544821",
        status,
    )
    assert event.reason.startswith(reason)
    # These payloads carry no time: the delivery's X-Shopify-Triggered-At is used.
    assert event.occurred_at == datetime(2023, 3, 29, 18, 0, 27, 877041, tzinfo=UTC)


# --- parse: app lifecycle and privacy ---------------------------------------------------------


def test_app_uninstalled() -> None:
    event = _one("app_uninstalled.json", "app/uninstalled")
    assert isinstance(event, AppUninstalled)
    assert event.occurred_at.tzinfo is UTC


def test_customers_data_request() -> None:
    event = _one("customers_data_request.json", "customers/data_request")
    assert isinstance(event, CustomerDataRequested)
    assert event.customer_id == "191167"
    assert (event.email, event.phone) == ("john@example.com", "555-625-1199")
    assert event.order_ids == ("299938", "280263", "220458")
    assert event.request_id == "9999"


def test_customers_redact() -> None:
    event = _one("customers_redact.json", "customers/redact")
    assert isinstance(event, CustomerRedact)
    assert event.customer_id == "191167"
    assert event.order_ids == ("299938", "280263", "220458")


def test_shop_redact() -> None:
    assert isinstance(_one("shop_redact.json", "shop/redact"), ShopRedact)


def test_unknown_topic_is_ignored_explicitly() -> None:
    body = b'{"id": 1}'
    (event,) = shopify.parse(shopify_headers(body, "products/update"), body)
    assert isinstance(event, Ignored)
    assert event.topic == "products/update"


def test_missing_triggered_at_falls_back_to_now() -> None:
    body = load_fixture("shopify", "shop_redact.json")
    headers = shopify_headers(body, "shop/redact")
    headers["x-shopify-triggered-at"] = "yesterday"
    before = datetime.now(UTC)
    (event,) = shopify.parse(headers, body)
    assert event.occurred_at >= before


# --- malformed bodies -----------------------------------------------------------------------

ALL_TOPICS = [
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/close",
    "returns/cancel",
    "app/uninstalled",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "products/update",
]


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"x"', b"\xff\xfe", b"{" * 100 + b"}" * 100]
)
@pytest.mark.parametrize("topic", ["orders/create", "fulfillments/create", "shop/redact"])
def test_bad_json_is_malformed(topic: str, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        shopify.parse(shopify_headers(body, topic), body)


NO_CURRENCY_REFUND = {
    "transactions": [{"kind": "refund", "status": "success", "amount": "1"}],
    "refund_line_items": [],
    "total_duties_set": None,
}


@pytest.mark.parametrize(
    ("name", "topic", "change"),
    [
        ("orders_create.json", "orders/create", {"id": None}),
        ("orders_create.json", "orders/create", {"currency": None}),
        ("orders_create.json", "orders/create", {"currency": "DOLLARS"}),
        ("orders_create.json", "orders/create", {"total_price": "lots"}),
        ("orders_create.json", "orders/create", {"total_price": "NaN"}),
        ("orders_create.json", "orders/create", {"line_items": {"a": 1}}),
        ("orders_create.json", "orders/create", {"line_items": [1]}),
        ("orders_create.json", "orders/create", {"line_items": [{"id": 1, "price": "1"}]}),
        ("orders_create.json", "orders/create", {"customer": "bob"}),
        ("orders_create.json", "orders/create", {"created_at": "tuesday", "updated_at": None}),
        ("orders_create.json", "orders/create", {"tags": ["a"]}),
        ("orders_create.json", "orders/create", {"id": "gid://"}),
        ("orders_create.json", "orders/create", {"id": True}),
        ("fulfillments_create.json", "fulfillments/create", {"order_id": None}),
        ("fulfillments_create.json", "fulfillments/create", {"tracking_numbers": "1Z"}),
        ("fulfillments_create.json", "fulfillments/create", {"tracking_numbers": [1]}),
        ("fulfillments_create.json", "fulfillments/create", {"updated_at": 1e400}),
        ("refunds_create.json", "refunds/create", NO_CURRENCY_REFUND),
        ("refunds_create.json", "refunds/create", {"order_id": [1]}),
        ("returns_request.json", "returns/request", {"order": 5}),
        ("returns_request.json", "returns/request", {"return_line_items": [{"quantity": "x"}]}),
        ("returns_close.json", "returns/close", {"order_id": None}),
        ("customers_redact.json", "customers/redact", {"orders_to_redact": [{"id": 1}]}),
    ],
)
def test_missing_or_wrong_typed_fields_are_malformed(name: str, topic: str, change: dict) -> None:
    data = json.loads(load_fixture("shopify", name))
    data.update(change)
    body = json.dumps(data).encode()
    with pytest.raises(MalformedPayload):
        shopify.parse(shopify_headers(body, topic), body)


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (("line_items", 0, "quantity"), b'"1e999999"'),
        (("line_items", 0, "quantity"), b"1e999999"),  # parsed as Decimal: must not expand
        (("line_items", 0, "quantity"), b'"Infinity"'),
        (("line_items", 0, "quantity"), b'"sNaN"'),
        (("line_items", 0, "quantity"), b"-1"),
        (("line_items", 0, "quantity"), b"2.5"),
        (("id",), b"1e999999"),
        (("updated_at",), b'"0001-01-01T00:00:00+14:00"'),
        (("total_price",), b"NaN"),
    ],
)
def test_hostile_numbers_and_times_are_malformed(path: tuple, raw: bytes) -> None:
    order = json.loads(load_fixture("shopify", "orders_create.json"))
    target = order
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "__HOSTILE__"
    body = json.dumps(order).encode().replace(b'"__HOSTILE__"', raw)
    with pytest.raises(MalformedPayload):
        shopify.parse(shopify_headers(body, "orders/create"), body)


SHOPIFY_KEYS = st.sampled_from(
    [
        "id", "order_id", "currency", "total_price", "line_items", "customer", "price",
        "quantity", "tracking_numbers", "tracking_urls", "tracking_number", "shipment_status",
        "status", "transactions", "refund_line_items", "subtotal", "subtotal_set", "amount",
        "kind", "order", "return_line_items", "fulfillment_line_item", "line_item",
        "orders_to_redact", "orders_requested", "data_request", "refunds", "fulfillments",
        "created_at", "updated_at", "shipping_address", "billing_address", "tags", "decline",
    ]
)  # fmt: skip
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2021-12-31T19:00:00-05:00", "USD", "refund", "success", "gid://x/Y/1"])
)
shopify_like = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(SHOPIFY_KEYS, children),
    max_leaves=12,
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(ALL_TOPICS), data=st.dictionaries(SHOPIFY_KEYS, shopify_like))
def test_random_payloads_raise_only_malformed_payload(topic: str, data: dict) -> None:
    body = json.dumps(data).encode()
    try:
        events = shopify.parse(shopify_headers(body, topic), body)
    except MalformedPayload:
        return
    assert isinstance(events, list) and events
