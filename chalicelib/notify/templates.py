"""Customer SMS texts: per-locale Jinja2 templates, sandboxed merchant overrides, cost per message.

A message is a body (one template per kind and locale, `templates/<locale>/<kind>.j2`, or a
merchant's override) wrapped by that locale's `_layout.j2`: brand prefix, status link when the
context has `status_url`, and the opt-out notice where `requires_opt_out_notice` says the
destination needs it. The wrapper is always ours, so an override cannot drop the notice.

Locale fallback: the exact locale, without its script, the language alone, the language's main
package locale ("zh" -> "zh-CN"), then the merchant's default locale the same way, then "en".
At each step a merchant override (key `override_key(kind, locale)`) beats the package template,
and a package template in an earlier locale beats an override in a later one: language first.

Merchants are untrusted template authors. Overrides are limited to printing, `if`, comparisons,
`~`/`+`/`-`, attribute/item access (Jinja2's sandbox refuses private attributes such as
`__class__`) and a short list of filters; no calls, loops, assignments, macros or includes, so
a template can neither reach Python internals nor burn CPU or memory. Undefined names are
errors (StrictUndefined). Every template problem raises `MalformedPayload`.

Filters for all templates: `money(currency)` (Babel, for `Decimal`/`Money`; floats refused) and
`date(format="medium")` (Babel; aware datetimes shown in the context's `zone` when given).
Templates load on first use, never at import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import MalformedPayload
from chalicelib.events import Money
from chalicelib.notify.encoding import SmsCost, forces_ucs2, sms_cost
from chalicelib.notify.phone import region_of

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "KINDS",
    "OPT_OUT_REGIONS",
    "RenderedSms",
    "locale_chain",
    "override_key",
    "render_sms",
    "requires_opt_out_notice",
    "sample_context",
    "validate_template",
]

# kind -> optional context names (None unless given). Required names are those the templates
# print unguarded (StrictUndefined reports a missing one): `order_number` for all but the last
# four; `return_code` (return_approved); `amount` and `refunded_at` (refund_issued).
KINDS: dict[str, tuple[str, ...]] = {
    "shipment_in_transit": ("carrier", "tracking_number", "estimated_delivery"),
    "shipment_out_for_delivery": ("courier_phone", "carrier"),
    "shipment_delivered": (),
    "shipment_delivery_failed": ("reason",),
    "shipment_exception": (),
    "shipment_available_for_pickup": ("pickup_location", "pickup_deadline"),
    "shipment_returned_to_sender": (),
    "shipment_stale": ("days_quiet",),
    "return_approved": ("return_deadline",),
    "return_needs_review": ("review_hours",),
    "return_rejected": ("reason",),
    "return_in_transit": ("carrier", "tracking_number"),
    "return_received": (),
    "return_label_ready": ("label_url", "carrier", "tracking_number"),
    "return_expiry_reminder": ("return_code", "expires_at"),
    "return_expired": ("return_code",),
    "refund_issued": ("currency",),
    "csat_question": ("order_number",),
    "opt_out_confirmed": (),
    "opt_in_confirmed": (),
    "help": ("support_contact",),
}
_COMMON_OPTIONAL = ("first_name", "status_url", "zone")

# US and its territories (TCPA/CTIA), Canada (CASL) and China (MIIT rules for commercial SMS)
# expect every message to say how to stop. Unknown or invalid destinations get it too.
OPT_OUT_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "CA", "CN"})
_NOTICE_ALWAYS = frozenset({"help", "opt_in_confirmed"})  # they answer the customer's keyword
_NOTICE_NEVER = frozenset({"opt_out_confirmed"})

_LANGUAGE_DEFAULTS = {"zh": "zh-CN"}
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|\d{3}))?$")
_MAX_OVERRIDE_CHARS = 1000
_MAX_BODY_CHARS = 1000
_SAFE_FILTERS = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "default", "d", "truncate", "length",
     "string", "int", "abs", "round", "first", "last", "money", "date"}
)  # fmt: skip
_SAFE_NODES = frozenset(
    {"Template", "Output", "TemplateData", "If", "Name", "Const", "Getattr", "Getitem", "Filter",
     "Test", "CondExpr", "And", "Or", "Not", "Neg", "Pos", "Compare", "Operand", "Concat", "Add",
     "Sub", "Tuple", "List", "Dict", "Pair", "Slice", "Keyword"}
)  # fmt: skip
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})  # keep GSM-7 possible


@dataclass(frozen=True)
class RenderedSms:
    """A ready-to-send text, the locale whose template produced it, and what it costs."""

    text: str
    locale_used: str
    cost: SmsCost


def requires_opt_out_notice(e164: str) -> bool:
    """True if a message to `e164` must say how to opt out (see `OPT_OUT_REGIONS`)."""
    region = region_of(e164)
    return region is None or region in OPT_OUT_REGIONS


def _canonical(locale: str | None) -> str | None:
    """The tag in canonical case ("zh_cn" -> "zh-CN"), or None if not a plausible BCP 47 tag."""
    if not isinstance(locale, str):
        return None
    parts = re.split(r"[-_]", locale.strip())
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper())
    tag = "-".join(out)
    return tag if _LOCALE.match(tag) else None


def locale_chain(locale: str | None, default_locale: str = "en") -> list[str]:
    """The locales tried in order for a customer's `locale`, ending with "en"."""
    chain: list[str] = []
    for tag in (_canonical(locale), _canonical(default_locale)):
        if tag is None:
            continue
        parts = tag.split("-")
        language, region = parts[0], [p for p in parts[1:] if len(p) != 4]
        for candidate in (tag, "-".join([language, *region]), language,
                          _LANGUAGE_DEFAULTS.get(language)):  # fmt: skip
            if candidate and candidate not in chain:
                chain.append(candidate)
    if "en" not in chain:
        chain.append("en")
    return chain


def override_key(kind: str, locale: str) -> str:
    """The key of a merchant override in `render_sms(overrides=...)`: "<locale>/<kind>"."""
    tag = _canonical(locale)
    if tag is None or kind not in KINDS:
        raise MalformedPayload(f"no template slot for kind {kind!r} and locale {locale!r}")
    return f"{tag}/{kind}"


@lru_cache(maxsize=256)
def _package_source(locale: str, name: str) -> str | None:
    from importlib import resources

    path = resources.files(__package__).joinpath("templates", locale, f"{name}.j2")
    return path.read_text(encoding="utf-8") if path.is_file() else None


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined, pass_context
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()  # no range/lipsum/namespace: nothing to call
    env.filters.update(money=pass_context(_money), date=pass_context(_date))
    return env


def _money(context: Any, value: Any, currency: str | None = None) -> str:
    """`{{ amount|money(currency) }}` or `{{ money_obj|money }}`, formatted for the locale."""
    from babel.numbers import format_currency

    if isinstance(value, Money):
        value, currency = value.amount, currency or value.currency
    if isinstance(value, (float, bool)):
        raise MalformedPayload("money amounts must be Decimal or str, never float")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedPayload(f"not an amount: {value!r}") from exc
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise MalformedPayload(f"money needs an ISO 4217 currency code, got {currency!r}")
    text = format_currency(amount, currency, locale=_babel_locale(context.get("locale")))
    return text.translate(_SPACES)


def _date(context: Any, value: Any, format: str = "medium") -> str:
    """`{{ when|date }}` for a date, datetime or ISO-8601 string, formatted for the locale."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise MalformedPayload(f"not an ISO-8601 date: {value!r}") from exc
    if isinstance(value, datetime):
        zone = context.get("zone")
        if zone and value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(zone))
        value = value.date()
    if not isinstance(value, date) or format not in ("short", "medium", "long", "full"):
        raise MalformedPayload(f"cannot format {value!r} as a {format!r} date")
    text = format_date(value, format=format, locale=_babel_locale(context.get("locale")))
    return text.translate(_SPACES)


@lru_cache(maxsize=64)
def _babel_locale(tag: str | None) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(tag or "en", sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@lru_cache(maxsize=256)
def _compile(source: str, untrusted: bool) -> Template:
    from jinja2 import TemplateSyntaxError, nodes

    env = _environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise MalformedPayload(f"template syntax error, line {exc.lineno}: {exc.message}") from exc
    if untrusted:
        if len(source) > _MAX_OVERRIDE_CHARS:
            raise MalformedPayload(f"template longer than {_MAX_OVERRIDE_CHARS} characters")
        for node in (tree, *tree.find_all(nodes.Node)):
            name = type(node).__name__
            if name not in _SAFE_NODES:
                raise MalformedPayload(f"template uses {name!r}, which is not allowed")
            if isinstance(node, nodes.Filter) and node.name not in _SAFE_FILTERS:
                raise MalformedPayload(f"template filter {node.name!r} is not allowed")
            # `x._y` / `x["_y"]`: refused now; the sandbox refuses computed names at render.
            name = getattr(node, "attr", None) or getattr(getattr(node, "arg", None), "value", "")
            if isinstance(name, str) and name.startswith("_"):
                raise MalformedPayload("template reaches a private attribute, which is not allowed")
    return env.from_string(tree)


def _render(template: Template, variables: Mapping[str, Any], what: str) -> str:
    from jinja2 import TemplateError

    try:
        return template.render(variables).strip()
    except MalformedPayload as exc:
        raise MalformedPayload(f"{what}: {exc.detail}") from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise MalformedPayload(f"{what}: {exc}") from exc


def _body(kind: str, chain: list[str], overrides: Mapping[str, str]) -> tuple[Template, str, str]:
    """The body template for `kind`: (template, locale it is for, description for errors)."""
    for locale in chain:
        override = overrides.get(f"{locale}/{kind}")
        if override is not None:
            return _compile(override, True), locale, f"override {locale}/{kind}"
        source = _package_source(locale, kind)
        if source is not None:
            return _compile(source, False), locale, f"template {locale}/{kind}"
    raise MalformedPayload(f"no template for {kind!r}")  # pragma: no cover - en has all kinds


def _compose(
    kind: str,
    chain: list[str],
    context: Mapping[str, Any],
    brand: str,
    overrides: Mapping[str, str],
    opt_out: bool,
) -> RenderedSms:
    if kind not in KINDS:
        raise MalformedPayload(f"unknown message kind {kind!r}")
    template, locale_used, what = _body(kind, chain, overrides)
    variables: dict[str, Any] = dict.fromkeys((*_COMMON_OPTIONAL, *KINDS[kind]))
    variables.update(context)
    variables.update(brand=(brand or "").strip(), locale=locale_used)
    body = _render(template, variables, what)
    if not body:
        raise MalformedPayload(f"{what} renders to an empty message")
    if len(body) > _MAX_BODY_CHARS:
        raise MalformedPayload(f"{what} renders to more than {_MAX_BODY_CHARS} characters")
    layout_locale = next(
        loc for loc in locale_chain(locale_used) if _package_source(loc, "_layout")
    )
    layout = _compile(_package_source(layout_locale, "_layout") or "", False)
    variables.update(body=body, opt_out=opt_out)
    text = _render(layout, variables, f"layout {layout_locale}")
    return RenderedSms(text=text, locale_used=locale_used, cost=sms_cost(text))


def render_sms(
    kind: str,
    locale: str | None,
    context: Mapping[str, Any],
    brand: str,
    overrides: Mapping[str, str] | None = None,
    default_locale: str = "en",
    *,
    to: str | None = None,
) -> RenderedSms:
    """Render the SMS of `kind` for a customer who reads `locale`.

    `context` holds the kind's values (see `KINDS`), plus optional `status_url`, `first_name`
    and `zone` (the recipient's IANA zone, for dates). `overrides` maps `override_key(...)`
    ("en/shipment_delivered") to a merchant's template text; a mapping of this kind's
    overrides alone may be keyed by locale ("en", "zh_CN"). `to` (E.164) decides the opt-out
    notice; without it only the kinds that always carry it (help, opt-in confirmation) do.
    Raises `MalformedPayload` for an unknown kind, a missing value, a refused or broken
    override, or an empty or oversize body.
    """
    if kind in _NOTICE_NEVER:
        opt_out = False
    else:
        opt_out = kind in _NOTICE_ALWAYS or (to is not None and requires_opt_out_notice(to))
    chain = locale_chain(locale, default_locale)
    return _compose(kind, chain, context, brand, _override_map(kind, overrides or {}), opt_out)


def _override_map(kind: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """Overrides keyed "<canonical locale>/<kind>"; bare locale keys are taken as `kind`'s."""
    out: dict[str, str] = {}
    for key, text in overrides.items():
        tag, _, of_kind = str(key).partition("/")
        canonical = _canonical(tag)
        if canonical and isinstance(text, str):
            out[f"{canonical}/{of_kind or kind}"] = text
    return out


def validate_template(text: str, kind: str | None = None, locale: str = "en") -> list[str]:
    """Warnings for a merchant's override `text` (empty list: nothing to say).

    Warns when the text forces UCS-2 and when a message would take more than 2 segments. With
    `kind`, the text is rendered with sample values inside the full wrapper (brand, link,
    opt-out notice), which also catches misspelt names; without, only its literal text is
    measured. Raises `MalformedPayload` for a template `render_sms` would refuse.
    """
    from jinja2 import nodes

    _compile(text, True)  # raises for syntax and refused constructs
    literal = "".join(n.data for n in _environment().parse(text).find_all(nodes.TemplateData))
    warnings: list[str] = []
    offending = forces_ucs2(literal)
    if offending:
        shown = " ".join(repr(char) for char in offending[:10])
        warnings.append(
            f"characters outside GSM-7 ({shown}) send every message as UCS-2: "
            "70 characters per segment instead of 160"
        )
    if kind is None:
        cost = sms_cost(literal)
        measured = "its fixed text alone"
    else:
        tag = _canonical(locale) or "en"
        overrides = {f"{tag}/{kind}": text}
        sample = _compose(kind, [tag], sample_context(kind), "Brand", overrides, True)
        cost = sample.cost
        measured = "with sample values, brand, link and opt-out notice"
    if cost.segments > 2:
        warnings.append(f"{measured} takes {cost.segments} SMS segments ({cost.encoding})")
    return warnings


def sample_context(kind: str) -> dict[str, Any]:
    """Plausible values for every name `kind` uses: for previews and template checks."""
    return {**_SAMPLE_COMMON, **_SAMPLES.get(kind, {})}


_SAMPLE_COMMON: dict[str, Any] = {
    "order_number": "#1042",
    "status_url": "https://track.example.com/s/AbC123",
}
_SAMPLES: dict[str, dict[str, Any]] = {
    "shipment_in_transit": {
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "estimated_delivery": date(2024, 5, 3),
    },
    "shipment_out_for_delivery": {"courier_phone": "+1 650-253-0000"},
    "shipment_delivery_failed": {"reason": "no one home"},
    "shipment_available_for_pickup": {"pickup_location": "UPS Access Point, 5 Main St"},
    "shipment_stale": {"days_quiet": 3},
    "return_approved": {"return_code": "R-7KQ2"},
    "return_label_ready": {
        "label_url": "https://easypost-files.s3.amazonaws.com/files/postage_label/l.png",
        "carrier": "USPS",
        "tracking_number": "9400100000000000000001",
    },
    "return_expiry_reminder": {"return_code": "R-7KQ2", "expires_at": date(2024, 5, 3)},
    "return_expired": {"return_code": "R-7KQ2"},
    "return_rejected": {"reason": "outside the return window"},
    "return_in_transit": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "refund_issued": {
        "amount": Decimal("49.90"),
        "currency": "USD",
        "refunded_at": date(2024, 5, 3),
    },
    "help": {"support_contact": "help@example.com"},
}
