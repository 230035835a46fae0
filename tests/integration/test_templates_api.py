"""The SMS templates API over HTTP against DynamoDB Local: listing defaults and overrides,
saving a checked override that the next SMS uses, cost warnings (UCS-2 for Chinese, more than
2 segments), previews that store nothing, removal, and merchant isolation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.conftest import FIXED_NOW
from tests.integration.test_returns import delivered_order, request_return, the_case


def call(client, merchant, method: str, path: str, body: Any = None, **headers: str):
    data = json.dumps(body).encode() if body is not None else b""
    all_headers = {**merchant.auth, "Content-Type": "application/json", **headers}
    response = getattr(client.http, method)(path, headers=all_headers, body=data)
    return response.status_code, json.loads(response.body or b"null")


def slot(client, merchant, kind: str, locale: str) -> dict[str, Any]:
    status, listing = call(client, merchant, "get", "/api/templates")
    assert status == 200
    return next(i for i in listing["items"] if i["kind"] == kind and i["locale"] == locale)


def test_listing_shows_every_kind_and_locale_with_defaults(client, merchant):
    status, listing = call(client, merchant, "get", "/api/templates")

    assert status == 200 and {"en", "zh-CN"} <= set(listing["locales"])
    kinds = {i["kind"] for i in listing["items"]}
    assert {"return_approved", "shipment_delivered", "refund_issued"} <= kinds
    approved = slot(client, merchant, "return_approved", "en")
    assert "return_code" in approved["default"] and approved["override"] is None
    assert approved["in_effect"] == "default"


def test_english_override_renders_a_gsm7_preview(client, merchant):
    text = "Return OK for {{ order_number }}. Your code: {{ return_code }}"

    status, saved = call(
        client, merchant, "put", "/api/templates/return_approved/en", {"text": text}
    )

    assert status == 200, saved
    assert saved["encoding"] == "GSM-7" and saved["segments"] == 1 and saved["warnings"] == []
    assert "Return OK for #1042. Your code: R-7KQ2" in saved["text"]
    assert saved["audit"]["section"] == "templates:return_approved/en"
    assert slot(client, merchant, "return_approved", "en")["in_effect"] == "override"


def test_chinese_override_warns_ucs2_and_is_used_by_the_next_sms(
    client, merchant, app_deps, sms_sent
):
    from chalicelib.notify.sender import deliver_due

    # The customer of Shopify's order example reads zh-CN.
    text = "退货已批准（订单 {{ order_number }}），退货码 {{ return_code }}，七天内寄回。"
    status, saved = call(
        client, merchant, "put", "/api/templates/return_approved/zh-CN", {"text": text}
    )
    assert status == 200, saved
    assert saved["encoding"] == "UCS-2" and saved["segments"] == 2
    assert 70 < saved["units"] <= 2 * 67
    assert any("UCS-2" in w for w in saved["warnings"])
    assert slot(client, merchant, "return_approved", "zh-CN")["override"] == text

    delivered_order(client, merchant, days_ago=2)
    deliver_due(app_deps, FIXED_NOW)
    before = len(sms_sent())
    request_return(client, merchant)
    deliver_due(app_deps, FIXED_NOW)

    code = the_case(client, merchant)["details"]["return_code"]
    new = sms_sent()[before:]
    assert len(new) == 1 and f"退货码 {code}，七天内寄回" in new[0][1]


def test_long_template_warns_about_segments(client, merchant):
    text = "Good news about order {{ order_number }}! " * 12 + "Code {{ return_code }}"

    status, preview = call(
        client, merchant, "post", "/api/templates/return_approved/en/preview", {"text": text}
    )

    assert status == 200 and preview["segments"] > 2
    assert any("segments" in w for w in preview["warnings"])
    assert slot(client, merchant, "return_approved", "en")["override"] is None  # not stored


def test_preview_without_text_renders_the_template_in_effect(client, merchant):
    status, preview = call(
        client, merchant, "post", "/api/templates/shipment_delivered/zh-CN/preview", {}
    )

    assert status == 200 and preview["locale_used"] == "zh-CN"
    assert preview["encoding"] == "UCS-2" and preview["text"]


def test_broken_or_unsafe_templates_are_400(client, merchant):
    cases = {
        "{{ order_number ": "syntax",
        "{% for x in order_number %}{{ x }}{% endfor %}": "not allowed",
        "{{ order_number.__class__ }}": "private",
        "Hi {{ nickname }}": "nickname",
    }
    for text, expected in cases.items():
        status, error = call(
            client, merchant, "put", "/api/templates/return_approved/en", {"text": text}
        )
        assert status == 400 and expected in error["detail"], (text, error)
    assert slot(client, merchant, "return_approved", "en")["override"] is None


def test_unknown_kind_bad_locale_and_stale_version(client, merchant):
    body = {"text": "Hello {{ order_number }}"}
    assert call(client, merchant, "put", "/api/templates/pigeon/en", body)[0] == 404
    assert (
        call(client, merchant, "put", "/api/templates/shipment_delivered/xx-yy-zz", body)[0] == 400
    )
    version = call(client, merchant, "get", "/api/templates")[1]["version"]
    path = "/api/templates/shipment_delivered/en"
    assert call(client, merchant, "put", path, body, **{"If-Match": str(version)})[0] == 200
    status, error = call(client, merchant, "put", path, body, **{"If-Match": str(version)})
    assert status == 409 and error["error"] == "version_conflict"


def test_delete_restores_the_default(client, merchant):
    path = "/api/templates/shipment_delivered/en"
    assert call(client, merchant, "put", path, {"text": "Here: {{ order_number }}"})[0] == 200

    status, _ = call(client, merchant, "delete", path)

    assert status == 200
    assert slot(client, merchant, "shipment_delivered", "en")["override"] is None
    assert call(client, merchant, "delete", path)[0] == 404


def test_merchant_b_does_not_see_a_overrides(client, merchant, app_deps):
    from chalicelib.handlers.merchants import create_merchant
    from tests.conftest import MerchantFixture

    path = "/api/templates/shipment_delivered/en"
    assert call(client, merchant, "put", path, {"text": "A only {{ order_number }}"})[0] == 200
    b_id = f"m-{uuid.uuid4().hex[:10]}"
    key = create_merchant(app_deps.store, b_id, "Other Shop", datetime.now(UTC))
    other = MerchantFixture(b_id, "other.example", key)

    assert slot(client, other, "shipment_delivered", "en")["override"] is None
    status, preview = call(client, other, "post", f"{path}/preview", {})
    assert status == 200 and "A only" not in preview["text"]
