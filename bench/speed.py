"""Figures 2 and 3: ack latency and throughput of the webhooks, each against a bare baseline.

Both replay generated partner traffic (orders, fulfillments, tracking updates, and returns,
warehouse receipts and SMS replies once they are implemented) in time order, with 30 % of
the deliveries sent a second time (duplicates, as partners retry). The baseline is measured
in the same run, on the same DynamoDB Local: for every app request that committed a
`TransactWriteItems` of n items, a bare `TransactWriteItems` of n conditional puts with the
same request size; for a request that wrote nothing (a duplicate), a bare consistent
`BatchGetItem` of as many keys. Latency interleaves them (each app request is followed by
its baseline twin); throughput runs the app alone, then the baseline alone.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench import payloads
from bench.calls import Call
from bench.harness import TABLE, Harness
from tests.data.generator import Dataset, happenings

__all__ = ["Baseline", "replay", "latency", "throughput", "percentiles"]

DUPLICATE_SHARE = 0.30


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and mean, in milliseconds."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {
        "p50": round(rank(50) * 1000, 2),
        "p95": round(rank(95) * 1000, 2),
        "p99": round(rank(99) * 1000, 2),
        "mean": round(statistics.fmean(ordered) * 1000, 2),
    }


@dataclass(frozen=True)
class Work:
    """What one app request asked of DynamoDB, for its baseline twin."""

    write_items: int  # items of its TransactWriteItems, 0 when it wrote nothing
    write_bytes: int
    read_keys: int  # keys of its BatchGetItem (the baseline of a request that wrote nothing)


def work_of(calls: list[Call]) -> Work:
    writes = [c for c in calls if c.operation == "TransactWriteItems"]
    reads = [c for c in calls if c.operation == "BatchGetItem"]
    return Work(
        sum(c.items_requested for c in writes),
        sum(c.request_bytes for c in writes),
        max((c.items_requested for c in reads), default=1),
    )


class Baseline:
    """Bare DynamoDB operations with a plain boto3 client on the app's table."""

    def __init__(self, harness: Harness) -> None:
        self.client = harness.raw_client()
        self._read_keys: list[dict[str, Any]] = []

    def prepare(self, count: int = 100) -> None:
        """Items for the read baseline (keys that exist, like a duplicate's receipt)."""
        for start in range(0, count, 25):
            keys = [
                {"pk": {"S": f"BENCH#read#{n}"}, "sk": {"S": "META"}}
                for n in range(start, start + 25)
            ]
            self.client.batch_write_item(
                RequestItems={
                    TABLE: [{"PutRequest": {"Item": {**k, "pad": {"S": "x" * 200}}}} for k in keys]
                }
            )
            self._read_keys += keys

    def run(self, work: Work) -> float:
        """Seconds taken by the bare operation matching `work`."""
        if work.write_items:
            pad = max(1, (work.write_bytes - 260 * work.write_items) // work.write_items)
            items = [
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {
                            "pk": {"S": f"BENCH#{uuid.uuid4().hex}"},
                            "sk": {"S": "META"},
                            "pad": {"S": "x" * pad},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for _ in range(work.write_items)
            ]
            started = time.perf_counter()
            self.client.transact_write_items(TransactItems=items)
            return time.perf_counter() - started
        keys = self._read_keys[: max(1, min(work.read_keys, len(self._read_keys)))]
        started = time.perf_counter()
        self.client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
        return time.perf_counter() - started


def replay(data: Dataset, kinds: set[str], limit: int, seed: int) -> Iterator[tuple[str, Any]]:
    """(kind, request builder) of `data`'s happenings of `kinds`, plus 30 % duplicates.

    A duplicate re-sends an earlier delivery byte for byte, a few deliveries later (as a
    partner's retry would). Requests are built when yielded: a timestamped signature is fresh.
    """
    rng = random.Random(seed)
    sent: list[payloads.Request] = []
    due: list[tuple[int, payloads.Request]] = []
    count = 0
    for happening in whole_lifecycles(data, kinds, int(limit * (1 - DUPLICATE_SHARE))):
        while due and due[0][0] <= count:
            if count >= limit:
                return
            yield "duplicate", due.pop(0)[1]
            count += 1
        if count >= limit:
            return
        request = payloads.build(happening.kind, happening.subject, data.tracking)
        yield happening.kind, request
        count += 1
        sent.append(request)
        # 30 % of all deliveries are duplicates: 0.3 / 0.7 retries per first delivery.
        if rng.random() < DUPLICATE_SHARE / (1 - DUPLICATE_SHARE):
            due.append((count + rng.randrange(1, 20), request))
            due.sort(key=lambda entry: entry[0])
    while due and count < limit:  # retries of the last deliveries
        yield "duplicate", due.pop(0)[1]
        count += 1


def order_of(subject: Any) -> str | None:
    """The order a generated happening's subject belongs to (None: an SMS reply)."""
    for path in ("order", "fulfillment.order", "request.order"):
        node = subject
        for name in path.split("."):
            node = getattr(node, name, None)
        if node is not None:
            return str(node.order_id)
    return getattr(subject, "order_id", None)


def whole_lifecycles(data: Dataset, kinds: set[str], budget: int) -> list[Any]:
    """`data`'s happenings of `kinds` in time order, cut to about `budget` by keeping whole
    orders (earliest first) rather than the earliest happenings: a cut by time alone would
    drop the late ones (returns, warehouse receipts) and measure only the early kinds."""
    chosen = [h for h in happenings(data) if h.kind in kinds]
    if len(chosen) <= budget:
        return chosen
    per_order: dict[str | None, int] = {}
    for happening in chosen:
        key = order_of(happening.subject)
        per_order[key] = per_order.get(key, 0) + 1
    keep: set[str | None] = {None}  # SMS replies: few, and not tied to one order
    total = per_order.get(None, 0)
    for happening in chosen:
        key = order_of(happening.subject)
        if key in keep or total + per_order[key] > budget:
            continue
        keep.add(key)
        total += per_order[key]
    return [h for h in chosen if order_of(h.subject) in keep]


def latency(harness: Harness, data: Dataset, kinds: set[str], events: int) -> dict[str, Any]:
    """Per event kind: app and baseline p50/p95/p99, measured interleaved, and their ratios."""
    for merchant in data.merchants:
        harness.add_merchant(merchant)
    baseline = Baseline(harness)
    baseline.prepare()
    app_times: dict[str, list[float]] = {}
    dynamodb_times: dict[str, list[float]] = {}
    base_times: dict[str, list[float]] = {}
    by_call: dict[str, list[float]] = {}
    statuses: dict[str, dict[int, int]] = {}
    for kind, request in replay(data, kinds, events, seed=7):
        response = harness.send(request, capacity=False)
        base = baseline.run(work_of(response.calls))
        app_times.setdefault(kind, []).append(response.seconds)
        dynamodb_times.setdefault(kind, []).append(sum(c.seconds for c in response.calls))
        for call in response.calls:
            name = call.shape if call.operation == "GetItem" else call.operation
            by_call.setdefault(name, []).append(call.seconds)
        base_times.setdefault(kind, []).append(base)
        counts = statuses.setdefault(kind, {})
        counts[response.status] = counts.get(response.status, 0) + 1
    rows = []
    for kind in app_times:
        app, base = percentiles(app_times[kind]), percentiles(base_times[kind])
        rows.append(
            {
                "event": kind,
                "samples": len(app_times[kind]),
                "http_statuses": statuses[kind],
                "app_ms": app,
                "app_in_dynamodb_calls_ms": percentiles(dynamodb_times[kind]),
                "baseline_ms": base,
                "baseline": "BatchGetItem" if kind == "duplicate" else "TransactWriteItems",
                "ratio": {p: round(app[p] / base[p], 2) for p in ("p50", "p95", "p99")},
            }
        )
    every_app = [t for times in app_times.values() for t in times]
    every_base = [t for times in base_times.values() for t in times]
    every_dynamodb = [t for times in dynamodb_times.values() for t in times]
    app, base = percentiles(every_app), percentiles(every_base)
    overall = {
        "event": "all (mixed replay)",
        "samples": len(every_app),
        "app_ms": app,
        "app_in_dynamodb_calls_ms": percentiles(every_dynamodb),
        "dynamodb_share_of_app_time": round(sum(every_dynamodb) / sum(every_app), 2),
        "baseline_ms": base,
        "ratio": {p: round(app[p] / base[p], 2) for p in ("p50", "p95", "p99")},
    }
    calls = {
        name: {"calls": len(times), **percentiles(times)} for name, times in sorted(by_call.items())
    }
    return {"rows": rows, "overall": overall, "app_calls_ms": calls}


def throughput(harness: Harness, data: Dataset, kinds: set[str], events: int) -> dict[str, Any]:
    """Events/s of a sequential replay through the app, and of its bare baseline."""
    for merchant in data.merchants:
        harness.add_merchant(merchant)
    works: list[Work] = []
    mix: dict[str, int] = {}
    failures = 0
    started = time.perf_counter()
    for kind, request in replay(data, kinds, events, seed=11):
        response = harness.send(request, capacity=False)
        works.append(work_of(response.calls))
        mix[kind] = mix.get(kind, 0) + 1
        failures += response.status != 200
    app_seconds = time.perf_counter() - started
    baseline = Baseline(harness)
    baseline.prepare()
    started = time.perf_counter()
    for work in works:
        baseline.run(work)
    base_seconds = time.perf_counter() - started
    app_rate, base_rate = len(works) / app_seconds, len(works) / base_seconds
    return {
        "events": len(works),
        "mix": mix,
        "non_200": failures,
        "app_seconds": round(app_seconds, 2),
        "app_events_per_s": round(app_rate, 1),
        "baseline_seconds": round(base_seconds, 2),
        "baseline_ops_per_s": round(base_rate, 1),
        "ratio": round(app_rate / base_rate, 2),
        "items_written": sum(w.write_items for w in works),
    }
