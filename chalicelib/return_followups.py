"""What an approved return sets in motion besides its code and SMS (issue 11).

`on_approved` runs inside the approval's unit of work (`cases.approve_return`, whoever
approved: autopilot, agent or marketplace): it queues the prepaid label purchase (outbox
channel "label", when the merchant's `return_labels` are enabled) and starts the approval's
expiry clock (`ReturnExpiryItem` on the due index, kind RETURNEXP, first at the reminder).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.policy.return_labels import LabelSettings, expiry_days, expiry_times
from chalicelib.store import keys
from chalicelib.store.models import ReturnExpiryItem

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.handlers.cases import CaseChange

__all__ = ["on_approved", "new_return_expiry", "set_expiry_due", "LABEL_CHANNEL", "LABEL_KIND"]

LABEL_CHANNEL = "label"
LABEL_KIND = "buy_return_label"


def set_expiry_due(item: ReturnExpiryItem, due_at: datetime | None) -> None:
    """Put `item` on the RETURNEXP due index at `due_at`, or take it off (None)."""
    if due_at is None:
        item.due_pk = item.due_sk = None
        return
    item.due_pk = keys.due_partition(keys.RETURN_EXPIRY_DUE, item.pk)
    item.due_sk = keys.due_sort(due_at, item.pk)


def new_return_expiry(
    merchant_id: str, case_id: str, approved_at: datetime, days: int
) -> ReturnExpiryItem:
    remind_at, expires_at = expiry_times(approved_at, days)
    pk = keys.return_expiry(merchant_id, case_id)
    item = ReturnExpiryItem(
        pk=pk,
        sk=keys.META,
        merchant_id=merchant_id,
        case_id=case_id,
        remind_at=remind_at,
        expires_at=expires_at,
        updated_at=approved_at,
        gsi1pk=keys.merchant_items(merchant_id, pk),
        gsi1sk=pk,
    )
    set_expiry_due(item, remind_at)
    return item


def on_approved(change: CaseChange, settings: Mapping[str, Any] | None) -> None:
    """Queue the label purchase (if enabled) and start the expiry clock, in `change.uow`."""
    settings = settings or {}
    case = change.case
    details = case.details or {}
    if LabelSettings.of(settings).enabled:
        change.send(
            LABEL_KIND,
            {"case_id": case.case_id, "order_number": details.get("order_number") or ""},
            channel=LABEL_CHANNEL,
        )
        case.details = {**details, "label_status": "preparing"}
    days = expiry_days(settings)
    item = new_return_expiry(case.merchant_id, case.case_id, change.now, days)
    case.details = {**(case.details or {}), "approval_expires_at": keys.iso(item.expires_at)}
    change.uow.save("return_expiry", item)
