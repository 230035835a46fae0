"""Digest charts: PNG bytes drawn with matplotlib's Agg canvas, this week against last week.

matplotlib is imported inside the functions (importing this module costs nothing) and used
through `Figure` + `FigureCanvasAgg`, without pyplot's global state or a display. Titles stay
in the HTML around each image (and in its alt text), so a chart holds only labels and
numbers; CJK labels (e.g. a SKU name) use a Noto CJK font when one is installed, listed after
DejaVu Sans as a per-glyph fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.digest.metrics import Digest, Row

__all__ = ["Chart", "draw_charts", "PNG_SIGNATURE", "MAX_BARS"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BARS = 10
THIS_WEEK, LAST_WEEK, EXTRA = "#2563eb", "#cbd5e1", "#f97316"
WIDTH_IN, DPI = 6.4, 125  # shown at 640 px wide, drawn at 800 px for sharp high-DPI screens
_CJK = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR")


@dataclass(frozen=True)
class Chart:
    """One chart: `name` is its file and content id stem; `title` its heading and alt text."""

    name: str
    title: str
    png: bytes


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in _CJK if name in installed))


def _figure(bars: int) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, max(1.6, 0.42 * bars + 0.9)), dpi=DPI)
    figure.set_layout_engine("constrained")
    return figure


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _style(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=9)
    axes.grid(axis="x", color="#e5e7eb", linewidth=0.8)
    axes.set_axisbelow(True)


def _bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "",
) -> bytes:
    """Horizontal grouped bars, first label on top; `series` = (legend, colour, values)."""
    from matplotlib import rc_context
    from matplotlib.ticker import MaxNLocator

    with rc_context({"font.family": list(_fonts()), "font.size": 9}):
        figure = _figure(len(labels))
        axes = figure.add_subplot()
        height = 0.8 / len(series)
        positions = range(len(labels))
        for index, (legend, colour, values) in enumerate(series):
            offsets = [p + (index - (len(series) - 1) / 2) * height for p in positions]
            drawn = axes.barh(offsets, values, height=height, color=colour, label=legend)
            shown = [_number(v, unit) if v else "" for v in values]
            axes.bar_label(drawn, labels=shown, padding=3, fontsize=8)
        axes.set_yticks(list(positions), labels=list(labels))
        axes.invert_yaxis()
        axes.margins(x=0.15)
        if not unit:  # counts: whole-number ticks only
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        _style(axes)
        axes.legend(
            loc="lower left", bbox_to_anchor=(0, 1), ncols=len(series), fontsize=8, frameon=False
        )
        return _png(figure)


def _number(value: float, unit: str) -> str:
    if value == int(value):
        return f"{int(value)}{unit}"
    return f"{value:.1f}{unit}"


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
    `titles[name]` heads a chart. Raises ImportError without matplotlib installed."""
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
