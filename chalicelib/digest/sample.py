"""A small hand-made pair of weeks of counters, for previews and tests of the digest.

Every counter family the digest reads appears at least once, with values chosen so the
KPIs are easy to compute by hand (see tests/unit/test_digest_metrics.py).
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["SAMPLE_WEEK", "SAMPLE_PREVIOUS_WEEK", "sample_counters"]

SAMPLE_WEEK = "2026-W47"
SAMPLE_PREVIOUS_WEEK = "2026-W46"

_THIS_WEEK = {
    "returns_requested": 40, "returns_auto_approved": 28, "returns_rejected": 4,
    "returns_review": 8,
    "cases:complaint": 10, "cases:dispute": 2, "cases:inquiry": 6,
    "cases:shipping_exception": 3,
    "category:changed_mind": 18, "category:wrong_size": 12, "category:damaged": 6,
    "category:quality": 5, "category:late": 3,
    "reason:no_reason": 20, "reason:wrong_size": 14, "reason:damaged": 6, "reason:quality": 5,
    "sku:TSHIRT-BLK-M": 9, "sku:MUG-CERAMIC-12": 6, "sku:JEANS-32-BLUE": 5,
    "sku:茶杯-青花": 2,
    "complaint_sku:MUG-CERAMIC-12": 4, "complaint_sku:KETTLE-1L": 2,
    "closed:complaint": 9, "repeat_complaints": 3,
    "csat_sum": 34, "csat_count": 8,
    "shipments": 2000, "parcels_damaged": 3, "tracking_stale": 50,
    "frt_bucket:60": 2, "frt_bucket:240": 1, "frt_bucket:1440": 1,
    "resolution_bucket:1440": 2, "resolution_bucket:2880": 2, "resolution_bucket:inf": 1,
    "refund_bucket:480": 3, "refund_bucket:1440": 1,
    "sla_breach:first_response": 1, "sla_breach:resolution": 2,
}  # fmt: skip
_PREVIOUS_WEEK = {
    "returns_requested": 30, "returns_auto_approved": 18, "returns_rejected": 3,
    "returns_review": 9,
    "cases:complaint": 8, "cases:dispute": 2, "cases:inquiry": 7,
    "category:changed_mind": 14, "category:wrong_size": 9, "category:damaged": 2,
    "reason:no_reason": 15, "reason:wrong_size": 10, "reason:damaged": 2,
    "sku:TSHIRT-BLK-M": 4, "sku:MUG-CERAMIC-12": 1,
    "closed:complaint": 6, "repeat_complaints": 1,
    "csat_sum": 21, "csat_count": 6,
    "shipments": 1600, "parcels_damaged": 1, "tracking_stale": 48,
    "frt_bucket:120": 2, "frt_bucket:480": 2,
    "resolution_bucket:2880": 3,
    "sla_breach:resolution": 1,
}  # fmt: skip


def sample_counters() -> dict[str, dict[str, Decimal]]:
    """Week label -> counters (as the store returns them: name -> Decimal)."""
    return {
        SAMPLE_WEEK: {k: Decimal(v) for k, v in _THIS_WEEK.items()},
        SAMPLE_PREVIOUS_WEEK: {k: Decimal(v) for k, v in _PREVIOUS_WEEK.items()},
    }
