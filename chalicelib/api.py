"""The merchant read API: bearer-key authentication, case and notification listings as JSON.

Stable contract (docs/api.md): lists return `{"items": [...], "next_cursor": str | null}`;
cursors are opaque and only valid for the merchant that got them. Every lookup is scoped to
the authenticated merchant's keys, so another merchant's ids simply are not found.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload, NotFound, Unauthorized
from chalicelib.store import keys
from chalicelib.store.models import CaseItem, TimelineItem

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem, OutboxItem
    from chalicelib.store.repository import Store

__all__ = [
    "hash_api_key",
    "new_api_key",
    "authenticate",
    "list_cases",
    "get_case",
    "list_notifications",
    "customer_timeline",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
]

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
CASE_FILTERS = ("status", "type", "priority", "assignee")


def hash_api_key(api_key: str) -> str:
    """What is stored of an API key: its SHA-256 (the key itself is shown once, at creation)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return "ak_" + secrets.token_urlsafe(32)


def authenticate(store: Store, authorization: str | None) -> MerchantItem:
    """The merchant owning the `Authorization: Bearer <key>`; raises `Unauthorized`."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send the merchant API key as 'Authorization: Bearer <key>'")
    key = authorization[len("Bearer ") :].strip()
    if not key or len(key) > 200:
        raise Unauthorized("API key is not valid")
    merchant = store.merchant_by_api_key_hash(hash_api_key(key))
    if merchant is None or merchant.status != "active":
        raise Unauthorized("API key is not valid")
    return merchant


def _limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise MalformedPayload(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _time(value: Any) -> str | None:
    return keys.iso(value) if value else None


def case_json(case: CaseItem) -> dict[str, Any]:
    return {
        "id": case.case_id,
        "type": case.case_type,
        "status": case.status,
        "priority": case.priority,
        "category": case.category,
        "subject": case.subject,
        "customer_id": case.customer_id,
        "order_id": case.order_id,
        "assignee": case.assignee,
        "tags": sorted(case.tags or []),
        "opened_at": _time(case.opened_at),
        "updated_at": _time(case.updated_at),
        "details": case.details or {},
        **_sla_json(case),
    }


def _sla_json(case: CaseItem) -> dict[str, Any]:
    """The case's SLA state (issue 7 fields; None where a case has none)."""
    level = getattr(case, "sla_level", None)
    return {
        "first_response_due": _time(getattr(case, "first_response_due", None)),
        "resolution_due": _time(getattr(case, "resolution_due", None)),
        "first_responded_at": _time(getattr(case, "first_responded_at", None)),
        "sla_level": None if level is None else int(level),
        "vip": bool(getattr(case, "vip", None)),
        "high_risk": bool(getattr(case, "high_risk", None)),
    }


def timeline_json(entry: TimelineItem) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "at": _time(entry.at),
        "recorded_at": _time(entry.recorded_at),
        "kind": entry.kind,
        "source": entry.source,
        "summary": entry.summary,
        "case_id": entry.case_id,
        "order_id": entry.order_id,
        "data": entry.data or {},
    }


def notification_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.outbox_id,
        "channel": item.channel,
        "kind": item.kind,
        "status": item.status,
        "customer_id": item.customer_id,
        "order_id": item.order_id,
        "case_id": item.case_id,
        "attempts": item.attempts,
        "next_attempt_at": _time(item.next_attempt_at) if item.status == "pending" else None,
        "provider": item.provider,
        "provider_message_id": item.provider_message_id,
        "to": item.to_masked,
        "text": item.text,
        "locale": item.locale,
        "encoding": item.encoding,
        "segments": item.segments,
        "last_error": item.last_error,
        "created_at": _time(item.created_at),
        "sent_at": _time(item.sent_at),
    }


def list_cases(
    store: Store, merchant: MerchantItem, params: Mapping[str, str], now: datetime | None = None
) -> dict[str, Any]:
    """Cases newest first; filters: status, type, priority, assignee (exact match), and
    `breached=true` (open cases past a due time at `now`, see `ops_lookup`)."""
    unknown = set(params) - {"limit", "cursor", "breached", *CASE_FILTERS}
    if unknown:
        raise MalformedPayload(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    condition = None
    breached = params.get("breached")
    if breached not in (None, "", "true", "false"):
        raise MalformedPayload("breached must be true or false")
    if breached == "true":
        from chalicelib.ops_lookup import breached_condition

        condition = breached_condition(now or datetime.now(UTC))
    attributes = {
        "status": CaseItem.status,
        "type": CaseItem.case_type,
        "priority": CaseItem.priority,
        "assignee": CaseItem.assignee,
    }
    for name in CASE_FILTERS:
        if params.get(name):
            clause = attributes[name] == params[name]
            condition = clause if condition is None else condition & clause
    page = store.list_cases(merchant.merchant_id, _limit(params), params.get("cursor"), condition)
    return {"items": [case_json(case) for case in page.items], "next_cursor": page.cursor}


def get_case(store: Store, merchant: MerchantItem, case_id: str) -> dict[str, Any]:
    """One case with its whole timeline, oldest entry first; raises `NotFound`."""
    if not case_id or len(case_id) > 64 or "#" in case_id:
        raise NotFound("no such case")
    items = store.collection(keys.case(merchant.merchant_id, case_id))
    cases = [item for item in items if isinstance(item, CaseItem)]
    if not cases:
        raise NotFound("no such case")
    body = case_json(cases[0])
    body["timeline"] = [timeline_json(i) for i in items if isinstance(i, TimelineItem)]
    return body


def list_notifications(
    store: Store, merchant: MerchantItem, params: Mapping[str, str]
) -> dict[str, Any]:
    """Outbox items newest first, with their delivery state."""
    unknown = set(params) - {"limit", "cursor"}
    if unknown:
        raise MalformedPayload(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    page = store.list_notifications(merchant.merchant_id, _limit(params), params.get("cursor"))
    return {"items": [notification_json(i) for i in page.items], "next_cursor": page.cursor}


def customer_timeline(
    store: Store, merchant: MerchantItem, customer_id: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """One customer's timeline across orders, cases and channels, newest first (gsi2)."""
    unknown = set(params) - {"limit", "cursor"}
    if unknown:
        raise MalformedPayload(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    if not customer_id or len(customer_id) > 64 or "#" in customer_id:
        raise NotFound("no such customer")
    page = store.customer_timeline_page(
        merchant.merchant_id, customer_id, _limit(params), params.get("cursor")
    )
    return {
        "customer_id": customer_id,
        "items": [timeline_json(entry) for entry in page.items],
        "next_cursor": page.cursor,
    }
