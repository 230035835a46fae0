"""One-off migration (D2): put a merchant's open cases written before the open-cases index on
it (gsi2 `OPENCASES#{mid}`, see docs/storage.md), so the console queue, which reads only that
index, shows them. New writes keep the index themselves (`schedule_case`).

Per merchant: one Query on gsi1 `CASES#{mid}` filtered to open cases, then one conditional
UpdateItem per case still missing its place (conditioned on the version read, so a concurrent
writer, which sets the place itself, wins). Idempotent. No Scan: run it per merchant id:
`python -m devtools.backfill_open_cases <merchant id>...`
"""

from __future__ import annotations

import sys

from pynamodb.exceptions import UpdateError

from chalicelib.handlers.sla_schedule import place_in_queue
from chalicelib.policy.case_state import SETTLED_STATUSES
from chalicelib.store import keys
from chalicelib.store.models import CaseItem

__all__ = ["backfill_open_cases", "main"]


def backfill_open_cases(merchant_id: str) -> int:
    """Index the merchant's open cases that have no place yet; returns how many were placed."""
    open_only = ~CaseItem.status.is_in(*sorted(str(s) for s in SETTLED_STATUSES))
    placed = 0
    for case in CaseItem.by_merchant.query(keys.cases_of(merchant_id), filter_condition=open_only):
        if case.gsi2pk:
            continue
        place_in_queue(case)
        try:
            case.update(
                actions=[CaseItem.gsi2pk.set(case.gsi2pk), CaseItem.gsi2sk.set(case.gsi2sk)],
                condition=CaseItem.gsi2pk.does_not_exist(),
            )
        except UpdateError:
            continue  # a writer placed (or settled) it meanwhile
        placed += 1
    return placed


def main(argv: list[str] | None = None) -> int:
    ids = sys.argv[1:] if argv is None else argv
    if not ids:
        print("usage: python -m devtools.backfill_open_cases <merchant id>...", file=sys.stderr)
        return 2
    for merchant_id in ids:
        print(f"{merchant_id}: {backfill_open_cases(merchant_id)} open case(s) placed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
