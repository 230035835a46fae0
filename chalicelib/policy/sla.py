"""SLA policy: per-target due times, escalation levels and the next instant a case needs a look.

Pure: no I/O, no clock (`now` is an argument); results are frozen dataclasses carrying the
explanation. Business-time arithmetic lives in `business_time` and is re-exported here.

Rules (DESIGN "SLA time"):
- Three targets, each with its own due time, none overriding another: `first_response`
  (clock starts when the case opens), `next_reply` (starts at the oldest unanswered customer
  message after the first response) and `resolution` (starts when the case opens). A met
  target has no due time.
- A target is looked up by (case type, priority), falling back to (type, "*"), ("*",
  priority), ("*", "*"). A channel override replaces the first-response target for that
  channel; VIP customers then get every target times `vip_multiplier`.
- Targets count business time in the merchant's calendar (`business_hours=True`, default)
  or wall time in the merchant's zone (`business_hours=False`). Durations on the wire are
  ISO-8601 (`PT24H`, `P3D`; a day is 24 h of counted time).
- Escalation levels are shares of the target: by default warning at 75% (assignee), breach
  at 100% (senior), then +25% and +50% past the target (supervisor). Each step has the
  stable id `"{target}:{level}@{clock start}"` (`step_id`) and fires once: callers keep
  the ids fired and pass them back. A step records the real instant its threshold was
  crossed; its notice is due now when the calendar is open, else at the next opening.
- Changing a policy or calendar means calling `due_times` again for open cases; levels
  already fired for the same clock start keep their ids and do not fire again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from chalicelib.errors import MalformedPayload
from chalicelib.policy.business_time import (
    BusinessCalendar,
    OpenInterval,
    add_business_time,
    as_utc,
    business_time_between,
    format_duration,
    is_open,
    next_open,
    parse_duration,
    scale_duration,
)

__all__ = [
    # business time, re-exported from `business_time`
    "BusinessCalendar", "OpenInterval", "add_business_time", "business_time_between",
    "next_open", "is_open", "parse_duration", "format_duration",
    # policy
    "TARGETS", "PRIORITIES", "ROLES", "ANY", "Targets", "EscalationLevel", "DEFAULT_LEVELS",
    "SlaPolicy",
    # due times and escalation
    "Deadline", "DueTimes", "Escalation", "due_times", "checkpoints", "escalation_state",
    "step_id", "case_escalations", "next_due",
]  # fmt: skip

TARGETS: tuple[str, ...] = ("first_response", "next_reply", "resolution")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
ROLES: tuple[str, ...] = ("assignee", "senior", "supervisor")
ANY = "*"


def _text(value: Any) -> str:
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


@dataclass(frozen=True)
class Deadline:
    """One running target: when its clock started, when it is due, and its escalation instants."""

    target: str
    started: datetime
    due: datetime
    length: timedelta
    checkpoints: tuple[tuple[EscalationLevel, datetime], ...]
    explanation: str


@dataclass(frozen=True)
class DueTimes:
    """Each target's own due time (None = no target, or already met) with the reasons."""

    first_response: datetime | None
    next_reply: datetime | None
    resolution: datetime | None
    deadlines: tuple[Deadline, ...]
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class Escalation:
    """A step to fire now: `occurred_at` is the real crossing instant, `notify_at` the notice.

    `superseded` is True when a later level of the same target was crossed too (the job was
    late): record it as fired, but only the latest level needs a notice.
    """

    id: str
    target: str
    level: str
    notify: str
    occurred_at: datetime
    notify_at: datetime
    superseded: bool
    explanation: str


def checkpoints(
    started: datetime,
    due: datetime,
    cal: BusinessCalendar,
    levels: tuple[EscalationLevel, ...] = DEFAULT_LEVELS,
) -> tuple[tuple[EscalationLevel, datetime], ...]:
    """When each level's share of the target (the open time from `started` to `due`) is used."""
    length = business_time_between(started, due, cal)
    at = {
        lv.name: add_business_time(started, scale_duration(length, lv.share), cal) for lv in levels
    }
    return tuple((lv, due if lv.share == 1 else at[lv.name]) for lv in levels)


def due_times(
    policy: SlaPolicy,
    cal: BusinessCalendar,
    case_type: str,
    priority: str,
    opened_at: datetime,
    vip: bool,
    channel: str,
    first_response_at: datetime | None = None,
    last_customer_message_at: datetime | None = None,
    *,
    last_agent_reply_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> DueTimes:
    """Due times of a case's three targets, each independent of the others.

    `last_customer_message_at` is the oldest customer message not yet answered; the
    next-reply clock runs only when it came after the first response and after
    `last_agent_reply_at`. Raises `ValueError` for an unknown priority or naive datetimes.
    """
    case_type, priority, channel = _text(case_type), _text(priority), _text(channel)
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; expected one of {PRIORITIES}")
    opened = as_utc(opened_at, "opened_at")
    counting = cal if policy.business_hours else BusinessCalendar.always_open(cal.timezone)
    clock = f"business hours in {cal.timezone}" if policy.business_hours else "wall time"
    rule_targets, rule = policy.targets_for(case_type, priority)
    notes = [f"rule {rule} for {case_type}/{priority}; counted in {clock}"]
    met = {"first_response": first_response_at, "resolution": resolved_at}
    notes += [f"{name} met at {as_utc(at).isoformat()}" for name, at in met.items() if at]
    waiting = None
    if first_response_at is not None and last_customer_message_at is not None and not resolved_at:
        waiting = as_utc(last_customer_message_at, "last_customer_message_at")
        replied = last_agent_reply_at is not None and as_utc(last_agent_reply_at) >= waiting
        waiting = None if replied or waiting <= as_utc(first_response_at) else waiting
    starts = {
        "first_response": None if first_response_at else opened,
        "next_reply": waiting,
        "resolution": None if resolved_at else opened,
    }
    deadlines = []
    for target, started in starts.items():
        length, why = rule_targets.get(target), f"{rule} target"
        if target == "first_response" and channel in policy.channel_first_response:
            length, why = policy.channel_first_response[channel], f"{channel} channel override"
        if started is None or length is None:
            continue
        if vip:
            why = f"{why} {format_duration(length)} x VIP {policy.vip_multiplier}"
            length = scale_duration(length, policy.vip_multiplier)
        due = add_business_time(started, length, counting)
        text = f"{target}: {why} = {format_duration(length)} from {started.isoformat()}"
        steps = checkpoints(started, due, counting, policy.levels)
        deadlines.append(
            Deadline(target, started, due, length, steps, f"{text} -> due {due.isoformat()}")
        )
    by_target = {d.target: d.due for d in deadlines}
    return DueTimes(
        first_response=by_target.get("first_response"),
        next_reply=by_target.get("next_reply"),
        resolution=by_target.get("resolution"),
        deadlines=tuple(deadlines),
        explanation=tuple(notes) + tuple(d.explanation for d in deadlines),
    )


def step_id(target: str, level: str, started: datetime) -> str:
    """The stable id of one escalation step: `"{target}:{level}@{clock start, UTC}"`.

    The clock start keeps a later cycle of the same target (the next customer message, a
    reopened case) from being mistaken for one already fired.
    """
    return f"{target}:{level}@{as_utc(started):%Y-%m-%dT%H:%M:%SZ}"


def _fire(
    target: str,
    started: datetime,
    steps: tuple[tuple[EscalationLevel, datetime], ...],
    now: datetime,
    cal: BusinessCalendar,
    already_fired: frozenset[str],
) -> list[Escalation]:
    crossed = [(level, at) for level, at in steps if at <= now]
    new = [
        (index, level, at, step_id(target, level.name, started))
        for index, (level, at) in enumerate(crossed)
        if step_id(target, level.name, started) not in already_fired
    ]
    if not new:
        return []
    notify_at = now if is_open(now, cal) else next_open(now, cal)
    fired = []
    for index, level, at, ident in new:
        superseded = index < len(crossed) - 1
        text = (
            f"{target} {level.name}: {level.share:%} of the target used at {at.isoformat()}; "
            f"notify {level.notify} at {notify_at.isoformat()}"
            + ("" if notify_at == now else " (next opening)")
            + (" (superseded by a later level)" if superseded else "")
        )
        fired.append(
            Escalation(ident, target, level.name, level.notify, at, notify_at, superseded, text)
        )
    return fired


def escalation_state(
    due: datetime,
    started: datetime,
    now: datetime,
    cal: BusinessCalendar,
    already_fired: frozenset[str],
    *,
    target: str,
    levels: tuple[EscalationLevel, ...] = DEFAULT_LEVELS,
) -> list[Escalation]:
    """The NEW escalation steps of one target at `now` (ids in `already_fired` are skipped).

    Raises `ValueError` for naive datetimes.
    """
    now = as_utc(now, "now")
    started = as_utc(started, "started")
    steps = checkpoints(started, as_utc(due, "due"), cal, levels)
    return _fire(target, started, steps, now, cal, already_fired)


def case_escalations(
    due: DueTimes, now: datetime, cal: BusinessCalendar, already_fired: frozenset[str]
) -> list[Escalation]:
    """The NEW escalation steps of every running target of a case, oldest crossing first.

    `cal` is the merchant's calendar (notices wait for its next opening).
    """
    now = as_utc(now, "now")
    steps = [
        step
        for d in due.deadlines
        for step in _fire(d.target, d.started, d.checkpoints, now, cal, already_fired)
    ]
    return sorted(steps, key=lambda step: (step.occurred_at, step.id))


def next_due(due: DueTimes, fired: frozenset[str]) -> datetime | None:
    """The earliest escalation instant not yet fired (the case's sparse due-index key).

    None when nothing is left to fire. An instant in the past means "due now".
    """
    pending = [
        at
        for d in due.deadlines
        for level, at in d.checkpoints
        if step_id(d.target, level.name, d.started) not in fired
    ]
    return min(pending, default=None)
