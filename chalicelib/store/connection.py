"""The PynamoDB connection every model shares, without capacity accounting on each call.

PynamoDB asks DynamoDB for `ReturnConsumedCapacity=TOTAL` on every call it makes unless
told otherwise, and only logs the answer at DEBUG. Nothing in Aftercare reads those units,
and producing them is work on the server's side of every request: DynamoDB Local, for one,
took about 1 ms longer per webhook transaction with them (bench/README.md, figure 2). This
connection asks for `NONE` instead on data-plane calls; a caller that wants the units passes
`ReturnConsumedCapacity` itself, which is left alone.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection

__all__ = ["LeanConnection", "DATA_OPERATIONS"]

# Operations whose input shape has ReturnConsumedCapacity (table admin calls do not).
DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


class LeanConnection(Connection):
    """`Connection` that does not ask for consumed capacity unless the caller does."""

    def dispatch(self, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        if operation_name in DATA_OPERATIONS:
            operation_kwargs.setdefault("ReturnConsumedCapacity", "NONE")
        return super().dispatch(operation_name, operation_kwargs)
