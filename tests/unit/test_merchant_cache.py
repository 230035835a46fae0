"""The per-container merchant cache: entries expire after the TTL, the size is bounded (least
recently used dropped first), and `forget` drops one merchant of one table."""

from __future__ import annotations

from chalicelib.store.merchant_cache import MerchantCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_only():
    clock = FakeClock()
    cache = MerchantCache(ttl=60, clock=clock)
    cache.put("t", "MERCHANT#a", {"status": {"S": "active"}})
    clock.now += 59.9
    assert cache.get("t", "MERCHANT#a") == {"status": {"S": "active"}}
    clock.now += 0.1
    assert cache.get("t", "MERCHANT#a") is None
    assert len(cache) == 0  # an expired entry is dropped, not kept


def test_the_size_is_bounded_and_the_least_recently_used_goes_first():
    cache = MerchantCache(ttl=60, max_size=2, clock=FakeClock())
    cache.put("t", "MERCHANT#a", {"n": {"S": "a"}})
    cache.put("t", "MERCHANT#b", {"n": {"S": "b"}})
    assert cache.get("t", "MERCHANT#a")  # a is now the most recently used
    cache.put("t", "MERCHANT#c", {"n": {"S": "c"}})
    assert len(cache) == 2
    assert cache.get("t", "MERCHANT#b") is None
    assert cache.get("t", "MERCHANT#a") and cache.get("t", "MERCHANT#c")


def test_forget_drops_one_merchant_of_one_table():
    cache = MerchantCache(clock=FakeClock())
    cache.put("t1", "MERCHANT#a", {})
    cache.put("t2", "MERCHANT#a", {})
    cache.forget("t1", "MERCHANT#a")
    cache.forget("t1", "MERCHANT#unknown")  # nothing to drop: no error
    assert cache.get("t1", "MERCHANT#a") is None
    assert cache.get("t2", "MERCHANT#a") == {}
