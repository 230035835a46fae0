"""Secrets: SSM Parameter Store SecureStrings, decrypted, cached in memory for a TTL; never logged.

A secret setting is a list of entries, current first. An entry `ssm:<parameter name>` is read
from SSM Parameter Store (`GetParameter`, `WithDecryption`); its value may itself hold
`current,previous` so that one `put-parameter` starts a rotation's grace window and another
ends it (Shopify: accept both until the old client secret is revoked). Any other entry is a
literal value: allowed locally and in tests, refused on the prod stage, where secrets never
come from plain environment variables.

Values are cached per parameter for `ttl` (read on the first request of a cold start, then at
most once per TTL per warm container). When a refresh fails and a value is cached, the stale
value keeps serving for a short while (an SSM hiccup must not turn every webhook into a 500);
without a cached value the failure raises `SecretUnavailable`, which names the parameter and
never the value. boto3 is imported on first use only.

Why not Powertools' parameters utility: it would add a dependency (and its import) for what
is one call and a dict here, and its cache clock cannot be injected, so TTL tests would patch
time instead of passing a clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.log import get_logger

__all__ = ["SecretStore", "SecretUnavailable", "SSM_PREFIX", "STALE_GRACE", "ssm_client"]

log = get_logger(__name__)
SSM_PREFIX = "ssm:"
STALE_GRACE = timedelta(seconds=60)  # how long a stale value serves after a failed refresh


class SecretUnavailable(RuntimeError):
    """A secret cannot be read now (missing parameter, SSM error, plain value refused).

    Deliberately not an `AftercareError`: the request fails with a 500, so partners retry
    later instead of being told their signature is wrong.
    """


@dataclass
class _Cached:
    value: str
    expires: datetime


class SecretStore:
    """Reads secret entries, SSM parameters through `client_factory()`'s client, with a TTL cache.

    `clock` is the app's clock (tests pass a fixed or advancing one); `plain_allowed` is False
    on the prod stage.
    """

    def __init__(
        self,
        client_factory: Callable[[], Any],
        *,
        ttl: timedelta,
        clock: Callable[[], datetime],
        plain_allowed: bool = True,
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._ttl = ttl
        self._clock = clock
        self._plain_allowed = plain_allowed
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the cache's values never reach a log line or a traceback
        return f"SecretStore(ttl={self._ttl}, cached={sorted(self._cache)})"

    def resolve(self, entries: Iterable[str]) -> tuple[str, ...]:
        """The secret values of `entries` (current first), `ssm:` entries read through the cache.

        Raises `SecretUnavailable`.
        """
        values: list[str] = []
        for entry in entries:
            if entry.startswith(SSM_PREFIX):
                raw = self.parameter(entry[len(SSM_PREFIX) :])
                values.extend(part.strip() for part in raw.split(",") if part.strip())
            elif self._plain_allowed:
                values.append(entry)
            else:
                raise SecretUnavailable(
                    "a secret is set as a plain environment value; on this stage every secret "
                    "must be an 'ssm:<parameter name>' entry"
                )
        return tuple(values)

    def parameter(self, name: str) -> str:
        """The decrypted value of SSM parameter `name`, cached for the TTL.

        Raises `SecretUnavailable`.
        """
        with self._lock:
            now = self._clock()
            cached = self._cache.get(name)
            if cached is not None and now < cached.expires:
                return cached.value
            try:
                value = self._fetch(name)
            except SecretUnavailable:
                if cached is None:
                    raise
                cached.expires = now + min(self._ttl, STALE_GRACE)
                log.warning("serving a stale secret after a failed refresh", extra={"param": name})
                return cached.value
            self._cache[name] = _Cached(value, now + self._ttl)
            return value

    def clear(self) -> None:
        """Forget every cached value (the next read goes to SSM)."""
        with self._lock:
            self._cache.clear()

    def _fetch(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._client is None:
                self._client = self._client_factory()
            response = self._client.get_parameter(Name=name, WithDecryption=True)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise SecretUnavailable(f"SSM parameter {name}: {code}") from exc
        except BotoCoreError as exc:
            raise SecretUnavailable(f"SSM unreachable for {name}: {type(exc).__name__}") from exc
        return str(response["Parameter"]["Value"])


def ssm_client(region: str, endpoint_url: str | None) -> Any:
    """An SSM client with bounded timeouts (moto server locally, through `endpoint_url`)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ssm",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 3}),
    )
