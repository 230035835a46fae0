"""The cost model turns benchmark figures into monthly costs and a capacity table; it runs on a
minimal benchmark document (the shape `python -m bench` writes) and on the real one if present."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("cost_model", ROOT / "scripts" / "cost_model.py")
assert spec and spec.loader
cost_model = sys.modules["cost_model"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cost_model)


def _row(event: str, rcu: float, wcu: float, implemented: bool = True) -> dict:
    return {
        "event": event,
        "read_capacity": rcu,
        "write_capacity": wcu,
        "implemented": implemented,
    }


def _latency(event: str, mean: float) -> dict:
    return {"event": event, "samples": 10, "app_ms": {"mean": mean}}


BENCH = {
    "timestamp": "2026-01-01T00:00:00+00:00",
    "size": "tiny",
    "machine": {"cpu": "test"},
    "round_trips": {
        "rows": [
            _row("order created", 1, 12),
            _row("fulfillment (shipment created, SMS queued)", 2, 24),
            _row("tracking update (status advances)", 2, 12),
            _row("tracking update (out for delivery, SMS queued)", 2, 40),
            _row("tracking update (carrier exception, case opened)", 2, 40),
            _row("duplicate delivery (same tracking update again)", 3, 0),
            _row("return requested", 3, 56),
            _row("warehouse receipt", 1, 0, implemented=False),
            _row("SMS reply", 5.5, 12),
            _row("outbox send, per message (sent)", 2, 33),
        ]
    },
    "latency": {
        "rows": [_latency("order_created", 20), _latency("tracking_update", 15)],
        "overall": {"app_ms": {"mean": 18}},
        "app_calls_ms": {"TransactWriteItems": {"mean": 10}},
    },
    "scheduled": {
        "outbox_due_query": [{"read_capacity": 100, "items_returned": 100}],
        "weekly_digest": {"idle_run": {"ms": 120}},
    },
    "cold_start": {"imports": {"app": {"import_ms": 450}}},
}


def test_costs_grow_with_orders_and_sms_dominates():
    text = cost_model.report(BENCH)
    totals = [line for line in text.splitlines() if line.startswith("| **total**")]
    values = [float(cell.strip(" *").replace(",", "")) for cell in totals[0].split("|")[2:-1]]
    assert values == sorted(values) and values[0] > 0
    assert "warehouse receipt (not measured: stand-in)" in text
    assert "| outbox stream consumer + sweep (messages/s) |" in text


def test_the_outbox_limit_counts_the_stream_consumer_and_the_sweep():
    """Stream shards x parallelization x (1000 / ms per message) + the sweep's batch a second."""
    costs = cost_model.event_costs(BENCH)
    template = json.loads(cost_model.TEMPLATE.read_text())
    [(name, _, limit, setting)] = [
        row for row in cost_model.capacity(costs, cost_model.sms_segments()) if "outbox" in row[0]
    ]
    per_message = costs["sms sent"].app_ms + cost_model.a("sms_sender_ms")
    streams = cost_model.a("stream_shards") * cost_model.stream_parallelization(template)
    batch, runs_s = cost_model.outbox_limits()
    assert limit == streams * 1000 / per_message + batch * runs_s
    assert "OutboxStreamParallelization" in setting


def test_segments_come_from_the_templates():
    segments = cost_model.sms_segments()
    assert set(segments) >= {"shipment_in_transit", "shipment_delivered"}
    assert all(1 <= n <= 4 for n in segments.values())


def test_the_doc_has_the_generated_section():
    doc = (ROOT / "docs" / "cost.md").read_text()
    assert cost_model.BEGIN in doc and cost_model.END in doc
    assert doc.index(cost_model.BEGIN) < doc.index(cost_model.END)


@pytest.mark.skipif(not cost_model.BENCH.exists(), reason="no benchmark results yet")
def test_the_real_benchmark_results_still_fit_the_model():
    assert "| **total** |" in cost_model.report(json.loads(cost_model.BENCH.read_text()))
