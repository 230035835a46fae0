"""Digest charts drawn with Pillow: what a reader sees in the PNG, fonts with and without the
system's, and no matplotlib or numpy anywhere (they no longer ship in the package)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.digest import barchart, fonts
from chalicelib.digest.barchart import draw_bars, format_number, nice_ticks
from chalicelib.digest.charts import EXTRA, LAST_WEEK, PNG_SIGNATURE, THIS_WEEK, draw_charts
from chalicelib.digest.metrics import compute
from chalicelib.digest.render import TITLES, label
from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK, SAMPLE_WEEK, sample_counters

ROOT = Path(__file__).resolve().parents[2]


def _digest():
    counters = sample_counters()
    return compute(
        SAMPLE_WEEK, SAMPLE_PREVIOUS_WEEK, counters[SAMPLE_WEEK], counters[SAMPLE_PREVIOUS_WEEK]
    )


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(png)).convert("RGB")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _count(image: Image.Image, colour: str) -> int:
    wanted = _rgb(colour)
    return sum(n for n, rgb in image.getcolors(1 << 20) if rgb == wanted)


@pytest.fixture
def no_system_fonts(monkeypatch):
    """As on Lambda: no DejaVu, no Noto CJK; only Pillow's built-in scalable font."""
    monkeypatch.setattr(fonts, "LATIN_FILES", ())
    monkeypatch.setattr(fonts, "CJK_FILES", ())
    for cached in (fonts._latin, fonts._cjk, fonts._cjk_face):
        cached.cache_clear()
    yield
    for cached in (fonts._latin, fonts._cjk, fonts._cjk_face):
        cached.cache_clear()


def test_ticks_are_round_numbers_and_whole_for_counts():
    assert nice_ticks(11.5, integer=True) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(193.2, integer=False) == [0, 50, 100, 150]
    assert nice_ticks(2.3, integer=True) == [0, 1, 2]
    assert nice_ticks(1.15, integer=False) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, integer=True) == [0, 1]
    assert format_number(6.66, " h") == "6.7 h" and format_number(30.0, " h") == "30 h"


def test_bars_are_drawn_in_each_series_colour_and_longer_for_larger_values():
    png = draw_bars(["big", "small"], [("this", THIS_WEEK, [9, 3]), ("last", LAST_WEEK, [0, 6])])
    image = _image(png)
    assert image.width == barchart.WIDTH * barchart.SCALE == 1280
    assert _count(image, THIS_WEEK) > 0 and _count(image, LAST_WEEK) > 0

    def bar_length(colour: str, row: int) -> int:
        s = barchart.SCALE
        middle = (barchart.TOP + barchart.ROW * row + barchart.ROW // 2) * s
        rows = range(middle - barchart.ROW * s // 2, middle + barchart.ROW * s // 2)
        target = _rgb(colour)
        return max(
            sum(1 for x in range(image.width) if image.getpixel((x, y)) == target) for y in rows
        )

    big, small = bar_length(THIS_WEEK, 0), bar_length(THIS_WEEK, 1)
    assert big > 2.5 * small > 0  # 9 against 3, same scale
    assert bar_length(LAST_WEEK, 0) < 40  # a zero draws no bar (only the legend swatch)


def test_the_sample_digest_draws_five_charts_in_the_old_colours():
    charts = draw_charts(_digest(), label, TITLES)
    assert [chart.name for chart in charts] == [
        "cases_by_type",
        "cases_by_category",
        "return_reasons",
        "response_times",
        "quality",
    ]
    by_name = {chart.name: _image(chart.png) for chart in charts}
    assert _count(by_name["cases_by_type"], THIS_WEEK) > 1000
    assert _count(by_name["cases_by_type"], LAST_WEEK) > 1000
    assert _count(by_name["response_times"], EXTRA) > 1000  # p90
    assert _count(by_name["quality"], EXTRA) > 1000  # complaints
    heights = {name: image.height for name, image in by_name.items()}
    assert heights["response_times"] < heights["quality"]  # 3 rows against 5


def test_cjk_labels_use_noto_when_installed():
    if fonts._cjk_face() is None:
        pytest.skip("no Noto Sans CJK on this machine")
    font = fonts.font_for("茶杯-青花", 24)
    assert "CJK" in font.getname()[0]
    assert fonts.font_for("MUG-CERAMIC-12", 24) is not font


def test_without_system_fonts_charts_still_draw_cjk_and_long_labels(no_system_fonts):
    assert fonts.font_for("茶杯-青花", 24).getname()[0] == "Aileron"  # Pillow's own
    long_sku = "A-VERY-LONG-SKU-NAME-" * 6
    png = draw_bars(
        ["茶杯-青花", long_sku, "한국어 상품", "ｆｕｌｌ"],
        [("units returned", THIS_WEEK, [2, 5, 1, 1]), ("complaints", EXTRA, [1, 0, 0, 3])],
    )
    image = _image(png)
    assert image.width == 1280 and _count(image, EXTRA) > 0
    assert len(draw_charts(_digest(), label, TITLES)) == 5


def test_drawing_imports_neither_matplotlib_nor_numpy():
    code = (
        "import sys\n"
        "from chalicelib.digest.charts import draw_charts\n"
        "from chalicelib.digest.metrics import compute\n"
        "from chalicelib.digest.render import TITLES, label\n"
        "from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK as P, SAMPLE_WEEK as W\n"
        "from chalicelib.digest.sample import sample_counters\n"
        "c = sample_counters()\n"
        "assert len(draw_charts(compute(W, P, c[W], c[P]), label, TITLES)) == 5\n"
        "heavy = sorted(m for m in ('matplotlib', 'numpy', 'fontTools') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_requirements_no_longer_list_the_chart_libraries():
    pins = {
        line.split("==")[0].strip().lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    assert "pillow" in pins
    assert not pins & {"matplotlib", "numpy", "contourpy"}
