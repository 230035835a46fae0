"""The return portal and status page in real headless Chromium, through the local app server.

The app runs in-process under Chalice's local server (the clock fixed at `FIXED_NOW`) on top
of the test stack, with the sample orders of `devtools/portal_sample.py`. Debian's Chromium
(`/usr/bin/chromium`, `fonts-noto-cjk` for Chinese) is driven by Playwright's Python API at a
phone viewport (390x844). Screenshots go to test-artifacts/ (and to docs/screenshots/, which
the README shows, with AFTERCARE_UPDATE_SCREENSHOTS=1). Skipped when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, FIXED_NOW, ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f5cbe70000000049454e44ae426082"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]


@pytest.fixture(autouse=True)
def _outbox_drained(app_deps):
    """Send what each test queued (SMS of the sample returns), so no later test of the
    session finds this module's messages due (tests that count SMS flush the due index)."""
    yield
    from chalicelib.notify.sender import deliver_due

    for _ in range(3):
        if not sum(deliver_due(app_deps, FIXED_NOW, limit=500).values()):
            break


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def shop(app_deps, merchant) -> str:
    """The merchant with a brand, a portal slug and the sample orders; its slug."""
    from devtools.portal_sample import seed_portal_sample

    store = app_deps.store
    item = store.merchant(merchant.merchant_id)
    item.name = "Northwind Goods"
    item.settings = {
        **(item.settings or {}),
        "brand": {"name": "Northwind Goods", "color": "#1f5f5b"},
    }
    item.save()
    slug = f"northwind-{uuid.uuid4().hex[:8]}"
    seed_portal_sample(store, store.merchant(merchant.merchant_id), slug, FIXED_NOW)
    return slug


@pytest.fixture(scope="module")
def base_url(stack) -> Iterator[str]:
    """Chalice's local server on a free port (once: it re-bases the app's class)."""
    from chalice.cli.factory import CLIFactory

    import app as app_module

    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name="dev")
    port = _free_port()
    server = factory.create_local_server(app_module.app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _shot(page, name: str) -> None:
    """Screenshots go to test-artifacts/; AFTERCARE_UPDATE_SCREENSHOTS=1 also refreshes the
    README's copies in docs/screenshots/ (so a plain test run leaves the tree clean)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"portal-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("AFTERCARE_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def _phone(browser, locale: str):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale=locale)
    return context, context.new_page()


def _look_up(page, base_url: str, slug: str, number: str, contact: str, lang: str) -> None:
    page.goto(f"{base_url}/r/{slug}?lang={lang}")
    page.fill("#order_number", number)
    page.fill("#contact", contact)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def test_full_flow_in_english(browser, base_url, shop, tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PHOTOS_DIR", str(tmp_path))  # photo upload on
    context, page = _phone(browser, "en-US")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base_url}/r/{shop}?lang=en")
    assert page.inner_text("h1") == "Start a return"
    _shot(page, "lookup-en")
    _look_up(page, base_url, shop, "1001", "Demo@Example.com", "en")
    assert "Order #1001" in page.inner_text("h1")
    _shot(page, "order-en")
    page.select_option("#qty_0", "1")
    page.select_option("#reason_0", "wrong_size")
    photo = {"name": "tag.png", "mimeType": "image/png", "buffer": PNG}
    page.set_input_files("#photos", [photo])
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("h1.outcome") == "Your return is approved"
    code = page.inner_text("#return-code")
    assert code.startswith("RT-")
    assert len(list(tmp_path.rglob("1.png"))) == 1  # the photo was kept with the return
    box = page.locator(".qr svg").bounding_box()
    assert box and box["width"] > 100
    _shot(page, "approved-en")
    # the final-sale socks: refused with the reason
    page.goto(f"{base_url}/r/{shop}/order?lang=en")
    page.select_option("#qty_2", "1")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("h1.outcome") == "This return cannot be accepted"
    assert page.inner_text("#explanation") == (
        "Linen socks (final sale) is a final-sale item and cannot be returned."
    )
    _shot(page, "refused-en")
    # the coat is over the auto-approval value: reviewed by a person
    page.goto(f"{base_url}/r/{shop}/order?lang=en")
    page.select_option("#qty_1", "1")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("h1.outcome") == "We are reviewing your request"
    _shot(page, "review-en")
    page.click("text=Track this order")
    page.wait_for_load_state("load")
    body = page.inner_text("main")
    assert "Delivered" in body and "Brooklyn" in body and code in body
    _shot(page, "status-en")
    page.fill("#message", "Can I drop the sweater at a UPS store?")
    page.click("text=Send message")
    page.wait_for_load_state("load")
    assert "we got your message" in page.inner_text("#reply-sent")
    assert errors == []  # no CSP violation or script error
    context.close()


def test_full_flow_in_chinese(browser, base_url, shop):
    context, page = _phone(browser, "zh-CN")
    page.goto(f"{base_url}/r/{shop}")  # Accept-Language zh-CN
    assert page.inner_text("h1") == "申请退货"
    _shot(page, "lookup-zh")
    _look_up(page, base_url, shop, "#1002", "(415) 555-0199", "zh-CN")
    assert "订单 #1002" in page.inner_text("h1")
    _shot(page, "order-zh")
    page.select_option("#qty_0", "1")
    page.select_option("#reason_0", "damaged")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("h1.outcome") == "您的退货申请已通过"
    _shot(page, "approved-zh")
    page.click("text=查看订单物流")
    page.wait_for_load_state("load")
    assert "已签收" in page.inner_text("main")
    _shot(page, "status-zh")
    context.close()


def test_a_forged_status_link_and_the_lookup_limit(browser, base_url, shop):
    context, page = _phone(browser, "en-US")
    response = page.goto(f"{base_url}/s/{'x' * 22}?lang=en")
    assert response.status == 404 and "does not exist" in page.inner_text("main")
    for _ in range(5):
        _look_up(page, base_url, shop, "1001", "wrong@example.com", "en")
        assert "could not find an order" in page.inner_text("#lookup-error")
    _look_up(page, base_url, shop, "1001", "demo@example.com", "en")
    assert "Too many attempts" in page.inner_text("#lookup-error")
    context.close()


def test_an_approved_return_shows_its_prepaid_label_once_bought(
    browser, base_url, shop, app_deps, merchant
):
    """Labels on (issue 11): "being prepared" right after the approval, the label link once
    the outbox bought it from EasyPost (the local stub)."""
    import dataclasses

    from chalicelib.deps import Deps
    from chalicelib.notify.label_sender import deliver
    from tests.integration.test_return_labels import LABELS
    from tests.stubs.easypost_api import FAKE_API_KEY, EasyPostStub

    store = app_deps.store
    item = store.merchant(merchant.merchant_id)
    item.settings = {**(item.settings or {}), "return_labels": LABELS}
    item.save()
    context, page = _phone(browser, "en-US")
    _look_up(page, base_url, shop, "1001", "Demo@Example.com", "en")
    page.select_option("#qty_0", "1")
    page.select_option("#reason_0", "wrong_size")
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("h1.outcome") == "Your return is approved"
    assert "being prepared" in page.inner_text("#label-preparing")

    stub = EasyPostStub()
    stub._thread.start()
    try:
        settings = dataclasses.replace(
            app_deps.settings, easypost_api_keys=(FAKE_API_KEY,), easypost_api_base=stub.url
        )
        due = store.due_outbox(FIXED_NOW, 500)
        (item,) = [i for i in due if i.merchant_id == merchant.merchant_id and i.channel == "label"]
        assert deliver(Deps(settings), item, FIXED_NOW) == "sent"
    finally:
        stub._server.shutdown()
        stub._server.server_close()
    (shipment,) = stub.shipments.values()
    page.reload()
    page.wait_for_load_state("load")
    link = page.locator("#label-link")
    assert link.get_attribute("href") == shipment["postage_label"]["label_url"]
    assert link.inner_text() == "Print your return label"
    assert shipment["tracking_code"] in page.inner_text("main")
    _shot(page, "label-en")
    context.close()
