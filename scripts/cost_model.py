#!/usr/bin/env python3
"""Monthly AWS cost of one Aftercare merchant (1k / 10k / 100k orders a month) and a peak-day
capacity note for 1,000 merchants, from the benchmark's measured figures.

    .venv/bin/python scripts/cost_model.py                 # print the tables (Markdown)
    .venv/bin/python scripts/cost_model.py --update-doc    # rewrite them inside docs/cost.md

Inputs, and nothing else: `bench/results/latest.json` (`python -m bench`: DynamoDB request
units and app time per event type, cold-start import time, transaction time), the dated
price table `infra/prices.json`, the SMS templates (segments are counted by rendering them),
`infra/resources.json` (alarms, throttling) and the code's own limits (outbox batch, schedule).
Every other number is an assumption, named in `ASSUMPTIONS` with why, and printed with the
result.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH = ROOT / "bench" / "results" / "latest.json"
PRICES = ROOT / "infra" / "prices.json"
TEMPLATE = ROOT / "infra" / "resources.json"
DOC = ROOT / "docs" / "cost.md"
SIZES = (1_000, 10_000, 100_000)
SECONDS_A_MONTH = 30 * 86400

# name: (value, why). Shown with every result.
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "order_updates_per_order": (
        1.0,
        "orders/updated arrives with most changes; costed as an order",
    ),
    "status_advances_per_order": (2.0, "carrier scans that advance the status without a message"),
    "exceptions_per_order": (0.03, "carrier exceptions (a case and a message each)"),
    "duplicate_share": (
        0.10,
        "1 in 10 webhooks re-delivered (the benchmark replays 30 %)",
    ),
    "returns_per_order": (0.10, "return requests; each is followed by one warehouse receipt"),
    "replies_per_sms": (0.02, "customers answering a message (STOP, HELP, a question)"),
    "sms_sender_ms": (
        150.0,
        "sender time per message beyond DynamoDB (the provider call)",
    ),
    "lambda_overhead_ms": (2.0, "API Gateway proxy event handling added to the measured app time"),
    "cold_runtime_ms": (
        150.0,
        "runtime start before our imports (INIT billed since 2025-08)",
    ),
    "warm_seconds": (600.0, "how long an idle function stays warm (not documented by AWS)"),
    "log_kb_per_invocation": (1.5, "START/END/REPORT lines, two JSON log lines, one metric line"),
    "stored_kb_per_order": (
        12.0,
        "order, customer share, shipment, timeline, messages",
    ),
    "months_retained": (12.0, "the table keeps a year of orders (steady state)"),
    "custom_metrics": (31.0, "one Shopify + one carrier + SNS merchant: see docs/cost.md"),
    "peak_factor": (20.0, "a Black Friday day against an average day"),
    "merchants": (1000.0, "merchants in one stack for the capacity note"),
    "orders_per_merchant": (10_000.0, "orders a month per merchant for the capacity note"),
    "peak_hour_share": (0.10, "share of a peak day's traffic in its busiest hour"),
    "origination_mps": (3.0, "messages per second of one US toll-free number (AWS default)"),
    "due_writes_per_sms": (3.0, "due-index writes per message: queued, claimed, finished"),
    "stream_shards": (
        4,
        "table stream shards (one per partition; a new on-demand table starts with ~4)",
    ),
}


def a(name: str) -> float:
    return ASSUMPTIONS[name][0]


@dataclass(frozen=True)
class EventCost:
    """Measured figures of one event type (medians over the benchmark's samples)."""

    name: str
    rru: float
    wru: float
    app_ms: float
    measured: bool = True


# --- inputs ---------------------------------------------------------------------------------


def load_bench(path: Path) -> dict[str, Any]:
    if not path.exists():
        sys.exit(f"no benchmark results at {path}: run `.venv/bin/python -m bench` first")
    return json.loads(path.read_text())


def _row(bench: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    for row in bench["round_trips"]["rows"]:
        if row["event"].startswith(prefix) and row.get("implemented", True):
            return row
    return None


def _latency(bench: dict[str, Any], event: str) -> float | None:
    for row in bench["latency"]["rows"]:
        if row["event"] == event and row["samples"]:
            return float(row["app_ms"]["mean"])
    return None


def event_costs(bench: dict[str, Any]) -> dict[str, EventCost]:
    """Request units and app time per event type; unmeasured types borrow a neighbour's."""
    overall = float(bench["latency"]["overall"]["app_ms"]["mean"])
    spec = {  # our name: (round-trip row prefix, latency event, stand-in when not measured)
        "order": ("order created", "order_created", None),
        "fulfillment": ("fulfillment", "fulfillment", None),
        "status": ("tracking update (status advances)", "tracking_update", None),
        "notified status": ("tracking update (out for delivery", "tracking_update", None),
        "exception": ("tracking update (carrier exception", "tracking_update", None),
        "duplicate": ("duplicate delivery", "duplicate", None),
        "return request": ("return requested", "return_requested", "notified status"),
        "warehouse receipt": ("warehouse receipt", "warehouse_receipt", "return request"),
        "sms reply": ("SMS reply", "sms_reply", "notified status"),
        "sms sent": ("outbox send, per message (sent)", None, None),
    }
    costs: dict[str, EventCost] = {}
    for name, (prefix, latency_event, stand_in) in spec.items():
        row = _row(bench, prefix)
        if row is None:
            base = costs[stand_in or "notified status"]
            costs[name] = EventCost(name, base.rru, base.wru, base.app_ms, measured=False)
            continue
        app_ms = (_latency(bench, latency_event) if latency_event else None) or overall
        if name == "sms sent":
            app_ms = overall + a("sms_sender_ms")
        costs[name] = EventCost(
            name, float(row["read_capacity"]), float(row["write_capacity"]), app_ms
        )
    due = bench["scheduled"]["outbox_due_query"][0]  # the due-index read, per message
    sent = costs["sms sent"]
    per_item = float(due["read_capacity"]) / max(1, int(due["items_returned"]))
    costs["sms sent"] = EventCost(sent.name, sent.rru + per_item, sent.wru, sent.app_ms)
    return costs


def sms_segments() -> dict[str, int]:
    """Segments of each shipping message as the templates render it (US number, en-US)."""
    from chalicelib.notify.templates import render_sms, sample_context

    kinds = ("shipment_in_transit", "shipment_out_for_delivery", "shipment_delivered")
    kinds += ("shipment_exception", "return_approved")
    return {
        kind: render_sms(
            kind, "en-US", sample_context(kind), "Acme Outfitters", to="+16502530000"
        ).cost.segments
        for kind in kinds
    }


def alarm_metrics(template: dict[str, Any]) -> int:
    """Billed alarm metrics: one per plain alarm, one per metric in a metric-math alarm."""
    count = 0
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            stats = [m for m in resource["Properties"].get("Metrics", []) if "MetricStat" in m]
            count += len(stats) or 1
    return count


def stream_parallelization(template: dict[str, Any]) -> int:
    """Concurrent batches per stream shard of the outbox stream consumer (template default)."""
    parameter = template["Parameters"].get("OutboxStreamParallelization", {})
    return int(parameter.get("Default", 1))


def outbox_limits() -> tuple[int, float]:
    """Messages the outbox sender takes per run, and runs per second (from the code)."""
    from chalicelib.notify.sender import deliver_due

    batch = int(inspect.signature(deliver_due).parameters["limit"].default)
    source = (ROOT / "app.py").read_text()
    match = re.search(r"Rate\((\d+), unit=Rate\.MINUTES\), name=\"send_outbox\"", source)
    minutes = int(match.group(1)) if match else 1
    return batch, 1 / (60 * minutes)


# --- the model ------------------------------------------------------------------------------


def per_order_mix(segments: dict[str, int]) -> tuple[dict[str, float], float, float]:
    """Events per order by type, messages per order and segments per order."""
    returns = a("returns_per_order")
    messages = {
        "shipment_in_transit": 1.0,
        "shipment_out_for_delivery": 1.0,
        "shipment_delivered": 1.0,
        "shipment_exception": a("exceptions_per_order"),
        "return_approved": returns,
    }
    sms = sum(messages.values())
    mix = {
        "order": 1.0 + a("order_updates_per_order"),
        "fulfillment": 1.0,
        "status": a("status_advances_per_order"),
        "notified status": 2.0,  # out for delivery, delivered
        "exception": a("exceptions_per_order"),
        "return request": returns,
        "warehouse receipt": returns,
        "sms reply": sms * a("replies_per_sms"),
    }
    mix["duplicate"] = sum(mix.values()) * a("duplicate_share")
    return mix, sms, sum(n * segments[kind] for kind, n in messages.items())


def cold_fraction(invocations_a_month: float) -> float:
    """Share of invocations that start cold, for Poisson arrivals and a warm window."""
    rate = invocations_a_month / SECONDS_A_MONTH
    return math.exp(-rate * a("warm_seconds"))


def monthly_cost(
    orders: int,
    costs: dict[str, EventCost],
    segments: dict[str, int],
    prices: dict[str, float],
    memory_gb: float,
    init_ms: float,
    idle_ms: float,
    alarms: int,
) -> dict[str, float]:
    """USD a month by line item for one merchant with `orders` orders a month."""
    mix, sms, segs = per_order_mix(segments)
    events = {name: orders * n for name, n in mix.items()}
    requests = sum(events.values())
    messages = orders * sms
    rru = sum(costs[n].rru * c for n, c in events.items()) + costs["sms sent"].rru * messages
    wru = sum(costs[n].wru * c for n, c in events.items()) + costs["sms sent"].wru * messages
    app_ms = sum((costs[n].app_ms + a("lambda_overhead_ms")) * c for n, c in events.items())
    app_ms += costs["sms sent"].app_ms * messages
    cold_ms = requests * cold_fraction(requests) * init_ms
    # Schedules: the outbox sender every minute (idle: 4 empty due queries), digests every
    # 15 minutes, SLA escalation every 5; `idle_ms` is the digest job's measured idle run
    # (also 4 empty queries).
    schedule_runs = SECONDS_A_MONTH / 60 + SECONDS_A_MONTH / 900 + SECONDS_A_MONTH / 300
    lambda_seconds = (app_ms + cold_ms + schedule_runs * idle_ms) / 1000
    invocations = requests + schedule_runs
    stored_gb = orders * a("stored_kb_per_order") * a("months_retained") / 1024**2
    log_gb = (invocations + messages) * a("log_kb_per_invocation") / 1024**2
    return {
        "DynamoDB requests": rru * prices["dynamodb_read_request_unit"]
        + wru * prices["dynamodb_write_request_unit"],
        "DynamoDB storage + PITR": stored_gb
        * (prices["dynamodb_storage_gb_month"] + prices["dynamodb_pitr_gb_month"]),
        "Lambda": invocations * prices["lambda_request"]
        + lambda_seconds * memory_gb * prices["lambda_gb_second"],
        "API Gateway": requests * prices["api_gateway_rest_request"],
        "CloudWatch logs": log_gb * prices["cloudwatch_logs_ingest_gb"],
        "CloudWatch metrics + alarms": a("custom_metrics") * prices["cloudwatch_metric_month"]
        + alarms * prices["cloudwatch_alarm_metric_month"],
        "SMS (US)": orders * segs * prices["sms_us_segment"]
        + prices["sms_us_toll_free_number_month"],
    }


def capacity(
    costs: dict[str, EventCost], segments: dict[str, int]
) -> list[tuple[str, float, float, str]]:
    """Peak-hour demand against each limit: (limit, demand, limit value, setting)."""
    mix, sms, _ = per_order_mix(segments)
    orders_per_s = a("merchants") * a("orders_per_merchant") / SECONDS_A_MONTH
    peak = a("peak_factor") * 24 * a("peak_hour_share")  # busiest hour of the peak day
    events_s = orders_per_s * sum(mix.values()) * peak
    sms_s = orders_per_s * sms * peak
    template = json.loads(TEMPLATE.read_text())
    api_rate = float(template["Parameters"]["ApiRateLimit"]["Default"])
    mean_ms = sum(costs[n].app_ms * c for n, c in mix.items()) / sum(mix.values())
    wru_s = sum(costs[n].wru * c for n, c in mix.items()) / sum(mix.values()) * events_s
    wru_s += costs["sms sent"].wru * sms_s
    batch, runs_s = outbox_limits()
    # New messages go out through the table's stream (SendOutboxStream): each concurrent batch
    # sends one message after the other, so a stream shard x parallelization sends
    # 1000 / (sender ms per message) a second; the every-minute sweep adds its batch.
    per_message_ms = costs["sms sent"].app_ms + a("sms_sender_ms")
    streams = a("stream_shards") * stream_parallelization(template)
    sender_limit = streams * 1000 / per_message_ms + batch * runs_s
    return [
        (
            "outbox stream consumer + sweep (messages/s)",
            sms_s,
            sender_limit,
            "OutboxStreamParallelization (max 10); shards grow with the table",
        ),
        (
            "one toll-free number (messages/s)",
            sms_s,
            a("origination_mps"),
            "MPS increase, a pool",
        ),
        ("API Gateway throttle (requests/s)", events_s, api_rate, "ApiRateLimit parameter"),
        (
            "Lambda concurrency (new account)",
            events_s * (mean_ms + a("lambda_overhead_ms")) / 1000,
            10.0,
            "Service Quotas: concurrent executions",
        ),
        ("DynamoDB new on-demand table (WRU/s)", wru_s, 4000.0, "WarmThroughput on the table"),
        ("DynamoDB table quota (WRU/s)", wru_s, 40000.0, "Service Quotas: table write throughput"),
        (
            "one due-index shard key (writes/s)",
            sms_s * a("due_writes_per_sms") / 4,
            1000.0,
            "more DUE#OUTBOX shards (store)",
        ),
    ]


def hot_counter(
    segments: dict[str, int], bench: dict[str, Any]
) -> tuple[list[tuple[int, float, float]], float]:
    """The per-merchant weekly counter item: transactions/s on it and the chance two overlap."""
    mix, _, _ = per_order_mix(segments)
    tx_ms = float(bench["latency"]["app_calls_ms"]["TransactWriteItems"]["mean"])
    rows = []
    for orders in SIZES:
        peak = a("peak_factor") * 24 * a("peak_hour_share")
        writes_s = orders / SECONDS_A_MONTH * (sum(mix.values()) - mix["duplicate"]) * peak
        conflict = 1 - math.exp(-2 * writes_s * tx_ms / 1000)
        rows.append((orders, writes_s, conflict))
    return rows, tx_ms


# --- output ---------------------------------------------------------------------------------


def money(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.01 or value == 0 else f"{value:.4f}"


def report(bench: dict[str, Any]) -> str:
    price_table = json.loads(PRICES.read_text())
    prices = {name: p["usd"] for name, p in price_table["prices"].items()}
    costs = event_costs(bench)
    segments = sms_segments()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    memory_gb = config.get("lambda_memory_size", 128) / 1024
    init_ms = float(bench["cold_start"]["imports"]["app"]["import_ms"]) + a("cold_runtime_ms")
    alarms = alarm_metrics(json.loads(TEMPLATE.read_text()))
    idle_ms = float(bench["scheduled"]["weekly_digest"]["idle_run"]["ms"])
    table = {
        n: monthly_cost(n, costs, segments, prices, memory_gb, init_ms, idle_ms, alarms)
        for n in SIZES
    }

    out = [
        f"Benchmark: `{bench['timestamp']}` (size {bench['size']}, {bench['machine']['cpu']}); "
        f"prices: `infra/prices.json` as of {price_table['as_of']} ({price_table['region']}).",
        "",
        "| USD a month | " + " | ".join(f"{n:,} orders" for n in SIZES) + " |",
        "|---|" + "---:|" * len(SIZES),
    ]
    for item in table[SIZES[0]]:
        out.append(f"| {item} | " + " | ".join(money(table[n][item]) for n in SIZES) + " |")
    totals = {n: sum(table[n].values()) for n in SIZES}
    out.append("| **total** | " + " | ".join(f"**{money(totals[n])}**" for n in SIZES) + " |")
    out.append("| per order | " + " | ".join(money(totals[n] / n) for n in SIZES) + " |")
    without_sms = {n: totals[n] - table[n]["SMS (US)"] for n in SIZES}
    out.append("| total without SMS | " + " | ".join(money(without_sms[n]) for n in SIZES) + " |")
    mix, sms, segs = per_order_mix(segments)
    out += [
        "",
        "Measured per event (benchmark medians; request units as DynamoDB Local accounts them):",
        "",
        "| event | per order | RRU | WRU | app ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, count in [*mix.items(), ("sms sent", sms)]:
        cost = costs[name]
        mark = "" if cost.measured else " (not measured: stand-in)"
        out.append(
            f"| {name}{mark} | {count:.2f} | {cost.rru:g} | {cost.wru:g} | {cost.app_ms:.1f} |"
        )
    out += [
        "",
        f"SMS: {sms:.2f} messages and {segs:.2f} segments per order; segments per message as "
        "the en-US templates render for a US number: "
        + ", ".join(f"{k} {v}" for k, v in segments.items())
        + f". Cold start billed: {init_ms:.0f} ms (measured imports + runtime); "
        f"memory {memory_gb * 1024:.0f} MB; {alarms} alarm metrics.",
        "",
        "## Peak day, 1,000 merchants",
        "",
        f"{a('merchants'):,.0f} merchants x {a('orders_per_merchant'):,.0f} orders a month, "
        f"{a('peak_factor'):.0f}x on the peak day, {a('peak_hour_share'):.0%} of it in the busiest "
        "hour. Demand against each limit, first hit first:",
        "",
        "| limit | peak demand | limit | x | raised by |",
        "|---|---:|---:|---:|---|",
    ]
    for name, demand, limit, setting in sorted(
        capacity(costs, segments), key=lambda r: -r[1] / r[2]
    ):
        out.append(f"| {name} | {demand:,.1f} | {limit:,.1f} | {demand / limit:,.1f} | {setting} |")
    rows, tx_ms = hot_counter(segments, bench)
    out += [
        "",
        "Hot key: every event's transaction adds to its merchant's weekly counter item "
        f"(`STATS#{{mid}}#{{week}}`). Busiest hour of the peak day, one merchant, transaction "
        f"time {tx_ms:.1f} ms (benchmark mean):",
        "",
        "| orders a month | transactions/s on the item | chance a transaction overlaps another |",
        "|---:|---:|---:|",
    ]
    for orders, writes_s, conflict in rows:
        out.append(f"| {orders:,} | {writes_s:.2f} | {conflict:.1%} |")
    out += ["", "Assumptions (`ASSUMPTIONS` in `scripts/cost_model.py`):", ""]
    out += [f"- `{name}` = {value:g}: {why}" for name, (value, why) in ASSUMPTIONS.items()]
    return "\n".join(out) + "\n"


BEGIN, END = "<!-- cost-model:begin -->", "<!-- cost-model:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--update-doc", action="store_true", help=f"rewrite the tables in {DOC}")
    args = parser.parse_args(argv)
    text = report(load_bench(args.bench))
    if not args.update_doc:
        print(text, end="")
        return 0
    doc = DOC.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:start] + "\n" + text + doc[end:])
    print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
