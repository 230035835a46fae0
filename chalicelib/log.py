"""Structured JSON logging: one line per record, with correlation ids, personal data masked.

`bind_context(...)` sets merchant/case/correlation ids for everything logged in the current
request; the formatter masks phone numbers and e-mail addresses in every message and field,
so a careless `log.info(f"... {phone}")` still leaks nothing.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = ["get_logger", "bind_context", "configure", "mask_text"]

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Phone-like: starts with "+" or contains a separator; bare digit runs (order ids) stay readable.
_PHONE = re.compile(
    r"(?<![\w#:.+-])(\+\d[\d\s().-]{6,}\d|\(?\d{2,4}\)?[\s.-]\d[\d\s.-]{4,}\d)(?!\w)"
)
_STANDARD = set(vars(logging.makeLogRecord({})))


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(1))
    if len(digits) < 8 or len(digits) > 15:
        return match.group(0)
    return ("+" if match.group(1).startswith("+") else "") + "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    """`text` with e-mail addresses and phone-like numbers masked."""
    return _PHONE.sub(_mask_phone, _EMAIL.sub(r"\1***@\2", text))


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the bound context and masked values."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(_context.get() or {}),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        stamp = datetime.fromtimestamp(record.created, tz=UTC).isoformat()
        return json.dumps({"ts": stamp, **_mask(line)}, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Make every root handler write JSON (Lambda's own handler included); idempotent."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())
    root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


@contextmanager
def bind_context(**fields: str | None) -> Iterator[None]:
    """Add `fields` (e.g. merchant_id, correlation_id) to every record logged inside."""
    merged = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)
