"""The store's writes reach DynamoDB without asking for consumed capacity (see
chalicelib/store/connection.py), and still commit."""

from __future__ import annotations

from typing import Any

from chalicelib.store import keys
from chalicelib.store.connection import LeanConnection
from tests.conftest import FIXED_NOW


def test_a_transaction_commits_without_asking_for_capacity(app_deps):
    store = app_deps.store
    assert isinstance(store.connection, LeanConnection)
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    events = store.connection.client.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", record)
    try:
        uow = store.unit_of_work()
        uow.count("m-lean-wiring", FIXED_NOW, "lean_test")
        uow.commit()
    finally:
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", record)
    assert [params.get("ReturnConsumedCapacity") for params in seen] == ["NONE"]
    week = keys.iso_week(FIXED_NOW)
    counters = store.weekly_counters("m-lean-wiring", [week])[week]
    assert counters["lean_test"] >= 1
