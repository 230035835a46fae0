"""Generic WMS webhooks (our format): verify `X-Aftercare-Signature`, parse a return receipt.

For warehouses without a connector of their own. The format is ours, so it is specified
here; `tests/fixtures/generic_wms/*.json` are examples.

Signature: `X-Aftercare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
with the secret we issued for that merchant's warehouse (see
`chalicelib.connectors.aftercare_signature`): the exact bytes sent, `t` within 5 minutes of
our clock either way, several `v1=` entries allowed while rotating secrets.

Body (UTF-8 JSON object; unknown fields are ignored)::

    event                string, required: "return.received" (the parcel is in, maybe not
                         inspected) or "return.inspected" (every line has its disposition);
                         any other value is acknowledged and ignored
    return_code          string, required: our return code (RMA) printed on the return label
    warehouse_return_id  string, optional: the warehouse's own id; defaults to return_code
    order_id             string, optional: the order id as the shop knows it
    tracking_number      string, optional: the return parcel's tracking number
    occurred_at          string, required: ISO-8601 time of the receipt or inspection
                         ("2025-03-04T10:15:00Z"); a time without an offset is read as UTC
    lines[]              required, 1 to 200 objects:
      sku                string, required
      quantity           integer, required, 1 to 100000: units received in this state
      disposition        "resellable" | "needs_repair" | "scrap"; required for
                         return.inspected, optional (null or absent) for return.received
      note               string, optional, at most 1000 characters
      photos             list of http(s) URLs, optional, at most 20, each <= 2048 characters

The same SKU may appear on several lines (e.g. 2 resellable, 1 scrap). A body that breaks
these rules is refused with 400 (`MalformedPayload`) naming the field. There is no event id:
the SHA-256 of the body is the dedupe key, so a re-sent body is recognised as a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.connectors.aftercare_signature import DEFAULT_TOLERANCE, verify_timestamped
from chalicelib.connectors.base import (
    Headers,
    body_digest,
    get_count,
    get_list,
    get_opt_str,
    get_str,
    load_json,
    parse_time,
)
from chalicelib.errors import MalformedPayload
from chalicelib.events import Event, Ignored, ReceivedLine, ReturnReceived
from chalicelib.policy.dispositions import normalize_disposition

__all__ = ["RETURN_RECEIVED", "RETURN_INSPECTED", "verify", "delivery_id", "parse"]

RETURN_RECEIVED = "return.received"
RETURN_INSPECTED = "return.inspected"
MAX_LINES = 200
MAX_UNITS = 100_000
MAX_NOTE = 1000
MAX_PHOTOS = 20
MAX_URL = 2048


def verify(
    headers: Headers, raw_body: bytes, secrets: Sequence[str], *, now: datetime | None = None
) -> None:
    """Check `X-Aftercare-Signature` (5-minute window) against any of `secrets`.

    Raises `BadSignature` when it is missing, malformed, stale or matches no secret.
    """
    verify_timestamped(headers, raw_body, secrets, now=now, tolerance=DEFAULT_TOLERANCE)


def delivery_id(headers: Headers, raw_body: bytes) -> str:
    """Dedupe key: the SHA-256 of the exact body (the format carries no event id)."""
    return body_digest(raw_body)


def _quantity(line: Mapping[str, Any]) -> int:
    if isinstance(line.get("quantity"), str):  # our format documents a JSON number
        raise MalformedPayload("'quantity' must be an integer")
    return get_count(line, "quantity", minimum=1, maximum=MAX_UNITS)


def _photos(line: Mapping[str, Any]) -> tuple[str, ...]:
    photos = get_list(line, "photos")
    if len(photos) > MAX_PHOTOS:
        raise MalformedPayload(f"'photos' holds at most {MAX_PHOTOS} URLs")
    for url in photos:
        if not isinstance(url, str) or len(url) > MAX_URL:
            raise MalformedPayload(f"each of 'photos' must be a URL of at most {MAX_URL} chars")
        if not url.startswith(("https://", "http://")):
            raise MalformedPayload("each of 'photos' must be an http(s) URL")
    return tuple(photos)


def _line(line: Any, inspected: bool) -> ReceivedLine:
    if not isinstance(line, dict):
        raise MalformedPayload("each of 'lines' must be an object")
    word = get_opt_str(line, "disposition")
    disposition = normalize_disposition("generic", word)
    if word is not None and disposition is None:
        raise MalformedPayload(f"'disposition' must be resellable, needs_repair or scrap: {word!r}")
    if inspected and disposition is None:
        raise MalformedPayload("'disposition' is required on every line of return.inspected")
    note = get_opt_str(line, "note") or ""
    if len(note) > MAX_NOTE:
        raise MalformedPayload(f"'note' holds at most {MAX_NOTE} characters")
    return ReceivedLine(
        get_str(line, "sku"),
        _quantity(line),
        disposition,
        note=note,
        photo_urls=_photos(line),
    )


def parse(headers: Headers, raw_body: bytes) -> list[Event]:
    """The `ReturnReceived` of a verified generic WMS delivery (format: module docstring).

    Raises `MalformedPayload` naming the first field that breaks the format.
    """
    data = load_json(raw_body)
    event = get_str(data, "event")
    occurred_at_text = data.get("occurred_at")
    if not isinstance(occurred_at_text, str):
        raise MalformedPayload("'occurred_at' must be an ISO-8601 string")
    occurred_at = parse_time(occurred_at_text, "occurred_at")
    if event not in (RETURN_RECEIVED, RETURN_INSPECTED):
        return [Ignored(occurred_at, topic=event)]
    inspected = event == RETURN_INSPECTED
    raw_lines = get_list(data, "lines", required=True)
    if not 1 <= len(raw_lines) <= MAX_LINES:
        raise MalformedPayload(f"'lines' must hold 1 to {MAX_LINES} lines")
    return_code = get_str(data, "return_code")
    return [
        ReturnReceived(
            occurred_at,
            warehouse_return_id=get_opt_str(data, "warehouse_return_id") or return_code,
            lines=tuple(_line(line, inspected) for line in raw_lines),
            return_code=return_code,
            order_id=get_opt_str(data, "order_id"),
            tracking_number=get_opt_str(data, "tracking_number"),
            inspected=inspected,
        )
    ]
