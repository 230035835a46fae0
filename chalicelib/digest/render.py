"""Digest rendering: the e-mail's HTML (charts by cid:), text and CSV, and a local preview.

Jinja2 is imported and its environment built on first use. The HTML is made for mail
clients: tables, inline styles, no script, no external resources; each chart is an
`<img src="cid:<name>.<week>@aftercare">` whose bytes travel as an inline MIME part. The CSV
attachment holds every number of the e-mail. `preview_html` swaps each cid: for a PNG file
name, so a browser can open the page from disk.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.digest.weeks import week_end, week_start

if TYPE_CHECKING:
    from chalicelib.digest.charts import Chart
    from chalicelib.digest.metrics import Digest, Kpi, Row

__all__ = [
    "Rendered",
    "render",
    "preview_html",
    "label",
    "TITLES",
    "content_id",
    "format_value",
    "format_change",
]

TEMPLATES = Path(__file__).parent / "templates"
TITLES = {
    "cases_by_type": "Cases by type",
    "cases_by_category": "Cases by problem category",
    "return_reasons": "Return reasons (units)",
    "response_times": "Response and resolution times (hours)",
    "quality": "Quality report: most returned and complained-about SKUs",
    "sla_breaches": "SLA breaches by target",
}
_LABELS: dict[str, dict[str, str]] = {
    "cases_by_type": {
        "shipping_exception": "Shipping exception",
        "return": "Return",
        "exchange": "Exchange",
        "complaint": "Complaint",
        "dispute": "Dispute",
        "inquiry": "Inquiry",
    },
    "times": {"frt": "First response", "resolution": "Resolution", "refund": "Refund cycle"},
    "return_reasons": {"no_reason": "No reason given", "not_as_described": "Not as described"},
    "cases_by_category": {"changed_mind": "Changed mind", "not_as_described": "Not as described"},
}


@dataclass(frozen=True)
class Rendered:
    """A digest ready to send: subject, both bodies, the CSV and the charts they show."""

    week: str
    subject: str
    html: str
    text: str
    csv: bytes
    csv_name: str
    charts: tuple[Chart, ...]

    def image_ids(self) -> dict[str, str]:
        """Chart name -> the content id its <img> references."""
        return {chart.name: content_id(chart.name, self.week) for chart in self.charts}


def content_id(name: str, week: str) -> str:
    """The Content-ID of chart `name` in the digest of `week`."""
    return f"{name}.{week}@aftercare"


def label(section: str, key: str) -> str:
    """How a breakdown key (case type, category, reason, time metric) reads in the e-mail."""
    known = _LABELS.get(section, {}).get(key)
    return known or key.replace("_", " ").capitalize()


def _quantize(value: Decimal, places: str = "0.1") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """A count or measure: integer when whole, one decimal otherwise."""
    return str(int(value)) if value == value.to_integral_value() else str(_quantize(value))


def format_value(kpi: Kpi, value: Decimal | None = None, *, current: bool = True) -> str:
    """`kpi`'s value (or `value`) with its unit, e.g. "82.5%", "3.2 h", "≥ 168 h", "–"."""
    shown = kpi.value if current and value is None else value
    if shown is None:
        return "–"
    at_least = "≥ " if current and kpi.at_least else ""
    if kpi.unit == "%":
        return f"{_quantize(shown)}%"
    if kpi.unit == "h":
        return f"{at_least}{_quantize(shown)} h"
    if kpi.unit == "/1000":
        return f"{_quantize(shown, '0.01')} per 1,000"
    if kpi.unit == "/100":
        return f"{_quantize(shown)} / 100"
    return _plain(shown)


def format_change(kpi: Kpi) -> str:
    """The change from last week: "+2.5 pp", "−1.0 h", "+3", "0", or "–" without both."""
    change = kpi.change
    if change is None:
        return "–"
    unit = {"%": " pp", "h": " h", "/1000": "", "/100": ""}.get(kpi.unit, "")
    places = "0.01" if kpi.unit == "/1000" else "0.1"
    amount = _plain(abs(change)) if kpi.unit == "" else str(_quantize(abs(change), places))
    if change == 0:
        return "0"
    return f"{'+' if change > 0 else '−'}{amount}{unit}"


def _row_change(row: Row) -> str:
    change = row.change
    return "0" if change == 0 else f"{'+' if change > 0 else '−'}{_plain(abs(change))}"


def _target(kpi: Kpi) -> str:
    if kpi.target is None:
        return ""
    sign = "≥" if kpi.higher_is_better else "≤"
    return f"{sign} {format_value(kpi, kpi.target, current=False)}"


def _period(week: str) -> str:
    """E.g. "Mon 16 Nov – Sun 22 Nov 2026 (UTC)"."""
    last_day = week_end(week) - timedelta(days=1)
    return f"{week_start(week):%a %d %b} – {last_day:%a %d %b %Y} (UTC)"


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(value=format_value, change=format_change, target=_target, plain=_plain)
    env.filters["row_change"] = _row_change
    return env


def _csv(digest: Digest, merchant_name: str, section_label: Callable[[str, str], str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["merchant", "week", "section", "key", "label", "unit", "this_week",
                     "last_week", "change", "target", "status"])  # fmt: skip
    base = [merchant_name, digest.week]
    for kpi in digest.kpis:
        writer.writerow([*base, "kpi", kpi.key, kpi.label, kpi.unit, _csv_number(kpi.value),
                         _csv_number(kpi.previous), _csv_number(kpi.change),
                         _csv_number(kpi.target), kpi.status])  # fmt: skip
    sections = ("cases_by_type", "cases_by_category", "return_reasons", "sla_breaches")
    for section in sections:
        for row in getattr(digest, section):
            writer.writerow([*base, section, row.key, section_label(section, row.key), "count",
                             row.count, row.previous, row.change, "", ""])  # fmt: skip
    for row in digest.quality:
        writer.writerow([*base, "quality_returned_units", row.key, row.key, "units", row.count,
                         row.previous, row.change, "", ""])  # fmt: skip
        writer.writerow([*base, "quality_complaints", row.key, row.key, "count", row.extra,
                         "", "", "", ""])  # fmt: skip
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def _csv_number(value: Decimal | None) -> str:
    return "" if value is None else format(_quantize(value, "0.0001").normalize(), "f")


def render(digest: Digest, merchant_name: str, charts: Sequence[Chart]) -> Rendered:
    """The e-mail for `digest` with `charts` (from `charts.draw_charts`) shown inline."""
    csv_name = f"aftercare-digest-{digest.week}.csv"
    ids = {chart.name: content_id(chart.name, digest.week) for chart in charts}
    context = {
        "digest": digest,
        "merchant": merchant_name,
        "period": _period(digest.week),
        "charts": [(chart, ids[chart.name]) for chart in charts],
        "titles": TITLES,
        "label": label,
        "csv_name": csv_name,
    }
    env = _environment()
    subject = f"{merchant_name}: after-sales week {digest.week}"
    html = env.get_template("digest.html.j2").render(**context, subject=subject)
    text = env.get_template("digest.txt.j2").render(**context, subject=subject)
    csv_bytes = _csv(digest, merchant_name, label)
    return Rendered(digest.week, subject, html, text, csv_bytes, csv_name, tuple(charts))


def preview_html(rendered: Rendered, image_names: dict[str, str] | None = None) -> str:
    """The HTML with each cid: replaced by a file name (default `<chart name>.png`)."""
    html = rendered.html
    for name, cid in rendered.image_ids().items():
        html = html.replace(f"cid:{cid}", (image_names or {}).get(name, f"{name}.png"))
    return html
