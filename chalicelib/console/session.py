"""Console sessions: a signed, short-lived cookie naming merchant, user and role; CSRF tokens.

Pure (keys and clock are passed in). The cookie is `base64url(json).base64url(hmac)` signed
with HMAC-SHA256 under the current console secret; verification also accepts the previous
secret during a rotation. Nothing in it is secret (ids, role, expiry), but nothing in it can
be changed. The CSRF token is an HMAC of the session id, so it needs no storage and dies with
the session; every state-changing request must echo it (form field or `X-CSRF-Token`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets as token_source
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie

__all__ = [
    "COOKIE",
    "TTL",
    "Session",
    "issue",
    "read",
    "set_cookie",
    "clear_cookie",
    "cookie_value",
    "csrf_token",
    "csrf_ok",
]

COOKIE = "aftercare_console"
TTL = timedelta(hours=2)  # an absolute lifetime: sign in again after it


@dataclass(frozen=True)
class Session:
    """Who is signed in: merchant, user label, role, session id, expiry (epoch seconds)."""

    merchant_id: str
    user: str
    role: str
    sid: str
    expires: int
    embedded: bool = False


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def issue(merchant_id: str, user: str, role: str, now: datetime) -> Session:
    """A new session for a successful sign-in."""
    expires = int((now + TTL).timestamp())
    return Session(merchant_id, user, role, token_source.token_urlsafe(16), expires)


def cookie_value(session: Session, key: str) -> str:
    """The signed cookie value of `session` under `key` (the current secret)."""
    body = {
        "m": session.merchant_id,
        "u": session.user,
        "r": session.role,
        "s": session.sid,
        "e": session.expires,
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, payload.encode()))}"


def read(cookie_header: str | None, keys: Sequence[str], now: datetime) -> Session | None:
    """The valid, unexpired session in a Cookie header, or None."""
    if not cookie_header or len(cookie_header) > 8192:
        return None
    try:
        morsel = SimpleCookie(cookie_header).get(COOKIE)
    except CookieError:
        return None
    if morsel is None or morsel.value.count(".") != 1:
        return None
    payload, signature = morsel.value.split(".")
    try:
        given = _unb64(signature)
        body = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    if not any(hmac.compare_digest(_mac(k, payload.encode()), given) for k in keys if k):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("e"), int):
        return None
    if body["e"] <= now.timestamp():
        return None
    try:
        return Session(str(body["m"]), str(body["u"]), str(body["r"]), str(body["s"]), body["e"])
    except KeyError:
        return None


def set_cookie(value: str, *, secure: bool = True) -> str:
    """The Set-Cookie header: HttpOnly, Secure, SameSite=Strict, scoped to /console."""
    seconds = int(TTL.total_seconds())
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={value}; Path=/console; Max-Age={seconds}; HttpOnly{flags}; SameSite=Strict"


def clear_cookie() -> str:
    return f"{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def csrf_token(session: Session, key: str) -> str:
    """The CSRF token bound to this session (stateless: an HMAC of its id)."""
    return _b64(_mac(key, f"csrf:{session.sid}".encode()))


def csrf_ok(session: Session, given: str | None, keys: Sequence[str]) -> bool:
    """Whether `given` is this session's CSRF token under any accepted key."""
    if not given or len(given) > 200:
        return False
    return any(hmac.compare_digest(csrf_token(session, k), given) for k in keys if k)
