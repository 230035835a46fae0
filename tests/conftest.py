"""Shared fixtures: the embedded stack (DynamoDB Local + moto server on loopback), the app's
HTTP test client, and a fresh merchant per test (tests never share state)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.signing import FAKE_EASYPOST_SECRET, FAKE_SHOPIFY_SECRET

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    """One DynamoDB Local and one moto server for the whole session, the app pointed at them."""
    from devtools.stack import LocalStack

    ARTIFACTS.mkdir(exist_ok=True)
    local = LocalStack(table_name="aftercare-test", moto_in_thread=True, log_dir=ARTIFACTS)
    local.start()
    saved = dict(os.environ)
    os.environ.update(local.env())
    os.environ["AFTERCARE_SHOPIFY_API_SECRETS"] = FAKE_SHOPIFY_SECRET
    # The dev stage's variables (.chalice/config.json), so the app and the tests share one Deps.
    os.environ["AFTERCARE_STAGE"] = "dev"
    os.environ["AFTERCARE_LOG_LEVEL"] = "INFO"
    try:
        yield local
    finally:
        os.environ.clear()
        os.environ.update(saved)
        local.stop()


# 10:00 in New York: inside the default 08:00-21:00 sending window of US customers.
FIXED_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture()
def app_deps(stack: object):
    """The app's dependencies with the clock fixed at `FIXED_NOW` for the test."""
    from chalicelib.deps import deps, set_clock

    set_clock(lambda: FIXED_NOW)
    yield deps()
    set_clock(None)
    _take_leftovers_off_the_due_index(stack)


@cache
def _client_of(stack: Any) -> Any:
    return stack.dynamodb_client()


def _take_leftovers_off_the_due_index(stack: Any) -> None:
    """The table is shared by the session: what a test left due (unsent messages, SLA checks,
    digests...) leaves the sparse due index afterwards, so the next test's scheduled jobs see
    only their own work. Test cleanup only: the index is tiny, so one Scan of it is cheap here
    (the product never scans)."""
    dynamodb, table = _client_of(stack), stack.table_name
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table, IndexName="due", ProjectionExpression="pk, sk"
    )
    for page in pages:
        for key in page.get("Items", []):
            dynamodb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE due_pk, due_sk")


@pytest.fixture()
def client(app_deps):
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app, stage_name="dev", project_dir=str(ROOT)) as test_client:
        yield test_client


class MerchantFixture:
    """A merchant created for one test: ids, its API key and headers to use it."""

    def __init__(self, merchant_id: str, shop_domain: str, api_key: str) -> None:
        self.merchant_id = merchant_id
        self.shop_domain = shop_domain
        self.api_key = api_key

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture()
def merchant(app_deps) -> MerchantFixture:
    """A fresh Shopify merchant whose carriers sign with the fake test secrets."""
    from chalicelib.handlers.merchants import create_merchant
    from chalicelib.inbound import shopify_merchant_id

    shop_domain = f"test-{uuid.uuid4().hex[:12]}.myshopify.com"
    merchant_id = shopify_merchant_id(shop_domain)
    api_key = create_merchant(
        app_deps.store,
        merchant_id,
        "Test Shop",
        datetime.now(UTC),
        shop_domain=shop_domain,
        timezone="America/New_York",
        webhook_secrets={"easypost": [FAKE_EASYPOST_SECRET]},
    )
    return MerchantFixture(merchant_id, shop_domain, api_key)


@pytest.fixture()
def sms_sent(stack: object):
    """A function returning the SMS moto's SNS recorded as (phone, text) pairs, in order."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    def read() -> list[tuple[str, str]]:
        backend = get_backend("sns")[DEFAULT_ACCOUNT_ID]["us-east-1"]
        return list(backend.sms_messages.values())

    return read


@pytest.fixture(scope="session", autouse=True)
def aws_operations() -> Iterator[object]:
    """Every AWS call the app's code makes in this run, for the least-privilege test (issue 13);
    written to test-artifacts/aws-operations.json at the end."""
    from tests.aws_operations import OperationRecorder

    with OperationRecorder(ARTIFACTS / "aws-operations.json") as recorder:
        yield recorder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The least-privilege check reads what the whole run recorded, so it runs last."""
    items.sort(key=lambda item: item.path.name == "test_least_privilege.py")
