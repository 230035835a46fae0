"""Warehouse use case: a returned parcel was received (and maybe inspected) -> refund or review.

`on_return_received` finds the return's case by the return code the warehouse echoes (the
code's pointer item), else by the order: the order's customer lists their recent cases, so
no query is needed. Reads: one BatchGetItem (receipts, code pointer, order, the unmatched
case) and a second for the case (and its order when the event did not name it).

One transaction then moves the case with the state machine: approved / in transit back ->
`received` (details `received_at`, SMS `return_received`, counter `returns_received`), and
when the warehouse gives dispositions -> `inspected` (`inspected_at`, `received_lines` with
each line's disposition). `policy.refund_policy` decides the refund: `refund_pending` with
a marketplace `refund` outbox item (its id derives from the case, and the sender's refund
guard never refunds twice) and `refund_requested_at`, or `pending_review` explained on the
timeline. A receipt that matches no return is kept as a return case (`WH-...`) waiting for
review, never dropped. Replays: the delivery's receipt, plus a receipt per warehouse return
and stage (`received` / `inspected`), so a re-sent body or a re-worded duplicate changes
nothing twice; the state checks cover the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.events import ReceivedLine, ReturnReceived
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.policy import case_state, return_code
from chalicelib.policy.case_state import CaseStatus, CaseType
from chalicelib.policy.refund_policy import (
    REFUND,
    CaseLine,
    InspectedLine,
    RefundDecision,
    RefundSettings,
    decide_refund,
)
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, OrderItem, ReturnCodeItem
from chalicelib.store.records import new_case
from chalicelib.store.repository import ItemRef, Store
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = [
    "on_return_received",
    "unmatched_case_id",
    "refund_cause",
    "return_case_of_order",
    "RECEIPT_TTL",
]

RECEIPT_TTL = timedelta(days=400)  # a warehouse may re-send a return's webhook much later
_RECEIVABLE = frozenset({CaseStatus.APPROVED, CaseStatus.IN_TRANSIT_BACK})


def unmatched_case_id(source: str, warehouse_return_id: str) -> str:
    """The case keeping a receipt that matched no return (`WH-` + 12 hex), stable on replay."""
    return "WH-" + keys.short_hash(source, warehouse_return_id, length=12).upper()


def refund_cause(merchant_id: str, case_id: str) -> str:
    """The cause of a case's automatic refund: one refund outbox item per case, ever. The
    item's id is also the marketplace's idempotency key, so it names the merchant too."""
    return f"warehouse-refund:{merchant_id}:{case_id}"


def _stage_delivery(event: ReturnReceived, delivery: Delivery) -> Delivery:
    stage = "inspected" if event.inspected else "received"
    return Delivery(
        delivery.merchant,
        f"{delivery.source}-return",
        f"{event.warehouse_return_id}:{stage}",
        delivery.received_at,
        RECEIPT_TTL,
    )


def return_case_of_order(customer: CustomerItem | None, order_id: str) -> str | None:
    """The newest return case of `order_id` in the customer's recent cases, preferring one
    the rules did not refuse (a parcel may still come back after a refusal)."""
    entries = [
        e
        for e in (customer.recent_cases or [] if customer else [])
        if e.get("type") == CaseType.RETURN.value and e.get("order_id") == order_id
    ]
    if not entries:
        return None
    return max(entries, key=lambda e: (e.get("outcome") != "not_eligible", e["at"]))["case_id"]


def _lines_detail(lines: Iterable[ReceivedLine]) -> list[dict[str, Any]]:
    return [
        {
            "sku": ln.sku,
            "line_id": ln.line_id,
            "quantity": ln.quantity,
            "disposition": ln.disposition.value if ln.disposition else None,
            "note": ln.note,
            "photos": list(ln.photo_urls),
        }
        for ln in lines
    ]


def _described(lines: Iterable[ReceivedLine]) -> str:
    return ", ".join(
        f"{ln.quantity} x {ln.sku or ln.line_id or '?'}"
        + (f" ({ln.disposition.value})" if ln.disposition else "")
        for ln in lines
    )


def _move(case: CaseItem, target: CaseStatus) -> None:
    case.status = case_state.transition(case.case_type, case.status, target).value


def on_return_received(event: ReturnReceived, delivery: Delivery, store: Store) -> Outcome:
    """Apply a warehouse receipt or inspection to its return case, once."""
    mid = delivery.merchant_id
    stage = _stage_delivery(event, delivery)
    code = return_code.normalize(event.return_code) if event.return_code else None
    refs = {
        "receipt": receipt_ref(delivery),
        "stage": receipt_ref(stage),
        "unmatched": ItemRef(
            CaseItem, keys.case(mid, unmatched_case_id(delivery.source, event.warehouse_return_id))
        ),
    }
    if code:
        refs["code"] = ItemRef(ReturnCodeItem, keys.return_code(mid, code))
    if event.order_id:
        refs["order"] = ItemRef(OrderItem, keys.order(mid, event.order_id))
    found = store.get_many(refs)
    if found["receipt"] or found["stage"]:
        return Outcome("duplicate")
    order: OrderItem | None = found.get("order")
    pointer: ReturnCodeItem | None = found.get("code")
    case_id = pointer.case_id if pointer else None
    if case_id is None and order is not None and order.customer_id:
        customer = store.get(CustomerItem, keys.customer(mid, order.customer_id))
        case_id = return_case_of_order(customer, order.order_id)
    case: CaseItem | None = None
    if case_id is not None:
        case = store.get(CaseItem, keys.case(mid, case_id))
    if case is not None and case.order_id and (order is None or order.order_id != case.order_id):
        order = store.get(OrderItem, keys.order(mid, case.order_id))
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    add_receipt(uow, stage)
    if case is None:
        return _keep_unmatched(uow, event, delivery, found["unmatched"], order)
    return _apply(uow, event, delivery, case, order)


def _keep_unmatched(
    uow: UnitOfWork,
    event: ReturnReceived,
    delivery: Delivery,
    existing: CaseItem | None,
    order: OrderItem | None,
) -> Outcome:
    """A receipt no return matches: a return case waiting for review, with what arrived."""
    now, lines = delivery.received_at, _lines_detail(event.lines)
    at = keys.iso(event.occurred_at)
    if existing is not None:  # a later stage of the same unknown parcel
        case = existing
        case.details = {**(case.details or {}), "received_lines": lines}
        if event.inspected:
            case.details["inspected_at"] = at
        case.updated_at = now
        change = CaseChange(uow, case, now, delivery.cause)
        change.note(
            "return_inspected" if event.inspected else "return_received",
            delivery.source,
            f"Unmatched return parcel updated by {delivery.source}: {_described(event.lines)}",
            at=event.occurred_at,
            lines=lines,
        )
        schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
        uow.save("case", case)
        uow.commit()
        return Outcome("applied", "unmatched receipt updated", case_ids=(case.case_id,))
    case_id = unmatched_case_id(delivery.source, event.warehouse_return_id)
    case = new_case(
        delivery.merchant_id,
        case_id,
        CaseType.RETURN.value,
        case_state.INITIAL_STATUS.value,
        now,
        customer_id=order.customer_id if order else None,
        order_id=event.order_id,
        subject=f"Return parcel received by {delivery.source} matching no return",
        tags={"unmatched_receipt"},
        details={
            "source": delivery.source,
            "warehouse_return_id": event.warehouse_return_id,
            "return_code_given": event.return_code,
            "tracking_number": event.tracking_number,
            "order_number": order.order_number if order else None,
            "received_at": at,
            **({"inspected_at": at} if event.inspected else {}),
            "received_lines": lines,
            "unmatched": True,
        },
    )
    _move(case, CaseStatus.PENDING_REVIEW)
    change = CaseChange(uow, case, now, delivery.cause)
    named = ", ".join(
        f"{what} {value}"
        for what, value in (
            ("return code", event.return_code),
            ("order", event.order_id),
            ("tracking number", event.tracking_number),
        )
        if value
    )
    change.note(
        "return_received_unmatched",
        delivery.source,
        f"Parcel received ({_described(event.lines)}) but no return matches "
        f"{named or 'it (no return code, order or tracking number given)'}: a human decides",
        at=event.occurred_at,
        lines=lines,
    )
    schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
    uow.insert("case", case)
    change.count("returns_received", at=event.occurred_at)
    change.count("returns_unmatched", at=event.occurred_at)
    uow.commit()
    return Outcome("applied", "receipt kept for review", case_ids=(case_id,))


def _apply(
    uow: UnitOfWork,
    event: ReturnReceived,
    delivery: Delivery,
    case: CaseItem,
    order: OrderItem | None,
) -> Outcome:
    now, at = delivery.received_at, event.occurred_at
    status = CaseStatus(case.status)
    details = case.details = dict(case.details or {})
    change = CaseChange(uow, case, now, delivery.cause)
    lines = _lines_detail(event.lines)
    received_now = status in _RECEIVABLE
    if status is CaseStatus.RECEIVED and not event.inspected:
        uow.commit()  # keep the receipts: another notice of a parcel already in
        return Outcome("ignored", "case is received already", case_ids=(case.case_id,))
    if not received_now and status is not CaseStatus.RECEIVED:
        if details.get("received_at"):
            uow.commit()  # keep the receipts: this stage is done
            return Outcome("ignored", f"case is {status.value} already", case_ids=(case.case_id,))
        # a parcel for a return nobody approved (yet): keep what arrived, a human decides
        details.update(received_at=keys.iso(at), received_lines=lines)
        if event.inspected:
            details["inspected_at"] = keys.iso(at)
        change.note(
            "return_received",
            delivery.source,
            f"Parcel received by {delivery.source} ({_described(event.lines)}) while the case "
            f"is {status.value}: no automatic step, a human decides",
            at=at,
            lines=lines,
        )
        change.count("returns_received", at=at)
        case.updated_at = now
        schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
        uow.save("case", case)
        uow.commit()
        return Outcome("applied", f"received while {status.value}", case_ids=(case.case_id,))
    if received_now:
        _move(case, CaseStatus.RECEIVED)
        details.update(received_at=keys.iso(at), received_lines=lines)
        change.note(
            "return_received",
            delivery.source,
            f"Return parcel received by {delivery.source}: {_described(event.lines)}",
            at=at,
            warehouse_return_id=event.warehouse_return_id,
            tracking_number=event.tracking_number,
        )
        change.send("return_received", {"order_number": details.get("order_number") or ""})
        change.count("returns_received", at=at)
    outcome = "received"
    if event.inspected:
        outcome = _inspect(change, event, delivery, order, lines)
    case.updated_at = now
    schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
    uow.save("case", case)
    uow.commit()
    return Outcome("applied", f"return {outcome}: case {case.status}", case_ids=(case.case_id,))


def _inspect(
    change: CaseChange,
    event: ReturnReceived,
    delivery: Delivery,
    order: OrderItem | None,
    lines: list[dict[str, Any]],
) -> str:
    """Record the inspection and decide the refund; returns "refund" or "review"."""
    case, at = change.case, event.occurred_at
    details = case.details
    _move(case, CaseStatus.INSPECTED)
    details.update(inspected_at=keys.iso(at), received_lines=lines)
    change.note(
        "return_inspected",
        delivery.source,
        f"Inspected by {delivery.source}: {_described(event.lines)}",
        at=at,
        lines=lines,
    )
    change.count("returns_inspected", at=at)
    for line in event.lines:
        name = line.disposition.value if line.disposition else "undetermined"
        change.count(f"disposition:{name}", line.quantity, at=at)
    decision = _decide(case, order, event.lines, delivery)
    details["refund_decision"] = decision.to_dict()
    if decision.action != REFUND or order is None:
        _move(case, CaseStatus.PENDING_REVIEW)
        change.note("refund_review", "autopilot", decision.explanation)
        change.count("returns_inspection_review", at=at)
        return "review"
    _move(case, CaseStatus.REFUND_PENDING)
    details.update(
        refund_requested_at=keys.iso(change.now),
        refund_amount=str(decision.total),
        refund_currency=decision.currency,
    )
    change.note("refund_requested", "autopilot", decision.explanation)
    refund = CaseChange(change.uow, case, change.now, refund_cause(case.merchant_id, case.case_id))
    code = details.get("return_code") or ""
    refund.send(
        "refund",
        {
            "order_id": order.order_id,
            "lines": [
                {"line_id": ln.line_id, "quantity": ln.quantity, "amount": str(ln.amount)}
                for ln in decision.lines
            ],
            "restock": decision.restock,
            "amount": str(decision.total),
            "currency": decision.currency,
            "received_at": details.get("received_at") or keys.iso(at),
            "note": f"Aftercare return {code}".strip() + ": received and inspected",
        },
        channel="marketplace",
    )
    change.count("refunds_requested", at=at)
    return "refund"


def _decide(
    case: CaseItem, order: OrderItem | None, received: Iterable[ReceivedLine], delivery: Delivery
) -> RefundDecision:
    prices: Mapping[str, Any] = {
        str(ln["line_id"]): ln for ln in (order.line_items if order else None) or []
    }
    case_lines = [
        CaseLine(
            line_id=str(ln["line_id"]),
            sku=ln.get("sku"),
            quantity=int(ln["quantity"]),
            unit_price=(
                Decimal(str(prices[str(ln["line_id"])]["unit_price"]))
                if str(ln["line_id"]) in prices
                else None
            ),
        )
        for ln in (case.details or {}).get("lines", [])
        if int(ln.get("quantity") or 0) > 0
    ]
    inspected = [
        InspectedLine(
            ln.sku, ln.quantity, ln.disposition.value if ln.disposition else None, ln.line_id
        )
        for ln in received
    ]
    currency = order.currency if order else ""
    try:
        settings = RefundSettings.from_dict((delivery.merchant.settings or {}).get("refund_policy"))
    except MalformedPayload as exc:
        return RefundDecision("review", currency, explanation=f"Shop setting: {exc.detail}")
    return decide_refund(case_lines, inspected, currency, settings)
