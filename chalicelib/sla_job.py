"""The SLA escalation job (schedule `escalate_sla`, every 5 minutes): fire due steps once.

Reads ONLY the cases on the sparse due index of kind SLA whose next check has come
(`Store.due_cases`: 4 keys-only Queries + one BatchGetItem), so its cost grows with the
cases due, not with all cases; no Scan. For each case, in ONE version-conditioned
transaction:
- the new escalation steps of its running targets (`policy.sla.case_escalations`) and, for
  returns, its overdue stuck flows (`policy.stuck_flows`) are recorded in `sla_fired`, each
  with a timeline entry;
- a step notifying a higher role raises `sla_level` (0 assignee, 1 senior, 2 supervisor)
  and, at the senior level, hands the case to the first of `agents.senior_agents`; a
  breach raises the priority one step and counts `sla_breach:<target>` for the weekly
  digest (and the `Escalations` metric);
- each step not superseded by a later one queues one e-mail (outbox channel "email", id
  derived from case + step, so never twice) to the role's addresses
  (`agents.escalation_contacts`, else `support_email`), due at the step's notice
  time: now when the merchant's calendar is open, else its next opening;
- the case moves on the index to its next check (or leaves it: settled case, nothing left).
Running the job again, concurrently or after a retry, fires nothing twice: a step id in
`sla_fired` never fires again, and of two concurrent runs only one commits (StaleVersion);
the loser re-reads the case, finds it no longer due, and stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.errors import StaleVersion
from chalicelib.handlers.cases import CaseChange
from chalicelib.handlers.sla_schedule import (
    RETURN_LIKE,
    business_calendar,
    case_due_times,
    clear_due,
    schedule_case,
    stuck_rules,
)
from chalicelib.log import bind_context, get_logger
from chalicelib.policy import case_state
from chalicelib.policy.sla import Escalation, case_escalations, is_open, next_open
from chalicelib.policy.stuck_flows import StuckStep, stuck_steps
from chalicelib.store import keys
from chalicelib.store.models import CaseItem
from chalicelib.store.records import new_outbox, set_outbox_due

if TYPE_CHECKING:
    from chalicelib.deps import Deps
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["escalate_due", "escalate_case", "recipients", "ROLE_RANK", "EMAIL_KIND"]

log = get_logger(__name__)
ROLE_RANK: Mapping[str, int] = {"assignee": 0, "senior": 1, "supervisor": 2}
EMAIL_KIND = "sla_escalation"
MAX_ATTEMPTS = 2


def escalate_due(deps: Deps, now: datetime, limit: int = 200) -> dict[str, int]:
    """Escalate every case whose SLA check is due at `now` (up to `limit`); counts by result
    (escalated | rescheduled | cleared | busy | error)."""
    store = deps.store
    merchants: dict[str, MerchantItem | None] = {}
    results: dict[str, int] = {}
    for case in store.due_cases(now, limit):
        mid = case.merchant_id
        if mid not in merchants:
            merchants[mid] = store.cached_merchant(mid)[0]
        with bind_context(merchant_id=mid, case_id=case.case_id):
            try:
                result = escalate_case(store, case, merchants[mid], now)
                if result == "escalated":
                    deps.metrics.escalation(int(case.sla_level or 0), mid)
            except Exception:
                log.exception("SLA escalation failed unexpectedly")
                result = "error"
        results[result] = results.get(result, 0) + 1
    log.info("SLA escalation run", extra={"results": results})
    return results


def escalate_case(
    store: Store, case: CaseItem, merchant: MerchantItem | None, now: datetime
) -> str:
    """Fire what is due on one case (see the module docstring); retried once on a
    concurrent change from a fresh read."""
    upper = keys.iso(now) + "~"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _escalate_once(store, case, merchant, now)
        except StaleVersion:
            fresh = store.get(CaseItem, case.pk)
            if attempt == MAX_ATTEMPTS or fresh is None or not fresh.due_sk:
                return "busy"
            if fresh.due_sk > upper:
                return "busy"  # another run (or an agent) already moved it on
            case = fresh
    return "busy"


def _escalate_once(
    store: Store, case: CaseItem, merchant: MerchantItem | None, now: datetime
) -> str:
    uow = store.unit_of_work()
    if merchant is None or merchant.status != "active" or not case_state.is_open(case.status):
        clear_due(case)
        uow.save("case", case)
        uow.commit()
        return "cleared"
    cal = business_calendar(merchant)
    fired = set(case.sla_fired or ())
    steps = case_escalations(case_due_times(case, merchant), now, cal, frozenset(fired))
    stuck: list[StuckStep] = []
    if case.case_type in RETURN_LIKE:
        stuck = stuck_steps(case.details or {}, now, stuck_rules(merchant), frozenset(fired))
    for step in steps:
        fired.add(step.id)
        _apply_step(uow, case, merchant, step, now)
    for flow in stuck:
        fired.add(flow.id)
        _apply_stuck(uow, case, merchant, flow, now, cal)
    if steps or stuck:
        case.sla_fired = fired
        case.updated_at = now
    when = schedule_case(case, merchant, now)
    if when is not None and when <= now:  # never spin on the same instant
        case.due_sk = keys.due_sort(now + timedelta(minutes=1), case.pk)
    uow.save("case", case)
    uow.commit()
    return "escalated" if steps or stuck else "rescheduled"


def _raise_level(case: CaseItem, merchant: MerchantItem, role: str) -> str | None:
    """Raise `sla_level` to `role`'s rank; at the senior level hand the case to the first of
    the merchant's `agents.senior_agents` unless a senior has it already. Returns the new
    assignee, if changed."""
    rank = ROLE_RANK.get(role, 0)
    if rank <= int(case.sla_level or 0):
        return None
    case.sla_level = rank
    seniors = [str(a) for a in _agent_settings(merchant).get("senior_agents") or [] if a]
    if role == "senior" and seniors and case.assignee not in seniors:
        case.assignee = seniors[0]
        return case.assignee
    return None


def _apply_step(
    uow: Any, case: CaseItem, merchant: MerchantItem, step: Escalation, now: datetime
) -> None:
    change = CaseChange(uow, case, now, f"{case.pk}#{step.id}")
    target = step.target.replace("_", " ")
    breach = step.level != "warning"
    reassigned = None if step.superseded else _raise_level(case, merchant, step.notify)
    if step.level == "breach":
        before = case.priority
        case.priority = case_state.raise_priority(case.priority or "normal").value
        change.count(f"sla_breach:{step.target}", at=step.occurred_at)
        raised = f"; priority {before} -> {case.priority}" if case.priority != before else ""
    else:
        raised = ""
    handed = f"; handed to {reassigned}" if reassigned else ""
    summary = f"SLA {step.level} on {target}: notify {step.notify}{raised}{handed}"
    change.note(
        "sla_breach" if breach else "sla_warning",
        "system",
        summary,
        at=step.occurred_at,
        step=step.id,
        target=step.target,
        level=step.level,
        notify=step.notify,
        superseded=step.superseded,
        explanation=step.explanation,
    )
    if not step.superseded:
        subject = f"[{merchant.name}] SLA {step.level}: {target} on case {case.case_id}"
        _email(change, merchant, step.notify, step.notify_at, subject, step.explanation)


def _apply_stuck(
    uow: Any, case: CaseItem, merchant: MerchantItem, flow: StuckStep, now: datetime, cal: Any
) -> None:
    change = CaseChange(uow, case, now, f"{case.pk}#{flow.id}")
    reassigned = _raise_level(case, merchant, flow.notify)
    handed = f"; handed to {reassigned}" if reassigned else ""
    label = flow.flow.replace("_", " ")
    change.note(
        "stuck_flow",
        "system",
        f"Stuck return flow ({label}): {flow.explanation}{handed}",
        step=flow.id,
        flow=flow.flow,
        notify=flow.notify,
    )
    change.count(f"stuck_flow:{flow.flow}")
    notify_at = now if is_open(now, cal) else next_open(now, cal)
    subject = f"[{merchant.name}] Stuck return ({label}) on case {case.case_id}"
    _email(change, merchant, flow.notify, notify_at, subject, flow.explanation)


def _email(
    change: CaseChange,
    merchant: MerchantItem,
    role: str,
    notify_at: datetime,
    subject: str,
    explanation: str,
) -> None:
    case = change.case
    to = recipients(merchant, case, role)
    if not to:
        log.warning("no address for an SLA notice", extra={"role": role})
        return
    text = "\n".join(
        [
            subject,
            "",
            f"Case: {case.case_id} ({case.case_type}, priority {case.priority}, "
            f"status {case.status})",
            f"Subject: {case.subject}",
            f"Assignee: {case.assignee or 'nobody'}",
            f"First response due: {_when(case.first_response_due)}",
            f"Resolution due: {_when(case.resolution_due)}",
            "",
            explanation,
        ]
    )
    item = new_outbox(
        case.merchant_id,
        cause=change.cause,
        kind=EMAIL_KIND,
        now=change.now,
        customer_id=None,
        context={"to": to, "subject": subject, "text": text, "role": role},
        channel="email",
        case_id=case.case_id,
        order_id=case.order_id,
    )
    set_outbox_due(item, max(notify_at, change.now))  # outside hours: the next opening
    change.uow.insert(f"outbox:{EMAIL_KIND}", item)


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "met"


def _agent_settings(merchant: MerchantItem) -> Mapping[str, Any]:
    raw = (merchant.settings or {}).get("agents")
    return raw if isinstance(raw, Mapping) else {}


def recipients(merchant: MerchantItem, case: CaseItem, role: str) -> list[str]:
    """Who hears of a step notifying `role`: the role's addresses in the settings API's
    `agents.escalation_contacts`, else the merchant's `support_email`; empty when neither."""
    contacts = _agent_settings(merchant).get("escalation_contacts") or {}
    found = contacts.get(role) if isinstance(contacts, Mapping) else None
    if isinstance(found, str):
        found = [found]
    addresses = [str(a) for a in found or [] if a]
    if not addresses and (merchant.settings or {}).get("support_email"):
        addresses = [str(merchant.settings["support_email"])]
    return addresses
