"""SLA settings: targets per case type and priority, escalation levels, and their stored form.

Pure: the policy a merchant edits (`SlaPolicy`), validated from and written to plain dicts
(durations as ISO-8601, shares as decimal strings). `sla` computes due times from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy.business_time import format_duration, parse_duration

__all__ = [
    "TARGETS", "PRIORITIES", "ROLES", "ANY", "Targets", "EscalationLevel", "DEFAULT_LEVELS",
    "SlaPolicy", "as_text",
]  # fmt: skip

TARGETS: tuple[str, ...] = ("first_response", "next_reply", "resolution")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
ROLES: tuple[str, ...] = ("assignee", "senior", "supervisor")
ANY = "*"


def as_text(value: Any) -> str:
    """Accept plain strings or str-valued enums (e.g. `CaseType.COMPLAINT`)."""
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class Targets:
    """The three target lengths of one (case type, priority); None = no target."""

    first_response: timedelta | None = None
    next_reply: timedelta | None = None
    resolution: timedelta | None = None

    def __post_init__(self) -> None:
        for name in TARGETS:
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise MalformedPayload(f"{name} target must be positive, got {value}")

    def get(self, target: str) -> timedelta | None:
        """The length of `target` (one of `TARGETS`)."""
        return getattr(self, target)


def _hours(first: int, reply: int, resolve: int) -> Targets:
    return Targets(*(timedelta(hours=hours) for hours in (first, reply, resolve)))


@dataclass(frozen=True)
class EscalationLevel:
    """A step fired when `share` of a target's time is used; `notify` is who hears of it."""

    name: str
    share: Decimal
    notify: str

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise MalformedPayload(f"escalation level name {self.name!r} must be set, no ':'")
        if not isinstance(self.share, Decimal) or not self.share.is_finite() or self.share <= 0:
            raise MalformedPayload(f"escalation {self.name}: share must be a Decimal above 0")
        if self.notify not in ROLES:
            raise MalformedPayload(f"escalation {self.name}: notify must be one of {ROLES}")


DEFAULT_LEVELS: tuple[EscalationLevel, ...] = (
    EscalationLevel("warning", Decimal("0.75"), "assignee"),
    EscalationLevel("breach", Decimal("1"), "senior"),
    EscalationLevel("breach+25%", Decimal("1.25"), "supervisor"),
    EscalationLevel("breach+50%", Decimal("1.5"), "supervisor"),
)

# PRODUCT.md: complaint first reply <= 24 h (aim 12 h), resolution <= 72 h; disputes reply
# <= 24 h, closed <= 3 days; returns handled within 48 h. Higher priorities are faster.
_DEFAULT_TARGETS: dict[tuple[str, str], Targets] = {
    ("complaint", ANY): _hours(24, 24, 72), ("dispute", ANY): _hours(24, 24, 72),
    ("complaint", "high"): _hours(12, 12, 48), ("dispute", "high"): _hours(12, 12, 48),
    ("complaint", "urgent"): _hours(4, 4, 24), ("dispute", "urgent"): _hours(4, 4, 24),
    ("return", ANY): _hours(24, 24, 48), ("exchange", ANY): _hours(24, 24, 48),
    (ANY, ANY): _hours(24, 24, 72), (ANY, "high"): _hours(12, 12, 48),
    (ANY, "urgent"): _hours(4, 4, 24),
}  # fmt: skip


@dataclass(frozen=True)
class SlaPolicy:
    """A merchant's SLA settings. Raises `MalformedPayload` when a setting is out of range."""

    targets: Mapping[tuple[str, str], Targets] = field(
        default_factory=lambda: dict(_DEFAULT_TARGETS), hash=False
    )
    vip_multiplier: Decimal = Decimal("0.5")
    channel_first_response: Mapping[str, timedelta] = field(default_factory=dict, hash=False)
    levels: tuple[EscalationLevel, ...] = DEFAULT_LEVELS
    business_hours: bool = True

    def __post_init__(self) -> None:
        for (case_type, priority), value in self.targets.items():
            if priority != ANY and priority not in PRIORITIES:
                raise MalformedPayload(f"targets.{case_type}: unknown priority {priority!r}")
            if not isinstance(value, Targets):
                raise MalformedPayload(f"targets.{case_type}.{priority} must be Targets")
        multiplier = self.vip_multiplier
        if (
            not isinstance(multiplier, Decimal)
            or not multiplier.is_finite()
            or not 0 < multiplier <= 1
        ):
            raise MalformedPayload("vip_multiplier must be a Decimal in (0, 1]")
        for channel, value in self.channel_first_response.items():
            if value <= timedelta(0):
                raise MalformedPayload(f"channel_first_response.{channel} must be positive")
        names = [level.name for level in self.levels]
        shares = [level.share for level in self.levels]
        if len(set(names)) != len(names) or shares != sorted(set(shares)):
            raise MalformedPayload("escalation levels need unique names and rising shares")
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))
        object.__setattr__(
            self, "channel_first_response", MappingProxyType(dict(self.channel_first_response))
        )

    def targets_for(self, case_type: str, priority: str) -> tuple[Targets, str]:
        """The targets for a case and the rule key that matched ("complaint/*" etc.)."""
        for key in ((case_type, priority), (case_type, ANY), (ANY, priority), (ANY, ANY)):
            if key in self.targets:
                return self.targets[key], "/".join(key)
        return Targets(), "no rule"

    def to_dict(self) -> dict[str, Any]:
        """The wire form: durations ISO-8601, decimals as strings."""
        targets: dict[str, dict[str, dict[str, str | None]]] = {}
        for (case_type, priority), value in sorted(self.targets.items()):
            targets.setdefault(case_type, {})[priority] = {
                name: None if value.get(name) is None else format_duration(value.get(name))
                for name in TARGETS
            }
        return {
            "targets": targets,
            "vip_multiplier": str(self.vip_multiplier),
            "channel_first_response": {
                channel: format_duration(value)
                for channel, value in sorted(self.channel_first_response.items())
            },
            "escalation": [
                {"level": lv.name, "share": str(lv.share), "notify": lv.notify}
                for lv in self.levels
            ],
            "business_hours": self.business_hours,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SlaPolicy:
        """Parse the wire form; absent fields take the defaults. Raises `MalformedPayload`."""
        if not isinstance(data, Mapping):
            raise MalformedPayload("SLA policy must be an object")
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise MalformedPayload(f"SLA policy has unknown field(s) {sorted(unknown)}")
        kwargs = {_FIELDS[key][0]: _FIELDS[key][1](value) for key, value in data.items()}
        return cls(**kwargs)


def _channels(data: Any) -> dict[str, timedelta]:
    if not isinstance(data, Mapping):
        raise MalformedPayload("channel_first_response must map channel to duration")
    return {str(channel): parse_duration(value) for channel, value in data.items()}


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise MalformedPayload("business_hours must be true or false")
    return value


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedPayload(f"{name} must be a decimal string like '0.5'")
    try:
        parsed = Decimal(value)
    except InvalidOperation as exc:
        raise MalformedPayload(f"{name}: {value!r} is not a decimal") from exc
    if not parsed.is_finite():
        raise MalformedPayload(f"{name}: {value!r} is not a finite decimal")
    return parsed


def _parse_targets(data: Any) -> dict[tuple[str, str], Targets]:
    if not isinstance(data, Mapping):
        raise MalformedPayload("targets must map case type -> priority -> targets")
    parsed = {}
    for case_type, per_priority in data.items():
        if not isinstance(per_priority, Mapping):
            raise MalformedPayload(f"targets.{case_type} must map priority -> targets")
        for priority, values in per_priority.items():
            where = f"targets.{case_type}.{priority}"
            if not isinstance(values, Mapping) or set(values) - set(TARGETS):
                raise MalformedPayload(f"{where} may only hold {TARGETS}")
            parsed[(str(case_type), str(priority))] = Targets(
                **{
                    name: None if values.get(name) is None else parse_duration(values[name])
                    for name in TARGETS
                }
            )
    return parsed


def _parse_levels(data: Any) -> tuple[EscalationLevel, ...]:
    if not isinstance(data, list):
        raise MalformedPayload("escalation must be a list of levels")
    levels = []
    for entry in data:
        if not isinstance(entry, Mapping) or set(entry) != {"level", "share", "notify"}:
            raise MalformedPayload("each escalation level needs exactly level, share, notify")
        share = _decimal(entry["share"], f"escalation {entry['level']!r} share")
        levels.append(EscalationLevel(str(entry["level"]), share, str(entry["notify"])))
    return tuple(levels)


_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "targets": ("targets", _parse_targets),
    "vip_multiplier": ("vip_multiplier", lambda value: _decimal(value, "vip_multiplier")),
    "channel_first_response": ("channel_first_response", _channels),
    "escalation": ("levels", _parse_levels),
    "business_hours": ("business_hours", _flag),
}
