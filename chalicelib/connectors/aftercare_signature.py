"""Aftercare's own webhook signature (Stripe-like), shared by every `generic_*` connector.

Partners without a scheme of their own sign with the secret we issued them:

    X-Aftercare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

- `t` is the time of signing in whole Unix seconds; it is part of the signed bytes, so it
  cannot be moved. A request more than `tolerance` seconds (default 300) away from our
  clock, in either direction, is refused as a possible replay.
- `v1` may appear more than once (the sender signs with the old and the new secret while
  rotating); one match with any of our `secrets` is enough. Unknown keys (`v0`, `v2`...)
  are ignored, so the scheme can grow without breaking receivers.
- Comparison is constant time and tries every candidate, so timing does not say which
  secret or signature matched.

`check_freshness` is exported for other timestamped schemes (e.g. ShipBob's) to apply the
same window with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from chalicelib.connectors.base import Headers, hmac_sha256, matches_any, require_header
from chalicelib.errors import BadSignature

__all__ = [
    "HEADER",
    "DEFAULT_TOLERANCE",
    "sign_timestamped",
    "verify_timestamped",
    "check_freshness",
    "usable_secrets",
    "any_signature_matches",
]

HEADER = "X-Aftercare-Signature"
DEFAULT_TOLERANCE = 300
_MAX_TIMESTAMP_DIGITS = 12


def usable_secrets(secrets: Sequence[str]) -> list[str]:
    """The non-empty secrets; raises `BadSignature` when none is configured.

    A bare string is refused (`TypeError`): iterating it would make each character a secret.
    """
    if isinstance(secrets, (str, bytes)):
        raise TypeError("secrets must be a sequence of strings, not a single string")
    found = [secret for secret in secrets if secret]
    if not found:
        raise BadSignature("no signing secret configured")
    return found


def any_signature_matches(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    """True when any `given` signature equals any `expected` digest (all pairs, constant time)."""
    found = False
    for signature in given:
        found |= matches_any(expected, signature)
    return found


def check_freshness(timestamp_text: str, now: datetime | None, tolerance: int, what: str) -> int:
    """`timestamp_text` as Unix seconds, within `tolerance` of `now` (UTC clock when None).

    Raises `BadSignature` naming `what` when it is not a whole number or is out of the window.
    """
    text = timestamp_text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_TIMESTAMP_DIGITS:
        raise BadSignature(f"{what} is not a Unix timestamp")
    signed_at = int(text)
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - signed_at) > tolerance:
        raise BadSignature(f"{what} is outside the {tolerance}s tolerance (possible replay)")
    return signed_at


def _signed_bytes(timestamp: int | str, raw_body: bytes) -> bytes:
    return f"{timestamp}.".encode() + raw_body


def sign_timestamped(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The `X-Aftercare-Signature` value for `raw_body` signed with `secret` at `timestamp`."""
    digest = hmac_sha256(secret, _signed_bytes(timestamp, raw_body)).hex()
    return f"t={timestamp},v1={digest}"


def _parse_header(value: str) -> tuple[str, list[bytes]]:
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamps.append(item.strip())
        elif key == "v1":
            try:
                signatures.append(bytes.fromhex(item.strip()))
            except ValueError:
                continue  # not hex: cannot match, other entries may
    if len(timestamps) != 1:
        raise BadSignature(f"{HEADER} must carry exactly one t=<timestamp>")
    if not signatures:
        raise BadSignature(f"{HEADER} carries no hex v1 signature")
    return timestamps[0], signatures


def verify_timestamped(
    headers: Headers,
    raw_body: bytes,
    secrets: Sequence[str],
    now: datetime | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Check `X-Aftercare-Signature` over the exact `raw_body` against any of `secrets`.

    Raises `BadSignature` when the header is missing or malformed, no secret is configured,
    no v1 signature matches, or the timestamp is outside `tolerance` seconds of `now`.
    """
    keys = usable_secrets(secrets)
    timestamp_text, given = _parse_header(require_header(headers, HEADER))
    if not (timestamp_text.isascii() and timestamp_text.isdigit()):
        raise BadSignature(f"{HEADER} t= is not a Unix timestamp")
    signed = _signed_bytes(timestamp_text, raw_body)
    expected = [hmac_sha256(key, signed) for key in keys]
    if not any_signature_matches(expected, given):
        raise BadSignature(f"{HEADER} does not match the body")
    check_freshness(timestamp_text, now, tolerance, f"{HEADER} t=")
