"""The rules page's real form fields for the return and SLA sections (D2): they post the same
validated, audited section as the JSON editor, keep what the form does not show, drive the
"try it" panels unsaved, and the rules, messages and team pages read in zh-CN."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest

from tests.conftest import FIXED_NOW

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _session(client, key: str) -> tuple[str, str]:
    response = client.http.post("/console/login", headers=FORM, body=urlencode({"key": key}))
    headers = {name.lower(): value for name, value in response.headers.items()}
    cookie = headers["set-cookie"].split(";", 1)[0]
    page = client.http.get("/console", headers={"Cookie": cookie}).body.decode()
    return cookie, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture()
def admin(client, app_deps, merchant):
    from devtools.console_seed import seed_console_sample

    seed_console_sample(app_deps.store, merchant.merchant_id, FIXED_NOW)
    cookie, csrf = _session(client, merchant.api_key)
    return merchant, cookie, csrf


def _form_of(page: str, form_id: str) -> dict[str, str]:
    """The fields a browser would post from the form `form_id` of `page` (checked boxes only)."""
    block = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", block):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox" and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return fields


def _stored(app_deps, merchant, section: str) -> dict:
    from chalicelib import merchant_settings

    return merchant_settings.load_settings(app_deps.store.merchant(merchant.merchant_id))[section]


def test_the_return_rules_form_saves_the_validated_section_with_audit(client, app_deps, admin):
    merchant, cookie, _ = admin
    page = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    fields = _form_of(page, "section-returns")
    assert fields["window_days"] == "7" and fields["auto_approve_max_value"] == "200.00"
    assert fields["reason.wrong_size"] == "1" and "final-sale" in fields["excluded_tags"]
    before = _stored(app_deps, merchant, "returns")
    fields.update(
        {
            "window_days": "30",
            "excluded_tags": "final-sale, gift-card,\nfinal-sale",
            "excluded_skus": "GIFT-100",
            "auto_approve_max_value": "120.00",
        }
    )
    del fields["reason.changed_mind"]  # unticked
    saved = client.http.post(
        "/console/rules/returns", headers={**FORM, "Cookie": cookie}, body=urlencode(fields)
    )
    assert saved.status_code == 303, saved.body
    after = _stored(app_deps, merchant, "returns")
    assert after["window_days"] == 30 and after["auto_approve_max_value"] == "120.00"
    assert after["excluded_tags"] == ["final-sale", "gift-card"]
    assert after["excluded_skus"] == ["GIFT-100"]
    reasons = after["allowed_reasons"]
    assert "changed_mind" not in reasons and "wrong_size" in reasons
    assert after["max_complaints"] == before["max_complaints"]  # not on the form: kept
    page = client.http.get("/console/rules?saved=returns", headers={"Cookie": cookie}).body.decode()
    assert 'name="window_days" value="30"' in page
    audit = re.search(r'<table class="audit".*?</table>', page, re.S).group(0)
    assert re.search(r"<td>owner</td><td>returns</td><td class=\"mono\">[^<]*window_days", audit)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"window_days": "a week"}, "Return window"),
        ({"auto_approve_max_value": "lots"}, "value ceiling"),
        ({"reasons": None}, "at least one return reason"),
    ],
)
def test_a_bad_return_rules_form_is_refused_and_nothing_saved(
    client, app_deps, admin, change, words
):
    merchant, cookie, _ = admin
    page = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    fields = _form_of(page, "section-returns")
    if "reasons" in change:
        fields = {k: v for k, v in fields.items() if not k.startswith("reason.")}
    else:
        fields.update(change)
    before = _stored(app_deps, merchant, "returns")
    refused = client.http.post(
        "/console/rules/returns",
        headers={**FORM, "Cookie": cookie, "Accept": "application/json"},
        body=urlencode(fields),
    )
    assert refused.status_code == 400 and words in refused.body.decode()
    assert _stored(app_deps, merchant, "returns") == before


def test_the_sla_form_sets_hours_per_type_and_priority(client, app_deps, admin):
    merchant, cookie, _ = admin
    page = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    fields = _form_of(page, "section-sla")
    assert fields["t.*.urgent.first_response"] == "4"
    assert fields["t.complaint.*.resolution"] == "72"
    before = _stored(app_deps, merchant, "sla")
    fields["t.complaint.urgent.first_response"] = "1.5"
    fields["t.inquiry.*.first_response"] = "8"
    fields["t.dispute.high.resolution"] = ""  # cleared: the broader rule applies
    fields["t.dispute.high.first_response"] = ""
    fields["vip_multiplier"] = "0.25"
    saved = client.http.post(
        "/console/rules/sla", headers={**FORM, "Cookie": cookie}, body=urlencode(fields)
    )
    assert saved.status_code == 303, saved.body
    after = _stored(app_deps, merchant, "sla")
    assert after["targets"]["complaint"]["urgent"]["first_response"] == "PT1H30M"
    assert after["targets"]["inquiry"]["*"]["first_response"] == "PT8H"
    assert "high" not in after["targets"]["dispute"]
    assert after["vip_multiplier"] == "0.25"
    assert after["escalation"] == before["escalation"]  # not on the form: kept
    tried = client.http.post(
        "/console/rules/try/sla",
        headers={"Content-Type": "application/json", "Cookie": cookie},
        body=json.dumps({"case_type": "inquiry", "priority": "normal"}),
    )
    assert tried.status_code == 200, tried.body
    bad = dict(fields, **{"t.complaint.urgent.first_response": "-2"})
    refused = client.http.post(
        "/console/rules/sla", headers={**FORM, "Cookie": cookie}, body=urlencode(bad)
    )
    assert refused.status_code == 400


def test_try_it_reads_the_unsaved_form_fields(client, admin):
    _, cookie, _ = admin
    page = client.http.get("/console/rules", headers={"Cookie": cookie}).body.decode()
    fields = _form_of(page, "section-returns")
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    scenario = {"sku": "TSHIRT", "unit_price": "30.00", "delivered_days_ago": "10"}
    late = client.http.post(
        "/console/rules/try/returns",
        headers=headers,
        body=json.dumps({**scenario, "rules_fields": fields}),
    )
    assert late.status_code == 200 and json.loads(late.body)["outcome"] == "not_eligible"
    ok = client.http.post(
        "/console/rules/try/returns",
        headers=headers,
        body=json.dumps({**scenario, "rules_fields": {**fields, "window_days": "30"}}),
    )
    assert json.loads(ok.body)["outcome"] == "approved"
    assert json.loads(ok.body)["window_days"] == 30
    sla_fields = _form_of(page, "section-sla")
    sla_fields["t.complaint.urgent.first_response"] = "1"
    tried = client.http.post(
        "/console/rules/try/sla",
        headers=headers,
        body=json.dumps({"case_type": "complaint", "priority": "urgent", "sla_fields": sla_fields}),
    )
    due = json.loads(tried.body)["first_response_due"]
    assert due.startswith("2026-11-23T16:00")  # FIXED_NOW 15:00 + 1 h, always open
    bad = client.http.post(
        "/console/rules/try/returns",
        headers=headers,
        body=json.dumps({**scenario, "rules_fields": {**fields, "window_days": "-1"}}),
    )
    assert bad.status_code == 400


def test_the_rules_messages_and_team_pages_read_in_chinese(client, admin):
    _, cookie, _ = admin
    zh = {"Cookie": f"{cookie}; console_lang=zh-CN"}
    rules = client.http.get("/console/rules", headers=zh).body.decode()
    for words in (
        "规则与 SLA",
        "退货期限（签收后天数）",
        "允许的退货原因",
        "尺码不合适",
        "审计日志",
    ):
        assert words in rules
    assert "Return window" not in rules and "Audit log" not in rules
    messages = client.http.get("/console/messages", headers=zh).body.decode()
    for words in ("短信模板", "发件箱", "使用示例值预览", "重试"):
        assert words in messages
    assert "Outbox" not in messages and "Preview with sample values" not in messages
    team = client.http.get("/console/users", headers=zh).body.decode()
    for words in ("团队登录密钥", "创建密钥", "密钥结尾"):
        assert words in team
    assert "Create key" not in team
