"""Duplicate and disorder storm (issue 9): the same generated shop world is replayed twice,
once in order and once as partners really deliver it - 30% of deliveries duplicated, each
order's events shuffled, some delivered days late, refused deliveries retried like the
partners retry. Both copies must end in the same state, with nothing doubled or missing.

Default size: ~430 events (CI, ~25 s); `AFTERCARE_BIG=1`: ~5,000.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from chalicelib.deps import set_clock
from tests.data.generator import Happening, generate
from tests.reliability.world import World, post, retire, scan_items, size

DUPLICATE_SHARE = 0.30
LATE_SHARE = 0.05
RETRYABLE = {409, 429, 500, 502, 503, 504}


def _order_of(happening: Happening) -> str:
    subject: Any = happening.subject
    for path in ("order", "fulfillment.order", "request.order"):
        target = subject
        for name in path.split("."):
            target = getattr(target, name, None)
        if target is not None:
            return target.order_id
    return subject.order_id


def storm_schedule(
    events: list[Happening], rng: random.Random
) -> list[tuple[datetime, Happening, bool]]:
    """(delivered at, happening, is a duplicate) in delivery order: each order's events swap
    slots among themselves, 30% are delivered twice (the copy minutes to a day later) and 5%
    arrive 2-5 days late."""
    by_order: dict[str, list[int]] = defaultdict(list)
    for index, happening in enumerate(events):
        by_order[_order_of(happening)].append(index)
    placed: list[Happening] = list(events)
    for slots in by_order.values():
        shuffled = slots[:]
        rng.shuffle(shuffled)
        for slot, source in zip(slots, shuffled, strict=True):
            placed[slot] = events[source]
    schedule = []
    for slot, happening in enumerate(placed):
        at = events[slot].at  # the slot's time: the shuffled event arrives then
        if rng.random() < LATE_SHARE:
            at += timedelta(days=rng.uniform(2, 5))
        schedule.append((at, happening, False))
        if rng.random() < DUPLICATE_SHARE:
            schedule.append((at + timedelta(minutes=rng.uniform(1, 24 * 60)), happening, True))
    return sorted(schedule, key=lambda entry: entry[0])


class Replay:
    """Sends deliveries with the app's clock at their delivery time; retryable refusals are
    delivered again later (as partners retry); counts what happened."""

    def __init__(self, client: Any, world: World) -> None:
        self.client, self.world = client, world
        self.now = datetime.now().astimezone()
        self.statuses: Counter[int] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.retries = 0
        set_clock(lambda: self.now)

    def run(self, schedule: list[tuple[datetime, Happening, bool]]) -> None:
        queue = [(at, n, h) for n, (at, h, _) in enumerate(schedule)]
        while queue:
            queue.sort(key=lambda entry: (entry[0], entry[1]))
            at, n, happening = queue.pop(0)
            self.now = at
            status, body = post(self.client, self.world.delivery(happening))
            self.statuses[status] += 1
            for event in (body or {}).get("events", []) if isinstance(body, dict) else []:
                self.outcomes[event["outcome"]] += 1
            if status in RETRYABLE:
                self.retries += 1
                assert self.retries < 10 * len(schedule), "retries do not converge"
                queue.append((at + timedelta(minutes=30), n, happening))


def _snapshot(store: Any, world: World) -> dict[str, Any]:
    """The state of `world`'s merchants that must not depend on delivery order, merchant
    ids masked. Left out on purpose: which of two split shipments' deliveries stamps the
    order's `delivered_at` (the last one processed), and the return decision when the return
    request came before its order (a human decides then: policy, not a loss)."""
    state: dict[str, Any] = {"shipments": {}, "orders": {}, "customers": {}}
    cases: Counter[tuple] = Counter()
    timeline: Counter[tuple] = Counter()
    outbox: Counter[tuple] = Counter()
    for item in scan_items(store, world.merchant_ids):
        pk = item["pk"].replace(f"-{world.tag}", "")
        kind = pk.split("#", 1)[0]
        if item["sk"].startswith("TL#"):  # entry ids hash the merchant: count per subject
            subject = pk if kind == "ORDER" else kind
            if item["kind"] == "shipment_update":  # on the order, case or shipment timeline
                subject = item["summary"].split(":", 1)[0].split()[-1]
            timeline[(subject, item["kind"])] += 1
        elif kind == "SHIPMENT":
            state["shipments"][pk] = (
                item.get("status"),
                item.get("order_id"),
                item.get("is_return"),
                item.get("order_number"),
            )
        elif kind == "ORDER":
            state["orders"][pk] = (
                item.get("status"),
                sorted(item.get("tracking_numbers") or []),
                item.get("delivered_at") is not None,
            )
        elif kind == "CUSTOMER":
            state["customers"][pk] = (sorted(item.get("order_ids") or []), item.get("spend"))
        elif kind == "CASE":
            cases[(item["case_type"], item.get("order_id"))] += 1
        elif kind == "OUTBOX":
            context = json.loads(item.get("context") or "{}")
            key = (item["kind"], item.get("order_id"), str(context.get("tracking_number", "")))
            outbox[key] += 1
    state["cases"], state["timeline"] = cases, timeline
    return {**state, "outbox": outbox}


def test_storm_ends_in_the_in_order_state(client, app_deps):
    orders = size(60, 720)  # ~7 events per order: ~430 (CI) / ~5,000 (AFTERCARE_BIG=1)
    data = generate(seed=909, merchants=3, orders_per_merchant=orders // 3)
    ordered, stormy = World(data), World(data)
    for world in (ordered, stormy):
        world.create_merchants(app_deps.store, app_deps.now())
    try:
        _storm(client, app_deps, ordered, stormy)
    finally:
        retire(app_deps.store, ordered.merchant_ids + stormy.merchant_ids)


def _storm(client: Any, app_deps: Any, ordered: World, stormy: World) -> None:
    events = ordered.happenings()

    calm = Replay(client, ordered)
    calm.run([(h.at, h, False) for h in events])
    schedule = storm_schedule(events, random.Random(9))
    storm = Replay(client, stormy)
    storm.run(schedule)

    duplicates = sum(1 for _, _, dup in schedule if dup)
    print(
        f"\nstorm: {len(events)} events, {duplicates} duplicates, {storm.retries} retries, "
        f"statuses {dict(storm.statuses)}, outcomes {dict(storm.outcomes)}"
    )
    assert calm.statuses.keys() <= {200}, calm.statuses
    assert storm.statuses.keys() <= {200} | RETRYABLE, storm.statuses
    expected, got = _snapshot(app_deps.store, ordered), _snapshot(app_deps.store, stormy)
    sent, expected_sent = got.pop("outbox"), expected.pop("outbox")
    doubled = {key: n for key, n in sent.items() if n > 1}
    assert not doubled, f"messages queued twice: {doubled}"
    shipping = {key for key in sent if key[2]}  # shipment messages, by tracking number
    assert shipping <= set(expected_sent), "a message the in-order stream never sends"
    diffs = {part: _diff(expected[part], got[part]) for part in expected}
    for part, found in diffs.items():
        print(f"{part}: {len(found)} differ (expected, storm): {found[:4]}")
    assert not any(diffs.values())


def _diff(expected: Any, got: Any) -> list[Any]:
    if isinstance(expected, Counter):
        return sorted((expected - got).items()) + sorted((got - expected).items())
    keys = set(expected) | set(got)
    return [(k, expected.get(k), got.get(k)) for k in sorted(keys) if expected.get(k) != got.get(k)]
