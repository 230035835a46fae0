"""Shared pieces of inbound connectors: header lookup, HMAC, JSON and field readers.

Every connector module exposes `verify(headers, raw_body, secrets)` (raises `BadSignature`)
and `parse(headers, raw_body) -> list[Event]` (raises `MalformedPayload`). `headers` is a
mapping whose keys are lower-case (the route normalizes them). These helpers make the
failures precise and uniform across partners.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.errors import BadSignature, MalformedPayload
from chalicelib.events import Money

__all__ = [
    "Headers",
    "header",
    "require_header",
    "hmac_sha256",
    "matches_any",
    "verify_base64_hmac",
    "load_json",
    "get_str",
    "get_opt_str",
    "get_int",
    "get_count",
    "opt_time",
    "location_text",
    "get_obj",
    "get_list",
    "parse_time",
    "parse_money",
    "MAX_JSON_DEPTH",
    "body_digest",
]

Headers = Mapping[str, str]
MAX_JSON_DEPTH = 64


def header(headers: Headers, name: str) -> str | None:
    """The header's value (name matched case-insensitively), or None."""
    value = headers.get(name.lower())
    if value is None:
        return None
    return value.strip()


def require_header(headers: Headers, name: str) -> str:
    """The header's value; raises `BadSignature` when it is missing or empty."""
    value = header(headers, name)
    if not value:
        raise BadSignature(f"missing {name} header")
    return value


def hmac_sha256(secret: str | bytes, body: bytes) -> bytes:
    """Raw HMAC-SHA256 digest of `body` under `secret`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).digest()


def matches_any(expected_for: Iterable[bytes], given: bytes) -> bool:
    """True when `given` equals one of the expected digests, each compared in constant time."""
    found = False
    for expected in expected_for:
        # No early exit: every candidate secret is compared, so timing does not say which matched.
        found |= hmac.compare_digest(expected, given)
    return found


def verify_base64_hmac(
    headers: Headers, raw_body: bytes, secrets: Iterable[str], header_name: str
) -> None:
    """Check a base64 HMAC-SHA256 of the raw body against any of `secrets` (rotation).

    Raises `BadSignature` when the header is missing, not base64, or matches no secret.
    """
    given_text = require_header(headers, header_name)
    try:
        given = base64.b64decode(given_text, validate=True)
    except (ValueError, TypeError) as exc:
        raise BadSignature(f"{header_name} is not base64") from exc
    if isinstance(secrets, (str, bytes)):
        raise TypeError("secrets must be a list of secrets, not one string")
    secrets = [s for s in secrets if s]
    if not secrets:
        raise BadSignature("no signing secret configured")
    if not matches_any((hmac_sha256(s, raw_body) for s in secrets), given):
        raise BadSignature(f"{header_name} does not match the body")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of decoded JSON, every value counted (`{"a": 1}` is 2), up to `limit + 1`.

    Level by level, queueing containers only: scalars, most of a payload, are not queued.
    """
    if not isinstance(value, (dict, list)):
        return 1
    level, current = 1, [value]
    while True:
        children: list[Any] = []
        has_values = False
        for item in current:
            for child in item.values() if isinstance(item, dict) else item:
                has_values = True
                if isinstance(child, (dict, list)):
                    children.append(child)
        if not children:
            return level + 1 if has_values else level
        level += 1
        if level > limit:
            return level
        current = children


def load_json(raw_body: bytes) -> dict[str, Any]:
    """Decode a JSON object; raises `MalformedPayload` for bad UTF-8, bad JSON or a non-object."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("body is not valid UTF-8") from exc
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise MalformedPayload("body is nested too deeply")
    return data


def get_obj(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` as an object; raises `MalformedPayload` if missing or not an object."""
    value = data.get(key)
    if not isinstance(value, dict):
        raise MalformedPayload(f"'{key}' must be an object")
    return value


def get_list(data: Mapping[str, Any], key: str, *, required: bool = False) -> list[Any]:
    """`data[key]` as a list (empty when absent or null, unless `required`)."""
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"'{key}' must be a list")
    return value


def get_str(data: Mapping[str, Any], key: str) -> str:
    """`data[key]` as a non-empty string; numbers (ids) are accepted and stringified."""
    value = data.get(key)
    if isinstance(value, bool) or value is None:
        raise MalformedPayload(f"'{key}' is required")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"'{key}' must be a non-empty string")
    return value.strip()


def get_opt_str(data: Mapping[str, Any], key: str) -> str | None:
    """`data[key]` as a string, or None when absent, null or empty."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedPayload(f"'{key}' must be a string")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if not isinstance(value, str):
        raise MalformedPayload(f"'{key}' must be a string")
    return value.strip() or None


MAX_INT = 10**15  # larger "integers" in a webhook are garbage, and huge exponents are a DoS


def get_int(data: Mapping[str, Any], key: str, default: int | None = None) -> int:
    """`data[key]` as an integer (JSON number or numeric string) of magnitude below 10**15."""
    value = data.get(key, default)
    if isinstance(value, bool) or value is None:
        raise MalformedPayload(f"'{key}' must be an integer")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedPayload(f"'{key}' must be an integer") from exc
    # Compare before converting: int(Decimal("1e999999")) would build a million-digit int.
    if not number.is_finite() or abs(number) >= MAX_INT:
        raise MalformedPayload(f"'{key}' is out of range")
    if number != number.to_integral_value():
        raise MalformedPayload(f"'{key}' must be an integer")
    return int(number)


def parse_time(value: Any, field_name: str = "time") -> datetime:
    """An ISO-8601 (or Unix epoch seconds) time as timezone-aware UTC.

    Naive ISO times are taken as UTC. Raises `MalformedPayload` when unreadable.
    """
    if isinstance(value, bool):
        raise MalformedPayload(f"'{field_name}' must be a time")
    if isinstance(value, (int, Decimal)):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedPayload(f"'{field_name}' is out of range") from exc
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"'{field_name}' must be an ISO-8601 time")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedPayload(f"'{field_name}' is not an ISO-8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+14:00
        raise MalformedPayload(f"'{field_name}' is out of range") from exc


def parse_money(amount: Any, currency: Any, field_name: str = "amount") -> Money:
    """A `Money` from a decimal string/number and an ISO 4217 code."""
    if isinstance(amount, bool) or amount is None:
        raise MalformedPayload(f"'{field_name}' is required")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise MalformedPayload(f"'{field_name}' is not a number: {amount!r}") from exc
    if not value.is_finite() or abs(value) >= MAX_INT:
        raise MalformedPayload(f"'{field_name}' is out of range")
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        raise MalformedPayload(f"currency of '{field_name}' must be a 3-letter code")
    return Money(value, currency.strip().upper())


def body_digest(raw_body: bytes) -> str:
    """A dedupe key for partners that send no delivery id: SHA-256 hex of the exact body."""
    return hashlib.sha256(raw_body).hexdigest()


MAX_COUNT = 10**9 - 1


def get_count(
    data: Mapping[str, Any],
    key: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_COUNT,
    default: int | None = None,
) -> int:
    """`data[key]` as a whole number from `minimum` to `maximum` (quantities, unit counts).

    Absent or null gives `default` when one is given. Bounded before conversion, so a huge
    exponent never becomes a huge integer; raises `MalformedPayload` otherwise.
    """
    value = data.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise MalformedPayload(f"'{key}' must be a whole number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MalformedPayload(f"'{key}' must be a whole number") from exc
    if not number.is_finite() or not minimum <= number <= maximum or number % 1:
        raise MalformedPayload(f"'{key}' must be a whole number from {minimum} to {maximum}")
    return int(number)


def opt_time(value: Any, field_name: str) -> datetime | None:
    """`parse_time(value)`, or None when the partner sent nothing."""
    return None if value in (None, "") else parse_time(value, field_name)


def location_text(value: Any, keys: tuple[str, ...] = ("city", "state", "zip", "country")) -> str:
    """A readable place ("Louisville, KY, US") from an address-like object; "" if none."""
    if not isinstance(value, dict):
        return ""
    parts = (get_opt_str(value, key) for key in keys)
    return ", ".join(part for part in parts if part)
