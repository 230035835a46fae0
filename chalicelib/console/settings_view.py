"""The rules / SLA / messages editor: settings sections as editable JSON, saves with audit.

Built on `chalicelib.merchant_settings` (imported lazily): `load_settings` gives every
section with defaults and the merchant's `version`; `save_section` validates server-side,
saves conditioned on that version (409 when someone saved in between) and writes the audit
entry (who, when, old -> new), which the page lists from its own partition (one Query).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["load", "save", "TITLES"]

TITLES = {
    "returns": "Return rules",
    "sla": "SLA policies, business hours and holidays",
    "tiers": "VIP and risk thresholds",
    "quiet_hours": "Quiet hours",
    "messaging": "Messaging (provider, locale, support contact)",
    "tracking": "Tracking",
    "refunds": "Refunds",
    "agents": "Agents and escalation",
    "digest": "Weekly digest",
}


def load(store: Store, merchant: MerchantItem) -> dict[str, Any]:
    """Sections as pretty JSON, the version to send back, problems and recent audit."""
    from chalicelib import merchant_settings

    merchant = store.merchant(merchant.merchant_id) or merchant  # fresh: its version matters
    settings = merchant_settings.load_settings(merchant)
    sections = [
        {
            "name": name,
            "title": TITLES.get(name, name.replace("_", " ").capitalize()),
            "json": json.dumps(settings.get(name), indent=2, ensure_ascii=False, sort_keys=True),
        }
        for name in merchant_settings.SECTIONS
    ]
    page = store.settings_audit_page(merchant.merchant_id, 10, None)
    return {
        "sections": sections,
        "version": settings["version"],
        "problems": settings.get("problems") or {},
        "audit": [merchant_settings.audit_json(item) for item in page.items],
        "reasons": list((settings.get("returns") or {}).get("allowed_reasons") or ["no_reason"]),
    }


def save(d: Any, merchant: MerchantItem, section: str, form: Mapping[str, Any], actor: str) -> dict:
    """Save one section from the editor form (`value` JSON text or object, `version`)."""
    from chalicelib import merchant_settings

    value = form.get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MalformedPayload(f"{section}: the text is not valid JSON ({exc})") from exc
    return merchant_settings.save_section(
        d.store, merchant.merchant_id, section, value, form.get("version"), actor, d.now()
    )
