"""The composition root: builds settings, store and providers on first use, once per settings.

Nothing is built at import. `deps()` reads the environment now (Chalice's test client swaps
it per request) and returns the cached `Deps` for those settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, load_settings
from chalicelib.log import configure

if TYPE_CHECKING:
    from chalicelib.metrics import Metrics
    from chalicelib.notify.providers import SmsProvider
    from chalicelib.secrets import SecretStore
    from chalicelib.store.repository import Store

__all__ = ["Deps", "deps", "utc_now", "set_clock"]


def utc_now() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = utc_now


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock every `Deps.now()` reads (tests fix time with it); None restores it."""
    global _clock
    _clock = clock or utc_now


@dataclass
class Deps:
    """Everything a route, schedule or consumer needs, built lazily."""

    settings: Settings
    _store: Store | None = None
    _sms: dict[str, SmsProvider] = field(default_factory=dict)
    _secrets: SecretStore | None = None
    _metrics: Metrics | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> Store:
        if self._store is None:
            from chalicelib.store.repository import Store

            self._store = Store(self.settings)
        return self._store

    def sms(self, name: str = "sns") -> SmsProvider:
        """The SMS provider `name`, built on first use."""
        with self._lock:
            if name not in self._sms:
                from chalicelib.notify.providers import build_provider

                self._sms[name] = build_provider(name, self.settings)
            return self._sms[name]

    @property
    def secrets(self) -> SecretStore:
        """Secrets (`ssm:` entries from SSM Parameter Store), cached for the configured TTL."""
        if self._secrets is None:
            from datetime import timedelta

            from chalicelib.secrets import SecretStore, ssm_client

            settings = self.settings
            self._secrets = SecretStore(
                lambda: ssm_client(settings.region, settings.aws_endpoint),
                ttl=timedelta(seconds=settings.secrets_ttl_seconds),
                clock=self.now,
                plain_allowed=settings.stage != "prod",
            )
        return self._secrets

    @property
    def metrics(self) -> Metrics:
        """The EMF metrics writer (silent unless `AFTERCARE_METRICS=emf`)."""
        if self._metrics is None:
            from chalicelib.metrics import build

            self._metrics = build(self.settings, self.now)
        return self._metrics

    def now(self) -> datetime:
        return _clock()


_cache: dict[Settings, Deps] = {}
_cache_lock = threading.Lock()


def deps(environ: Mapping[str, str] | None = None, **overrides: Any) -> Deps:
    """The `Deps` for the current settings (built once per distinct settings)."""
    settings = load_settings(environ, **overrides)
    with _cache_lock:
        built = _cache.get(settings)
        if built is None:
            configure(settings.log_level)
            built = _cache[settings] = Deps(settings)
        return built
