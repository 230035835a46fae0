"""DynamoDB call accounting through botocore's event hooks: round trips, items and capacity.

`CallCounter.install()` appends two handlers to botocore's built-in handler list, so every
botocore session created afterwards carries them: PynamoDB builds one session per connection
and thread (every model class may hold its own), so hooking one client would miss some. The
handlers see each DynamoDB call's parameters before it is sent (`before-parameter-build`)
and its parsed answer (`after-call`). Calls are recorded only inside `window()`.

In a window opened with `capacity=True` (the default: figures 1 and 4),
`ReturnConsumedCapacity=TOTAL` is set on calls that do not ask for it or ask for `NONE` (the
app asks for none: `chalicelib/store/connection.py`), so capacity units are DynamoDB's own
figures. That is the only change made to a request. Timed figures (2 and 3) open windows with
`capacity=False`: the app's requests go out exactly as the app makes them, since producing
the units is server work the app does not ask for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "CallCounter", "READ_OPS", "WRITE_OPS", "summarize"]

READ_OPS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITE_OPS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
_CONTEXT_KEY = "aftercare_bench_call"


@dataclass
class Call:
    """One DynamoDB API call as the app made it."""

    operation: str
    keys: list[str] = field(default_factory=list)  # key kinds touched, e.g. ["MERCHANT"]
    items_requested: int = 0  # keys asked for, or items sent to be written
    items_read: int = 0  # items DynamoDB read: found items; Query/Scan: ScannedCount
    items_written: int = 0  # Put/Update/Delete items (a transaction's ConditionChecks excluded)
    condition_checks: int = 0
    capacity: float = 0.0  # consumed capacity units as DynamoDB reported them
    request_bytes: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def is_read(self) -> bool:
        return self.operation in READ_OPS

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPS

    @property
    def shape(self) -> str:
        """e.g. `GetItem[MERCHANT]`, `TransactWriteItems[6]` (items sent), `Query[3]` (scanned)."""
        if self.operation == "GetItem":
            return f"GetItem[{','.join(self.keys)}]"
        if self.operation in ("Query", "Scan"):
            return f"{self.operation}[{self.items_read}]"
        return f"{self.operation}[{self.items_requested}]"


def _kind(key: dict[str, Any] | None) -> str:
    """The item kind of a key: the pk prefix (`MERCHANT`, `ORDER`...), `TL` for timelines."""
    if not key:
        return "?"
    pk = str((key.get("pk") or {}).get("S", "?"))
    sk = str((key.get("sk") or {}).get("S", ""))
    return pk.split("#", 1)[0] + ("/TL" if sk.startswith("TL#") else "")


def _requested(operation: str, params: dict[str, Any], call: Call) -> None:
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        call.items_requested, call.keys = 1, [_kind(params.get("Key"))]
    elif operation == "PutItem":
        call.items_requested, call.keys = 1, [_kind(params.get("Item"))]
    elif operation == "BatchGetItem":
        keys = [k for spec in params.get("RequestItems", {}).values() for k in spec["Keys"]]
        call.items_requested, call.keys = len(keys), [_kind(k) for k in keys]
    elif operation == "BatchWriteItem":
        writes = [w for batch in params.get("RequestItems", {}).values() for w in batch]
        call.items_requested = call.items_written = len(writes)
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        entries = params.get("TransactItems", [])
        call.items_requested = len(entries)
        for entry in entries:
            ((action, spec),) = entry.items()
            call.keys.append(_kind(spec.get("Key") or spec.get("Item")))
            if action == "ConditionCheck":
                call.condition_checks += 1
            elif operation == "TransactWriteItems":
                call.items_written += 1
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        call.items_written = 1
    if operation == "TransactGetItems":
        call.items_read = call.items_requested


def _answered(operation: str, parsed: dict[str, Any], call: Call) -> None:
    call.error = str((parsed.get("Error") or {}).get("Code", ""))
    if operation == "GetItem":
        call.items_read = 1 if "Item" in parsed else 0
    elif operation == "BatchGetItem":
        call.items_read = sum(len(items) for items in (parsed.get("Responses") or {}).values())
    elif operation in ("Query", "Scan"):
        call.items_read = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    consumed = parsed.get("ConsumedCapacity") or []
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        call.capacity += float(entry.get("CapacityUnits", 0.0))


class CallCounter:
    """Records every DynamoDB call made inside `window()` (single-threaded use)."""

    def __init__(self) -> None:
        self._window: list[Call] | None = None
        self._capacity = True
        self._specs: list[tuple[str, Any]] = []

    def install(self) -> CallCounter:
        """Hook every botocore session created from now on; call before the app builds any."""
        from botocore import handlers

        self._specs = [
            ("before-parameter-build.dynamodb", self._before),
            ("after-call.dynamodb", self._after),
        ]
        handlers.BUILTIN_HANDLERS.extend(self._specs)
        return self

    def uninstall(self) -> None:
        from botocore import handlers

        for spec in self._specs:
            if spec in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(spec)
        self._specs = []

    def attach(self, client: Any) -> None:
        """Hook an existing botocore client too (one created before `install`)."""
        for event, handler in self._specs:
            client.meta.events.register(event, handler)

    @contextmanager
    def window(self, capacity: bool = True) -> Iterator[list[Call]]:
        """The calls made inside the `with` block, in order. `capacity`: ask every call for
        its consumed capacity (otherwise requests are left exactly as the app made them)."""
        calls: list[Call] = []
        previous, self._window = self._window, calls
        previous_capacity, self._capacity = self._capacity, capacity
        try:
            yield calls
        finally:
            self._window = previous
            self._capacity = previous_capacity

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any):
        if self._window is None:
            return
        operation = model.name
        if (
            self._capacity
            and (operation in READ_OPS or operation in WRITE_OPS)
            and params.get("ReturnConsumedCapacity", "NONE") == "NONE"
        ):
            params["ReturnConsumedCapacity"] = "TOTAL"
        call = Call(operation)
        _requested(operation, params, call)
        call.request_bytes = len(json.dumps(params, default=str))
        context[_CONTEXT_KEY] = (call, time.perf_counter(), self._window)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any):
        pending = context.pop(_CONTEXT_KEY, None)
        if pending is None:
            return
        call, started, window = pending
        call.seconds = time.perf_counter() - started
        _answered(model.name, parsed, call)
        window.append(call)


def summarize(calls: list[Call]) -> dict[str, Any]:
    """Round trips, items and capacity of one request's calls."""
    reads = [c for c in calls if c.is_read]
    writes = [c for c in calls if c.is_write]
    return {
        "read_rounds": len(reads),
        "write_rounds": len(writes),
        "transactional_writes": sum(c.operation == "TransactWriteItems" for c in writes),
        "items_read": sum(c.items_read for c in reads),
        "items_written": sum(c.items_written for c in writes),
        "condition_checks": sum(c.condition_checks for c in writes),
        "read_capacity": round(sum(c.capacity for c in reads), 2),
        "write_capacity": round(sum(c.capacity for c in writes), 2),
        "merchant_lookups": sum(c.operation == "GetItem" and c.keys == ["MERCHANT"] for c in reads),
        "shape": " > ".join(c.shape for c in calls),
        "dynamodb_seconds": sum(c.seconds for c in calls),
    }
