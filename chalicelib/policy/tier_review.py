"""When a customer's tier must be looked at again, and what a tier change does to an open case.

Pure: no I/O (issue 7, VIP re-evaluation). The store side is `handlers/tier_review.py`.

- A VIP can only lose the tier when an order leaves their trailing-12-month window, so the
  next review is the moment the oldest order still in the window leaves it (`next_review`);
  a standard customer needs no review (orders only arrive; a new order is handled at once).
- An open case follows its customer's tier (`retier`): promotion flags it `vip`, tags it,
  moves it to the priority queue and hands it to the priority agent (unless escalation has
  handed it to a senior already); demotion takes the flag, tag and queue away and keeps
  whoever has the case. The caller re-runs the SLA schedule (VIP targets are shorter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["CaseTier", "next_review", "retier", "REVIEW_MARGIN"]

# an order at T is in the window while now - WINDOW <= T: review just after it left
REVIEW_MARGIN = timedelta(seconds=1)


def next_review(
    order_times: Iterable[datetime], vip: bool, now: datetime, window: timedelta
) -> datetime | None:
    """When the oldest order in the window ending at `now` leaves it, for a VIP; else None."""
    if not vip:
        return None
    inside = [at for at in order_times if now - window <= at <= now]
    if not inside:
        return now  # VIP without a dated order in the window: look again at once
    return min(inside) + window + REVIEW_MARGIN


@dataclass(frozen=True)
class CaseTier:
    """An open case's routing after its customer's tier is applied; `changed` False = as is."""

    vip: bool
    tags: frozenset[str]
    queue: str
    assignee: str | None
    changed: bool
    summary: str


def retier(
    vip: bool,
    *,
    case_vip: bool,
    tags: Iterable[str],
    assignee: str | None,
    escalated: bool,
    priority_agent: str | None,
) -> CaseTier:
    """Apply the customer's tier (`vip`) to an open case (see the module docstring)."""
    tags = frozenset(tags)
    if vip == case_vip:
        queue = "priority" if vip else "standard"
        return CaseTier(vip, tags, queue, assignee, False, "tier unchanged")
    if vip:
        to = assignee
        if priority_agent and not escalated:
            to = priority_agent
        handed = f"; handed to {to}" if to != assignee else ""
        summary = f"Customer became VIP: priority queue, VIP targets{handed}"
        return CaseTier(True, tags | {"vip"}, "priority", to, True, summary)
    summary = "Customer is no longer VIP: standard queue and targets, assignee kept"
    return CaseTier(False, tags - {"vip"}, "standard", assignee, True, summary)
