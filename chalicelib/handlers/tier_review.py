"""Open cases follow their customer's tier: at once on an order, and the hourly re-evaluation.

Issue 7, VIP routing. The rules are pure (`policy/tier_review.py`); this module reads and
writes. A customer's open cases are found from their `recent_cases` list (no Scan, no
index): complaints, disputes and inquiries, the cases VIP routing routes.

- `on_tier_change` (called by `orders.on_order_placed`): when an order changes the tier,
  up to `MAX_INLINE_CASES` open cases are re-routed in the order's own transaction
  (`vip` flag and tag, priority queue and agent, SLA rescheduled: VIP targets are shorter);
  with more, the customer is put on the TIER due index at once and the job does the rest.
- `reevaluate_due` (schedule `reevaluate_tiers`, hourly): reads ONLY the customers on the
  sparse due index of kind TIER whose time has come (a VIP whose oldest order in the
  12-month window just left it, or one left over by the order path): 4 keys-only Queries +
  BatchGetItem, then one BatchGetItem of each customer's recent cases. It recomputes the
  tier, re-routes the open cases that differ (a demoted customer's cases lose the VIP flag,
  tag and queue, the assignee is kept) and moves the customer on the index (a VIP to the
  next order leaving the window) or off it, in one version-conditioned transaction per
  customer. A concurrent change makes that customer "busy": it stays due for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import StaleVersion
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.sla_schedule import schedule_case
from chalicelib.handlers.vip_routing import review_tier
from chalicelib.log import bind_context, get_logger
from chalicelib.policy import case_state
from chalicelib.policy.tier_review import retier
from chalicelib.store import keys
from chalicelib.store.models import CaseItem
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import CustomerItem, MerchantItem
    from chalicelib.store.repository import Store
    from chalicelib.store.unit_of_work import UnitOfWork

__all__ = ["MAX_INLINE_CASES", "ROUTED_TYPES", "on_tier_change", "reevaluate_due", "open_cases"]

log = get_logger(__name__)
MAX_INLINE_CASES = 10  # open cases re-routed inside an order's transaction; more: the job
ROUTED_TYPES = frozenset({"complaint", "dispute", "inquiry"})


def open_cases(store: Store, customer: CustomerItem) -> list[CaseItem]:
    """The customer's open complaints, disputes and inquiries, from `recent_cases` (one
    BatchGetItem of at most RECENT_CASES_MAX keys)."""
    mid = customer.merchant_id
    refs = {
        e["case_id"]: ItemRef(CaseItem, keys.case(mid, e["case_id"]))
        for e in customer.recent_cases or []
        if e.get("type") in ROUTED_TYPES and e.get("case_id")
    }
    found = [case for case in store.get_many_chunked(refs) if case is not None]
    return [case for case in found if case_state.is_open(case.status)]


def _priority_agent(merchant: MerchantItem) -> str | None:
    raw = (merchant.settings or {}).get("agents")
    section = raw if isinstance(raw, Mapping) else {}
    name = section.get("priority_agent")
    away = {str(a) for a in section.get("unavailable") or []}
    return name if isinstance(name, str) and name and name not in away else None


def retier_cases(
    uow: UnitOfWork,
    cases: list[CaseItem],
    merchant: MerchantItem,
    vip: bool,
    now: datetime,
    cause: str,
) -> int:
    """Apply the customer's tier to each open case in `uow`: routing, a timeline note, the
    SLA schedule. Returns how many cases changed."""
    changed = 0
    agent = _priority_agent(merchant)
    for case in cases:
        after = retier(
            vip,
            case_vip=bool(case.vip),
            tags=case.tags or (),
            assignee=case.assignee,
            escalated=int(case.sla_level or 0) > 0,
            priority_agent=agent,
        )
        if not after.changed:
            continue
        changed += 1
        case.vip, case.tags, case.assignee = after.vip, set(after.tags), after.assignee
        case.details = {**(case.details or {}), "queue": after.queue}
        case.updated_at = now
        schedule_case(case, merchant, now)  # VIP targets are shorter (issue 7)
        change = CaseChange(uow, case, now, f"{case.pk}#{cause}")
        change.note("tier_changed", "system", after.summary, vip=after.vip, queue=after.queue)
        uow.save(f"case:{case.case_id}", case)
    return changed


def on_tier_change(
    store: Store,
    uow: UnitOfWork,
    merchant: MerchantItem,
    customer: CustomerItem,
    now: datetime,
    cause: str,
) -> str:
    """Recompute the tier after an order (the caller saves the customer in `uow`); on a
    change, re-route the open cases in `uow` or leave them to the job. Returns what was done
    (unchanged | rerouted:N | deferred:N)."""
    before = customer.tier or "standard"
    decision = review_tier(customer, merchant, now)
    if decision.tier == before:
        return "unchanged"
    cases = open_cases(store, customer)
    if len(cases) > MAX_INLINE_CASES:
        # too many for one transaction with the order: the hourly job re-routes them
        customer.due_pk = keys.due_partition(keys.TIER_DUE, customer.pk)
        customer.due_sk = keys.due_sort(now, customer.pk)
        log.info("tier change deferred to the job", extra={"open_cases": len(cases)})
        return f"deferred:{len(cases)}"
    return f"rerouted:{retier_cases(uow, cases, merchant, decision.vip, now, cause)}"


def reevaluate_due(deps: Deps, now: datetime, limit: int = 200) -> dict[str, int]:
    """Re-evaluate every customer whose tier review is due at `now` (up to `limit`); counts
    by result (demoted | promoted | kept | cleared | busy | error)."""
    store = deps.store
    merchants: dict[str, MerchantItem | None] = {}
    results: dict[str, int] = {}
    for customer in store.due_customers(now, limit):
        mid = customer.merchant_id
        if mid not in merchants:
            merchants[mid] = store.cached_merchant(mid)[0]
        with bind_context(merchant_id=mid):
            try:
                result = _reevaluate(store, customer, merchants[mid], now)
            except StaleVersion:
                result = "busy"  # still due: the next run looks again
            except Exception:
                log.exception("tier re-evaluation failed unexpectedly")
                result = "error"
        results[result] = results.get(result, 0) + 1
    log.info("tier re-evaluation run", extra={"results": results})
    return results


def _reevaluate(
    store: Store, customer: CustomerItem, merchant: MerchantItem | None, now: datetime
) -> str:
    uow = store.unit_of_work()
    if merchant is None or merchant.status != "active":
        customer.due_pk = customer.due_sk = None
        uow.save("customer", customer)
        uow.commit()
        return "cleared"
    before = customer.tier or "standard"
    decision = review_tier(customer, merchant, now)
    cause = f"tier@{keys.iso(now)}"
    changed = retier_cases(uow, open_cases(store, customer), merchant, decision.vip, now, cause)
    customer.updated_at = now
    uow.save("customer", customer)
    uow.commit()
    if decision.tier != before:
        return "promoted" if decision.vip else "demoted"
    return "rerouted" if changed else "kept"
