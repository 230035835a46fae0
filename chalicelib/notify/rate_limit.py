"""Per-merchant SMS rate limit: a fixed one-minute window counted in DynamoDB, shared by senders.

Each send takes a slot with one conditional UpdateItem on the merchant's counter for the
current UTC minute (`Store.take_rate_slot`); concurrent senders cannot exceed the limit
together. A full window defers the message to the next minute: it is never dropped. The
platform limit (`AFTERCARE_SMS_RATE_PER_MINUTE`, 0 = unlimited) caps a merchant's own
`settings["sms_rate_per_minute"]`, which may only lower it. Counters expire by TTL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.store.repository import Store

__all__ = ["sms_limit", "take_sms_slot", "WINDOW"]

WINDOW = timedelta(minutes=1)
_COUNTER_TTL = timedelta(hours=1)


def sms_limit(merchant_settings: dict[str, Any], settings: Settings) -> int | None:
    """SMS per minute allowed for a merchant, or None for no limit."""
    platform = settings.sms_rate_per_minute if settings.sms_rate_per_minute > 0 else None
    own = merchant_settings.get("sms_rate_per_minute")
    if isinstance(own, int) and not isinstance(own, bool) and own > 0:
        return min(own, platform) if platform else own
    return platform


def take_sms_slot(
    store: Store, merchant_id: str, limit: int | None, now: datetime
) -> datetime | None:
    """Take one send slot in `now`'s window; None when taken, else when the next window opens."""
    if limit is None:
        return None
    start = now.astimezone(UTC).replace(second=0, microsecond=0)
    window_end = start + WINDOW
    label = start.strftime("%Y-%m-%dT%H:%M")
    if store.take_rate_slot(merchant_id, "sms", label, limit, window_end + _COUNTER_TTL):
        return None
    return window_end
