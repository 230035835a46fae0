"""The return portal and status page over HTTP against DynamoDB Local (issue 11).

An order arrives as Shopify's `orders/create` example (order #1001, bob.norman@hostmail.com,
customer locale zh-CN), is shipped and delivered through EasyPost (tests/integration/
test_returns.py helpers); the portal then finds it by number + contact and decides returns
through the same handler as Shopify return requests. The clock is `FIXED_NOW`.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from tests.conftest import FIXED_NOW
from tests.integration.test_returns import CODE, delivered_order

EMAIL = "bob.norman@hostmail.com"
FORM = "application/x-www-form-urlencoded"
NONCE = re.compile(r"nonce-[A-Za-z0-9_-]+|nonce=\"[A-Za-z0-9_-]+\"")


@pytest.fixture(autouse=True)
def _outbox_drained(app_deps):
    """Send what each test queued (SMS of the sample returns), so no later test of the
    session finds this module's messages due (tests that count SMS flush the due index)."""
    yield
    from chalicelib.notify.sender import deliver_due

    for _ in range(3):
        if not sum(deliver_due(app_deps, FIXED_NOW, limit=500).values()):
            break


@pytest.fixture()
def slug(app_deps, merchant) -> str:
    from chalicelib.pages.lookup import claim_slug

    name = f"shop-{uuid.uuid4().hex[:10]}"
    assert claim_slug(app_deps.store, name, merchant.merchant_id)
    return name


def _ip() -> str:
    return f"203.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def lookup(client, slug: str, number="#1001", contact=EMAIL, lang="en"):
    body = urlencode({"order_number": number, "contact": contact, "lang": lang})
    headers = {"Content-Type": FORM}  # the test client always comes from one address
    return client.http.post(f"/r/{slug}/lookup", headers=headers, body=body)


def session_of(response) -> str:
    cookie = response.headers["Set-Cookie"]
    return cookie.split(";", 1)[0]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def open_order(client, slug: str, lang: str = "en") -> tuple[str, str]:
    """Look the order up; (cookie, order page html)."""
    response = lookup(client, slug, lang=lang)
    assert response.status_code == 303, response.body
    cookie = session_of(response)
    page = client.http.get(response.headers["Location"], headers={"Cookie": cookie})
    assert page.status_code == 200, page.body
    return cookie, page.body.decode()


def submit(client, slug: str, cookie: str, html: str, fields: dict[str, str], lang="en"):
    body = urlencode({"csrf": csrf_of(html), "lang": lang, **fields})
    headers = {"Content-Type": FORM, "Cookie": cookie}
    return client.http.post(f"/r/{slug}/returns", headers=headers, body=body)


def follow(client, response, cookie: str) -> str:
    assert response.status_code == 303, response.body
    page = client.http.get(response.headers["Location"], headers={"Cookie": cookie})
    assert page.status_code == 200, page.body
    return page.body.decode()


def return_cases(client, merchant) -> list[dict]:
    listing = client.http.get("/api/cases?type=return", headers=merchant.auth)
    return json.loads(listing.body)["items"]


def test_lookup_form_is_a_safe_page_and_an_unknown_slug_is_a_404(client, slug):
    page = client.http.get(f"/r/{slug}?lang=en")
    assert page.status_code == 200
    html = page.body.decode()
    assert "Start a return" in html and "Test Shop" in html and "<script" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    missing = client.http.get("/r/no-such-shop-zz")
    assert missing.status_code == 404 and "does not exist" in missing.body.decode()
    junk = client.http.get("/r/%3Cscript%3E")
    assert junk.status_code == 404 and "<script>" not in junk.body.decode()


def test_lookup_finds_the_order_and_sets_a_strict_session_cookie(client, merchant, slug):
    delivered_order(client, merchant)
    response = lookup(client, slug, number=" 1001 ", contact="  Bob.Norman@HOSTMAIL.com ")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{slug}/order?lang=en"
    cookie = response.headers["Set-Cookie"]
    for part in ("HttpOnly", "Secure", "SameSite=Lax", f"Path=/r/{slug}"):
        assert part in cookie
    page = client.http.get(response.headers["Location"], headers={"Cookie": session_of(response)})
    assert "Order #1001" in page.body.decode() and 'name="csrf"' in page.body.decode()


def test_wrong_contact_and_unknown_order_get_the_same_answer(client, merchant, slug):
    delivered_order(client, merchant)
    wrong = lookup(client, slug, contact="eve@example.com")
    unknown = lookup(client, slug, number="#9999")
    assert wrong.status_code == unknown.status_code == 200
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers
    same = [NONCE.sub("", r.body.decode()).replace("#9999", "#1001") for r in (wrong, unknown)]
    assert same[0] == same[1]
    assert "could not find an order" in same[0]


def test_the_order_page_needs_a_valid_session(client, merchant, slug):
    assert client.http.get(f"/r/{slug}/order").status_code == 403
    forged = client.http.get(f"/r/{slug}/order", headers={"Cookie": "ac_portal=abc.def"})
    assert forged.status_code == 403 and "look up your order again" in forged.body.decode()


def test_lookups_are_rate_limited(client, merchant, slug):
    delivered_order(client, merchant)
    for _ in range(5):
        assert lookup(client, slug, contact="guess@example.com").status_code == 200
    blocked = lookup(client, slug)  # even the right contact is refused now
    assert blocked.status_code == 429 and "Too many attempts" in blocked.body.decode()
    assert "Set-Cookie" not in blocked.headers


def test_the_limit_counts_per_client_ip_and_per_order_number(app_deps, merchant):
    from chalicelib.pages.ratelimit import take_lookup_slot
    from tests.conftest import FIXED_NOW

    store, mid = app_deps.store, merchant.merchant_id
    # one order number guessed from five addresses: the sixth try is refused from anywhere
    assert all(take_lookup_slot(store, mid, _ip(), "#2002", FIXED_NOW) for _ in range(5))
    assert not take_lookup_slot(store, mid, _ip(), "2002", FIXED_NOW)
    # one address trying five order numbers: refused for a sixth number
    ip = "198.51.100.7"
    assert all(take_lookup_slot(store, mid, ip, f"#30{n}", FIXED_NOW) for n in range(5))
    assert not take_lookup_slot(store, mid, ip, "#3999", FIXED_NOW)
    # the next 15-minute window starts afresh
    later = FIXED_NOW + timedelta(minutes=15)
    assert take_lookup_slot(store, mid, ip, "#3999", later)


def test_a_post_without_the_csrf_token_is_refused(client, merchant, slug):
    delivered_order(client, merchant)
    cookie, _ = open_order(client, slug)
    body = urlencode({"qty_0": "1", "reason_0": "wrong_size", "lang": "en"})
    headers = {"Content-Type": FORM, "Cookie": cookie}
    response = client.http.post(f"/r/{slug}/returns", headers=headers, body=body)
    assert response.status_code == 403
    tampered = urlencode({"qty_0": "1", "reason_0": "wrong_size", "csrf": "x" * 43})
    response = client.http.post(f"/r/{slug}/returns", headers=headers, body=tampered)
    assert response.status_code == 403
    assert return_cases(client, merchant) == []


def test_an_approved_return_has_one_case_a_code_and_a_qr_and_is_not_decided_twice(
    client, merchant, slug, sms_sent
):
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    fields = {"qty_0": "1", "reason_0": "wrong_size", "qty_1": "0", "reason_1": "other"}
    first = submit(client, slug, cookie, html, fields)
    page = follow(client, first, cookie)
    assert 'data-outcome="approved"' in page and "Your return is approved" in page
    code = re.search(r'id="return-code">([^<]+)<', page).group(1)
    assert CODE.match(code)
    assert "<svg" in page and f"QR code of return code {code}" in page
    cases = return_cases(client, merchant)
    assert len(cases) == 1 and cases[0]["status"] == "approved"
    again = submit(client, slug, cookie, html, fields)
    assert again.headers["Location"] == first.headers["Location"]
    assert code in follow(client, again, cookie)
    assert len(return_cases(client, merchant)) == 1
    detail = client.http.get(f"/api/cases/{cases[0]['id']}", headers=merchant.auth)
    assert json.loads(detail.body)["details"]["source"] == "portal"


def test_a_late_return_is_not_eligible_and_says_why(client, merchant, slug):
    delivered_order(client, merchant, days_ago=20)
    cookie, html = open_order(client, slug)
    response = submit(client, slug, cookie, html, {"qty_0": "1", "reason_0": "changed_mind"})
    page = follow(client, response, cookie)
    assert 'data-outcome="not_eligible"' in page
    assert "within 7 days of delivery" in page and "delivered 20 days ago" in page
    assert return_cases(client, merchant)[0]["status"] == "rejected"


def test_the_pages_speak_chinese(client, merchant, slug):
    delivered_order(client, merchant, days_ago=20)
    form = client.http.get(f"/r/{slug}", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "申请退货" in form.body.decode() and 'lang="zh-CN"' in form.body.decode()
    cookie, html = open_order(client, slug, lang="zh-CN")
    assert "请选择要退回的商品" in html and "尺码不合适" in html
    response = submit(
        client, slug, cookie, html, {"qty_0": "1", "reason_0": "changed_mind"}, lang="zh-CN"
    )
    page = follow(client, response, cookie)
    assert "此退货申请无法受理" in page and "退货须在签收后 7 天内申请" in page


def test_bad_form_input_gets_a_clear_page_not_a_500(client, merchant, slug):
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    for fields in ({"qty_0": "lots", "reason_0": "wrong_size"}, {"qty_0": "1", "reason_0": "x"}):
        assert submit(client, slug, cookie, html, fields).status_code == 400
    nothing = submit(client, slug, cookie, html, {"qty_0": "0", "reason_0": "wrong_size"})
    assert "error=none" in nothing.headers["Location"]
    assert "Choose at least one item" in follow(client, nothing, cookie)


def test_the_status_page_shows_delivery_and_returns_and_a_forged_token_is_404(
    client, merchant, slug
):
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    submit(client, slug, cookie, html, {"qty_0": "1", "reason_0": "wrong_size"})
    page = client.http.get(f"{href}?lang=en")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.body.decode()
    assert "Order #1001" in text and "Delivered" in text and "Louisville" in text
    assert "Approved: return code RT-" in text and "<svg" in text
    assert "+1415" not in text and "415-555" not in text  # the phone is masked
    zh = client.http.get(f"{href}?lang=zh-CN").body.decode()
    assert "已签收" in zh
    forged = client.http.get("/s/" + "A" * 22)
    assert forged.status_code == 404
    assert client.http.get("/s/short").status_code == 404


def test_a_reply_from_the_status_page_reaches_the_case_timeline(client, merchant, slug):
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    submit(client, slug, cookie, html, {"qty_0": "1", "reason_0": "wrong_size"})
    page = client.http.get(f"{href}?lang=en").body.decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    headers = {"Content-Type": FORM}
    forged = urlencode({"csrf": "x.y", "message": "hi", "lang": "en"})
    assert client.http.post(f"{href}/reply", headers=headers, body=forged).status_code == 403
    body = urlencode({"csrf": token, "message": "Can I drop it at a UPS store?", "lang": "en"})
    sent = client.http.post(f"{href}/reply", headers=headers, body=body)
    assert sent.status_code == 303 and "sent=1" in sent.headers["Location"]
    again = client.http.post(f"{href}/reply", headers=headers, body=body)  # a double click
    assert again.status_code == 303
    assert "we got your message" in client.http.get(sent.headers["Location"]).body.decode()
    case_id = return_cases(client, merchant)[0]["id"]
    case = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    messages = [e for e in case["timeline"] if e["kind"] == "customer_message"]
    assert [m["summary"] for m in messages] == ["Can I drop it at a UPS store?"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is what is checked


def multipart(fields: dict[str, str], files: list[tuple[str, bytes, str]]) -> tuple[str, bytes]:
    boundary = "----aftercare" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for filename, data, ctype in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


def test_photos_are_checked_kept_and_noted_on_the_case(
    client, merchant, slug, tmp_path, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_PHOTOS_DIR", str(tmp_path))
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    fields = {"csrf": csrf_of(html), "lang": "en", "qty_0": "1", "reason_0": "damaged"}

    def post(files):
        ctype, body = multipart(fields, files)
        headers = {"Content-Type": ctype, "Cookie": cookie}
        return client.http.post(f"/r/{slug}/returns", headers=headers, body=body)

    wrong_type = post([("a.jpg", b"<html>not a photo</html>", "image/jpeg")])
    assert wrong_type.status_code == 415 and "Only photos" in wrong_type.body.decode()
    too_big = post([("a.png", PNG + b"\x00" * (2 * 1024 * 1024), "image/png")])
    assert too_big.status_code == 413
    too_many = post([(f"{n}.png", PNG, "image/png") for n in range(4)])
    assert too_many.status_code == 413 and "up to 3 photos" in too_many.body.decode()
    assert return_cases(client, merchant) == []  # a refused upload decides nothing
    ok = post([("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")])
    assert "Your return is approved" in follow(client, ok, cookie)
    case_id = return_cases(client, merchant)[0]["id"]
    kept = sorted(p.name for p in (tmp_path / merchant.merchant_id / case_id).iterdir())
    assert kept == ["1.png", "2.png"]
    case = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    assert [e["summary"] for e in case["timeline"] if e["kind"] == "customer_photos"] == [
        "Customer attached 2 photo(s)"
    ]


def test_round_trips_and_weight_of_each_page_view(client, merchant, slug):
    """Exact DynamoDB calls per page view on a warm container (merchant cached), no Scan;
    every page is one HTML document (no script, no other request) under 20 KB."""
    from tests.integration.test_round_trips import dynamodb_calls

    delivered_order(client, merchant)
    client.http.get(f"/r/{slug}")  # warms the merchant cache
    seen: dict[str, tuple[list[str], int]] = {}

    def measure(name, call):
        with dynamodb_calls() as calls:
            response = call()
        seen[name] = (list(calls), len(response.body))
        return response

    measure("form", lambda: client.http.get(f"/r/{slug}?lang=en"))
    found = measure("lookup", lambda: lookup(client, slug))
    cookie = session_of(found)
    html = measure(
        "order", lambda: client.http.get(found.headers["Location"], headers={"Cookie": cookie})
    ).body.decode()
    fields = {"qty_0": "1", "reason_0": "wrong_size"}
    sent = measure("submit", lambda: submit(client, slug, cookie, html, fields))
    measure("result", lambda: client.http.get(sent.headers["Location"], headers={"Cookie": cookie}))
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    measure("status", lambda: client.http.get(f"{href}?lang=en"))
    print({name: (calls, size) for name, (calls, size) in seen.items()})
    assert all("Scan" not in calls for calls, _ in seen.values())
    assert seen["form"][0] == ["GetItem"]
    lookup_calls = ["GetItem", "UpdateItem", "UpdateItem", "GetItem", "BatchGetItem", "PutItem"]
    assert seen["lookup"][0] == lookup_calls  # the last: the status-page link, once
    assert seen["order"][0] == ["GetItem", "GetItem", "GetItem"]
    assert seen["submit"][0] == [
        *["GetItem", "GetItem"],  # slug, order
        *["BatchGetItem", "GetItem", "TransactWriteItems"],  # the ReturnRequested handler
    ]
    assert seen["result"][0] == ["GetItem", "BatchGetItem"]
    assert seen["status"][0] == ["GetItem", "Query", "BatchGetItem", "BatchGetItem"]
    assert all(size < 20_000 for _, size in seen.values())


def test_the_status_page_follows_the_warehouse_receipt_and_the_refund(
    client, app_deps, merchant, slug
):
    from tests.integration.test_returns import ORDER_ID, post_shopify
    from tests.integration.test_warehouse_flow import post_wms, wms_body
    from tests.signing import FAKE_GENERIC_WMS_SECRET
    from tests.support import load_fixture

    item = app_deps.store.merchant(merchant.merchant_id)
    item.webhook_secrets = {**item.webhook_secrets, "generic_wms": [FAKE_GENERIC_WMS_SECRET]}
    item.save()
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    page = follow(
        client, submit(client, slug, cookie, html, {"qty_0": "1", "reason_0": "damaged"}), cookie
    )
    code = re.search(r'id="return-code">([^<]+)<', page).group(1)

    post_wms(client, merchant, wms_body(code, (None, None), event="return.received"))
    assert "Received at our warehouse" in client.http.get(f"{href}?lang=en").body.decode()

    refund = json.loads(load_fixture("shopify", "refunds_create.json"))
    refund.update(order_id=ORDER_ID)
    body = json.dumps(refund).encode()
    assert post_shopify(client, merchant.shop_domain, "refunds/create", body).status_code == 200
    text = client.http.get(f"{href}?lang=en").body.decode()
    assert "$85.00 refunded on Dec 31, 2021" in text  # the example refund's amount and date
    zh = client.http.get(f"{href}?lang=zh-CN").body.decode()
    assert "退款" in zh and "仓库已收货" in zh
    assert str(ORDER_ID) not in href  # the page is found by its token, never by the order id


def test_the_run_command_seeds_the_demo_portal(client, app_deps):
    from devtools.seed import SAMPLE, seed_sample_merchant

    seed_sample_merchant(app_deps.store)
    seed_sample_merchant(app_deps.store)  # a second run changes nothing
    slug = SAMPLE["portal_slug"]
    assert "Aftercare Demo Shop" in client.http.get(f"/r/{slug}?lang=en").body.decode()
    found = lookup(client, slug, number="1002", contact="+1 (415) 555-0199")
    assert found.status_code == 303
    page = client.http.get(found.headers["Location"], headers={"Cookie": session_of(found)})
    assert "羊毛大衣" in page.body.decode()


def test_a_revoked_status_link_is_a_404(client, app_deps, merchant, slug):
    from chalicelib.pages.status import revoke_status_link
    from tests.integration.test_returns import ORDER_ID

    delivered_order(client, merchant)
    _, html = open_order(client, slug)
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    assert client.http.get(href).status_code == 200
    assert revoke_status_link(app_deps, merchant.merchant_id, str(ORDER_ID))
    assert client.http.get(href).status_code == 404


def test_a_settled_return_can_be_rated_once_from_the_status_page(client, app_deps, merchant, slug):
    """CSAT (issue 11): after the refund the page asks 1-5 once; the score lands on the case
    and in the weekly counters as an SMS rating does; a replayed form counts nothing."""
    from tests.integration.test_warehouse_flow import post_wms, wms_body
    from tests.signing import FAKE_GENERIC_WMS_SECRET

    item = app_deps.store.merchant(merchant.merchant_id)
    item.webhook_secrets = {**item.webhook_secrets, "generic_wms": [FAKE_GENERIC_WMS_SECRET]}
    item.save()
    delivered_order(client, merchant)
    cookie, html = open_order(client, slug)
    href = re.search(r'href="(/s/[A-Za-z0-9_-]{22})\?lang=en"', html).group(1)
    page = follow(
        client, submit(client, slug, cookie, html, {"qty_0": "1", "reason_0": "damaged"}), cookie
    )
    code = re.search(r'id="return-code">([^<]+)<', page).group(1)
    assert "data-csat=" not in client.http.get(f"{href}?lang=en").body.decode()  # not settled
    post_wms(client, merchant, wms_body(code, (None, None), event="return.received"))
    (case,) = return_cases(client, merchant)
    steps = {"received": ["refund_pending", "refunded"], "refund_pending": ["refunded"]}
    for target in steps[case["status"]]:  # an agent records the refund made by hand
        moved = client.http.post(
            f"/api/cases/{case['id']}/status",
            headers={**merchant.auth, "Content-Type": "application/json"},
            body=json.dumps({"status": target}),
        )
        assert moved.status_code == 200, moved.body

    text = client.http.get(f"{href}?lang=en").body.decode()
    assert "How happy are you with how we handled your request?" in text
    case_id = re.search(r'data-csat="([^"]+)"', text).group(1)
    form_token = re.search(
        r'action="[^"]*/csat">\s*<input type="hidden" name="csrf" value="([^"]+)"', text
    ).group(1)
    headers = {"Content-Type": FORM}
    forged = urlencode({"csrf": form_token + "x", "score": "5", "lang": "en"})
    assert client.http.post(f"{href}/csat", headers=headers, body=forged).status_code == 403
    bad = urlencode({"csrf": form_token, "score": "9", "lang": "en"})
    assert client.http.post(f"{href}/csat", headers=headers, body=bad).status_code == 400
    rated = urlencode({"csrf": form_token, "score": "4", "lang": "en"})
    first = client.http.post(f"{href}/csat", headers=headers, body=rated)
    assert first.status_code == 303 and "rated=1" in first.headers["Location"]
    replay = urlencode({"csrf": form_token, "score": "1", "lang": "en"})
    assert client.http.post(f"{href}/csat", headers=headers, body=replay).status_code == 303

    after = client.http.get(f"{href}?lang=en&rated=1").body.decode()
    assert 'id="csat-thanks"' in after and "data-csat=" not in after
    detail = json.loads(client.http.get(f"/api/cases/{case_id}", headers=merchant.auth).body)
    assert detail["details"]["csat"]["score"] == 4 and detail["details"]["csat"]["channel"] == "web"
    assert [e["kind"] for e in detail["timeline"]].count("csat_received") == 1
    from chalicelib.store import keys

    week = keys.iso_week(FIXED_NOW)
    counters = app_deps.store.weekly_counters(merchant.merchant_id, [week])[week]
    assert counters["csat_count"] == 1 and counters["csat_sum"] == 4 and counters["csat:4"] == 1
