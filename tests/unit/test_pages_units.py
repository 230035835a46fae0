"""The customer pages' pure parts: signing, CSRF, locale choice, explanations, contact match,
photo checks, phone masking (no I/O)."""

from __future__ import annotations

import pytest

from chalicelib.pages import csrf
from chalicelib.pages.i18n import Words, choose_locale, explain
from chalicelib.pages.lookup import contact_matches
from chalicelib.pages.photos import checked_photos
from chalicelib.pages.signing import DEV_KEY, PagesUnavailable, Signer, signer_for
from chalicelib.pages.status import mask_phone
from chalicelib.pages.web import PageError
from chalicelib.store.models import CustomerItem

NOW = 1_800_000_000


def test_signed_tokens_reject_tampering_expiry_other_purposes_and_old_keys():
    signer = Signer(("new-key", "old-key"))
    token = signer.sign("session", {"o": "1", "exp": NOW + 60})
    assert signer.verify("session", token, NOW) == {"o": "1", "exp": NOW + 60}
    assert signer.verify("session", token, NOW + 61) is None
    assert signer.verify("csrf", token, NOW) is None
    body, mac = token.split(".")
    assert signer.verify("session", body[:-2] + "xx." + mac, NOW) is None
    assert signer.verify("session", "junk", NOW) is None
    assert signer.verify("session", "a.b.c", NOW) is None
    rotated = Signer(("old-key",)).sign("session", {"exp": NOW + 60})
    assert signer.verify("session", rotated, NOW) is not None  # the previous key still verifies
    assert Signer(("other",)).verify("session", token, NOW) is None


def test_the_dev_key_is_never_used_on_prod():
    class Settings:
        pages_secrets: tuple[str, ...] = ()
        stage = "dev"

    assert signer_for(Settings()).sign("x", {}) == Signer((DEV_KEY,)).sign("x", {})
    Settings.stage = "prod"
    with pytest.raises(PagesUnavailable):
        signer_for(Settings())


def test_the_csrf_token_belongs_to_one_session():
    signer = Signer(("k",))
    one = csrf.new_session(signer, "m", "o", NOW)
    two = csrf.new_session(signer, "m", "o", NOW)
    assert csrf.csrf_ok(signer, one, csrf.csrf_token(signer, one))
    assert not csrf.csrf_ok(signer, one, csrf.csrf_token(signer, two))
    assert not csrf.csrf_ok(signer, one, None) and not csrf.csrf_ok(signer, None, "x")
    again = csrf.read_session(signer, one.token, NOW + 60)
    assert again == one
    assert csrf.read_session(signer, one.token, NOW + csrf.SESSION_SECONDS + 1) is None


@pytest.mark.parametrize(
    ("query", "customer", "header", "expected"),
    [
        ("zh-CN", "en", "en", "zh-CN"),
        (None, "zh_CN", "en", "zh-CN"),
        (None, None, "fr-FR,zh-TW;q=0.8,en;q=0.5", "zh-CN"),
        (None, None, "de-DE,en-GB;q=0.9", "en"),
        ("xx", None, None, "en"),
        (None, None, "garbage;q=abc", "en"),
    ],
)
def test_the_page_language(query, customer, header, expected):
    assert choose_locale(query, customer, header) == expected


def _decision(outcome, rule, key, **params):
    trace = [{"rule": rule, "passed": False, "key": key, "params": params}]
    return {"outcome": outcome, "deciding_rule": rule, "trace": trace}


def test_decisions_are_explained_in_the_customers_language():
    late = _decision(
        "not_eligible", "return_window", "returns.return_window.late", window="7", days="20"
    )
    assert explain(late, Words("en")) == (
        "Returns are accepted within 7 days of delivery. This order was delivered 20 days ago."
    )
    assert explain(late, Words("zh-CN")) == "退货须在签收后 7 天内申请。此订单已签收 20 天。"
    final = _decision(
        "not_eligible",
        "product_returnable",
        "returns.product_returnable.tag",
        item="Socks",
        tag="final-sale",
    )
    assert "final-sale item" in explain(final, Words("en"))
    review = _decision("needs_review", "value_ceiling", "returns.value_ceiling.over", value="1")
    assert "within one business day" in explain(review, Words("en"))  # no rule details shown
    odd = _decision("not_eligible", "new_rule", "returns.new_rule.nope")
    assert explain(odd, Words("en")) == "This request does not meet the shop's return policy."


def test_contacts_match_normalized_and_only_the_customers():
    customer = CustomerItem(email="Bob@Example.com", phone="+14155550123", country="US")
    assert contact_matches(customer, "  bob@example.COM ")
    assert contact_matches(customer, "(415) 555-0123")
    assert contact_matches(customer, "+1 415 555 0123")
    assert not contact_matches(customer, "bob@example.org")
    assert not contact_matches(customer, "")
    assert not contact_matches(CustomerItem(email=None, phone=None), "")
    assert not contact_matches(None, "bob@example.com")


def test_photos_are_checked_by_content():
    png, jpeg = b"\x89PNG\r\n\x1a\n....", b"\xff\xd8\xff\xe0...."
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 "
    assert [u.ext for u in checked_photos([png, jpeg, webp])] == ["png", "jpg", "webp"]
    for files, status in (([b"GIF89a"], 415), ([png] * 4, 413), ([png + b"0" * 2**21], 413)):
        with pytest.raises(PageError) as refused:
            checked_photos(files)
        assert refused.value.http_status == status


def test_phones_are_masked():
    assert mask_phone("+14155550123") == "+14•••••••23"
    assert mask_phone(None) == "" and mask_phone("123") == ""


def test_links_keep_the_api_gateway_stage_prefix():
    from chalicelib.pages.web import base_of

    assert base_of("/api/r/shop", "/r/{slug}", {"slug": "shop"}) == "/api"
    assert base_of("/r/shop", "/r/{slug}", {"slug": "shop"}) == ""  # local or custom domain
    assert base_of("/api/s/tok/reply", "/s/{token}/reply", {"token": "tok"}) == "/api"
    assert base_of("/x/y/r/shop", "/r/{slug}", {"slug": "shop"}) == ""  # not a stage
    assert base_of("/r/%3Cx%3E", "/r/{slug}", {"slug": "<x>"}) == ""
