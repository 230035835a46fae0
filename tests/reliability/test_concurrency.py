"""Concurrency (issue 9): the same webhook delivered by 8 threads at once has one effect
(conditional writes in one transaction, not read-then-write), and two different changes to
the same case made at the same moment are both applied (version check, re-read, retry).

The threads call the framework-free core (`chalicelib.inbound`, `chalicelib.ops`) as 8
Lambda containers would, each request on its own thread, all released by one barrier.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import inbound, ops
from chalicelib.store import keys
from tests.integration.test_slice import ship_order, tracker_body
from tests.reliability.world import scan_items
from tests.signing import sign_easypost

THREADS = 8


def _race(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run `work(i)` on `threads` threads released together; results (or exceptions)."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    return results


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_one_webhook_from_eight_threads_has_one_effect(client, merchant, app_deps):
    tracking = f"1Z{uuid.uuid4().hex[:10].upper()}"
    ship_order(client, merchant, tracking=tracking, order_id=810000001)
    body = tracker_body(tracking, "out_for_delivery", "evt_race_1", "2026-11-23T14:00:00Z")
    headers = _lower(sign_easypost(body))

    results = _race(
        lambda _: inbound.receive_partner(
            app_deps, "carriers", "easypost", merchant.merchant_id, headers, body
        )
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = sorted(r["events"][0]["outcome"] for r in results)
    assert outcomes == ["applied"] + ["duplicate"] * (THREADS - 1)
    items = scan_items(app_deps.store, [merchant.merchant_id])
    messages = sorted(i["kind"] for i in items if i["pk"].startswith("OUTBOX#"))
    assert messages == sorted({*messages}) and len(messages) == 2  # shipped + out for delivery
    entries = [i for i in items if i["sk"].startswith("TL#") and i["kind"] == "shipment_update"]
    assert len(entries) == 1
    shipment = app_deps.store.collection(keys.shipment(merchant.merchant_id, tracking))[0]
    assert shipment.status == "out_for_delivery"


def _exception_case(client, merchant, app_deps) -> str:
    tracking = f"1Z{uuid.uuid4().hex[:10].upper()}"
    ship_order(client, merchant, tracking=tracking, order_id=810000002)
    body = tracker_body(tracking, "failure", "evt_race_fail", "2026-11-23T14:00:00Z")
    headers = {"Content-Type": "application/json", **sign_easypost(body)}
    path = f"/webhooks/carriers/easypost/{merchant.merchant_id}"
    assert client.http.post(path, headers=headers, body=body).status_code == 200
    listing = json.loads(client.http.get("/api/cases", headers=merchant.auth).body)
    return listing["items"][0]["id"]


def test_two_changes_to_one_case_at_once_are_both_applied(client, merchant, app_deps):
    case_id = _exception_case(client, merchant, app_deps)
    found = app_deps.store.merchant(merchant.merchant_id)
    changes = [
        ("assign", {"assignee": "alice"}),
        ("note", {"text": "Called the carrier, parcel is at the depot"}),
    ]

    def change(index: int) -> Any:
        action, body = changes[index]
        return ops.act(
            app_deps.store, found, case_id, action, json.dumps(body).encode(), app_deps.now()
        )

    for _ in range(3):  # a few rounds: the race must be won by both every time
        results = _race(change, threads=2)
        assert not [r for r in results if isinstance(r, Exception)], results
    case = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    assert case["assignee"] == "alice"
    notes = [e for e in case["timeline"] if e["kind"] == "note"]
    assert len(notes) == 3
