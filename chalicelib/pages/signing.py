"""HMAC signing of the customer pages' cookies and tokens, with key rotation.

A signed value is `<payload base64url>.<mac base64url>`; the MAC covers a purpose label too,
so a token made for one use (a session) is never accepted for another (a CSRF token). The
first key signs, every key verifies (rotation: put the new key first, keep the old one a day).
Off prod a fixed, documented dev key is used when none is configured; on prod no key means
the pages refuse to work (503) rather than sign with a known key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.errors import AftercareError

__all__ = ["DEV_KEY", "Signer", "PagesUnavailable", "signer_for"]

DEV_KEY = "aftercare-local-pages-key-NOT-A-SECRET"


class PagesUnavailable(AftercareError):
    code = "pages_unavailable"
    http_status = 503


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and verifies small JSON payloads with the configured keys."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise PagesUnavailable("the customer pages have no signing key configured")
        self._keys = tuple(key.encode() for key in keys)

    def _mac(self, key: bytes, purpose: str, body: bytes) -> bytes:
        return hmac.new(key, purpose.encode() + b"\x1f" + body, hashlib.sha256).digest()

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(self._keys[0], purpose, body))}"

    def verify(self, purpose: str, token: str | None, now_ts: int) -> dict[str, Any] | None:
        """The payload of a valid, unexpired (`exp` in epoch seconds) token, else None."""
        if not token or token.count(".") != 1 or len(token) > 2048:
            return None
        try:
            body_text, mac_text = token.split(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (ValueError, TypeError):
            return None
        if not any(hmac.compare_digest(mac, self._mac(k, purpose, body)) for k in self._keys):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or int(payload.get("exp", 0)) < now_ts:
            return None
        return payload

    def digest(self, purpose: str, *parts: str, length: int = 22) -> str:
        """A deterministic, unguessable id (base64url) of `parts`: status-page tokens."""
        body = "\x1f".join(parts).encode()
        return _b64(self._mac(self._keys[0], purpose, body))[:length]


def signer_for(settings: Any, resolve: Any = None) -> Signer:
    """The signer of `settings` (`pages_secrets`, "ssm:" entries resolved by `resolve`)."""
    entries = tuple(settings.pages_secrets or ())
    if entries and resolve is not None and any(e.startswith("ssm:") for e in entries):
        entries = tuple(resolve(entries))
    if not entries and settings.stage != "prod":
        entries = (DEV_KEY,)
    return Signer(entries)
