"""Who is asking: the console session cookie, or a Shopify session token (embedded admin).

`principal(...)` returns a `Principal` (merchant, user, role, CSRF token) or raises
Unauthorized. A `Bearer` session token is verified per request (it is not an ambient
credential, so it needs no CSRF token); the cookie is, so every state change made with it
must carry the session's CSRF token (`check_csrf`, 403 otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.console import session as sessions
from chalicelib.console import shopify_jwt
from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.store.models import MerchantItem

if TYPE_CHECKING:
    from chalicelib.deps import Deps

__all__ = ["Principal", "console_keys", "principal", "check_csrf", "DEV_SECRET"]

# Off prod only, when AFTERCARE_CONSOLE_SECRETS is unset: documented, protects nothing.
DEV_SECRET = "console-dev-session-key-NOT-A-SECRET"


@dataclass(frozen=True)
class Principal:
    """The signed-in user of one merchant."""

    merchant: MerchantItem
    user: str
    role: str
    session: sessions.Session | None  # None for an embedded (session token) request
    csrf: str  # "" for embedded requests

    @property
    def embedded(self) -> bool:
        return self.session is None


def console_keys(d: Deps) -> tuple[str, ...]:
    """The console's HMAC keys, current first (SSM in AWS)."""
    from chalicelib.secrets import SecretUnavailable

    resolved = d.secrets.resolve(d.settings.console_secrets)
    if resolved:
        return resolved
    if d.settings.stage == "prod":
        raise SecretUnavailable("AFTERCARE_CONSOLE_SECRETS is not set on the prod stage")
    return (DEV_SECRET,)


def _embedded(d: Deps, token: str, now: datetime) -> Principal:
    secrets = d.secrets.resolve(d.settings.shopify_api_secrets)
    claims = shopify_jwt.verify(token, secrets, d.settings.shopify_api_key, now)
    from chalicelib.inbound import shopify_merchant_id

    merchant, _ = d.store.cached_merchant(shopify_merchant_id(claims.shop))
    if merchant is None or merchant.status != "active" or merchant.shop_domain != claims.shop:
        raise Unauthorized("this shop has not installed Aftercare")
    return Principal(merchant, f"shopify:{claims.user_id or 'staff'}", "admin", None, "")


def principal(d: Deps, headers: Mapping[str, str], now: datetime) -> Principal:
    """The caller, from `Authorization: Bearer <session token>` or the session cookie."""
    authorization = headers.get("authorization") or ""
    if authorization.startswith("Bearer "):
        return _embedded(d, authorization[len("Bearer ") :].strip(), now)
    secret_keys = console_keys(d)
    found = sessions.read(headers.get("cookie"), secret_keys, now)
    if found is None:
        raise Unauthorized("sign in to the console")
    merchant, _ = d.store.cached_merchant(found.merchant_id)
    if merchant is None or merchant.status != "active":
        raise Unauthorized("sign in to the console")
    return Principal(
        merchant, found.user, found.role, found, sessions.csrf_token(found, secret_keys[0])
    )


def check_csrf(d: Deps, who: Principal, given: str | None) -> None:
    """Refuse (403) a cookie-authenticated state change without this session's CSRF token."""
    if who.session is None:
        return
    if not sessions.csrf_ok(who.session, given, console_keys(d)):
        raise Forbidden("the form has expired or did not come from the console (CSRF token)")
