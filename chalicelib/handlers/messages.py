"""SMS reply use cases: opt-out, opt-in, help, CSAT scores and messages for the customer's case.

A customer's SMS arrives routed to one merchant's customer (`SmsReply`, built by
`chalicelib.inbound_sms` from the phone pointer). `classify_reply` decides:
- STOP: the customer is opted out for this merchant, with a timeline entry and one
  `opt_out_confirmed` SMS (the sender lets this kind through to opted-out customers);
- START: opted back in, with `opt_in_confirmed` (from a customer who is not opted out,
  "START"/"YES" is an ordinary message);
- HELP: a `help` SMS with the merchant's support contact;
- 1-5 within `CSAT_WINDOW` of a `csat_question` (see `queue_csat_question`) whose case has no
  score yet: the score lands on the case (`details.csat`) and the weekly counters
  `csat_sum`/`csat_count`;
- anything else: a `customer_message` entry on the customer's most recently opened open case,
  or a new inquiry case (status new) when there is none.
Deliveries are deduplicated on the provider's message id with a platform-wide receipt (the
merchant a number routes to can change between a provider's retries). Reads: receipt and
customer (one BatchGetItem); for CSAT and messages also the customer's recent timeline
(one Query on gsi2) and its cases (one BatchGetItem). One transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.events import CustomerMessage
from chalicelib.handlers.common import Delivery, Outcome
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.notify.keywords import Reply, classify_reply
from chalicelib.policy.case_state import is_open
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, PhonePointerItem, ReceiptItem
from chalicelib.store.records import new_case, new_outbox, new_timeline_entry
from chalicelib.store.repository import ItemRef, Store
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = [
    "SmsReply",
    "on_sms_reply",
    "choose_owner",
    "queue_csat_question",
    "CSAT_WINDOW",
    "PLATFORM",
]

PLATFORM = "_platform"  # receipts of SMS deliveries are not per merchant
CSAT_WINDOW = timedelta(days=7)
TIMELINE_LOOKBACK = 50
_SUMMARY_CHARS = 160


@dataclass(frozen=True)
class SmsReply(CustomerMessage):
    """An inbound SMS routed to the merchant's customer whose number sent it."""

    customer_id: str = ""


def choose_owner(
    pointer: PhonePointerItem, merchant_id: str | None = None
) -> tuple[str, str] | None:
    """(merchant_id, customer_id) an SMS from the pointer's number belongs to, or None.

    The owner texted most recently wins; otherwise the first in sorted order. With
    `merchant_id`, only that merchant's customers are candidates.
    """
    owners = sorted(keys.parse_phone_owner(owner) for owner in pointer.owners or ())
    if merchant_id is not None:
        owners = [owner for owner in owners if owner[0] == merchant_id]
    last = (pointer.last_merchant_id, pointer.last_customer_id)
    if last in owners:
        return last  # type: ignore[return-value]
    return owners[0] if owners else None


def queue_csat_question(
    uow: UnitOfWork, case: CaseItem, now: datetime, order_number: str = ""
) -> str:
    """Queue the one CSAT question of a resolved case; returns its outbox id.

    Its id derives from the case, so resolving the case again asks nothing more; its send
    lands on the case's timeline, which is how a later "1"-"5" reply finds the case.
    """
    item = new_outbox(
        case.merchant_id,
        cause=f"csat:{case.pk}",
        kind="csat_question",
        now=now,
        customer_id=case.customer_id,
        context={"order_number": order_number},
        case_id=case.case_id,
        order_id=case.order_id,
        timeline_pk=case.pk,
    )
    uow.insert("outbox", item)
    return item.outbox_id


def _receipt_ref(delivery: Delivery) -> ItemRef:
    return ItemRef(ReceiptItem, keys.receipt(PLATFORM, delivery.source, delivery.dedupe_key))


def on_sms_reply(event: SmsReply, delivery: Delivery, store: Store) -> Outcome:
    """Apply one customer SMS as the module docstring describes."""
    mid = delivery.merchant_id
    found = store.get_many(
        {
            "receipt": _receipt_ref(delivery),
            "customer": ItemRef(CustomerItem, keys.customer(mid, event.customer_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    uow.add_receipt(
        PLATFORM, delivery.source, delivery.dedupe_key, delivery.received_at, delivery.receipt_ttl
    )
    customer: CustomerItem | None = found["customer"]
    if customer is None or customer.phone != event.sender:
        uow.commit()
        return Outcome("ignored", "the number no longer belongs to this customer")
    uow.count(mid, event.occurred_at, "sms_inbound")
    reply = classify_reply(event.body)
    if reply.kind == "stop" and not customer.sms_opt_out:
        return _set_opt_out(uow, customer, True, event, delivery)
    if reply.kind == "start" and customer.sms_opt_out:
        return _set_opt_out(uow, customer, False, event, delivery)
    if reply.kind == "stop":  # already opted out: note it, confirm only once
        _customer_entry(
            uow, customer, event, delivery, "sms_opt_out", "Customer replied STOP again"
        )
        uow.commit()
        return Outcome("applied", "already opted out")
    if reply.kind == "help":
        support = str((delivery.merchant.settings or {}).get("support_contact") or "")
        _customer_entry(uow, customer, event, delivery, "sms_help", "Customer asked for HELP")
        outbox_id = _reply(uow, customer, "help", delivery, {"support_contact": support})
        uow.commit()
        return Outcome("applied", "help sent", outbox_ids=(outbox_id,))
    entries, cases = _recent_cases(store, mid, customer.customer_id)
    if reply.kind == "csat":
        case = _csat_case(entries, cases, event.occurred_at)
        if case is not None:
            return _record_csat(uow, case, reply, event, delivery)
    return _attach_message(uow, customer, cases, event, delivery)


def _set_opt_out(
    uow: UnitOfWork, customer: CustomerItem, opted_out: bool, event: SmsReply, delivery: Delivery
) -> Outcome:
    customer.sms_opt_out, customer.updated_at = opted_out, delivery.received_at
    uow.save("customer", customer)
    kind = "sms_opt_out" if opted_out else "sms_opt_in"
    summary = "Customer opted out of SMS (STOP)" if opted_out else "Customer opted back in (START)"
    _customer_entry(uow, customer, event, delivery, kind, summary)
    confirmation = "opt_out_confirmed" if opted_out else "opt_in_confirmed"
    outbox_id = _reply(uow, customer, confirmation, delivery, {})
    uow.count(
        delivery.merchant_id, event.occurred_at, "sms_opt_outs" if opted_out else "sms_opt_ins"
    )
    uow.commit()
    return Outcome("applied", "opted out" if opted_out else "opted in", outbox_ids=(outbox_id,))


def _customer_entry(
    uow: UnitOfWork,
    customer: CustomerItem,
    event: SmsReply,
    delivery: Delivery,
    kind: str,
    summary: str,
) -> None:
    """A timeline entry about the customer's SMS settings, in the customer's own partition."""
    uow.insert(
        "timeline",
        new_timeline_entry(
            delivery.merchant_id,
            customer.pk,
            cause=delivery.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind=kind,
            source=f"sms:{delivery.source}",
            summary=summary,
            customer_id=customer.customer_id,
            data={"body": event.body[:_SUMMARY_CHARS]},
        ),
    )


def _reply(
    uow: UnitOfWork, customer: CustomerItem, kind: str, delivery: Delivery, context: dict[str, Any]
) -> str:
    item = new_outbox(
        delivery.merchant_id,
        cause=delivery.cause,
        kind=kind,
        now=delivery.received_at,
        customer_id=customer.customer_id,
        context=context,
        timeline_pk=customer.pk,
    )
    uow.insert("outbox", item)
    return item.outbox_id


def _recent_cases(
    store: Store, mid: str, customer_id: str
) -> tuple[list[Any], dict[str, CaseItem]]:
    """The customer's newest timeline entries and the cases they mention."""
    entries = store.customer_timeline(mid, customer_id, TIMELINE_LOOKBACK)
    case_ids = {entry.case_id for entry in entries if entry.case_id}
    refs = {case_id: ItemRef(CaseItem, keys.case(mid, case_id)) for case_id in case_ids}
    found = store.get_many(refs) if refs else {}
    return entries, {case_id: case for case_id, case in found.items() if case is not None}


def _csat_case(entries: list[Any], cases: dict[str, CaseItem], now: datetime) -> CaseItem | None:
    """The case of the newest CSAT question sent within the window, if not yet scored."""
    for entry in entries:  # newest first
        if entry.kind != "sms_sent" or (entry.data or {}).get("message_kind") != "csat_question":
            continue
        case = cases.get(entry.case_id or "")
        if entry.at < now - CSAT_WINDOW or case is None or "csat" in (case.details or {}):
            return None
        return case
    return None


def _record_csat(
    uow: UnitOfWork, case: CaseItem, reply: Reply, event: SmsReply, delivery: Delivery
) -> Outcome:
    score = int(reply.score or 0)
    case.details = {
        **(case.details or {}),
        "csat": {"score": score, "at": keys.iso(event.occurred_at), "channel": "sms"},
    }
    case.updated_at = delivery.received_at
    uow.save("case", case)
    uow.insert(
        "timeline",
        new_timeline_entry(
            delivery.merchant_id,
            case.pk,
            cause=delivery.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind="csat_received",
            source=f"sms:{delivery.source}",
            summary=f"Customer rated the service {score}/5",
            customer_id=case.customer_id,
            case_id=case.case_id,
            order_id=case.order_id,
            data={"score": score},
        ),
    )
    uow.count(delivery.merchant_id, event.occurred_at, "csat_sum", score)
    uow.count(delivery.merchant_id, event.occurred_at, "csat_count")
    uow.commit()
    return Outcome("applied", f"CSAT {score} recorded", case_ids=(case.case_id,))


def _attach_message(
    uow: UnitOfWork,
    customer: CustomerItem,
    cases: dict[str, CaseItem],
    event: SmsReply,
    delivery: Delivery,
) -> Outcome:
    open_cases = [case for case in cases.values() if is_open(case.status)]
    case = max(open_cases, key=lambda c: c.opened_at, default=None)
    detail = "attached to the open case"
    if case is None:
        case_id = "IQ-" + keys.short_hash(PLATFORM, delivery.cause, length=12).upper()
        case = new_case(
            delivery.merchant_id,
            case_id,
            "inquiry",
            "new",
            delivery.received_at,
            customer_id=customer.customer_id,
            subject=f"SMS: {event.body[:60]}",
            details={"channel": "sms"},
        )
        schedule_case(case, delivery.merchant, delivery.received_at)  # SLA due index (issue 7)
        uow.insert("case", case)
        uow.count(delivery.merchant_id, event.occurred_at, "cases:inquiry")
        detail = "inquiry case opened"
    else:
        case.updated_at = delivery.received_at
        uow.save("case", case)
    uow.insert(
        "timeline",
        new_timeline_entry(
            delivery.merchant_id,
            case.pk,
            cause=delivery.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind="customer_message",
            source=f"sms:{delivery.source}",
            summary=event.body[:_SUMMARY_CHARS],
            customer_id=customer.customer_id,
            case_id=case.case_id,
            order_id=case.order_id,
            data={
                "channel": "sms",
                "body": event.body,
                "provider_message_id": event.provider_message_id,
            },
        ),
    )
    uow.count(delivery.merchant_id, event.occurred_at, "customer_messages")
    uow.commit()
    return Outcome("applied", detail, case_ids=(case.case_id,))
