"""DynamoDB round trips per webhook, counted by a botocore hook: the cost of each event.

A warm Lambda container has the merchant in its cache (chalicelib/store/merchant_cache.py),
so a webhook is one BatchGetItem and one TransactWriteItems; a cold one reads the merchant
first. Each test states the exact call list: an extra round trip fails it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chalicelib.store.merchant_cache import CACHE
from tests.integration import sms_helpers
from tests.integration.sms_helpers import configure, inbound_params, new_phone, post_twilio
from tests.integration.test_slice import (
    order_body,
    post_easypost,
    post_shopify,
    ship_order,
    tracker_body,
)
from tests.signing import FAKE_EASYPOST_SECRET, sign_easypost

stubs, providers = sms_helpers.stubs, sms_helpers.providers  # the SMS tests' fixtures
ONE_READ_ONE_WRITE = ["BatchGetItem", "TransactWriteItems"]
COLD = ["GetItem", *ONE_READ_ONE_WRITE]  # + the merchant, once per container and minute


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


@pytest.fixture()
def cold():
    """A cold container: nothing cached (as after a deploy or a scale-out)."""
    CACHE.clear()


def test_order_webhook_on_a_cold_container_reads_the_merchant_first(client, merchant, cold):
    with dynamodb_calls() as calls:
        post_shopify(client, merchant.shop_domain, "orders/create", order_body(4501))
    assert calls == COLD


def test_order_webhook_on_a_warm_container_is_one_read_one_write(client, merchant):
    post_shopify(client, merchant.shop_domain, "orders/create", order_body(4502))
    with dynamodb_calls() as calls:
        post_shopify(client, merchant.shop_domain, "orders/create", order_body(4503))
    assert calls == ONE_READ_ONE_WRITE


def test_tracking_update_is_one_read_one_write_warm_and_one_lookup_more_cold(client, merchant):
    ship_order(client, merchant)
    body = tracker_body("1Z827WK74630", "out_for_delivery", "evt_rt", "2026-11-23T14:00:00Z")
    with dynamodb_calls() as warm:
        post_easypost(client, merchant.merchant_id, body)
    CACHE.clear()
    body = tracker_body("1Z827WK74630", "delivered", "evt_rt2", "2026-11-23T14:30:00Z")
    with dynamodb_calls() as cold:
        post_easypost(client, merchant.merchant_id, body)
    assert (warm, cold) == (ONE_READ_ONE_WRITE, COLD)


def test_duplicate_delivery_reads_and_writes_nothing_more(client, merchant):
    ship_order(client, merchant)
    body = tracker_body("1Z827WK74630", "delivered", "evt_dup", "2026-11-23T14:00:00Z")
    post_easypost(client, merchant.merchant_id, body)
    with dynamodb_calls() as calls:
        post_easypost(client, merchant.merchant_id, body)
    assert calls == ["BatchGetItem"]


def test_bad_signature_costs_one_lookup_and_no_write_warm_or_cold(client, merchant):
    """Warm, the failed check reads the merchant again (a rotated secret must not be refused
    for a minute): still one GetItem, as cold."""
    ship_order(client, merchant)
    body = tracker_body("1Z827WK74630", "delivered", "evt_bad", "2026-11-23T14:00:00Z")
    bad = {"X-Hmac-Signature": "hmac-sha256-hex=00"}
    with dynamodb_calls() as warm:
        assert post_easypost(client, merchant.merchant_id, body, bad).status_code == 401
    CACHE.clear()
    with dynamodb_calls() as cold:
        assert post_easypost(client, merchant.merchant_id, body, bad).status_code == 401
    assert warm == cold == ["GetItem"]


def test_a_secret_rotated_by_another_container_is_accepted_at_once(
    client, merchant, stack, app_deps
):
    ship_order(client, merchant)  # this container now caches the merchant with the old secret
    rotated = "whsec_rotated_elsewhere"
    secrets = [rotated, FAKE_EASYPOST_SECRET]
    _write_behind_this_containers_back(
        stack, app_deps.settings.table_name, merchant.merchant_id, secrets
    )
    body = tracker_body("1Z827WK74630", "in_transit", "evt_rot", "2026-11-23T14:00:00Z")
    headers = sign_easypost(body, secret=rotated)
    url = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    with dynamodb_calls() as first:
        assert client.http.post(url, headers=headers, body=body).status_code == 200
    again = tracker_body("1Z827WK74630", "out_for_delivery", "evt_rot2", "2026-11-23T14:10:00Z")
    headers = sign_easypost(again, secret=rotated)
    with dynamodb_calls() as second:
        assert client.http.post(url, headers=headers, body=again).status_code == 200
    assert first == COLD  # the cached secret failed: read once more, then accepted
    assert second == ONE_READ_ONE_WRITE  # the fresh copy is cached


def test_a_merchant_change_in_this_container_drops_the_cached_copy(client, merchant, app_deps):
    post_shopify(client, merchant.shop_domain, "orders/create", order_body(4504))
    stored = app_deps.store.merchant(merchant.merchant_id)
    stored.settings = {**(stored.settings or {}), "support_contact": "help@example.com"}
    uow = app_deps.store.unit_of_work()
    uow.save("merchant", stored)
    uow.commit()
    with dynamodb_calls() as calls:
        post_shopify(client, merchant.shop_domain, "orders/create", order_body(4505))
    assert calls == COLD
    cached, hit = app_deps.store.cached_merchant(merchant.merchant_id)
    assert hit and cached.settings["support_contact"] == "help@example.com"


def test_return_request_reads_the_orders_customer_in_a_second_round(client, merchant):
    """The request names the order, not the customer: the customer's recent returns (for the
    rules) are read once the order is known."""
    from tests.integration.test_returns import delivered_order, request_return

    delivered_order(client, merchant)
    with dynamodb_calls() as calls:
        assert request_return(client, merchant)["events"][0]["outcome"] == "applied"
    assert calls == ["BatchGetItem", "GetItem", "TransactWriteItems"]


def test_sms_reply_reads_pointer_state_and_recent_cases(client, merchant, app_deps, providers):
    """Phone pointer -> (receipt, customer) -> the customer's timeline -> its cases: each key
    comes from the previous read; the merchant comes from the cache."""
    from chalicelib.notify.sender import deliver_due
    from tests.conftest import FIXED_NOW
    from tests.integration.sms_helpers import place_order

    configure(app_deps, merchant.merchant_id, sms_provider="twilio")
    phone = new_phone()
    place_order(client, merchant.shop_domain, phone, 7101, tracking="1ZRTSMS0001")
    failure = tracker_body("1ZRTSMS0001", "failure", "evt_rt_sms", "2026-11-23T14:00:00Z")
    assert post_easypost(client, merchant.merchant_id, failure).status_code == 200  # a case
    deliver_due(app_deps, FIXED_NOW)
    with dynamodb_calls() as calls:
        response = post_twilio(client, inbound_params(phone, "Where is my parcel?"))
    assert response.status_code == 200
    assert calls == ["GetItem", "BatchGetItem", "Query", "BatchGetItem", "TransactWriteItems"]


def _write_behind_this_containers_back(
    stack, table: str, merchant_id: str, secrets: list[str]
) -> None:
    """Another container's write: straight to DynamoDB, not through this process's store."""
    from chalicelib.store import keys

    stack.dynamodb_client().update_item(
        TableName=table,
        Key={"pk": {"S": keys.merchant(merchant_id)}, "sk": {"S": keys.META}},
        UpdateExpression="SET webhook_secrets = :secrets",
        ExpressionAttributeValues={":secrets": {"S": json.dumps({"easypost": secrets})}},
    )
