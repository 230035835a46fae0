"""Return parcels: carrier updates of a parcel on its way back move its return case.

A return parcel is a `ShipmentItem` with `is_return` and `case_id` (the return case): the
portal's prepaid label writes it (issue 4, B2), and a reverse fulfillment from the
marketplace (`ShipmentCreated(is_return=True)`) is linked to its order's return case by
`on_shipment_created` through `return_case_for`. `shipments.on_shipment_updated` reads the
case and calls `on_return_parcel_update` inside its own transaction, so the shipment, the
case and their timeline entries change together or not at all.

- First carrier scan (any status past `label_created`): details `return_scanned_at` (the
  earliest such scan, read by the stuck-flow check, `policy/stuck_flows.py`) and
  `return_tracking_number`, timeline `return_in_transit`; an approved case moves to
  `in_transit_back` and the customer gets SMS `return_in_transit`, once: only that move
  sends it, and the state machine allows it once. Counter `returns_in_transit`.
  The parcel joins the order's `tracking_numbers`, so the status page lists it.
- Delivered (to the warehouse): details `return_delivered_at`, timeline `return_delivered`,
  no SMS: the warehouse's receipt sends `return_received` (`handlers/warehouse.py`).
Replays and older updates change nothing twice: both steps are guarded by their details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.events import ShipmentUpdated, TrackingStatus
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.common import Delivery
from chalicelib.handlers.sla_schedule import RETURN_LIKE, schedule_case
from chalicelib.handlers.warehouse import return_case_of_order
from chalicelib.policy import case_state
from chalicelib.policy.case_state import CaseStatus
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, OrderItem, ShipmentItem, TimelineItem
from chalicelib.store.records import new_timeline_entry
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["on_return_parcel_update", "return_case_for", "link_entry", "first_scan_at"]

_NOT_A_SCAN = frozenset({TrackingStatus.LABEL_CREATED.value, TrackingStatus.UNKNOWN.value})


def first_scan_at(scans: list[dict[str, Any]]) -> datetime | None:
    """The earliest carrier scan past `label_created` in a shipment's scan history."""
    moments = [s["at"] for s in scans if s.get("status") not in _NOT_A_SCAN and s.get("at")]
    return datetime.fromisoformat(min(moments)) if moments else None


def return_case_for(customer: CustomerItem | None, order_id: str) -> str | None:
    """The return case a reverse fulfillment of `order_id` belongs to (the customer's newest
    return of that order), or None."""
    return return_case_of_order(customer, order_id)


def link_entry(
    merchant_id: str, case_id: str, shipment: ShipmentItem, delivery: Delivery, at: datetime
) -> TimelineItem:
    """The return case's timeline entry saying which parcel carries the return."""
    return new_timeline_entry(
        merchant_id,
        keys.case(merchant_id, case_id),
        cause=delivery.cause,
        at=at,
        now=delivery.received_at,
        kind="return_shipment",
        source=delivery.source,
        summary=f"Return parcel {shipment.carrier or 'carrier'} {shipment.tracking_number} "
        "linked to this return",
        customer_id=shipment.customer_id,
        case_id=case_id,
        order_id=shipment.order_id,
    )


def _show_on_order(uow: UnitOfWork, case: CaseItem, shipment: ShipmentItem) -> None:
    """List the return parcel among the order's tracking numbers: the status page shows the
    order's parcels (`pages/status.py`, `is_return` marked). The order was not read, so not
    version-checked; the bump makes a concurrent read-modify-write of it re-read."""
    if not case.order_id or shipment.order_id != case.order_id:
        return
    order_key = OrderItem(keys.order(case.merchant_id, case.order_id), keys.META)
    actions = [OrderItem.tracking_numbers.add({shipment.tracking_number}), OrderItem.version.add(1)]
    uow.update("order", order_key, actions, OrderItem.pk.exists(), check_version=False)


def on_return_parcel_update(
    uow: UnitOfWork,
    case: CaseItem,
    shipment: ShipmentItem,
    event: ShipmentUpdated,
    delivery: Delivery,
) -> list[str]:
    """Apply a return parcel's update (scans already merged into `shipment`) to its return
    case; returns the outbox ids queued. Adds the case to `uow` when it changed."""
    if case.case_type not in RETURN_LIKE:
        return []
    now = delivery.received_at
    details = dict(case.details or {})
    change = CaseChange(uow, case, now, delivery.cause)
    parcel = f"{shipment.carrier or 'carrier'} {shipment.tracking_number}"
    outbox_ids: list[str] = []
    changed = False
    scanned = first_scan_at(shipment.scans)
    if scanned is not None and not details.get("return_scanned_at"):
        details.update(
            return_scanned_at=keys.iso(scanned), return_tracking_number=shipment.tracking_number
        )
        moves = case_state.can_transition(case.case_type, case.status, CaseStatus.IN_TRANSIT_BACK)
        if moves:
            case.status = CaseStatus.IN_TRANSIT_BACK.value
        change.note(
            "return_in_transit",
            delivery.source,
            f"Return parcel {parcel} scanned by the carrier: on its way to the warehouse",
            at=scanned,
            tracking_number=shipment.tracking_number,
        )
        if moves:
            order_number = shipment.order_number or details.get("order_number") or ""
            sms = change.send(
                "return_in_transit",
                {
                    "order_number": order_number,
                    "carrier": shipment.carrier,
                    "tracking_number": shipment.tracking_number,
                },
            )
            outbox_ids += [sms] if sms else []
        change.count("returns_in_transit", at=scanned)
        _show_on_order(uow, case, shipment)
        changed = True
    if event.status is TrackingStatus.DELIVERED and not details.get("return_delivered_at"):
        details["return_delivered_at"] = keys.iso(event.occurred_at)
        change.note(
            "return_delivered",
            delivery.source,
            f"Return parcel {parcel} delivered to the warehouse; the warehouse confirms receipt",
            at=event.occurred_at,
            tracking_number=shipment.tracking_number,
        )
        changed = True
    if changed:
        case.details = details
        case.updated_at = now
        schedule_case(case, delivery.merchant, now)  # SLA due index (issue 7)
        uow.save("return_case", case)
    return outbox_ids
