"""Shared connector helpers refuse hostile values with a 400-class error, quickly."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from chalicelib.connectors.base import (
    get_int,
    load_json,
    parse_money,
    parse_time,
    verify_base64_hmac,
)
from chalicelib.errors import BadSignature, MalformedPayload


@pytest.mark.parametrize(
    "value",
    [Decimal("1e999999"), "1e999999", "Infinity", Decimal("NaN"), "sNaN", 1.5, True, None, 10**16],
)
def test_get_int_refuses_garbage_quickly(value):
    started = time.perf_counter()
    with pytest.raises(MalformedPayload):
        get_int({"quantity": value}, "quantity")
    assert time.perf_counter() - started < 0.5


def test_get_int_reads_numbers_and_numeric_strings():
    assert get_int({"q": "3"}, "q") == 3 and get_int({"q": Decimal("4")}, "q") == 4


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "not a time", "", Decimal("1e999"), Decimal("NaN"), True]
)
def test_parse_time_refuses_out_of_range_and_garbage(value):
    with pytest.raises(MalformedPayload):
        parse_time(value)


def test_parse_time_converts_offsets_to_utc():
    assert parse_time("2008-01-10T11:00:00-05:00").isoformat() == "2008-01-10T16:00:00+00:00"


@pytest.mark.parametrize("amount", ["1e999999", "Infinity", "NaN", "abc", None])
def test_parse_money_refuses_garbage(amount):
    with pytest.raises(MalformedPayload):
        parse_money(amount, "USD")


def test_one_string_is_not_a_list_of_secrets():
    with pytest.raises(TypeError):
        verify_base64_hmac({"x-sig": "AAAA"}, b"{}", "secret", "X-Sig")


def test_no_configured_secret_is_a_bad_signature():
    with pytest.raises(BadSignature):
        verify_base64_hmac({"x-sig": "AAAA"}, b"{}", ["", ""], "X-Sig")


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", b"[1, 2]", b"{", b"[" * 100 + b"]" * 100, b'{"a":' * 70 + b"1" + b"}" * 70],
)
def test_load_json_refuses_non_objects_bad_bytes_and_deep_nesting(body):
    with pytest.raises(MalformedPayload):
        load_json(body)
