"""The digest as a person sees it: rendered to HTML, opened in headless Chromium, screenshotted.

Uses Debian's Chromium (`apt-get install chromium fonts-noto-cjk`) through Playwright's
Python API, never a downloaded browser; skipped when /usr/bin/chromium is absent. The
screenshots land in test-artifacts/ (digest.png, digest-phone.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.digest.charts import draw_charts
from chalicelib.digest.metrics import compute
from chalicelib.digest.render import TITLES, label, preview_html, render
from chalicelib.digest.sample import SAMPLE_PREVIOUS_WEEK, SAMPLE_WEEK, sample_counters
from tests.conftest import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]


@pytest.fixture(scope="module")
def page_file() -> Path:
    """The sample digest written as the preview command writes it: HTML + PNGs beside it."""
    counters = sample_counters()
    digest = compute(
        SAMPLE_WEEK, SAMPLE_PREVIOUS_WEEK, counters[SAMPLE_WEEK], counters[SAMPLE_PREVIOUS_WEEK]
    )
    rendered = render(digest, "Demo Shop 演示店", draw_charts(digest, label, TITLES))
    out = ARTIFACTS / "digest"
    out.mkdir(parents=True, exist_ok=True)
    for chart in rendered.charts:
        (out / f"{chart.name}.png").write_bytes(chart.png)
    page = out / "digest.html"
    page.write_text(preview_html(rendered), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser, page_file: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    return page


def test_the_digest_renders_with_every_chart_loaded(browser, page_file):
    page = _open(browser, page_file, 760)
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth])"
    )
    assert len(images) == 5 and all(width == 1280 for _, width in images), images
    kpi = page.inner_text('tr[data-kpi="auto_decided_rate"]').split()
    assert "80.0%" in kpi and "70.0%" in kpi and "met" in kpi
    assert "演示店" in page.inner_text("h1")
    assert page.title() == "Demo Shop 演示店: after-sales week 2026-W47"
    page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)
    page.close()


def test_the_digest_fits_a_phone_screen(browser, page_file):
    page = _open(browser, page_file, 390)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of horizontal scrolling on a phone"
    page.screenshot(path=str(ARTIFACTS / "digest-phone.png"), full_page=True)
    page.close()
