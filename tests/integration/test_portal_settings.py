"""Settings sections of the customer pages (issue 11) through the settings API:
"portal" (slug claimed on save, 409 when taken; brand; reasons) and "return_logistics"
(prepaid labels, approval expiry days)."""

from __future__ import annotations

import uuid

from chalicelib.pages.lookup import merchant_by_slug
from tests.integration.test_return_labels import WAREHOUSE
from tests.integration.test_settings_api import put, settings


def test_portal_section_claims_the_slug_and_brands_the_page(client, merchant, app_deps):
    slug = f"shop-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "brand_name": "Nose Shop",
        "brand_color": "#AA3300",
        "reasons": ["damaged", "other"],
    }
    status, saved = put(client, merchant, "portal", body)
    assert status == 200, saved
    assert saved["settings"]["portal"] == {**body, "brand_color": "#aa3300"}
    assert merchant_by_slug(app_deps.store, slug).merchant_id == merchant.merchant_id
    page = client.http.get(f"/r/{slug}").body.decode()
    assert "Nose Shop" in page and "#aa3300" in page
    again = settings(client, merchant)["portal"]
    assert put(client, merchant, "portal", again)[0] == 200  # its own slug: no conflict


def test_a_slug_another_shop_has_is_409_and_nothing_changes(client, merchant, app_deps):
    from chalicelib.pages.lookup import claim_slug

    slug = f"taken-{uuid.uuid4().hex[:8]}"
    assert claim_slug(app_deps.store, slug, "someone-else")
    before = settings(client, merchant)
    status, error = put(client, merchant, "portal", {"slug": slug})
    assert status == 409 and error["error"] == "slug_taken"
    assert settings(client, merchant)["version"] == before["version"]


def test_portal_bad_values_name_the_field(client, merchant):
    for body, field in (
        ({"slug": "Bad Slug"}, "portal.slug"),
        ({"brand_color": "red"}, "portal.brand_color"),
        ({"reasons": ["because"]}, "portal.reasons"),
    ):
        status, error = put(client, merchant, "portal", body)
        assert status == 400 and field in error["detail"], (body, error)


def test_return_logistics_round_trips_and_refuses_an_incomplete_address(client, merchant):
    assert settings(client, merchant)["return_logistics"]["approval_expiry_days"] == 28
    body = {"labels": {"enabled": True, "from_address": WAREHOUSE}, "approval_expiry_days": 14}
    status, saved = put(client, merchant, "return_logistics", body)
    assert status == 200, saved
    stored = saved["settings"]["return_logistics"]
    assert stored["labels"]["enabled"] is True and stored["approval_expiry_days"] == 14
    assert stored["labels"]["parcel"] == {"weight": 16.0}
    status, error = put(
        client,
        merchant,
        "return_logistics",
        {"labels": {"enabled": True, "from_address": {"city": "SF"}}},
    )
    assert status == 400 and "from_address" in error["detail"], error
    status, error = put(client, merchant, "return_logistics", {"approval_expiry_days": 1})
    assert status == 400 and "approval_expiry_days" in error["detail"]
