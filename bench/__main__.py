"""The benchmark command: `python -m bench [--size tiny|small|full] [--out PATH]`.

Starts the embedded stack, seeds merchants, measures the five figures described in
bench/README.md, prints the table and writes the JSON results (default
bench/results/latest.json). Exit status 0 whether or not targets are met: the numbers are
the product; `--strict` makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import math
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["SIZES", "Size", "main", "run"]

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SEED = 20261123
EVENTS_PER_ORDER = 5.0  # first deliveries per order in the generated mix (orders..tracking)


@dataclass(frozen=True)
class Size:
    lifecycle_samples: int  # figure 1: deliveries per event type
    latency_events: int  # figure 2
    throughput_events: int  # figure 3
    stored_items: int  # figure 4
    due_items: int
    import_runs: int  # figure 5
    digest_cases: int  # figure 4: cases of the small digest merchant (the large has 10 x)
    package: bool
    package_timeout: int = 420


SIZES = {
    "tiny": Size(2, 30, 30, 500, 20, 1, 10, False),  # CI smoke: proves the command works
    "small": Size(5, 150, 200, 10_000, 100, 2, 50, False),
    "full": Size(20, 1000, 2000, 100_000, 100, 7, 100, True),
}
_KINDS = {  # figure-1 event type -> generator happening kind (replayed once implemented)
    "return requested": "return_requested",
    "warehouse receipt": "warehouse_receipt",
    "SMS reply": "sms_reply",
}


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _orders(events: int, merchants: int) -> int:
    return max(4, math.ceil(events * 0.7 / EVENTS_PER_ORDER / merchants * 1.2))


def run_latency(size_name: str) -> dict[str, Any]:
    """Figure 2 alone (`--only latency`): for measuring a change to the request path quickly.

    Replays every event kind (as a full run does once they are implemented) with no other
    figure measured before it, so runs can be repeated, or interleaved with another tree's."""
    from bench import speed
    from bench.harness import Harness
    from bench.report import machine
    from tests.data.generator import generate

    size = SIZES[size_name]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size_name,
        "only": "latency",
        "parameters": asdict(size),
        "seed": SEED,
    }
    _say("starting DynamoDB Local and moto")
    harness = Harness()
    with contextlib.redirect_stdout(sys.stderr):
        harness.start()
    try:
        results["machine"] = machine(harness.backend)
        kinds = {"order_created", "fulfillment", "tracking_update", *_KINDS.values()}
        _say(f"2/5 latency: {size.latency_events} events, each with its baseline")
        data = generate(SEED + 1, 3, _orders(size.latency_events, 3), first_merchant=10)
        results["latency"] = speed.latency(harness, data, kinds, size.latency_events)
    finally:
        harness.stop()
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def run(size_name: str, build_package: bool | None = None) -> dict[str, Any]:
    """Measure everything at `size_name`; returns the results (also what is written)."""
    from bench import coldstart, roundtrips, scheduled, speed
    from bench.harness import Harness
    from bench.report import machine, targets
    from tests.data.generator import generate

    size = SIZES[size_name]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size_name,
        "parameters": asdict(size),
        "seed": SEED,
    }
    package = size.package if build_package is None else build_package
    workdir = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    packaging = None
    packaged = None
    if package:  # mostly wheel downloads: runs beside the table load, measured only by size
        _say("building the deployment package in the background (chalice package)")
        pool = ThreadPoolExecutor(max_workers=1)
        packaging = pool.submit(coldstart.package, workdir, size.package_timeout)
        pool.shutdown(wait=False)
    _say("starting DynamoDB Local and moto")
    harness = Harness()
    with contextlib.redirect_stdout(sys.stderr):
        harness.start()
    try:
        results["machine"] = machine(harness.backend)
        from chalicelib.notify.sender import deliver_due

        sender_limit = inspect.signature(deliver_due).parameters["limit"].default
        _say(f"4/5 scheduled cost: loading {size.stored_items} items")
        results["scheduled"] = scheduled.run(
            harness, size.stored_items, size.due_items, sender_limit, size.digest_cases
        )
        _say("1/5 round trips per event type")
        lifecycle = generate(SEED, merchants=1, orders_per_merchant=size.lifecycle_samples * 3 + 10)
        results["round_trips"] = roundtrips.run(harness, lifecycle, size.lifecycle_samples)
        if packaging is not None:  # no CPU-heavy neighbour while latency is measured
            _say("waiting for chalice package before timing anything")
            packaged = packaging.result()
        kinds = {"order_created", "fulfillment", "tracking_update"}
        kinds |= {
            kind
            for row in results["round_trips"]["rows"]
            if row.get("implemented") and (kind := _KINDS.get(row["event"]))
        }
        _say(f"2/5 latency: {size.latency_events} events, each with its baseline")
        data = generate(SEED + 1, 3, _orders(size.latency_events, 3), first_merchant=10)
        results["latency"] = speed.latency(harness, data, kinds, size.latency_events)
        _say(f"3/5 throughput: {size.throughput_events} events")
        data = generate(SEED + 2, 3, _orders(size.throughput_events, 3), first_merchant=20)
        results["throughput"] = speed.throughput(harness, data, kinds, size.throughput_events)
    finally:
        harness.stop()
    try:
        _say("5/5 cold start: import times in fresh interpreters")
        results["cold_start"] = coldstart.run(size.import_runs, packaged)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = targets(results)
    return results


def main(argv: list[str] | None = None) -> int:
    from bench.report import render, render_latency, write

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results path")
    parser.add_argument(
        "--package",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run `chalice package` (default: only at size full)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--only",
        choices=["latency"],
        help="measure one figure alone (results default to bench/results/ONLY.json)",
    )
    args = parser.parse_args(argv)
    # A terminated run still stops DynamoDB Local and moto (its `finally` blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.only == "latency":
        out = RESULTS.with_name("latency.json") if args.out == RESULTS else args.out
        results = run_latency(args.size)
        write(results, out)
        print(render_latency(results))
        print(f"\nresults: {out}")
        return 0
    results = run(args.size, args.package)
    write(results, args.out)
    print(render(results))
    print(f"\nresults: {args.out}")
    missed = [t for t in results["targets"] if not t["met"]]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
