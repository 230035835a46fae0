"""Return use cases: a request becomes a case the rule engine decides; marketplace news moves it.

`on_return_requested` reads receipt, order and case (id derived from source + return id) in
one BatchGetItem, then the order's customer (the request does not name them), decides with
`policy.returns.decide` and commits one transaction: receipt, case with the decision and its
full trace, timeline entries, the customer's recent cases, the outbox (SMS and, for
marketplace returns, the approval or decline to push back) and weekly counters
(`returns_requested`, `returns_auto_approved` | `returns_review` | `returns_rejected`,
`reason:<code>` and `sku:<sku>` by quantity). An approval reserves a return code unique per
merchant by inserting its pointer item: a taken code fails the commit (`StaleVersion`) and
`dispatch`'s retry draws another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import InvalidTransition, MalformedPayload
from chalicelib.events import Money, ReturnLine, ReturnRequested, ReturnStatusChanged
from chalicelib.handlers.cases import (
    CaseChange,
    approve_return,
    recent_entry,
    reject_return,
    remember_case,
    returns_within,
)
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.policy import case_state, return_code
from chalicelib.policy.case_state import CaseStatus, CaseType
from chalicelib.policy.returns import RequestedLine, ReturnFacts, ReturnRules, decide
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, MerchantItem, OrderItem
from chalicelib.store.records import new_case
from chalicelib.store.repository import ItemRef, Store

__all__ = [
    "on_return_requested",
    "on_return_status_changed",
    "return_case_id",
    "decide_request",
    "STATUS_OF_OUTCOME",
    "MARKETPLACE_STATUS",
    "DECLINE_REASONS",
]

STATUS_OF_OUTCOME = {
    "approved": CaseStatus.APPROVED,
    "needs_review": CaseStatus.PENDING_REVIEW,
    "not_eligible": CaseStatus.REJECTED,
}
_COUNTER_OF_OUTCOME = {
    "approved": "returns_auto_approved",
    "needs_review": "returns_review",
    "not_eligible": "returns_rejected",
}
MARKETPLACE_STATUS = {
    "approved": CaseStatus.APPROVED,
    "declined": CaseStatus.REJECTED,
    "closed": CaseStatus.CLOSED,
    "cancelled": CaseStatus.CANCELLED,
}
# Shopify's ReturnDeclineReason for the rule that refused a return (anything else: OTHER).
DECLINE_REASONS = {"return_window": "RETURN_PERIOD_ENDED", "product_returnable": "FINAL_SALE"}
# Requests the engine cannot judge go to a human with one of these explanations.
_MANUAL = {
    "order_known": "order {order_id} is not known to Aftercare; a human decides",
    "lines_known": "line(s) {lines} not found on the order; a human decides",
    "merchant_rules": "the shop's return rules are not valid ({error}); a human decides",
}


def return_case_id(source: str, return_id: str) -> str:
    """The case of a marketplace or portal return (`RET-` + 12 hex), stable under re-delivery."""
    return "RET-" + keys.short_hash(source, return_id, length=12).upper()


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _order_status(order: OrderItem) -> str:
    if order.status == "cancelled" or order.financial_status == "voided":
        return "cancelled"
    if order.financial_status in ("refunded", "partially_refunded"):
        return order.financial_status
    return "open"


def _fulfillment_status(order: OrderItem) -> str:
    if order.fulfillment_status in ("fulfilled", "partial"):
        return order.fulfillment_status
    return "fulfilled" if order.delivered_at or order.tracking_numbers else "unfulfilled"


def _manual(rule: str, **params: str) -> dict[str, Any]:
    text = _MANUAL[rule].format(**params)
    result = {"rule": rule, "passed": False, "verdict": "needs_review", "params": params}
    return {
        "outcome": "needs_review",
        "deciding_rule": rule,
        "explanation": f"needs_review by {rule}: {text}",
        "trace": [{**result, "key": f"returns.{rule}.failed", "text": text}],
    }


def _order_lines(order: OrderItem | None) -> dict[str, dict[str, Any]]:
    return {str(line["line_id"]): line for line in (order.line_items if order else None) or []}


def _requested(lines: list[ReturnLine], order: OrderItem) -> tuple[RequestedLine, ...]:
    """The requested lines as the rules see them, one per order line (repeats merged)."""
    by_id = _order_lines(order)
    merged: dict[str, tuple[int, str]] = {}
    for line in lines:
        quantity, reason = merged.get(line.line_id, (0, line.reason))
        merged[line.line_id] = (quantity + line.quantity, reason)
    return tuple(
        RequestedLine(
            sku=by_id[line_id].get("sku"),
            unit_price=Money(Decimal(str(by_id[line_id]["unit_price"])), order.currency),
            quantity=quantity,
            quantity_purchased=int(by_id[line_id]["quantity"]),
            quantity_returned=int((order.returned or {}).get(line_id, 0)),
            reason=reason,
            tags=tuple(by_id[line_id].get("tags") or ()),
            line_id=line_id,
        )
        for line_id, (quantity, reason) in merged.items()
    )


def decide_request(
    event: ReturnRequested,
    order: OrderItem | None,
    customer: CustomerItem | None,
    merchant: MerchantItem,
    asked_at: datetime,
) -> dict[str, Any]:
    """The decision as stored on the case: outcome, deciding rule, explanation, the trace
    (key, params and English text of every rule), the value and the rules applied. Lines
    with quantity 0 are left out; a request with no line left goes to a human.
    """
    if order is None:
        return _manual("order_known", order_id=event.order_id)
    try:
        rules = ReturnRules.from_dict((merchant.settings or {}).get("return_rules") or {})
    except MalformedPayload as exc:
        return _manual("merchant_rules", error=exc.detail)
    wanted = [line for line in event.lines if line.quantity > 0]
    unknown = [line.line_id for line in wanted if line.line_id not in _order_lines(order)]
    if unknown or not wanted:
        return _manual("lines_known", lines=", ".join(unknown) or "(none)")
    recent = (customer.recent_cases or []) if customer is not None else []
    facts = ReturnFacts(
        now=asked_at,
        order_total=Money(Decimal(order.total), order.currency),
        lines=_requested(wanted, order),
        delivered_at=order.delivered_at,
        order_status=_order_status(order),
        fulfillment_status=_fulfillment_status(order),
        customer_returns_90d=returns_within(recent, asked_at),
        complaints_count=int(customer.complaints or 0) if customer is not None else 0,
        tz=_zone(merchant.timezone),
    )
    decision = decide(facts, rules).to_dict()
    return {**decision, "value": str(facts.value), "rules": rules.to_dict()}


def _new_return_case(
    event: ReturnRequested, delivery: Delivery, order: OrderItem | None, asked_at: datetime
) -> CaseItem:
    by_id = _order_lines(order)
    lines = [
        {
            "line_id": line.line_id,
            "sku": by_id.get(line.line_id, {}).get("sku") or line.sku,
            "quantity": line.quantity,
            "reason": line.reason or "no_reason",
            "note": line.note,
        }
        for line in event.lines
    ]
    number = order.order_number if order else None
    return new_case(
        delivery.merchant_id,
        return_case_id(delivery.source, event.return_id),
        CaseType.RETURN.value,
        case_state.INITIAL_STATUS.value,
        delivery.received_at,
        category=case_state.category_for_reason(lines[0]["reason"] if lines else "").value,
        customer_id=order.customer_id if order else None,
        order_id=event.order_id,
        subject=f"Return of {sum(ln['quantity'] for ln in lines)} item(s) from order "
        f"{number or event.order_id}",
        details={
            "source": delivery.source,
            "return_id": event.return_id,
            "order_number": number,
            "requested_at": keys.iso(asked_at),
            "customer_note": event.customer_note,
            "lines": lines,
        },
    )


def on_return_requested(
    event: ReturnRequested,
    delivery: Delivery,
    store: Store,
    *,
    new_code: Callable[[], str] = return_code.new_code,
) -> Outcome:
    """Open the return's case and decide it; a request seen before decides nothing again."""
    mid, now = delivery.merchant_id, delivery.received_at
    case_id = return_case_id(delivery.source, event.return_id)
    found = store.get_many(
        {
            "receipt": receipt_ref(delivery),
            "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
            "case": ItemRef(CaseItem, keys.case(mid, case_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    if found["case"] is not None:
        uow.commit()
        return Outcome("duplicate", "this return already has a case", case_ids=(case_id,))
    order: OrderItem | None = found["order"]
    customer = None
    if order is not None and order.customer_id:
        customer = store.get(CustomerItem, keys.customer(mid, order.customer_id))
    asked_at = min(event.occurred_at, now)  # the window counts to when the customer asked
    decision = decide_request(event, order, customer, delivery.merchant, asked_at)
    outcome = decision["outcome"]
    case = _new_return_case(event, delivery, order, asked_at)
    lines = case.details["lines"]
    case.status = case_state.transition(
        CaseType.RETURN, case.status, STATUS_OF_OUTCOME[outcome]
    ).value
    case.details["decision"] = {**decision, "decided_by": "autopilot", "decided_at": keys.iso(now)}
    case.tags = {"autopilot"} if outcome != "needs_review" else set()
    change = CaseChange(uow, case, now, delivery.cause)
    asked = ", ".join(
        f"{ln['quantity']} x {ln['sku'] or ln['line_id']} ({ln['reason']})" for ln in lines
    )
    change.note(
        "return_requested",
        delivery.source,
        f"Return requested: {asked}",
        at=asked_at,
        customer_note=event.customer_note,
    )
    change.note(
        "return_decided",
        "autopilot",
        decision["explanation"],
        outcome=outcome,
        deciding_rule=decision["deciding_rule"],
    )
    if outcome == "approved":
        approve_return(
            change,
            order,
            by="autopilot",
            push=True,
            new_code=new_code,
            settings=delivery.merchant.settings,
        )
    elif outcome == "not_eligible":
        deciding = next(r for r in decision["trace"] if r["rule"] == decision["deciding_rule"])
        decline = DECLINE_REASONS.get(deciding["rule"], "OTHER")
        reject_return(change, reason=deciding["text"], push=True, decline_reason=decline)
    else:
        change.send("return_needs_review", {"order_number": case.details["order_number"] or ""})
    schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
    uow.insert("case", case)
    if customer is not None:
        entry = recent_entry(case, [ln["sku"] for ln in lines], asked_at, outcome)
        customer.recent_cases = remember_case(customer.recent_cases or [], entry, now)
        customer.returns, customer.updated_at = int(customer.returns or 0) + 1, now
        uow.save("customer", customer)
    change.count("returns_requested", at=asked_at)
    change.count(_COUNTER_OF_OUTCOME[outcome], at=asked_at)
    for ln in lines:
        change.count(f"reason:{ln['reason']}", ln["quantity"], at=asked_at)
        if ln["sku"]:
            change.count(f"sku:{ln['sku']}", ln["quantity"], at=asked_at)
    uow.commit()
    return Outcome(
        "applied",
        f"return {case.status}",
        case_ids=(case_id,),
        extra={"auto_decision": outcome},  # counted as AutoApprovalDecisions (metrics.py)
    )


def on_return_status_changed(
    event: ReturnStatusChanged, delivery: Delivery, store: Store
) -> Outcome:
    """Follow the marketplace's approve/decline/close/cancel of a return. A no-op (same
    status) changes nothing; a move the state machine refuses is only put on the timeline."""
    mid, now = delivery.merchant_id, delivery.received_at
    case_id = return_case_id(delivery.source, event.return_id)
    found = store.get_many(
        {
            "receipt": receipt_ref(delivery),
            "case": ItemRef(CaseItem, keys.case(mid, case_id)),
            "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    case: CaseItem | None = found["case"]
    target = MARKETPLACE_STATUS.get(event.status)
    if case is None or target is None or case.status == target.value:
        uow.commit()
        why = "no case for this return" if case is None else f"case is {case.status} already"
        return Outcome("ignored", why if target else f"status {event.status!r} not followed")
    change = CaseChange(uow, case, now, delivery.cause)
    said = f"{delivery.source}: return {event.status}" + (
        f" ({event.reason})" if event.reason else ""
    )
    try:
        status = case_state.transition(case.case_type, case.status, target)
    except InvalidTransition as exc:
        change.note(
            "status_refused",
            delivery.source,
            f"{said}; case stays {case.status}",
            at=event.occurred_at,
            error=exc.detail,
        )
        uow.commit()
        return Outcome("ignored", exc.detail, case_ids=(case_id,))
    previous, case.status, case.updated_at = case.status, status.value, now
    if status is CaseStatus.APPROVED:
        approve_return(
            change,
            found["order"],
            by=delivery.source,
            push=False,
            settings=delivery.merchant.settings,
        )
    elif status is CaseStatus.REJECTED:
        reason = event.reason or f"declined in {delivery.source}"
        reject_return(change, reason=reason, push=False)
    schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
    uow.save("case", case)
    change.note(
        "status_changed",
        delivery.source,
        f"{said}: {previous} -> {status.value}",
        at=event.occurred_at,
    )
    change.count(f"returns_marketplace_{event.status}", at=event.occurred_at)
    uow.commit()
    return Outcome("applied", f"return {status.value}", case_ids=(case_id,))
