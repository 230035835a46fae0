"""The outbox stream consumer on real stream records: DynamoDB Local's stream of the test table
is read with boto3 `dynamodbstreams`, passed through the template's filter, and handed to the
app's `send_outbox_stream` as Lambda would; the schedule and the stream never send twice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_slice import post_easypost, ship_order, tracker_body

PHONE = "+14155552671"  # the customer of the Shopify order fixture


class StreamTail:
    """Records written to the table's stream after `start()` (DynamoDB Local, boto3)."""

    def __init__(self, stack: Any, table: str) -> None:
        import boto3

        from devtools.stack import FAKE_AWS_ENV

        self.streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=stack.dynamodb_endpoint,
            region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )
        self.arn = stack.dynamodb_client().describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        self.iterators: dict[str, str] = {}

    def start(self) -> StreamTail:
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"][
            "Shards"
        ]:
            if "EndingSequenceNumber" in shard["SequenceNumberRange"]:
                continue  # closed: nothing new will arrive there
            self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
        return self

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard, iterator in list(self.iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator)
            records += response["Records"]
            if response.get("NextShardIterator"):
                self.iterators[shard] = response["NextShardIterator"]
        for record in records:  # as Lambda delivers them: epoch seconds, not datetimes
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if created is not None and not isinstance(created, int | float):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
        return records


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, the subset our pattern uses: nested keys, lists of exact values
    or `{"prefix": ...}` (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html)."""
    if isinstance(pattern, Mapping):
        return isinstance(value, Mapping) and all(
            key in value and matches(sub, value[key]) for key, sub in pattern.items()
        )
    return any(
        (isinstance(rule, Mapping) and str(value).startswith(rule["prefix"])) or rule == value
        for rule in pattern
    )


def template_filter() -> dict[str, Any]:
    from pathlib import Path

    infra = json.loads((Path(__file__).resolve().parents[2] / "infra/resources.json").read_text())
    events = infra["Resources"]["SendOutboxStream"]["Properties"]["Events"]
    [mapping] = events.values()
    [only] = mapping["Properties"]["FilterCriteria"]["Filters"]
    return json.loads(only["Pattern"])


def lambda_event(records: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {**record, "eventSourceARN": arn, "awsRegion": "us-east-1"} for record in records
        ]
    }


@pytest.fixture()
def tail(stack, app_deps) -> StreamTail:
    return StreamTail(stack, app_deps.settings.table_name).start()


@pytest.fixture()
def consume(client):
    """Invoke the app's stream consumer with records, as the event source mapping would."""
    import app as app_module

    def run(records: list[dict[str, Any]], arn: str = "arn:local") -> dict[str, int]:
        return app_module.send_outbox_stream(lambda_event(records, arn), None)

    return run


def _outbox_inserts(records: list[dict[str, Any]], merchant_id: str) -> list[dict[str, Any]]:
    pattern = template_filter()
    mine = [r for r in records if f"#{merchant_id}#" in r["dynamodb"]["Keys"]["pk"]["S"]]
    return [r for r in mine if matches(pattern, r)]


def test_the_filter_passes_only_new_outbox_items_and_the_consumer_sends_them_once(
    client, merchant, app_deps, tail, consume, sms_sent
):
    from chalicelib.notify.stream_consumer import is_new_outbox
    from chalicelib.store import keys
    from chalicelib.store.models import OutboxItem

    ship_order(client, merchant, tracking="1ZSTREAM0001", order_id=880001)
    records = tail.read()
    inserted = _outbox_inserts(records, merchant.merchant_id)
    assert len(inserted) == 1  # the "shipped" SMS; the order, customer, shipment... pass not
    mine = [r for r in records if f"#{merchant.merchant_id}" in r["dynamodb"]["Keys"]["pk"]["S"]]
    assert len(mine) > 3
    assert [is_new_outbox(r) for r in mine] == [matches(template_filter(), r) for r in mine]
    before = len(sms_sent())

    assert consume(records) == {"sent": 1, "ignored": len(records) - 1}

    assert sms_sent()[before:] == [(PHONE, sms_sent()[before][1])]
    pk = inserted[0]["dynamodb"]["Keys"]["pk"]["S"]
    item = app_deps.store.get(OutboxItem, pk)
    assert (item.status, item.due_pk) == ("sent", None)
    # The send is a MODIFY of the item: the filter does not pass it back to the consumer.
    assert _outbox_inserts(tail.read(), merchant.merchant_id) == []
    # Lambda retries a batch, or the record comes again: the claim's version condition holds.
    assert consume(inserted) == {"busy": 1}
    assert len(sms_sent()) == before + 1
    assert item.pk == keys.outbox(merchant.merchant_id, item.outbox_id)


def test_an_item_the_schedule_sent_first_is_not_sent_again_by_its_stream_record(
    client, merchant, app_deps, tail, consume, sms_sent
):
    from chalicelib.notify.sender import deliver_due

    ship_order(client, merchant, tracking="1ZSTREAM0002", order_id=880002)
    body = tracker_body("1ZSTREAM0002", "out_for_delivery", "evt_stream_2", "2026-11-23T14:00:00Z")
    assert post_easypost(client, merchant.merchant_id, body).status_code == 200
    inserted = _outbox_inserts(tail.read(), merchant.merchant_id)
    assert len(inserted) == 2  # shipped + out for delivery
    before = len(sms_sent())
    deliver_due(app_deps, FIXED_NOW)  # the sweep runs before the stream batch arrives
    sent_by_sweep = len(sms_sent()) - before
    assert sent_by_sweep >= 2

    assert consume(inserted) == {"busy": 2}
    assert len(sms_sent()) - before == sent_by_sweep


def test_an_item_claimed_but_not_finished_by_the_sweep_is_left_to_its_lease(
    client, merchant, app_deps, tail, consume, sms_sent
):
    from chalicelib.notify.sender import _claim
    from chalicelib.notify.stream_consumer import outbox_item

    ship_order(client, merchant, tracking="1ZSTREAM0003", order_id=880003)
    [record] = _outbox_inserts(tail.read(), merchant.merchant_id)
    assert _claim(app_deps, outbox_item(record), FIXED_NOW)  # the sweep is sending it now
    before = len(sms_sent())

    assert consume([record]) == {"busy": 1}
    assert len(sms_sent()) == before


def test_items_not_due_yet_are_left_to_the_sweep(merchant, app_deps, tail, consume, sms_sent):
    from chalicelib.store.models import OutboxItem
    from chalicelib.store.records import new_outbox, set_outbox_due

    later = FIXED_NOW + timedelta(hours=3)
    item = new_outbox(
        merchant.merchant_id,
        cause="test:later",
        kind="shipment_delivered",
        now=FIXED_NOW,
        customer_id="nobody",
        context={},
    )
    set_outbox_due(item, later)
    uow = app_deps.store.unit_of_work()
    uow.insert("outbox", item)
    uow.commit()
    [record] = _outbox_inserts(tail.read(), merchant.merchant_id)
    before = len(sms_sent())

    assert consume([record]) == {"not_due": 1}

    stored = app_deps.store.get(OutboxItem, item.pk)
    assert (stored.status, stored.next_attempt_at) == ("pending", later)
    assert len(sms_sent()) == before


def test_an_item_that_raises_fails_the_batch_after_the_others_are_sent(
    client, merchant, app_deps, tail, consume, sms_sent, monkeypatch
):
    from chalicelib.notify import sender
    from chalicelib.notify.stream_consumer import StreamBatchFailed

    ship_order(client, merchant, tracking="1ZSTREAM0004", order_id=880004)
    body = tracker_body("1ZSTREAM0004", "out_for_delivery", "evt_stream_4", "2026-11-23T14:00:00Z")
    assert post_easypost(client, merchant.merchant_id, body).status_code == 200
    first, second = _outbox_inserts(tail.read(), merchant.merchant_id)
    broken = first["dynamodb"]["Keys"]["pk"]["S"]

    def deliver(deps, item, now):
        if item.pk == broken:
            raise RuntimeError("a bug in one message")
        return sender.deliver_one(deps, item, now)

    monkeypatch.setitem(sender.CHANNEL_SENDERS, "sms", f"{__name__}:_deliver")
    monkeypatch.setattr(f"{__name__}._deliver", deliver, raising=False)
    before = len(sms_sent())

    with pytest.raises(StreamBatchFailed, match="1 outbox item"):
        consume([first, second])

    assert len(sms_sent()) == before + 1  # the healthy item went; Lambda retries the batch
    monkeypatch.undo()  # the bug is fixed by the retry
    assert consume([first, second]) == {"sent": 1, "busy": 1}  # no second send of the other
    assert len(sms_sent()) == before + 2
