"""Shipment use cases: fulfillments create shipments, carrier updates move them forward.

One read round (receipt, shipment, order or case as needed) and one transaction per event.
A late or replayed older update never moves a shipment backwards but its scans still join
the history; each meaningful status queues at most one customer message per shipment; a
failed delivery or carrier exception opens one shipping-exception case per shipment, with
its cause (`damaged` / `lost`, `policy.tracking.exception_cause`) recorded and counted.
Every scan puts an in-transit shipment on the stale-tracking due index (`stale_tracking.py`,
docs/tracking.md); a return parcel's updates move its return case (`return_parcels.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.events import Scan, ShipmentCreated, ShipmentUpdated, TrackingStatus
from chalicelib.handlers.common import Delivery, Outcome, add_receipt, receipt_ref
from chalicelib.handlers.order_links import wait_for_order
from chalicelib.handlers.return_parcels import (
    link_entry,
    on_return_parcel_update,
    return_case_for,
)
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.policy.tracking import (
    DAMAGED,
    LOST,
    exception_cause,
    message_kind,
    should_advance,
    stale_check_at,
    stale_settings,
)
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, MerchantItem, OrderItem, ShipmentItem
from chalicelib.store.records import new_case, new_outbox, new_shipment, new_timeline_entry
from chalicelib.store.repository import ItemRef, Store
from chalicelib.store.unit_of_work import UnitOfWork

__all__ = [
    "on_shipment_created",
    "on_shipment_updated",
    "open_exception_case",
    "exception_case_id",
    "queue_message",
    "schedule_stale_check",
    "EXCEPTION_STATUSES",
    "MAX_SCANS",
]

EXCEPTION_STATUSES = frozenset(
    {TrackingStatus.DELIVERY_FAILED, TrackingStatus.EXCEPTION, TrackingStatus.RETURNED_TO_SENDER}
)
MAX_SCANS = 100


def _scan_record(scan: Scan) -> dict[str, str]:
    return {
        "at": keys.iso(scan.occurred_at),
        "status": scan.status.value,
        "carrier_status": scan.carrier_status,
        "message": scan.message,
        "location": scan.location,
    }


def _merge_scans(existing: list[dict[str, Any]], new: tuple[Scan, ...]) -> list[dict[str, Any]]:
    """History newest first, each scan once (by time and carrier status), capped."""
    merged = {(s["at"], s["carrier_status"]): s for s in existing}
    for scan in new:
        record = _scan_record(scan)
        merged.setdefault((record["at"], record["carrier_status"]), record)
    return sorted(merged.values(), key=lambda s: s["at"], reverse=True)[:MAX_SCANS]


def exception_case_id(shipment_pk: str) -> str:
    """The one shipping-exception case of a shipment (`SX-` + 12 hex)."""
    return "SX-" + keys.short_hash(shipment_pk, length=12).upper()


def schedule_stale_check(shipment: ShipmentItem, merchant: MerchantItem) -> None:
    """Put `shipment` on the due index (kind STALE) at its stale-tracking check, or take it
    off when it is not watched (delivered, returned, a return parcel, no scan yet)."""
    status = TrackingStatus(shipment.status) if shipment.status else None
    rules = stale_settings(merchant.settings)
    when = stale_check_at(status, shipment.last_scan_at, shipment.is_return, rules)
    if when is None or shipment.stale_at is not None:
        shipment.due_pk = shipment.due_sk = None
        return
    shipment.due_pk = keys.due_partition(keys.STALE_DUE, shipment.pk)
    shipment.due_sk = keys.due_sort(when, shipment.pk)


def queue_message(
    uow: UnitOfWork,
    shipment: ShipmentItem,
    kind: str,
    delivery: Delivery,
    timeline_pk: str,
    case_id: str | None = None,
) -> str | None:
    """Queue the customer message `kind` once per shipment; returns its outbox id."""
    if kind in shipment.notified or not shipment.customer_id:
        return None
    shipment.notified = {*shipment.notified, kind}
    context = {
        "order_number": shipment.order_number or "",
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "status": shipment.status or "",
        "courier_phone": shipment.courier_phone or "",
        "estimated_delivery": keys.iso(shipment.estimated_delivery)
        if shipment.estimated_delivery
        else "",
    }
    item = new_outbox(
        delivery.merchant_id,
        cause=shipment.pk,
        kind=kind,
        now=delivery.received_at,
        customer_id=shipment.customer_id,
        context=context,
        order_id=shipment.order_id,
        case_id=case_id,
        timeline_pk=timeline_pk,
    )
    uow.insert("outbox", item)
    return item.outbox_id


def on_shipment_created(event: ShipmentCreated, delivery: Delivery, store: Store) -> Outcome:
    """A fulfillment with a tracking number: link the shipment to its order and say "shipped"."""
    mid = delivery.merchant_id
    found = store.get_many(
        {
            "receipt": receipt_ref(delivery),
            "order": ItemRef(OrderItem, keys.order(mid, event.order_id)),
            "shipment": ItemRef(ShipmentItem, keys.shipment(mid, event.tracking_number)),
            "case": ItemRef(
                CaseItem,
                keys.case(mid, exception_case_id(keys.shipment(mid, event.tracking_number))),
            ),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    order: OrderItem | None = found["order"]
    shipment: ShipmentItem = found["shipment"] or new_shipment(
        mid, event.tracking_number, delivery.received_at
    )
    shipment.carrier = event.carrier or shipment.carrier
    shipment.order_id = event.order_id
    if order is not None:
        shipment.customer_id, shipment.order_number = order.customer_id, order.order_number
    shipment.is_return = event.is_return
    linked: str | None = None
    if event.is_return and not shipment.case_id and order is not None and order.customer_id:
        # a reverse fulfillment: the order's return case takes the parcel (return_parcels.py)
        customer = store.get(CustomerItem, keys.customer(mid, order.customer_id))
        shipment.case_id = linked = return_case_for(customer, event.order_id)
    if should_advance(_status(shipment), shipment.status_at, event.status, event.occurred_at):
        shipment.status, shipment.status_at = event.status.value, event.occurred_at
    shipment.updated_at = delivery.received_at
    schedule_stale_check(shipment, delivery.merchant)  # scans may have come first (issue 9)

    owner_pk = keys.order(mid, event.order_id)
    outbox_ids = []
    if not event.is_return:
        outbox_id = queue_message(uow, shipment, "shipment_in_transit", delivery, owner_pk)
        outbox_ids = [outbox_id] if outbox_id else []
    case_ids: tuple[str, ...] = ()
    exception = _exception_of(shipment)
    if exception is not None and found["case"] is None:
        # the carrier's exception came before the fulfillment: open its case now (issue 9)
        case_id = exception_case_id(shipment.pk)
        _open_exception_case(uow, shipment, case_id, exception, delivery)
        case_ids = (case_id,)
    uow.save("shipment", shipment)
    delivered = (
        shipment.status_at
        if shipment.status == TrackingStatus.DELIVERED.value and not event.is_return
        else None
    )  # the carrier's "delivered" can come before the fulfillment (issue 9)
    if order is None:  # the order comes later and takes the shipment over (order_links.py)
        wait_for_order(
            uow,
            mid,
            event.order_id,
            delivery.received_at,
            tracking_number=shipment.tracking_number,
            delivered_at=delivered,
        )
    elif shipment.tracking_number not in order.tracking_numbers or (
        delivered and order.delivered_at is None
    ):
        order.tracking_numbers = {*order.tracking_numbers, shipment.tracking_number}
        order.delivered_at = order.delivered_at or delivered
        uow.save("order", order)
    uow.insert(
        "timeline",
        new_timeline_entry(
            mid,
            owner_pk,
            cause=delivery.cause,
            at=event.occurred_at,
            now=delivery.received_at,
            kind="shipment_created",
            source=delivery.source,
            summary=f"{'Return parcel' if event.is_return else 'Shipped'} with "
            f"{event.carrier or 'carrier'} {shipment.tracking_number}",
            customer_id=shipment.customer_id,
            order_id=event.order_id,
        ),
    )
    if linked:
        uow.insert("timeline", link_entry(mid, linked, shipment, delivery, event.occurred_at))
        case_ids = (*case_ids, linked)
    if not event.is_return:  # the digest's damage rate is per parcel shipped to customers
        uow.count(mid, event.occurred_at, "shipments")
    uow.commit()
    return Outcome("applied", "shipment recorded", case_ids=case_ids, outbox_ids=tuple(outbox_ids))


def _exception_of(shipment: ShipmentItem) -> ShipmentUpdated | None:
    """The newest exception among `shipment`'s scans as an update, or None: what opens its
    case when the carrier reported it before the fulfillment came."""
    statuses = {status.value for status in EXCEPTION_STATUSES}
    scan = next((s for s in shipment.scans if s.get("status") in statuses), None)
    if scan is None:
        return None
    return ShipmentUpdated(
        occurred_at=datetime.fromisoformat(scan["at"]),
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=TrackingStatus(scan["status"]),
        carrier_status=scan.get("carrier_status", ""),
        message=scan.get("message", ""),
    )


def _status(shipment: ShipmentItem) -> TrackingStatus | None:
    return TrackingStatus(shipment.status) if shipment.status else None


def on_shipment_updated(event: ShipmentUpdated, delivery: Delivery, store: Store) -> Outcome:
    """A carrier update: merge scans, move forward if newer, message and open cases as due;
    a return parcel's update moves its return case (`handlers/return_parcels.py`)."""
    mid = delivery.merchant_id
    shipment_pk = keys.shipment(mid, event.tracking_number)
    case_id = exception_case_id(shipment_pk)
    found = store.get_many(
        {
            "receipt": receipt_ref(delivery),
            "shipment": ItemRef(ShipmentItem, shipment_pk),
            "case": ItemRef(CaseItem, keys.case(mid, case_id)),
        }
    )
    if found["receipt"]:
        return Outcome("duplicate")
    uow = store.unit_of_work()
    add_receipt(uow, delivery)
    shipment: ShipmentItem = found["shipment"] or new_shipment(
        mid, event.tracking_number, delivery.received_at
    )
    return_case: CaseItem | None = None
    if shipment.is_return and shipment.case_id:  # a return parcel (its label names the case)
        return_case = store.get(CaseItem, keys.case(mid, shipment.case_id))
    shipment.carrier = shipment.carrier or event.carrier
    scans = event.scans or (
        Scan(event.occurred_at, event.status, event.carrier_status, event.message, event.location),
    )
    shipment.scans = _merge_scans(shipment.scans, scans)
    newest_scan = max(scan.occurred_at for scan in scans)
    resumed = False
    if shipment.last_scan_at is None or newest_scan > shipment.last_scan_at:
        shipment.last_scan_at = newest_scan
        resumed = shipment.stale_at is not None  # news after a stale flag clears it
        shipment.stale_at = None
    shipment.updated_at = delivery.received_at

    advanced = should_advance(
        _status(shipment), shipment.status_at, event.status, event.occurred_at
    )
    if advanced:
        shipment.status, shipment.status_at = event.status.value, event.occurred_at
        shipment.estimated_delivery = event.estimated_delivery or shipment.estimated_delivery
        shipment.courier_phone = event.courier_phone or shipment.courier_phone
    schedule_stale_check(shipment, delivery.merchant)

    case: CaseItem | None = found["case"]
    case_ids: tuple[str, ...] = ()
    # A late exception (after a newer status) still opens its case: the in-order stream
    # would have opened it, and a case must not depend on delivery order (issue 9).
    if event.status in EXCEPTION_STATUSES and shipment.order_id:
        if case is None:
            case = _open_exception_case(uow, shipment, case_id, event, delivery)
        elif _record_cause(uow, case, event, delivery):
            uow.save("case", case)
        case_ids = (case_id,)
    owner_pk = (
        (case.pk if case is not None else keys.order(mid, shipment.order_id))
        if shipment.order_id
        else shipment.pk
    )
    entry_case = case_id if case is not None else None
    if return_case is not None and case is None:
        owner_pk, entry_case = return_case.pk, return_case.case_id  # the return's timeline

    outbox_ids: list[str] = []
    kind = message_kind(event.status) if advanced else None
    if kind and not shipment.is_return:
        outbox_id = queue_message(uow, shipment, kind, delivery, owner_pk, entry_case)
        outbox_ids = [outbox_id] if outbox_id else []
    if return_case is not None:
        outbox_ids += on_return_parcel_update(uow, return_case, shipment, event, delivery)
        case_ids = (*case_ids, return_case.case_id)
    uow.save("shipment", shipment)
    # Before its fulfillment, the shipment's own timeline keeps the update (issue 9).
    uow.insert(
        "timeline", _update_entry(mid, owner_pk, shipment, event, delivery, advanced, entry_case)
    )
    if resumed:
        uow.insert("timeline", _resumed_entry(mid, owner_pk, shipment, delivery, entry_case))
    uow.count(mid, event.occurred_at, "tracking_updates")
    if advanced and event.status is TrackingStatus.DELIVERED:
        uow.count(mid, event.occurred_at, "delivered")
        if shipment.order_number and not shipment.is_return:  # order_number: the order exists
            # The return window starts here. Not read, so not version-checked; the bump makes a
            # concurrent read-modify-write of the order re-read instead of dropping delivered_at.
            order_key = OrderItem(keys.order(mid, shipment.order_id or ""), keys.META)
            delivered = [OrderItem.delivered_at.set(event.occurred_at), OrderItem.version.add(1)]
            uow.update("order", order_key, delivered, OrderItem.pk.exists(), check_version=False)
        elif shipment.order_id and not shipment.is_return:  # the order has not come yet
            wait_for_order(
                uow, mid, shipment.order_id, delivery.received_at, delivered_at=event.occurred_at
            )
    uow.commit()
    detail = "status advanced" if advanced else "scan recorded; status unchanged"
    return Outcome("applied", detail, case_ids=case_ids, outbox_ids=tuple(outbox_ids))


def _resumed_entry(
    mid: str, owner_pk: str, shipment: ShipmentItem, delivery: Delivery, case_id: str | None
) -> Any:
    return new_timeline_entry(
        mid,
        owner_pk,
        cause=delivery.cause,
        at=shipment.last_scan_at or delivery.received_at,
        now=delivery.received_at,
        kind="tracking_resumed",
        source=delivery.source,
        summary=f"{shipment.carrier} {shipment.tracking_number}: tracking updated again "
        "after it had gone stale",
        customer_id=shipment.customer_id,
        order_id=shipment.order_id,
        case_id=case_id,
    )


def _exception_category(event: ShipmentUpdated, cause: str | None) -> str:
    """What went wrong, as the digest groups it: damage and loss first, from the carrier's words."""
    if cause == DAMAGED:
        return "damaged"
    if cause == LOST:
        return "missing_item"  # the case category closest to a lost parcel (policy.case_state)
    if event.status in (TrackingStatus.DELIVERY_FAILED, TrackingStatus.RETURNED_TO_SENDER):
        return "late"
    return "other"


# counter per recorded cause (weekly digest: damage rate = parcels_damaged / shipments)
CAUSE_COUNTERS = {DAMAGED: "parcels_damaged", LOST: "parcels_lost"}


def open_exception_case(
    uow: UnitOfWork,
    shipment: ShipmentItem,
    case_id: str,
    merchant: MerchantItem,
    now: datetime,
    *,
    at: datetime,
    subject: str,
    category: str,
    cause: str,
    message: str = "",
) -> CaseItem:
    """Open the shipment's one shipping-exception case (high priority, on the SLA index) with
    its `cause` recorded in `details.cause` (e.g. damaged, lost, stale_tracking)."""
    case = new_case(
        merchant.merchant_id,
        case_id,
        "shipping_exception",
        "open",
        now,
        priority="high",
        category=category,
        customer_id=shipment.customer_id,
        order_id=shipment.order_id,
        subject=subject,
        details={
            "tracking_number": shipment.tracking_number,
            "cause": cause,
            "carrier_message": message,
        },
    )
    schedule_case(case, merchant, now)  # SLA due index (issue 7)
    uow.insert("case", case)
    uow.count(merchant.merchant_id, at, "cases:shipping_exception")
    if cause in CAUSE_COUNTERS:
        uow.count(merchant.merchant_id, at, CAUSE_COUNTERS[cause])
    return case


def _open_exception_case(
    uow: UnitOfWork,
    shipment: ShipmentItem,
    case_id: str,
    event: ShipmentUpdated,
    delivery: Delivery,
) -> CaseItem:
    cause = exception_cause(event.status, event.carrier_status, event.message)
    return open_exception_case(
        uow,
        shipment,
        case_id,
        delivery.merchant,
        delivery.received_at,
        at=event.occurred_at,
        subject=f"{(cause or event.status.value).replace('_', ' ').capitalize()}: "
        f"{shipment.carrier} {shipment.tracking_number}",
        category=_exception_category(event, cause),
        cause=cause or event.status.value,
        message=event.message,
    )


def _record_cause(
    uow: UnitOfWork, case: CaseItem, event: ShipmentUpdated, delivery: Delivery
) -> bool:
    """A damage or loss reported after the case opened for another reason: record it on the
    case (category, cause) and count it once. Returns whether the case changed."""
    cause = exception_cause(event.status, event.carrier_status, event.message)
    details = dict(case.details or {})
    if cause is None or cause in (details.get("cause"), *details.get("causes", [])):
        return False
    details["causes"] = [*details.get("causes", []), details.get("cause")]
    details.update(cause=cause, carrier_message=event.message)
    case.details = details
    case.category = _exception_category(event, cause)
    case.updated_at = delivery.received_at
    uow.count(delivery.merchant_id, event.occurred_at, CAUSE_COUNTERS[cause])
    return True


def _update_entry(
    mid: str,
    owner_pk: str,
    shipment: ShipmentItem,
    event: ShipmentUpdated,
    delivery: Delivery,
    advanced: bool,
    case_id: str | None,
) -> Any:
    where = f" at {event.location}" if event.location else ""
    late = "" if advanced else " (older update; status kept)"
    return new_timeline_entry(
        mid,
        owner_pk,
        cause=delivery.cause,
        at=event.occurred_at,
        now=delivery.received_at,
        kind="shipment_update",
        source=delivery.source,
        summary=f"{shipment.carrier} {shipment.tracking_number}: "
        f"{event.status.value.replace('_', ' ')}{where}{late}",
        customer_id=shipment.customer_id,
        order_id=shipment.order_id,
        case_id=case_id,
        data={"carrier_status": event.carrier_status, "message": event.message},
    )
