"""Shopify App Bridge session tokens (embedded admin): verify an HS256 JWT, return its shop.

Pure: no I/O, the clock is passed in. Checks, as Shopify's own libraries do: the header
names HS256 (nothing else is accepted, `none` included), the signature matches one of the
app's client secrets (current first, then the previous one during a rotation), `exp` and
`nbf` hold within `LEEWAY` seconds, `aud` is the app's API key (client id), `dest` is
`https://<shop>.myshopify.com` and `iss` is that shop's `/admin`. Any failure raises
`Unauthorized` (401) with a reason that never repeats the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.errors import Unauthorized

__all__ = ["SessionToken", "verify", "encode", "LEEWAY", "SHOP_DOMAIN"]

LEEWAY = 5  # seconds of clock skew accepted on exp and nbf
MAX_TOKEN = 4096
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$")


@dataclass(frozen=True)
class SessionToken:
    """The verified claims the console uses."""

    shop: str  # e.g. demo.myshopify.com
    user_id: str  # `sub`: the Shopify staff member
    session_id: str  # `sid`


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode(claims: dict[str, Any], secret: str) -> str:
    """An HS256 JWT of `claims` (tests and the local embedded preview sign with it)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def _json(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized(f"session token {what} is not valid base64url JSON") from exc
    if not isinstance(value, dict):
        raise Unauthorized(f"session token {what} is not a JSON object")
    return value


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"session token has no numeric '{name}'")
    return float(value)


def _shop(claims: dict[str, Any]) -> str:
    dest = claims.get("dest")
    if not isinstance(dest, str) or not dest.startswith("https://"):
        raise Unauthorized("session token 'dest' is not an https shop URL")
    shop = dest[len("https://") :].rstrip("/").lower()
    if not SHOP_DOMAIN.match(shop):
        raise Unauthorized("session token 'dest' is not a myshopify.com shop")
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss.rstrip("/").lower() != f"https://{shop}/admin":
        raise Unauthorized("session token 'iss' does not match its 'dest'")
    return shop


def verify(token: str, secrets: Iterable[str], api_key: str, now: datetime) -> SessionToken:
    """The shop and user of a valid session token; raises `Unauthorized` otherwise."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise Unauthorized("session token is not a JWT")
    header_part, payload_part, signature_part = token.split(".")
    header = _json(header_part, "header")
    if header.get("alg") != "HS256":
        raise Unauthorized("session token must be signed with HS256")
    try:
        signature = _b64decode(signature_part)
    except ValueError as exc:
        raise Unauthorized("session token signature is not base64url") from exc
    signing_input = f"{header_part}.{payload_part}".encode()
    keys = [secret for secret in secrets if secret]
    if not keys or not api_key:
        raise Unauthorized("the Shopify app is not configured for embedded sessions")
    if not any(
        hmac.compare_digest(hmac.new(k.encode(), signing_input, hashlib.sha256).digest(), signature)
        for k in keys
    ):
        raise Unauthorized("session token signature does not match")
    claims = _json(payload_part, "payload")
    moment = now.timestamp()
    if moment > _number(claims, "exp") + LEEWAY:
        raise Unauthorized("session token has expired")
    if moment < _number(claims, "nbf") - LEEWAY:
        raise Unauthorized("session token is not valid yet")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if api_key not in audiences:
        raise Unauthorized("session token was issued for another app")
    shop = _shop(claims)
    return SessionToken(
        shop=shop, user_id=str(claims.get("sub") or ""), session_id=str(claims.get("sid") or "")
    )
