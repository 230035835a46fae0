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

from dataclasses import dataclass
from datetime import datetime, timedelta

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
from chalicelib.policy.sla_settings import (
    ANY,
    DEFAULT_LEVELS,
    PRIORITIES,
    ROLES,
    TARGETS,
    EscalationLevel,
    SlaPolicy,
    Targets,
    as_text,
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
    case_type, priority, channel = as_text(case_type), as_text(priority), as_text(channel)
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
