"""The queue due rule (policy/queue_due.py): first response while unanswered, then resolution,
else a fallback from the priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.policy.queue_due import queue_due

OPENED = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_unanswered_cases_are_due_at_their_first_response_target():
    first, resolution = OPENED + timedelta(hours=1), OPENED + timedelta(hours=24)
    assert queue_due(OPENED, "normal", first, None, resolution) == (first, "first_response")


def test_answered_cases_are_due_at_their_resolution_target():
    first, resolution = OPENED + timedelta(hours=1), OPENED + timedelta(hours=24)
    answered = OPENED + timedelta(minutes=30)
    assert queue_due(OPENED, "normal", first, answered, resolution) == (resolution, "resolution")


def test_without_targets_the_priority_sets_the_due_time():
    assert queue_due(OPENED, "urgent", None, None, None) == (OPENED + timedelta(hours=4), "target")
    assert queue_due(OPENED, None, None, None, None) == (OPENED + timedelta(hours=24), "target")
    assert queue_due(OPENED, "odd", None, None, None)[0] == OPENED + timedelta(hours=24)
