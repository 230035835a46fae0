"""Refund completion: the marketplace's answer to a case's refund settles the case, once.

Two paths reach it, whichever comes first: the marketplace outbox sender's result for a
`refund` item (`settle_outbox_result`, its own transaction after the item is finished) and
the marketplace's refund webhook that we recognise as ours (`handlers/refunds.py` adds
`settle` to its transaction). Success moves the case `refund_pending -> refunded` with
`refunded_at`, the SMS `refund_issued` (amount and currency, formatted for the customer's
locale by the template) and the counter `refunds_issued`; failure records
`refund_failed_at`, moves the case to `pending_review` and explains it on the timeline
(counter `refunds_failed`). A case that is no longer waiting for its refund is left alone,
so the second path, a replay or a retried sender changes nothing twice (the SMS id also
derives from the case, so it exists at most once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import StaleVersion
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.policy import case_state
from chalicelib.policy.case_state import CaseStatus
from chalicelib.store import keys
from chalicelib.store.models import CaseItem

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem, OutboxItem
    from chalicelib.store.repository import Store

__all__ = ["settle", "settle_outbox_result", "MAX_ATTEMPTS"]

MAX_ATTEMPTS = 3


def settle(
    change: CaseChange,
    merchant: MerchantItem,
    *,
    succeeded: bool,
    source: str,
    amount: str | None = None,
    currency: str | None = None,
    refund_id: str | None = None,
    reason: str | None = None,
) -> bool:
    """Add the case's side of a refund result to `change` and reschedule its SLA checks (the
    caller saves the case and commits). False, with nothing added, when the case is not
    waiting for a refund."""
    case = change.case
    if case.status != CaseStatus.REFUND_PENDING.value:
        return False
    details = case.details = dict(case.details or {})
    now = change.now
    if not succeeded:
        case.status = case_state.transition(
            case.case_type, case.status, CaseStatus.PENDING_REVIEW
        ).value
        details.update(refund_failed_at=keys.iso(now), refund_error=(reason or "")[:500])
        change.note(
            "refund_failed",
            source,
            f"Refund failed: {reason or 'no reason given'}; a human decides",
            error=reason or "",
        )
        change.count("refunds_failed")
        case.updated_at = now
        schedule_case(case, merchant, now)  # SLA due index (issue 7)
        return True
    case.status = case_state.transition(case.case_type, case.status, CaseStatus.REFUNDED).value
    amount = amount or details.get("refund_amount")
    currency = currency or details.get("refund_currency")
    details.update(refunded_at=keys.iso(now))
    if refund_id:
        details["refund_id"] = refund_id
    said = f" of {amount} {currency}" if amount and currency else ""
    change.note(
        "refund_issued", source, f"Refund{said} issued", refund_id=refund_id or "", amount=amount
    )
    sms = CaseChange(change.uow, case, now, f"refund-issued:{case.case_id}")
    if amount and currency:
        sms.send(
            "refund_issued",
            {
                "order_number": details.get("order_number") or case.order_id or "",
                "amount": str(amount),
                "currency": currency,
                "refunded_at": keys.iso(now),
            },
        )
    change.count("refunds_issued")
    case.updated_at = now
    schedule_case(case, merchant, now)  # settled: off the SLA due index
    return True


def settle_outbox_result(
    store: Store, item: OutboxItem, status: str, reason: str | None, now: datetime
) -> bool:
    """Settle the case of a finished marketplace `refund` item (`sent` or `failed`) in its
    own transaction, re-reading on a concurrent change. True when the case changed."""
    if item.kind != "refund" or not item.case_id or status not in ("sent", "failed"):
        return False
    context = item.context or {}
    merchant, _ = store.cached_merchant(item.merchant_id)
    if merchant is None:
        return False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        case = store.get(CaseItem, keys.case(item.merchant_id, item.case_id))
        if case is None:
            return False
        uow = store.unit_of_work()
        change = CaseChange(uow, case, now, f"refund-result:{item.outbox_id}")
        changed = settle(
            change,
            merchant,
            succeeded=status == "sent",
            source="aftercare",
            amount=context.get("amount"),
            currency=context.get("currency"),
            refund_id=item.provider_message_id if status == "sent" else None,
            reason=reason,
        )
        if not changed:
            return False
        uow.save("case", case)
        try:
            uow.commit()
            return True
        except StaleVersion:
            if attempt == MAX_ATTEMPTS:
                raise
    return False
