"""The approval expiry job (schedule `expire_returns`, hourly): remind once, then expire.

An approved return stays usable for the merchant's `approval_expiry_days` (default 28).
Its `ReturnExpiryItem` (written with the approval, `return_followups.on_approved`) sits on
the sparse due index (kind RETURNEXP) at the reminder time, 3 days before expiry, then at the
expiry time. The job reads ONLY the due items (4 keys-only Queries + BatchGetItem, no Scan)
and, per item, the case, its order and the merchant (cached), then in ONE
version-conditioned transaction:
- parcel on its way or back (case no longer `approved`, or `details.return_scanned_at` /
  `received_at` set): the clock is deleted, nothing is sent;
- reminder due: the `return_expiry_reminder` SMS is queued and the clock moves to expiry;
- expiry due: the case is cancelled (`details.expired_at`), its lines no longer count as
  returned on the order (the customer may ask again), the `return_expired` SMS is queued,
  `returns_expired` counted, and the clock deleted.
Outbox ids derive from the clock and the step, so a retried or concurrent run sends nothing
twice (the loser's commit fails on the clock's version and it stops).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import StaleVersion
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.log import bind_context, get_logger
from chalicelib.policy import case_state
from chalicelib.return_followups import set_expiry_due
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, MerchantItem, OrderItem, ReturnExpiryItem
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.repository import Store
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["expire_due", "run_clock", "due_clocks"]

log = get_logger(__name__)


def due_clocks(store: Store, now: datetime, limit: int) -> list[ReturnExpiryItem]:
    """Clocks due at `now`, oldest first, from the RETURNEXP due index only."""
    refs: dict[str, ItemRef] = {}
    upper = keys.iso(now) + "~"
    for partition in keys.due_partitions(keys.RETURN_EXPIRY_DUE):
        query = ReturnExpiryItem.due.query(partition, ReturnExpiryItem.due_sk <= upper, limit=limit)
        for entry in query:
            refs[entry.pk] = ItemRef(ReturnExpiryItem, entry.pk, entry.sk)
    found = [item for item in store.get_many_chunked(refs) if item is not None]
    due = [item for item in found if item.due_sk is not None and item.due_sk <= upper]
    return sorted(due, key=lambda item: item.due_sk or "")[:limit]


def expire_due(deps: Deps, now: datetime, limit: int = 200) -> dict[str, int]:
    """Run every clock due at `now` (up to `limit`); counts by result
    (reminded | expired | cleared | busy | error)."""
    results: dict[str, int] = {}
    for clock in due_clocks(deps.store, now, limit):
        with bind_context(merchant_id=clock.merchant_id, case_id=clock.case_id):
            try:
                result = run_clock(deps.store, clock, now)
            except StaleVersion:
                result = "busy"
            except Exception:
                log.exception("return expiry failed unexpectedly")
                result = "error"
        results[result] = results.get(result, 0) + 1
    log.info("return expiry run", extra={"results": results})
    return results


def _parcel_moving(case: CaseItem) -> bool:
    details = case.details or {}
    return (
        case.status != "approved"
        or bool(details.get("return_scanned_at"))
        or bool(details.get("received_at"))
    )


def run_clock(store: Store, clock: ReturnExpiryItem, now: datetime) -> str:
    """One clock's step in one transaction; StaleVersion when another run got there first."""
    mid = clock.merchant_id
    found = store.get_many({"case": ItemRef(CaseItem, keys.case(mid, clock.case_id))})
    case: CaseItem | None = found["case"]
    uow = store.unit_of_work()
    if case is None or _parcel_moving(case):
        _off(uow, clock, now)
        uow.commit()
        return "cleared"
    details = case.details or {}
    context = {
        "order_number": details.get("order_number") or "",
        "return_code": details.get("return_code") or "",
    }
    if not clock.reminded and now < clock.expires_at:
        change = CaseChange(uow, case, now, f"{clock.pk}:reminder")
        change.send("return_expiry_reminder", {**context, "expires_at": keys.iso(clock.expires_at)})
        change.note(
            "return_expiry_reminder",
            "aftercare",
            f"Reminder sent: the approval expires on {clock.expires_at.date().isoformat()}",
        )
        clock.reminded, clock.updated_at = True, now
        set_expiry_due(clock, clock.expires_at)
        uow.save("return_expiry", clock)
        uow.save("case", case)  # version check: the case did not move meanwhile
        uow.commit()
        return "reminded"
    if now < clock.expires_at:  # moved early by hand: wait for the expiry
        set_expiry_due(clock, clock.expires_at)
        clock.updated_at = now
        uow.save("return_expiry", clock)
        uow.commit()
        return "cleared"
    merchant = store.cached_merchant(mid)[0] or store.get(MerchantItem, keys.merchant(mid))
    order = store.get(OrderItem, keys.order(mid, case.order_id)) if case.order_id else None
    case.status = case_state.transition(case.case_type, case.status, "cancelled").value
    case.details = {**details, "expired_at": keys.iso(now), "cancel_reason": "approval expired"}
    case.updated_at = now
    if order is not None:
        returned = dict(order.returned or {})
        for line in details.get("lines", []):
            left = int(returned.get(line["line_id"], 0)) - int(line["quantity"])
            returned[line["line_id"]] = max(left, 0)
        order.returned = returned
        uow.save("order", order)
    if merchant is not None:
        schedule_case(case, merchant, now)  # leaves the SLA index: the case is settled
    change = CaseChange(uow, case, now, f"{clock.pk}:expired")
    change.note("return_expired", "aftercare", "Approval expired unused: the return is cancelled")
    change.send("return_expired", context)
    change.count("returns_expired")
    uow.save("case", case)
    _off(uow, clock, now)
    uow.commit()
    return "expired"


def _off(uow: UnitOfWork, clock: ReturnExpiryItem, now: datetime) -> None:
    """Take the clock off the due index (kept as a record of the approval's expiry)."""
    set_expiry_due(clock, None)
    clock.updated_at = now
    uow.save("return_expiry", clock)
