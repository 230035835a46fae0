"""The settings API: read all sections, replace one, its audit log, and the try-it endpoints.

Framework-free like `api.py`: `app.py` passes the authenticated merchant, lower-cased
headers, the raw body and the clock. The try-it endpoints run the engine's pure policies
(`policy/returns.py decide`, `policy/sla.py due_times`) on a hypothetical case with the
merchant's saved rules, or with the rules in the body (to try before saving); nothing is
stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload, PayloadTooLarge
from chalicelib.merchant_settings import audit_json, load_settings, save_section, validate_section
from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = [
    "get_settings",
    "put_section",
    "actor_of",
    "list_audit",
    "try_return",
    "try_sla",
    "json_body",
]

MAX_BODY = 32 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
_ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+:-]{0,99}$")


def json_body(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object; 413 when too large, 400 when not an object."""
    if len(raw_body) > MAX_BODY:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes exceeds {MAX_BODY}")
    try:
        body = json.loads(raw_body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise MalformedPayload("body must be a JSON object")
    return body


def get_settings(store: Store, merchant: MerchantItem) -> dict[str, Any]:
    return load_settings(merchant)


def put_section(
    store: Store,
    merchant: MerchantItem,
    section: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: datetime,
) -> dict[str, Any]:
    """Replace one section. Version: header `If-Match` (wins) or body `version`; actor:
    header `X-Actor` (default "api")."""
    body = json_body(raw_body)
    version = body.pop("version", None)
    if headers.get("if-match"):
        version = headers["if-match"].removeprefix("W/")
    actor = actor_of(headers)
    return save_section(store, merchant.merchant_id, section, body, version, actor, now)


def actor_of(headers: Mapping[str, str]) -> str:
    """Who saves: header `X-Actor` (an agent name), else "api"."""
    actor = (headers.get("x-actor") or "api").strip()
    if not _ACTOR.match(actor):
        raise MalformedPayload("X-Actor must be 1-100 letters, digits, spaces or . _ @ + : -")
    return actor


def list_audit(store: Store, merchant: MerchantItem, params: Mapping[str, str]) -> dict[str, Any]:
    """Saved settings sections, newest first: `{"items": [...], "next_cursor": ...}`."""
    unknown = set(params) - {"limit", "cursor"}
    if unknown:
        raise MalformedPayload(f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise MalformedPayload(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    page = store.settings_audit_page(merchant.merchant_id, int(raw), params.get("cursor"))
    return {"items": [audit_json(item) for item in page.items], "next_cursor": page.cursor}


def _time(body: Mapping[str, Any], name: str, default: datetime | None) -> datetime | None:
    value = body.get(name)
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPayload(
            f"{name} must be an ISO-8601 time like 2026-11-20T10:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise MalformedPayload(f"{name} must carry a time zone (e.g. Z)")
    return parsed


def _amount(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"{name} must be a decimal string like '49.00'")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise MalformedPayload(f"{name} is not a number: {value!r}") from None


def _lines(body: Mapping[str, Any], currency: str) -> tuple[Any, ...]:
    from chalicelib.events import Money
    from chalicelib.policy.returns import RequestedLine

    lines = body.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= 50:
        raise MalformedPayload("lines must be a list of 1 to 50 return lines")
    out = []
    allowed = {"sku", "unit_price", "quantity", "quantity_purchased", "quantity_returned",
               "reason", "tags"}  # fmt: skip
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(line, Mapping) or set(line) - allowed:
            raise MalformedPayload(f"{where} must be an object with {', '.join(sorted(allowed))}")
        quantity = line.get("quantity", 1)
        out.append(
            RequestedLine(
                sku=line.get("sku"),
                unit_price=Money(_amount(line.get("unit_price"), f"{where}.unit_price"), currency),
                quantity=quantity,
                quantity_purchased=line.get("quantity_purchased", quantity),
                quantity_returned=line.get("quantity_returned", 0),
                reason=line.get("reason", "no_reason"),
                tags=tuple(line.get("tags") or ()),
            )
        )
    return tuple(out)


def try_return(
    store: Store, merchant: MerchantItem, raw_body: bytes, now: datetime
) -> dict[str, Any]:
    """The decision the autopilot would make for a hypothetical return, with its trace.

    Body: `lines` (sku, unit_price, quantity, quantity_purchased, quantity_returned, reason,
    tags), `order_total`, `delivered_at`, `order_status`, `fulfillment_status`,
    `customer_returns_90d`, `complaints_count`, optional `now` and `rules` (unsaved rules to
    try; default: the saved ones). Nothing is stored.
    """
    from zoneinfo import ZoneInfo

    from chalicelib.events import Money
    from chalicelib.policy.returns import ReturnFacts, ReturnRules, decide

    body = json_body(raw_body)
    allowed = {"lines", "order_total", "delivered_at", "order_status", "fulfillment_status",
               "customer_returns_90d", "complaints_count", "now", "rules"}  # fmt: skip
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise MalformedPayload(f"unknown field(s) {', '.join(unknown)}; allowed: {sorted(allowed)}")
    rules_body = body["rules"] if "rules" in body else load_settings(merchant)["returns"]
    rules = ReturnRules.from_dict(validate_section("returns", rules_body))
    currency = merchant.currency or "USD"
    lines = _lines(body, currency)
    total = body.get("order_total")
    order_total = (
        Money(_amount(total, "order_total"), currency)
        if total is not None
        else Money(
            sum((ln.unit_price.amount * ln.quantity_purchased for ln in lines), Decimal(0)),
            currency,
        )
    )
    facts = ReturnFacts(
        now=_time(body, "now", now) or now,
        order_total=order_total,
        lines=lines,
        delivered_at=_time(body, "delivered_at", None),
        order_status=body.get("order_status", "open"),
        fulfillment_status=body.get("fulfillment_status", "fulfilled"),
        customer_returns_90d=body.get("customer_returns_90d", 0),
        complaints_count=body.get("complaints_count", 0),
        tz=ZoneInfo(merchant.timezone or "UTC"),
    )
    decision = decide(facts, rules)
    return {"decision": decision.to_dict(), "rules": rules.to_dict(), "stored": False}


def try_sla(store: Store, merchant: MerchantItem, raw_body: bytes, now: datetime) -> dict[str, Any]:
    """Due times of a hypothetical case: body `case_type`, `priority`, `opened_at`, optional
    `vip`, `channel`, and `sla` (an unsaved SLA section to try). Nothing is stored."""
    from chalicelib.policy.business_time import BusinessCalendar
    from chalicelib.policy.sla import due_times
    from chalicelib.policy.sla_settings import PRIORITIES, SlaPolicy

    body = json_body(raw_body)
    allowed = {"case_type", "priority", "opened_at", "vip", "channel", "sla"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise MalformedPayload(f"unknown field(s) {', '.join(unknown)}; allowed: {sorted(allowed)}")
    case_type, priority = body.get("case_type"), body.get("priority", "normal")
    if not isinstance(case_type, str) or not case_type:
        raise MalformedPayload("case_type is required, e.g. 'complaint'")
    if priority not in PRIORITIES:
        raise MalformedPayload(f"priority must be one of {', '.join(PRIORITIES)}")
    vip, channel = body.get("vip", False), body.get("channel", "email")
    if not isinstance(vip, bool) or not isinstance(channel, str):
        raise MalformedPayload("vip must be true or false and channel a string")
    section = validate_section(
        "sla", body["sla"] if "sla" in body else load_settings(merchant)["sla"]
    )
    policy = SlaPolicy.from_dict({k: v for k, v in section.items() if k != "calendar"})
    zone = merchant.timezone or "UTC"
    calendar = (
        BusinessCalendar.from_dict(section["calendar"])
        if section.get("calendar")
        else BusinessCalendar.always_open(zone)  # as handlers/sla_schedule.py
    )
    opened = _time(body, "opened_at", now) or now
    due = due_times(policy, calendar, case_type, priority, opened, vip, channel)
    return {
        "case_type": case_type,
        "priority": priority,
        "opened_at": keys.iso(opened),
        "first_response_due": keys.iso(due.first_response) if due.first_response else None,
        "resolution_due": keys.iso(due.resolution) if due.resolution else None,
        "calendar": calendar.to_dict(),
        "deadlines": [
            {
                "target": d.target,
                "due": keys.iso(d.due),
                "checkpoints": [
                    {"level": level.name, "notify": level.notify, "at": keys.iso(at)}
                    for level, at in d.checkpoints
                ],
            }
            for d in due.deadlines
        ],
        "explanation": list(due.explanation),
        "stored": False,
    }
