"""Fault injection (issue 9): DynamoDB throttling and transaction conflicts injected at the
botocore layer (`before-call.dynamodb` on the app's client), a provider that takes an SMS
while our record of it fails, and a sender that dies mid-batch.

The rules proven: a webhook either commits fully or answers an error the partner retries
(503 with Retry-After, never a 500, nothing written); its retry succeeds once; a sent SMS
is recorded even through throttling (so never sent twice); an outbox batch interrupted by a
crash resumes with every item sent exactly once.

SMS provider 429/5xx and marketplace 429/5xx/timeouts during refunds are proven in
tests/integration (test_messaging: `test_throttling_and_5xx_are_retried_and_still_send_once`;
test_marketplace_outbound: 429/5xx/timed-out/lost-answer refunds never issued twice).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.notify.sender import LEASE, deliver_one
from tests.conftest import FIXED_NOW as DAYTIME
from tests.integration import sms_helpers
from tests.integration.sms_helpers import configure, new_phone, place_order
from tests.integration.test_slice import post_easypost, ship_order, tracker_body
from tests.reliability.world import DynamoCalls, scan_items

stubs, providers = sms_helpers.stubs, sms_helpers.providers  # the module's fixtures
INJECTED: Counter[str] = Counter()  # faults injected, for the report


def _tracking() -> str:
    return f"1Z{uuid.uuid4().hex[:12].upper()}"


def _items(app_deps, merchant) -> dict[str, dict]:
    return {i["pk"] + "|" + i["sk"]: i for i in scan_items(app_deps.store, [merchant.merchant_id])}


def _update(tracking: str, status: str = "out_for_delivery") -> bytes:
    return tracker_body(tracking, status, f"evt_{uuid.uuid4().hex[:10]}", "2026-11-23T14:00:00Z")


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("TransactWriteItems", "ThrottlingException"),
        ("TransactWriteItems", "ProvisionedThroughputExceededException"),
        ("TransactWriteItems", "InternalServerError"),
        ("BatchGetItem", "ProvisionedThroughputExceededException"),
        ("BatchGetItem", "ThrottlingException"),
    ],
)
def test_a_throttled_webhook_answers_503_writes_nothing_and_its_retry_applies_once(
    client, merchant, app_deps, operation, code
):
    tracking = _tracking()
    ship_order(client, merchant, tracking=tracking, order_id=820000000 + hash(code) % 1000)
    body = _update(tracking)
    before = _items(app_deps, merchant)

    with DynamoCalls(app_deps.store) as calls:
        calls.fail(operation, code)
        refused = post_easypost(client, merchant.merchant_id, body)
    INJECTED[code] += calls.injected

    assert calls.injected == 1
    assert refused.status_code == 503, refused.body
    assert refused.headers.get("Retry-After") == "5"
    assert _items(app_deps, merchant) == before  # nothing of it committed
    retried = post_easypost(client, merchant.merchant_id, body)
    assert json.loads(retried.body)["events"][0]["outcome"] == "applied"
    again = post_easypost(client, merchant.merchant_id, body)
    assert json.loads(again.body)["status"] == "duplicate"
    kinds = [
        i["kind"] for i in _items(app_deps, merchant).values() if i["pk"].startswith("OUTBOX#")
    ]
    assert len(kinds) == len(set(kinds)) == 2  # "shipped" and "out for delivery", once each


def test_a_transaction_conflict_is_retried_inside_the_request(client, merchant, app_deps):
    tracking = _tracking()
    ship_order(client, merchant, tracking=tracking, order_id=820001001)
    with DynamoCalls(app_deps.store) as calls:
        calls.fail("TransactWriteItems", "TransactionCanceledException", 2, ["TransactionConflict"])
        answer = post_easypost(client, merchant.merchant_id, _update(tracking))
    INJECTED["TransactionConflict"] += calls.injected

    assert calls.injected == 2
    assert answer.status_code == 200
    assert json.loads(answer.body)["events"][0]["outcome"] == "applied"


def test_a_lasting_transaction_conflict_is_refused_for_a_retry_with_nothing_written(
    client, merchant, app_deps
):
    tracking = _tracking()
    ship_order(client, merchant, tracking=tracking, order_id=820001002)
    body = _update(tracking, "failure")
    before = _items(app_deps, merchant)
    with DynamoCalls(app_deps.store) as calls:
        calls.fail(
            "TransactWriteItems", "TransactionCanceledException", 50, ["TransactionConflict"]
        )
        answer = post_easypost(client, merchant.merchant_id, body)
    INJECTED["TransactionConflict"] += calls.injected

    assert answer.status_code in (409, 503), answer.body  # both make the partner retry
    assert _items(app_deps, merchant) == before
    retried = post_easypost(client, merchant.merchant_id, body)
    assert json.loads(retried.body)["events"][0]["outcome"] == "applied"
    cases = [i for i in _items(app_deps, merchant).values() if i["pk"].startswith("CASE#")]
    assert len([c for c in cases if c["sk"] == "META"]) == 1


def _outbox(app_deps, merchant) -> list:
    return app_deps.store.list_notifications(merchant.merchant_id, 50, None).items


def test_a_sent_sms_whose_record_is_throttled_is_recorded_not_resent(
    client, merchant, app_deps, providers
):
    configure(app_deps, merchant.merchant_id, sms_provider="twilio")
    place_order(client, merchant.shop_domain, new_phone(), 820002001, tracking=_tracking())
    [item] = _outbox(app_deps, merchant)

    with DynamoCalls(app_deps.store) as calls:
        # The claim is the first transaction; the record after the send is the second.
        calls.fail("TransactWriteItems", "ThrottlingException", times=2, skip=1)
        assert deliver_one(app_deps, item, DAYTIME) == "sent"
    INJECTED["ThrottlingException"] += calls.injected

    assert calls.injected == 2
    later = DAYTIME + LEASE + timedelta(minutes=1)
    for again in _outbox(app_deps, merchant):
        deliver_one(app_deps, again, later)
    assert len(providers.twilio.sent) == 1
    [stored] = _outbox(app_deps, merchant)
    assert stored.status == "sent"


def test_an_outbox_batch_cut_by_a_crash_resumes_with_each_item_sent_once(
    client, merchant, app_deps, providers
):
    configure(app_deps, merchant.merchant_id, sms_provider="twilio")
    for n in range(3):
        place_order(client, merchant.shop_domain, new_phone(), 820003000 + n, tracking=_tracking())
    batch = sorted(_outbox(app_deps, merchant), key=lambda i: i.outbox_id)
    assert len(batch) == 3

    assert deliver_one(app_deps, batch[0], DAYTIME) == "sent"
    with DynamoCalls(app_deps.store) as calls:  # the container dies right after the claim
        calls.fail("BatchGetItem", "ValidationException")
        with pytest.raises(Exception):  # noqa: B017 - any crash
            deliver_one(app_deps, batch[1], DAYTIME)
    INJECTED["crash"] += calls.injected
    # batch[2] never ran. The next run, before the lease ends, leaves the claimed item alone.
    soon = DAYTIME + timedelta(minutes=1)
    results = Counter(deliver_one(app_deps, item, soon) for item in _outbox(app_deps, merchant))
    assert results == Counter({"busy": 2, "sent": 1})  # [0] done, [1] leased, [2] sent
    later = DAYTIME + LEASE + timedelta(minutes=2)
    for item in _outbox(app_deps, merchant):
        if item.status in ("pending", "sending"):
            deliver_one(app_deps, item, later)

    bodies = Counter(call["Body"] for call in providers.twilio.sent)  # each names its parcel
    assert len(bodies) == 3 and set(bodies.values()) == {1}
    assert {item.status for item in _outbox(app_deps, merchant)} == {"sent"}


def test_report_faults_injected():
    print(f"\nfaults injected: {sum(INJECTED.values())} {dict(INJECTED)}")
