"""Twilio SMS provider: the REST `Messages` resource over `requests`, with status callbacks.

API: https://www.twilio.com/docs/messaging/api/message-resource (POST
`/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth with the
Account SID and auth token). Every message asks for status callbacks at our
`/webhooks/sms/twilio` route, where `connectors.twilio_inbound` verifies them.

Errors: a timeout or connection error, HTTP 429, 5xx, Twilio 20429 (too many requests) and
401/403 (credentials being rotated) may succeed later: `ProviderError(retryable=True)`.
Twilio 21610 (the recipient replied STOP to our number) is `RecipientOptedOut`; any other
4xx (21211 invalid number, 21614 not a mobile...) is permanent. No Twilio SDK: this is one
POST. Credentials come from settings; auth tokens written `ssm:<name>` are read from SSM
Parameter Store through `chalicelib.secrets` (cached for the secrets TTL, so a rotated token
is picked up without a deploy; plain values are refused on the prod stage).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ProviderError
from chalicelib.log import mask_text
from chalicelib.notify.providers import RecipientOptedOut

if TYPE_CHECKING:
    import requests

    from chalicelib.config import Settings
    from chalicelib.secrets import SecretStore

__all__ = ["TwilioSms", "build", "auth_tokens", "status_callback_url", "OPTED_OUT_CODES"]

OPTED_OUT_CODES = frozenset({21610})  # "Attempt to send to unsubscribed recipient"
_RETRYABLE_CODES = frozenset({20429})  # "Too Many Requests"
_RETRYABLE_HTTP = frozenset({401, 403, 408, 409, 429})
TIMEOUT = (3.05, 10.0)  # connect, read (seconds)
WEBHOOK_PATH = "/webhooks/sms/twilio"


class TwilioSms:
    """Sends through Twilio's REST API from one number or Messaging Service."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str | Callable[[], str],
        sender: str,
        *,
        status_callback: str | None = None,
        api_base: str = "https://api.twilio.com",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        import requests

        self._account_sid = account_sid
        self._auth_token = auth_token if callable(auth_token) else (lambda: auth_token)
        self._sender = sender
        self._status_callback = status_callback
        self._url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._session = session or requests.Session()
        self._timeout = timeout

    def send(self, to: str, text: str, *, reference: str) -> str:
        """Create the message; returns its SID (SM...). Raises `ProviderError`."""
        import requests

        from chalicelib.secrets import SecretUnavailable

        try:
            auth = (self._account_sid, self._auth_token())
        except SecretUnavailable as exc:
            raise ProviderError(f"Twilio auth token unavailable: {exc}") from exc
        data = {"To": to, "Body": text}
        data["MessagingServiceSid" if self._sender.startswith("MG") else "From"] = self._sender
        if self._status_callback:
            data["StatusCallback"] = self._status_callback
        try:
            response = self._session.post(self._url, data=data, auth=auth, timeout=self._timeout)
        except requests.RequestException as exc:  # timeouts, refused connections, TLS
            raise ProviderError(f"Twilio unreachable: {type(exc).__name__}") from exc
        body = _json(response)
        if response.status_code in (200, 201):
            sid = body.get("sid")
            if not isinstance(sid, str) or not sid:
                raise ProviderError("Twilio accepted the message without a sid", retryable=False)
            return sid
        raise _error(response.status_code, body)


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, body: dict[str, Any]) -> ProviderError:
    code = body.get("code")
    message = mask_text(str(body.get("message") or "")[:300])
    detail = f"Twilio {code or 'HTTP'} (HTTP {status}): {message}".rstrip(": ")
    if code in OPTED_OUT_CODES:
        return RecipientOptedOut(detail)
    retryable = status >= 500 or status in _RETRYABLE_HTTP or code in _RETRYABLE_CODES
    return ProviderError(detail, retryable=retryable)


def status_callback_url(settings: Settings) -> str:
    """Where Twilio posts status callbacks and inbound messages: our public webhook URL."""
    return settings.public_url.rstrip("/") + WEBHOOK_PATH


@lru_cache(maxsize=8)
def _secrets(settings: Settings) -> SecretStore:
    """The provider's own secret cache (the composition root builds providers from settings)."""
    from datetime import timedelta

    from chalicelib.deps import utc_now
    from chalicelib.secrets import SecretStore, ssm_client

    return SecretStore(
        lambda: ssm_client(settings.region, settings.aws_endpoint),
        ttl=timedelta(seconds=settings.secrets_ttl_seconds),
        clock=utc_now,
        plain_allowed=settings.stage != "prod",
    )


def auth_tokens(settings: Settings, secrets: SecretStore | None = None) -> tuple[str, ...]:
    """The auth tokens, current first, `ssm:` entries resolved through `secrets`.

    Raises `ValueError` when none is configured and `SecretUnavailable` when one cannot be read.
    """
    tokens = (secrets or _secrets(settings)).resolve(settings.twilio_auth_tokens)
    if not tokens:
        raise ValueError("Twilio is not configured: set AFTERCARE_TWILIO_AUTH_TOKENS")
    return tokens


def build(settings: Settings) -> TwilioSms:
    """The provider from settings; raises `ValueError` when Twilio is not configured."""
    if not settings.twilio_account_sid or not settings.twilio_from:
        raise ValueError(
            "Twilio is not configured: set AFTERCARE_TWILIO_ACCOUNT_SID and AFTERCARE_TWILIO_FROM"
        )
    if not settings.twilio_auth_tokens:
        raise ValueError("Twilio is not configured: set AFTERCARE_TWILIO_AUTH_TOKENS")
    return TwilioSms(
        settings.twilio_account_sid,
        lambda: auth_tokens(settings)[0],
        settings.twilio_from,
        status_callback=status_callback_url(settings),
        api_base=settings.twilio_api_base,
    )
