"""Webhook bodies nested deeper than MAX_JSON_DEPTH are refused; anything shallower loads.

The depth counts every value: `{"a": 1}` is 2 deep. The check is on the request path of
every webhook, so it also has to stay cheap on wide payloads.
"""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.connectors.base import MAX_JSON_DEPTH, _depth, load_json
from chalicelib.errors import MalformedPayload


def _nested(depth: int) -> dict:
    """A JSON object exactly `depth` deep (innermost value a scalar)."""
    value: object = 1
    for index in range(depth - 2):
        value = {"k": value} if index % 2 else [value]
    return {"k": value}


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 1),
        ({}, 1),
        ([], 1),
        ({"a": 1}, 2),
        ({"a": {}}, 2),
        ({"a": {"b": 1}, "c": []}, 3),
        ([[], [[]], 1], 3),
        ({"a": [{"b": [1]}], "c": "x"}, 5),
    ],
)
def test_depth_counts_every_value(value, depth):
    assert _depth(value, MAX_JSON_DEPTH) == depth


def test_depth_stops_counting_past_the_limit():
    assert _depth(_nested(200), 10) == 11


def test_body_at_the_limit_loads_and_one_deeper_is_refused():
    at_limit = _nested(MAX_JSON_DEPTH)
    assert _depth(at_limit, 1000) == MAX_JSON_DEPTH
    assert load_json(json.dumps(at_limit).encode()) == at_limit
    with pytest.raises(MalformedPayload, match="nested too deeply"):
        load_json(json.dumps(_nested(MAX_JSON_DEPTH + 1)).encode())


def test_wide_body_is_checked_quickly():
    wide = {"items": [{"sku": f"S{n}", "qty": n, "tags": ["a", "b"]} for n in range(20_000)]}
    raw = json.dumps(wide).encode()
    started = time.perf_counter()
    load_json(raw)
    assert time.perf_counter() - started < 2.0
