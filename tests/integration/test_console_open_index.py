"""The console queue reads only open cases (D2): a sparse per-merchant open-cases index (gsi2
`OPENCASES#{mid}`) kept by `schedule_case` on every case write, so settled cases cost nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import FIXED_NOW

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@contextmanager
def items_read(app_deps) -> Iterator[list[str]]:
    """The pk of every item DynamoDB returns (and the count it scanned) while the block runs."""
    seen: list[str] = []

    def record(parsed: dict, model: Any, **_: Any) -> None:
        if model.name == "Query":
            seen.extend(item["pk"]["S"] for item in parsed.get("Items", []))
            scanned = int(parsed.get("ScannedCount", 0)) - len(parsed.get("Items", []))
            seen.extend(["<filtered out>"] * scanned)

    events = app_deps.store.connection.client.meta.events
    events.register("after-call.dynamodb", record, unique_id="open-index-read")
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb", unique_id="open-index-read")


def _session(client, key: str) -> tuple[str, str]:
    response = client.http.post("/console/login", headers=FORM, body=urlencode({"key": key}))
    headers = {name.lower(): value for name, value in response.headers.items()}
    cookie = headers["set-cookie"].split(";", 1)[0]
    page = client.http.get("/console", headers={"Cookie": cookie}).body.decode()
    return cookie, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture()
def many_cases(app_deps, merchant):
    """200 settled and 10 open cases of `merchant`, each written through `schedule_case`."""
    from chalicelib.handlers.sla_schedule import clear_due, schedule_case
    from chalicelib.store.models import CaseItem
    from chalicelib.store.records import new_case

    stored = app_deps.store.merchant(merchant.merchant_id)
    cases = []
    for n in range(210):
        status = "resolved" if n < 200 else "new"
        opened = FIXED_NOW - timedelta(hours=n % 48, minutes=n)
        case = new_case(
            merchant.merchant_id, f"OI-{n:04d}", "inquiry", status, opened, subject=f"case {n}"
        )
        schedule_case(case, stored, FIXED_NOW)
        clear_due(case)  # keep the shared table's SLA due index clean for other tests
        cases.append(case)
    with CaseItem.batch_write() as batch:
        for case in cases:
            batch.save(case)
    yield cases
    with CaseItem.batch_write() as batch:
        for case in cases:
            batch.delete(case)


def test_the_queue_reads_only_the_open_cases(client, app_deps, merchant, many_cases):
    cookie, _ = _session(client, merchant.api_key)
    with items_read(app_deps) as seen:
        queue = client.http.get("/console/api/queue", headers={"Cookie": cookie}).json_body
    assert queue["total"] == 10
    assert len(seen) == 10 and "<filtered out>" not in seen
    assert {row["id"] for row in queue["items"]} == {f"OI-{n:04d}" for n in range(200, 210)}
    dues = [row["due_at"] for row in queue["items"]]
    assert dues == sorted(dues)


def test_resolving_a_case_takes_it_off_the_queue_index(client, app_deps, merchant, many_cases):
    from chalicelib.store import keys
    from chalicelib.store.models import CaseItem

    cookie, csrf = _session(client, merchant.api_key)
    response = client.http.post(
        "/console/cases/OI-0205/resolve",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"resolution": "answered by phone", "csrf": csrf}),
    )
    assert response.status_code in (200, 303), response.body
    stored = app_deps.store.get(CaseItem, keys.case(merchant.merchant_id, "OI-0205"))
    assert stored.status == "resolved" and stored.gsi2pk is None and stored.gsi2sk is None
    with items_read(app_deps) as seen:
        queue = client.http.get("/console/api/queue", headers={"Cookie": cookie}).json_body
    assert queue["total"] == 9 and len(seen) == 9
    assert "OI-0205" not in {row["id"] for row in queue["items"]}


def test_an_open_case_is_indexed_at_its_queue_due_time(app_deps, merchant):
    from chalicelib.handlers.sla_schedule import place_in_queue
    from chalicelib.store.records import new_case

    case = new_case(merchant.merchant_id, "OI-X", "inquiry", "new", FIXED_NOW, priority="urgent")
    place_in_queue(case)
    assert case.gsi2pk == f"OPENCASES#{merchant.merchant_id}"
    assert case.gsi2sk == "2026-11-23T19:00:00.000000Z#OI-X"  # no SLA target: opened + 4 h (urgent)
    case.status = "closed"
    place_in_queue(case)
    assert case.gsi2pk is None and case.gsi2sk is None


def test_the_backfill_places_open_cases_written_before_the_index(client, app_deps, merchant):
    from chalicelib.store.models import CaseItem
    from chalicelib.store.records import new_case
    from devtools.backfill_open_cases import backfill_open_cases

    old = [
        new_case(merchant.merchant_id, f"BF-{n}", "inquiry", status, FIXED_NOW, subject="old")
        for n, status in enumerate(["new", "awaiting_customer", "new", "resolved"])
    ]
    with CaseItem.batch_write() as batch:
        for case in old:
            batch.save(case)  # no open-cases place: written before the index existed
    cookie, _ = _session(client, merchant.api_key)
    assert client.http.get("/console/api/queue", headers={"Cookie": cookie}).json_body["total"] == 0
    assert backfill_open_cases(merchant.merchant_id) == 3
    queue = client.http.get("/console/api/queue", headers={"Cookie": cookie}).json_body
    assert sorted(row["id"] for row in queue["items"]) == ["BF-0", "BF-1", "BF-2"]
    assert backfill_open_cases(merchant.merchant_id) == 0  # idempotent
