"""The portal's short-lived lookup session cookie and the CSRF token bound to it.

A successful order lookup sets `ac_portal` (HttpOnly, Secure, SameSite=Lax, path `/r/{slug}`):
a signed `{merchant, order, session id, exp}`. Every form carries a CSRF token, an HMAC of the
session id, so a post is accepted only with both the cookie and the token of the same session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from chalicelib.pages.signing import Signer

__all__ = [
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "Session",
    "new_session",
    "read_session",
    "session_cookie",
    "csrf_token",
    "csrf_ok",
    "cookie_value",
]

SESSION_COOKIE = "ac_portal"
SESSION_SECONDS = 30 * 60


@dataclass(frozen=True)
class Session:
    """Who looked up which order (no personal data: ids only)."""

    merchant_id: str
    order_id: str
    sid: str
    token: str  # the signed cookie value


def new_session(signer: Signer, merchant_id: str, order_id: str, now_ts: int) -> Session:
    sid = secrets.token_urlsafe(16)
    payload = {"m": merchant_id, "o": order_id, "s": sid, "exp": now_ts + SESSION_SECONDS}
    return Session(merchant_id, order_id, sid, signer.sign("portal-session", payload))


def read_session(signer: Signer, value: str | None, now_ts: int) -> Session | None:
    payload = signer.verify("portal-session", value, now_ts)
    if payload is None or not all(isinstance(payload.get(k), str) for k in ("m", "o", "s")):
        return None
    return Session(payload["m"], payload["o"], payload["s"], value or "")


def session_cookie(session: Session, slug: str, base: str = "") -> str:
    return (
        f"{SESSION_COOKIE}={session.token}; Path={base}/r/{slug}; Max-Age={SESSION_SECONDS};"
        " HttpOnly; Secure; SameSite=Lax"
    )


def csrf_token(signer: Signer, session: Session) -> str:
    return signer.digest("portal-csrf", session.sid, length=43)


def csrf_ok(signer: Signer, session: Session | None, token: str | None) -> bool:
    if session is None or not token:
        return False
    return hmac.compare_digest(csrf_token(signer, session).encode(), token.encode())


def cookie_value(header: str | None, name: str) -> str | None:
    if not header:
        return None
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
