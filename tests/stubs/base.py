"""A threaded loopback HTTP server base for provider stubs: records calls, injects failures."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StubServer", "Failure", "Reply"]


@dataclass(frozen=True)
class Failure:
    """One injected failure: HTTP status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What a stub's `handle` answers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    """Serve `handle(method, path, headers, body) -> Reply` on 127.0.0.1 in a daemon thread."""

    def __init__(self) -> None:
        self.failures: deque[Failure] = deque()
        self.calls: list[dict[str, Any]] = []  # every request, accepted or failed
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                with stub._lock:
                    stub.calls.append({"path": self.path, "headers": headers, "body": body})
                    failure = stub.failures.popleft() if stub.failures else None
                    reply = failure or stub.handle(self.path, headers, body)
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in {**stub.content_headers, **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    content_headers: dict[str, str] = {"Content-Type": "application/json"}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        raise NotImplementedError

    def fail_next(self, status: int, body: dict[str, Any], times: int = 1, **headers: str) -> None:
        """Answer the next `times` requests with `status` and `body` instead of handling them."""
        for _ in range(times):
            self.failures.append(Failure(status, body, headers))

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
