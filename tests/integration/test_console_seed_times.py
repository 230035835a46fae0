"""The sample console data follows the clock (D2): seeded relative to `now`, and re-timed by
the run command when the local stack already holds it from an earlier day."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import FIXED_NOW


def _open_sample(app_deps, merchant_id: str) -> dict[str, tuple]:
    from chalicelib.store import keys
    from chalicelib.store.models import CaseItem, TimelineItem
    from devtools.console_seed import CASES

    found = {}
    for spec in CASES:
        case = app_deps.store.get(CaseItem, keys.case(merchant_id, spec[0]))
        entries = list(TimelineItem.query(case.pk, TimelineItem.sk.startswith("TL#")))
        found[spec[0]] = (
            case.status,
            case.opened_at,
            case.first_response_due,
            case.resolution_due,
            case.gsi2sk,
            sorted(e.sk.rsplit("#", 1)[0] for e in entries),  # ids differ per merchant
        )
    return found


def test_a_stale_sample_is_moved_to_the_current_time(app_deps, merchant):
    from chalicelib.console.queue import load_queue
    from devtools.console_seed import refresh_sample_times, seed_console_sample

    store, mid = app_deps.store, merchant.merchant_id
    assert seed_console_sample(store, mid, FIXED_NOW - timedelta(days=3))
    stale = load_queue(store, store.merchant(mid), {}, FIXED_NOW)
    assert stale["breached"] == stale["total"]  # three days on, every sample case is late

    moved = refresh_sample_times(store, mid, FIXED_NOW)
    assert moved == stale["total"]
    fresh = load_queue(store, store.merchant(mid), {}, FIXED_NOW)
    assert fresh["total"] == stale["total"] and 0 < fresh["breached"] < fresh["total"]

    # the same times, queue places and timeline as a sample seeded at FIXED_NOW
    from chalicelib.handlers.merchants import create_merchant
    from chalicelib.policy import case_state

    reference_id = f"{mid}-ref"
    create_merchant(store, reference_id, "Reference", FIXED_NOW)
    assert seed_console_sample(store, reference_id, FIXED_NOW)
    mine, ref = _open_sample(app_deps, mid), _open_sample(app_deps, reference_id)
    for case_id, values in ref.items():
        if case_state.is_open(values[0]):
            assert mine[case_id] == values, case_id  # old entries replaced, none doubled
