"""The SMS templates API: list kinds x locales, set or remove a merchant override, preview.

Overrides are stored where the sender reads them: `settings["sms_templates"][kind][locale]`
(`notify/sender.py` passes `sms_templates[kind]` to `render_sms`, which takes locale keys).
A template is checked by `notify/templates.py validate_template` (sandboxed Jinja2, the
allowed constructs only) and rendered with sample values inside the real wrapper (brand,
status link, opt-out notice), so the preview shows what a customer would get and what it
costs: encoding (GSM-7 or UCS-2), segments, and warnings for UCS-2 or more than 2 segments.
Saving goes through `merchant_settings.save_change`: version-conditioned, audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload, NotFound
from chalicelib.merchant_settings import audit_json, save_change
from chalicelib.policy.settings_schema import canonical_locale
from chalicelib.settings_api import actor_of, json_body

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["PACKAGE_LOCALES", "list_templates", "put_template", "delete_template", "preview"]

PACKAGE_LOCALES = ("en", "zh-CN")
SAMPLE_PHONE = "+14155552671"  # a US number: the preview includes the opt-out notice
MAX_SEGMENTS = 2


def _slot(kind: str, locale: str) -> tuple[str, str]:
    from chalicelib.notify.templates import KINDS

    if kind not in KINDS:
        raise NotFound(f"unknown message kind {kind!r}; known: {', '.join(KINDS)}")
    tag = canonical_locale(locale)
    if tag is None:
        raise MalformedPayload(f"locale {locale!r} is not a language tag like 'en' or 'zh-CN'")
    return kind, tag


def _overrides(merchant: MerchantItem) -> dict[str, dict[str, str]]:
    stored = (merchant.settings or {}).get("sms_templates") or {}
    return {
        kind: {
            tag: str(text)
            for loc, text in per_locale.items()
            if (tag := canonical_locale(loc)) is not None
        }
        for kind, per_locale in stored.items()
        if isinstance(per_locale, Mapping)
    }


def list_templates(store: Store, merchant: MerchantItem) -> dict[str, Any]:
    """Every kind x locale (package locales plus any with an override): default text,
    override text (or null), and which one is in effect (`fallback`: neither, the locale
    chain of `notify/templates.py` picks another locale's text)."""
    from chalicelib.notify.templates import KINDS

    overrides = _overrides(merchant)
    locales = sorted({*PACKAGE_LOCALES, *(loc for o in overrides.values() for loc in o)})
    items = []
    for kind in KINDS:
        for locale in locales:
            default = _default_source(locale, kind)
            override = overrides.get(kind, {}).get(locale)
            items.append(
                {
                    "kind": kind,
                    "locale": locale,
                    "default": default.strip() if default else None,
                    "override": override,
                    "in_effect": "override"
                    if override is not None
                    else ("default" if default else "fallback"),
                }
            )
    return {"items": items, "locales": locales, "version": merchant.version or 0}


def _render(
    merchant: MerchantItem, kind: str, locale: str, text: str | None, body: Mapping[str, Any]
) -> dict[str, Any]:
    from chalicelib.notify.templates import render_sms, sample_context, validate_template

    context = sample_context(kind)
    extra = body.get("context") or {}
    if not isinstance(extra, Mapping) or not all(isinstance(v, str | int) for v in extra.values()):
        raise MalformedPayload("context must map names to strings or numbers")
    context.update(extra)
    to = body.get("to") or SAMPLE_PHONE
    if not isinstance(to, str):
        raise MalformedPayload("to must be an E.164 phone number")
    overrides = dict(_overrides(merchant).get(kind, {}))
    warnings: list[str] = []
    if text is not None:
        warnings = validate_template(text, kind, locale)
        overrides[locale] = text
    rendered = render_sms(
        kind, locale, context, brand=merchant.name, overrides=overrides,
        default_locale=merchant.locale or "en", to=to,
    )  # fmt: skip
    cost = rendered.cost
    if cost.encoding == "UCS-2" and not any("UCS-2" in w for w in warnings):
        warnings.append("the message is sent as UCS-2 (70 characters per segment instead of 160)")
    if cost.segments > MAX_SEGMENTS and not any("segments" in w for w in warnings):
        warnings.append(f"the message takes {cost.segments} SMS segments ({cost.encoding})")
    return {
        "kind": kind,
        "locale": locale,
        "locale_used": rendered.locale_used,
        "text": rendered.text,
        "encoding": cost.encoding,
        "units": cost.units,
        "segments": cost.segments,
        "warnings": warnings,
    }


def _text(body: Mapping[str, Any], required: bool) -> str | None:
    text = body.get("text")
    if text is None and not required:
        return None
    if not isinstance(text, str) or not text.strip():
        raise MalformedPayload("text must be the template text (Jinja2), a non-empty string")
    return text


def put_template(
    store: Store,
    merchant: MerchantItem,
    kind: str,
    locale: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: datetime,
) -> dict[str, Any]:
    """Store the override after checking it renders; returns the preview and the audit entry.
    Body `{"text": ..., "version"?: n}`; header `If-Match` also carries the version."""
    kind, tag = _slot(kind, locale)
    body = json_body(raw_body)
    unknown = sorted(set(body) - {"text", "version", "context", "to"})
    if unknown:
        raise MalformedPayload(f"unknown field(s) {', '.join(unknown)}; allowed: text, version")
    text = _text(body, True)
    result = _render(merchant, kind, tag, text, body)
    version = _expected(headers, body)

    def change(item: MerchantItem) -> tuple[dict[str, Any], dict[str, Any]]:
        settings = dict(item.settings or {})
        templates = {k: dict(v) for k, v in _overrides(item).items()}
        before = templates.get(kind, {}).get(tag)
        templates.setdefault(kind, {})[tag] = text or ""
        settings["sms_templates"] = templates
        item.settings = settings
        return {"text": before}, {"text": text}

    actor = actor_of(headers)
    saved, audit = save_change(store, merchant.merchant_id, f"templates:{kind}/{tag}", change,
                               version, actor, now)  # fmt: skip
    return {**result, "version": saved.version, "audit": audit_json(audit)}


def delete_template(
    store: Store,
    merchant: MerchantItem,
    kind: str,
    locale: str,
    headers: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    """Remove an override (the package default applies again); 404 when there is none."""
    kind, tag = _slot(kind, locale)
    if tag not in _overrides(merchant).get(kind, {}):
        raise NotFound(f"no override for {kind} in {tag}")

    def change(item: MerchantItem) -> tuple[dict[str, Any], dict[str, Any]]:
        settings = dict(item.settings or {})
        templates = {k: dict(v) for k, v in _overrides(item).items()}
        before = templates.get(kind, {}).pop(tag, None)
        settings["sms_templates"] = {k: v for k, v in templates.items() if v}
        item.settings = settings
        return {"text": before}, {"text": None}

    version = _expected(headers, {})
    saved, audit = save_change(store, merchant.merchant_id, f"templates:{kind}/{tag}", change,
                               version, actor_of(headers), now)  # fmt: skip
    return {"kind": kind, "locale": tag, "version": saved.version, "audit": audit_json(audit)}


def preview(
    store: Store, merchant: MerchantItem, kind: str, locale: str, raw_body: bytes
) -> dict[str, Any]:
    """Render `kind` in `locale` with sample values: the body's `text` (unsaved), else the
    template in effect. Optional `context` (extra values) and `to` (E.164)."""
    kind, tag = _slot(kind, locale)
    body = json_body(raw_body)
    unknown = sorted(set(body) - {"text", "context", "to"})
    if unknown:
        raise MalformedPayload(f"unknown field(s) {', '.join(unknown)}; allowed: text, context, to")
    return _render(merchant, kind, tag, _text(body, False), body)


def _expected(headers: Mapping[str, str], body: Mapping[str, Any]) -> int | None:
    raw = headers.get("if-match") or body.get("version")
    if raw is None:
        return None
    text = str(raw).removeprefix("W/").strip().strip('"')
    if isinstance(raw, bool) or not text.isdigit():
        raise MalformedPayload("version (If-Match) must be the settings version you read")
    return int(text)


def _default_source(locale: str, kind: str) -> str | None:
    """The package template text of `kind` in exactly `locale`, or None."""
    from importlib import resources

    path = resources.files("chalicelib.notify").joinpath("templates", locale, f"{kind}.j2")
    return path.read_text(encoding="utf-8") if path.is_file() else None
