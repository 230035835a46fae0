"""Lookup rate limit: 5 tries per 15 minutes per client IP and per order number.

Each try takes a slot on two fixed-window counters (`Store.take_rate_slot`: one conditional
UpdateItem each, TTL clean-up), so parallel guesses cannot exceed the limit together. The IP
and the order number are hashed into the key: no personal data is stored in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.store import keys

if TYPE_CHECKING:
    from chalicelib.store.repository import Store

__all__ = ["LOOKUP_LIMIT", "WINDOW", "take_lookup_slot"]

LOOKUP_LIMIT = 5
WINDOW = timedelta(minutes=15)


def _window(now: datetime) -> tuple[str, datetime]:
    start_ts = int(now.astimezone(UTC).timestamp()) // int(WINDOW.total_seconds())
    start = datetime.fromtimestamp(start_ts * WINDOW.total_seconds(), UTC)
    return start.strftime("%Y-%m-%dT%H:%M"), start + WINDOW


def take_lookup_slot(
    store: Store, merchant_id: str, client_ip: str, order_number: str, now: datetime
) -> bool:
    """Count one lookup try; False when the IP or the order number used up its window."""
    label, end = _window(now)
    expires = end + timedelta(hours=1)
    ip_scope = "portal-ip:" + keys.short_hash(client_ip or "unknown")
    if not store.take_rate_slot(merchant_id, ip_scope, label, LOOKUP_LIMIT, expires):
        return False
    number = keys.normalize_order_number(order_number) or "-"
    order_scope = "portal-order:" + keys.short_hash(number)
    return store.take_rate_slot(merchant_id, order_scope, label, LOOKUP_LIMIT, expires)
