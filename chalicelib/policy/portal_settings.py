"""Settings sections of the customer pages (issue 11): "portal" and "return_logistics" (pure).

- portal -> `portal_slug` (the `/r/{slug}` address; `merchant_settings.save_section` claims
  it, 409 when another merchant has it), `brand` {name, color} (read by
  `pages/render.brand_of`) and `portal_reasons` (the reason codes the portal offers, a
  subset of `pages.portal.REASONS`, read by `pages/portal.py`).
- return_logistics -> `return_labels` (`policy/return_labels.LabelSettings`) and
  `approval_expiry_days` (read by `return_followups.on_approved`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy.return_labels import DEFAULT_EXPIRY_DAYS, parse_expiry_days, parse_labels

__all__ = [
    "PORTAL_REASONS",
    "parse_portal",
    "read_portal",
    "write_portal",
    "parse_logistics",
    "read_logistics",
    "write_logistics",
]

# the reason codes the pages can show in every language (`pages/i18n.py` reason.*)
PORTAL_REASONS = ("wrong_size", "damaged", "not_as_described", "quality", "changed_mind", "other")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _err(field: str, message: str) -> MalformedPayload:
    return MalformedPayload(f"portal.{field}: {message}")


def parse_portal(body: Any) -> dict[str, Any]:
    """{slug, brand_name, brand_color, reasons} validated, defaults filled."""
    if not isinstance(body, Mapping):
        raise MalformedPayload("portal: the section must be a JSON object")
    allowed = ("slug", "brand_name", "brand_color", "reasons")
    unknown = sorted(str(k) for k in body if k not in allowed)
    if unknown:
        raise _err(unknown[0], f"unknown field; allowed: {', '.join(allowed)}")
    slug = body.get("slug")
    if slug is not None and (not isinstance(slug, str) or not _SLUG.match(slug)):
        raise _err("slug", "lower-case letters, digits and inner dashes, 1 to 64 characters")
    name = body.get("brand_name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name.strip()) <= 80):
        raise _err("brand_name", "text of 1 to 80 characters")
    color = body.get("brand_color")
    if color is not None and (not isinstance(color, str) or not _COLOR.match(color)):
        raise _err("brand_color", "a colour like #1f5f5b")
    reasons = body.get("reasons")
    if reasons is None:
        reasons = list(PORTAL_REASONS)
    if not isinstance(reasons, list) or not reasons:
        raise _err("reasons", "a non-empty list of reason codes")
    bad = [r for r in reasons if r not in PORTAL_REASONS]
    if bad:
        raise _err("reasons", f"unknown reason {bad[0]!r}; known: {', '.join(PORTAL_REASONS)}")
    return {
        "slug": slug,
        "brand_name": name.strip() if isinstance(name, str) else None,
        "brand_color": color.lower() if isinstance(color, str) else None,
        "reasons": list(dict.fromkeys(reasons)),
    }


def read_portal(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    brand = settings.get("brand") or {}
    out: dict[str, Any] = {"slug": settings.get("portal_slug")}
    if brand.get("name"):
        out["brand_name"] = brand["name"]
    if brand.get("color"):
        out["brand_color"] = brand["color"]
    if settings.get("portal_reasons"):
        out["reasons"] = settings["portal_reasons"]
    return out


def write_portal(settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]) -> None:
    settings["portal_slug"] = value.get("slug")
    brand = {"name": value.get("brand_name"), "color": value.get("brand_color")}
    settings["brand"] = {k: v for k, v in brand.items() if v}
    settings["portal_reasons"] = list(value.get("reasons") or PORTAL_REASONS)


def parse_logistics(body: Any) -> dict[str, Any]:
    """{labels: LabelSettings wire form, approval_expiry_days} validated, defaults filled."""
    if not isinstance(body, Mapping):
        raise MalformedPayload("return_logistics: the section must be a JSON object")
    unknown = sorted(str(k) for k in body if k not in ("labels", "approval_expiry_days"))
    if unknown:
        raise MalformedPayload(
            f"return_logistics.{unknown[0]}: unknown field; allowed: labels, approval_expiry_days"
        )
    try:
        labels = parse_labels(body.get("labels") or {}).to_dict()
        days = parse_expiry_days(body.get("approval_expiry_days"))
    except MalformedPayload as exc:
        raise MalformedPayload(f"return_logistics: {exc.detail}") from exc
    return {"labels": labels, "approval_expiry_days": days}


def read_logistics(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "labels": settings.get("return_labels") or {},
        "approval_expiry_days": settings.get("approval_expiry_days", DEFAULT_EXPIRY_DAYS),
    }


def write_logistics(
    settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]
) -> None:
    settings["return_labels"] = dict(value["labels"])
    settings["approval_expiry_days"] = value["approval_expiry_days"]
