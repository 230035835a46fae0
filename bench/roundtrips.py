"""Figure 1: DynamoDB round trips, items and capacity of each webhook type, and of one SMS send.

Every sample is a fresh US order of a dedicated merchant, taken through its life: order
created, fulfillment, tracking updates (status advance, a message queued, a carrier
exception opening a case), the same delivery again (duplicate), a return request, the
warehouse receipt and an SMS reply. Each request's DynamoDB calls are recorded by the
botocore hook; the figures are the median over the samples (they should not vary). An event
type whose route or handler is missing is reported as "not implemented yet", not skipped.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bench import payloads
from bench.calls import Call, summarize
from bench.harness import Harness, Response
from tests.data.generator import (
    Dataset,
    Order,
    ReturnRequest,
    SmsReply,
    TrackingUpdate,
    WarehouseReceipt,
    complaint,
)

__all__ = ["EVENT_TYPES", "run", "status_of", "flags"]

EVENT_TYPES = (
    "order created",
    "fulfillment (shipment created, SMS queued)",
    "tracking update (status advances)",
    "tracking update (out for delivery, SMS queued)",
    "duplicate delivery (same tracking update again)",
    "tracking update (carrier exception, case opened)",
    "return requested",
    "warehouse receipt",
    "SMS reply",
)
_NUMERIC = (
    "read_rounds",
    "write_rounds",
    "transactional_writes",
    "items_read",
    "items_written",
    "condition_checks",
    "read_capacity",
    "write_capacity",
    "merchant_lookups",
)


def status_of(response: Response) -> str:
    """What the app did with a delivery, in a word the report shows.

    `applied`/`duplicate`/`stale`: handled. `not implemented yet`: no route (403/404 that is not
    an unknown merchant) or no handler for the event. Other statuses are shown as they are.
    """
    body = response.body if isinstance(response.body, dict) else {}
    if response.status in (403, 404) and body.get("error") != "unknown_merchant":
        return "not implemented yet (no route)"
    if response.status == 401:
        return f"refused 401 ({body.get('detail', '')}): bench signing out of date"
    if response.status != 200:
        return f"HTTP {response.status} {body.get('error', '')}: {body.get('detail', '')}"
    events = body.get("events") or []
    details = {str(e.get("detail", "")) for e in events}
    outcomes = {str(e.get("outcome")) for e in events}
    if outcomes <= {"ignored"} and any("no handler" in d for d in details):
        return "not implemented yet (no handler)"
    if not outcomes:
        return str(body.get("status", "accepted"))
    return "/".join(sorted(outcomes))


def flags(summary: dict[str, Any], calls: list[Call]) -> list[str]:
    """Where a request exceeds one read round plus one transactional write, and why."""
    found = []
    if summary["read_rounds"] > 1:
        reads = ", ".join(c.shape for c in calls if c.is_read)
        why = (
            "; the merchant GetItem (it holds the signing secret) is a round of its own"
            if summary["merchant_lookups"]
            else ""
        )
        found.append(f"{summary['read_rounds']} read rounds ({reads}){why}")
    if summary["write_rounds"] > 1:
        found.append(f"{summary['write_rounds']} write rounds")
    if summary["write_rounds"] and not summary["transactional_writes"]:
        found.append("writes outside a transaction")
    return found


def _samples(data: Dataset, count: int) -> list[Order]:
    """Orders of US customers with a phone (daytime for them at the bench clock), shipped."""
    shipped = {f.order.order_id for f in data.fulfillments}
    picked = [
        o
        for o in data.orders
        if o.customer.country == "US" and o.customer.phone and o.order_id in shipped
    ]
    if len(picked) < count:
        raise ValueError(f"dataset has {len(picked)} usable orders, {count} needed")
    return picked[:count]


def _lifecycle(data: Dataset, order: Order) -> list[tuple[str, payloads.Request]]:
    shipment = next(f for f in data.fulfillments if f.order is order)
    stream = data.tracking[shipment.tracking_number]
    first = stream[0]
    moving = replace(
        first,
        event_id=first.event_id + "-it",
        status="in_transit",
        status_detail="arrived_at_facility",
        message="Arrived at carrier facility",
        at=first.at + timedelta(hours=6),
    )
    out = replace(
        first,
        event_id=first.event_id + "-ofd",
        status="out_for_delivery",
        status_detail="out_for_delivery",
        message="Out for delivery",
        at=first.at + timedelta(hours=30),
    )
    failed = replace(
        first,
        event_id=first.event_id + "-fail",
        status="failure",
        status_detail="delivery_attempted",
        message="Delivery attempted, recipient not available",
        at=first.at + timedelta(hours=36),
    )
    history: tuple[TrackingUpdate, ...] = (first,)
    out_request = payloads.tracking_update(out, (*history, moving))
    rma = ReturnRequest(
        str(int(order.order_id) % 10**11 + 9 * 10**11),
        order,
        ((order.lines[0], 1, "size_too_small"),),
        complaint(random.Random(order.order_id), "size", order.customer.locale, order.order_number),
        failed.at + timedelta(days=3),
        "RC-" + order.order_id[-5:],
    )
    return [
        ("order created", payloads.order_created(order)),
        ("fulfillment (shipment created, SMS queued)", payloads.fulfillment(shipment)),
        ("tracking update (status advances)", payloads.tracking_update(moving, history)),
        ("tracking update (out for delivery, SMS queued)", out_request),
        ("duplicate delivery (same tracking update again)", out_request),
        (
            "tracking update (carrier exception, case opened)",
            payloads.tracking_update(failed, (*history, moving, out)),
        ),
        ("return requested", payloads.return_requested(rma)),
        (
            "warehouse receipt",
            payloads.warehouse_receipt(
                WarehouseReceipt(
                    rma, rma.requested_at + timedelta(days=4), "1ZRETURN" + order.order_id[-8:]
                )
            ),
        ),
        (
            "SMS reply",
            payloads.sms_reply(
                SmsReply(
                    f"SM{int(order.order_id):032x}", order.customer, "Where is my parcel?", out.at
                )
            ),
        ),
    ]


def _figures(label: str, status: str, runs: list[list[Call]]) -> dict[str, Any]:
    """Median (and max) of each count over the runs, and the most common call sequence."""
    summaries = [summarize(calls) for calls in runs]
    row: dict[str, Any] = {"event": label, "samples": len(runs), "status": status}
    for name in _NUMERIC:
        values = [s[name] for s in summaries]
        row[name] = statistics.median_low(values)
        row[name + "_max"] = max(values)
    shapes = [s["shape"] for s in summaries]
    row["calls"] = max(set(shapes), key=shapes.count)
    row["example"] = runs[shapes.index(row["calls"])]
    return row


def _row(label: str, responses: list[Response]) -> dict[str, Any]:
    statuses = sorted({status_of(r) for r in responses})
    row = _figures(label, ", ".join(statuses), [r.calls for r in responses])
    calls = row.pop("example")
    row["implemented"] = not any(s.startswith("not implemented") for s in statuses)
    worst = {name: row[name + "_max"] for name in _NUMERIC}
    row["flags"] = flags(worst, calls) if row["implemented"] else []
    row["target_met"] = row["implemented"] and not row["flags"]
    return row


def _send_rows(harness: Harness) -> list[dict[str, Any]]:
    """Cost of the outbox sender per queued message, by what happened to it."""
    from chalicelib.notify.sender import deliver_one

    now = harness.now()
    items, _, query_calls = harness.measure(lambda: harness.deps.store.due_outbox(now, 1000))
    by_result: dict[str, list[list[Call]]] = {}
    for item in items:
        result, _, calls = harness.measure(lambda item=item: deliver_one(harness.deps, item, now))
        by_result.setdefault(str(result), []).append(calls)
    rows = []
    for result, runs in sorted(by_result.items()):
        row = _figures(f"outbox send, per message ({result})", result, runs)
        row.pop("example")
        row.update(implemented=True, flags=[], target_met=None)  # the target is for webhooks
        rows.append(row)
    if rows:
        query = summarize(query_calls)
        rows[0]["due_query"] = {"shape": query["shape"], "items_read": query["items_read"]}
    return rows


def run(harness: Harness, data: Dataset, samples: int) -> dict[str, Any]:
    """Send every event type `samples` times; returns the rows of figure 1."""
    for merchant in data.merchants:
        harness.add_merchant(merchant)
    responses: dict[str, list[Response]] = {label: [] for label in EVENT_TYPES}
    for order in _samples(data, samples):
        for label, request in _lifecycle(data, order):
            responses[label].append(harness.send(request))
    rows = [_row(label, responses[label]) for label in EVENT_TYPES]
    try:
        rows += _send_rows(harness)
    except Exception as exc:  # the sender is being reworked: report, do not stop the run
        rows.append({"event": "outbox send", "status": f"failed: {exc!r}", "implemented": False})
    return {"samples": samples, "rows": rows}
