"""Merchant settings: read every section with defaults, validate one, save one with its audit.

The sections and their validation are pure (`policy/settings_schema.py`, which uses the same
policy parsers the engine reads the stored values with). This module adds the merchant item:
`load_settings` shows all sections plus the merchant's `version`; `save_section` replaces one
section in ONE transaction: the merchant item conditioned on the version the caller read
(409 `version_conflict` when someone saved in between) and an audit item holding the
section before and after. Framework-free: the console and the HTTP API both call these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import Conflict, MalformedPayload, NotFound, StaleVersion
from chalicelib.policy.settings_schema import SECTIONS, apply_section, parse_section, read_section
from chalicelib.store import keys
from chalicelib.store.models import MerchantItem
from chalicelib.store.records import new_settings_audit

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = [
    "SECTIONS",
    "VersionConflict",
    "load_settings",
    "validate_section",
    "save_section",
    "save_change",
    "audit_json",
]


class VersionConflict(Conflict):
    """The merchant's settings changed since the caller read them (re-read and retry)."""

    code = "version_conflict"


def _attrs(merchant: MerchantItem) -> dict[str, Any]:
    return {"locale": merchant.locale, "timezone": merchant.timezone}


def load_settings(merchant: MerchantItem) -> dict[str, Any]:
    """Every section with its defaults filled in, plus `version` (send it back to save).

    A stored section the engine would refuse is shown with its defaults and listed under
    `problems` (section -> message), so a merchant sees it and can fix it.
    """
    stored, attrs = merchant.settings or {}, _attrs(merchant)
    out: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in SECTIONS:
        out[name], problem = read_section(name, stored, attrs)
        if problem:
            problems[name] = problem
    out["version"] = merchant.version or 0
    out["timezone"] = merchant.timezone
    out["currency"] = merchant.currency
    if problems:
        out["problems"] = problems
    return out


def validate_section(section: str, body: Any) -> dict[str, Any]:
    """The section as it would be stored (defaults filled); raises `MalformedPayload` (400)
    naming the section and field, `NotFound` (404) for an unknown section."""
    if section not in SECTIONS:
        raise NotFound(f"unknown settings section {section!r}; known: {', '.join(SECTIONS)}")
    return parse_section(section, body)


def _version(expected_version: Any) -> int:
    if isinstance(expected_version, str) and expected_version.strip().strip('"').isdigit():
        return int(expected_version.strip().strip('"'))
    if isinstance(expected_version, int) and not isinstance(expected_version, bool):
        return expected_version
    raise MalformedPayload(
        "send the settings version you read: header 'If-Match: <version>' or body 'version'"
    )


def save_section(
    store: Store,
    merchant_id: str,
    section: str,
    body: Any,
    expected_version: Any,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Replace `section` if the merchant is still at `expected_version`; returns
    `{"settings": load_settings(...), "audit": audit_json(...)}`.

    Raises NotFound (section or merchant), MalformedPayload (body or version) or
    VersionConflict (409: the settings changed since they were read).
    """
    value = validate_section(section, body)
    expected = _version(expected_version)
    if section == "portal" and value.get("slug"):
        _claim_slug(store, merchant_id, value["slug"])

    def change(merchant: MerchantItem) -> tuple[dict[str, Any], dict[str, Any]]:
        before, _ = read_section(section, merchant.settings or {}, _attrs(merchant))
        new_settings, attrs = apply_section(section, merchant.settings or {}, value)
        merchant.settings = new_settings
        for name, attr_value in attrs.items():
            setattr(merchant, name, attr_value)
        return before, value

    merchant, audit = save_change(store, merchant_id, section, change, expected, actor, now)
    return {"settings": load_settings(merchant), "audit": audit_json(audit)}


class SlugTaken(Conflict):
    """The portal address another merchant uses (409)."""

    code = "slug_taken"


def _claim_slug(store: Store, merchant_id: str, slug: str) -> None:
    """Give the portal address to the merchant before saving it (a slug once claimed stays
    the merchant's, so old links keep working). Raises SlugTaken."""
    from chalicelib.pages.lookup import claim_slug

    if not claim_slug(store, slug, merchant_id):
        raise SlugTaken(f"the portal address {slug!r} is taken by another shop")


def save_change(
    store: Store,
    merchant_id: str,
    label: str,
    change: Callable[[MerchantItem], tuple[dict[str, Any], dict[str, Any]]],
    expected_version: int | None,
    actor: str,
    now: datetime,
) -> tuple[MerchantItem, Any]:
    """Apply `change` (returns the audited before/after) to the merchant and commit it with
    its audit item in one transaction, conditioned on the version read (and, when given, on
    `expected_version`). Raises NotFound or VersionConflict."""
    merchant = store.get(MerchantItem, keys.merchant(merchant_id))
    if merchant is None:
        raise NotFound("no such merchant")
    current = merchant.version or 0
    if expected_version is not None and current != expected_version:
        raise VersionConflict(
            f"settings are at version {current}, not {expected_version}: reload and try again"
        )
    before, after = change(merchant)
    audit = new_settings_audit(merchant_id, label, actor, now, current + 1, before, after)
    uow = store.unit_of_work()
    uow.save("merchant", merchant)  # conditioned on the version read, by PynamoDB
    uow.insert("settings_audit", audit)
    try:
        uow.commit()
    except StaleVersion as exc:
        raise VersionConflict("settings changed while saving: reload and try again") from exc
    return merchant, audit


def audit_json(item: Any) -> dict[str, Any]:
    """One audit entry as the API shows it."""
    changed = changed_fields(item.before or {}, item.after or {})
    return {
        "section": item.section,
        "actor": item.actor,
        "at": keys.iso(item.at),
        "version": int(item.merchant_version),
        "changed": changed,
        "before": item.before or {},
        "after": item.after or {},
    }


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level fields whose value differs (for summaries)."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
