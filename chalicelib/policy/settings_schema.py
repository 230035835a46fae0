"""Merchant settings sections: their wire form, defaults, validation and where each is stored.

Pure: no I/O. A section is what the settings API reads and replaces as a whole (PUT
semantics: a key left out takes its default). Each section is parsed by the same parser the
engine uses when it reads the stored value (`ReturnRules.from_dict`, `SlaPolicy.from_dict`,
`SendingWindow.from_dict`, ...), so the API can never accept what the engine would refuse.
Every `MalformedPayload` names the section and the field.

Storage in `MerchantItem.settings` (keys read elsewhere in the code are kept as they are):

- returns     -> `return_rules`
- sla         -> `sla` (SlaPolicy wire form) + `business_calendar` (the section's `calendar`)
- tiers       -> `tiers` (TierRules fields, read by `handlers/vip_routing.py`)
- quiet_hours -> `quiet_hours` (SendingWindow wire form)
- messaging   -> `sms_provider`, `sms_rate_per_minute`, `support_contact`, `support_email`;
                 `default_locale` is the merchant's `locale` attribute
- tracking    -> `tracking` (`return_scan_days` read by `handlers/sla_schedule.py`)
- refunds     -> `refunds` (`receipt_to_refund_hours` read by `handlers/sla_schedule.py`) and
                 `refund_policy` (`restocking_fee_percent`, `scrap`: RefundSettings, read by
                 `handlers/warehouse.py`)
- agents      -> `agents` (`priority_agent`, `senior_agents`, `escalation_contacts`: read by
                 `handlers/vip_routing.py` and `sla_job.py`; `team` (other agents a
                 returning customer may go back to) and `unavailable` (agents away now):
                 read by `vip_routing.py`, `tier_review.py`, `follow_up.py`)
- digest      -> `digest_enabled`, `digest_recipients`, `digest_targets`
- portal      -> `portal_slug`, `brand` {name, color}, `portal_reasons` (policy/portal_settings.py)
- return_logistics -> `return_labels`, `approval_expiry_days` (policy/portal_settings.py)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy import portal_settings as _pages

__all__ = [
    "SECTIONS",
    "Section",
    "parse_section",
    "read_section",
    "apply_section",
    "canonical_locale",
    "SMS_PROVIDERS",
    "DIGEST_TARGETS",
]

SMS_PROVIDERS = ("sns", "pinpoint", "twilio")
# KPI names of the weekly digest (chalicelib/digest/metrics.py TARGETS) and their defaults.
DIGEST_TARGETS: Mapping[str, str] = {
    "auto_decided_rate": "80",
    "complaint_closure_rate": "90",
    "csat": "85",
    "damage_per_1000": "1",
    "frt_p90_hours": "24",
    "resolution_p90_hours": "72",
}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+-]{0,99}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|\d{3}))?$")
_ROLES = ("assignee", "senior", "supervisor")


def _err(section: str, field: str, message: str) -> MalformedPayload:
    return MalformedPayload(f"{section}.{field}: {message}")


def _object(section: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise MalformedPayload(f"{section}: the section must be a JSON object")
    return dict(body)


def _known(section: str, body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(str(key) for key in body if key not in allowed)
    if unknown:
        raise _err(section, unknown[0], f"unknown field; allowed: {', '.join(allowed)}")


def _wrap(section: str, parse: Callable[[], Any]) -> Any:
    """Run a policy parser and prefix its message with the section name."""
    try:
        return parse()
    except MalformedPayload as exc:
        raise MalformedPayload(f"{section}: {exc.detail}") from exc
    except (ValueError, TypeError) as exc:
        raise MalformedPayload(f"{section}: {exc}") from exc


def _int(section: str, field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _err(section, field, f"must be a whole number from {low} to {high}")
    return value


def _bool(section: str, field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _err(section, field, "must be true or false")
    return value


def _decimal(section: str, field: str, value: Any, low: Decimal, high: Decimal | None) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _err(section, field, "must be a decimal string like '12.5'")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise _err(section, field, f"{value!r} is not a number") from None
    if not parsed.is_finite() or parsed < low or (high is not None and parsed > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise _err(section, field, f"must be {bound}")
    return str(parsed)


def _email(section: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()) or len(value) > 254:
        raise _err(section, field, f"{value!r} is not an e-mail address")
    return value.strip()


def _emails(section: str, field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 20:
        raise _err(section, field, "must be a list of at most 20 e-mail addresses")
    return sorted({_email(section, field, item) for item in value})


def _agent(section: str, field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME.match(value.strip()):
        raise _err(section, field, "must be an agent name of 1-100 letters, digits, . _ @ + -")
    return value.strip()


def _text(section: str, field: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise _err(section, field, f"must be a string of at most {limit} characters")
    return value.strip() or None


def canonical_locale(value: Any) -> str | None:
    """A BCP 47 tag in canonical case ("zh_cn" -> "zh-CN"), or None when not plausible."""
    if not isinstance(value, str):
        return None
    parts = re.split(r"[-_]", value.strip())
    out = [parts[0].lower()] + [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
    tag = "-".join(out)
    return tag if _LOCALE.match(tag) else None


# --- sections ------------------------------------------------------------------------------


def _returns(body: Any) -> dict[str, Any]:
    from chalicelib.policy.returns import ReturnRules

    return _wrap("returns", lambda: ReturnRules.from_dict(_object("returns", body)).to_dict())


def _sla(body: Any) -> dict[str, Any]:
    from chalicelib.policy.business_time import BusinessCalendar
    from chalicelib.policy.sla_settings import SlaPolicy

    data = _object("sla", body)
    calendar = data.pop("calendar", None)
    out = _wrap("sla", lambda: SlaPolicy.from_dict(data).to_dict())
    if calendar is not None:
        out["calendar"] = _wrap(
            "sla.calendar", lambda: BusinessCalendar.from_dict(calendar).to_dict()
        )
    else:
        out["calendar"] = None
    return out


_TIER_DEFAULTS: dict[str, Any] = {
    "vip_spend_threshold": "10000",
    "vip_min_orders": 5,
    "high_risk_order_value": "5000",
    "high_risk_complaints": 2,
}


def _tiers(body: Any) -> dict[str, Any]:
    from chalicelib.policy.tiering import TierRules

    data = _object("tiers", body)
    _known("tiers", data, tuple(_TIER_DEFAULTS))
    merged = {**_TIER_DEFAULTS, **data}
    out = {
        "vip_spend_threshold": _decimal(
            "tiers", "vip_spend_threshold", merged["vip_spend_threshold"], Decimal(0), None
        ),
        "vip_min_orders": _int("tiers", "vip_min_orders", merged["vip_min_orders"], 1, 10_000),
        "high_risk_order_value": _decimal(
            "tiers", "high_risk_order_value", merged["high_risk_order_value"], Decimal(0), None
        ),
        "high_risk_complaints": _int(
            "tiers", "high_risk_complaints", merged["high_risk_complaints"], 1, 1000
        ),
    }
    # Read back as `handlers/vip_routing.py tier_rules` does: each value through str().
    _wrap(
        "tiers",
        lambda: TierRules(
            vip_spend_threshold=Decimal(str(out["vip_spend_threshold"])),
            vip_min_orders=int(str(out["vip_min_orders"])),
            high_risk_order_value=Decimal(str(out["high_risk_order_value"])),
            high_risk_complaints=int(str(out["high_risk_complaints"])),
        ),
    )
    return out


def _quiet_hours(body: Any) -> dict[str, Any]:
    from chalicelib.notify.quiet_hours import SendingWindow

    data = _object("quiet_hours", body)
    return _wrap("quiet_hours", lambda: SendingWindow.from_dict(data).to_dict())


_MESSAGING_DEFAULTS: dict[str, Any] = {
    "sms_provider": "sns",
    "sms_rate_per_minute": None,
    "support_contact": None,
    "support_email": None,
    "default_locale": "en",
}


def _messaging(body: Any) -> dict[str, Any]:
    data = _object("messaging", body)
    _known("messaging", data, tuple(_MESSAGING_DEFAULTS))
    merged = {**_MESSAGING_DEFAULTS, **data}
    if merged["sms_provider"] not in SMS_PROVIDERS:
        raise _err("messaging", "sms_provider", f"must be one of {', '.join(SMS_PROVIDERS)}")
    rate = merged["sms_rate_per_minute"]
    locale = canonical_locale(merged["default_locale"])
    if locale is None:
        raise _err("messaging", "default_locale", "must be a language tag like 'en' or 'zh-CN'")
    email = merged["support_email"]
    return {
        "sms_provider": merged["sms_provider"],
        "sms_rate_per_minute": None
        if rate is None
        else _int("messaging", "sms_rate_per_minute", rate, 1, 10_000),
        "support_contact": _text("messaging", "support_contact", merged["support_contact"], 200),
        "support_email": None if email is None else _email("messaging", "support_email", email),
        "default_locale": locale,
    }


_TRACKING_DEFAULTS: dict[str, Any] = {
    "stale_after_hours": 24,
    "notify_customer_on_stale": True,
    "return_scan_days": 7,
}


def _stuck(section: str, values: Mapping[str, int]) -> None:
    """Check stuck-flow thresholds with the SLA job's own parser (`policy/stuck_flows.py`)."""
    from chalicelib.policy.stuck_flows import StuckRules

    _wrap(section, lambda: StuckRules.from_dict(dict(values)))


def _tracking(body: Any) -> dict[str, Any]:
    data = _object("tracking", body)
    _known("tracking", data, tuple(_TRACKING_DEFAULTS))
    merged = {**_TRACKING_DEFAULTS, **data}
    out = {
        "stale_after_hours": _int(
            "tracking", "stale_after_hours", merged["stale_after_hours"], 1, 720
        ),
        "notify_customer_on_stale": _bool(
            "tracking", "notify_customer_on_stale", merged["notify_customer_on_stale"]
        ),
        "return_scan_days": _int("tracking", "return_scan_days", merged["return_scan_days"], 1, 90),
    }
    _stuck("tracking", {"return_scan_days": out["return_scan_days"]})
    return out


_REFUND_DEFAULTS: dict[str, Any] = {
    "restocking_fee_percent": "0",
    "scrap": "review",
    "receipt_to_refund_hours": 48,
}


def _refunds(body: Any) -> dict[str, Any]:
    from chalicelib.policy.refund_policy import RefundSettings

    data = _object("refunds", body)
    _known("refunds", data, tuple(_REFUND_DEFAULTS))
    merged = {**_REFUND_DEFAULTS, **data}
    fee = _decimal(
        "refunds", "restocking_fee_percent", merged["restocking_fee_percent"], Decimal(0),
        Decimal(100),
    )  # fmt: skip
    policy = {"restocking_fee_percent": fee, "scrap": merged["scrap"]}
    parsed = _wrap("refunds", lambda: RefundSettings.from_dict(policy))
    hours = _int("refunds", "receipt_to_refund_hours", merged["receipt_to_refund_hours"], 1, 720)
    _stuck("refunds", {"refund_hours": hours})
    return {
        "restocking_fee_percent": str(parsed.restocking_fee_percent),
        "scrap": parsed.scrap,
        "receipt_to_refund_hours": hours,
    }


_AGENT_DEFAULTS: dict[str, Any] = {
    "priority_agent": None,
    "senior_agents": [],
    "escalation_contacts": {},
    "team": [],
    "unavailable": [],
}


def _agents(body: Any) -> dict[str, Any]:
    data = _object("agents", body)
    _known("agents", data, tuple(_AGENT_DEFAULTS))
    merged = {**_AGENT_DEFAULTS, **data}
    seniors = merged["senior_agents"]
    if not isinstance(seniors, list) or len(seniors) > 50:
        raise _err("agents", "senior_agents", "must be a list of at most 50 agent names")
    contacts = merged["escalation_contacts"]
    if not isinstance(contacts, Mapping):
        raise _err("agents", "escalation_contacts", f"must map {', '.join(_ROLES)} to e-mails")
    _known("agents.escalation_contacts", contacts, _ROLES)
    for name in ("team", "unavailable"):
        if not isinstance(merged[name], list) or len(merged[name]) > 200:
            raise _err("agents", name, "must be a list of at most 200 agent names")
    return {
        "priority_agent": _agent("agents", "priority_agent", merged["priority_agent"]),
        "senior_agents": sorted({_agent("agents", "senior_agents", a) or "" for a in seniors}),
        "escalation_contacts": {
            role: _emails("agents", f"escalation_contacts.{role}", contacts.get(role) or [])
            for role in _ROLES
        },
        **{
            name: sorted({_agent("agents", name, a) or "" for a in merged[name]})
            for name in ("team", "unavailable")
        },
    }


def _digest(body: Any) -> dict[str, Any]:
    data = _object("digest", body)
    _known("digest", data, ("enabled", "recipients", "targets"))
    targets = data.get("targets") or {}
    if not isinstance(targets, Mapping):
        raise _err("digest", "targets", "must map KPI name to a number")
    _known("digest.targets", targets, tuple(DIGEST_TARGETS))
    return {
        "enabled": _bool("digest", "enabled", data.get("enabled", True)),
        "recipients": _emails("digest", "recipients", data.get("recipients", [])),
        "targets": {
            name: _decimal(
                "digest", f"targets.{name}", targets.get(name, default), Decimal(0), None
            )
            for name, default in DIGEST_TARGETS.items()
        },
    }


# --- where each section lives ---------------------------------------------------------------


def _nested(key: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def read(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
        return settings.get(key) or {}

    def write(settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]) -> None:
        settings[key] = dict(value)

    return read, write


def _sla_read(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
    stored = dict(settings.get("sla") or {})
    if settings.get("business_calendar"):
        stored["calendar"] = settings["business_calendar"]
    return stored


def _sla_write(settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]) -> None:
    policy = {k: v for k, v in value.items() if k != "calendar"}
    settings["sla"] = policy
    if value.get("calendar"):
        settings["business_calendar"] = value["calendar"]
    else:
        settings.pop("business_calendar", None)


_FLAT_MESSAGING = ("sms_provider", "sms_rate_per_minute", "support_contact", "support_email")


def _messaging_read(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
    stored = {key: settings[key] for key in _FLAT_MESSAGING if settings.get(key) is not None}
    if attrs.get("locale"):
        stored["default_locale"] = attrs["locale"]
    return stored


def _messaging_write(
    settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]
) -> None:
    for key in _FLAT_MESSAGING:
        if value.get(key) is None:
            settings.pop(key, None)
        else:
            settings[key] = value[key]
    attrs["locale"] = value["default_locale"]


def _digest_read(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
    stored: dict[str, Any] = {}
    if isinstance(settings.get("digest_enabled"), bool):
        stored["enabled"] = settings["digest_enabled"]
    recipients = settings.get("digest_recipients")
    if isinstance(recipients, str):
        recipients = [recipients]
    if isinstance(recipients, list):
        stored["recipients"] = recipients
    if isinstance(settings.get("digest_targets"), Mapping):
        stored["targets"] = {k: str(v) for k, v in settings["digest_targets"].items()}
    return stored


def _digest_write(
    settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]
) -> None:
    settings["digest_enabled"] = value["enabled"]
    settings["digest_recipients"] = list(value["recipients"])
    settings["digest_targets"] = dict(value["targets"])


def _refunds_read(settings: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
    return {**(settings.get("refund_policy") or {}), **(settings.get("refunds") or {})}


def _refunds_write(
    settings: dict[str, Any], attrs: dict[str, Any], value: Mapping[str, Any]
) -> None:
    settings["refunds"] = dict(value)
    settings["refund_policy"] = {
        "restocking_fee_percent": value["restocking_fee_percent"],
        "scrap": value["scrap"],
    }


@dataclass(frozen=True)
class Section:
    """One settings section: its parser (validates, fills defaults) and its storage."""

    name: str
    parse: Callable[[Any], dict[str, Any]]
    read_stored: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
    write_stored: Callable[[dict[str, Any], dict[str, Any], Mapping[str, Any]], None]


SECTIONS: Mapping[str, Section] = {
    "returns": Section("returns", _returns, *_nested("return_rules")),
    "sla": Section("sla", _sla, _sla_read, _sla_write),
    "tiers": Section("tiers", _tiers, *_nested("tiers")),
    "quiet_hours": Section("quiet_hours", _quiet_hours, *_nested("quiet_hours")),
    "messaging": Section("messaging", _messaging, _messaging_read, _messaging_write),
    "tracking": Section("tracking", _tracking, *_nested("tracking")),
    "refunds": Section("refunds", _refunds, _refunds_read, _refunds_write),
    "agents": Section("agents", _agents, *_nested("agents")),
    "digest": Section("digest", _digest, _digest_read, _digest_write),
    # customer pages (issue 11): see policy/portal_settings.py
    "portal": Section("portal", _pages.parse_portal, _pages.read_portal, _pages.write_portal),
    "return_logistics": Section(
        "return_logistics", _pages.parse_logistics, _pages.read_logistics, _pages.write_logistics
    ),
}


def _section(name: str) -> Section:
    if name not in SECTIONS:
        raise MalformedPayload(f"unknown settings section {name!r}; known: {', '.join(SECTIONS)}")
    return SECTIONS[name]


def parse_section(name: str, body: Any) -> dict[str, Any]:
    """The validated, normalized, default-filled section; raises `MalformedPayload`."""
    return _section(name).parse(body)


def read_section(
    name: str, settings: Mapping[str, Any], attrs: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The stored section with defaults filled, and a problem text when the stored value is
    invalid (then the defaults are shown, as the engine would fall back or park)."""
    section = _section(name)
    try:
        return section.parse(section.read_stored(settings, attrs)), None
    except MalformedPayload as exc:
        return section.parse({}), exc.detail


def apply_section(
    name: str, settings: Mapping[str, Any], value: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """New settings dict and merchant attributes to set, with the parsed `value` stored."""
    new_settings, attrs = dict(settings), {}
    _section(name).write_stored(new_settings, attrs, value)
    return new_settings, attrs
