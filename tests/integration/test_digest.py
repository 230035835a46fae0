"""The weekly digest end to end on DynamoDB Local and moto's SES: enrolled with the merchant,
sent once at the merchant's local Monday 08:00, retried or parked visibly, and read at a
constant cost (the items it reads do not grow with the merchant's cases)."""

from __future__ import annotations

import email
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support import utc

CREATED = utc(2026, 11, 18, 15)  # a Wednesday in 2026-W47
DUE = utc(2026, 11, 23, 13)  # Monday 08:00 in New York (EST) closes 2026-W47


def _recipient(merchant: Any) -> str:
    return f"ops@{merchant.merchant_id}.example"


def _merchant(app_deps, *, timezone: str = "America/New_York", **settings: Any):
    """A merchant created in 2026-W47 whose digest goes to its own address (tests share the
    table and the job sees every merchant due, so each test checks only its own)."""
    from chalicelib.handlers.merchants import create_merchant

    merchant_id = f"shp-digest-{uuid.uuid4().hex[:10]}"
    settings.setdefault("digest_recipients", [f"ops@{merchant_id}.example"])
    api_key = create_merchant(
        app_deps.store,
        merchant_id,
        "Digest Shop",
        CREATED,
        timezone=timezone,
        settings=settings,
    )
    return app_deps.store.merchant(merchant_id), api_key


def _count(app_deps, merchant_id: str, at: datetime, **counters: int) -> None:
    uow = app_deps.store.unit_of_work()
    for name, amount in counters.items():
        uow.count(merchant_id, at, name.replace("__", ":"), amount)
    uow.commit()


def _schedule(app_deps, merchant_id: str):
    from chalicelib.store import keys
    from chalicelib.store.models import DigestScheduleItem

    return app_deps.store.get(DigestScheduleItem, keys.digest_schedule(merchant_id))


def _digests(app_deps, merchant_id: str) -> list[Any]:
    page = app_deps.store.list_notifications(merchant_id, 100, None)
    return [item for item in page.items if item.kind == "weekly_digest"]


def _ses_messages(to: str) -> list[Any]:
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [m for m in backend.sent_messages if to in json.dumps(m.destinations)]


@pytest.fixture()
def ses(app_deps) -> None:
    import boto3

    client = boto3.client(
        "sesv2", endpoint_url=app_deps.settings.aws_endpoint, region_name=app_deps.settings.region
    )
    client.create_email_identity(EmailIdentity="aftercare.example")


@contextmanager
def items_read(app_deps) -> Iterator[list[tuple[str, str]]]:
    """(operation, pk) of every item DynamoDB returns while the block runs."""
    seen: list[tuple[str, str]] = []

    def record(parsed: dict, model: Any, **_: Any) -> None:
        name = model.name
        items = list(parsed.get("Items", []))
        items += [parsed["Item"]] if "Item" in parsed else []
        for table_items in (parsed.get("Responses") or {}).values():
            items += table_items if isinstance(table_items, list) else []
        seen.extend((name, item["pk"]["S"]) for item in items)

    events = app_deps.store.connection.client.meta.events
    events.register("after-call.dynamodb", record, unique_id="digest-items-read")
    try:
        yield seen
    finally:
        events.unregister("after-call.dynamodb", unique_id="digest-items-read")


def test_a_new_merchant_is_enrolled_for_its_local_monday_morning(app_deps):
    merchant, _ = _merchant(app_deps)
    schedule = _schedule(app_deps, merchant.merchant_id)
    assert (schedule.week, schedule.due_at) == ("2026-W47", DUE)
    assert schedule.due_pk.startswith("DUE#DIGEST#")


def test_the_digest_goes_out_once_at_monday_eight_with_charts_inline(app_deps, ses):
    from chalicelib.digest.job import run_weekly_digests

    merchant, _ = _merchant(app_deps)
    mid = merchant.merchant_id
    _count(app_deps, mid, CREATED, returns_requested=4, returns_auto_approved=3,
           cases__complaint=2, reason__wrong_size=3, sku__MUG=2)  # fmt: skip
    _count(app_deps, mid, CREATED - timedelta(days=7), returns_requested=2, cases__complaint=1)

    run_weekly_digests(app_deps, DUE - timedelta(minutes=1))
    assert _digests(app_deps, mid) == [] and _ses_messages(_recipient(merchant)) == []

    run_weekly_digests(app_deps, DUE)
    run_weekly_digests(app_deps, DUE + timedelta(minutes=15))
    run_weekly_digests(app_deps, DUE + timedelta(hours=5))

    [item] = _digests(app_deps, mid)
    assert (item.status, item.channel, item.context["week"]) == ("sent", "email", "2026-W47")
    assert item.due_pk is None and item.attempts == 1
    [sent] = _ses_messages(_recipient(merchant))
    assert sent.id == item.provider_message_id
    message = email.message_from_string(sent.raw_data)
    assert message["Subject"] == "Digest Shop: after-sales week 2026-W47"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    html_text = html.get_payload(decode=True).decode()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert images and all(f"cid:{p['Content-ID'].strip('<>')}" in html_text for p in images)
    assert all(p.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n") for p in images)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert (
        "- Returns auto-approved: 75.0% / 0.0% / +75.0 pp" in text.get_payload(decode=True).decode()
    )
    table = next(p for p in message.walk() if p.get_content_type() == "text/csv")
    assert table.get_filename() == "aftercare-digest-2026-W47.csv"

    schedule = _schedule(app_deps, mid)
    assert (schedule.week, schedule.last_week) == ("2026-W48", "2026-W47")
    assert schedule.due_at == utc(2026, 11, 30, 13)


def test_two_runs_claiming_the_same_week_send_one_digest(app_deps):
    from chalicelib.digest.schedule import claim, set_due

    merchant, _ = _merchant(app_deps, digest_recipients=[])
    first, second = (_schedule(app_deps, merchant.merchant_id) for _ in range(2))

    assert claim(app_deps.store, first, merchant, DUE) is not None
    assert claim(app_deps.store, second, merchant, DUE) is None  # lost the version race

    # Even a schedule put back by hand cannot insert the week's e-mail a second time.
    again = _schedule(app_deps, merchant.merchant_id)
    again.week = "2026-W47"
    set_due(again, DUE)
    assert claim(app_deps.store, again, merchant, DUE) is None
    assert len(_digests(app_deps, merchant.merchant_id)) == 1


def test_a_failed_send_is_retried_then_parked_visibly(app_deps, client):
    from chalicelib.digest.job import MAX_ATTEMPTS, deliver_digest, run_weekly_digests
    from chalicelib.errors import ProviderError

    merchant, api_key = _merchant(app_deps)
    attempts: list[str] = []

    def throttled(settings: Any, message: Any, owner: Any) -> str:
        if owner.merchant_id == merchant.merchant_id:
            attempts.append(message.subject)
        raise ProviderError("SES TooManyRequestsException: slow down", retryable=True)

    run_weekly_digests(app_deps, DUE, send=throttled)
    [item] = _digests(app_deps, merchant.merchant_id)
    assert (item.status, item.attempts) == ("pending", 1) and item.next_attempt_at > DUE
    assert "TooManyRequests" in item.last_error

    now = DUE
    for _ in range(MAX_ATTEMPTS - 1):
        now = item.next_attempt_at
        result = deliver_digest(app_deps, item, now, send=throttled)
        [item] = _digests(app_deps, merchant.merchant_id)
    assert result == "failed" and len(attempts) == MAX_ATTEMPTS and item.due_pk is None

    response = client.http.get("/api/notifications", headers={"Authorization": f"Bearer {api_key}"})
    [shown] = [n for n in json.loads(response.body)["items"] if n["kind"] == "weekly_digest"]
    assert shown["status"] == "failed" and shown["channel"] == "email"


def test_a_merchant_without_recipients_or_gone_inactive_gets_nothing(app_deps):
    from chalicelib.digest.job import run_weekly_digests
    from chalicelib.store.models import MerchantItem

    quiet, _ = _merchant(app_deps, digest_recipients=[])
    gone, _ = _merchant(app_deps)
    gone.status = "uninstalled"
    uow = app_deps.store.unit_of_work()
    uow.save("merchant", gone)
    uow.commit()

    run_weekly_digests(app_deps, DUE)

    [item] = _digests(app_deps, quiet.merchant_id)
    assert (item.status, item.last_error) == ("skipped", "no digest_recipients configured")
    assert _digests(app_deps, gone.merchant_id) == []
    assert _schedule(app_deps, gone.merchant_id).due_pk is None  # off the due index
    assert app_deps.store.get(MerchantItem, gone.pk).status == "uninstalled"


def _open_complaints(app_deps, merchant: Any, count: int) -> None:
    from chalicelib.handlers.cases import NewCase, create_case

    for index in range(count):
        new = NewCase("complaint", f"Broken mug {index}", "web", f"msg-{index}", skus=("MUG",))
        create_case(app_deps.store, merchant, new, CREATED)


def test_the_items_a_digest_reads_do_not_grow_with_cases(app_deps):
    from chalicelib.digest.job import deliver_digest, run_weekly_digests

    few, _ = _merchant(app_deps)
    many, _ = _merchant(app_deps)
    _open_complaints(app_deps, few, 2)
    _open_complaints(app_deps, many, 40)

    def ok(settings: Any, message: Any, owner: Any) -> str:
        return f"fake-{owner.merchant_id}"

    with items_read(app_deps) as run_reads:
        run_weekly_digests(app_deps, DUE, send=lambda *a: "unused", budget_seconds=0)
    assert not [pk for _, pk in run_reads if pk.startswith(("CASE#", "CUSTOMER#", "ORDER#"))]
    assert {op for op, _ in run_reads} <= {"Query", "BatchGetItem", "GetItem"}

    reads = {}
    for merchant in (few, many):  # deliver each alone, counting what it reads
        [item] = _digests(app_deps, merchant.merchant_id)
        with items_read(app_deps) as seen:
            assert deliver_digest(app_deps, item, DUE, send=ok) == "sent"
        reads[merchant.merchant_id] = sorted(pk.split("#", 1)[0] for _, pk in seen)
    # merchant + this week's and last week's counters, 2 complaints or 40
    assert reads[few.merchant_id] == reads[many.merchant_id] == ["MERCHANT", "STATS"]


def test_the_scheduled_function_sends_through_the_app(client, app_deps, ses):
    merchant, _ = _merchant(app_deps)
    tick = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])

    result = client.lambda_.invoke("send_weekly_digests", tick)  # at FIXED_NOW, Monday 15:00

    assert result.payload.get("claimed", 0) >= 1, result.payload
    [item] = _digests(app_deps, merchant.merchant_id)
    assert item.status == "sent" and len(_ses_messages(_recipient(merchant))) == 1


def test_the_preview_command_renders_a_stored_merchants_week(app_deps, tmp_path):
    from scripts.preview_digest import main

    merchant, _ = _merchant(app_deps)
    _count(app_deps, merchant.merchant_id, CREATED, returns_requested=5, reason__damaged=2)

    page = main(["--merchant", merchant.merchant_id, "--week", "2026-W47", "--out", str(tmp_path)])

    html = page.read_text(encoding="utf-8")
    assert page.parent.name == f"{merchant.merchant_id}-2026-W47" and "cid:" not in html
    assert "Digest Shop" in html and (page.parent / "return_reasons.png").exists()
    assert _digests(app_deps, merchant.merchant_id) == []  # a preview sends nothing
