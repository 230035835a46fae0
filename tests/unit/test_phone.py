"""Phone numbers: E.164 normalization, region lookup and masking for logs and pages."""

from __future__ import annotations

import pytest

from chalicelib.notify.phone import mask, normalize_e164, region_of


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(650) 253-0000", "US", "+16502530000"),
        ("650.253.0000", "us", "+16502530000"),
        ("+1 650 253 0000", None, "+16502530000"),
        ("+44 20 7946 0018", "US", "+442079460018"),  # own country code beats the default
        ("020 7946 0018", "GB", "+442079460018"),
        ("0044 20 7946 0018", "DE", "+442079460018"),  # international prefix of the default
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", None, "+8613800138000"),
        ("030 123456", "DE", "+4930123456"),
    ],
)
def test_valid_numbers_normalize_to_e164(raw: str, country: str | None, expected: str) -> None:
    assert normalize_e164(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("", "US"),
        ("   ", "US"),
        ("not a number", "US"),
        ("12345", "US"),  # too short
        ("6502530000", None),  # national form without a country to read it in
        ("+1 555 0100", None),  # fictional range, invalid
        ("+1 650 253 00000", None),  # one digit too many
        ("+999 1234 5678", None),  # unassigned country code
        ("1" * 200, "US"),
        ("138 0013 8000", "ZZ"),
    ],
)
def test_invalid_numbers_give_none(raw: str, country: str | None) -> None:
    assert normalize_e164(raw, country) is None


def test_non_string_input_gives_none() -> None:
    assert normalize_e164(None, "US") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+16502530000", "US"),
        ("+14165550123", "CA"),  # same +1 country code, Canadian area code
        ("+8613800138000", "CN"),
        ("+442079460018", "GB"),
        ("+4930123456", "DE"),
        ("+15555550100", None),
        ("garbage", None),
    ],
)
def test_region_of(e164: str, region: str | None) -> None:
    assert region_of(e164) == region


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+12125554567", "+1******4567"),
        ("+8613800138000", "+86*******8000"),
        ("+442079460018", "+44******0018"),
        ("bob@hostmail.com", "b***@hostmail.com"),
        ("b@hostmail.com", "b***@hostmail.com"),
        ("@hostmail.com", "***@hostmail.com"),
        ("(212) 555-4567", "******4567"),
        ("12345", "***"),
        ("Alice", "***"),
        ("", ""),
    ],
)
def test_mask(value: str, masked: str) -> None:
    assert mask(value) == masked


def test_mask_never_reveals_the_middle_digits() -> None:
    masked = mask("+12125554567")
    assert "212555" not in masked
    assert mask(None) == "***"  # type: ignore[arg-type]
