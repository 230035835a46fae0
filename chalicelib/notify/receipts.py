"""Delivery receipts: a provider's status report moves the outbox item it names forward.

The provider's message id leads to the outbox item through the pointer the sender wrote in
the same transaction as "sent". Statuses only move forward (`sent` -> `delivered` or
`failed`), so a repeated or late report (Twilio sends "sent" and "delivered" separately, and
retries) changes nothing: the state is the idempotency. A failure is recorded with its
reason on the item and on the timeline, so agents see the customer did not get the text;
a failure that means the recipient opted out (Twilio 21610) marks the customer opted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import StaleVersion
from chalicelib.events import Event
from chalicelib.log import bind_context, get_logger, mask_text
from chalicelib.store import keys
from chalicelib.store.models import CustomerItem, MessagePointerItem, OutboxItem
from chalicelib.store.records import new_timeline_entry

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = ["SmsStatusReport", "apply_status_report", "STATUSES"]

log = get_logger(__name__)
STATUSES = ("accepted", "sent", "delivered", "failed")
_FINAL = {"delivered": "delivered", "failed": "failed"}
_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class SmsStatusReport(Event):
    """A provider's delivery status for one message it sent for us (partner-neutral)."""

    provider: str
    message_id: str
    status: str  # one of STATUSES
    error_code: str = ""
    error_message: str = ""
    opted_out: bool = False  # the failure says the recipient opted out


def apply_status_report(store: Store, report: SmsStatusReport, now: datetime) -> str:
    """Apply `report`; returns "applied", "unchanged" or "unknown" (not a message of ours).

    Raises `StaleVersion` only if concurrent writers win `_MAX_ATTEMPTS` times in a row.
    """
    pointer = store.get(
        MessagePointerItem, keys.provider_message(report.provider, report.message_id)
    )
    if pointer is None:
        return "unknown"
    with bind_context(merchant_id=pointer.merchant_id, outbox_id=pointer.outbox_id):
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return _apply(store, report, pointer, now)
            except StaleVersion:
                if attempt == _MAX_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")


def _apply(
    store: Store, report: SmsStatusReport, pointer: MessagePointerItem, now: datetime
) -> str:
    item = store.get(OutboxItem, keys.outbox(pointer.merchant_id, pointer.outbox_id))
    target = _FINAL.get(report.status)
    if item is None or target is None or item.status != "sent":
        return "unchanged"
    item.status = target
    uow = store.unit_of_work()
    if target == "failed":
        reason = " ".join(part for part in (report.error_code, report.error_message) if part)
        item.last_error = mask_text(f"not delivered: {reason or 'no reason given'}")[:500]
        if item.timeline_pk:
            uow.insert(
                "timeline",
                new_timeline_entry(
                    item.merchant_id,
                    item.timeline_pk,
                    cause=f"{item.outbox_id}:receipt",
                    at=report.occurred_at,
                    now=now,
                    kind="sms_undelivered",
                    source=report.provider,
                    summary=f"SMS not delivered ({item.kind}): {reason or 'no reason given'}",
                    customer_id=item.customer_id,
                    case_id=item.case_id,
                    order_id=item.order_id,
                    data={"outbox_id": item.outbox_id, "error_code": report.error_code},
                ),
            )
        if report.opted_out and item.customer_id:
            customer = store.get(CustomerItem, keys.customer(item.merchant_id, item.customer_id))
            if customer is not None and not customer.sms_opt_out:
                customer.sms_opt_out, customer.updated_at = True, now
                uow.save("customer", customer)
                uow.count(item.merchant_id, now, "sms_opt_outs")
    uow.save("outbox", item)
    uow.count(
        item.merchant_id, now, "sms_delivered" if target == "delivered" else "sms_undelivered"
    )
    uow.commit()
    log.info("delivery receipt applied", extra={"status": target})
    return "applied"
