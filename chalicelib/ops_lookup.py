"""Small ops API gaps: a return case by its return code, retrying a failed notification, and
the `breached` case filter.

Framework-free like `api.py`. The return code is found through its pointer item (one GetItem,
then the case like `GET /api/cases/{id}`); a failed outbox item goes back to pending once
(version-conditioned, with a fresh attempt budget), and a second manual retry is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.api import get_case, notification_json
from chalicelib.errors import Conflict, NotFound, StaleVersion
from chalicelib.store import keys
from chalicelib.store.models import OutboxItem, ReturnCodeItem

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition

    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["return_by_code", "retry_notification", "breached_condition", "NotRetryable"]

_CODE = re.compile(r"^[A-Z0-9-]{4,32}$")
RETRIED_MARK = "manual_retry_at"  # set on the outbox item's context when retried by hand


class NotRetryable(Conflict):
    """The notification is not in a failed state, or was already retried by hand."""

    code = "not_retryable"


def return_by_code(store: Store, merchant: MerchantItem, code: str) -> dict[str, Any]:
    """The return case holding `code` (case JSON with timeline); 404 when unknown."""
    normalized = (code or "").strip().upper()
    if not _CODE.match(normalized):
        raise NotFound("no such return code")
    pointer = store.get(ReturnCodeItem, keys.return_code(merchant.merchant_id, normalized))
    if pointer is None or pointer.merchant_id != merchant.merchant_id:
        raise NotFound("no such return code")
    case = get_case(store, merchant, pointer.case_id)
    return {"return_code": normalized, **case}


def retry_notification(
    store: Store, merchant: MerchantItem, outbox_id: str, now: datetime
) -> dict[str, Any]:
    """Put a failed notification back to pending, due now, once. 404 unknown, 409 when it
    is not failed or was already retried by hand."""
    if not outbox_id or len(outbox_id) > 64 or "#" in outbox_id:
        raise NotFound("no such notification")
    item = store.get(OutboxItem, keys.outbox(merchant.merchant_id, outbox_id))
    if item is None:
        raise NotFound("no such notification")
    if item.status != "failed":
        raise NotRetryable(f"the notification is {item.status}; only a failed one can be retried")
    context = dict(item.context or {})
    if context.get(RETRIED_MARK):
        raise NotRetryable(f"the notification was already retried at {context[RETRIED_MARK]}")
    context[RETRIED_MARK] = keys.iso(now)
    item.context = context
    item.status, item.attempts, item.lease_until = "pending", 0, None
    _set_due(item, now)
    uow = store.unit_of_work()
    uow.save("outbox", item)  # conditioned on the version read
    try:
        uow.commit()
    except StaleVersion as exc:
        raise Conflict("the notification changed meanwhile: reload and try again") from exc
    return {"result": "pending", "notification": notification_json(item)}


def _set_due(item: OutboxItem, now: datetime) -> None:
    """Back on its due index: digest e-mails on the DIGEST kind, the rest on OUTBOX."""
    if item.kind == "weekly_digest":
        from chalicelib.digest.schedule import set_due

        set_due(item, now)
    else:
        from chalicelib.store.records import set_outbox_due

        set_outbox_due(item, now)


def breached_condition(now: datetime) -> Condition:
    """Filter for open cases whose resolution is overdue or whose first response is overdue
    and not given. Reads the SLA attributes by name, so it works before (and after) they are
    declared on `CaseItem`; cases without them never match."""
    from pynamodb.attributes import UTCDateTimeAttribute
    from pynamodb.expressions.operand import Path

    from chalicelib.policy.case_state import SETTLED_STATUSES
    from chalicelib.store.models import CaseItem

    stamp = UTCDateTimeAttribute().serialize(now)
    resolution = Path("resolution_due") < stamp
    first = (Path("first_response_due") < stamp) & Path("first_responded_at").does_not_exist()
    open_case = ~CaseItem.status.is_in(*[s.value for s in SETTLED_STATUSES])
    return open_case & (resolution | first)
