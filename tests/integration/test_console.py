"""The merchant console over the app's HTTP routes (issue 12): sign-in, cookie flags, CSRF,
merchant scoping, roles, the Shopify embedded session token, queue, case actions, settings."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.console import shopify_jwt
from tests.conftest import FIXED_NOW
from tests.signing import FAKE_SHOPIFY_SECRET

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
APP_KEY = "console-test-app-key"


def _seed(app_deps, merchant) -> None:
    from devtools.console_seed import seed_console_sample

    seed_console_sample(app_deps.store, merchant.merchant_id, FIXED_NOW)


def hdr(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _login(client, key: str):
    return client.http.post("/console/login", headers=FORM, body=urlencode({"key": key}))


def _cookie(response) -> str:
    return hdr(response)["set-cookie"].split(";", 1)[0]


def _session(client, key: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a signed-in session."""
    response = _login(client, key)
    assert response.status_code == 303, response.body
    cookie = _cookie(response)
    page = client.http.get("/console", headers={"Cookie": cookie})
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.body.decode()).group(1)
    return cookie, csrf


@pytest.fixture()
def seeded(app_deps, merchant):
    _seed(app_deps, merchant)
    return merchant


@pytest.fixture()
def other_merchant(app_deps):
    from chalicelib.handlers.merchants import create_merchant

    shop = f"other-{uuid.uuid4().hex[:10]}.myshopify.com"
    merchant_id = "shp-" + shop.split(".")[0]
    key = create_merchant(
        app_deps.store, merchant_id, "Other Shop", datetime.now(UTC), shop_domain=shop
    )
    from devtools.console_seed import seed_console_sample

    seed_console_sample(app_deps.store, merchant_id, FIXED_NOW)
    return merchant_id, key


def test_sign_in_sets_a_strict_short_lived_cookie_and_shows_the_queue(client, seeded):
    response = _login(client, seeded.api_key)
    assert response.status_code == 303 and hdr(response)["location"] == "/console"
    flags = [part.strip() for part in hdr(response)["set-cookie"].split(";")]
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/console"} <= set(flags)
    assert "Max-Age=7200" in flags
    page = client.http.get("/console", headers={"Cookie": _cookie(response)})
    body = page.body.decode()
    assert page.status_code == 200
    assert "Kettle arrived with a cracked lid" in body and "退货：茶杯有裂纹" in body
    assert "Late delivery (resolved" not in body  # settled cases are not in the queue
    assert "frame-ancestors 'none'" in hdr(page)["content-security-policy"]
    assert "script-src 'self';" in hdr(page)["content-security-policy"]
    assert "<script>" not in body and " style=" not in body  # nothing inline


def test_a_wrong_key_is_refused_without_a_cookie(client, seeded):
    response = _login(client, "ak_not_the_key")
    assert response.status_code == 401
    assert "set-cookie" not in hdr(response)
    assert "That key is not valid" in response.body.decode()


def test_without_a_session_pages_redirect_and_json_is_401(client, seeded):
    page = client.http.get("/console")
    assert page.status_code == 303 and hdr(page)["location"] == "/console/login"
    data = client.http.get("/console/api/queue", headers={"Accept": "application/json"})
    assert data.status_code == 401
    forged = client.http.get("/console", headers={"Cookie": "aftercare_console=eyJtIjoieCJ9.AAAA"})
    assert forged.status_code == 303


def test_the_queue_json_filters_and_sorts_by_due_time(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    headers = {"Cookie": cookie, "Accept": "application/json"}
    everything = json.loads(client.http.get("/console/api/queue", headers=headers).body)
    due = [row["seconds_left"] for row in everything["items"]]
    assert due == sorted(due) and everything["total"] == 12
    assert everything["items"][0]["sla"] == "breached"
    vip = json.loads(client.http.get("/console/api/queue?vip=1", headers=headers).body)
    assert {row["id"] for row in vip["items"]} == {"RT-DEMO-0001", "CP-DEMO-0010"}
    breached = json.loads(client.http.get("/console/api/queue?sla=breached", headers=headers).body)
    assert breached["items"] and all(r["sla"] == "breached" for r in breached["items"])
    assert "CP-DEMO-0002" in breached["html"]
    reviews = "/console/api/queue?type=return&status=pending_review"
    review = json.loads(client.http.get(reviews, headers=headers).body)
    assert [r["id"] for r in review["items"]] == ["RT-DEMO-0001", "RT-DEMO-0003"]
    bad = client.http.get("/console/api/queue?sla=soon", headers=headers)
    assert bad.status_code == 400


def test_a_post_without_the_csrf_token_is_refused(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    headers = {**FORM, "Cookie": cookie}
    refused = client.http.post(
        "/console/cases/CP-DEMO-0002/note", headers=headers, body=urlencode({"text": "hi"})
    )
    assert refused.status_code == 403
    wrong = client.http.post(
        "/console/cases/CP-DEMO-0002/note",
        headers=headers,
        body=urlencode({"text": "hi", "csrf": csrf[:-2] + "xx"}),
    )
    assert wrong.status_code == 403
    page = client.http.get("/console/cases/CP-DEMO-0002", headers={"Cookie": cookie})
    assert "hi" not in re.findall(r'<div class="summary">([^<]*)</div>', page.body.decode())


def test_assign_and_note_land_on_the_case_timeline(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    headers = {**FORM, "Cookie": cookie}
    assigned = client.http.post(
        "/console/cases/CP-DEMO-0002/assign",
        headers=headers,
        body=urlencode({"assignee": "maya", "csrf": csrf}),
    )
    assert assigned.status_code == 303
    assert hdr(assigned)["location"] == "/console/cases/CP-DEMO-0002"
    noted = client.http.post(
        "/console/cases/CP-DEMO-0002/note",
        headers=headers,
        body=urlencode({"text": "Called the customer <b>back</b>", "csrf": csrf}),
    )
    assert noted.status_code == 303
    body = client.http.get("/console/cases/CP-DEMO-0002", headers={"Cookie": cookie}).body.decode()
    assert "Assigned to maya (was nobody)" in body
    assert html.escape("Called the customer <b>back</b>") in body  # escaped, not markup
    assert 'id="case-assignee">maya<' in body


def test_approving_a_return_in_review_queues_the_sms(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    response = client.http.post(
        "/console/cases/RT-DEMO-0001/approve",
        headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf},
        body=json.dumps({"note": "VIP, approve"}),
    )
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["case"]["status"] == "approved"
    body = client.http.get("/console/cases/RT-DEMO-0001", headers={"Cookie": cookie}).body.decode()
    assert "Approved (pending_review -&gt; approved)" in body
    assert "return approved" in body  # the queued SMS in the messages panel
    assert "value_limit" in body  # the decision trace


def test_merchant_a_cannot_see_merchant_b_cases(client, seeded, other_merchant):
    _, other_key = other_merchant
    from chalicelib.store import keys
    from chalicelib.store.models import CaseItem

    other_id = other_merchant[0]
    # B's cases share ids with A's sample, so check a case only B has.
    from chalicelib.deps import deps
    from chalicelib.store.records import new_case

    store = deps().store
    only_b = new_case(other_id, "CP-ONLY-B", "complaint", "new", FIXED_NOW, subject="B secret")
    uow = store.unit_of_work()
    uow.insert("case", only_b)
    uow.commit()
    assert store.get(CaseItem, keys.case(other_id, "CP-ONLY-B")) is not None
    cookie, csrf = _session(client, seeded.api_key)
    page = client.http.get("/console/cases/CP-ONLY-B", headers={"Cookie": cookie})
    assert page.status_code == 404
    queue = client.http.get(
        "/console/api/queue", headers={"Cookie": cookie, "Accept": "application/json"}
    )
    assert "CP-ONLY-B" not in queue.body.decode()
    acted = client.http.post(
        "/console/cases/CP-ONLY-B/note",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"text": "x", "csrf": csrf}),
    )
    assert acted.status_code == 404
    b_cookie, _ = _session(client, other_key)
    assert (
        client.http.get("/console/cases/CP-ONLY-B", headers={"Cookie": b_cookie}).status_code == 200
    )


def test_an_agent_key_signs_in_but_cannot_open_or_save_rules(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    created = client.http.post(
        "/console/users",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"name": "Maya Chen", "role": "agent", "csrf": csrf}),
    )
    assert created.status_code == 200
    key = re.search(r'id="new-key">([^<]+)<', created.body.decode()).group(1)
    assert key.startswith(f"uk_{seeded.merchant_id}.")
    agent_cookie, agent_csrf = _session(client, key)
    rules = client.http.get("/console/rules", headers={"Cookie": agent_cookie})
    assert rules.status_code == 403
    saved = client.http.post(
        "/console/rules/returns",
        headers={**FORM, "Cookie": agent_cookie},
        body=urlencode({"value": "{}", "version": "1", "csrf": agent_csrf}),
    )
    assert saved.status_code == 403
    users = client.http.get("/console/users", headers={"Cookie": agent_cookie})
    assert users.status_code == 403
    # ...but the agent works the queue
    noted = client.http.post(
        "/console/cases/CP-DEMO-0002/note",
        headers={**FORM, "Cookie": agent_cookie},
        body=urlencode({"text": "agent note", "csrf": agent_csrf}),
    )
    assert noted.status_code == 303
    page = client.http.get("/console/cases/CP-DEMO-0002", headers={"Cookie": agent_cookie})
    assert "agent:Maya Chen" in page.body.decode()


def test_an_admin_saves_the_return_window_and_sees_the_audit_entry(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    page = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = re.search(r'id="section-returns".*?<textarea[^>]*>(.*?)</textarea>', page, re.S)
    returns = json.loads(html.unescape(form.group(1)))
    returns["window_days"] = 45
    saved = client.http.post(
        "/console/rules/returns",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"value": json.dumps(returns), "version": version, "csrf": csrf}),
    )
    assert saved.status_code == 303, saved.body
    page = client.http.get("/console/rules?saved=returns", headers={"Cookie": cookie}).body.decode()
    assert '"window_days": 45' in html.unescape(page)
    assert re.search(r"<td>owner</td><td>returns</td><td class=\"mono\">window_days</td>", page)
    invalid = client.http.post(
        "/console/rules/returns",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"value": "{not json", "version": version, "csrf": csrf}),
    )
    assert invalid.status_code == 400


def _token(shop: str, **changes) -> str:
    now = int(FIXED_NOW.timestamp())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": APP_KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": "j",
        "sid": "s",
        **changes,
    }
    return shopify_jwt.encode(claims, changes.pop("secret", FAKE_SHOPIFY_SECRET))


@pytest.fixture()
def embedded_env(monkeypatch):
    monkeypatch.setenv("AFTERCARE_SHOPIFY_API_KEY", APP_KEY)


def test_embedded_requests_need_a_valid_session_token(client, seeded, embedded_env):
    shop = seeded.shop_domain
    good = client.http.get(
        "/console/api/queue",
        headers={"Authorization": f"Bearer {_token(shop)}", "Accept": "application/json"},
    )
    assert good.status_code == 200, good.body
    assert json.loads(good.body)["total"] == 12
    expired = _token(shop, exp=int((FIXED_NOW - timedelta(seconds=30)).timestamp()))
    wrong_aud = _token(shop, aud="another-app")
    now = int(FIXED_NOW.timestamp())
    forged = shopify_jwt.encode(
        {
            "iss": f"https://{shop}/admin",
            "dest": f"https://{shop}",
            "aud": APP_KEY,
            "exp": now + 60,
            "nbf": now - 5,
        },
        "not-the-app-secret",
    )
    for token in (expired, wrong_aud, forged, "not.a.jwt"):
        refused = client.http.get(
            "/console/api/queue",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert refused.status_code == 401, token
    page = client.http.get(f"/console?shop={shop}&id_token={_token(shop)}")
    assert page.status_code == 200
    policy = hdr(page)["content-security-policy"]
    assert f"frame-ancestors https://{shop} https://admin.shopify.com" in policy
    assert "x-frame-options" not in hdr(page)


def test_static_assets_are_hashed_and_cached_forever(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    page = client.http.get("/console", headers={"Cookie": cookie}).body.decode()
    css = re.search(r'href="(/console/static/console\.[0-9a-f]{10}\.css)"', page).group(1)
    response = client.http.get(css)
    assert response.status_code == 200
    assert hdr(response)["cache-control"] == "public, max-age=31536000, immutable"
    assert client.http.get("/console/static/console.0000000000.css").status_code == 404


def test_insights_show_this_week_against_last_and_a_csv(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    page = client.http.get("/console/insights", headers={"Cookie": cookie})
    body = page.body.decode()
    assert page.status_code == 200 and "Returns decided automatically" in body
    assert body.count('<rect x="') == 4 * 12
    csv = client.http.get("/console/insights.csv", headers={"Cookie": cookie})
    lines = csv.body.decode().strip().splitlines()
    assert lines[0] == "week,cases,returns_requested,auto_rate,sla_breaches" and len(lines) == 13


def test_a_zh_cn_template_previews_as_ucs2_and_saves_with_audit(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    page = client.http.get("/console/messages?kind=return_approved", headers={"Cookie": cookie})
    assert page.status_code == 200
    assert 'id="editor-zh-CN"' in page.body.decode()
    preview = client.http.post(
        "/console/messages/return_approved/zh-CN/preview",
        headers={"Content-Type": "application/json", "Cookie": cookie},
        body=json.dumps({"text": "您的退货已批准，退货码 {{ return_code }}。" * 3}),
    )
    shown = json.loads(preview.body)
    assert preview.status_code == 200 and shown["encoding"] == "UCS-2" and shown["segments"] >= 2
    assert any("UCS-2" in w for w in shown["warnings"])
    version = re.search(r'name="version" value="(\d+)"', page.body.decode()).group(1)
    saved = client.http.post(
        "/console/messages/return_approved/zh-CN",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"text": "退货已批准：{{ return_code }}", "version": version, "csrf": csrf}),
    )
    assert saved.status_code == 303, saved.body
    again = client.http.get("/console/messages?kind=return_approved", headers={"Cookie": cookie})
    assert "退货已批准：{{ return_code }}" in html.unescape(again.body.decode())
    rules = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    assert "templates:return_approved/zh-CN" in rules  # the audit log names the template


def test_a_parked_message_is_retried_once(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    page = client.http.get("/console/messages", headers={"Cookie": cookie}).body.decode()
    failed = re.search(r'action="/console/outbox/([^/]+)/retry"', page).group(1)
    headers = {**FORM, "Cookie": cookie}
    assert (
        client.http.post(f"/console/outbox/{failed}/retry", headers=headers, body="").status_code
        == 403
    )  # no CSRF token
    body = urlencode({"csrf": csrf})
    retried = client.http.post(f"/console/outbox/{failed}/retry", headers=headers, body=body)
    assert retried.status_code == 303
    page = client.http.get("/console/messages", headers={"Cookie": cookie}).body.decode()
    assert f'action="/console/outbox/{failed}/retry"' not in page
    row = re.search(rf'<tr data-id="{failed}">.*?</tr>', page, re.S).group(0)
    assert ">queued<" in row
    twice = client.http.post(
        f"/console/outbox/{failed}/retry",
        headers={**headers, "Accept": "application/json"},
        body=body,
    )
    assert twice.status_code == 409


def test_an_agent_cannot_save_a_template(client, seeded, app_deps):
    from chalicelib.console.users import create_user_key

    key, _ = create_user_key(app_deps.store, seeded.merchant_id, "Ana", "agent", "t", FIXED_NOW)
    cookie, csrf = _session(client, key)
    page = client.http.get("/console/messages", headers={"Cookie": cookie}).body.decode()
    assert "readonly" in page and "Save en" not in page
    saved = client.http.post(
        "/console/messages/return_approved/en",
        headers={**FORM, "Cookie": cookie},
        body=urlencode({"text": "x {{ return_code }}", "version": "1", "csrf": csrf}),
    )
    assert saved.status_code == 403


def test_try_it_decides_with_the_unsaved_rules_and_a_real_order(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    scenario = {"sku": "TSHIRT", "unit_price": "30.00", "delivered_days_ago": "10"}
    rules = {"window_days": 7}
    late = client.http.post(
        "/console/rules/try/returns",
        headers=headers,
        body=json.dumps({**scenario, "rules": json.dumps(rules)}),
    )
    assert late.status_code == 200, late.body
    assert json.loads(late.body)["outcome"] == "not_eligible"
    rules["window_days"] = 30
    ok = client.http.post(
        "/console/rules/try/returns",
        headers=headers,
        body=json.dumps({**scenario, "rules": json.dumps(rules)}),
    )
    decided = json.loads(ok.body)
    assert decided["outcome"] == "approved" and decided["window_days"] == 30
    assert any("window" in t["rule"] for t in decided["trace"])
    order = client.http.post(
        "/console/rules/try/returns", headers=headers, body=json.dumps({"order_id": "o-1001"})
    )
    assert json.loads(order.body)["outcome"] == "needs_review"  # 248.00 > 200.00 limit
    missing = client.http.post(
        "/console/rules/try/returns", headers=headers, body=json.dumps({"order_id": "o-nope"})
    )
    assert missing.status_code == 404


def test_the_sample_seed_is_idempotent(app_deps, seeded):
    from devtools.console_seed import AGENT_KEY, seed_console_sample

    assert seed_console_sample(app_deps.store, seeded.merchant_id, FIXED_NOW) is False
    assert AGENT_KEY.startswith("uk_shp-aftercare-demo.")


def test_try_it_shows_sla_due_times_under_the_edited_policy(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    tried = client.http.post(
        "/console/rules/try/sla",
        headers=headers,
        body=json.dumps({"case_type": "complaint", "priority": "urgent", "vip": "1"}),
    )
    assert tried.status_code == 200, tried.body
    due = json.loads(tried.body)
    assert due["first_response_due"] and due["steps"]
    assert {s["level"] for s in due["steps"]} >= {"breach"}
    bad = client.http.post(
        "/console/rules/try/sla", headers=headers, body=json.dumps({"sla": "{oops"})
    )
    assert bad.status_code == 400
    unknown = client.http.post("/console/rules/try/digest", headers=headers, body="{}")
    assert unknown.status_code == 404


def test_a_templated_sms_is_previewed_in_the_customers_language_then_queued_once(client, seeded):
    cookie, csrf = _session(client, seeded.api_key)
    page = client.http.get("/console/cases/RT-DEMO-0003", headers={"Cookie": cookie})
    assert 'value="return_received"' in page.body.decode()
    preview = client.http.post(
        "/console/cases/RT-DEMO-0003/sms/preview",
        headers={"Content-Type": "application/json", "Cookie": cookie},
        body=json.dumps({"kind": "return_received"}),
    )
    shown = json.loads(preview.body)
    assert preview.status_code == 200 and shown["locale_used"] == "zh-CN"
    assert shown["encoding"] == "UCS-2" and shown["segments"] >= 1 and "#2002" in shown["text"]
    form = {**FORM, "Cookie": cookie}
    body = urlencode({"kind": "return_received", "csrf": csrf})
    sent = client.http.post("/console/cases/RT-DEMO-0003/sms", headers=form, body=body)
    assert sent.status_code == 303, sent.body
    page = client.http.get("/console/cases/RT-DEMO-0003", headers={"Cookie": cookie}).body.decode()
    assert "SMS queued: return received" in page
    assert page.count("return received") >= 2  # timeline entry + the queued message
    unknown = client.http.post(
        "/console/cases/RT-DEMO-0003/sms",
        headers=form,
        body=urlencode({"kind": "opt_out_confirmed", "csrf": csrf}),
    )
    assert unknown.status_code == 400
    opted_out = client.http.post(  # Jade opted out of SMS
        "/console/cases/SE-DEMO-0004/sms",
        headers={**form, "Accept": "application/json"},
        body=urlencode({"kind": "shipment_exception", "csrf": csrf}),
    )
    assert opted_out.status_code == 409


def test_bulk_assign_needs_a_supervisor(client, seeded, app_deps):
    from chalicelib.console.users import create_user_key

    cookie, csrf = _session(client, seeded.api_key)
    headers = {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf}
    ids = ["CP-DEMO-0002", "IQ-DEMO-0005", "CP-NOPE"]  # the last one does not exist
    done = client.http.post(
        "/console/bulk-assign",
        headers=headers,
        body=json.dumps({"case_ids": ids, "assignee": "li"}),
    )
    assert done.status_code == 200, done.body
    assert json.loads(done.body)["results"] == {
        "CP-DEMO-0002": "assigned",
        "IQ-DEMO-0005": "assigned",
        "CP-NOPE": "not_found",
    }
    queue = client.http.get(
        "/console/api/queue?assignee=li", headers={"Cookie": cookie, "Accept": "application/json"}
    )
    assert {"CP-DEMO-0002", "IQ-DEMO-0005"} <= {r["id"] for r in json.loads(queue.body)["items"]}
    key, _ = create_user_key(app_deps.store, seeded.merchant_id, "Bo", "agent", "t", FIXED_NOW)
    agent_cookie, agent_csrf = _session(client, key)
    refused = client.http.post(
        "/console/bulk-assign",
        headers={
            "Content-Type": "application/json",
            "Cookie": agent_cookie,
            "X-CSRF-Token": agent_csrf,
        },
        body=json.dumps({"case_ids": ids[:1], "assignee": "bo"}),
    )
    assert refused.status_code == 403


def test_the_console_speaks_chinese_when_asked(client, seeded):
    cookie, _ = _session(client, seeded.api_key)
    page = client.http.get("/console?lang=zh-CN", headers={"Cookie": cookie})
    body = page.body.decode()
    assert page.status_code == 200 and '<html lang="zh-CN">' in body
    assert "工单队列" in body and "已超时" in body and "待审核" in body
    assert hdr(page)["set-cookie"].startswith("console_lang=zh-CN;")
    remembered = client.http.get("/console", headers={"Cookie": f"{cookie}; console_lang=zh-CN"})
    assert "工单队列" in remembered.body.decode()
    browser = client.http.get(
        "/console/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    )
    assert "登录控制台" in browser.body.decode()
    english = client.http.get("/console", headers={"Cookie": cookie})
    assert "工单队列" not in english.body.decode()


def test_round_trips_per_view_on_a_warm_container(client, seeded):
    from tests.integration.test_round_trips import dynamodb_calls

    cookie, csrf = _session(client, seeded.api_key)  # the merchant is now cached
    views = {
        "/console": ["Query"],
        "/console/api/queue?sla=breached": ["Query"],
        "/console/cases/RT-DEMO-0001": ["Query", "BatchGetItem", "Query"],
        "/console/rules": ["GetItem", "Query"],
        "/console/messages": ["GetItem", "Query"],
        "/console/insights": ["BatchGetItem"],
        "/console/users": ["Query"],
    }
    for path, expected in views.items():
        with dynamodb_calls() as calls:
            assert client.http.get(path, headers={"Cookie": cookie}).status_code == 200
        assert calls == expected, (path, calls)
    with dynamodb_calls() as calls:
        client.http.post(
            "/console/cases/CP-DEMO-0002/note",
            headers={**FORM, "Cookie": cookie},
            body=urlencode({"text": "counted", "csrf": csrf}),
        )
    assert calls == ["GetItem", "TransactWriteItems"]
