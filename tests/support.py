"""Test helpers shared by every tier: fixture loading and fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "public"


def load_fixture(partner: str, name: str) -> bytes:
    """The exact bytes of `tests/fixtures/<partner>/<name>` (each has its source in SOURCES.md)."""
    return (FIXTURES / partner / name).read_bytes()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A timezone-aware UTC datetime, for fixed clocks."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
