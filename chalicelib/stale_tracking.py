"""The stale-tracking job (schedule `flag_stale_tracking`, every 15 minutes).

A shipment moving towards the customer (`policy.tracking.STALE_WATCHED`) sits on the sparse
due index (kind STALE) at `last_scan_at + tracking.stale_after_hours` (merchant setting,
default 24): `handlers.shipments.schedule_stale_check` puts it there on every scan and takes
it off when delivered, returned or flagged. This job reads ONLY the due entries
(`due_shipments`: 4 keys-only Queries + BatchGetItem, no Scan), re-checks each against the
merchant's current threshold and, in ONE version-conditioned transaction per shipment:
- sets `stale_at` and takes it off the index (a later scan clears the flag and puts it back);
- opens its shipping-exception case (`SX-...`, cause `stale_tracking`, category `late`) or,
  when one is open already, notes the silence on it;
- tells the customer once (SMS `shipment_stale`, outbox id from shipment + kind) unless
  `tracking.notify_customer_on_stale` is false;
- counts `tracking_stale` (weekly digest: parcels with stale tracking).
A concurrent run or carrier update makes the commit fail (StaleVersion): the shipment is
reported `busy` and the next run sees its fresh state, so nothing is flagged twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import StaleVersion
from chalicelib.events import TrackingStatus
from chalicelib.handlers.common import Delivery
from chalicelib.handlers.shipments import (
    exception_case_id,
    open_exception_case,
    queue_message,
    schedule_stale_check,
)
from chalicelib.log import bind_context, get_logger
from chalicelib.policy.tracking import stale_check_at, stale_settings
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, ShipmentItem
from chalicelib.store.records import new_timeline_entry
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["flag_stale", "flag_shipment", "due_shipments", "STALE_KIND", "SOURCE"]

log = get_logger(__name__)
STALE_KIND = "shipment_stale"  # the customer SMS (notify/templates)
SOURCE = "stale_tracking"


def due_shipments(store: Store, now: datetime, limit: int) -> list[ShipmentItem]:
    """Shipments whose stale check is due at `now`, oldest first, from the due index only."""
    refs: dict[str, ItemRef] = {}
    upper = keys.iso(now) + "~"
    for partition in keys.due_partitions(keys.STALE_DUE):
        for entry in ShipmentItem.due.query(partition, ShipmentItem.due_sk <= upper, limit=limit):
            refs[entry.pk] = ItemRef(ShipmentItem, entry.pk, entry.sk)
    found = [item for item in store.get_many_chunked(refs) if item is not None]
    due = [item for item in found if item.due_sk is not None and item.due_sk <= upper]
    return sorted(due, key=lambda item: item.due_sk or "")[:limit]


def flag_stale(deps: Deps, now: datetime, limit: int = 200) -> dict[str, int]:
    """Flag every shipment whose tracking went quiet by `now` (up to `limit`); counts by
    result (flagged | rescheduled | cleared | busy | error)."""
    store = deps.store
    merchants: dict[str, MerchantItem | None] = {}
    results: dict[str, int] = {}
    for shipment in due_shipments(store, now, limit):
        mid = shipment.merchant_id
        if mid not in merchants:
            merchants[mid] = store.cached_merchant(mid)[0]
        with bind_context(merchant_id=mid, tracking_number=shipment.tracking_number):
            try:
                result = flag_shipment(store, shipment, merchants[mid], now)
            except StaleVersion:
                result = "busy"
            except Exception:
                log.exception("stale tracking check failed unexpectedly")
                result = "error"
        results[result] = results.get(result, 0) + 1
    log.info("stale tracking run", extra={"results": results})
    return results


def flag_shipment(
    store: Store, shipment: ShipmentItem, merchant: MerchantItem | None, now: datetime
) -> str:
    """Check one due shipment and flag it when its tracking is stale (module docstring)."""
    uow = store.unit_of_work()
    if merchant is None or merchant.status != "active":
        shipment.due_pk = shipment.due_sk = None
        uow.save("shipment", shipment)
        uow.commit()
        return "cleared"
    rules = stale_settings(merchant.settings)
    status = TrackingStatus(shipment.status) if shipment.status else None
    when = stale_check_at(status, shipment.last_scan_at, shipment.is_return, rules)
    if when is None or shipment.stale_at is not None or when > now:
        schedule_stale_check(shipment, merchant)  # off the index, or on at its new time
        uow.save("shipment", shipment)
        uow.commit()
        return "cleared" if shipment.due_pk is None else "rescheduled"

    shipment.stale_at, shipment.updated_at = now, now
    shipment.due_pk = shipment.due_sk = None
    last_scan = keys.iso(shipment.last_scan_at) if shipment.last_scan_at else "never"
    delivery = Delivery(merchant, SOURCE, f"{shipment.pk}:{last_scan}", now)
    hours = rules.hours
    what = f"{shipment.carrier} {shipment.tracking_number}: no carrier scan for {hours} h"
    case_id = exception_case_id(shipment.pk)
    case: CaseItem | None = None
    owner_pk = shipment.pk  # before its fulfillment, the shipment's own timeline (issue 9)
    if shipment.order_id:
        case = store.get(CaseItem, keys.case(merchant.merchant_id, case_id))
        if case is None:
            case = open_exception_case(
                uow,
                shipment,
                case_id,
                merchant,
                now,
                at=now,
                subject=f"Stale tracking: {shipment.carrier} {shipment.tracking_number}",
                category="late",
                cause="stale_tracking",
                message=f"no carrier scan since {last_scan}",
            )
        owner_pk = case.pk
    entry_case = case.case_id if case is not None else None
    uow.insert(
        "timeline",
        new_timeline_entry(
            merchant.merchant_id,
            owner_pk,
            cause=delivery.cause,
            at=now,
            now=now,
            kind="tracking_stale",
            source=SOURCE,
            summary=f"{what} (last scan {last_scan}); the carrier is being checked",
            customer_id=shipment.customer_id,
            order_id=shipment.order_id,
            case_id=entry_case,
            data={"last_scan_at": last_scan, "stale_after_hours": hours},
        ),
    )
    if rules.notify_customer and shipment.order_id:
        queue_message(uow, shipment, STALE_KIND, delivery, owner_pk, entry_case)
    uow.save("shipment", shipment)
    uow.count(merchant.merchant_id, now, "tracking_stale")
    uow.commit()
    return "flagged"
