"""The benchmark's DynamoDB hook asks for capacity only in windows that report it: timed
figures (ack latency, throughput) send the app's requests exactly as the app makes them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.calls import CallCounter


def _seen(counter: CallCounter, params: dict, capacity: bool) -> dict:
    model = SimpleNamespace(name="TransactWriteItems")
    with counter.window(capacity) as calls:
        counter._before(params=params, model=model, context={})
    assert len(calls) == 0  # recorded at after-call
    return params


@pytest.mark.parametrize("asked", [None, "NONE"])
def test_reporting_windows_ask_for_capacity(asked):
    params = {"TransactItems": []}
    if asked:
        params["ReturnConsumedCapacity"] = asked
    assert _seen(CallCounter(), params, capacity=True)["ReturnConsumedCapacity"] == "TOTAL"


@pytest.mark.parametrize("asked", [None, "NONE", "TOTAL"])
def test_timed_windows_leave_requests_alone(asked):
    params = {"TransactItems": []}
    if asked:
        params["ReturnConsumedCapacity"] = asked
    assert _seen(CallCounter(), params, capacity=False).get("ReturnConsumedCapacity") == asked


def test_capacity_setting_is_restored_after_a_window():
    counter = CallCounter()
    with counter.window(capacity=False):
        pass
    assert _seen(counter, {"TransactItems": []}, capacity=True)["ReturnConsumedCapacity"] == "TOTAL"
