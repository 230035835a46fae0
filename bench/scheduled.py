"""Figure 4: what a scheduled job reads when many items are stored and few are due.

The table is loaded directly (BatchWriteItem, four threads) with items built by the store's
own constructors: sent notifications (no due keys), order timeline entries and orders, 1 % of
notifications deferred to tomorrow (in the due index, not due yet), and `due` notifications
due now. Then the outbox sender's due query (`Store.due_outbox`) runs under the call hook,
once with a limit above the number due and once with the sender's own limit. The weekly
digest job (once app.py schedules it) is run idle over all of that, then for one merchant with
N cases and one with 10 N (its reads must stay constant). The SLA escalation job
(`chalicelib/sla_job.py`, hook `_sla_escalation`) is measured once that module exists: due
cases among many more on its index, items read per item due.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from bench.calls import summarize
from bench.harness import TABLE, Harness

__all__ = ["load", "run"]

BATCH = 25
MERCHANT = "bench-scheduled"


def _items(count: int, due: int, harness: Harness) -> tuple[list[dict[str, Any]], list[str]]:
    """Serialized items: `count` stored without due keys (1 % deferred) and `due` due now."""
    from chalicelib.store import keys
    from chalicelib.store.records import (
        clear_outbox_due,
        new_order,
        new_outbox,
        new_timeline_entry,
        set_outbox_due,
    )

    now = harness.now()
    items: list[dict[str, Any]] = []
    due_pks: list[str] = []
    context = {"order_number": "#1001", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
    for n in range(count):
        kind = n % 10
        created = now - timedelta(days=30, minutes=n)
        if kind < 5:
            item = new_outbox(
                MERCHANT,
                cause=f"stored-{n}",
                kind="shipment_in_transit",
                now=created,
                customer_id=f"c{n % 5000}",
                context=context,
                order_id=f"o{n}",
            )
            if n % 100 == 1:  # deferred by quiet hours: in the due index, due tomorrow
                set_outbox_due(item, now + timedelta(days=1))
            else:
                item.status = "sent"
                clear_outbox_due(item)
        elif kind < 8:
            item = new_timeline_entry(
                MERCHANT,
                keys.order(MERCHANT, f"o{n}"),
                cause=f"stored-{n}",
                at=created,
                now=created,
                kind="shipment_update",
                source="easypost",
                summary="UPS 1Z999AA10123456784: in transit at Louisville, KY",
                customer_id=f"c{n % 5000}",
                order_id=f"o{n}",
            )
        else:
            item = new_order(
                MERCHANT,
                f"o{n}",
                order_number=f"#{n}",
                total="49.99",
                currency="USD",
                placed_at=created,
                source_updated_at=created,
            )
        items.append(item.serialize())
    for n in range(due):
        item = new_outbox(
            MERCHANT,
            cause=f"due-{n}",
            kind="shipment_out_for_delivery",
            now=now - timedelta(minutes=1 + n % 30),
            customer_id=f"c{n}",
            context=context,
            order_id=f"d{n}",
        )
        items.append(item.serialize())
        due_pks.append(item.pk)
    return items, due_pks


def _write(client: Any, batch: list[dict[str, Any]]) -> None:
    pending = [{"PutRequest": {"Item": item}} for item in batch]
    while pending:
        answer = client.batch_write_item(RequestItems={TABLE: pending})
        pending = answer.get("UnprocessedItems", {}).get(TABLE, [])


def load(harness: Harness, stored: int, due: int) -> tuple[float, list[str]]:
    """Write the items; returns seconds taken and the keys of the due ones."""
    import time

    items, due_pks = _items(stored, due, harness)
    client = harness.raw_client()
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda batch: _write(client, batch), batches))
    return time.perf_counter() - started, due_pks


def _remove(harness: Harness, pks: list[str]) -> None:
    client = harness.raw_client()
    for start in range(0, len(pks), BATCH):
        requests = [
            {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": "META"}}}}
            for pk in pks[start : start + BATCH]
        ]
        client.batch_write_item(RequestItems={TABLE: requests})


def _due_query(harness: Harness, limit: int, due: int) -> dict[str, Any]:
    now = harness.now()
    found, seconds, calls = harness.measure(lambda: harness.deps.store.due_outbox(now, limit))
    summary = summarize(calls)
    index_entries = sum(c.items_read for c in calls if c.operation == "Query")
    table_items = sum(c.items_read for c in calls if c.operation == "BatchGetItem")
    returned = len(found)
    return {
        "limit": limit,
        "items_due": due,
        "items_returned": returned,
        "index_entries_read": index_entries,
        "table_items_read": table_items,
        "items_read_per_item_returned": round(table_items / returned, 2) if returned else None,
        "index_and_table_reads_per_item_returned": round(
            (index_entries + table_items) / returned, 2
        )
        if returned
        else None,
        "read_capacity": summary["read_capacity"],
        "round_trips": summary["read_rounds"],
        "calls": summary["shape"],
        "calls_ms": [round(c.seconds * 1000, 1) for c in calls],
        "ms": round(seconds * 1000, 1),
    }


def _fake_send(settings: Any, email: Any, merchant: Any) -> str:
    return "bench-fake-message-id"


def _digest_run(harness: Harness) -> dict[str, Any]:
    from chalicelib.digest.job import run_weekly_digests

    now = harness.now()
    results, seconds, calls = harness.measure(
        lambda: run_weekly_digests(harness.deps, now, budget_seconds=30, send=_fake_send)
    )
    summary = summarize(calls)
    return {
        "results": results,
        "items_read": summary["items_read"],
        "items_written": summary["items_written"],
        "read_capacity": summary["read_capacity"],
        "round_trips": summary["read_rounds"] + summary["write_rounds"],
        "calls": summary["shape"],
        "ms": round(seconds * 1000, 1),
    }


def _digest(harness: Harness, cases: int) -> dict[str, Any]:
    """The weekly digest job: an idle run, then one digest each for merchants with `cases`
    and 10 x `cases` cases (their cases written directly, the digest made due now)."""
    from chalicelib.digest import schedule
    from chalicelib.store.records import new_case
    from chalicelib.store.unit_of_work import UnitOfWork
    from tests.data.generator import Merchant

    store = harness.deps.store
    out: dict[str, Any] = {"idle_run": _digest_run(harness), "per_digest": []}
    client = harness.raw_client()
    for count in (cases, cases * 10):
        mid = f"bench-digest-{count}"
        merchant = Merchant(
            mid, f"Digest {count}", f"{mid}.myshopify.com", "UTC", "en", "USD", "US"
        )
        harness.add_merchant(merchant, settings={"support_email": "ops@example.com"})
        now = harness.now()
        items = [
            new_case(mid, f"C{n:06d}", "return", "open", now - timedelta(hours=n % 150)).serialize()
            for n in range(count)
        ]
        for start in range(0, len(items), BATCH):
            _write(client, items[start : start + BATCH])
        item = schedule.enroll(store, store.merchant(mid), now)
        item.due_at = now - timedelta(minutes=1)
        schedule.set_due(item, item.due_at)
        uow: UnitOfWork = store.unit_of_work()
        uow.save("digest_schedule", item)
        uow.commit()
        out["per_digest"].append({"cases": count, **_digest_run(harness)})
    reads = [run["items_read"] for run in out["per_digest"]]
    out["constant"] = len(set(reads)) == 1
    return out


SLA_MERCHANT = "bench-sla"


def sla_job_available() -> bool:
    """Whether the SLA escalation job (`chalicelib/sla_job.py`, issue 7) exists yet."""
    import importlib.util

    return importlib.util.find_spec("chalicelib.sla_job") is not None


def _sla_cases(harness: Harness, not_due: int, due: int) -> list[dict[str, Any]]:
    """Open cases of SLA_MERCHANT on the SLA due index: `due` opened two days ago (their
    first-response check is past) and `not_due` opened now (checks ahead), serialized."""
    from chalicelib.handlers.sla_schedule import schedule_case
    from chalicelib.store import keys
    from chalicelib.store.records import new_case

    merchant = harness.deps.store.merchant(SLA_MERCHANT)
    now = harness.now()
    items = []
    for n in range(not_due + due):
        opened = now - timedelta(days=2, minutes=n) if n < due else now - timedelta(minutes=1)
        case = new_case(SLA_MERCHANT, f"S{n:06d}", "shipping_exception", "open", opened)
        schedule_case(case, merchant, opened)
        if n < due:  # whatever its calendar says, its check is due now
            case.due_pk = keys.due_partition(keys.SLA_DUE, case.pk)
            case.due_sk = keys.due_sort(now - timedelta(minutes=1), case.pk)
        elif case.due_sk is not None and case.due_sk <= keys.iso(now) + "~":
            case.due_sk = keys.due_sort(now + timedelta(hours=1), case.pk)
        items.append(case.serialize())
    return items


def _sla_escalation(harness: Harness, not_due: int, due: int) -> dict[str, Any]:
    """The SLA escalation job with `due` cases due among `not_due` more on its index and the
    rest of the stored data: what finding the due cases reads (`Store.due_cases`, target
    items read / items due <= 1.1), then the whole run (`sla_job.escalate_due`)."""
    from chalicelib.sla_job import escalate_due
    from tests.data.generator import Merchant

    merchant = Merchant(
        SLA_MERCHANT, "SLA bench", f"{SLA_MERCHANT}.myshopify.com", "UTC", "en", "USD", "US"
    )
    harness.add_merchant(merchant, settings={"support_email": "ops@example.com"})
    items = _sla_cases(harness, not_due, due)
    client = harness.raw_client()
    for start in range(0, len(items), BATCH):
        _write(client, items[start : start + BATCH])
    now = harness.now()
    limit = max(due * 2, 200)
    found, seconds, calls = harness.measure(lambda: harness.deps.store.due_cases(now, limit))
    find = summarize(calls)
    table_items = sum(c.items_read for c in calls if c.operation == "BatchGetItem")
    index_entries = sum(c.items_read for c in calls if c.operation == "Query")
    results, run_seconds, run_calls = harness.measure(
        lambda: escalate_due(harness.deps, now, limit)
    )
    run = summarize(run_calls)
    queued = [
        item.pk
        for item in harness.deps.store.due_outbox(now + timedelta(days=30), 10_000)
        if item.merchant_id == SLA_MERCHANT
    ]
    _remove(harness, queued)  # its e-mails must not reach later figures' senders
    return {
        "cases_on_index": not_due + due,
        "items_due": due,
        "due_query": {
            "items_returned": len(found),
            "index_entries_read": index_entries,
            "table_items_read": table_items,
            "items_read_per_item_due": round(table_items / due, 2) if due else None,
            "read_capacity": find["read_capacity"],
            "round_trips": find["read_rounds"],
            "calls": find["shape"],
            "ms": round(seconds * 1000, 1),
        },
        "run": {
            "results": results,
            "items_read": run["items_read"],
            "items_read_per_item_due": round(run["items_read"] / due, 2) if due else None,
            "items_written": run["items_written"],
            "read_capacity": run["read_capacity"],
            "round_trips": run["read_rounds"] + run["write_rounds"],
            "emails_queued_then_removed": len(queued),
            "ms": round(run_seconds * 1000, 1),
        },
    }


def _other_jobs() -> dict[str, str]:
    """Whether the other scheduled jobs exist yet (a schedule in app.py named for them)."""
    import app as app_module

    names = {source.name for source in getattr(app_module.app, "event_sources", [])}
    found = {}
    for job, words in (("SLA escalation", ("sla", "escalat")), ("weekly digest", ("digest",))):
        hits = sorted(n for n in names if any(w in n.lower() for w in words))
        found[job] = (
            f"schedule {', '.join(hits)} exists" if hits else "not implemented yet (no schedule)"
        )
    return found


def run(
    harness: Harness, stored: int, due: int, sender_limit: int, digest_cases: int
) -> dict[str, Any]:
    """Load, query, clean up the due items (so later figures' senders do not see them)."""
    seconds, due_pks = load(harness, stored, due)
    results = {
        "stored_items": stored,
        "deferred_items_in_index": sum(1 for n in range(stored) if n % 10 < 5 and n % 100 == 1),
        "items_due": due,
        "load_seconds": round(seconds, 1),
        "outbox_due_query": [
            _due_query(harness, max(due * 2, 100), due),
            _due_query(harness, sender_limit, due),
        ],
        "other_jobs": _other_jobs(),
    }
    if sla_job_available():  # issue 7's job: measured once chalicelib/sla_job.py exists
        try:
            results["sla_escalation"] = _sla_escalation(harness, max(stored // 100, 10), due)
            results["other_jobs"]["SLA escalation"] = "measured"
        except Exception as exc:  # in progress elsewhere: report, do not stop the run
            results["other_jobs"]["SLA escalation"] = f"measure failed: {exc!r}"
    elif "not implemented" not in results["other_jobs"]["SLA escalation"]:
        results["other_jobs"]["SLA escalation"] += ": no chalicelib/sla_job.py to measure"
    if "not implemented" not in results["other_jobs"]["weekly digest"]:
        try:
            results["weekly_digest"] = _digest(harness, digest_cases)
            results["other_jobs"]["weekly digest"] = "measured"
        except Exception as exc:  # in progress elsewhere: report, do not stop the run
            results["other_jobs"]["weekly digest"] = f"measure failed: {exc!r}"
    _remove(harness, due_pks)
    return results
