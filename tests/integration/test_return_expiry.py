"""Unused return approvals expire (issue 11): one reminder 3 days before, then cancelled.

The return is Shopify's documented request, auto-approved at FIXED_NOW (test_returns.py
helpers). The job is `return_expiry.expire_due`, run at chosen times; it reads the RETURNEXP
due index only. What the test leaves due is taken off the index by conftest.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.store import keys
from chalicelib.store.models import CaseItem, MerchantItem, OrderItem, ReturnExpiryItem
from tests.conftest import FIXED_NOW
from tests.integration.test_returns import delivered_order, request_return, the_case

REMIND = FIXED_NOW + timedelta(days=25, minutes=1)
EXPIRE = FIXED_NOW + timedelta(days=28, minutes=1)


@pytest.fixture(autouse=True)
def _outbox_drained(app_deps):
    yield
    from chalicelib.notify.sender import deliver_due

    for _ in range(3):
        if not sum(deliver_due(app_deps, EXPIRE + timedelta(hours=1), limit=500).values()):
            break


def queued(app_deps, merchant_id: str, kind: str, at=EXPIRE) -> list:
    due = app_deps.store.due_outbox(at + timedelta(hours=1), 500)
    return [i for i in due if i.merchant_id == merchant_id and i.kind == kind]


def approved_case(client, merchant) -> dict:
    delivered_order(client, merchant)
    request_return(client, merchant)
    case = the_case(client, merchant)
    assert case["status"] == "approved"
    return case


def test_an_unused_approval_is_reminded_once_then_expires(client, merchant, app_deps):
    from chalicelib.return_expiry import expire_due

    case = approved_case(client, merchant)
    mid = merchant.merchant_id
    assert case["details"]["approval_expires_at"] == keys.iso(FIXED_NOW + timedelta(days=28))
    order_before = app_deps.store.get(OrderItem, keys.order(mid, case["order_id"]))
    assert sum(order_before.returned.values()) > 0

    assert expire_due(app_deps, FIXED_NOW + timedelta(days=24)) == {}  # not yet
    assert expire_due(app_deps, REMIND) == {"reminded": 1}
    assert expire_due(app_deps, REMIND) == {}  # once
    (reminder,) = queued(app_deps, mid, "return_expiry_reminder")
    assert reminder.context["return_code"] == case["details"]["return_code"]

    assert expire_due(app_deps, EXPIRE) == {"expired": 1}
    assert expire_due(app_deps, EXPIRE) == {}
    after = the_case(client, merchant)
    assert after["status"] == "cancelled"
    assert after["details"]["cancel_reason"] == "approval expired"
    assert any(e["kind"] == "return_expired" for e in after["timeline"])
    order = app_deps.store.get(OrderItem, keys.order(mid, case["order_id"]))
    assert sum(order.returned.values()) == 0  # the lines may be asked for again
    assert len(queued(app_deps, mid, "return_expired")) == 1


def test_a_scanned_return_parcel_stops_the_clock(client, merchant, app_deps):
    from chalicelib.return_expiry import expire_due

    case = approved_case(client, merchant)
    mid = merchant.merchant_id
    item = app_deps.store.get(CaseItem, keys.case(mid, case["id"]))
    item.details = {**item.details, "return_scanned_at": keys.iso(FIXED_NOW + timedelta(days=2))}
    item.save()

    assert expire_due(app_deps, REMIND) == {"cleared": 1}
    assert expire_due(app_deps, EXPIRE) == {}
    assert the_case(client, merchant)["status"] == "approved"
    assert queued(app_deps, mid, "return_expiry_reminder") == []
    clock = app_deps.store.get(ReturnExpiryItem, keys.return_expiry(mid, case["id"]))
    assert clock.due_pk is None


def test_the_merchant_sets_the_expiry_days(client, merchant, app_deps):
    from chalicelib.return_expiry import expire_due

    item = app_deps.store.get(MerchantItem, keys.merchant(merchant.merchant_id))
    item.settings = {**(item.settings or {}), "approval_expiry_days": 10}
    item.save()
    case = approved_case(client, merchant)
    assert case["details"]["approval_expires_at"] == keys.iso(FIXED_NOW + timedelta(days=10))
    assert expire_due(app_deps, FIXED_NOW + timedelta(days=7, minutes=1)) == {"reminded": 1}
    assert expire_due(app_deps, FIXED_NOW + timedelta(days=10, minutes=1)) == {"expired": 1}
