"""A threaded loopback HTTP server for marketplace stubs: any method, recorded calls,
injected failures (status + headers, a slow answer, or a lost answer after the work is done).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.stubs.base import Reply

__all__ = ["MarketplaceStub", "Request", "Reply", "Fault"]


@dataclass(frozen=True)
class Request:
    """One request as the stub saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Fault:
    """An injected misbehaviour for the next matching request.

    `status`: answer this instead of handling. `delay`: sleep this long before answering
    (to trip the client's read timeout). `after_work`: handle the request (the side effect
    happens), then answer `status` anyway: a lost answer.
    """

    status: int = 503
    body: dict[str, Any] = field(default_factory=lambda: {"errors": "injected"})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    after_work: bool = False
    path_contains: str = ""
    body_contains: str = ""  # only requests whose body holds this (e.g. a mutation name)


class MarketplaceStub:
    """Serve `handle(request) -> Reply` on 127.0.0.1 in a daemon thread."""

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                reply = stub._reply(request)
                payload = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {
                        "Content-Type": "application/json",
                        **reply.headers,
                    }.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server names)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def fail_next(self, times: int = 1, **fault: Any) -> None:
        """Misbehave on the next `times` matching requests (see `Fault`)."""
        for _ in range(times):
            self.faults.append(Fault(**fault))

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in list(self.faults):
            if fault.path_contains in request.path and fault.body_contains.encode() in request.body:
                self.faults.remove(fault)
                return fault
        return None

    def _reply(self, request: Request) -> Reply:
        with self._lock:
            self.calls.append(request)
            fault = self._take_fault(request)
        reply = None
        if fault is None or fault.after_work:  # the work happens (before any delay)
            with self._lock:
                reply = self.handle(request)
        if fault is None:
            return reply  # type: ignore[return-value]
        if fault.delay:
            time.sleep(fault.delay)  # the stub is slow; the test itself never sleeps
        return Reply(fault.status, fault.body, fault.headers)

    def start(self) -> MarketplaceStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
