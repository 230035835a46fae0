"""Shopify OAuth: the authorize URL, the code exchange and the refresh of expiring tokens.

Authorization code grant:
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
Expiring offline tokens: https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh
(`POST https://{shop}/admin/oauth/access_token` with `expiring=1`; the answer carries
`access_token`, `scope`, `expires_in`, `refresh_token`, `refresh_token_expires_in`; a refresh
uses `grant_type=refresh_token` and returns a new pair, the old refresh token retiring).
Tokens never appear in a repr, a log line or an error detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.connectors.http import PartnerHttp, json_body
from chalicelib.errors import ProviderError

__all__ = ["TokenSet", "ShopifyOAuth", "authorize_url", "expand_scopes", "missing_scopes"]


def expand_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Scopes as granted: `write_x` implies `read_x` (Shopify lists only the write scope)."""
    found = {s.strip() for s in scopes if s and s.strip()}
    return frozenset(found | {"read_" + s[6:] for s in found if s.startswith("write_")})


def missing_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """Requested scopes the merchant did not grant, sorted."""
    return sorted(expand_scopes(requested) - expand_scopes(granted))


def authorize_url(
    shop: str, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str
) -> str:
    """Where the merchant's browser approves our scopes (always the real shop, over https)."""
    query = {"client_id": client_id, "scope": ",".join(scopes), "redirect_uri": redirect_uri}
    return f"https://{shop}/admin/oauth/authorize?{urlencode({**query, 'state': state})}"


@dataclass(frozen=True)
class TokenSet:
    """An offline access token, its scopes and, for expiring tokens, the refresh token."""

    access_token: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(scopes={self.scopes}, expires_at={self.expires_at})"


def _token_set(body: Any, now: datetime, what: str) -> TokenSet:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ProviderError(f"Shopify {what} answered without an access token", retryable=False)

    def after(key: str) -> datetime | None:
        seconds = body.get(key)
        return now + timedelta(seconds=int(seconds)) if isinstance(seconds, int) else None

    return TokenSet(
        access_token=body["access_token"],
        scopes=tuple(s for s in str(body.get("scope") or "").split(",") if s),
        expires_at=after("expires_in"),
        refresh_token=body.get("refresh_token") or None,
        refresh_expires_at=after("refresh_token_expires_in"),
    )


class ShopifyOAuth:
    """The token endpoint of one shop. `base_url` is `https://{shop}` unless a test points
    it at a stub."""

    def __init__(self, shop: str, http: PartnerHttp, base_url: str | None = None) -> None:
        self.shop = shop
        self.http = http
        self._base = (base_url or f"https://{shop}").rstrip("/")

    def __repr__(self) -> str:
        return f"ShopifyOAuth({self.shop})"

    def exchange_code(self, client_id: str, secret: str, code: str, now: datetime) -> TokenSet:
        """The offline, expiring token for an authorization `code`; raises `ProviderError`."""
        body = {"client_id": client_id, "client_secret": secret, "code": code, "expiring": "1"}
        return self._token_request(body, now, "the code exchange")

    def refresh(self, client_id: str, secret: str, refresh_token: str, now: datetime) -> TokenSet:
        """A new token pair for `refresh_token`; raises `ProviderError`."""
        body = {
            "client_id": client_id,
            "client_secret": secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return self._token_request(body, now, "the token refresh")

    def _token_request(self, body: dict[str, str], now: datetime, what: str) -> TokenSet:
        url = f"{self._base}/admin/oauth/access_token"
        response = self.http.request("POST", url, json=body, headers={"Accept": "application/json"})
        data = json_body(response)
        if response.status_code != 200:
            reason = data.get("error_description") or data.get("error") if data else ""
            detail = f"Shopify refused {what} (HTTP {response.status_code}): {reason or ''}"
            raise ProviderError(detail.rstrip(": "), retryable=response.status_code >= 500)
        return _token_set(data, now, what)
