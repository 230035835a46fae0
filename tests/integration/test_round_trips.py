"""DynamoDB round trips per webhook, counted by a botocore hook: the cost of each event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.integration.test_slice import (
    order_body,
    post_easypost,
    post_shopify,
    ship_order,
    tracker_body,
)


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """Names of the DynamoDB operations made inside the block, in order."""
    from chalicelib.store.models import BaseItem

    calls: list[str] = []
    events = BaseItem._get_connection().connection.client.meta.events

    def record(model, **_: object) -> None:
        calls.append(model.name)

    events.register("before-call.dynamodb", record, unique_id="round-trip-counter")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", unique_id="round-trip-counter")


def test_order_webhook_is_one_lookup_one_read_one_write(client, merchant):
    with dynamodb_calls() as calls:
        post_shopify(client, merchant.shop_domain, "orders/create", order_body())
    assert calls == ["GetItem", "BatchGetItem", "TransactWriteItems"]


def test_tracking_update_is_one_lookup_one_read_one_write(client, merchant):
    ship_order(client, merchant)
    body = tracker_body("1Z827WK74630", "out_for_delivery", "evt_rt", "2026-11-23T14:00:00Z")
    with dynamodb_calls() as calls:
        post_easypost(client, merchant.merchant_id, body)
    assert calls == ["GetItem", "BatchGetItem", "TransactWriteItems"]


def test_duplicate_delivery_reads_and_writes_nothing_more(client, merchant):
    ship_order(client, merchant)
    body = tracker_body("1Z827WK74630", "delivered", "evt_dup", "2026-11-23T14:00:00Z")
    post_easypost(client, merchant.merchant_id, body)
    with dynamodb_calls() as calls:
        post_easypost(client, merchant.merchant_id, body)
    assert calls == ["GetItem", "BatchGetItem"]


def test_bad_signature_costs_one_lookup_and_no_write(client, merchant):
    body = tracker_body("1Z827WK74630", "delivered", "evt_bad", "2026-11-23T14:00:00Z")
    with dynamodb_calls() as calls:
        post_easypost(
            client, merchant.merchant_id, body, {"X-Hmac-Signature": "hmac-sha256-hex=00"}
        )
    assert calls == ["GetItem"]
