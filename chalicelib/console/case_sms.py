"""Send a templated SMS from the case page: pick an event template, preview it (text,
encoding, segments) in the customer's language, then queue it on the case's outbox.

Only kinds whose template names can all be filled from the case (order number, return code,
rejection reason) are offered, so a queued message always renders. Queuing is one
transaction: the outbox item (id derived from the case version and kind, so a double click
queues one message), the timeline entry (`sms_queued`, source `agent:<actor>`) and the case
(version-conditioned). A customer who opted out of SMS, or has no case customer, gets 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import Conflict, MalformedPayload, NotFound, StaleVersion
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, CustomerItem
from chalicelib.store.repository import ItemRef

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["context_of", "sendable_kinds", "preview", "send"]

NOT_MANUAL = frozenset({"opt_out_confirmed", "opt_in_confirmed", "help"})


def context_of(case: CaseItem) -> dict[str, Any]:
    """The template values a case can fill (pure)."""
    details = case.details or {}
    context: dict[str, Any] = {"order_number": details.get("order_number") or ""}
    if details.get("return_code"):
        context["return_code"] = details["return_code"]
    reason = details.get("rejection_reason")
    if reason:
        context["reason"] = reason
    return context


def sendable_kinds(case: CaseItem) -> list[str]:
    """Kinds whose every name the case can fill (pure)."""
    from chalicelib.notify.templates import KINDS

    have = set(context_of(case))
    return [k for k, names in KINDS.items() if k not in NOT_MANUAL and set(names) <= have]


def _load(store: Store, merchant_id: str, case_id: str) -> tuple[CaseItem, CustomerItem | None]:
    if not case_id or len(case_id) > 64 or "#" in case_id:
        raise NotFound("no such case")
    case = store.get(CaseItem, keys.case(merchant_id, case_id))
    if case is None:
        raise NotFound("no such case")
    customer = None
    if case.customer_id:
        found = store.get_many(
            {"c": ItemRef(CustomerItem, keys.customer(merchant_id, case.customer_id))}
        )
        customer = found["c"]
    return case, customer


def _kind(case: CaseItem, kind: Any) -> str:
    if not isinstance(kind, str) or kind not in sendable_kinds(case):
        raise MalformedPayload(f"pick one of: {', '.join(sendable_kinds(case))}")
    return kind


def preview(store: Store, merchant: MerchantItem, case_id: str, kind: Any) -> dict[str, Any]:
    """What the customer would get, in their language: text, encoding, segments, warnings."""
    import json

    from chalicelib import templates_api

    case, customer = _load(store, merchant.merchant_id, case_id)
    kind = _kind(case, kind)
    locale = (customer.locale if customer else None) or merchant.locale or "en"
    body = {"context": {k: v for k, v in context_of(case).items() if v}}
    if customer is not None and customer.phone:
        body["to"] = customer.phone
    shown = templates_api.preview(store, merchant, kind, locale, json.dumps(body).encode())
    shown["opted_out"] = bool(customer and customer.sms_opt_out)
    return shown


def send(
    store: Store, merchant: MerchantItem, case_id: str, kind: Any, actor: str, now: datetime
) -> dict[str, Any]:
    """Queue the SMS on the case; returns the outbox id and the timeline entry summary."""
    from chalicelib.handlers.cases import CaseChange

    case, customer = _load(store, merchant.merchant_id, case_id)
    kind = _kind(case, kind)
    if customer is None or not customer.phone:
        raise Conflict("this case has no customer with a phone number")
    if customer.sms_opt_out:
        raise Conflict("the customer opted out of SMS")
    uow = store.unit_of_work()
    change = CaseChange(uow, case, now, f"{case.pk}@{case.version}:sms:{kind}")
    outbox_id = change.send(kind, context_of(case))
    change.note(
        "sms_queued", f"agent:{actor}", f"SMS queued: {kind.replace('_', ' ')}", template=kind
    )
    case.updated_at = now
    uow.save("case", case)
    try:
        uow.commit()
    except StaleVersion as exc:
        raise Conflict("the case changed meanwhile (or this SMS was just queued): reload") from exc
    return {"result": "queued", "outbox_id": outbox_id, "kind": kind}
