"""Job helpers without the stack: recipients, targets from settings, the time budget, and the
preview command on the built-in sample."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.digest.job import _targets, backoff, recipients, time_budget
from chalicelib.store.records import new_merchant


def _merchant(**settings):
    return new_merchant("m-1", "Shop", datetime(2026, 11, 18, tzinfo=UTC), settings=settings)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"digest_recipients": ["a@shop.example", " b@shop.example"]},
         ("a@shop.example", "b@shop.example")),
        ({"digest_recipients": "ops@shop.example"}, ("ops@shop.example",)),
        ({"support_email": "help@shop.example"}, ("help@shop.example",)),
        ({"digest_recipients": ["not an address", 7]}, ()),
        ({"digest_recipients": ["a@shop.example"], "digest_enabled": False}, ()),
        ({}, ()),
    ],
)  # fmt: skip
def test_recipients_come_from_the_merchants_settings(settings, expected):
    assert recipients(_merchant(**settings)) == expected


def test_a_merchants_targets_are_read_and_bad_ones_ignored():
    merchant = _merchant(digest_targets={"csat": "90", "damage_per_1000": "lots"})
    assert _targets(merchant) == {"csat": Decimal(90)}


class _Context:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_the_time_budget_keeps_a_reserve_for_the_last_delivery():
    assert time_budget(_Context(300_000)) == 290  # 5 min Lambda: all but 10 s
    assert time_budget(_Context(3_000)) == 2  # a short one keeps a third
    assert time_budget(None) == 20


def test_retries_back_off_in_steps_of_the_schedule():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [15, 30, 60, 120]


def test_the_preview_command_writes_html_with_its_charts_beside_it(tmp_path):
    from scripts.preview_digest import main

    page = main(["--sample", "--out", str(tmp_path)])

    html = page.read_text(encoding="utf-8")
    assert page == tmp_path / "sample-2026-W47" / "index.html" and "cid:" not in html
    for name in ("cases_by_type", "quality", "response_times"):
        assert f'src="{name}.png"' in html
        assert (page.parent / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    assert (page.parent / "aftercare-digest-2026-W47.csv").exists()
