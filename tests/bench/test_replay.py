"""The benchmark's replay cuts generated traffic by whole orders, so the late events of an
order's life (return requests, warehouse receipts) are measured too, not only the early ones.
Pure: generated data only, no stack."""

from __future__ import annotations

from collections import Counter

from bench.speed import DUPLICATE_SHARE, order_of, replay, whole_lifecycles
from tests.data.generator import generate, happenings

KINDS = {
    "order_created",
    "fulfillment",
    "tracking_update",
    "return_requested",
    "warehouse_receipt",
    "sms_reply",
}


def test_a_cut_keeps_whole_orders_with_their_returns_and_receipts():
    data = generate(4242, 3, 60, first_merchant=10)
    every = [h for h in happenings(data) if h.kind in KINDS]
    budget = len(every) // 2

    kept = whole_lifecycles(data, KINDS, budget)

    assert 0 < len(kept) <= budget
    assert [h.at for h in kept] == sorted(h.at for h in kept)  # still in time order
    orders = {order_of(h.subject) for h in kept} - {None}
    whole = Counter(order_of(h.subject) for h in every)
    assert Counter(order_of(h.subject) for h in kept if order_of(h.subject)) == {
        order: whole[order] for order in orders
    }
    assert {"return_requested", "warehouse_receipt"} <= {h.kind for h in kept}


def test_the_replay_sends_about_the_asked_number_with_its_share_of_duplicates():
    data = generate(4242, 3, 60, first_merchant=10)

    sent = Counter(kind for kind, _ in replay(data, KINDS, 300, seed=7))

    assert 285 <= sum(sent.values()) <= 300  # whole orders rarely add up to the exact budget
    assert abs(sent["duplicate"] / sum(sent.values()) - DUPLICATE_SHARE) < 0.1
