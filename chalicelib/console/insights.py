"""The insights view: this week's digest KPIs against last week, 12 weeks of trends, CSV.

One round trip: `Store.weekly_counters` reads the 12 weekly counter items in one
BatchGetItem. The KPIs are `digest.metrics.compute`'s, so the page shows the same numbers
as the weekly e-mail. Charts are SVG bars drawn here (no script, no inline style).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.digest.metrics import compute
from chalicelib.digest.weeks import shift_week, week_of

if TYPE_CHECKING:
    from chalicelib.store.models import MerchantItem
    from chalicelib.store.repository import Store

__all__ = ["load_insights", "trend_rows", "csv_text", "WEEKS", "SERIES"]

WEEKS = 12
SERIES = (
    ("cases", "Cases opened"),
    ("returns_requested", "Returns requested"),
    ("auto_rate", "Returns decided automatically (%)"),
    ("sla_breaches", "SLA breaches"),
)


def _sum(counters: Mapping[str, Decimal], prefix: str) -> Decimal:
    return sum((v for k, v in counters.items() if k.startswith(prefix)), Decimal(0))


def trend_rows(weeks: list[str], counters: Mapping[str, Mapping[str, Decimal]]) -> list[dict]:
    """One row per week: the trend series (pure)."""
    rows = []
    for week in weeks:
        c = counters.get(week) or {}
        requested = c.get("returns_requested", Decimal(0))
        decided = requested - c.get("returns_review", Decimal(0))
        auto = round(decided * 100 / requested, 1) if requested else Decimal(0)
        rows.append(
            {
                "week": week,
                "cases": int(_sum(c, "cases:") + requested),
                "returns_requested": int(requested),
                "auto_rate": auto,
                "sla_breaches": int(_sum(c, "sla_breach:")),
            }
        )
    return rows


def _bars(rows: list[dict], key: str) -> list[dict[str, Any]]:
    top = max((float(r[key]) for r in rows), default=0.0) or 1.0
    return [
        {"week": r["week"][-3:], "value": r[key], "height": round(float(r[key]) / top * 80, 1)}
        for r in rows
    ]


def _fmt(kpi: Any, value: Decimal | None) -> str:
    if value is None:
        return "–"
    number = f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return {"%": f"{number}%", "h": f"{number} h", "/100": f"{number}/100"}.get(kpi.unit, number)


def load_insights(store: Store, merchant: MerchantItem, now: datetime) -> dict[str, Any]:
    """KPIs of this week vs last, trend rows and chart bars."""
    this_week = week_of(now)
    weeks = [shift_week(this_week, -i) for i in range(WEEKS - 1, -1, -1)]
    counters = store.weekly_counters(merchant.merchant_id, weeks)
    from chalicelib.digest.job import _targets  # the merchant's own targets, as the e-mail

    before = counters[weeks[-2]]
    digest = compute(this_week, weeks[-2], counters[this_week], before, _targets(merchant))
    kpis = []
    for kpi in digest.kpis:
        better = None
        if kpi.value is not None and kpi.previous is not None and kpi.value != kpi.previous:
            better = (kpi.value > kpi.previous) == kpi.higher_is_better
        kpis.append(
            {
                "label": kpi.label,
                "value": _fmt(kpi, kpi.value),
                "previous": _fmt(kpi, kpi.previous),
                "detail": kpi.detail,
                "target": _fmt(kpi, kpi.target) if kpi.target is not None else "",
                "trend": "better" if better else "worse" if better is False else "same",
            }
        )
    rows = trend_rows(weeks, counters)
    charts = [{"title": title, "bars": _bars(rows, key)} for key, title in SERIES]
    return {"week": this_week, "kpis": kpis, "trend": rows, "charts": charts}


def csv_text(rows: list[dict]) -> str:
    """The trend rows as CSV (what the download button returns)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["week", *(key for key, _ in SERIES)])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
