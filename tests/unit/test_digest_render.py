"""The digest e-mail: real PNG charts referenced by cid:, text and CSV with the same numbers."""

from __future__ import annotations

import csv
import email
import io
import re

import pytest

from chalicelib.digest.charts import PNG_SIGNATURE, draw_charts
from chalicelib.digest.job import digest_email
from chalicelib.digest.metrics import compute
from chalicelib.digest.render import TITLES, label, preview_html, render
from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK, SAMPLE_WEEK, sample_counters
from chalicelib.notify.email import build_mime


@pytest.fixture(scope="module")
def rendered():
    counters = sample_counters()
    digest = compute(
        SAMPLE_WEEK, SAMPLE_PREVIOUS_WEEK, counters[SAMPLE_WEEK], counters[SAMPLE_PREVIOUS_WEEK]
    )
    return render(digest, "Demo & Sons", draw_charts(digest, label, TITLES))


def _png_size(png: bytes) -> tuple[int, int]:
    # IHDR is the first chunk: width and height are its first 8 bytes
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_each_chart_is_a_real_png_shown_by_cid(rendered):
    names = [chart.name for chart in rendered.charts]
    assert names == ["cases_by_type", "cases_by_category", "return_reasons", "response_times",
                     "quality"]  # fmt: skip
    ids = rendered.image_ids()
    for chart in rendered.charts:
        assert chart.png.startswith(PNG_SIGNATURE)
        width, height = _png_size(chart.png)
        assert width == 1280 and 150 < height < 1000  # 2x the 640 px it is shown at
        assert f'src="cid:{ids[chart.name]}"' in rendered.html
    assert "data:image" not in rendered.html and "<script" not in rendered.html.lower()
    assert set(re.findall(r'src="cid:([^"]+)"', rendered.html)) == set(ids.values())


def test_the_html_shows_each_kpi_with_change_and_target(rendered):
    html = rendered.html
    assert "Demo &amp; Sons" in html  # escaped
    row = re.search(r'<tr data-kpi="auto_decided_rate">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td.*?</td>", row, re.S)]
    assert cells[1:] == [["80.0%", "70.0%"], ["+10.0", "pp", "better", "≥", "80.0%", "met"]]
    assert "≥ 168.0 h" in html  # resolution p90 in the open bucket


def test_the_text_part_carries_the_same_numbers(rendered):
    assert rendered.subject == "Demo & Sons: after-sales week 2026-W47"
    text = rendered.text
    assert (
        "- Returns decided automatically: 80.0% / 70.0% / +10.0 pp / target ≥ 80.0% (met)" in text
    )
    assert "- Damaged parcels per 1,000: 1.50 per 1,000 / 0.63 per 1,000 / +0.88" in text
    assert "- MUG-CERAMIC-12: 6 / +5 / 4" in text
    assert "Mon 16 Nov – Sun 22 Nov 2026 (UTC)" in text


def test_the_csv_holds_every_number(rendered):
    rows = list(csv.DictReader(io.StringIO(rendered.csv.decode("utf-8-sig"))))
    kpi = {r["key"]: r for r in rows if r["section"] == "kpi"}
    assert kpi["csat"]["this_week"] == "85" and kpi["csat"]["last_week"] == "70"
    assert kpi["damage_per_1000"]["last_week"] == "0.625"
    assert kpi["refund_median_hours"]["this_week"] == "6.6667"
    skus = {r["key"]: r for r in rows if r["section"] == "quality_complaints"}
    assert skus["KETTLE-1L"]["this_week"] == "2" and skus["MUG-CERAMIC-12"]["this_week"] == "4"
    assert skus["茶杯-青花"]["this_week"] == "0"
    assert rendered.csv_name == "aftercare-digest-2026-W47.csv"


def test_the_mime_message_carries_charts_inline_and_the_csv_attached(rendered):
    message = email.message_from_bytes(
        build_mime(digest_email(rendered, ("ops@shop.example",)), "a@aftercare.example")
    )
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert sorted(p["Content-ID"].strip("<>") for p in images) == sorted(
        rendered.image_ids().values()
    )
    assert all(p.get_content_disposition() == "inline" for p in images)
    assert all(p.get_payload(decode=True).startswith(PNG_SIGNATURE) for p in images)
    attached = [p for p in message.walk() if p.get_content_type() == "text/csv"]
    assert attached[0].get_filename() == rendered.csv_name


def test_the_preview_points_each_image_at_its_file(rendered):
    html = preview_html(rendered)
    assert "cid:" not in html and 'src="quality.png"' in html


def test_an_empty_week_renders_without_charts():
    digest = compute("2026-W47", "2026-W46", {}, {})
    empty = render(digest, "Quiet Shop", draw_charts(digest, label, TITLES))
    assert empty.charts == () and "<img" not in empty.html and "–" in empty.html
