"""The ops actions API: assign, note, change status, approve, reject and resolve a case.

Framework-free like `api.py`: `app.py` passes the authenticated merchant, the case id, the
action, the raw JSON body and the clock. Each action validates its body (400), reads the
case (404 when it is not this merchant's), checks the case state machine (409
`invalid_transition`), and commits the case (version-conditioned), its audit entry on the
timeline (source `agent:<actor>`, the actor being the body's `actor`, else the case's
assignee, else `api`) and any messages in one transaction. A concurrent change is retried
from a fresh read, so the state machine is always checked against the stored state.
Approving a return that waited for review does what auto-approval does: return code, SMS,
marketplace approval.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.api import case_json, timeline_json
from chalicelib.errors import Conflict, MalformedPayload, NotFound, PayloadTooLarge, StaleVersion
from chalicelib.handlers.cases import CaseChange, approve_return, reject_return
from chalicelib.handlers.sla_schedule import mark_first_response, schedule_case
from chalicelib.policy import case_state
from chalicelib.policy.case_state import CaseStatus
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem, OrderItem

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["ACTIONS", "act", "MAX_ATTEMPTS", "MAX_TEXT"]

MAX_ATTEMPTS = 3
MAX_TEXT = 4000
MAX_BODY = 16 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,99}$")
_RETURN_LIKE = frozenset({"return", "exchange"})  # approval makes a return code
# Statuses with their own action, so that each carries what it needs (a reason, a code...).
_OWN_ACTION = {"approved": "approve", "rejected": "reject", "resolved": "resolve"}
# An agent's note or decision is the case's first response (SLA, issue 7); assigning is not.
FIRST_RESPONSE_ACTIONS = frozenset({"note", "status", "approve", "reject", "resolve"})


@dataclass
class _Act:
    """One action on one freshly read case."""

    change: CaseChange
    order: OrderItem | None
    params: dict[str, Any]
    source: str
    settings: Mapping[str, Any] | None = None  # the merchant's (return labels, expiry)

    @property
    def case(self) -> CaseItem:
        return self.change.case

    def move(self, target: str | CaseStatus) -> str:
        """Move the case (InvalidTransition when its state machine forbids it)."""
        previous = self.case.status
        self.case.status = case_state.transition(self.case.case_type, previous, target).value
        return previous


def _text(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"'{name}' must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise MalformedPayload(f"'{name}' is longer than {MAX_TEXT} characters")
    return value.strip()


def _name(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _NAME.match(value.strip()):
        raise MalformedPayload(
            f"'{name}' must be 1-100 letters, digits, spaces or . _ @ + - (starting with a "
            "letter or digit)"
        )
    return value.strip()


def _assign(act: _Act) -> str:
    before, after = act.case.assignee, act.params["assignee"]
    act.case.assignee = after
    act.change.note("assigned", act.source, f"Assigned to {after} (was {before or 'nobody'})")
    return "assigned"


def _note(act: _Act) -> str:
    act.change.note("note", act.source, act.params["text"])
    return "noted"


def _status(act: _Act) -> str:
    target = act.params["status"]
    own = _OWN_ACTION.get(target)
    if own and (target != "approved" or act.case.case_type in _RETURN_LIKE):
        raise MalformedPayload(f"use POST /api/cases/{{id}}/{own} to move a case to {target}")
    previous = act.move(target)
    summary = f"Status {previous} -> {act.case.status}"
    note = act.params.get("note")
    act.change.note("status_changed", act.source, summary + (f": {note}" if note else ""))
    act.change.count(f"cases_{act.case.status}")
    return act.case.status


def _approve(act: _Act) -> str:
    previous = act.move(CaseStatus.APPROVED)
    code = None
    if act.case.case_type in _RETURN_LIKE:
        code = approve_return(
            act.change, act.order, by=act.source, push=True, settings=act.settings
        )
        act.change.count("returns_approved_by_agent")
    note = act.params.get("note")
    summary = f"Approved ({previous} -> approved)" + (f", return code {code}" if code else "")
    act.change.note("approved", act.source, summary + (f": {note}" if note else ""))
    return "approved"


def _reject(act: _Act) -> str:
    previous, reason = act.move(CaseStatus.REJECTED), act.params["reason"]
    if act.case.case_type in _RETURN_LIKE:
        reject_return(act.change, reason=reason, push=True)
        act.change.count("returns_rejected_by_agent")
    else:
        act.case.details = {**(act.case.details or {}), "rejection_reason": reason}
    act.change.note("rejected", act.source, f"Rejected ({previous} -> rejected): {reason}")
    return "rejected"


def _resolve(act: _Act) -> str:
    previous, resolution = act.move(CaseStatus.RESOLVED), act.params["resolution"]
    now = keys.iso(act.change.now)
    act.case.details = {
        **(act.case.details or {}),
        "resolution": {"text": resolution, "at": now, "by": act.source},
    }
    act.change.note("resolved", act.source, f"Resolved ({previous} -> resolved): {resolution}")
    act.change.count("cases_resolved")
    return "resolved"


@dataclass(frozen=True)
class _Spec:
    fields: Mapping[str, Callable[[Mapping[str, Any]], Any]]
    apply: Callable[[_Act], str]


def _optional(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda body: _text(body, name, required=False)


ACTIONS: Mapping[str, _Spec] = {
    "assign": _Spec({"assignee": lambda b: _name(b, "assignee", required=True)}, _assign),
    "note": _Spec({"text": lambda b: _text(b, "text")}, _note),
    "status": _Spec({"status": lambda b: _text(b, "status"), "note": _optional("note")}, _status),
    "approve": _Spec({"note": _optional("note")}, _approve),
    "reject": _Spec({"reason": lambda b: _text(b, "reason")}, _reject),
    "resolve": _Spec({"resolution": lambda b: _text(b, "resolution")}, _resolve),
}


def _body(raw_body: bytes) -> dict[str, Any]:
    if len(raw_body) > MAX_BODY:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes exceeds {MAX_BODY}")
    if not raw_body.strip():
        return {}
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise MalformedPayload("body must be a JSON object")
    return body


def _params(action: str, raw_body: bytes) -> dict[str, Any]:
    spec, body = ACTIONS[action], _body(raw_body)
    unknown = set(body) - set(spec.fields) - {"actor"}
    if unknown:
        allowed = ", ".join(sorted({*spec.fields, "actor"}))
        raise MalformedPayload(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: {allowed}")
    params = {name: check(body) for name, check in spec.fields.items()}
    params["actor"] = _name(body, "actor", required=False)
    return params


def _load(store: Store, merchant_id: str, case_id: str, action: str) -> tuple[CaseItem, Any]:
    case = store.get(CaseItem, keys.case(merchant_id, case_id))
    if case is None:
        raise NotFound("no such case")
    order = None
    if action == "approve" and case.order_id and case.case_type in _RETURN_LIKE:
        order = store.get(OrderItem, keys.order(merchant_id, case.order_id))
    return case, order


def _remember_agent(store: Store, uow: Any, case: CaseItem) -> None:
    """A returning customer goes to the agent who last handled them (issue 7,
    `vip_routing`): the assignee becomes the customer's `last_agent`, in the same
    transaction as the case (version-conditioned: a concurrent change retries the action)."""
    if not case.customer_id or not case.assignee:
        return
    customer = store.get(CustomerItem, keys.customer(case.merchant_id, case.customer_id))
    if customer is None or customer.last_agent == case.assignee:
        return
    customer.last_agent = case.assignee
    uow.save("customer", customer)


def act(
    store: Store,
    merchant: MerchantItem,
    case_id: str,
    action: str,
    raw_body: bytes,
    now: datetime,
) -> dict[str, Any]:
    """Apply `action` to the merchant's case; returns the case and the audit entry.

    Raises NotFound (unknown action or case), MalformedPayload (bad body), InvalidTransition
    (the state machine forbids it), Conflict (the case is closed or cancelled) or
    StaleVersion (it kept changing).
    """
    if action not in ACTIONS:
        raise NotFound(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    if not case_id or len(case_id) > 64 or "#" in case_id:
        raise NotFound("no such case")
    params = _params(action, raw_body)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        case, order = _load(store, merchant.merchant_id, case_id, action)
        if action == "assign" and case_state.is_terminal(case.status):
            raise Conflict(f"the case is {case.status}: there is nothing left to assign")
        if action == "assign":
            actor = params["actor"] or params["assignee"]
        else:
            actor = params["actor"] or case.assignee or "api"
        uow = store.unit_of_work()
        change = CaseChange(uow, case, now, f"{case.pk}@{case.version}:{action}")
        result = ACTIONS[action].apply(
            _Act(change, order, params, f"agent:{actor}", merchant.settings)
        )
        case.updated_at = now
        if action in FIRST_RESPONSE_ACTIONS:
            mark_first_response(case, now)
        schedule_case(case, merchant, now)  # SLA due index (issue 7)
        uow.save("case", case)
        if action == "assign":
            _remember_agent(store, uow, case)
        try:
            uow.commit()
        except StaleVersion:
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        entry = timeline_json(change.entries[-1])
        return {"result": result, "case": case_json(case), "entry": entry}
    raise AssertionError("unreachable")
