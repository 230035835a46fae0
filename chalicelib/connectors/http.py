"""Outbound HTTP for partner clients: bounded timeouts, retries honouring `Retry-After`.

One `PartnerHttp` per client wraps a `requests.Session`. A request that the partner did not
process (connection refused, 429, 503) is retried; one that it may have processed (a read
timeout, 500/502/504) is retried only when the caller says repeating it is safe (a GET, or
a mutation carrying an idempotency key). Waits honour `Retry-After` (seconds or an HTTP
date) and otherwise back off exponentially with jitter. A wait longer than `max_wait` is
not slept inside the request: `RetryLater` carries it to the caller (the outbox defers the
item by that long), so a Lambda never idles on a partner's throttle. `sleep` is injected,
so tests never sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ProviderError

if TYPE_CHECKING:
    import requests

    from chalicelib.config import Settings

__all__ = [
    "PartnerHttp",
    "RetryLater",
    "for_settings",
    "retry_after_seconds",
    "json_body",
    "TIMEOUT",
    "ALWAYS_RETRY",
    "UNSAFE_RETRY",
]

TIMEOUT = (3.05, 10.0)  # connect, read (seconds)
ALWAYS_RETRY = frozenset({429, 503})  # the partner did not process the request
UNSAFE_RETRY = frozenset({500, 502, 504})  # it may have: retry only idempotent requests


class RetryLater(ProviderError):
    """The partner asked us to come back later (throttle, outage); `retry_after` in seconds."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail, retryable=True)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or HTTP date); None if absent
    or unreadable. Never negative."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def json_body(response: requests.Response) -> Any:
    """The decoded JSON of `response`, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


class PartnerHttp:
    """Requests to one partner with retries; `name` appears in error details, never secrets."""

    def __init__(
        self,
        name: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        attempts: int = 3,
        max_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.name = name
        self._session = session
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.max_wait = max_wait
        self._sleep = sleep
        self._jitter = jitter

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def request(
        self, method: str, url: str, *, safe_to_repeat: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send with retries; returns the first response not retried (any status).

        Raises `RetryLater` when retries are exhausted on a retryable status or the wait
        asked for exceeds `max_wait`, and `ProviderError(retryable=True)` when the partner
        stays unreachable (the caller decides whether the outbox tries again).
        """
        import requests

        safe = safe_to_repeat or method.upper() in ("GET", "HEAD")
        retry_statuses = ALWAYS_RETRY | (UNSAFE_RETRY if safe else frozenset())
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A refused connection never reached the partner; a read timeout may have.
                unsent = isinstance(exc, requests.ConnectTimeout) or not isinstance(
                    exc, requests.Timeout
                )
                if last or not (unsent or safe):
                    raise ProviderError(f"{self.name} unreachable: {type(exc).__name__}") from exc
                self._wait(self._backoff(attempt), None)
                continue
            if response.status_code not in retry_statuses:
                return response
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            detail = f"{self.name} answered HTTP {response.status_code}"
            if last:
                raise RetryLater(detail, asked)
            self._wait(asked if asked is not None else self._backoff(attempt), detail)
        raise AssertionError("unreachable")

    def wait_or_defer(self, seconds: float, detail: str) -> None:
        """Sleep `seconds` if within `max_wait`; otherwise raise `RetryLater(seconds)`."""
        self._wait(seconds, detail)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_wait, 0.5 * 2 ** (attempt - 1))
        return self._jitter(0, ceiling) if ceiling > 0 else 0.0

    def _wait(self, seconds: float, detail: str | None) -> None:
        if seconds > self.max_wait:
            raise RetryLater(detail or f"{self.name} asked to retry later", seconds)
        if seconds > 0:
            self._sleep(seconds)


_sessions: dict[str, requests.Session] = {}


def for_settings(settings: Settings, name: str, *, attempts: int = 3) -> PartnerHttp:
    """A client for partner `name` with the configured timeout and longest inline wait; one
    pooled session per partner and process, created on first use."""
    if name not in _sessions:
        import requests

        _sessions[name] = requests.Session()
    return PartnerHttp(
        name,
        session=_sessions[name],
        timeout=(3.05, settings.partner_timeout_seconds),
        attempts=attempts,
        max_wait=settings.partner_max_wait_seconds,
    )
