"""The shared PynamoDB connection does not ask DynamoDB for consumed capacity (nothing reads
it, and producing it is server work on every webhook), unless a caller asks explicitly."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store.connection import LeanConnection


class Recording(LeanConnection):
    """Records what would be sent instead of calling DynamoDB."""

    def __init__(self) -> None:
        super().__init__(region="us-east-1", host="http://127.0.0.1:9")
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def _make_api_call(self, operation_name: str, operation_kwargs: dict) -> dict:
        self.sent.append((operation_name, dict(operation_kwargs)))
        return {}


@pytest.mark.parametrize("operation", ["GetItem", "BatchGetItem", "Query", "TransactWriteItems"])
def test_data_calls_ask_for_no_capacity(operation):
    connection = Recording()
    connection.dispatch(operation, {"TableName": "t"})
    assert connection.sent == [(operation, {"TableName": "t", "ReturnConsumedCapacity": "NONE"})]


def test_a_caller_that_asks_for_capacity_gets_it():
    connection = Recording()
    connection.dispatch("PutItem", {"TableName": "t", "ReturnConsumedCapacity": "TOTAL"})
    assert connection.sent[0][1]["ReturnConsumedCapacity"] == "TOTAL"


def test_table_admin_calls_are_left_alone():
    connection = Recording()
    connection.dispatch("DescribeTable", {"TableName": "t"})
    assert connection.sent == [("DescribeTable", {"TableName": "t"})]


def test_transaction_goes_out_without_capacity_request():
    connection = Recording()
    connection.transact_write_items([], [], [{"TableName": "t", "Item": {}}], [])
    ((operation, kwargs),) = connection.sent
    assert operation == "TransactWriteItems"
    assert kwargs["ReturnConsumedCapacity"] == "NONE"
