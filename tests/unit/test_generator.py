"""The shared data generator: reproducible, realistic, and consistent with itself."""

from __future__ import annotations

import random
import re
from collections import Counter

import phonenumbers
import pytest

from tests.data.generator import LOCALES, complaint, generate, happenings

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def data():
    return generate(seed=42, merchants=4, orders_per_merchant=120)


def test_same_seed_same_data_and_another_seed_differs():
    assert generate(seed=7, merchants=2, orders_per_merchant=20) == generate(
        seed=7, merchants=2, orders_per_merchant=20
    )
    assert generate(seed=7, merchants=2, orders_per_merchant=20) != generate(
        seed=8, merchants=2, orders_per_merchant=20
    )


def test_every_locale_appears_with_names_in_its_script(data):
    by_locale = Counter(c.locale for c in data.customers)
    assert set(by_locale) == set(LOCALES)
    for customer in data.customers:
        assert bool(CJK.search(customer.last_name)) == (customer.locale == "zh-CN")
    assert any(ch in "äöüßÄÖÜ" for c in data.customers for ch in c.first_name + c.last_name)
    assert any(ch in "áéíñóú" for c in data.customers for ch in c.first_name + c.last_name)


def test_phones_are_valid_for_the_customers_country(data):
    with_phone = [c for c in data.customers if c.phone]
    assert len(with_phone) > 0.8 * len(data.customers)
    for customer in with_phone:
        number = phonenumbers.parse(customer.phone, customer.country)
        assert phonenumbers.is_valid_number(number), customer.phone
        assert phonenumbers.region_code_for_number(number) == customer.country


def test_emails_are_ascii_on_reserved_example_domains(data):
    for customer in data.customers:
        assert customer.email.isascii()
        assert re.fullmatch(r"[a-z.']+\d+@example\.(com|net|org)", customer.email)


def test_ids_are_unique_and_datasets_with_other_merchants_share_none():
    a = generate(seed=1, merchants=2, orders_per_merchant=50)
    b = generate(seed=1, merchants=2, orders_per_merchant=50, first_merchant=2)
    for dataset in (a, b):
        assert len({o.order_id for o in dataset.orders}) == len(dataset.orders)
        assert len({f.tracking_number for f in dataset.fulfillments}) == len(dataset.fulfillments)
        events = [u.event_id for s in dataset.tracking.values() for u in s]
        assert len(set(events)) == len(events)
    assert not {m.merchant_id for m in a.merchants} & {m.merchant_id for m in b.merchants}
    assert not {o.order_id for o in a.orders} & {o.order_id for o in b.orders}
    assert not {f.fulfillment_id for f in a.fulfillments} & {
        f.fulfillment_id for f in b.fulfillments
    }


def test_orders_add_up_and_use_the_shops_currency(data):
    for order in data.orders:
        assert order.lines and order.currency == order.merchant.currency
        assert order.total == sum(x.unit_price * x.quantity for x in order.lines) + order.shipping
        assert all(x.unit_price > 0 and x.quantity >= 1 and x.sku for x in order.lines)
        assert order.customer.merchant_id == order.merchant.merchant_id


def test_fulfillments_ship_lines_of_their_order_after_it_was_placed(data):
    shipped = Counter()
    for shipment in data.fulfillments:
        order_lines = {line.line_id for line in shipment.order.lines}
        assert set(shipment.line_ids) <= order_lines and shipment.line_ids
        assert shipment.created_at > shipment.order.created_at
        shipped.update(shipment.line_ids)
    assert max(shipped.values()) == 1  # no line ships twice


def test_tracking_streams_start_at_the_label_move_forward_and_end_plausibly(data):
    ends = Counter()
    for number, stream in data.tracking.items():
        assert stream[0].status == "pre_transit"
        assert all(u.fulfillment.tracking_number == number for u in stream)
        assert [u.at for u in stream] == sorted(u.at for u in stream)
        assert stream[0].at > stream[0].fulfillment.created_at
        ends[stream[-1].status] += 1
    assert ends["delivered"] > 0.7 * sum(ends.values())
    assert {"failure", "return_to_sender", "in_transit"} & set(ends)


def test_returns_ask_for_delivered_lines_within_quantity_with_a_note_in_the_customers_language(
    data,
):
    assert data.returns
    for request in data.returns:
        order = request.order
        for line, quantity, reason in request.lines:
            assert line in order.lines and 1 <= quantity <= line.quantity and reason
        delivered = [
            data.tracking[f.tracking_number][-1]
            for f in data.fulfillments
            if f.order is order and data.tracking[f.tracking_number][-1].status == "delivered"
        ]
        assert delivered and request.requested_at > max(u.at for u in delivered)
        assert bool(CJK.search(request.note)) == (order.customer.locale == "zh-CN")
        assert order.order_number in request.note
    assert all(r.at > r.request.requested_at for r in data.receipts)


def test_complaints_exist_for_every_topic_and_locale():
    rng = random.Random(0)
    for topic in ("late", "damaged", "wrong_item", "not_received", "size"):
        texts = {locale: complaint(rng, topic, locale, "#1042") for locale in LOCALES}
        assert all("#1042" in text for text in texts.values())
        assert CJK.search(texts["zh-CN"]) and not CJK.search(texts["de"])
        assert len(set(texts.values())) == len(LOCALES)


def test_happenings_are_in_time_order_and_cover_every_kind(data):
    found = happenings(data)
    assert [h.at for h in found] == sorted(h.at for h in found)
    kinds = Counter(h.kind for h in found)
    assert set(kinds) == {
        "order_created",
        "fulfillment",
        "tracking_update",
        "return_requested",
        "warehouse_receipt",
        "sms_reply",
    }
    assert kinds["order_created"] == len(data.orders)
    first_seen = {}
    for h in found:
        if h.kind == "order_created":
            first_seen[h.subject.order_id] = h.at
        if h.kind == "fulfillment":
            assert first_seen[h.subject.order.order_id] <= h.at
