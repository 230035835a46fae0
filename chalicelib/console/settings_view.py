"""The rules / SLA / messages editor: settings sections as forms or JSON, saves with audit.

The return and SLA sections have real form fields (`rule_forms`, posted with `editor=fields`
and turned into the same section value over the current one); every section, those two
included, can also be edited as JSON ("advanced").

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

__all__ = ["load", "save", "form_value", "TITLES"]

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
    """Sections as pretty JSON (and form fields), the version to send back, problems and
    recent audit."""
    from chalicelib import merchant_settings
    from chalicelib.console import rule_forms

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
        "forms": {
            "returns": rule_forms.returns_fields(settings.get("returns") or {}),
            "sla": rule_forms.sla_fields(settings.get("sla") or {}),
        },
        "titles": TITLES,
        "version": settings["version"],
        "problems": settings.get("problems") or {},
        "audit": [merchant_settings.audit_json(item) for item in page.items],
        "reasons": list((settings.get("returns") or {}).get("allowed_reasons") or ["no_reason"]),
    }


def save(d: Any, merchant: MerchantItem, section: str, form: Mapping[str, Any], actor: str) -> dict:
    """Save one section from the editor: its form fields (`editor=fields`) or `value` (JSON
    text or object); `version` is the settings version the editor was loaded at."""
    from chalicelib import merchant_settings

    value = form.get("value")
    if form.get("editor") == "fields":
        value = form_value(d.store, merchant, section, form)
    elif isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise MalformedPayload(f"{section}: the text is not valid JSON ({exc})") from exc
    return merchant_settings.save_section(
        d.store, merchant.merchant_id, section, value, form.get("version"), actor, d.now()
    )


def form_value(store: Store, merchant: MerchantItem, section: str, form: Mapping[str, Any]) -> Any:
    """The section value a rules form posted, over the section as stored now (keys the form
    does not show are kept); the save stays conditioned on the version the form was read at."""
    from chalicelib import merchant_settings
    from chalicelib.console import rule_forms

    fresh = store.merchant(merchant.merchant_id) or merchant
    current = merchant_settings.load_settings(fresh).get(section) or {}
    return rule_forms.to_section(section, current, form)
