"""When an open case is due in the ops queue: the pure rule shared by the queue view and the
sparse open-cases index (gsi2 `OPENCASES#{mid}`, sorted by this instant).

The first-response target while nobody has answered, then the resolution target, else a
fallback from the priority (cases the SLA policy gives no target still get an order).
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["FALLBACK_DUE", "queue_due"]

FALLBACK_DUE = {
    "urgent": timedelta(hours=4),
    "high": timedelta(hours=8),
    "normal": timedelta(hours=24),
    "low": timedelta(hours=72),
}


def queue_due(
    opened_at: datetime,
    priority: str | None,
    first_response_due: datetime | None,
    first_responded_at: datetime | None,
    resolution_due: datetime | None,
) -> tuple[datetime, str]:
    """(due instant, kind) with kind first_response | resolution | target."""
    if first_response_due is not None and first_responded_at is None:
        return first_response_due, "first_response"
    if resolution_due is not None:
        return resolution_due, "resolution"
    fallback = FALLBACK_DUE.get(priority or "normal", FALLBACK_DUE["normal"])
    return opened_at + fallback, "target"
