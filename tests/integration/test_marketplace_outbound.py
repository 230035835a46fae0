"""Return decisions and refunds pushed to Shopify by the outbox's marketplace channel, against
the local Shopify stub on DynamoDB Local, with the fixed clock: success, 429 with Retry-After,
cost throttling, 5xx, timeouts, user errors, and never a second refund under retries."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from chalicelib.store import keys
from tests.conftest import FIXED_NOW
from tests.integration import marketplace_env
from tests.integration.marketplace_env import (
    install_shop,
    post_shopify,
)
from tests.support import load_fixture

ORDER, LINE, OTHER_LINE = "450789469", "466157049", "518995019"

stubs, fresh = marketplace_env.stubs, marketplace_env.fresh  # the module's fixtures


def queue(app_deps, merchant_id: str, kind: str, context: dict[str, Any]) -> str:
    """A marketplace outbox item as the return handlers write it (on a case's timeline)."""
    from chalicelib.store.records import new_outbox

    item = new_outbox(
        merchant_id,
        cause=f"test:{uuid.uuid4().hex}",
        kind=kind,
        now=FIXED_NOW,
        customer_id=None,
        context=context,
        channel="marketplace",
        case_id="RET-TEST",
        timeline_pk=keys.case(merchant_id, "RET-TEST"),
    )
    uow = app_deps.store.unit_of_work()
    uow.insert("outbox", item)
    uow.commit()
    return item.outbox_id


def outbox(app_deps, merchant_id: str, outbox_id: str):
    from chalicelib.store.models import OutboxItem

    return app_deps.store.get(OutboxItem, keys.outbox(merchant_id, outbox_id))


def deliver(app_deps, at=FIXED_NOW) -> None:
    """Run the outbox schedule at `at` (items of other tests may be due as well)."""
    from chalicelib.notify.sender import deliver_due

    deliver_due(app_deps, at, limit=500)


def status(app_deps, merchant, outbox_id: str) -> str:
    return outbox(app_deps, merchant.merchant_id, outbox_id).status


def refund_request(restock: bool = True, quantity: int = 1) -> dict[str, Any]:
    lines = [{"line_id": LINE, "quantity": quantity}]
    return {"order_id": ORDER, "lines": lines, "restock": restock, "note": "Return received"}


def refund_creates(stub) -> int:
    return sum(1 for c in stub.calls if b"refundCreate" in c.body)


def setup_refund(client, fresh) -> Any:
    merchant = install_shop(client, fresh)
    fresh.shopify.add_order(ORDER, {LINE: (2, "199.00"), OTHER_LINE: (1, "29.00")})
    return merchant


def test_approved_return_is_pushed_to_shopify(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    fresh.shopify.add_return("123134564567890")
    outbox_id = queue(
        app_deps,
        merchant.merchant_id,
        "approve_return",
        {"return_id": "123134564567890", "source": "shopify"},
    )

    deliver(app_deps)

    assert fresh.shopify.returns["gid://shopify/Return/123134564567890"] == "OPEN"
    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.status == "sent" and item.provider == "shopify" and item.due_pk is None
    timeline = app_deps.store.collection(keys.case(merchant.merchant_id, "RET-TEST"))
    assert [e.kind for e in timeline] == ["marketplace_sent"]


def test_decline_refused_by_shopify_is_parked_failed_with_its_message(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    context = {"return_id": "999", "decline_reason": "RETURN_PERIOD_ENDED", "note": "Too late"}
    outbox_id = queue(app_deps, merchant.merchant_id, "decline_return", context)

    deliver(app_deps)

    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.status == "failed" and "Return does not exist." in item.last_error
    assert item.attempts == 1  # a user error is final: no retry
    response = client.http.get("/api/notifications", headers=merchant.auth)
    visible = json.loads(response.body)["items"][0]
    assert visible["status"] == "failed" and "Return does not exist." in visible["last_error"]


def test_refund_with_restock_and_its_webhook_echo_is_recognised(fresh, client, app_deps):
    from chalicelib.store.models import RefundPointerItem

    merchant = setup_refund(client, fresh)
    outbox_id = queue(app_deps, merchant.merchant_id, "refund", refund_request(restock=True))

    deliver(app_deps)

    [refund] = fresh.shopify.refunds_of(ORDER)
    assert refund["lines"][0]["restockType"] == "RETURN"
    assert refund["transactions"][0]["amount"] == "199.00"
    assert refund["transactions"][0]["parentId"] == "gid://shopify/OrderTransaction/1"
    assert f"aftercare-refund:{outbox_id}" in refund["note"]
    refund_id = refund["id"].rsplit("/", 1)[-1]
    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.status == "sent" and item.provider_message_id == refund_id
    pointer = app_deps.store.get(
        RefundPointerItem, keys.refund_pointer(merchant.merchant_id, refund_id)
    )
    assert pointer.outbox_id == outbox_id and pointer.order_id == ORDER

    echo = json.loads(load_fixture("shopify", "refunds_create.json"))
    echo.update(id=int(refund_id), order_id=int(ORDER), note=refund["note"])
    response = post_shopify(client, merchant.shop_domain, "refunds/create", echo)

    assert response.status_code == 200
    [event] = json.loads(response.body)["events"]
    assert event["outcome"] == "applied" and "our refund" in event["detail"]


def test_a_refund_made_outside_aftercare_is_recorded_as_such(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    echo = json.loads(load_fixture("shopify", "refunds_create.json"))

    first = post_shopify(client, merchant.shop_domain, "refunds/create", echo)
    again = post_shopify(client, merchant.shop_domain, "refunds/create", echo)  # new webhook id

    assert json.loads(first.body)["events"][0]["detail"] == "refund recorded"
    assert json.loads(again.body)["events"][0]["outcome"] == "duplicate"  # same refund id


def test_refund_without_restock(fresh, client, app_deps):
    merchant = setup_refund(client, fresh)
    queue(app_deps, merchant.merchant_id, "refund", refund_request(restock=False))

    deliver(app_deps)

    assert fresh.shopify.refunds_of(ORDER)[0]["lines"][0]["restockType"] == "NO_RESTOCK"


def test_429_with_retry_after_defers_exactly_that_long_then_succeeds(fresh, client, app_deps):
    merchant = setup_refund(client, fresh)
    outbox_id = queue(app_deps, merchant.merchant_id, "refund", refund_request())
    body = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."}
    fresh.shopify.fail_next(
        status=429, body=body, headers={"Retry-After": "30"}, body_contains="suggestedRefund"
    )

    deliver(app_deps)

    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.status == "pending" and item.next_attempt_at == FIXED_NOW + timedelta(seconds=30)
    assert "HTTP 429" in item.last_error
    deliver(app_deps, FIXED_NOW + timedelta(seconds=29))  # not due yet
    assert outbox(app_deps, merchant.merchant_id, outbox_id).attempts == 1
    deliver(app_deps, FIXED_NOW + timedelta(seconds=30))
    assert status(app_deps, merchant, outbox_id) == "sent"
    assert len(fresh.shopify.refunds_of(ORDER)) == 1


def test_cost_throttle_waits_for_the_bucket_to_refill(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    fresh.shopify.add_return("77")
    outbox_id = queue(app_deps, merchant.merchant_id, "approve_return", {"return_id": "77"})
    fresh.shopify.throttle_next(available=100.0, requested=600)  # 500 points at 100/s: 5 s

    deliver(app_deps)

    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.next_attempt_at == FIXED_NOW + timedelta(seconds=5)
    deliver(app_deps, FIXED_NOW + timedelta(seconds=5))
    assert status(app_deps, merchant, outbox_id) == "sent"


def test_5xx_is_retried_later_with_backoff(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    fresh.shopify.add_return("78")
    outbox_id = queue(app_deps, merchant.merchant_id, "approve_return", {"return_id": "78"})
    unavailable = {"errors": "Service Unavailable"}
    fresh.shopify.fail_next(times=3, status=503, body=unavailable, body_contains="returnApprove")

    deliver(app_deps)  # three tries within the call, then backoff

    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.next_attempt_at == FIXED_NOW + timedelta(minutes=1)
    deliver(app_deps, FIXED_NOW + timedelta(minutes=1))
    assert status(app_deps, merchant, outbox_id) == "sent"


def test_a_timed_out_refund_is_found_not_repeated(fresh, client, app_deps):
    merchant = setup_refund(client, fresh)
    fresh.shopify.honour_idempotency = False  # our own guard alone must prevent a double
    outbox_id = queue(app_deps, merchant.merchant_id, "refund", refund_request())
    fresh.shopify.fail_next(body_contains="refundCreate", after_work=True, delay=1.0)

    deliver(app_deps)  # the refund happened; the answer timed out
    assert status(app_deps, merchant, outbox_id) == "pending"

    deliver(app_deps, FIXED_NOW + timedelta(minutes=1))
    assert status(app_deps, merchant, outbox_id) == "sent"
    assert len(fresh.shopify.refunds_of(ORDER)) == 1 and refund_creates(fresh.shopify) == 1
    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.provider_message_id == fresh.shopify.refunds_of(ORDER)[0]["id"].rsplit("/")[-1]


def test_a_lost_refund_answer_never_refunds_twice(fresh, client, app_deps):
    merchant = setup_refund(client, fresh)
    fresh.shopify.honour_idempotency = False
    queue(app_deps, merchant.merchant_id, "refund", refund_request())
    fresh.shopify.fail_next(body_contains="refundCreate", after_work=True, status=502)

    deliver(app_deps)
    for minutes in (1, 2, 5):
        deliver(app_deps, FIXED_NOW + timedelta(minutes=minutes))

    assert len(fresh.shopify.refunds_of(ORDER)) == 1 and refund_creates(fresh.shopify) == 1


def test_a_repeated_refund_request_is_answered_by_shopifys_idempotency(fresh, client, app_deps):
    from chalicelib import partners

    merchant = setup_refund(client, fresh)
    creds = partners.credentials(app_deps, merchant.merchant_id, "shopify")
    admin = partners.shopify_client(app_deps, creds, FIXED_NOW)
    lines = [{"line_id": LINE, "quantity": 1}]

    first = admin.create_refund(ORDER, lines, restock=True, idempotency_key="abcdef0123456789")
    second = admin.create_refund(ORDER, lines, restock=True, idempotency_key="abcdef0123456789")

    assert first == second and len(fresh.shopify.refunds_of(ORDER)) == 1


def test_refund_user_errors_fail_without_retry(fresh, client, app_deps):
    merchant = setup_refund(client, fresh)
    outbox_id = queue(app_deps, merchant.merchant_id, "refund", refund_request(quantity=5))

    deliver(app_deps)

    assert status(app_deps, merchant, outbox_id) == "failed"
    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert "Quantity cannot refund more items than were purchased" in item.last_error
    assert fresh.shopify.refunds_of(ORDER) == []


def test_an_uninstalled_merchant_is_not_called(fresh, client, app_deps):
    merchant = install_shop(client, fresh)
    fresh.shopify.add_return("79")
    outbox_id = queue(app_deps, merchant.merchant_id, "approve_return", {"return_id": "79"})
    post_shopify(client, merchant.shop_domain, "app/uninstalled", {"id": 1})
    calls = len(fresh.shopify.calls)

    deliver(app_deps)

    assert status(app_deps, merchant, outbox_id) == "skipped"
    assert len(fresh.shopify.calls) == calls
    assert outbox(app_deps, merchant.merchant_id, outbox_id).last_error == "merchant is not active"


def test_after_max_attempts_the_item_is_parked_failed(fresh, client, app_deps):
    from chalicelib.notify.sender import MAX_ATTEMPTS

    merchant = install_shop(client, fresh)
    fresh.shopify.add_return("80")
    outbox_id = queue(app_deps, merchant.merchant_id, "approve_return", {"return_id": "80"})
    fresh.shopify.fail_next(
        times=3 * MAX_ATTEMPTS, status=500, body={"errors": "boom"}, body_contains="returnApprove"
    )

    at = FIXED_NOW
    for _ in range(MAX_ATTEMPTS):
        deliver(app_deps, at)
        at += timedelta(hours=2)

    item = outbox(app_deps, merchant.merchant_id, outbox_id)
    assert item.status == "failed" and item.attempts == MAX_ATTEMPTS and item.due_pk is None


def test_a_return_the_rules_approve_is_approved_on_shopify(fresh, client, app_deps):
    """End to end: Shopify's returns/request -> the rules approve -> Shopify is told."""
    from tests.integration.test_privacy import with_easypost
    from tests.integration.test_returns import delivered_order, request_return, the_case

    merchant = install_shop(client, fresh)
    with_easypost(app_deps, merchant.merchant_id)
    fresh.shopify.add_return("123134564567890")
    delivered_order(client, merchant, days_ago=2)

    request_return(client, merchant)
    deliver(app_deps)

    assert fresh.shopify.returns["gid://shopify/Return/123134564567890"] == "OPEN"
    case = the_case(client, merchant)
    assert case["status"] == "approved"
    assert "marketplace_sent" in [entry["kind"] for entry in case["timeline"]]
