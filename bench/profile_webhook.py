"""Where one webhook's time goes: cProfile over the latency replay, per event kind.

`python -m bench.profile_webhook [--events 300] [--kind tracking_update] [--top 40]`

Starts the same embedded stack as the benchmark (`bench.harness.Harness`), replays the
figure-2 traffic (`bench.speed.replay`) and profiles only the app requests of the chosen
kinds (the rest are sent unprofiled, so the data's state stays realistic). Prints the
functions by own time and by cumulative time, plus the split between time inside DynamoDB
calls (the botocore hook's timing) and the rest (Python on the request path). A tool for
finding request-path costs; the benchmark itself does not run it.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import sys
import time

from bench.__main__ import _KINDS, SEED, _orders
from bench.harness import Harness
from bench.speed import replay
from tests.data.generator import generate

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_webhook")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--kind", action="append", help="profile these kinds (default: all)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime,cumulative")
    parser.add_argument("--out", help="write the raw pstats here")
    args = parser.parse_args(argv)
    harness = Harness()
    with contextlib.redirect_stdout(sys.stderr):
        harness.start()
    profiler = cProfile.Profile()
    wall = in_dynamodb = 0.0
    profiled = 0
    try:
        data = generate(SEED + 1, 3, _orders(args.events, 3), first_merchant=10)
        for merchant in data.merchants:
            harness.add_merchant(merchant)
        kinds = {"order_created", "fulfillment", "tracking_update", *_KINDS.values()}
        for count, (kind, request) in enumerate(replay(data, kinds, args.events, seed=7)):
            chosen = count >= 20 and (not args.kind or kind in args.kind)  # 20 warm-up
            if chosen:
                profiler.enable()
            started = time.perf_counter()
            response = harness.send(request, capacity=False)
            elapsed = time.perf_counter() - started
            if chosen:
                profiler.disable()
                profiled += 1
                wall += elapsed
                in_dynamodb += sum(c.seconds for c in response.calls)
    finally:
        harness.stop()
    print(
        f"{profiled} requests profiled: {wall / max(profiled, 1) * 1000:.2f} ms each, "
        f"{in_dynamodb / max(profiled, 1) * 1000:.2f} ms inside DynamoDB calls, "
        f"{(wall - in_dynamodb) / max(profiled, 1) * 1000:.2f} ms outside (profiler on)"
    )
    if args.out:
        profiler.dump_stats(args.out)
    for key in args.sort.split(","):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(key).print_stats(args.top)
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
