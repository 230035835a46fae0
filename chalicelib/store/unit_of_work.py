"""The unit of work: collect one event's writes, commit them in one TransactWriteItems.

A handler adds the idempotency receipt, the state changes (version-conditioned by PynamoDB's
`VersionAttribute`), timeline entries, outbox items and counter increments; `commit()` sends
them together or not at all. PynamoDB's cancellation reasons are translated here: a failed
receipt condition is `Duplicate`, any other failed condition is `StaleVersion`; no PynamoDB
or botocore exception reaches a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.operand import Path, Value

from chalicelib.errors import Duplicate, StaleVersion
from chalicelib.store import keys
from chalicelib.store.merchant_cache import CACHE as MERCHANT_CACHE
from chalicelib.store.models import BaseItem, ReceiptItem, StatsItem

if TYPE_CHECKING:
    from pynamodb.connection import Connection
    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

__all__ = ["UnitOfWork", "RECEIPT_LABEL", "MAX_TRANSACTION_ITEMS"]

RECEIPT_LABEL = "receipt"
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems


class _DecimalNumber(NumberAttribute):
    """A number serialized from `Decimal` exactly (NumberAttribute would go through JSON)."""

    def serialize(self, value: Decimal) -> str:
        return str(value)


@dataclass
class _Op:
    label: str
    kind: str  # "check" | "put" | "update"
    kwargs: dict[str, Any]
    model: BaseItem | None = None


@dataclass
class UnitOfWork:
    """Writes of one event, committed atomically by `commit()`."""

    connection: Connection
    _ops: list[_Op] = field(default_factory=list)
    _counters: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)

    def add_receipt(
        self, merchant_id: str, source: str, dedupe_key: str, now: datetime, ttl: timedelta
    ) -> None:
        """The idempotency receipt; the commit fails with `Duplicate` if it already exists."""
        item = ReceiptItem(
            pk=keys.receipt(merchant_id, source, dedupe_key),
            sk=keys.META,
            received_at=now,
            expires=now + ttl,
        )
        self._put(RECEIPT_LABEL, item, ReceiptItem.pk.does_not_exist())

    def insert(self, label: str, item: BaseItem) -> None:
        """Create `item`; fails (StaleVersion) if an item with its key already exists."""
        self._put(label, item, type(item).pk.does_not_exist())

    def save(self, label: str, item: BaseItem, condition: Condition | None = None) -> None:
        """Put `item`; versioned models carry their optimistic-lock condition automatically."""
        self._put(label, item, condition)

    def update(
        self,
        label: str,
        item: BaseItem,
        actions: list[Action],
        condition: Condition | None = None,
        *,
        check_version: bool = True,
    ) -> None:
        """Apply update `actions` to `item`'s key, under `condition` and its version.

        With `check_version=False` the item's version is neither checked nor set: for an
        update of an item that was not read (put any version bump in `actions` yourself).
        """
        if check_version:
            kwargs = item.get_update_kwargs_from_instance(actions=actions, condition=condition)
            self._ops.append(_Op(label, "update", kwargs, item))
            return
        table = type(item)._get_connection()
        kwargs = table.get_operation_kwargs(
            item.pk, range_key=item.sk, actions=actions, condition=condition
        )
        self._ops.append(_Op(label, "update", kwargs))

    def require(
        self, label: str, model: type[BaseItem], pk: str, sk: str, condition: Condition
    ) -> None:
        """A condition on an item not otherwise written (e.g. the merchant is still active)."""
        kwargs = model.get_operation_kwargs_from_class(pk, range_key=sk, condition=condition)
        self._ops.append(_Op(label, "check", kwargs))

    def count(self, merchant_id: str, at: datetime, name: str, amount: int | Decimal = 1) -> None:
        """Add `amount` to the weekly counter `name` of the week containing `at`."""
        bucket = self._counters.setdefault((merchant_id, keys.iso_week(at)), {})
        bucket[name] = bucket.get(name, Decimal(0)) + Decimal(amount)

    @property
    def size(self) -> int:
        return len(self._ops) + len(self._counters)

    def commit(self) -> None:
        """Send every write in one TransactWriteItems.

        Raises `Duplicate` when the receipt exists, `StaleVersion` when any other condition
        failed (a concurrent writer: re-read and retry), and lets other errors propagate.
        """
        ops = self._ops + self._counter_ops()
        if not ops:
            return
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"transaction of {len(ops)} items exceeds {MAX_TRANSACTION_ITEMS}")
        ordered = [op for kind in ("check", "put", "update") for op in ops if op.kind == kind]
        try:
            self.connection.transact_write_items(
                condition_check_items=[op.kwargs for op in ordered if op.kind == "check"],
                delete_items=[],
                put_items=[op.kwargs for op in ordered if op.kind == "put"],
                update_items=[op.kwargs for op in ordered if op.kind == "update"],
            )
        except TransactWriteError as exc:
            raise _translate(exc, [op.label for op in ordered]) from exc
        finally:
            _forget_cached_merchants(ordered)
        for op in ordered:
            if op.model is not None:
                op.model.update_local_version_attribute()

    def _put(self, label: str, item: BaseItem, condition: Condition | None) -> None:
        kwargs = item.get_save_kwargs_from_instance(condition=condition)
        self._ops.append(_Op(label, "put", kwargs, item))

    def _counter_ops(self) -> list[_Op]:
        ops = []
        for (merchant_id, week), counts in self._counters.items():
            item = StatsItem(pk=keys.weekly_stats(merchant_id, week), sk=keys.META)
            actions = [
                Path([f"c#{name}"]).add(Value(amount, attribute=_DecimalNumber()))
                for name, amount in sorted(counts.items())
            ]
            kwargs = item.get_update_kwargs_from_instance(actions=actions)
            ops.append(_Op(f"stats:{week}", "update", kwargs))
        return ops


def _forget_cached_merchants(ops: list[_Op]) -> None:
    """Drop the merchants this transaction writes (or tried to) from the container's cache."""
    prefix = keys.merchant("")
    for op in ops:
        if op.kind == "check":
            continue
        key = op.kwargs.get("Item") or op.kwargs.get("Key") or {}
        pk = (key.get("pk") or {}).get("S", "")
        if pk.startswith(prefix):
            MERCHANT_CACHE.forget(op.kwargs["TableName"], pk)


def _translate(exc: TransactWriteError, labels: list[str]) -> Exception:
    reasons = exc.cancellation_reasons or []
    failed = [
        label
        for label, reason in zip(labels, reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    ]
    if RECEIPT_LABEL in failed:
        return Duplicate("already processed")
    if failed:
        return StaleVersion(f"concurrent change to {', '.join(failed)}")
    if exc.cause_response_code == "TransactionConflictException" or any(
        reason is not None and reason.code == "TransactionConflict" for reason in reasons
    ):
        return StaleVersion("transaction conflict")
    return exc
