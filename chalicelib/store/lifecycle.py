"""Store operations of install and privacy flows: single-use states, listing and erasing.

Every read is a GetItem or a Query on a key or index (never a Scan): a merchant's items are
listed from its sharded item index (gsi1 `ITEMS#{mid}#{n}`) and its case, notification and
privacy-request partitions; a customer's from their timeline (gsi2) and the notifications
partition filtered by customer. Conditional writes answer None when their condition fails,
so a replayed state or a concurrent twin is told apart from an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.store import keys
from chalicelib.store.models import OAuthStateItem, OutboxItem, PrivacyRequestItem

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = [
    "consume_state",
    "use_state",
    "index_keys",
    "partition_keys",
    "merchant_item_keys",
    "delete_keys",
    "customer_outbox",
    "privacy_requests",
    "drop_phone_owner",
]


def _conditional(store: Store, operation: str, **kwargs: Any) -> dict[str, Any] | None:
    """Run a conditional write; its returned attributes ({} if none), None if the condition
    failed."""
    from botocore.exceptions import ClientError

    try:
        response = getattr(store.connection.client, operation)(TableName=store.table_name, **kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return response.get("Attributes") or {}


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": keys.META}}


def consume_state(
    store: Store, pk: str, now: datetime, *, subject: str | None = None, used: bool | None = None
) -> OAuthStateItem | None:
    """Delete a state item if it exists, has not expired and (when given) is for `subject`
    and `used` is as stated; returns it, or None (unknown, expired, replayed, someone
    else's). One conditional DeleteItem: two concurrent uses cannot both succeed."""
    condition = "attribute_exists(pk) AND expires > :now"
    values: dict[str, Any] = {":now": {"N": str(int(now.timestamp()))}}
    if subject is not None:
        condition += " AND subject = :s"
        values[":s"] = {"S": subject}
    if used is not None:
        condition += " AND used = :u"
        values[":u"] = {"BOOL": used}
    raw = _conditional(
        store,
        "delete_item",
        Key=_key(pk),
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
    )
    return OAuthStateItem.from_raw_data(raw) if raw else None


def use_state(store: Store, pk: str, now: datetime, data: dict[str, Any]) -> OAuthStateItem | None:
    """Mark an unexpired, unused state item used (storing `data`); returns it, or None when
    unknown, expired or used already. One conditional UpdateItem."""
    raw = _conditional(
        store,
        "update_item",
        Key=_key(pk),
        UpdateExpression="SET used = :t, #d = :d",
        ConditionExpression="attribute_exists(pk) AND expires > :now AND used = :f",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={
            ":t": {"BOOL": True},
            ":f": {"BOOL": False},
            ":d": {"S": json.dumps(data)},
            ":now": {"N": str(int(now.timestamp()))},
        },
        ReturnValues="ALL_NEW",
    )
    return OAuthStateItem.from_raw_data(raw) if raw else None


def index_keys(
    store: Store, partition: str, index: str | None = "gsi1", attribute: str = "gsi1pk"
) -> Iterator[tuple[str, str]]:
    """(pk, sk) of every item in one index partition, page by page (Query)."""
    kwargs: dict[str, Any] = {
        "TableName": store.table_name,
        "KeyConditionExpression": f"{attribute} = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}},
        "ProjectionExpression": "pk, sk",
    }
    if index:
        kwargs["IndexName"] = index
    while True:
        response = store.connection.client.query(**kwargs)
        for raw in response.get("Items", []):
            yield raw["pk"]["S"], raw["sk"]["S"]
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def partition_keys(store: Store, pk: str) -> Iterator[tuple[str, str]]:
    """(pk, sk) of every item sharing the table key `pk` (an order or case with its timeline)."""
    return index_keys(store, pk, index=None, attribute="pk")


def merchant_item_keys(store: Store, merchant_id: str) -> Iterator[tuple[str, str]]:
    """(pk, sk) of every item on the merchant's item index (all shards)."""
    for partition in keys.merchant_items_partitions(merchant_id):
        yield from index_keys(store, partition)


def delete_keys(store: Store, item_keys: Iterable[tuple[str, str]]) -> int:
    """Delete items by (pk, sk) with BatchWriteItem, 25 at a time (missing ones are no-ops,
    so this is safe to repeat); returns how many keys were sent."""
    pending = [
        {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
        for pk, sk in dict.fromkeys(item_keys)
    ]
    sent = len(pending)
    while pending:
        chunk, pending = pending[:25], pending[25:]
        while chunk:
            response = store.connection.client.batch_write_item(
                RequestItems={store.table_name: chunk}
            )
            chunk = response.get("UnprocessedItems", {}).get(store.table_name, [])
    return sent


def customer_outbox(
    store: Store, merchant_id: str, customer_id: str, since: datetime
) -> list[OutboxItem]:
    """A customer's outbox items created since `since` (notifications partition, filtered)."""
    return list(
        OutboxItem.by_merchant.query(
            keys.outbox_of(merchant_id),
            OutboxItem.gsi1sk >= keys.iso(since),
            filter_condition=OutboxItem.customer_id == customer_id,
        )
    )


def privacy_requests(store: Store, merchant_id: str) -> list[PrivacyRequestItem]:
    """A merchant's stored privacy requests (data exports), oldest first."""
    return list(PrivacyRequestItem.by_merchant.query(keys.privacy_requests_of(merchant_id)))


def drop_phone_owner(store: Store, e164: str, merchant_id: str, customer_id: str) -> None:
    """Remove one customer from a phone pointer; delete the pointer when nobody is left."""
    key = _key(keys.phone(e164))
    owner = keys.phone_owner(merchant_id, customer_id)
    names = {"#o": "owners"}
    _conditional(
        store,
        "update_item",
        Key=key,
        UpdateExpression="DELETE #o :o",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={":o": {"SS": [owner]}},
    )
    _conditional(
        store,
        "update_item",
        Key=key,
        UpdateExpression="REMOVE last_merchant_id, last_customer_id, last_sent_at",
        ConditionExpression="last_merchant_id = :m AND last_customer_id = :c",
        ExpressionAttributeValues={":m": {"S": merchant_id}, ":c": {"S": customer_id}},
    )
    _conditional(
        store,
        "delete_item",
        Key=key,
        ConditionExpression="attribute_not_exists(#o)",
        ExpressionAttributeNames=names,
    )
