"""Digest charts: PNG bytes drawn with Pillow (`digest.barchart`), this week against last week.

Every chart is a horizontal grouped bar chart; this module picks the rows and series from a
`Digest` and leaves the drawing to `barchart` (no matplotlib or numpy: they made up a third of
the deployment package). Titles stay in the HTML around each image (and in its alt text), so a
chart holds only labels and numbers; CJK labels (e.g. a SKU name) use Noto Sans CJK when it is
installed (`digest.fonts`). Importing this module costs nothing: Pillow loads when drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.digest.metrics import Digest, Row

__all__ = ["Chart", "draw_charts", "PNG_SIGNATURE", "MAX_BARS"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BARS = 10
THIS_WEEK, LAST_WEEK, EXTRA = "#2563eb", "#cbd5e1", "#f97316"


@dataclass(frozen=True)
class Chart:
    """One chart: `name` is its file and content id stem; `title` its heading and alt text."""

    name: str
    title: str
    png: bytes


def _bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "",
) -> bytes:
    from chalicelib.digest.barchart import draw_bars

    return draw_bars(labels, series, unit)


def _rows_chart(
    rows: Sequence[Row], label: Callable[[str], str], week: str, previous: str
) -> bytes:
    shown = list(rows[:MAX_BARS])
    return _bars(
        [label(row.key) for row in shown],
        [
            (week, THIS_WEEK, [float(row.count) for row in shown]),
            (previous, LAST_WEEK, [float(row.previous) for row in shown]),
        ],
    )


def _times_chart(digest: Digest, labels: Sequence[tuple[str, str]]) -> bytes | None:
    """Median and p90 hours of each duration metric with data this week."""
    shown = [
        (label, digest.kpi(f"{metric}_median_hours"), digest.kpi(f"{metric}_p90_hours"))
        for metric, label in labels
        if digest.kpi(f"{metric}_median_hours").value is not None
    ]
    if not shown:
        return None

    def hours(value: Decimal | None) -> float:
        return float(value) if value is not None else 0.0

    return _bars(
        [label for label, _, _ in shown],
        [
            ("median", THIS_WEEK, [hours(median.value) for _, median, _ in shown]),
            ("p90", EXTRA, [hours(p90.value) for _, _, p90 in shown]),
        ],
        unit=" h",
    )


def _quality_chart(rows: Sequence[Row]) -> bytes:
    shown = list(rows[:MAX_BARS])
    return _bars(
        [row.key for row in shown],
        [
            ("units returned", THIS_WEEK, [float(row.count) for row in shown]),
            ("complaints", EXTRA, [float(row.extra) for row in shown]),
        ],
    )


def draw_charts(
    digest: Digest, label: Callable[[str, str], str], titles: dict[str, str]
) -> list[Chart]:
    """The charts that have data this week or last; `label(section, key)` names a bar,
    `titles[name]` heads a chart. Raises ImportError without Pillow installed."""
    week, previous = digest.week, digest.previous_week
    charts: list[Chart] = []
    for name, rows in (
        ("cases_by_type", digest.cases_by_type),
        ("cases_by_category", digest.cases_by_category),
        ("return_reasons", digest.return_reasons),
    ):
        if rows:
            png = _rows_chart(rows, lambda key, n=name: label(n, key), week, previous)
            charts.append(Chart(name, titles[name], png))
    times = _times_chart(digest, [(m, label("times", m)) for m in ("frt", "resolution", "refund")])
    if times is not None:
        charts.append(Chart("response_times", titles["response_times"], times))
    if digest.quality:
        charts.append(Chart("quality", titles["quality"], _quality_chart(digest.quality)))
    return charts
