"""The merchant console in real headless Chromium, through the local app server (issue 12).

The app runs in-process under Chalice's local HTTP server (clock fixed at `FIXED_NOW`) on
the test stack, with the console's sample cases (`devtools/console_seed.py`). Debian's
Chromium is driven by Playwright's Python API. Screenshots go to
test-artifacts/ (and to docs/screenshots/, which the README shows, with
AFTERCARE_UPDATE_SCREENSHOTS=1). Skipped when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, FIXED_NOW, ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1360, "height": 860}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def base_url(app_deps) -> Iterator[str]:
    """The app on a loopback port, served by `chalice local`'s HTTP server (stage dev)."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalDevServer

    import app as app_module

    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="dev")
    port = _free_port()
    server = LocalDevServer(app_module.app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    # localhost, not 127.0.0.1: Chromium keeps Secure cookies for http://localhost only
    yield f"http://localhost:{port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def shop(app_deps, merchant):
    from devtools.console_seed import seed_console_sample

    item = app_deps.store.merchant(merchant.merchant_id)
    item.name = "Northwind Goods"
    item.save()
    seed_console_sample(app_deps.store, merchant.merchant_id, FIXED_NOW)
    return merchant


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _shot(page, name: str, full: bool = True) -> None:
    """Screenshots go to test-artifacts/; AFTERCARE_UPDATE_SCREENSHOTS=1 also refreshes the
    README's copies in docs/screenshots/ (so a plain test run leaves the tree clean)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=full)
    if os.environ.get("AFTERCARE_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def _sign_in(browser, base_url: str, key: str, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base_url}/console")
    page.wait_for_url("**/console/login")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console")
    return context, page, errors


def _rows(page) -> list[str]:
    return page.eval_on_selector_all("#queue tbody tr[data-id]", "rs => rs.map(r => r.dataset.id)")


def test_an_ops_lead_works_the_queue_and_a_case(browser, base_url, shop):
    login = browser.new_context(viewport={"width": 1000, "height": 640}).new_page()
    login.goto(f"{base_url}/console/login")
    _shot(login, "login", full=False)
    login.context.close()

    context, page, errors = _sign_in(browser, base_url, shop.api_key)
    assert len(_rows(page)) == 12
    assert page.inner_text('#queue-summary [data-k="breached"]') != "0"
    _shot(page, "queue")

    # filter to breached VIP cases: the table refreshes in place (no navigation)
    loaded = page.get_attribute("#queue", "data-loaded")
    page.select_option("select[name=sla]", "breached")
    page.wait_for_function("v => document.querySelector('#queue').dataset.loaded !== v", arg=loaded)
    loaded = page.get_attribute("#queue", "data-loaded")
    page.check("input[name=vip]")
    page.wait_for_function("v => document.querySelector('#queue').dataset.loaded !== v", arg=loaded)
    assert _rows(page) == ["RT-DEMO-0001"]
    assert "sla=breached" in page.url and "vip=1" in page.url
    _shot(page, "queue-filtered", full=False)

    # open the case, assign it and add a note: both land on the timeline
    page.click("a.case-link")
    page.wait_for_url("**/console/cases/RT-DEMO-0001")
    page.fill("#form-assign input[name=assignee]", "maya")
    page.click("#form-assign button")
    page.wait_for_load_state("load")
    assert page.inner_text("#case-assignee") == "maya"
    page.fill("#form-note textarea", "Customer is VIP: approve and send a prepaid label.")
    page.click("#form-note button")
    page.wait_for_load_state("load")
    timeline = page.inner_text("#timeline")
    assert "Assigned to maya (was nobody)" in timeline
    assert "Customer is VIP: approve and send a prepaid label." in timeline

    # preview a templated SMS before sending: text, encoding and segments
    page.select_option("#form-sms select[name=kind]", "return_received")
    page.wait_for_selector("#form-sms .sms-preview:not([hidden])")
    assert page.inner_text('#form-sms [data-k="encoding"]') == "GSM-7"
    assert "#2001" in page.inner_text('#form-sms [data-k="text"]')

    # approve the return in review: timeline entry and the queued SMS
    page.click("#form-approve button")
    page.wait_for_load_state("load")
    assert page.inner_text("#case-status") == "approved"
    assert "Approved (pending_review -> approved)" in page.inner_text("#timeline")
    assert "return approved" in page.inner_text(".col-side")
    _shot(page, "case")

    page.goto(f"{base_url}/console/insights")
    assert page.locator(".kpi").count() >= 10
    _shot(page, "insights")
    assert errors == []  # CSP allowed everything the pages use
    context.close()


def test_a_supervisor_tunes_rules_and_messages(browser, base_url, shop):
    context, page, errors = _sign_in(browser, base_url, shop.api_key)
    page.goto(f"{base_url}/console/rules")
    # change the return window in the form, try it on a real order, then save
    window = "#section-returns input[name=window_days]"
    assert page.input_value(window) == "7"
    assert page.is_checked("#section-returns input[name='reason.wrong_size']")
    page.fill(window, "3")
    page.fill("#try-returns input[name=order_id]", "o-1004")
    page.click("#try-returns button[type=submit]")
    page.wait_for_selector("#try-result:not([hidden])")
    assert page.inner_text('#try-result [data-k="outcome"]') == "not eligible"
    page.fill(window, "30")
    tried = page.get_attribute("#try-returns", "data-tried")
    page.click("#try-returns button[type=submit]")
    page.wait_for_function(
        "v => document.querySelector('#try-returns').dataset.tried !== v", arg=tried
    )
    assert page.inner_text('#try-result [data-k="outcome"]') == "approved"
    _shot(page, "rules", full=False)
    page.click("#section-returns button[type=submit]")
    page.wait_for_url("**/console/rules?saved=returns")
    audit = page.inner_text("#audit")
    assert "returns" in audit and "window_days" in audit and "owner" in audit
    assert page.input_value(window) == "30"

    # SLA hours per type and priority: try an urgent complaint at 1 h, then save
    cell = "#section-sla input[name='t.complaint.urgent.first_response']"
    page.fill(cell, "1")
    page.select_option("#try-sla select[name=case_type]", "complaint")
    page.select_option("#try-sla select[name=priority]", "urgent")
    page.click("#try-sla button[type=submit]")
    page.wait_for_selector("#try-sla-result:not([hidden])")
    assert "16:00" in page.inner_text('#try-sla-result [data-k="first"]')  # 15:00 + 1 h
    page.click("#section-sla button[type=submit]")
    page.wait_for_url("**/console/rules?saved=sla")
    assert page.input_value(cell) == "1"
    assert "sla" in page.inner_text("#audit")
    page.locator("#section-sla").scroll_into_view_if_needed()
    _shot(page, "rules-sla", full=False)

    # edit the zh-CN template: the preview shows UCS-2 and the segment count as you type
    page.goto(f"{base_url}/console/messages?kind=return_approved")
    zh = "#editor-zh-CN"
    previewed = page.get_attribute(zh, "data-previewed")
    page.fill(
        f"{zh} textarea",
        "您的退货已批准。退货码：{{ return_code }}。请在七天内寄回商品，谢谢！" * 2,
    )
    page.wait_for_function(
        "v => document.querySelector('#editor-zh-CN').dataset.previewed !== v", arg=previewed
    )
    assert page.inner_text(f'{zh} [data-k="encoding"]') == "UCS-2"
    segments = int(page.inner_text(f'{zh} [data-k="segments"]').split()[0])
    assert segments >= 2
    assert "UCS-2" in page.inner_text(f'{zh} [data-k="warnings"]')
    _shot(page, "messages")
    page.click(f"{zh} button[type=submit]")
    page.wait_for_url("**saved=zh-CN")

    # retry the parked (failed) message
    failed = page.locator("#outbox tr", has=page.locator("button", has_text="Retry"))
    outbox_id = failed.get_attribute("data-id")
    failed.locator("button").click()
    page.wait_for_load_state("load")
    row = page.locator(f'#outbox tr[data-id="{outbox_id}"]')
    assert "queued" in row.inner_text() and row.locator("button").count() == 0
    assert errors == []
    context.close()


def test_the_queue_is_usable_at_phone_width(browser, base_url, shop):
    context, page, _ = _sign_in(browser, base_url, shop.api_key, PHONE)
    assert len(_rows(page)) == 12
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    _shot(page, "queue-phone", full=False)
    context.close()


def test_the_queue_and_a_case_in_chinese(browser, base_url, shop):
    context, page, errors = _sign_in(browser, base_url, shop.api_key)
    page.goto(f"{base_url}/console?lang=zh-CN")
    assert page.inner_text("h1") == "工单队列"
    assert len(_rows(page)) == 12
    _shot(page, "queue-zh", full=False)
    page.goto(f"{base_url}/console/cases/RT-DEMO-0003")  # the choice is remembered
    assert "时间线" in page.inner_text("main")
    assert errors == []
    context.close()


def test_an_agent_cannot_open_the_rules(browser, base_url, shop, app_deps):
    from chalicelib.console.users import create_user_key

    key, _ = create_user_key(app_deps.store, shop.merchant_id, "Sam", "agent", "test", FIXED_NOW)
    context, page, _ = _sign_in(browser, base_url, key)
    assert page.locator("nav a[href='/console/rules']").count() == 0
    response = page.goto(f"{base_url}/console/rules")
    assert response.status == 403
    assert "cannot do this" in page.inner_text("main")
    context.close()
