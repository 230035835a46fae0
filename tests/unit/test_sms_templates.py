"""Customer SMS templates: all kinds in en and zh-CN, fallback, overrides, sandbox, money, dates."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.errors import MalformedPayload
from chalicelib.events import Money
from chalicelib.notify.encoding import forces_ucs2
from chalicelib.notify.templates import (
    KINDS,
    locale_chain,
    override_key,
    render_sms,
    requires_opt_out_notice,
    sample_context,
    validate_template,
)

ROOT = Path(__file__).resolve().parents[2]
US, DE, CN = "+16502530000", "+4930123456", "+8613800138000"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_english_as_gsm7(kind: str) -> None:
    sms = render_sms(kind, "en-US", sample_context(kind), "Acme", to=US)
    assert sms.locale_used == "en"
    assert sms.text.startswith("Acme: ")
    assert forces_ucs2(sms.text) == []
    assert sms.cost.encoding == "GSM-7"
    assert "None" not in sms.text and "{" not in sms.text
    assert sms.cost.segments <= 2


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_chinese(kind: str) -> None:
    sms = render_sms(kind, "zh-CN", sample_context(kind), "Acme", to=CN)
    assert sms.locale_used == "zh-CN"
    assert sms.text.startswith("【Acme】")
    assert sms.cost.encoding == "UCS-2"
    assert "None" not in sms.text and "{" not in sms.text
    assert sms.cost.segments <= 2


def test_optional_values_may_be_left_out() -> None:
    for kind in KINDS:
        context = {"order_number": "#7", "return_code": "R-1", "amount": Money(Decimal(5), "USD")}
        context["refunded_at"] = date(2024, 5, 3)
        for locale in ("en", "zh-CN"):
            text = render_sms(kind, locale, context, "Acme").text
            assert "None" not in text


def test_out_for_delivery_shows_the_courier_phone_when_given() -> None:
    with_phone = render_sms(
        "shipment_out_for_delivery", "en", {"order_number": "#7", "courier_phone": "555-0100"}, "A"
    )
    assert "Courier: 555-0100." in with_phone.text
    without = render_sms("shipment_out_for_delivery", "en", {"order_number": "#7"}, "A")
    assert "Courier" not in without.text


def test_status_link_only_when_given() -> None:
    context = {"order_number": "#7", "status_url": "https://s.example.com/x"}
    assert render_sms("shipment_delivered", "en", context, "A").text.endswith(
        "https://s.example.com/x"
    )
    zh = render_sms("shipment_delivered", "zh-CN", context, "A").text
    assert "详情：https://s.example.com/x" in zh
    assert "http" not in render_sms("shipment_delivered", "en", {"order_number": "#7"}, "A").text


# --- opt-out notice ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "required"),
    [(US, True), ("+14165550123", True), (CN, True), (DE, False), ("+442079460018", False),
     ("garbage", True)],
)  # fmt: skip
def test_requires_opt_out_notice(e164: str, required: bool) -> None:
    assert requires_opt_out_notice(e164) is required


def test_opt_out_notice_follows_the_destination() -> None:
    context = {"order_number": "#7"}
    assert render_sms("shipment_delivered", "en", context, "A", to=US).text.endswith(
        "Reply STOP to opt out."
    )
    assert "STOP" not in render_sms("shipment_delivered", "en", context, "A", to=DE).text
    assert "STOP" not in render_sms("shipment_delivered", "en", context, "A").text
    zh = render_sms("shipment_delivered", "zh-CN", context, "A", to=CN).text
    assert zh.endswith("回复TD退订")


def test_opt_out_notice_always_on_help_never_on_opt_out_confirmation() -> None:
    assert "Reply STOP" in render_sms("help", "en", {}, "A", to=DE).text
    assert "Reply STOP" in render_sms("opt_in_confirmed", "en", {}, "A").text
    assert "Reply STOP" not in render_sms("opt_out_confirmed", "en", {}, "A", to=US).text


# --- locale fallback --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "default", "chain"),
    [
        ("zh-CN", "en", ["zh-CN", "zh", "en"]),
        ("zh_cn", "en", ["zh-CN", "zh", "en"]),
        ("zh-Hans-CN", "en", ["zh-Hans-CN", "zh-CN", "zh", "en"]),
        ("fr-CA", "de", ["fr-CA", "fr", "de", "en"]),
        ("es", "zh", ["es", "zh", "zh-CN", "en"]),
        (None, "zh-CN", ["zh-CN", "zh", "en"]),
        ("not a locale!", "en", ["en"]),
    ],
)
def test_locale_chain(locale: str | None, default: str, chain: list[str]) -> None:
    assert locale_chain(locale, default) == chain


@pytest.mark.parametrize(
    ("locale", "default", "used"),
    [
        ("zh-CN", "en", "zh-CN"),
        ("zh_CN", "en", "zh-CN"),
        ("zh-Hans-CN", "en", "zh-CN"),
        ("zh-SG", "en", "zh-CN"),  # language fallback
        ("en-GB", "zh-CN", "en"),
        ("fr-FR", "zh-CN", "zh-CN"),  # merchant default
        ("fr-FR", "de", "en"),  # last resort
        (None, "en", "en"),
    ],
)
def test_locale_fallback(locale: str | None, default: str, used: str) -> None:
    sms = render_sms("shipment_delivered", locale, {"order_number": "#7"}, "A", None, default)
    assert sms.locale_used == used


# --- merchant overrides -----------------------------------------------------------------------


def test_override_beats_package_template_in_the_same_locale() -> None:
    overrides = {override_key("shipment_delivered", "en"): "Parcel {{ order_number }} is home!"}
    sms = render_sms("shipment_delivered", "en-US", {"order_number": "#7"}, "Acme", overrides)
    assert sms.text == "Acme: Parcel #7 is home!"


def test_package_template_in_the_customer_language_beats_an_override_in_another() -> None:
    overrides = {"en/shipment_delivered": "Parcel {{ order_number }} is home!"}
    sms = render_sms("shipment_delivered", "zh-CN", {"order_number": "#7"}, "Acme", overrides)
    assert sms.locale_used == "zh-CN"
    assert "已签收" in sms.text


def test_override_adds_a_language_we_do_not_ship() -> None:
    overrides = {
        override_key("refund_issued", "fr"): (
            "Remboursement de {{ amount|money(currency) }} le {{ refunded_at|date }}."
        )
    }
    context = {"order_number": "#7", "amount": Decimal("1234.5"), "currency": "EUR"}
    context["refunded_at"] = date(2024, 5, 3)
    sms = render_sms("refund_issued", "fr-FR", context, "Acme", overrides, to=US)
    assert sms.locale_used == "fr"
    # French formatting, with its no-break spaces turned into plain ones to stay GSM-7.
    assert sms.text == ("Acme: Remboursement de 1 234,50 € le 3 mai 2024. Reply STOP to opt out.")
    assert sms.cost.encoding == "GSM-7"


def test_overrides_of_one_kind_may_be_keyed_by_locale_alone() -> None:
    overrides = {"zh_cn": "包裹{{ order_number }}已送达", "en": "Parcel {{ order_number }} is home"}
    sms = render_sms("shipment_delivered", "zh-CN", {"order_number": "#7"}, "A", overrides)
    assert sms.text == "【A】包裹#7已送达"
    sms = render_sms("shipment_delivered", "de", {"order_number": "#7"}, "A", overrides)
    assert sms.text == "A: Parcel #7 is home"


def test_override_key_canonicalizes_and_rejects_unknown_kinds() -> None:
    assert override_key("shipment_delivered", "zh_cn") == "zh-CN/shipment_delivered"
    with pytest.raises(MalformedPayload):
        override_key("shipment_teleported", "en")
    with pytest.raises(MalformedPayload):
        override_key("shipment_delivered", "../etc")


def _render_override(text: str, **context: object) -> str:
    overrides = {"en/shipment_delivered": text}
    return render_sms(
        "shipment_delivered", "en", {"order_number": "#7", **context}, "A", overrides
    ).text


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ order_number.__class__.__mro__ }}",
        "{{ order_number['__class__'] }}",
        "{{ order_number['__cla' ~ 'ss__'] }}",  # only the sandbox can see this one
        "{{ order_number.upper() }}",
        "{{ ''.join(['a']) }}",
        "{% for i in range(10) %}x{% endfor %}",
        "{% set x = order_number ~ order_number %}{{ x }}",
        "{% macro m() %}x{% endmacro %}{{ m() }}",
        "{% include 'x' %}",
        "{{ order_number|replace('7', '77777') }}",
        "{{ order_number|format }}",
        "{{ 'x' * 1000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ '%s' % order_number }}",
        "{{ cycler }}",
    ],
)
def test_sandbox_refuses_unsafe_templates(template: str) -> None:
    with pytest.raises(MalformedPayload):
        _render_override(template)


def test_sandbox_allows_ordinary_template_logic() -> None:
    text = _render_override(
        "{% if first_name %}Hi {{ first_name|title }}, {% endif %}"
        "parcel {{ order_number ~ '' }} {{ 'arrived' if order_number else 'lost' }}.",
        first_name="ana",
    )
    assert text == "A: Hi Ana, parcel #7 arrived."


def test_typo_in_override_fails_clearly() -> None:
    with pytest.raises(MalformedPayload, match="ordr_number"):
        _render_override("Order {{ ordr_number }} delivered")


def test_missing_required_value_fails_clearly() -> None:
    with pytest.raises(MalformedPayload, match="amount"):
        render_sms("refund_issued", "en", {"order_number": "#7", "refunded_at": date.today()}, "A")


@pytest.mark.parametrize(
    "template", ["{{ order_number ", "{% if %}", "{% endif %}", "   ", "x" * 1001]
)
def test_broken_or_empty_override_is_malformed(template: str) -> None:
    with pytest.raises(MalformedPayload):
        _render_override(template)


def test_unknown_kind_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        render_sms("shipment_teleported", "en", {}, "A")


# --- money and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "money", "day"),
    [
        ("en", Decimal("49.90"), "USD", "$49.90", "May 3, 2024"),
        ("en", "1234.5", "EUR", "€1,234.50", "May 3, 2024"),
        ("en", Decimal("1000"), "JPY", "¥1,000", "May 3, 2024"),
        ("zh-CN", Decimal("49.90"), "CNY", "¥49.90", "2024年5月3日"),
        ("zh-CN", Decimal("49.90"), "USD", "US$49.90", "2024年5月3日"),
    ],
)
def test_refund_money_and_date_follow_the_locale(
    locale: str, amount: object, currency: str, money: str, day: str
) -> None:
    context = {"order_number": "#7", "amount": amount, "currency": currency}
    context["refunded_at"] = date(2024, 5, 3)
    text = render_sms("refund_issued", locale, context, "A").text
    assert money in text
    assert day in text


def test_money_object_carries_its_currency() -> None:
    context = {"order_number": "#7", "amount": Money(Decimal("12.00"), "GBP")}
    context["refunded_at"] = "2024-05-03"
    assert "£12.00" in render_sms("refund_issued", "en", context, "A").text


def test_float_money_is_refused() -> None:
    context = {"order_number": "#7", "amount": 0.1, "currency": "USD", "refunded_at": "2024-05-03"}
    with pytest.raises(MalformedPayload, match="float"):
        render_sms("refund_issued", "en", context, "A")


def test_datetime_is_shown_on_the_recipient_calendar() -> None:
    context = {"order_number": "#7", "amount": "5", "currency": "USD"}
    context["refunded_at"] = datetime(2024, 5, 3, 2, tzinfo=UTC)  # 2 May, 19:00 in California
    assert "May 3, 2024" in render_sms("refund_issued", "en", context, "A").text
    context["zone"] = "America/Los_Angeles"
    assert "May 2, 2024" in render_sms("refund_issued", "en", context, "A").text


# --- validate_template ------------------------------------------------------------------------


def test_validate_plain_template_has_no_warnings() -> None:
    assert validate_template("Order {{ order_number }} delivered.") == []
    assert validate_template("Order {{ order_number }} delivered.", "shipment_delivered") == []


def test_validate_warns_about_ucs2() -> None:
    (warning,) = validate_template("It’s here! 📦 {{ order_number }}")
    assert "UCS-2" in warning and "’" in warning


def test_validate_warns_about_more_than_two_segments() -> None:
    long = "Your order {{ order_number }} has arrived. " + "Thanks for shopping! " * 14
    assert any("segments" in w for w in validate_template(long))
    medium = "Your order {{ order_number }} has arrived. " + "Thanks! " * 30
    assert validate_template(medium) == []  # fixed text alone fits
    assert any("3 SMS segments" in w for w in validate_template(medium, "shipment_delivered"))


def test_validate_refuses_what_render_would_refuse() -> None:
    with pytest.raises(MalformedPayload):
        validate_template("{{ ''.__class__ }}")
    with pytest.raises(MalformedPayload, match="ordr_number"):
        validate_template("Order {{ ordr_number }}", "shipment_delivered")
    with pytest.raises(MalformedPayload):
        validate_template("{% for x in y %}{% endfor %}")


def test_importing_loads_no_template_engine() -> None:
    code = (
        "import sys, chalicelib.notify.templates, chalicelib.notify.quiet_hours;"
        "print(sorted(m for m in ('jinja2', 'babel', 'phonenumbers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"
