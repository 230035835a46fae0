"""The store: reads by key, queries by index, opaque cursors, and new units of work.

Handlers read everything an event needs with one `get_many` (a single BatchGetItem) and
write with one `UnitOfWork`. Lists are Queries on GSI1/GSI2 with opaque, tenant-checked
cursors. There is no Scan here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.errors import MalformedPayload
from chalicelib.store import keys
from chalicelib.store.merchant_cache import CACHE as MERCHANT_CACHE
from chalicelib.store.models import (
    BaseItem,
    CaseItem,
    CustomerItem,
    MerchantItem,
    OutboxItem,
    PointerItem,
    TimelineItem,
    bind,
)
from chalicelib.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from pynamodb.connection import Connection
    from pynamodb.expressions.condition import Condition

    from chalicelib.config import Settings

__all__ = ["Store", "Page", "ItemRef"]

T = TypeVar("T", bound=BaseItem)
BATCH_GET_LIMIT = 100


@dataclass(frozen=True)
class ItemRef:
    """Which model to read at which key."""

    model: type[BaseItem]
    pk: str
    sk: str = keys.META


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next (None at the end)."""

    items: list[Any]
    cursor: str | None


class Store:
    """Repository over the single table, bound to one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        bind(settings)
        self.settings = settings

    @property
    def connection(self) -> Connection:
        return BaseItem._get_connection().connection

    @property
    def table_name(self) -> str:
        return self.settings.table_name

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.connection)

    # -- single reads -------------------------------------------------------------------

    def get(self, model: type[T], pk: str, sk: str = keys.META) -> T | None:
        """One item by key (strongly consistent), or None."""
        try:
            return model.get(pk, sk, consistent_read=True)
        except model.DoesNotExist:
            return None

    def merchant(self, merchant_id: str) -> MerchantItem | None:
        return self.get(MerchantItem, keys.merchant(merchant_id))

    def cached_merchant(
        self, merchant_id: str, *, refresh: bool = False
    ) -> tuple[MerchantItem | None, bool]:
        """The merchant through this container's cache (`store/merchant_cache.py`), and
        whether it came from there without a read. `refresh` reads it in any case; a read
        active merchant is kept for the next calls."""
        pk = keys.merchant(merchant_id)
        raw = None if refresh else MERCHANT_CACHE.get(self.table_name, pk)
        if raw is not None:
            return MerchantItem.from_raw_data(raw), True
        merchant = self.get(MerchantItem, pk)
        if merchant is not None and merchant.status == "active":
            MERCHANT_CACHE.put(self.table_name, pk, merchant.serialize())
        else:
            MERCHANT_CACHE.forget(self.table_name, pk)
        return merchant, False

    def merchant_by_api_key_hash(self, key_hash: str) -> MerchantItem | None:
        pointer = self.get(PointerItem, keys.api_key(key_hash))
        return self.merchant(pointer.merchant_id) if pointer else None

    def get_many(self, refs: Mapping[str, ItemRef]) -> dict[str, Any]:
        """Read several items of any models in one BatchGetItem (consistent); missing -> None."""
        by_key = {(ref.pk, ref.sk): (label, ref.model) for label, ref in refs.items()}
        found: dict[str, Any] = dict.fromkeys(refs)
        pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in by_key]
        if len(pending) > BATCH_GET_LIMIT:
            raise ValueError("too many keys for one batch read")
        client = self.connection.client
        while pending:
            response = client.batch_get_item(
                RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
            )
            for raw in response.get("Responses", {}).get(self.table_name, []):
                label, model = by_key[(raw["pk"]["S"], raw["sk"]["S"])]
                found[label] = model.from_raw_data(raw)
            pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return found

    # -- queries ------------------------------------------------------------------------

    def collection(self, pk: str) -> list[BaseItem]:
        """Every item sharing `pk` (a case and its timeline, an order and its timeline)."""
        items: list[BaseItem] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            response = self.connection.client.query(**kwargs)
            for raw in response.get("Items", []):
                model = TimelineItem if raw["sk"]["S"].startswith("TL#") else _meta_model(pk)
                items.append(model.from_raw_data(raw))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_cases(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        condition: Condition | None = None,
    ) -> Page:
        """A merchant's cases, newest first, optionally filtered."""
        partition = keys.cases_of(merchant_id)
        results = CaseItem.by_merchant.query(
            partition,
            filter_condition=condition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "gsi1pk", partition),
        )
        return _page(results, limit)

    def list_notifications(self, merchant_id: str, limit: int, cursor: str | None) -> Page:
        """A merchant's outbox items, newest first."""
        partition = keys.outbox_of(merchant_id)
        results = OutboxItem.by_merchant.query(
            partition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "gsi1pk", partition),
        )
        return _page(results, limit)

    def customer_timeline(
        self, merchant_id: str, customer_id: str, limit: int
    ) -> list[TimelineItem]:
        """The newest `limit` entries of one customer's timeline across cases and orders."""
        return list(
            TimelineItem.by_customer.query(
                keys.customer_timeline(merchant_id, customer_id),
                scan_index_forward=False,
                limit=limit,
            )
        )

    def customer_timeline_page(
        self, merchant_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> Page:
        """One customer's timeline across cases and orders, newest first, paged (gsi2)."""
        partition = keys.customer_timeline(merchant_id, customer_id)
        results = TimelineItem.by_customer.query(
            partition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "gsi2pk", partition),
        )
        return _page(results, limit)

    def settings_audit_page(self, merchant_id: str, limit: int, cursor: str | None) -> Page:
        """A merchant's saved settings sections, newest first, paged (own partition)."""
        from chalicelib.store.models import SettingsAuditItem

        partition = keys.settings_audit(merchant_id)
        results = SettingsAuditItem.query(
            partition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "pk", partition),
        )
        return _page(results, limit)

    def take_rate_slot(
        self, merchant_id: str, scope: str, window: str, limit: int, expires: datetime
    ) -> bool:
        """Count one send in `window` if fewer than `limit` were counted; False when full.

        One conditional UpdateItem on the window's counter (created on first use, gone by TTL
        after `expires`), so concurrent senders never exceed the limit together.
        """
        from pynamodb.exceptions import UpdateError

        from chalicelib.store.models import RateWindowItem

        counter = RateWindowItem(pk=keys.rate_window(merchant_id, scope, window), sk=keys.META)
        has_room = RateWindowItem.used.does_not_exist() | (RateWindowItem.used < limit)
        try:
            counter.update(
                [RateWindowItem.used.add(1), RateWindowItem.expires.set(expires)],
                condition=has_room,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def due_outbox(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Outbox items whose next attempt is due, read from the sparse due index only."""
        refs: dict[str, ItemRef] = {}
        upper = keys.iso(now) + "~"
        for partition in keys.due_partitions("OUTBOX"):
            for entry in OutboxItem.due.query(partition, OutboxItem.due_sk <= upper, limit=limit):
                refs[entry.pk] = ItemRef(OutboxItem, entry.pk, entry.sk)
        due = sorted(
            (item for item in self.get_many_chunked(refs) if item is not None),
            key=lambda item: item.next_attempt_at,
        )
        return due[:limit]

    def due_digest_work(self, now: datetime, limit: int) -> list[BaseItem]:
        """Weekly-digest work due at `now`, oldest first, from the sparse due index only:
        `DigestScheduleItem`s whose week is due and digest `OutboxItem`s waiting to be sent
        or retried. 4 Queries (keys only) + BatchGetItem; cost grows with the work due."""
        from chalicelib.store.models import DigestScheduleItem

        refs: dict[str, ItemRef] = {}
        upper = keys.iso(now) + "~"
        for partition in keys.due_partitions(keys.DIGEST_DUE):
            query = DigestScheduleItem.due.query(
                partition, DigestScheduleItem.due_sk <= upper, limit=limit
            )
            for entry in query:
                model = OutboxItem if entry.pk.startswith("OUTBOX#") else DigestScheduleItem
                refs[entry.pk] = ItemRef(model, entry.pk, entry.sk)
        found = [item for item in self.get_many_chunked(refs) if item is not None]
        return sorted(found, key=lambda item: item.due_sk or "")[:limit]

    def due_cases(self, now: datetime, limit: int) -> list[CaseItem]:
        """Open cases whose next SLA or stuck-flow check is due at `now`, oldest first, from
        the sparse due index (kind SLA) only: 4 Queries (keys only) + BatchGetItem."""
        refs: dict[str, ItemRef] = {}
        upper = keys.iso(now) + "~"
        for partition in keys.due_partitions(keys.SLA_DUE):
            for entry in CaseItem.due.query(partition, CaseItem.due_sk <= upper, limit=limit):
                refs[entry.pk] = ItemRef(CaseItem, entry.pk, entry.sk)
        found = [item for item in self.get_many_chunked(refs) if item is not None]
        due = [item for item in found if item.due_sk is not None and item.due_sk <= upper]
        return sorted(due, key=lambda item: item.due_sk or "")[:limit]

    def due_customers(self, now: datetime, limit: int) -> list[CustomerItem]:
        """Customers whose VIP tier is due for re-evaluation at `now`, oldest first, from
        the sparse due index (kind TIER) only: 4 Queries (keys only) + BatchGetItem."""
        refs: dict[str, ItemRef] = {}
        upper = keys.iso(now) + "~"
        for partition in keys.due_partitions(keys.TIER_DUE):
            query = CustomerItem.due.query(partition, CustomerItem.due_sk <= upper, limit=limit)
            for entry in query:
                refs[entry.pk] = ItemRef(CustomerItem, entry.pk, entry.sk)
        found = [item for item in self.get_many_chunked(refs) if item is not None]
        due = [item for item in found if item.due_sk is not None and item.due_sk <= upper]
        return sorted(due, key=lambda item: item.due_sk or "")[:limit]

    def weekly_counters(self, merchant_id: str, weeks: list[str]) -> dict[str, dict[str, Any]]:
        """The `c#<name>` counters of each of `weeks` (name -> Decimal; {} for a week
        without any), in one BatchGetItem: a constant read, however many cases there are."""
        from decimal import Decimal

        wanted = {keys.weekly_stats(merchant_id, week): week for week in weeks}
        found: dict[str, dict[str, Any]] = {week: {} for week in weeks}
        pending = [{"pk": {"S": pk}, "sk": {"S": keys.META}} for pk in wanted]
        while pending:
            response = self.connection.client.batch_get_item(
                RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
            )
            for raw in response.get("Responses", {}).get(self.table_name, []):
                found[wanted[raw["pk"]["S"]]] = {
                    name[2:]: Decimal(value["N"])
                    for name, value in raw.items()
                    if name.startswith("c#") and "N" in value
                }
            pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return found

    def get_many_chunked(self, refs: Mapping[str, ItemRef]) -> Iterator[Any]:
        """`get_many` over any number of refs, in batches of 100."""
        labels = list(refs)
        for start in range(0, len(labels), BATCH_GET_LIMIT):
            chunk = {label: refs[label] for label in labels[start : start + BATCH_GET_LIMIT]}
            yield from self.get_many(chunk).values()


def _meta_model(pk: str) -> type[BaseItem]:
    from chalicelib.store.models import CustomerItem, OrderItem, ShipmentItem

    prefix = pk.split("#", 1)[0]
    return {
        "CASE": CaseItem,
        "ORDER": OrderItem,
        "CUSTOMER": CustomerItem,
        "SHIPMENT": ShipmentItem,
        "MERCHANT": MerchantItem,
        "OUTBOX": OutboxItem,
    }.get(prefix, BaseItem)


def _page(results: Any, limit: int) -> Page:
    items = list(results)
    last = results.last_evaluated_key
    cursor = _encode_cursor(last) if last and len(items) >= limit else None
    return Page(items, cursor)


def _encode_cursor(last_key: dict[str, Any]) -> str:
    flat = {name: value["S"] for name, value in last_key.items()}
    return base64.urlsafe_b64encode(json.dumps(flat, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, partition_attr: str, partition: str) -> dict | None:
    """The ExclusiveStartKey of `cursor`; refuses a cursor made for another partition."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        flat = json.loads(base64.urlsafe_b64decode(padded.encode()))
        valid = (
            isinstance(flat, dict)
            and all(isinstance(v, str) for v in flat.values())
            and set(flat) == {"pk", "sk", partition_attr, partition_attr.replace("pk", "sk")}
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("cursor is not valid") from exc
    if not valid or flat.get(partition_attr) != partition:
        raise MalformedPayload("cursor is not valid")
    return {name: {"S": value} for name, value in flat.items()}
