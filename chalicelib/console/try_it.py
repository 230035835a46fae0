"""The rules page's "try it" panel: the decision the return rules would make, before saving.

A scenario typed in the panel, or a real order picked by id (its lines, total and delivery
time; one GetItem), is handed to `settings_api.try_return` with the rules being edited
(unsaved) or the saved ones. Nothing is stored. The edited rules come as the section form's
fields (`rules_fields` / `sla_fields`, an object of field -> value, read with `rule_forms`
over the saved section) or as JSON text (`rules` / `sla`, the advanced editor).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload, NotFound
from chalicelib.store import keys
from chalicelib.store.models import OrderItem

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["scenario", "try_return"]


def _int(form: Mapping[str, Any], name: str, default: int) -> int:
    value = form.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise MalformedPayload(f"{name} must be a whole number") from None
    if not 0 <= number <= 100000:
        raise MalformedPayload(f"{name} is out of range")
    return number


def scenario(
    store: Store, merchant_id: str, form: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The `try_return` body for the panel's form (pure except the order read)."""
    reason = str(form.get("reason") or "no_reason")
    body: dict[str, Any] = {"customer_returns_90d": _int(form, "returns_90d", 0)}
    order_id = str(form.get("order_id") or "").strip()
    if order_id:
        if len(order_id) > 64 or "#" in order_id:
            raise NotFound("no such order")
        order = store.get(OrderItem, keys.order(merchant_id, order_id))
        if order is None:
            raise NotFound(f"no order {order_id!r} in this shop")
        body["lines"] = [
            {
                "sku": line.get("sku"),
                "unit_price": str(line.get("unit_price")),
                "quantity": 1,
                "quantity_purchased": int(line.get("quantity") or 1),
                "quantity_returned": int((order.returned or {}).get(str(line.get("line_id")), 0)),
                "reason": reason,
                "tags": list(line.get("tags") or []),
            }
            for line in (order.line_items or [])[:50]
        ]
        body["order_total"] = order.total
        if order.delivered_at:
            body["delivered_at"] = keys.iso(order.delivered_at)
        body["fulfillment_status"] = order.fulfillment_status or "fulfilled"
    else:
        body["lines"] = [
            {
                "sku": str(form.get("sku") or "SKU-1"),
                "unit_price": str(form.get("unit_price") or "0"),
                "quantity": max(1, _int(form, "quantity", 1)),
                "reason": reason,
            }
        ]
        days = _int(form, "delivered_days_ago", 3)
        body["delivered_at"] = keys.iso(now - timedelta(days=days))
    rules = form.get("rules")
    if isinstance(form.get("rules_fields"), dict):
        body["rules"] = _from_fields(store, merchant_id, "returns", form["rules_fields"])
    elif isinstance(rules, str) and rules.strip():
        try:
            body["rules"] = json.loads(rules)
        except ValueError as exc:
            raise MalformedPayload(f"the rules being edited are not valid JSON ({exc})") from exc
    elif isinstance(rules, dict):
        body["rules"] = rules
    return body


def _from_fields(store: Store, merchant_id: str, section: str, fields: Mapping[str, Any]) -> Any:
    """The section value of the form being edited (unsaved), over the saved section."""
    from chalicelib import merchant_settings
    from chalicelib.console import rule_forms

    merchant, _ = store.cached_merchant(merchant_id)
    if merchant is None:
        raise NotFound("no such merchant")
    current = merchant_settings.load_settings(merchant).get(section) or {}
    return rule_forms.to_section(section, current, {k: str(v) for k, v in fields.items()})


def try_return(
    store: Store, merchant: MerchantItem, form: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Outcome, explanation and trace for the panel (nothing stored)."""
    from chalicelib import settings_api

    body = scenario(store, merchant.merchant_id, form, now)
    result = settings_api.try_return(store, merchant, json.dumps(body).encode(), now)
    decision = result["decision"]
    return {
        "outcome": decision.get("outcome"),
        "explanation": decision.get("explanation"),
        "trace": decision.get("trace", []),
        "window_days": result["rules"].get("window_days"),
    }


def try_sla(
    store: Store, merchant: MerchantItem, form: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Due times and escalation steps of a case opened now under the SLA being edited."""
    from chalicelib import settings_api

    body: dict[str, Any] = {
        "case_type": str(form.get("case_type") or "complaint"),
        "priority": str(form.get("priority") or "normal"),
        "vip": str(form.get("vip") or "") in ("1", "true", "on"),
    }
    sla = form.get("sla")
    if isinstance(form.get("sla_fields"), dict):
        body["sla"] = _from_fields(store, merchant.merchant_id, "sla", form["sla_fields"])
    elif isinstance(sla, str) and sla.strip():
        try:
            body["sla"] = json.loads(sla)
        except ValueError as exc:
            raise MalformedPayload(f"the SLA being edited is not valid JSON ({exc})") from exc
    result = settings_api.try_sla(store, merchant, json.dumps(body).encode(), now)
    return {
        "first_response_due": result["first_response_due"],
        "resolution_due": result["resolution_due"],
        "steps": [
            {"target": d["target"], "level": c["level"], "notify": c["notify"], "at": c["at"]}
            for d in result["deadlines"]
            for c in d["checkpoints"]
        ],
        "explanation": result["explanation"],
    }
