"""The per-container merchant cache: a webhook on a warm Lambda skips the merchant GetItem.

Every webhook needs its merchant (status, signing secrets, settings) before its one read
round. Merchants change rarely, so each Lambda container keeps the items it read for
`TTL_SECONDS` (bounded to `MAX_MERCHANTS`, least recently used dropped first):

- only active merchants are kept: an unknown, uninstalled or not yet installed merchant is
  read every time, so an install is seen at once;
- a unit of work that writes a merchant item drops it here, committed or not (`forget`),
  so this container never serves its own stale copy;
- another container's change is seen within the TTL. Callers that check a signature with a
  cached merchant read it again once when the check fails (`inbound`), so a secret rotated
  elsewhere is never refused; a merchant uninstalled elsewhere may have events accepted for
  up to the TTL (shop/redact removes them later with everything else).

Entries are the item's raw attributes: every read builds a new model instance, so a caller
changing its copy cannot change the cache. Importing does no I/O; the cache is per process,
keyed by table and the merchant's item key.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["MerchantCache", "CACHE", "TTL_SECONDS", "MAX_MERCHANTS"]

TTL_SECONDS = 60.0
MAX_MERCHANTS = 512  # a few KB each: well under 1 MB per container


class MerchantCache:
    """Raw merchant items by (table, item key), each kept for `ttl` seconds."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_size: int = MAX_MERCHANTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, table: str, pk: str) -> dict[str, Any] | None:
        """The cached raw item, or None when absent or older than the TTL."""
        key = (table, pk)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, raw = entry
            if self._clock() - stored_at >= self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return raw

    def put(self, table: str, pk: str, raw: dict[str, Any]) -> None:
        """Keep `raw` (the merchant's serialized attributes) from now for the TTL."""
        key = (table, pk)
        with self._lock:
            self._entries[key] = (self._clock(), raw)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def forget(self, table: str, pk: str) -> None:
        with self._lock:
            self._entries.pop((table, pk), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


CACHE = MerchantCache()
