"""Recovery (issue 9): schedules that did not run for hours or days catch up without sending
anything twice. The outbox side (a sender crash mid-batch) is in test_faults.py; SLA
escalations after a late run are in tests/integration/test_sla_escalation.py
(`test_a_late_run_records_every_crossed_level_but_mails_only_the_latest`).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.integration.test_digest import DUE, _digests, _merchant


def _catch_up(app_deps, late) -> Counter[str]:
    from chalicelib.digest.job import run_weekly_digests

    merchant, _ = _merchant(app_deps)
    for minutes in (0, 0, 15, 30, 45):  # repeated and overlapping catch-up runs
        run_weekly_digests(app_deps, late + timedelta(minutes=minutes))
    return Counter(item.context["week"] for item in _digests(app_deps, merchant.merchant_id))


def test_a_digest_missed_for_hours_goes_out_once(app_deps):
    assert _catch_up(app_deps, DUE + timedelta(hours=6)) == Counter({"2026-W47": 1})


def test_digests_missed_for_days_send_the_newest_week_once(app_deps):
    # The scheduler was down past the next Monday too: by design (digest/schedule.py) the
    # missed week is skipped and the newest due week goes out, once.
    assert _catch_up(app_deps, DUE + timedelta(days=8, hours=5)) == Counter({"2026-W48": 1})
