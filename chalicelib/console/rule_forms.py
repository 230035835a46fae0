"""The rules page's form fields for the return and SLA sections, both ways (pure, no I/O).

`returns_fields` / `sla_fields` turn a section's wire value into what the form shows;
`returns_value` / `sla_value` turn the posted fields back into the same section value the
settings API validates (`merchant_settings.save_section`). Keys the form does not show (e.g.
`max_complaints`, the SLA escalation ladder, channel targets, the calendar) are carried over
from the current value, so a form save never drops them; they stay editable in the
"advanced" JSON editor. Field names are unique per value (`reason.<name>`,
`t.<type>.<priority>.<target>`) because the console's form parsing keeps one value per name.
An unchecked checkbox is absent from the post, so a missing flag means false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy.business_time import format_duration, parse_duration
from chalicelib.policy.case_state import CaseType
from chalicelib.policy.returns import DEFAULT_REASONS

__all__ = [
    "FORM_SECTIONS",
    "SLA_TYPES",
    "SLA_PRIORITIES",
    "SLA_FORM_TARGETS",
    "returns_fields",
    "returns_value",
    "sla_fields",
    "sla_value",
    "to_section",
]

FORM_SECTIONS = ("returns", "sla")
SLA_TYPES = ("*", *(t.value for t in CaseType))
SLA_PRIORITIES = ("*", "urgent", "high", "normal", "low")
SLA_FORM_TARGETS = ("first_response", "resolution")
_SPLIT = re.compile(r"[,\n]")
MAX_HOURS = 24 * 365


def _words(text: Any, name: str) -> list[str]:
    """Comma- or line-separated values, trimmed, de-duplicated, in order."""
    if not isinstance(text, str):
        raise MalformedPayload(f"{name} must be text")
    seen: list[str] = []
    for part in _SPLIT.split(text):
        word = part.strip()
        if word and word not in seen:
            seen.append(word)
    return seen


def _whole(text: Any, name: str, low: int, high: int) -> int:
    raw = str(text if text is not None else "").strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise MalformedPayload(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _money(text: Any, name: str) -> str:
    raw = str(text if text is not None else "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise MalformedPayload(f"{name} must be an amount like 200.00") from exc
    if not value.is_finite() or value < 0:
        raise MalformedPayload(f"{name} must be an amount like 200.00")
    return raw


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name, "")).strip().lower() in ("1", "on", "true", "yes")


# -- returns ---------------------------------------------------------------------------


def returns_fields(current: Mapping[str, Any]) -> dict[str, Any]:
    """What the return-rules form shows for the section value `current`."""
    allowed = [str(r) for r in current.get("allowed_reasons") or []]
    return {
        "window_days": current.get("window_days", ""),
        "reasons": [
            {"name": name, "checked": name in allowed}
            for name in sorted(set(DEFAULT_REASONS) | set(allowed))
        ],
        "excluded_tags": ", ".join(current.get("excluded_tags") or []),
        "excluded_skus": ", ".join(current.get("excluded_skus") or []),
        "auto_approve": bool(current.get("auto_approve")),
        "auto_approve_max_value": current.get("auto_approve_max_value") or "",
        "require_delivered": bool(current.get("require_delivered")),
        "max_returns_90d": current.get("max_returns_90d", ""),
    }


def returns_value(current: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The return-rules section from the posted form, over `current`. Raises MalformedPayload."""
    value = dict(current)
    value["window_days"] = _whole(form.get("window_days"), "Return window (days)", 0, 3650)
    reasons = sorted(
        key.split(".", 1)[1] for key in form if key.startswith("reason.") and _checked(form, key)
    )
    if not reasons:
        raise MalformedPayload("allow at least one return reason")
    value["allowed_reasons"] = reasons
    value["excluded_tags"] = _words(form.get("excluded_tags", ""), "Excluded tags")
    value["excluded_skus"] = _words(form.get("excluded_skus", ""), "Excluded SKUs")
    value["auto_approve"] = _checked(form, "auto_approve")
    value["auto_approve_max_value"] = _money(
        form.get("auto_approve_max_value"), "Auto-approval value ceiling"
    )
    value["require_delivered"] = _checked(form, "require_delivered")
    if "max_returns_90d" in form:
        value["max_returns_90d"] = _whole(
            form.get("max_returns_90d"), "Returns allowed in 90 days", 0, 1000
        )
    return value


# -- SLA -------------------------------------------------------------------------------


def _hours_text(duration: Any) -> str:
    if duration is None:
        return ""
    hours = Decimal(int(parse_duration(duration).total_seconds())) / 3600
    return format(hours.normalize(), "f")


def _duration(text: Any, where: str) -> str | None:
    raw = str(text if text is not None else "").strip()
    if not raw:
        return None
    try:
        hours = Decimal(raw)
    except InvalidOperation as exc:
        raise MalformedPayload(f"{where}: {raw!r} is not a number of hours") from exc
    if not hours.is_finite() or not 0 < hours <= MAX_HOURS:
        raise MalformedPayload(f"{where} must be more than 0 and at most {MAX_HOURS} hours")
    seconds = int((hours * 3600).to_integral_value())
    return format_duration(timedelta(seconds=seconds))


def sla_fields(current: Mapping[str, Any]) -> dict[str, Any]:
    """What the SLA form shows: a grid of hours per case type and priority (blank: the
    broader rule applies), the VIP multiplier and the business-hours flag."""
    targets = current.get("targets") or {}
    rows = []
    for case_type in SLA_TYPES:
        per = targets.get(case_type) or {}
        cells = []
        for priority in SLA_PRIORITIES:
            values = per.get(priority) or {}
            cells.append(
                {
                    "priority": priority,
                    **{t: _hours_text(values.get(t)) for t in SLA_FORM_TARGETS},
                }
            )
        rows.append({"type": case_type, "cells": cells})
    return {
        "rows": rows,
        "priorities": list(SLA_PRIORITIES),
        "vip_multiplier": str(current.get("vip_multiplier") or ""),
        "business_hours": bool(current.get("business_hours")),
    }


def sla_value(current: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The SLA section from the posted grid, over `current` (next-reply targets, escalation,
    channels and calendar carried over). Raises MalformedPayload."""
    value = dict(current)
    old = current.get("targets") or {}
    targets: dict[str, dict[str, dict[str, str]]] = {}
    for case_type in SLA_TYPES:
        for priority in SLA_PRIORITIES:
            kept = dict((old.get(case_type) or {}).get(priority) or {})
            entry = {k: v for k, v in kept.items() if k not in SLA_FORM_TARGETS}
            for target in SLA_FORM_TARGETS:
                where = f"{case_type} / {priority} {target.replace('_', ' ')}"
                duration = _duration(form.get(f"t.{case_type}.{priority}.{target}"), where)
                if duration is not None:
                    entry[target] = duration
            if any(t in entry for t in SLA_FORM_TARGETS) and "next_reply" not in entry:
                entry["next_reply"] = entry.get("first_response") or entry["resolution"]
            if any(t in entry for t in SLA_FORM_TARGETS):
                targets.setdefault(case_type, {})[priority] = entry
    for case_type, per in old.items():  # types or priorities the grid does not show
        for priority, entry in (per or {}).items():
            if case_type not in SLA_TYPES or priority not in SLA_PRIORITIES:
                targets.setdefault(case_type, {})[priority] = entry
    value["targets"] = targets
    multiplier = str(form.get("vip_multiplier", "")).strip()
    if multiplier:
        value["vip_multiplier"] = multiplier
    value["business_hours"] = _checked(form, "business_hours")
    return value


def to_section(section: str, current: Mapping[str, Any], form: Mapping[str, Any]) -> Any:
    """The section value the form posted; MalformedPayload for a section without a form."""
    if section == "returns":
        return returns_value(current, form)
    if section == "sla":
        return sla_value(current, form)
    raise MalformedPayload(f"{section} has no form; edit it as JSON")
