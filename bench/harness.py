"""The app under measurement: embedded stack, environment, Chalice test client, merchants, clock.

`Harness.start()` starts `devtools.stack.LocalStack` (DynamoDB Local in Java, moto server in
a thread), points the app at it through the environment, hooks the DynamoDB call counter in
before the app builds a single client, and opens `chalice.test.Client`: requests go through
Chalice's routing, the route code and the core in this process, as API Gateway's proxy
event would drive them (no HTTP socket between the client and the app: said in the README).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.calls import Call, CallCounter
from bench.payloads import MERCHANT_SECRETS, TWILIO_AUTH_TOKEN, TWILIO_NUMBER, Request
from tests.data.generator import Merchant
from tests.signing import FAKE_SHOPIFY_SECRET

__all__ = ["Harness", "Response", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent
TABLE = "aftercare-bench"


@dataclass
class Response:
    """What one request did: status, decoded body, wall time and its DynamoDB calls."""

    status: int
    body: Any
    seconds: float
    calls: list[Call] = field(default_factory=list)

    @property
    def outcomes(self) -> list[str]:
        if not isinstance(self.body, dict):
            return []
        return [str(event.get("outcome")) for event in self.body.get("events", [])]


def _anchor() -> datetime:
    """Today 16:00 UTC: daytime for US recipients, so quiet hours do not defer their SMS."""
    return datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0)


class Harness:
    """One embedded stack and one app client for the whole run."""

    def __init__(self) -> None:
        self.counter = CallCounter()
        self.stack: Any = None
        self.client: Any = None
        self.deps: Any = None
        self._saved_env: dict[str, str] = {}
        self._saved_handlers: list[logging.Handler] = []
        self._logdir = tempfile.TemporaryDirectory(prefix="aftercare-bench-")
        self._t0 = time.monotonic()
        self._anchor = _anchor()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Harness:
        from devtools.stack import LocalStack

        self.counter.install()
        logdir = Path(self._logdir.name)
        # Log lines (the app's JSON, moto's werkzeug) go to a file, as they would go to
        # CloudWatch, not into the table. Set before moto starts, or werkzeug adds its own.
        self._saved_handlers = logging.getLogger().handlers[:]
        logging.getLogger().handlers[:] = [logging.FileHandler(logdir / "app.log", "a", "utf-8")]
        self.stack = LocalStack(table_name=TABLE, moto_in_thread=True, log_dir=logdir).start()
        self._saved_env = dict(os.environ)
        os.environ.update(self.stack.env())
        os.environ.update(
            {
                "AFTERCARE_SHOPIFY_API_SECRETS": FAKE_SHOPIFY_SECRET,
                "AFTERCARE_TWILIO_AUTH_TOKENS": TWILIO_AUTH_TOKEN,
                "AFTERCARE_TWILIO_FROM": TWILIO_NUMBER,
                "AFTERCARE_STAGE": "dev",
                "AFTERCARE_LOG_LEVEL": "INFO",  # what the dev stage runs with
            }
        )
        from chalice.test import Client

        import app as app_module
        from chalicelib.deps import deps, set_clock

        set_clock(self.now)
        self.deps = deps()
        self.client = Client(app_module.app, stage_name="dev", project_dir=str(ROOT))
        self.client.__enter__()
        self._check_counter()
        return self

    def stop(self) -> None:
        from chalicelib.deps import set_clock

        set_clock(None)
        if self.client is not None:
            self.client.__exit__(None, None, None)
        if self.stack is not None:
            self.stack.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)
        self.counter.uninstall()
        for handler in logging.getLogger().handlers:
            handler.close()
        logging.getLogger().handlers[:] = self._saved_handlers
        self._logdir.cleanup()

    def now(self) -> datetime:
        """The app's clock: today 16:00 UTC plus the time this run has taken."""
        return self._anchor + timedelta(seconds=time.monotonic() - self._t0)

    @property
    def backend(self) -> str:
        return "DynamoDB Local 2.9.30" if self.stack.uses_dynamodb_local else "moto server"

    def _check_counter(self) -> None:
        with self.counter.window() as calls:
            self.deps.store.merchant("no-such-merchant")
        if [c.operation for c in calls] != ["GetItem"]:
            raise RuntimeError(f"the DynamoDB call hook is not attached (saw {calls})")

    # -- app access ----------------------------------------------------------------------

    def add_merchant(self, merchant: Merchant, **fields: Any) -> None:
        """Create `merchant` with the fake webhook secrets (idempotent)."""
        from chalicelib.errors import StaleVersion
        from chalicelib.handlers.merchants import create_merchant

        with contextlib.suppress(StaleVersion):
            create_merchant(
                self.deps.store,
                merchant.merchant_id,
                merchant.name,
                self.now(),
                shop_domain=merchant.shop_domain,
                timezone=merchant.timezone,
                locale=merchant.locale,
                currency=merchant.currency,
                webhook_secrets=MERCHANT_SECRETS,
                **fields,
            )

    def send(self, request: Request, capacity: bool = True) -> Response:
        """POST `request` through the app; time it and record its DynamoDB calls.

        `capacity=False` (timed figures) leaves the app's requests untouched; by default every
        call is asked for its consumed capacity (see `bench.calls`)."""
        headers = {"Content-Type": request.headers.get("content-type", "application/json")}
        headers.update(request.headers)
        with self.counter.window(capacity) as calls:
            started = time.perf_counter()
            answer = self.client.http.post(request.path, headers=headers, body=request.body)
            seconds = time.perf_counter() - started
        try:
            body = json.loads(answer.body) if answer.body else None
        except ValueError:
            body = answer.body
        return Response(answer.status_code, body, seconds, calls)

    def measure(self, work: Callable[[], Any]) -> tuple[Any, float, list[Call]]:
        """Run `work` (e.g. a scheduled job) with its DynamoDB calls recorded."""
        with self.counter.window() as calls:
            started = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - started
        return result, seconds, calls

    def raw_client(self) -> Any:
        """A plain boto3 DynamoDB client on the same server (for baselines and bulk loads)."""
        return self.stack.dynamodb_client()
