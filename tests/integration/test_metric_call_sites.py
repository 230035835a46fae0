"""Business metrics emitted where the events happen, over HTTP against DynamoDB Local: the
autopilot's return decision, the refund latency when a refund is issued, and the outbox backlog
(oldest due item's age) on every sender run, which the outbox-age alarm reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.test_marketplace_outbound import (
    queue,
    refund_request,
    setup_refund,
)
from tests.integration.test_returns import delivered_order, request_return
from tests.unit.test_metrics import emf, metric_values

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


@pytest.fixture()
def emitted(app_deps, monkeypatch):
    """The app's metrics writer swapped for one collecting EMF documents (parsed, checked)."""
    from chalicelib.metrics import Metrics

    lines: list[str] = []
    writer = Metrics("test-stack", clock=lambda: FIXED_NOW, sink=lines.append)
    monkeypatch.setattr(app_deps, "_metrics", writer)

    def read(name: str) -> list[dict[str, Any]]:
        documents = [emf(line) for line in lines]
        return [doc for doc in documents if name in doc]

    return read


def test_an_autopilot_return_decision_is_counted_by_decision(client, merchant, emitted):
    delivered_order(client, merchant, days_ago=2)

    answer = request_return(client, merchant)
    request_return(client, merchant)  # the same return in a new delivery: decided once

    assert answer["events"][0]["outcome"] == "applied"
    [decision] = emitted("AutoApprovalDecisions")
    assert decision["Decision"] == "approved"
    assert decision["merchant_id"] == merchant.merchant_id
    assert metric_values(decision) == {"AutoApprovalDecisions": 1}


def test_a_return_sent_to_review_is_counted_as_needs_review(client, merchant, emitted):
    delivered_order(client, merchant, days_ago=2, total="6000.00")

    request_return(client, merchant)

    assert [d["Decision"] for d in emitted("AutoApprovalDecisions")] == ["needs_review"]


def test_an_issued_refund_reports_its_latency_from_the_warehouse_receipt(
    fresh, client, app_deps, emitted
):
    from chalicelib.notify.sender import deliver_due

    merchant = setup_refund(client, fresh)
    received = FIXED_NOW - timedelta(hours=3)
    context = {**refund_request(), "received_at": keys.iso(received)}
    queue(app_deps, merchant.merchant_id, "refund", context)

    deliver_due(app_deps, FIXED_NOW, limit=500)

    [latency] = [d for d in emitted("RefundLatency") if d["merchant_id"] == merchant.merchant_id]
    assert metric_values(latency) == {"RefundLatency": 3 * 3600}
    unit = latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"]
    assert unit == "Seconds"


def test_refund_latency_falls_back_to_when_the_refund_was_queued():
    from chalicelib.notify.marketplace_sender import refund_latency
    from chalicelib.store.records import new_outbox

    queued = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    item = new_outbox(
        "m1", cause="c", kind="refund", now=queued, customer_id=None, context={"order_id": "1"}
    )
    assert refund_latency(item, queued + timedelta(minutes=5)) == 300
    item.context = {"received_at": "not a date"}
    assert refund_latency(item, queued + timedelta(minutes=5)) == 300
    item.context = {"received_at": "2026-11-23T13:00:00Z"}
    assert refund_latency(item, queued + timedelta(minutes=5)) == 3900


def test_every_sender_run_reports_the_oldest_due_items_age(fresh, client, app_deps, emitted):
    from chalicelib.notify.sender import deliver_due

    merchant = setup_refund(client, fresh)
    queue(app_deps, merchant.merchant_id, "refund", refund_request())  # due at FIXED_NOW

    deliver_due(app_deps, FIXED_NOW + timedelta(minutes=20), limit=500)

    [run] = emitted("OutboxOldestDueAge")
    assert metric_values(run)["OutboxOldestDueAge"] >= 20 * 60
    assert metric_values(run)["OutboxDue"] >= 1
    assert run["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stack"]]


def test_an_idle_sender_run_reports_age_zero():
    from chalicelib.metrics import Metrics

    lines: list[str] = []
    Metrics("s", clock=lambda: FIXED_NOW, sink=lines.append).outbox_backlog(-3.0, 0)

    assert metric_values(emf(lines[0])) == {"OutboxOldestDueAge": 0, "OutboxDue": 0}
