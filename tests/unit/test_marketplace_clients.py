"""Marketplace client pieces without a network: retry rules of the partner HTTP helper (a fake
session, a recording sleep), Shopify scope and refund-marker rules, the cost-throttle wait,
WooCommerce store URLs, the BigCommerce order reader and the install page helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from chalicelib.connectors.bigcommerce_api import order_event
from chalicelib.connectors.http import PartnerHttp, RetryLater, retry_after_seconds
from chalicelib.connectors.shopify_api import _throttle_wait, marker_outbox_id, refund_note
from chalicelib.connectors.shopify_oauth import expand_scopes, missing_scopes
from chalicelib.connectors.woocommerce_api import normalize_store_url
from chalicelib.errors import MalformedPayload, ProviderError
from chalicelib.events import OrderPlaced, OrderUpdated
from tests.support import load_fixture


class FakeResponse:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.headers = status, headers or {}

    def json(self) -> Any:
        return {}


class FakeSession:
    """Answers from a script: a status (with headers) or an exception per request."""

    def __init__(self, *script: Any) -> None:
        self.script, self.calls = list(script), 0

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers = step if isinstance(step, tuple) else (step, {})
        return FakeResponse(status, headers)


def client(*script: Any, max_wait: float = 60.0) -> tuple[PartnerHttp, FakeSession, list[float]]:
    slept: list[float] = []
    session = FakeSession(*script)
    http = PartnerHttp(
        "Partner",
        session=session,  # type: ignore[arg-type]
        max_wait=max_wait,
        sleep=slept.append,
        jitter=lambda low, high: high,
    )
    return http, session, slept


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds("Mon, 23 Nov 2026 15:00:45 GMT", now) == 45.0
    assert retry_after_seconds("Mon, 23 Nov 2026 14:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_429_waits_what_retry_after_asks_then_succeeds():
    http, session, slept = client((429, {"Retry-After": "2"}), 200)

    assert http.request("POST", "https://partner.test/x").status_code == 200
    assert slept == [2.0] and session.calls == 2


def test_a_wait_longer_than_allowed_is_handed_back_to_the_outbox():
    http, session, slept = client((503, {"Retry-After": "120"}), max_wait=5)

    with pytest.raises(RetryLater) as raised:
        http.request("POST", "https://partner.test/x")

    assert raised.value.retry_after == 120.0 and raised.value.retryable
    assert slept == [] and session.calls == 1


def test_500_is_repeated_only_when_repeating_is_safe():
    http, session, _ = client(500)
    assert http.request("POST", "https://partner.test/x").status_code == 500
    assert session.calls == 1

    http, session, slept = client(500, 502, 200)
    assert http.request("POST", "https://partner.test/x", safe_to_repeat=True).status_code == 200
    assert slept == [0.5, 1.0]  # exponential backoff (jitter at its ceiling here)


def test_a_read_timeout_is_not_repeated_for_an_unsafe_request():
    http, session, _ = client(requests.ReadTimeout("slow"), 200)

    with pytest.raises(ProviderError) as raised:
        http.request("POST", "https://partner.test/refunds")

    assert "unreachable: ReadTimeout" in raised.value.detail and raised.value.retryable
    assert session.calls == 1


def test_a_refused_connection_is_repeated_even_for_a_refund():
    http, session, _ = client(requests.ConnectionError("refused"), 201)

    assert http.request("POST", "https://partner.test/refunds").status_code == 201
    assert session.calls == 2


def test_retries_are_bounded():
    http, session, _ = client(503, 503, 503)

    with pytest.raises(RetryLater):
        http.request("GET", "https://partner.test/x")
    assert session.calls == 3


def test_write_scopes_imply_read_scopes():
    requested = ["read_orders", "write_orders", "read_returns", "write_returns"]
    assert missing_scopes(requested, ["write_orders", "write_returns"]) == []
    assert missing_scopes(requested, ["write_orders"]) == ["read_returns", "write_returns"]
    assert expand_scopes(["write_orders"]) == {"write_orders", "read_orders"}


def test_our_refunds_carry_a_marker_nobody_else_does():
    note = refund_note("0123456789abcdef01234567", "Damaged in transit")
    assert note.startswith("Damaged in transit")
    assert marker_outbox_id(note) == "0123456789abcdef01234567"
    assert marker_outbox_id("Things were damaged") is None and marker_outbox_id(None) is None


def test_cost_throttle_wait_is_the_missing_points_over_the_restore_rate():
    body = {
        "extensions": {
            "cost": {
                "requestedQueryCost": 752,
                "throttleStatus": {"currentlyAvailable": 666, "restoreRate": 50.0},
            }
        }
    }
    assert _throttle_wait(body) == pytest.approx(86 / 50)
    assert _throttle_wait({}) == 1.0  # unknown: a second


def test_store_urls_must_be_https_stores():
    assert normalize_store_url("https://Shop.Example.com/") == "https://shop.example.com"
    assert normalize_store_url("https://example.com/shop/") == "https://example.com/shop"
    for bad in (
        "http://shop.example.com",
        "https://localhost",
        "https://10.0.0.1",
        "https://a:b@shop.example.com",
        "https://shop.example.com/?x=1",
        "",
    ):
        with pytest.raises(MalformedPayload):
            normalize_store_url(bad)
    assert normalize_store_url("http://127.0.0.1:8080", allow_http=True) == "http://127.0.0.1:8080"


def test_bigcommerce_order_becomes_an_order_event():
    order = json.loads(load_fixture("bigcommerce", "api_order_250.json"))
    products = json.loads(load_fixture("bigcommerce", "api_order_250_products.json"))

    placed = order_event(order, products, created=True)
    order["refunded_amount"] = "10.8000"
    updated = order_event(order, products, created=False)

    assert type(placed) is OrderPlaced and placed.order_id == "250"
    assert placed.total.amount == Decimal("1915.0000") and placed.total.currency == "USD"
    assert placed.occurred_at == datetime(2013, 5, 30, 1, 48, 39, tzinfo=UTC)
    assert placed.customer and placed.customer.email == "elsie@example.com"
    assert placed.customer.customer_id.startswith("guest:") and placed.customer.country == "US"
    assert [(li.line_id, li.quantity) for li in placed.line_items] == [
        ("101", 2),
        ("102", 2),
        ("103", 2),
    ]
    assert placed.financial_status == "pending"
    assert isinstance(updated, OrderUpdated) and updated.refunded_total.amount == Decimal("10.8")


def test_install_pages_escape_and_read_the_state_cookie():
    from chalicelib.install import Installed
    from chalicelib.install_pages import cookie_state, installed_page, state_cookie

    page = installed_page(Installed("shp-x", "shopify", "ak_<script>", "Installed on <b>x</b>"))
    assert "<script>" not in page and "ak_&lt;script&gt;" in page
    assert "Path=/oauth/shopify" in state_cookie("n0nce") and "HttpOnly" in state_cookie("n")
    assert cookie_state("other=1; aftercare_shopify_state=n0nce") == "n0nce"
    assert cookie_state(None) is None and cookie_state("garbage") is None
