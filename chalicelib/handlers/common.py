"""What every handler receives and returns: the verified delivery and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.store import keys
from chalicelib.store.models import MerchantItem, ReceiptItem
from chalicelib.store.repository import ItemRef
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["Delivery", "Outcome", "receipt_ref", "add_receipt"]


@dataclass(frozen=True)
class Delivery:
    """One verified inbound delivery: who sent it, its dedupe key, when we got it."""

    merchant: MerchantItem
    source: str  # e.g. "shopify", "easypost"
    dedupe_key: str  # the partner's delivery id, or a digest of the body
    received_at: datetime
    receipt_ttl: timedelta = timedelta(days=14)
    index: int = 0  # position of the event within the delivery

    @property
    def merchant_id(self) -> str:
        return self.merchant.merchant_id

    @property
    def cause(self) -> str:
        """A stable identity of this event, for deterministic ids."""
        return f"{self.source}:{self.dedupe_key}:{self.index}"

    def for_event(self, index: int) -> Delivery:
        return Delivery(
            self.merchant, self.source, self.dedupe_key, self.received_at, self.receipt_ttl, index
        )


@dataclass(frozen=True)
class Outcome:
    """What a handler did, for the response and the logs."""

    status: str  # "applied" | "duplicate" | "ignored" | "stale"
    detail: str = ""
    case_ids: tuple[str, ...] = ()
    outbox_ids: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


def _receipt_key(delivery: Delivery) -> str:
    suffix = f"#{delivery.index}" if delivery.index else ""
    return keys.receipt(delivery.merchant_id, delivery.source, delivery.dedupe_key + suffix)


def receipt_ref(delivery: Delivery) -> ItemRef:
    """The receipt to read first: if it exists, the event was processed already."""
    return ItemRef(ReceiptItem, _receipt_key(delivery))


def add_receipt(uow: UnitOfWork, delivery: Delivery) -> None:
    """Write the receipt in the event's transaction (it fails the commit if already there)."""
    suffix = f"#{delivery.index}" if delivery.index else ""
    uow.add_receipt(
        delivery.merchant_id,
        delivery.source,
        delivery.dedupe_key + suffix,
        delivery.received_at,
        delivery.receipt_ttl,
    )
