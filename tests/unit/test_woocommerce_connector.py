"""WooCommerce connector: signature verification, the unsigned ping, and order topics."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.connectors import woocommerce
from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import (
    Ignored,
    Money,
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    RefundIssued,
)
from tests.signing import FAKE_WOOCOMMERCE_SECRET, woocommerce_headers
from tests.support import load_fixture

PREVIOUS_SECRET = "wc_fake_previous_secret_do_not_use"
MODIFIED = datetime(2017, 3, 22, 19, 30, 35, tzinfo=UTC)  # date_modified_gmt of order 727
GUEST_ID = "guest:836f82db99121b34"  # sha256("john.doe@example.com")[:16]


def _parse(name: str, topic: str) -> list:
    body = load_fixture("woocommerce", name)
    headers = woocommerce_headers(body, topic)
    woocommerce.verify(headers, body, [FAKE_WOOCOMMERCE_SECRET])
    return woocommerce.parse(headers, body)


# --- verify and ping --------------------------------------------------------------------------


def test_verify_right_and_rotated_secret() -> None:
    body = load_fixture("woocommerce", "order_created.json")
    woocommerce.verify(woocommerce_headers(body, "order.created"), body, FAKE_WOOCOMMERCE_SECRET)
    old = woocommerce_headers(body, "order.created", secret=PREVIOUS_SECRET)
    woocommerce.verify(old, body, [FAKE_WOOCOMMERCE_SECRET, PREVIOUS_SECRET])


def test_verify_rejects_wrong_secret_tampered_body_and_bad_headers() -> None:
    body = load_fixture("woocommerce", "order_created.json")
    headers = woocommerce_headers(body, "order.created")
    with pytest.raises(BadSignature, match="does not match"):
        woocommerce.verify(headers, body, ["wc_someone_else"])
    with pytest.raises(BadSignature, match="does not match"):
        woocommerce.verify(headers, body.replace(b"29.35", b"0.01"), [FAKE_WOOCOMMERCE_SECRET])
    with pytest.raises(BadSignature, match="base64"):
        bad = {**headers, "x-wc-webhook-signature": "***"}
        woocommerce.verify(bad, body, [FAKE_WOOCOMMERCE_SECRET])
    del headers["x-wc-webhook-signature"]
    with pytest.raises(BadSignature, match="missing"):
        woocommerce.verify(headers, body, [FAKE_WOOCOMMERCE_SECRET])


def test_ping_is_recognised_and_unsigned() -> None:
    body = load_fixture("woocommerce", "ping.txt")
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert woocommerce.is_ping(headers, body)
    with pytest.raises(BadSignature):
        woocommerce.verify(headers, body, [FAKE_WOOCOMMERCE_SECRET])


@pytest.mark.parametrize("body", [b"webhook_id=", b"webhook_id=1&x=2", b"{}", b"webhook_id=abc"])
def test_other_bodies_are_not_pings(body: bytes) -> None:
    assert not woocommerce.is_ping({}, body)


def test_a_signed_topic_delivery_is_not_a_ping() -> None:
    body = b"webhook_id=17"
    assert not woocommerce.is_ping(woocommerce_headers(body, "order.created"), body)


def test_delivery_id_and_topic() -> None:
    body = b"{}"
    headers = woocommerce_headers(body, "Order.Updated")
    assert woocommerce.topic(headers) == "order.updated"
    assert woocommerce.delivery_id(headers, body) == "a3f1b7c2d4e5f60718293a4b5c6d7e8f"
    del headers["x-wc-webhook-delivery-id"]
    assert len(woocommerce.delivery_id(headers, body)) == 64
    del headers["x-wc-webhook-topic"]
    with pytest.raises(MalformedPayload):
        woocommerce.parse(headers, body)


# --- parse ----------------------------------------------------------------------------------


def test_order_created() -> None:
    (event,) = _parse("order_created.json", "order.created")
    assert type(event) is OrderPlaced
    assert (event.order_id, event.order_number) == ("727", "727")
    assert event.occurred_at == MODIFIED
    assert event.total == Money(Decimal("29.35"), "USD")
    assert (event.financial_status, event.fulfillment_status) == ("completed", "fulfilled")
    first, second = event.line_items
    assert (first.line_id, first.sku, first.title, first.quantity) == (
        "315",
        None,
        "Woo Single #1",
        2,
    )
    assert first.unit_price == Money(Decimal("3"), "USD")
    assert first.product_id == "93"
    assert (second.sku, second.unit_price) == ("Bar3", Money(Decimal("12"), "USD"))
    customer = event.customer
    assert customer.customer_id == GUEST_ID
    assert customer.email == "john.doe@example.com"
    assert customer.phone == "(555) 555-5555"
    assert (customer.first_name, customer.last_name) == ("John", "Doe")
    assert (customer.country, customer.province, customer.city) == ("US", "CA", "San Francisco")
    assert customer.locale is None


def test_registered_customer_keeps_their_id() -> None:
    order = json.loads(load_fixture("woocommerce", "order_created.json"))
    order["customer_id"] = 42
    order["shipping"]["country"] = "ca"
    body = json.dumps(order).encode()
    (event,) = woocommerce.parse(woocommerce_headers(body, "order.created"), body)
    assert event.customer.customer_id == "42"
    assert event.customer.country == "CA"


def test_guest_without_email_has_no_customer() -> None:
    order = json.loads(load_fixture("woocommerce", "order_created.json"))
    order["billing"]["email"] = ""
    body = json.dumps(order).encode()
    (event,) = woocommerce.parse(woocommerce_headers(body, "order.created"), body)
    assert event.customer is None


def test_order_updated_yields_the_order_and_each_refund() -> None:
    updated, *refunds = _parse("order_updated.json", "order.updated")
    assert type(updated) is OrderUpdated
    assert updated.refunded_total == Money(Decimal("19.00"), "USD")
    assert refunds == [
        RefundIssued(
            MODIFIED, order_id="727", refund_id="726", amount=Money(Decimal("10.00"), "USD")
        ),
        RefundIssued(
            MODIFIED, order_id="727", refund_id="724", amount=Money(Decimal("9.00"), "USD")
        ),
    ]


def test_order_updated_without_refunds() -> None:
    (updated,) = _parse("order_created.json", "order.updated")
    assert updated.refunded_total is None


def test_refund_reason_is_kept() -> None:
    order = json.loads(load_fixture("woocommerce", "order_updated.json"))
    order["refunds"] = [{"id": 800, "reason": "Damaged in transit", "total": "-5.50"}]
    body = json.dumps(order).encode()
    _, refund = woocommerce.parse(woocommerce_headers(body, "order.updated"), body)
    assert refund.note == "Damaged in transit"
    assert refund.amount == Money(Decimal("5.50"), "USD")


def test_cancelled_order_also_yields_order_cancelled() -> None:
    order = json.loads(load_fixture("woocommerce", "order_created.json"))
    order["status"] = "cancelled"
    body = json.dumps(order).encode()
    updated, cancelled = woocommerce.parse(woocommerce_headers(body, "order.updated"), body)
    assert cancelled == OrderCancelled(MODIFIED, order_id="727")
    assert updated.financial_status == "cancelled"


@pytest.mark.parametrize("topic", ["order.deleted", "product.updated", "action.woocommerce_x"])
def test_other_topics_are_ignored(topic: str) -> None:
    body = b'{"id": 727}'
    (event,) = woocommerce.parse(woocommerce_headers(body, topic), body)
    assert isinstance(event, Ignored) and event.topic == topic


# --- malformed ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"webhook_id=17", b"\xff"])
def test_bad_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        woocommerce.parse(woocommerce_headers(body, "order.created"), body)


@pytest.mark.parametrize(
    "change",
    [
        {"id": None},
        {"currency": None},
        {"currency": "EURO"},
        {"total": "many"},
        {"date_modified_gmt": None, "date_created_gmt": None},
        {"date_modified_gmt": "0001-01-01T00:00:00+14:00"},
        {"line_items": "x"},
        {"line_items": [1]},
        {"line_items": [{"id": 1, "price": 3, "quantity": 1.5}]},
        {"line_items": [{"id": 1, "price": 3, "quantity": 10**12}]},
        {"billing": "john"},
        {"refunds": [{"id": 1, "total": "NaN"}]},
        {"refunds": [5]},
    ],
)
def test_missing_or_wrong_typed_fields_are_malformed(change: dict) -> None:
    order = json.loads(load_fixture("woocommerce", "order_updated.json"))
    order.update(change)
    body = json.dumps(order).encode()
    with pytest.raises(MalformedPayload):
        woocommerce.parse(woocommerce_headers(body, "order.updated"), body)


WOO_KEYS = st.sampled_from(
    [
        "id", "number", "status", "currency", "total", "customer_id", "billing", "shipping",
        "email", "phone", "country", "state", "city", "line_items", "quantity", "price", "sku",
        "name", "product_id", "refunds", "reason", "date_created_gmt", "date_modified_gmt",
    ]
)  # fmt: skip
woo_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2017-03-22T19:30:35", "USD", "-10.00", "cancelled"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(WOO_KEYS, children),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(["order.created", "order.updated", "order.deleted"]),
    data=st.dictionaries(WOO_KEYS, woo_like),
)
def test_random_payloads_raise_only_malformed_payload(topic: str, data: dict) -> None:
    body = json.dumps(data).encode()
    try:
        events = woocommerce.parse(woocommerce_headers(body, topic), body)
    except MalformedPayload:
        return
    assert events
